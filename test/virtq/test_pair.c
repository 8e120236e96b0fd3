/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/virtq: driver side against device side for every feature combination
 * (split/packed x indirect x event_idx x in_order x mrg_rxbuf); see
 * vq_pair.c for what each test proves.
 */
#include "test.h"
#include "virtq.h"
#include "vq_pair.h"

#define P   VQ_FEATURE(VQ_F_RING_PACKED)
#define IND VQ_FEATURE(VQ_F_INDIRECT_DESC)
#define EVT VQ_FEATURE(VQ_F_EVENT_IDX)
#define ORD VQ_FEATURE(VQ_F_IN_ORDER)
#define MRG VQ_FEATURE(VQ_NET_F_MRG_RXBUF)

static int
t_s_plain(void)
{
	return vq_pair_run(0);
}
REGISTER_TEST(virtq_pair_split_plain, fast, t_s_plain)

static int
t_s_ind(void)
{
	return vq_pair_run(IND);
}
REGISTER_TEST(virtq_pair_split_indirect, fast, t_s_ind)

static int
t_s_evt(void)
{
	return vq_pair_run(EVT);
}
REGISTER_TEST(virtq_pair_split_event_idx, fast, t_s_evt)

static int
t_s_ind_evt(void)
{
	return vq_pair_run(IND | EVT);
}
REGISTER_TEST(virtq_pair_split_indirect_event_idx, fast, t_s_ind_evt)

static int
t_s_ord(void)
{
	return vq_pair_run(ORD);
}
REGISTER_TEST(virtq_pair_split_in_order, fast, t_s_ord)

static int
t_s_ind_ord(void)
{
	return vq_pair_run(IND | ORD);
}
REGISTER_TEST(virtq_pair_split_indirect_in_order, fast, t_s_ind_ord)

static int
t_s_evt_ord(void)
{
	return vq_pair_run(EVT | ORD);
}
REGISTER_TEST(virtq_pair_split_event_idx_in_order, fast, t_s_evt_ord)

static int
t_s_ind_evt_ord(void)
{
	return vq_pair_run(IND | EVT | ORD);
}
REGISTER_TEST(virtq_pair_split_indirect_event_idx_in_order, fast, t_s_ind_evt_ord)

static int
t_s_mrg(void)
{
	return vq_pair_run(MRG);
}
REGISTER_TEST(virtq_pair_split_mrg_rxbuf, fast, t_s_mrg)

static int
t_s_ind_mrg(void)
{
	return vq_pair_run(IND | MRG);
}
REGISTER_TEST(virtq_pair_split_indirect_mrg_rxbuf, fast, t_s_ind_mrg)

static int
t_s_evt_mrg(void)
{
	return vq_pair_run(EVT | MRG);
}
REGISTER_TEST(virtq_pair_split_event_idx_mrg_rxbuf, fast, t_s_evt_mrg)

static int
t_s_ind_evt_mrg(void)
{
	return vq_pair_run(IND | EVT | MRG);
}
REGISTER_TEST(virtq_pair_split_indirect_event_idx_mrg_rxbuf, fast, t_s_ind_evt_mrg)

static int
t_s_ord_mrg(void)
{
	return vq_pair_run(ORD | MRG);
}
REGISTER_TEST(virtq_pair_split_in_order_mrg_rxbuf, fast, t_s_ord_mrg)

static int
t_s_ind_ord_mrg(void)
{
	return vq_pair_run(IND | ORD | MRG);
}
REGISTER_TEST(virtq_pair_split_indirect_in_order_mrg_rxbuf, fast, t_s_ind_ord_mrg)

static int
t_s_evt_ord_mrg(void)
{
	return vq_pair_run(EVT | ORD | MRG);
}
REGISTER_TEST(virtq_pair_split_event_idx_in_order_mrg_rxbuf, fast, t_s_evt_ord_mrg)

static int
t_s_ind_evt_ord_mrg(void)
{
	return vq_pair_run(IND | EVT | ORD | MRG);
}
REGISTER_TEST(virtq_pair_split_indirect_event_idx_in_order_mrg_rxbuf, fast, t_s_ind_evt_ord_mrg)

static int
t_p_plain(void)
{
	return vq_pair_run(P);
}
REGISTER_TEST(virtq_pair_packed_plain, fast, t_p_plain)

static int
t_p_ind(void)
{
	return vq_pair_run(P | IND);
}
REGISTER_TEST(virtq_pair_packed_indirect, fast, t_p_ind)

static int
t_p_evt(void)
{
	return vq_pair_run(P | EVT);
}
REGISTER_TEST(virtq_pair_packed_event_idx, fast, t_p_evt)

static int
t_p_ind_evt(void)
{
	return vq_pair_run(P | IND | EVT);
}
REGISTER_TEST(virtq_pair_packed_indirect_event_idx, fast, t_p_ind_evt)

static int
t_p_ord(void)
{
	return vq_pair_run(P | ORD);
}
REGISTER_TEST(virtq_pair_packed_in_order, fast, t_p_ord)

static int
t_p_ind_ord(void)
{
	return vq_pair_run(P | IND | ORD);
}
REGISTER_TEST(virtq_pair_packed_indirect_in_order, fast, t_p_ind_ord)

static int
t_p_evt_ord(void)
{
	return vq_pair_run(P | EVT | ORD);
}
REGISTER_TEST(virtq_pair_packed_event_idx_in_order, fast, t_p_evt_ord)

static int
t_p_ind_evt_ord(void)
{
	return vq_pair_run(P | IND | EVT | ORD);
}
REGISTER_TEST(virtq_pair_packed_indirect_event_idx_in_order, fast, t_p_ind_evt_ord)

static int
t_p_mrg(void)
{
	return vq_pair_run(P | MRG);
}
REGISTER_TEST(virtq_pair_packed_mrg_rxbuf, fast, t_p_mrg)

static int
t_p_ind_mrg(void)
{
	return vq_pair_run(P | IND | MRG);
}
REGISTER_TEST(virtq_pair_packed_indirect_mrg_rxbuf, fast, t_p_ind_mrg)

static int
t_p_evt_mrg(void)
{
	return vq_pair_run(P | EVT | MRG);
}
REGISTER_TEST(virtq_pair_packed_event_idx_mrg_rxbuf, fast, t_p_evt_mrg)

static int
t_p_ind_evt_mrg(void)
{
	return vq_pair_run(P | IND | EVT | MRG);
}
REGISTER_TEST(virtq_pair_packed_indirect_event_idx_mrg_rxbuf, fast, t_p_ind_evt_mrg)

static int
t_p_ord_mrg(void)
{
	return vq_pair_run(P | ORD | MRG);
}
REGISTER_TEST(virtq_pair_packed_in_order_mrg_rxbuf, fast, t_p_ord_mrg)

static int
t_p_ind_ord_mrg(void)
{
	return vq_pair_run(P | IND | ORD | MRG);
}
REGISTER_TEST(virtq_pair_packed_indirect_in_order_mrg_rxbuf, fast, t_p_ind_ord_mrg)

static int
t_p_evt_ord_mrg(void)
{
	return vq_pair_run(P | EVT | ORD | MRG);
}
REGISTER_TEST(virtq_pair_packed_event_idx_in_order_mrg_rxbuf, fast, t_p_evt_ord_mrg)

static int
t_p_ind_evt_ord_mrg(void)
{
	return vq_pair_run(P | IND | EVT | ORD | MRG);
}
REGISTER_TEST(virtq_pair_packed_indirect_event_idx_in_order_mrg_rxbuf, fast, t_p_ind_evt_ord_mrg)
