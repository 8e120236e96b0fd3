/* SPDX-License-Identifier: BSD-3-Clause */
#include <sys/eventfd.h>
#include <unistd.h>

#include "test.h"
#include "vt_hostile.h"

int
vt_hx_start(struct vt_hx *h, const char *name)
{
	memset(h, 0, sizeof(*h));
	if (vt_server_listen(&h->srv, name, 4) != 0 ||
	    vt_guest_mem_create(&h->mem, 1 << 20, 0) != 0)
		return -1;
	h->base_fds = vt_count_fds();
	h->base_maps = vt_count_maps_matching("memfd:");
	return 0;
}

int
vt_hx_connect(struct vt_hx *h)
{
	int fd = vh_user_connect(h->srv.path);

	if (fd >= 0)
		h->conns++;
	return fd;
}

int
vt_hx_check_serving(struct vt_hx *h)
{
	struct vh_user_frontend *fe;
	struct vt_guest_mem m;
	struct vh_mem_region r;
	struct vh_vring_addr a;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);
	uint32_t base;

	TEST_ASSERT_SUCCESS(vt_frontend_open(&h->srv, &fe, 0), "a new connection is served");
	h->conns++;
	TEST_ASSERT_SUCCESS(vt_guest_mem_create(&m, 1 << 20, 0), "memory");
	r = vt_guest_mem_region(&m);
	a = vt_ring_addr(&m, 0);
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_owner(fe), "SET_OWNER");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_features(fe, 1ULL << VH_VIRTIO_F_VERSION_1),
			    "SET_FEATURES");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_mem_table(fe, &r, 1), "SET_MEM_TABLE");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_num(fe, 0, 256), "NUM");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_addr(fe, 0, &a), "ADDR");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_call(fe, 0, call), "CALL");
	TEST_ASSERT_SUCCESS(vh_user_frontend_set_vring_kick(fe, 0, kick), "KICK");
	TEST_ASSERT_SUCCESS(vh_user_frontend_get_vring_base(fe, 0, &base), "GET_VRING_BASE");
	vh_user_frontend_destroy(fe);
	vt_guest_mem_destroy(&m);
	close(kick);
	close(call);
	return TEST_SUCCESS;
}

int
vt_hx_end(struct vt_hx *h)
{
	TEST_ASSERT(vt_server_wait_closed(&h->srv, h->conns, 5000),
		    "the back-end ended all %d connections (ended %d)", h->conns,
		    vt_server_closed(&h->srv));
	TEST_ASSERT_EQUAL(vt_count_fds(), h->base_fds, "no fd leaked");
	TEST_ASSERT_EQUAL(vt_count_maps_matching("memfd:"), h->base_maps, "no mapping leaked");
	vt_server_stop(&h->srv);
	vt_guest_mem_destroy(&h->mem);
	return TEST_SUCCESS;
}

int
vt_hx_expect_closed(int fd, const char *what)
{
	struct vh_user_msg r;
	int rc = vt_recv_reply(fd, &r, 3000);

	if (rc == 1)
		vh_user_msg_close_fds(&r);
	TEST_ASSERT_EQUAL(rc, 0, "%s%sthe back-end closed the connection (got %d, request %u)",
			  what != NULL ? what : "", what != NULL ? ": " : "", rc,
			  rc == 1 ? r.hdr.request : 0);
	close(fd);
	return TEST_SUCCESS;
}

int
vt_hx_expect_reply(int fd, uint32_t req, uint32_t size, uint64_t *v)
{
	struct vh_user_msg r;

	uint32_t nfds;

	TEST_ASSERT_EQUAL(vt_recv_reply(fd, &r, 3000), 1, "a reply to %s",
			  vh_user_request_name(req));
	nfds = r.nfds;
	vh_user_msg_close_fds(&r);
	TEST_ASSERT_EQUAL(nfds, 0, "without fds");
	TEST_ASSERT_EQUAL(r.hdr.request, req, "to the right request");
	TEST_ASSERT_EQUAL(r.hdr.flags, VH_USER_VERSION | VH_USER_REPLY_MASK, "reply flags");
	TEST_ASSERT_EQUAL(r.hdr.size, size, "%s: reply size", vh_user_request_name(req));
	*v = size >= 8 ? r.payload.u64 : 0;
	return TEST_SUCCESS;
}

int
vt_hx_expect_nack(int fd, uint32_t req)
{
	uint64_t v;

	TEST_RUN(vt_hx_expect_reply(fd, req, 8, &v));
	TEST_ASSERT(v != 0, "%s reports failure", vh_user_request_name(req));
	return TEST_SUCCESS;
}

int
vt_hx_expect_ack(int fd, uint32_t req)
{
	uint64_t v;

	TEST_RUN(vt_hx_expect_reply(fd, req, 8, &v));
	TEST_ASSERT_EQUAL(v, 0, "%s succeeded", vh_user_request_name(req));
	return TEST_SUCCESS;
}

int
vt_hx_expect_alive(int fd)
{
	uint64_t v;

	TEST_ASSERT_SUCCESS(
		vt_send_raw(fd, VH_USER_GET_FEATURES, VH_USER_VERSION, NULL, 0, NULL, 0), "send");
	TEST_RUN(vt_hx_expect_reply(fd, VH_USER_GET_FEATURES, 8, &v));
	return TEST_SUCCESS;
}

int
vt_hx_send_u64(int fd, uint32_t req, uint32_t flags, uint64_t v)
{
	return vt_send_raw(fd, req, flags, &v, 8, NULL, 0);
}
