#!/usr/bin/env python3
"""Self-test of the benchmark harness's parsing and bookkeeping, without
DPDK: the readers of testpmd, OVS and vswitchctl output (fed output as these
tools print it), the contention verdict on synthetic /proc snapshots, and
the medians that leave contended windows out. Registered as the meson test
bench_selftest (suite fast)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cpuwatch  # noqa: E402
import mem  # noqa: E402
import report  # noqa: E402
from procs import parse_fwd_stats, parse_port_stats  # noqa: E402
from switches import parse_ovs_pmd, parse_vswitch_lcores, parse_vswitch_ports_tx  # noqa: E402

PORT_STATS = """
  ######################## NIC statistics for port 0  ########################
  RX-packets: 11796832   RX-missed: 0          RX-bytes:  707809920
  RX-errors: 0
  RX-nombuf:  3
  TX-packets: 11796960   TX-errors: 0          TX-bytes:  707817600

  Throughput (since last show)
  Rx-pps:      2822507          Rx-bps:   1354803528
  Tx-pps:      2822539          Tx-bps:   1354818872
  ############################################################################

  ######################## NIC statistics for port 1  ########################
  RX-packets: 11796704   RX-missed: 0          RX-bytes:  707802240
  RX-errors: 0
  RX-nombuf:  0
  TX-packets: 11796672   TX-errors: 0          TX-bytes:  707800320

  Throughput (since last show)
  Rx-pps:      2822400          Rx-bps:   1354752000
  Tx-pps:      2822390          Tx-bps:   1354747200
  ############################################################################
"""

FWD_STATS_2211 = """
  ---------------------- Forward statistics for port 0  ----------------------
  RX-packets: 8479488        RX-dropped: 0             RX-total: 8479488
  TX-packets: 8479488        TX-dropped: 0             TX-total: 8479488
  ----------------------------------------------------------------------------

  +++++++++++++++ Accumulated forward statistics for all ports+++++++++++++++
  RX-packets: 16958976       RX-dropped: 0             RX-total: 16958976
  TX-packets: 16958900       TX-dropped: 76            TX-total: 16958976
  ++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++++

  CPU cycles/packet=418.17 (total cycles=7091757109 / total io packets=16958976) at 2450 MHz Clock
"""

OVS_STATS = """pmd thread numa_id 0 core_id 1:
  packets received: 16352864
  emc hits: 16352864
  idle cycles: 85198418 (1.14%)
  processing cycles: 7363678510 (98.86%)
  avg cycles per packet: 455.51 (7448876928/16352864)
  avg processing cycles per packet: 450.30 (7363678510/16352864)
main thread:
  packets received: 0
  idle cycles: 0 (0.00%)
  processing cycles: 99 (100.00%)
"""

OVS_PERF = """
Time: 20:33:04.222
Measurement duration: 3.032 s

pmd thread numa_id 0 core_id 1:

  Iterations:               504328  (6.00 us/it)
  - Used TSC cycles:    7412547103  ( 99.8 % of total cycles)
  - idle iterations:        248881  (  1.1 % of used cycles)
  - busy iterations:        255447  ( 98.9 % of used cycles)
  Rx packets:             16335808  (5388 Kpps, 449 cycles/pkt)
  Datapath passes:        16335808  (1.00 passes/pkt)
  Tx packets:             16335800  (5388 Kpps)
  Tx batches:               510494  (32.00 pkts/batch)
