/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vs-latprobe: round-trip latency through a switch, measured by one DPDK
 * process with two ports (the benchmark's two "VMs", net_virtio_user).
 *
 * Port 0 sends a probe to port 1's MAC at a fixed low rate, stamped with
 * the TSC; port 1 returns every probe it receives to port 0's MAC; port 0
 * computes the round trip (two passes through the switch) against the same
 * TSC, so no clock synchronisation is needed. One probe is in flight at a
 * time at the default rate, so the figure is the switch's path latency, not
 * queueing behind other traffic.
 *
 * Usage: vs-latprobe [EAL args] -- [--rate PPS] [--duration SEC]
 *        [--warmup SEC] [--size BYTES] [--drain-ms MS]
 * Prints one line "latprobe: key=value ..." (times in ns) and exits 0 when
 * at least one probe came back, 1 when none did, 2 on bad arguments.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

/* IEEE 802 local experimental ethertype: never confused with real traffic. */
#define PROBE_ETHERTYPE 0x88b5
#define PROBE_MAGIC	0x76736c70u /* "vslp" */
#define PROBE_MIN_SIZE	60	    /* shortest Ethernet frame without FCS */
#define PROBE_MAX_SIZE	1514
#define RING_SIZE	512
#define NB_MBUF		4095
#define BURST		32
#define MAX_SAMPLES	(16u << 20)

struct probe_hdr {
	uint32_t magic;
	uint32_t measured; /* 0 during warm-up: returned but not recorded */
	uint64_t seq;
	uint64_t tsc;
} __rte_packed;

struct probe_opts {
	double rate;	 /* probes per second */
	double duration; /* measured seconds, after the warm-up */
	double warmup;
	unsigned size;	   /* frame bytes without FCS */
	unsigned drain_ms; /* wait for late probes after the last send */
};

struct probe_state {
	struct rte_mempool *pool;
	struct rte_ether_addr mac[2];
	uint64_t *samples; /* round trips in TSC cycles, measured probes only */
	uint8_t *seen;	   /* per measured seq: returned already (duplicates) */
	uint64_t nb_slots;
	uint64_t sent, sent_measured, received, duplicates, stray, tx_fail;
	uint64_t nb_samples;
};

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL args] -- [--rate PPS] [--duration SEC] [--warmup SEC]\n"
		"       [--size BYTES] [--drain-ms MS]\n"
		"Needs exactly two ethdev ports (e.g. two net_virtio_user vdevs).\n",
		prog);
}

