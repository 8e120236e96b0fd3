/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vhost-user socket: listener, connector with back-off, and the strict,
 * non-blocking framing of messages with their SCM_RIGHTS fds.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "private.h"
#include "vhost_user_conn.h"

/* Room for more fds than any message may carry, to detect and close extras. */
#define RX_CMSG_FDS (2 * VH_USER_MAX_FDS)

static int
fill_addr(struct sockaddr_un *un, const char *path)
{
	if (path == NULL || path[0] == '\0')
		return -EINVAL;
	if (strlen(path) >= sizeof(un->sun_path))
		return -ENAMETOOLONG;
	memset(un, 0, sizeof(*un));
	un->sun_family = AF_UNIX;
	strcpy(un->sun_path, path);
	return 0;
}

static int
unix_socket(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

/*
 * A socket file is stale when no socket listens on its path. /proc/net/unix
 * answers without side effects (flag 0x10000 is __SO_ACCEPTCON: listening);
 * without it, a connection attempt that is refused tells the same.
 */
static bool
socket_is_stale(const struct sockaddr_un *un)
{
	char line[512 + sizeof(un->sun_path)];
	bool listening = false;
	struct stat st;
	FILE *f;
	int fd, rc;

	if (stat(un->sun_path, &st) != 0 || !S_ISSOCK(st.st_mode))
		return false;
	f = fopen("/proc/net/unix", "re");
	if (f != NULL) {
		while (!listening && fgets(line, sizeof(line), f) != NULL) {
			unsigned long flags;
			char path[sizeof(un->sun_path) + 1];

			if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %108s", &flags, path) == 2 &&
			    strcmp(path, un->sun_path) == 0 && (flags & 0x10000))
				listening = true;
		}
		fclose(f);
		return !listening;
	}
	fd = unix_socket();
	if (fd < 0)
		return false;
	rc = connect(fd, (const struct sockaddr *)un, sizeof(*un));
	rc = rc != 0 && errno == ECONNREFUSED;
	close(fd);
	return rc;
}

int
vh_user_listen(const char *path)
{
	struct sockaddr_un un;
	int fd, rc;

	rc = fill_addr(&un, path);
	if (rc < 0)
		return rc;
	fd = unix_socket();
	if (fd < 0)
		return fd;
	if (bind(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
		rc = -errno;
		if (rc == -EADDRINUSE && socket_is_stale(&un) && unlink(path) == 0 &&
		    bind(fd, (struct sockaddr *)&un, sizeof(un)) == 0)
			rc = 0;
		if (rc < 0) {
			VH_ERR("cannot bind %s: %s", path, strerror(-rc));
			close(fd);
			return rc;
		}
	}
	if (listen(fd, 16) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

int
vh_user_accept(int listen_fd)
{
	for (;;) {
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
			return -EAGAIN;
		return -errno;
	}
}

int
vh_user_connect(const char *path)
{
	struct sockaddr_un un;
	int fd, rc;

	rc = fill_addr(&un, path);
	if (rc < 0)
		return rc;
	fd = unix_socket();
	if (fd < 0)
		return fd;
	/* AF_UNIX connects at once or fails at once (EAGAIN: backlog full). */
	while (connect(fd, (struct sockaddr *)&un, sizeof(un)) != 0) {
		if (errno == EINTR)
			continue;
		rc = errno == EWOULDBLOCK ? -EAGAIN : -errno;
		close(fd);
		return rc;
	}
	return fd;
}

void
vh_user_backoff_init(struct vh_user_backoff *b, uint32_t min_ms, uint32_t max_ms)
{
	b->min_ms = min_ms != 0 ? min_ms : 100;
	b->max_ms = max_ms != 0 ? max_ms : 5000;
	if (b->max_ms < b->min_ms)
		b->max_ms = b->min_ms;
	b->next_ms = b->min_ms;
}

int
vh_user_try_connect(const char *path, struct vh_user_backoff *b, uint32_t *retry_ms)
{
	int fd = vh_user_connect(path);

	if (fd >= 0) {
		b->next_ms = b->min_ms;
		return fd;
	}
	if (retry_ms != NULL)
		*retry_ms = b->next_ms;
	b->next_ms = b->next_ms >= b->max_ms / 2 ? b->max_ms : b->next_ms * 2;
	return fd;
}

static void
sleep_ms(uint64_t ms)
{
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
vh_user_connect_wait(const char *path, uint32_t timeout_ms)
{
	uint64_t deadline = vh_now_ms() + timeout_ms;
	struct vh_user_backoff b;

	vh_user_backoff_init(&b, 20, 500);
	for (;;) {
		uint32_t retry = 0;
		uint64_t now;
		int fd = vh_user_try_connect(path, &b, &retry);

		if (fd >= 0 || fd == -ENAMETOOLONG || fd == -EINVAL)
			return fd;
		now = vh_now_ms();
		if (now >= deadline)
			return -ETIMEDOUT;
		sleep_ms(retry < deadline - now ? retry : deadline - now);
	}
}

void
vh_user_rx_init(struct vh_user_rx *rx, uint32_t kind)
{
	memset(&rx->msg.hdr, 0, sizeof(rx->msg.hdr));
	rx->msg.nfds = 0;
	for (unsigned int i = 0; i < VH_USER_MAX_FDS; i++)
		rx->msg.fds[i] = -1;
	rx->got = 0;
	rx->kind = kind;
}

void
vh_user_rx_reset(struct vh_user_rx *rx)
{
	vh_user_msg_close_fds(&rx->msg);
	vh_user_rx_init(rx, rx->kind);
}

static uint32_t
max_payload(const struct vh_user_rx *rx)
{
	const struct vh_user_req_rule *r = NULL;

	if (rx->kind == VH_USER_RX_FRONTEND_REQ)
		r = vh_user_request_rule(rx->msg.hdr.request);
	else if (rx->kind == VH_USER_RX_BACKEND_REQ)
		r = vh_user_backend_request_rule(rx->msg.hdr.request);
	return r != NULL ? r->max_size : VH_USER_MAX_PAYLOAD;
}

/* Keeps the fds of @p mh in rx->msg; returns -EBADMSG when there were too many. */
static int
collect_fds(struct vh_user_rx *rx, struct msghdr *mh)
{
	int rc = (mh->msg_flags & MSG_CTRUNC) ? -EBADMSG : 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int *fds;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)(void *)CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, &fds[i], sizeof(fd));
			if (rx->msg.nfds < VH_USER_MAX_FDS) {
				rx->msg.fds[rx->msg.nfds++] = fd;
			} else {
				close(fd);
				rc = -EBADMSG;
			}
		}
	}
	return rc;
}