"""


class Parsers(unittest.TestCase):
    def test_port_stats_reads_both_ports_rates(self):
        p = parse_port_stats(PORT_STATS)
        self.assertEqual(sorted(p), [0, 1])
        self.assertEqual(p[0]["rx_pps"], 2822507)
        self.assertEqual(p[1]["rx_pps"], 2822400)
        self.assertEqual(p[0]["rx_nombuf"], 3)
        self.assertEqual(p[1]["tx_packets"], 11796672)

    def test_fwd_stats_reads_accumulated_block_and_cycles(self):
        d = parse_fwd_stats(FWD_STATS_2211)
        self.assertEqual(d["rx_packets"], 16958976)
        self.assertEqual(d["tx_packets"], 16958900)
        self.assertEqual(d["tx_dropped"], 76)
        self.assertEqual(d["cycles"], 7091757109)
        self.assertEqual(d["mhz"], 2450)

    def test_fwd_stats_reads_newer_busy_cycles_wording(self):
        text = FWD_STATS_2211.replace("total cycles=", "busy cycles=")
        self.assertEqual(parse_fwd_stats(text)["cycles"], 7091757109)

    def test_fwd_stats_without_cycles_line_gives_zero(self):
        text = FWD_STATS_2211.split("  CPU cycles")[0]
        self.assertEqual(parse_fwd_stats(text)["cycles"], 0)

    def test_ovs_counters_skip_main_thread(self):
        d = parse_ovs_pmd(OVS_STATS, OVS_PERF)
        self.assertEqual(d["busy_cycles"], 7363678510)
        self.assertEqual(d["rx"], 16335808)
        self.assertEqual(d["tx"], 16335800)

    def test_ovs_counters_sum_pmd_threads(self):
        two = OVS_STATS.split("main thread")[0] * 2
        self.assertEqual(parse_ovs_pmd(two, OVS_PERF * 2)["busy_cycles"], 2 * 7363678510)

    def test_vswitch_lcores_object_and_list(self):
        doc = ('{"lcores": [{"lcore": 1, "cpu": 1, "busy_cycles": 1000, "idle_cycles": 5,'
               ' "rx_packets": 10, "tx_packets": 9}, {"lcore": 0, "role": "control"}]}')
        self.assertEqual(parse_vswitch_lcores(doc), {"busy_cycles": 1000, "rx": 10, "tx": 9})
        lst = '[{"lcore": 1, "busy_cycles": 7, "packets": 3}, {"lcore": 2, "busy_cycles": 3, "packets": 2}]'
        self.assertEqual(parse_vswitch_lcores(lst), {"busy_cycles": 10, "rx": 5, "tx": 5})

    def test_vswitch_lcores_without_tx_count_leave_tx_open(self):
        # the shape vswitchctl prints today: per-worker rx only
        doc = ('{"lcores": [{"worker": 0, "lcore": 1, "busy_cycles": 4900, "idle_cycles": 100,'
               ' "busy_pct": 98.0, "rx_packets": 10, "tsc_hz": 2450000000, "queues": []}]}')
        self.assertEqual(parse_vswitch_lcores(doc), {"busy_cycles": 4900, "rx": 10, "tx": None})

    def test_vswitch_ports_tx_sums_ports(self):
        doc = ('{"ports": [{"name": "vm0", "rx_packets": 5, "tx_packets": 7},'
               ' {"name": "vm1", "rx_packets": 7, "tx_packets": 5}]}')
        self.assertEqual(parse_vswitch_ports_tx(doc), 12)
        with self.assertRaises(ValueError):
            parse_vswitch_ports_tx('{"ports": [{"name": "vm0"}]}')

    def test_vswitch_lcores_without_busy_cycles_is_rejected(self):
        with self.assertRaises(ValueError):
            parse_vswitch_lcores('{"lcores": [{"lcore": 1, "idle_cycles": 5}]}')
        with self.assertRaises(ValueError):
            parse_vswitch_lcores('{"ports": []}')
        with self.assertRaises(ValueError):
            parse_vswitch_lcores("not json")


def snap(t, cpus, ours, others):
    return {"time": t, "cpus": cpus, "ours": ours, "others": others}


def cpu(busy, steal, total):
    return {"busy": busy, "steal": steal, "total": total}


class Contention(unittest.TestCase):
    # 2 s windows at 100 ticks/s: 200 ticks per CPU
    def test_window_used_only_by_our_threads_is_clean(self):
        a = snap(0, {0: cpu(0, 0, 0), 1: cpu(0, 0, 0)}, {10: (0, 0), 11: (1, 0)}, {})
        b = snap(2, {0: cpu(198, 0, 200), 1: cpu(200, 0, 200)}, {10: (0, 196), 11: (1, 200)}, {})
        r = cpuwatch.assess(a, b, [0, 1], 0.05, 0.02)
        self.assertFalse(r["contended"], r["reason"])

    def test_other_process_on_switch_cpu_is_flagged_and_named(self):
        a = snap(0, {0: cpu(0, 0, 0), 1: cpu(0, 0, 0)}, {10: (0, 0), 11: (1, 0)}, {99: ("cc1", 0)})
        b = snap(2, {0: cpu(200, 0, 200), 1: cpu(200, 0, 200)}, {10: (0, 200), 11: (1, 150)},
                 {99: ("cc1", 50)})
        r = cpuwatch.assess(a, b, [0, 1], 0.05, 0.02)
        self.assertTrue(r["contended"])
        self.assertAlmostEqual(r["foreign"][1], 0.25)
        self.assertIn("CPU 1", r["reason"])
        self.assertIn("cc1", r["reason"])

    def test_process_started_during_window_counts_fully(self):
        a = snap(0, {0: cpu(0, 0, 0)}, {}, {})
        b = snap(2, {0: cpu(200, 0, 200)}, {}, {77: ("make", 120)})
        r = cpuwatch.assess(a, b, [0], 0.05, 0.02)
        self.assertEqual(r["top"][0][0], "make")
        self.assertAlmostEqual(r["top"][0][1], 0.6)

    def test_steal_is_flagged(self):
        a = snap(0, {0: cpu(0, 0, 0)}, {10: (0, 0)}, {})
        b = snap(2, {0: cpu(190, 10, 200)}, {10: (0, 190)}, {})
        r = cpuwatch.assess(a, b, [0], 0.05, 0.02)
        self.assertTrue(r["contended"])
        self.assertIn("stolen", r["reason"])

    def test_live_snapshot_counts_own_threads(self):
        s = cpuwatch.snapshot([os.getpid()])
        self.assertIn(0, s["cpus"])
        self.assertTrue(any(tid == os.getpid() for tid in s["ours"]))
        self.assertNotIn(os.getpid(), s["others"])


def window(mpps, contended, cpp=400.0):
    return {"mpps": mpps, "cpp": cpp, "gen_busy": 0.8, "sw_busy": 0.9, "contended": contended}


def case(windows, status="ok"):
    return {"kind": "throughput", "switch": "testpmd", "frame": 64, "ring": "split", "queues": 1,
            "ports": 2, "active": 2, "status": status, "error": "", "windows": windows}


class Summary(unittest.TestCase):
    def test_contended_windows_are_left_out_of_the_median(self):
        s = report.summarize([case([window(5.0, False), window(1.0, True), window(6.0, False),
                                    window(5.5, False)])])[0]
        self.assertEqual(s["windows_kept"], 3)
        self.assertEqual(s["mpps_median"], 5.5)
        self.assertEqual(s["mpps_min"], 5.0)
        self.assertEqual(s["flag"], "")

    def test_all_windows_contended_uses_them_and_flags(self):
        s = report.summarize([case([window(2.0, True), window(3.0, True)])])[0]
        self.assertEqual(s["windows_kept"], 0)
        self.assertEqual(s["mpps_median"], 2.5)
        self.assertEqual(s["flag"], "contended")

    def test_spread_over_a_fifth_is_unstable(self):
        s = report.summarize([case([window(4.0, False), window(5.0, False), window(6.0, False)])])[0]
        self.assertEqual(s["flag"], "unstable")

    def test_rounds_of_one_case_are_pooled(self):
        s = report.summarize([case([window(4.0, False)]), case([window(6.0, False)])])
        self.assertEqual(len(s), 1)
        self.assertEqual(s[0]["mpps_median"], 5.0)

    def test_bar_is_the_median_of_per_round_ratios(self):
        cases = []
        for rnd, (t, v) in enumerate([(400.0, 300.0), (380.0, 290.0), (420.0, 310.0)]):
            cases.append(dict(case([window(8.0, False, t)]), round=rnd))
            cases.append(dict(case([window(8.8, False, v)]), switch="vswitch", round=rnd))
        summary = report.summarize(cases)
        lines = report._bar(summary, report.round_medians(cases))
        self.assertIn("1.10 (1.10-1.10, 3 rounds): **met**", lines[0])
        self.assertIn("0.75 (0.74-0.76, 3 rounds): **met**", lines[1])
        self.assertIn("not measured", lines[2])


class Verdict(unittest.TestCase):
    def test_fewer_than_three_rounds_is_not_settled(self):
        txt, met = report.verdict([0.5, 0.5], "<=", 0.8)
        self.assertFalse(met)
        self.assertIn("not settled (2 of 3 rounds)", txt)

    def test_rounds_that_disagree_are_flagged_not_met(self):
        txt, met = report.verdict([0.50, 0.60, 0.70], "<=", 0.8)
        self.assertFalse(met)
        self.assertIn("**flagged** (rounds disagree by 33 %; would be met)", txt)

    def test_agreeing_rounds_give_a_verdict_either_way(self):
        self.assertTrue(report.verdict([0.70, 0.72, 0.74], "<=", 0.8)[1])
        txt, met = report.verdict([0.90, 0.92, 0.94], "<=", 0.8)
        self.assertFalse(met)
        self.assertIn("**NOT met**", txt)

    def test_round_ratios_pair_rounds(self):
        cases = [dict(case([window(8.0, False, 400.0)]), round=0),
                 dict(case([window(8.0, False, 100.0)]), switch="vswitch", round=0),
                 dict(case([window(8.0, False, 200.0)]), switch="vswitch", round=1)]
        rm = report.round_medians(cases)
        r = report.round_ratios(rm, report._key("throughput", "vswitch"),
                                report._key("throughput", "testpmd"), "cpp")
        self.assertEqual(r, [0.25])

    def test_regions_lines_are_parsed(self):
        line = ("virtq perf regions split dequeue    64 B with copy : 1 region   26.3 cycles/pkt, "
                "2 regions   27.0 (1.03x; runs 1.01, 1.03, 1.05), 4 regions   28.1 (1.07x; runs "
                "1.06, 1.07, 1.08)\n")
        r = report.parse_regions(line)
        self.assertEqual(len(r), 1)
        self.assertEqual(r[0]["what"], "split dequeue")
        self.assertEqual(r[0]["mode"], "with copy")
        self.assertEqual(r[0]["runs2"], [1.01, 1.03, 1.05])
        self.assertEqual(r[0]["r4"], 1.07)


class Memory(unittest.TestCase):
    def test_own_process_has_resident_memory(self):
        u = mem.usage(os.getpid(), ["nothing"])
        self.assertGreater(u["rss_kb"], 0)
        self.assertEqual(u["huge_guest_kb"], 0)

    def test_gone_process_gives_none(self):
        self.assertIsNone(mem.usage(2 ** 22 + 1, []))


if __name__ == "__main__":
    unittest.main(verbosity=2)
