/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The hand-over's transport: records on a Unix stream socket, every wait
 * bounded by a deadline. Fds travel in groups on one byte each, read one
 * byte at a time, so that no read can take the fds of another group or
 * drop them (a read that does not ask for them would).
 */
#include <errno.h>
#include <stdbool.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vs_handover_priv.h"

RTE_LOG_REGISTER(vs_handover_logtype, vswitch.takeover, INFO);

/* Fds per SCM_RIGHTS message (the kernel takes at most 253). */
#define FDS_PER_MSG 250
#define FD_BYTE	    'F'

uint64_t
ho_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t
ho_now_ms(void)
{
	return ho_now_ns() / 1000000ull;
}

static int
wait_fd(int fd, short ev, uint64_t deadline)
{
	for (;;) {
		uint64_t now = ho_now_ms();
		struct pollfd p = {fd, ev, 0};
		int rc;

		if (now >= deadline)
			return -ETIMEDOUT;
		rc = poll(&p, 1, (int)(deadline - now));
		if (rc < 0 && errno == EINTR)
			continue;
		if (rc < 0)
			return -errno;
		if (rc > 0)
			return 0; /* ready, or hung up: the next call says which */
	}
}

int
ho_send_raw(int fd, const void *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n =
			send(fd, (const char *)buf + off, len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = wait_fd(fd, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		return n < 0 ? -errno : -EPIPE;
	}
	return 0;
}

/*
 * Reads exactly @p len bytes. Whatever arrived before @p deadline is read,
 * however late this thread runs: the socket is always tried once more
 * before a timeout is reported (the new side relies on it for a COMMIT).
 */
static int
recv_exact(int fd, void *buf, size_t len, uint64_t deadline)
{
	size_t off = 0;
	bool last = false;

	while (off < len) {
		ssize_t n = recv(fd, (char *)buf + off, len - off, MSG_DONTWAIT);
		int rc;

		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (last)
			return -ETIMEDOUT;
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc == -ETIMEDOUT)
			last = true;
		else if (rc < 0)
			return rc;
	}
	return 0;
}

static int
send_fd_group(int fd, const int *fds, unsigned int n, uint64_t deadline)
{
	char byte = FD_BYTE;
	struct iovec iov = {&byte, 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(FDS_PER_MSG * sizeof(int))];
	} u;
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	memset(&u, 0, sizeof(u));
	m.msg_control = u.buf;
	m.msg_controllen = CMSG_SPACE(n * sizeof(int));
	c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(n * sizeof(int));
	memcpy(CMSG_DATA(c), fds, n * sizeof(int));
	for (;;) {
		ssize_t k = sendmsg(fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
		int rc;

		if (k == 1)
			return 0;
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			rc = wait_fd(fd, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		return k < 0 ? -errno : -EPIPE;
	}
}

/* Collects the fds of one control message; -EBADMSG when it is not ours. */
static int
take_fds(struct msghdr *m, int *fds, unsigned int want)
{
	unsigned int got = 0;
	int rc = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		unsigned int n;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (unsigned int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (unsigned int i = 0; i < n; i++) {
			int f;

			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(f));
			if (got < want)
				fds[got++] = f;
			else {
				close(f);
				rc = -EBADMSG;
			}
		}
	}
	if (rc == 0 && got != want)
		rc = -EBADMSG;
	if (rc < 0)
		for (unsigned int i = 0; i < got; i++)
			close(fds[i]);
	return rc;
}

static int
recv_fd_group(int fd, int *fds, unsigned int n, uint64_t deadline)
{
	char byte = 0;
	struct iovec iov = {&byte, 1};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(FDS_PER_MSG * sizeof(int))];
	} u;
	struct msghdr m;

	for (;;) {
		ssize_t k;
		int rc;

		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = u.buf;
		m.msg_controllen = sizeof(u.buf);
		k = recvmsg(fd, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (k == 1)
			break;
		if (k == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
	if (m.msg_flags & MSG_CTRUNC) {
		take_fds(&m, fds, 0);
		return -EBADMSG;
	}
	if (byte != FD_BYTE) {
		take_fds(&m, fds, 0);
		return -EBADMSG;
	}
	return take_fds(&m, fds, n);
}

int
ho_send(int fd, uint16_t type, const void *payload, uint32_t len, const int *fds, unsigned int nfds,
	uint64_t deadline)
{
	struct ho_hdr h = {HO_MAGIC, VS_HANDOVER_VERSION, type, len, nfds};
	int rc = ho_send_raw(fd, &h, sizeof(h), deadline);

	if (rc == 0 && len > 0)
		rc = ho_send_raw(fd, payload, len, deadline);
	for (unsigned int i = 0; rc == 0 && i < nfds; i += FDS_PER_MSG)
		rc = send_fd_group(fd, fds + i, nfds - i < FDS_PER_MSG ? nfds - i : FDS_PER_MSG,
				   deadline);
	return rc;
}

static void
close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

int
ho_recv(int fd, struct ho_hdr *h, void **payload, uint32_t max_len, int *fds, unsigned int max_fds,
	uint64_t deadline)
{
	unsigned int got = 0;
	void *p = NULL;
	int rc;

	*payload = NULL;
	rc = recv_exact(fd, h, sizeof(*h), deadline);
	if (rc < 0)
		return rc;
	if (h->magic != HO_MAGIC || h->version != VS_HANDOVER_VERSION || h->type < HO_PORT ||
	    h->type > HO_CLOSED || h->len > max_len || h->nfds > max_fds) {
		HO_LOG(ERR, "malformed record (type %u, %u bytes, %u fds)", h->type, h->len,
		       h->nfds);
		return -EBADMSG;
	}
	if (h->len > 0) {
		/* One more byte, so that text payloads can be terminated. */
		p = calloc(1, (size_t)h->len + 1);
		if (p == NULL)
			return -ENOMEM;
		rc = recv_exact(fd, p, h->len, deadline);
	}
	while (rc == 0 && got < h->nfds) {
		unsigned int n = h->nfds - got < FDS_PER_MSG ? h->nfds - got : FDS_PER_MSG;

		rc = recv_fd_group(fd, fds + got, n, deadline);
		if (rc == 0)
			got += n;
	}
	if (rc < 0) {
		close_fds(fds, got);
		free(p);
		return rc;
	}
	*payload = p;
	return 0;
}

int
ho_recv_line(int fd, char *buf, size_t cap, uint64_t deadline)
{
	size_t n = 0;

	/* A byte at a time: the records that follow must stay in the socket. */
	while (n + 1 < cap) {
		int rc = recv_exact(fd, buf + n, 1, deadline);

		if (rc < 0)
			return rc;
		if (buf[n] == '\n') {
			buf[n] = '\0';
			return 0;
		}
		n++;
	}
	return -EMSGSIZE;
}