int
vh_user_rx_read(int fd, struct vh_user_rx *rx)
{
	union {
		char buf[CMSG_SPACE(RX_CMSG_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;

	for (;;) {
		struct iovec iov;
		struct msghdr mh;
		ssize_t n;
		int rc;

		if (rx->got < VH_USER_HDR_SIZE) {
			iov.iov_base = (uint8_t *)&rx->msg.hdr + rx->got;
			iov.iov_len = VH_USER_HDR_SIZE - rx->got;
		} else {
			uint32_t done = rx->got - VH_USER_HDR_SIZE;

			if (done == rx->msg.hdr.size)
				return 1;
			iov.iov_base = rx->msg.payload.raw + done;
			iov.iov_len = rx->msg.hdr.size - done;
		}
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl.buf;
		mh.msg_controllen = sizeof(ctl.buf);
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			rc = -errno;
			vh_user_rx_reset(rx);
			return rc;
		}
		rc = collect_fds(rx, &mh);
		if (rc < 0) {
			VH_WARN("message %u carries too many fds", rx->msg.hdr.request);
			vh_user_rx_reset(rx);
			return rc;
		}
		if (n == 0) {
			if (rx->got > 0)
				VH_WARN("peer closed in the middle of a message (%u bytes read)",
					rx->got);
			vh_user_rx_reset(rx);
			return -ECONNRESET;
		}
		rx->got += (uint32_t)n;
		if (rx->got == VH_USER_HDR_SIZE && rx->msg.hdr.size > max_payload(rx)) {
			VH_WARN("%s: payload size %u exceeds the %u bytes the request allows",
				rx->kind == VH_USER_RX_BACKEND_REQ
					? vh_user_backend_request_name(rx->msg.hdr.request)
					: vh_user_request_name(rx->msg.hdr.request),
				rx->msg.hdr.size, max_payload(rx));
			vh_user_rx_reset(rx);
			return -EMSGSIZE;
		}
	}
}

static int
wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = vh_now_ms();
		struct pollfd p = {fd, events, 0};
		int n;

		if (now >= deadline)
			return -ETIMEDOUT;
		n = poll(&p, 1, (int)(deadline - now > 60000 ? 60000 : deadline - now));
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

int
vh_user_rx_wait(int fd, struct vh_user_rx *rx, uint32_t timeout_ms)
{
	uint64_t deadline = vh_now_ms() + timeout_ms;

	for (;;) {
		int rc = vh_user_rx_read(fd, rx);

		if (rc != 0)
			return rc;
		rc = wait_fd(fd, POLLIN, deadline);
		if (rc < 0)
			return rc;
	}
}

int
vh_user_send(int fd, const struct vh_user_msg *msg, uint32_t timeout_ms)
{
	union {
		char buf[CMSG_SPACE(VH_USER_MAX_FDS * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	uint64_t deadline = vh_now_ms() + timeout_ms;
	struct iovec iov[2];
	struct msghdr mh;
	size_t left;

	if (msg->hdr.size > VH_USER_MAX_PAYLOAD || msg->nfds > VH_USER_MAX_FDS)
		return -EINVAL;
	iov[0].iov_base = (void *)&msg->hdr;
	iov[0].iov_len = VH_USER_HDR_SIZE;
	iov[1].iov_base = (void *)msg->payload.raw;
	iov[1].iov_len = msg->hdr.size;
	left = VH_USER_HDR_SIZE + msg->hdr.size;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = msg->hdr.size > 0 ? 2 : 1;
	if (msg->nfds > 0) {
		struct cmsghdr *c;

		memset(ctl.buf, 0, sizeof(ctl.buf));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(msg->nfds * sizeof(int));
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(msg->nfds * sizeof(int));
		memcpy(CMSG_DATA(c), msg->fds, msg->nfds * sizeof(int));
	}
	while (left > 0) {
		ssize_t n = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0) {
			int rc;

			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -errno;
			rc = wait_fd(fd, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		left -= (size_t)n;
		/* The fds went with the first byte; send the rest without them. */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (n > 0 && mh.msg_iovlen > 0) {
			size_t k =
				(size_t)n < mh.msg_iov->iov_len ? (size_t)n : mh.msg_iov->iov_len;

			mh.msg_iov->iov_base = (uint8_t *)mh.msg_iov->iov_base + k;
			mh.msg_iov->iov_len -= k;
			n -= (ssize_t)k;
			if (mh.msg_iov->iov_len == 0) {
				mh.msg_iov++;
				mh.msg_iovlen--;
			}
		}
	}
	return 0;
}