static int
parse_double(const char *name, const char *s, double min, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		fprintf(stderr, "latprobe: %s: '%s' is not a number in [%g, %g]\n", name, s, min,
			max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct probe_opts *o)
{
	static const struct option longopts[] = {
		{"rate", required_argument, NULL, 'r'},
		{"duration", required_argument, NULL, 'd'},
		{"warmup", required_argument, NULL, 'w'},
		{"size", required_argument, NULL, 's'},
		{"drain-ms", required_argument, NULL, 'D'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	double v;
	int c;

	*o = (struct probe_opts){
		.rate = 10000, .duration = 5, .warmup = 1, .size = PROBE_MIN_SIZE, .drain_ms = 100};
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (parse_double("--rate", optarg, 1, 1e6, &o->rate) < 0)
				return -EINVAL;
			break;
		case 'd':
			if (parse_double("--duration", optarg, 0.01, 3600, &o->duration) < 0)
				return -EINVAL;
			break;
		case 'w':
			if (parse_double("--warmup", optarg, 0, 3600, &o->warmup) < 0)
				return -EINVAL;
			break;
		case 's':
			if (parse_double("--size", optarg, PROBE_MIN_SIZE, PROBE_MAX_SIZE, &v) < 0)
				return -EINVAL;
			o->size = (unsigned)v;
			break;
		case 'D':
			if (parse_double("--drain-ms", optarg, 0, 10000, &v) < 0)
				return -EINVAL;
			o->drain_ms = (unsigned)v;
			break;
		default:
			return -EINVAL;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "latprobe: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->rate * o->duration > MAX_SAMPLES) {
		fprintf(stderr, "latprobe: rate x duration exceeds %u probes\n", MAX_SAMPLES);
		return -EINVAL;
	}
	return 0;
}

static int
port_setup(uint16_t port, struct rte_mempool *pool)
{
	struct rte_eth_conf conf = {0};
	uint16_t nb_rxd = RING_SIZE, nb_txd = RING_SIZE;
	int ret;

	ret = rte_eth_dev_configure(port, 1, 1, &conf);
	if (ret == 0)
		ret = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nb_rxd, &nb_txd);
	if (ret == 0)
		ret = rte_eth_rx_queue_setup(port, 0, nb_rxd, rte_eth_dev_socket_id(port), NULL,
					     pool);
	if (ret == 0)
		ret = rte_eth_tx_queue_setup(port, 0, nb_txd, rte_eth_dev_socket_id(port), NULL);
	if (ret == 0)
		ret = rte_eth_dev_start(port);
	if (ret < 0)
		fprintf(stderr, "latprobe: port %u set-up failed: %s\n", port, rte_strerror(-ret));
	return ret;
}

static bool
links_up(unsigned timeout_ms)
{
	uint64_t deadline = rte_get_tsc_cycles() + rte_get_tsc_hz() / 1000 * timeout_ms;

	while (!stop_requested && rte_get_tsc_cycles() < deadline) {
		struct rte_eth_link l0, l1;

		if (rte_eth_link_get_nowait(0, &l0) == 0 && rte_eth_link_get_nowait(1, &l1) == 0 &&
		    l0.link_status == RTE_ETH_LINK_UP && l1.link_status == RTE_ETH_LINK_UP)
			return true;
		rte_delay_ms(10);
	}
	return false;
}

static struct probe_hdr *
probe_of(struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct probe_hdr *ph;

	if (rte_pktmbuf_data_len(m) < sizeof(*eh) + sizeof(*ph) ||
	    eh->ether_type != rte_cpu_to_be_16(PROBE_ETHERTYPE))
		return NULL;
	ph = (struct probe_hdr *)(eh + 1);
	return ph->magic == PROBE_MAGIC ? ph : NULL;
}

static void
send_probe(struct probe_state *st, const struct probe_opts *o, bool measured)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->pool);
	struct rte_ether_hdr *eh;
	struct probe_hdr *ph;

	if (m == NULL) {
		st->tx_fail++;
		return;
	}
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, o->size);
	if (eh == NULL) {
		rte_pktmbuf_free(m);
		st->tx_fail++;
		return;
	}
	memset(eh, 0, o->size);
	rte_ether_addr_copy(&st->mac[1], &eh->dst_addr);
	rte_ether_addr_copy(&st->mac[0], &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(PROBE_ETHERTYPE);
	ph = (struct probe_hdr *)(eh + 1);
	ph->magic = PROBE_MAGIC;
	ph->measured = measured;
	ph->seq = measured ? st->sent_measured : UINT64_MAX;
	ph->tsc = rte_get_tsc_cycles();
	if (rte_eth_tx_burst(0, 0, &m, 1) != 1) {
		rte_pktmbuf_free(m);
		st->tx_fail++;
		return;
	}
	st->sent++;
	if (measured)
		st->sent_measured++;
}

/* Port 1: return probes to port 0; drop anything else. */
static void
reflect(struct probe_state *st)
{
	struct rte_mbuf *pkts[BURST], *out[BURST];
	uint16_t n, i, nb_out = 0, sent;

	n = rte_eth_rx_burst(1, 0, pkts, BURST);
	for (i = 0; i < n; i++) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);

		if (probe_of(pkts[i]) == NULL) {
			st->stray++;
			rte_pktmbuf_free(pkts[i]);
			continue;
		}
		rte_ether_addr_copy(&st->mac[0], &eh->dst_addr);
		rte_ether_addr_copy(&st->mac[1], &eh->src_addr);
		out[nb_out++] = pkts[i];
	}
	sent = rte_eth_tx_burst(1, 0, out, nb_out);
	if (sent < nb_out) {
		st->tx_fail += nb_out - sent;
		rte_pktmbuf_free_bulk(&out[sent], nb_out - sent);
	}
}

/* Port 0: take returned probes and record their round trip. */
static void
collect(struct probe_state *st)
{
	struct rte_mbuf *pkts[BURST];
	uint64_t now = rte_get_tsc_cycles();
	uint16_t n, i;

	n = rte_eth_rx_burst(0, 0, pkts, BURST);
	for (i = 0; i < n; i++) {
		struct probe_hdr *ph = probe_of(pkts[i]);

		if (ph == NULL) {
			st->stray++;
		} else if (ph->measured && ph->seq < st->sent_measured && ph->tsc <= now) {
			if (st->seen[ph->seq]) {
				st->duplicates++;
			} else {
				st->seen[ph->seq] = 1;
				st->received++;
				st->samples[st->nb_samples++] = now - ph->tsc;
			}
		} else if (!ph->measured) {
			/* a warm-up probe: proves the path, not timed */
		} else {
			st->stray++;
		}
		rte_pktmbuf_free(pkts[i]);
	}
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct_ns(const uint64_t *sorted, uint64_t n, double pct, double ns_per_cycle)
{
	/* nearest-rank percentile */
	uint64_t rank = (uint64_t)(pct / 100.0 * (double)n + 0.999999);

	if (rank == 0)
		rank = 1;
	if (rank > n)
		rank = n;
	return (double)sorted[rank - 1] * ns_per_cycle;
}

static void
report(struct probe_state *st)
{
	double ns = 1e9 / (double)rte_get_tsc_hz(), sum = 0;
	uint64_t i, n = st->nb_samples;

	printf("latprobe: sent=%" PRIu64 " measured=%" PRIu64 " received=%" PRIu64 " lost=%" PRIu64
	       " duplicates=%" PRIu64 " stray=%" PRIu64 " tx_fail=%" PRIu64,
	       st->sent, st->sent_measured, st->received, st->sent_measured - st->received,
	       st->duplicates, st->stray, st->tx_fail);
	if (n > 0) {
		qsort(st->samples, n, sizeof(st->samples[0]), cmp_u64);
		for (i = 0; i < n; i++)
			sum += (double)st->samples[i];
		printf(" min_ns=%.0f p50_ns=%.0f p90_ns=%.0f p99_ns=%.0f p999_ns=%.0f max_ns=%.0f"
		       " mean_ns=%.0f",
		       (double)st->samples[0] * ns, pct_ns(st->samples, n, 50, ns),
		       pct_ns(st->samples, n, 90, ns), pct_ns(st->samples, n, 99, ns),
		       pct_ns(st->samples, n, 99.9, ns), (double)st->samples[n - 1] * ns,
		       sum / (double)n * ns);
	}
	printf("\n");
	fflush(stdout);
}

static void
run(struct probe_state *st, const struct probe_opts *o)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t period = (uint64_t)((double)hz / o->rate);
	uint64_t start = rte_get_tsc_cycles();
	uint64_t measure_at = start + (uint64_t)(o->warmup * (double)hz);
	uint64_t end = measure_at + (uint64_t)(o->duration * (double)hz);
	uint64_t drain_end = end + hz / 1000 * o->drain_ms;
	uint64_t next = start, now;

	if (period == 0)
		period = 1;
	while (!stop_requested && (now = rte_get_tsc_cycles()) < drain_end) {
		if (now < end && now >= next) {
			bool measured = now >= measure_at;

			if (!measured || st->sent_measured < st->nb_slots)
				send_probe(st, o, measured);
			next += period;
			if (next < now) /* descheduled: do not send a catch-up burst */
				next = now + period;
		}
		reflect(st);
		collect(st);
	}
}

int
main(int argc, char **argv)
{
	struct probe_state st = {0};
	struct probe_opts o;
	uint16_t nb_ports = 0;
	int n, ret = 1;

	n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "latprobe: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 2;
	}
	argv[n] = argv[0];
	if (parse_opts(argc - n, argv + n, &o) < 0) {
		usage(argv[0]);
		rte_eal_cleanup();
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (rte_eth_dev_count_avail() != 2) {
		fprintf(stderr, "latprobe: need exactly 2 ports, have %u\n",
			rte_eth_dev_count_avail());
		rte_eal_cleanup();
		return 2;
	}
	nb_ports = 2;
	st.nb_slots = (uint64_t)(o.rate * o.duration) + 1;
	st.samples = calloc(st.nb_slots, sizeof(*st.samples));
	st.seen = calloc(st.nb_slots, 1);
	st.pool = rte_pktmbuf_pool_create("latprobe", NB_MBUF, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  rte_socket_id());
	if (st.samples == NULL || st.seen == NULL || st.pool == NULL) {
		fprintf(stderr, "latprobe: out of memory\n");
		goto out;
	}
	if (port_setup(0, st.pool) < 0 || port_setup(1, st.pool) < 0)
		goto out;
	rte_eth_macaddr_get(0, &st.mac[0]);
	rte_eth_macaddr_get(1, &st.mac[1]);
	if (!links_up(10000)) {
		fprintf(stderr, "latprobe: links not up after 10 s\n");
		goto out;
	}
	printf("latprobe: rate=%.0f duration=%.2f warmup=%.2f size=%u tsc_hz=%" PRIu64 "\n", o.rate,
	       o.duration, o.warmup, o.size, rte_get_tsc_hz());
	fflush(stdout);
	run(&st, &o);
	report(&st);
	ret = st.received > 0 ? 0 : 1;
out:
	for (uint16_t p = 0; p < nb_ports; p++) {
		rte_eth_dev_stop(p);
		rte_eth_dev_close(p);
	}
	if (st.pool != NULL)
		rte_mempool_free(st.pool);
	free(st.samples);
	free(st.seen);
	rte_eal_cleanup();
	return ret;
}
