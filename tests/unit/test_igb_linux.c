/* moat's PF driver (pci/pf/igb_mbx.c) against the VF side of Linux's igbvf driver.
 *
 * Two models meet here. The device: the 82576 mailbox as QEMU's igb implements it
 * (per-VF buffer shared by PF and VF, VFU/PFU ownership, REQ and ACK raising the PF's
 * MBVFICR bits, which QEMU clears on read; STS and ACK from the PF raising the VF's PFSTS
 * and PFACK, read-to-clear; a VF's CTRL.RST raising VFLRE and RSTD). The VF driver: what
 * Linux 6.1's igbvf (drivers/net/ethernet/intel/igbvf/mbx.c, vf.c, netdev.c; checked
 * against the disassembly of Debian's igbvf.ko 6.1.0-57) does, step by step: its mailbox
 * lock, the read-to-clear bits it accumulates, its posted write and read with their retry
 * counts (the PF runs between retries, as CPU 0 does while the guest's vCPU waits), the
 * messages of its reset, probe, open (set_rx_mode, VLAN 0, the longest frame), watchdog
 * (link check reading word 0 of the buffer for CTS), set-MAC and close, and how it reads
 * every reply. Each reply word is checked. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "pci/pf/igb_regs.h"
#include "host_shim.h"

static u32 regfile[0x10000 / 4] __aligned(4096);
static struct igb_pf test_pf;
static u64 fake_us;

u64 time_us(void)
{
	return fake_us += 10;
}

unsigned igb_pf_count(void)
{
	return 1;
}

struct igb_pf *igb_pf_at(unsigned idx)
{
	return idx == 0 ? &test_pf : NULL;
}

static struct pci_dev pf_dev = {.bus = 1}, vf_devs[IGB_MAX_VFS];

struct pci_dev *pci_sriov_vf(const struct pci_dev *pf, unsigned idx)
{
	return pf == &pf_dev && idx < test_pf.num_vfs ? &vf_devs[idx] : NULL;
}

/* ---- the device: PF and VF views of the mailbox ---- */

#define VF_R2C (IGB_VF_MAILBOX_PFSTS | IGB_VF_MAILBOX_PFACK | IGB_VF_MAILBOX_RSTD)

static struct {
	bool vfu, pfu;
	u32 r2c; /* PFSTS, PFACK, RSTD: set by the device, cleared when the VF reads */
} mbx[IGB_MAX_VFS];

static u32 reg(u32 off)
{
	return regfile[off / 4];
}

static void set_reg(u32 off, u32 v)
{
	regfile[off / 4] = v;
}

u32 igb_model_read32(u64 a)
{
	u32 off = (u32)(a - (u64)(uintptr_t)regfile);
	u32 v = regfile[off / 4];

	if (off >= IGB_P2VMAILBOX(0) && off < IGB_P2VMAILBOX(IGB_MAX_VFS)) {
		unsigned vf = (off - IGB_P2VMAILBOX(0)) / 4;

		return (mbx[vf].pfu ? IGB_P2VMAILBOX_PFU : 0) |
		       (mbx[vf].vfu ? IGB_P2VMAILBOX_VFU : 0);
	}
	if (off == IGB_MBVFICR) /* QEMU: clear on read */
		set_reg(IGB_MBVFICR, 0);
	return v;
}

static unsigned mta_writes;	    /* writes to the shared multicast table */
static int request_before_pfu = -1; /* VF whose request lands as the PF takes its buffer */

void igb_model_write32(u64 a, u32 v)
{
	u32 off = (u32)(a - (u64)(uintptr_t)regfile);

	if (off >= IGB_MTA(0) && off < IGB_MTA(IGB_MTA_WORDS))
		mta_writes++;

	if (off >= IGB_P2VMAILBOX(0) && off < IGB_P2VMAILBOX(IGB_MAX_VFS)) {
		unsigned vf = (off - IGB_P2VMAILBOX(0)) / 4;

		if ((v & IGB_P2VMAILBOX_PFU) && (int)vf == request_before_pfu) {
			/* the VF's request completed just before the PF took the buffer */
			request_before_pfu = -1;
			set_reg(IGB_VMBMEM(vf), IGB_VF_SET_LPE);
			set_reg(IGB_VMBMEM(vf) + 4, 1522);
			set_reg(IGB_MBVFICR, reg(IGB_MBVFICR) | BIT(vf));
		}
		if (v & IGB_P2VMAILBOX_STS)
			mbx[vf].r2c |= IGB_VF_MAILBOX_PFSTS;
		if (v & IGB_P2VMAILBOX_ACK)
			mbx[vf].r2c |= IGB_VF_MAILBOX_PFACK;
		mbx[vf].pfu = (v & IGB_P2VMAILBOX_PFU) && !mbx[vf].vfu;
		return;
	}
	if (off == IGB_VFLRE || off == IGB_MBVFICR) /* write 1 to clear */
		v = regfile[off / 4] & ~v;
	regfile[off / 4] = v;
}

static u32 vf_rd(unsigned vf, u32 off)
{
	u32 v;

	switch (off) {
	case IGB_VF_MAILBOX:
		v = mbx[vf].r2c | (mbx[vf].vfu ? IGB_VF_MAILBOX_VFU : 0) |
		    (mbx[vf].pfu ? IGB_VF_MAILBOX_PFU : 0);
		mbx[vf].r2c = 0;
		return v;
	case IGB_VF_STATUS: return IGB_VF_STATUS_LU;
	default:
		assert_true(off >= IGB_VF_MBMEM && off < IGB_VF_MBMEM + 4 * IGB_MBX_WORDS);
		return reg(IGB_VMBMEM(vf) + off - IGB_VF_MBMEM);
	}
}

static void vf_wr(unsigned vf, u32 off, u32 v)
{
	switch (off) {
	case IGB_VF_MAILBOX:
		if (v & IGB_VF_MAILBOX_REQ)
			set_reg(IGB_MBVFICR, reg(IGB_MBVFICR) | BIT(vf));
		if (v & IGB_VF_MAILBOX_ACK)
			set_reg(IGB_MBVFICR, reg(IGB_MBVFICR) | BIT(16 + vf));
		mbx[vf].vfu = (v & IGB_VF_MAILBOX_VFU) && !mbx[vf].pfu;
		return;
	case IGB_VF_CTRL:
		if (v & IGB_VF_CTRL_RST) {
			set_reg(IGB_VFLRE, reg(IGB_VFLRE) | BIT(vf));
			set_reg(IGB_VFRE, reg(IGB_VFRE) & ~(u32)BIT(vf));
			set_reg(IGB_VFTE, reg(IGB_VFTE) & ~(u32)BIT(vf));
			mbx[vf].r2c |= IGB_VF_MAILBOX_RSTD;
		}
		return;
	default:
		assert_true(off >= IGB_VF_MBMEM && off < IGB_VF_MBMEM + 4 * IGB_MBX_WORDS);
		set_reg(IGB_VMBMEM(vf) + off - IGB_VF_MBMEM, v);
	}
}

/* A PCIe FLR of the VF (QEMU's igbvf: pcie_cap_flr_write_config -> igb_core_vf_reset): its
 * queues and pool disabled, VFLRE raised; the mailbox is left as it was (no RSTD). */
static void vf_flr(unsigned vf)
{
	set_reg(IGB_VFLRE, reg(IGB_VFLRE) | BIT(vf));
	set_reg(IGB_VFRE, reg(IGB_VFRE) & ~(u32)BIT(vf));
	set_reg(IGB_VFTE, reg(IGB_VFTE) & ~(u32)BIT(vf));
}

/* ---- Linux's igbvf, VF side ---- */

#define LNX_MBX_TIMEOUT 2000 /* E1000_VF_MBX_INIT_TIMEOUT: retries of 500 us */
#define LNX_INIT_TIMEOUT 200 /* E1000_VF_INIT_TIMEOUT: retries of 5 us */
#define LNX_ERR_MBX (-15)    /* -E1000_ERR_MBX */
#define LNX_ERR_MAC_INIT (-3)

struct lnx_vf {
	unsigned vf;
	u32 sticky;  /* hw->dev_spec.vf.v2p_mailbox */
	int timeout; /* mbx->timeout: 0 until the first reset, and after a timed-out wait */
	u8 perm_addr[ETH_ALEN], addr[ETH_ALEN];
	bool get_link_status;
	unsigned pf_turns; /* times the PF ran while this VF waited */
};

static u32 lnx_read_mailbox(struct lnx_vf *l)
{
	u32 v = vf_rd(l->vf, IGB_VF_MAILBOX) | l->sticky;

	l->sticky |= v & VF_R2C;
	return v;
}

static bool lnx_check_bit(struct lnx_vf *l, u32 mask)
{
	bool seen = lnx_read_mailbox(l) & mask;

	l->sticky &= ~mask;
	return seen;
}

/* One retry of a wait (udelay(E1000_VF_MBX_INIT_DELAY)): the PF's CPU runs meanwhile. */
#define LNX_MBX_DELAY_US 500

static void lnx_delay(struct lnx_vf *l)
{
	l->pf_turns++;
	fake_us += LNX_MBX_DELAY_US;
	igb_pf_poll_all();
}

static bool lnx_poll(struct lnx_vf *l, u32 bit)
{
	int countdown = l->timeout;

	while (countdown && !lnx_check_bit(l, bit)) {
		countdown--;
		lnx_delay(l);
	}
	if (!countdown)
		l->timeout = 0;
	return countdown != 0;
}

static bool lnx_lock(struct lnx_vf *l)
{
	vf_wr(l->vf, IGB_VF_MAILBOX, IGB_VF_MAILBOX_VFU);
	return lnx_read_mailbox(l) & IGB_VF_MAILBOX_VFU;
}

static int lnx_write(struct lnx_vf *l, const u32 *msg, unsigned n)
{
	if (!lnx_lock(l))
		return LNX_ERR_MBX;
	lnx_check_bit(l, IGB_VF_MAILBOX_PFACK); /* flush an old ACK or message */
	lnx_check_bit(l, IGB_VF_MAILBOX_PFSTS);
	for (unsigned i = 0; i < n; i++)
		vf_wr(l->vf, IGB_VF_MBMEM + 4 * i, msg[i]);
	vf_wr(l->vf, IGB_VF_MAILBOX, IGB_VF_MAILBOX_REQ);
	return 0;
}

static int lnx_read(struct lnx_vf *l, u32 *msg, unsigned n)
{
	if (!lnx_lock(l))
		return LNX_ERR_MBX;
	for (unsigned i = 0; i < n; i++)
		msg[i] = vf_rd(l->vf, IGB_VF_MBMEM + 4 * i);
	vf_wr(l->vf, IGB_VF_MAILBOX, IGB_VF_MAILBOX_ACK);
	return 0;
}

static int lnx_write_posted(struct lnx_vf *l, const u32 *msg, unsigned n)
{
	int err;

	if (!l->timeout)
		return LNX_ERR_MBX;
	err = lnx_write(l, msg, n);
	if (!err && !lnx_poll(l, IGB_VF_MAILBOX_PFACK))
		err = LNX_ERR_MBX;
	return err;
}

static int lnx_read_posted(struct lnx_vf *l, u32 *msg, unsigned n)
{
	if (!lnx_poll(l, IGB_VF_MAILBOX_PFSTS))
		return LNX_ERR_MBX;
	return lnx_read(l, msg, n);
}

/* e1000_reset_hw_vf: CTRL.RST, wait while RSTD/RSTI show, the reset message, the reply
 * with the permanent address. */
static int lnx_reset_hw(struct lnx_vf *l)
{
	u32 msg[3] = {IGB_VF_RESET};
	int timeout = LNX_INIT_TIMEOUT, err;

	vf_wr(l->vf, IGB_VF_CTRL, IGB_VF_CTRL_RST);
	while (lnx_check_bit(l, IGB_VF_MAILBOX_RSTD | IGB_VF_MAILBOX_RSTI) && timeout)
		timeout--;
	if (!timeout)
		return LNX_ERR_MAC_INIT;
	l->timeout = LNX_MBX_TIMEOUT;
	lnx_write_posted(l, msg, 1);
	fake_us += 10000; /* mdelay(10) */
	err = lnx_read_posted(l, msg, 3);
	if (err)
		return err;
	if (msg[0] != (IGB_VF_RESET | IGB_MSG_ACK))
		return LNX_ERR_MAC_INIT;
	igb_msg_get_mac(msg, l->perm_addr);
	return 0;
}

/* e1000_rar_set_vf: a NACK puts the permanent address back. Returns the reply. */
static u32 lnx_rar_set(struct lnx_vf *l, const u8 *addr)
{
	u32 msg[3] = {IGB_VF_SET_MAC_ADDR};

	memcpy(l->addr, addr, ETH_ALEN);
	igb_msg_put_mac(msg, addr);
	if (!lnx_write_posted(l, msg, 3) && !lnx_read_posted(l, msg, 3) &&
	    (msg[0] & ~(u32)IGB_MSG_CTS) == (IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK))
		memcpy(l->addr, l->perm_addr, ETH_ALEN);
	return msg[0];
}

/* e1000_set_uc_addr_vf: -ENOSPC when refused. */
static int lnx_set_uc_addr(struct lnx_vf *l, u32 sub_cmd, const u8 *addr, u32 *reply)
{
	u32 msg[3] = {IGB_VF_SET_MAC_ADDR | FIELD_PREP(IGB_MSG_INFO, sub_cmd)};
	u32 chk = msg[0];
	int err;

	if (addr)
		igb_msg_put_mac(msg, addr);
	err = lnx_write_posted(l, msg, 3);
	if (!err)
		err = lnx_read_posted(l, msg, 3);
	*reply = msg[0];
	if (!err && (msg[0] & ~(u32)IGB_MSG_CTS) == (chk | IGB_MSG_NACK))
		return -ENOSPC;
	return err;
}

/* e1000_hash_mc_addr_vf with 128 MTA registers: 12 bits from bytes 4 and 5. */
static u16 lnx_mc_hash(const u8 *mc)
{
	return (u16)(((mc[4] >> 4) | ((u16)mc[5] << 4)) & 0xfff);
}

/* e1000_update_mc_addr_list_vf: 16 words, at most 30 hashes; the reply is read. */
static u32 lnx_update_mc(struct lnx_vf *l, const u8 (*list)[ETH_ALEN], unsigned count)
{
	u32 msg[IGB_MBX_WORDS] = {0};
	u16 *hashes = (u16 *)&msg[1];
	unsigned n = count > 30 ? 30 : count;

	msg[0] = IGB_VF_SET_MULTICAST | FIELD_PREP(IGB_MSG_INFO, n);
	for (unsigned i = 0; i < n; i++)
		hashes[i] = lnx_mc_hash(list[i]);
	if (!lnx_write_posted(l, msg, IGB_MBX_WORDS))
		lnx_read_posted(l, msg, 1);
	return msg[0];
}

/* e1000_set_vfta_vf: a refusal is noticed only when the reply is exactly SET_VLAN | NACK
 * (an add's INFO is echoed, so a refused add goes unnoticed, with Linux's PF too). */
static int lnx_set_vfta(struct lnx_vf *l, u16 vid, bool set, u32 *reply)
{
	u32 msg[2] = {IGB_VF_SET_VLAN | (set ? FIELD_PREP(IGB_MSG_INFO, 1) : 0), vid};
	int err;

	lnx_write_posted(l, msg, 2);
	err = lnx_read_posted(l, msg, 2);
	*reply = msg[0];
	if (!err && (msg[0] & ~(u32)IGB_MSG_CTS) == (IGB_VF_SET_VLAN | IGB_MSG_NACK))
		err = LNX_ERR_MAC_INIT;
	return err;
}

/* e1000_rlpml_set_vf (igbvf_set_rlpml adds a VLAN tag to the frame size). */
static u32 lnx_rlpml_set(struct lnx_vf *l, u16 size)
{
	u32 msg[2] = {IGB_VF_SET_LPE, size};

	if (!lnx_write_posted(l, msg, 2))
		lnx_read_posted(l, msg, 1);
	return msg[0];
}

/* e1000_check_for_link_vf: after a reset indication, word 0 of the buffer (the PF's last
 * reply) must carry CTS; a NACK without it asks the driver to reset itself. */
static int lnx_check_for_link(struct lnx_vf *l)
{
	u32 in = 0;

	if (lnx_check_bit(l, IGB_VF_MAILBOX_RSTD | IGB_VF_MAILBOX_RSTI) || !l->timeout)
		l->get_link_status = true;
	if (!l->get_link_status)
		return 0;
	if (!(vf_rd(l->vf, IGB_VF_STATUS) & IGB_VF_STATUS_LU))
		return 0;
	if (lnx_read(l, &in, 1))
		return 0;
	if (!(in & IGB_MSG_CTS))
		return in & IGB_MSG_NACK ? LNX_ERR_MAC_INIT : 0;
	if (!l->timeout)
		return LNX_ERR_MAC_INIT;
	l->get_link_status = false;
	return 0;
}

/* igbvf_reset: reset_hw, then init_hw sets the address again. */
static void lnx_igbvf_reset(struct lnx_vf *l)
{
	assert_int_equal(lnx_reset_hw(l), 0);
	lnx_rar_set(l, l->addr);
}

/* igbvf_probe: reset_hw, read_mac_addr, then igbvf_reset. */
static void lnx_probe(struct lnx_vf *l, unsigned vf)
{
	memset(l, 0, sizeof(*l));
	l->vf = vf;
	assert_int_equal(lnx_reset_hw(l), 0);
	memcpy(l->addr, l->perm_addr, ETH_ALEN);
	lnx_igbvf_reset(l);
}

/* igbvf_open -> igbvf_configure: set_rx_mode (multicast list, then a clear of the unicast
 * filters), VLAN 0 (igbvf_restore_vlan), the longest frame (MTU 1500 + header, FCS, tag). */
static const u8 lnx_mc_list[2][ETH_ALEN] = {{0x33, 0x33, 0x00, 0x00, 0x00, 0x01},
					    {0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}};

static void lnx_open(struct lnx_vf *l)
{
	u32 r;

	l->get_link_status = true;
	assert_int_equal(lnx_update_mc(l, lnx_mc_list, 2), IGB_VF_SET_MULTICAST |
								   FIELD_PREP(IGB_MSG_INFO, 2) |
								   IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(lnx_set_uc_addr(l, IGB_MAC_FILTER_CLR, NULL, &r), 0);
	assert_int_equal(r, IGB_VF_SET_MAC_ADDR | FIELD_PREP(IGB_MSG_INFO, IGB_MAC_FILTER_CLR) |
				    IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(lnx_set_vfta(l, 0, true, &r), 0);
	assert_int_equal(r,
			 IGB_VF_SET_VLAN | FIELD_PREP(IGB_MSG_INFO, 1) | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(lnx_rlpml_set(l, 1500 + 14 + 4 + 4),
			 IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
}

static struct lnx_vf lnx;

static int setup(void **state)
{
	static const char *const names[] = {"web", "db", "mallory"};

	memset(regfile, 0, sizeof(regfile));
	memset(mbx, 0, sizeof(mbx));
	memset(&test_pf, 0, sizeof(test_pf));
	test_pf.regs = (u64)(uintptr_t)regfile;
	test_pf.pdev = &pf_dev;
	test_pf.num_vfs = 3;
	test_pf.pf_pool = 3;
	for (unsigned vf = 0; vf < 3; vf++) {
		static const u8 base[6] = {0x02, 0x6d, 0x6f, 0x61, 0x74, 0x10};

		memcpy(test_pf.vf[vf].default_mac, base, 6);
		test_pf.vf[vf].default_mac[5] = (u8)(0x10 + vf);
		memcpy(test_pf.vf[vf].mac, test_pf.vf[vf].default_mac, 6);
		vf_devs[vf].owner = (struct pci_owner){PCI_OWNER_GUEST, (int)vf + 1, names[vf]};
	}
	shim_warnings_logged = 0;
	shim_log_clear();
	mta_writes = 0;
	request_before_pfu = -1;
	return 0;
}

/* Probe: two reset handshakes (each answered ACK with the assigned MAC in three words, no
 * CTS), the address set back (granted, with CTS); the pool is enabled and holds the MAC. */
static void test_probe(void **state)
{
	u32 w[2];

	lnx_probe(&lnx, 1);
	assert_memory_equal(lnx.perm_addr, test_pf.vf[1].default_mac, 6);
	assert_memory_equal(lnx.addr, test_pf.vf[1].default_mac, 6);
	assert_int_equal(reg(IGB_VMBMEM(1)), IGB_VF_SET_MAC_ADDR | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_true(test_pf.vf[1].clear_to_send);
	assert_int_equal(reg(IGB_VFRE), BIT(1));
	assert_int_equal(reg(IGB_VFTE), BIT(1));
	w[0] = reg(IGB_RAL(igb_vf_rar(1)));
	w[1] = reg(IGB_RAH(igb_vf_rar(1)));
	assert_int_equal(w[0], 0x616f6d02u);
	assert_int_equal(w[1], 0x1174u | IGB_RAH_AV | FIELD_PREP(IGB_RAH_POOL, BIT(1)));
	assert_int_equal(test_pf.vf[1].nacks, 0);
	assert_int_equal(shim_warnings_logged, 0);
}

/* Open, then the watchdog: every message of igbvf_configure is granted, the multicast
 * hashes land in the table, the pool's longest frame is set, and the link check finds CTS
 * in word 0 and reports the link up. */
static void test_open_and_link(void **state)
{
	lnx_probe(&lnx, 0);
	lnx_open(&lnx);
	assert_true(reg(IGB_MTA(lnx_mc_hash(lnx_mc_list[0]) >> 5)) &
		    BIT(lnx_mc_hash(lnx_mc_list[0]) & 0x1f));
	assert_true(reg(IGB_MTA(lnx_mc_hash(lnx_mc_list[1]) >> 5)) &
		    BIT(lnx_mc_hash(lnx_mc_list[1]) & 0x1f));
	assert_true(reg(IGB_VMOLR(0)) & IGB_VMOLR_ROMPE);
	assert_int_equal(FIELD_GET(IGB_VMOLR_RLPML, reg(IGB_VMOLR(0))), 1522);
	assert_int_equal(lnx_check_for_link(&lnx), 0);
	assert_false(lnx.get_link_status);
	assert_int_equal(test_pf.vf[0].nacks, 0);
	assert_int_equal(shim_warnings_logged, 0);
	/* A jumbo MTU (9000) and the largest frame igbvf allows (9216 + tag): granted. */
	assert_int_equal(lnx_rlpml_set(&lnx, 9000 + 14 + 4 + 4),
			 IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(FIELD_GET(IGB_VMOLR_RLPML, reg(IGB_VMOLR(0))), 9022);
	assert_int_equal(lnx_rlpml_set(&lnx, 9216 + 4), IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(FIELD_GET(IGB_VMOLR_RLPML, reg(IGB_VMOLR(0))), 9220);
}

/* `ip link set dev eth0 address ...`: refused (NACK) unless it is the assigned MAC, so the
 * driver falls back to its permanent address; the refusal is logged with the guest. A
 * unicast filter (macvlan, a second address) is refused: -ENOSPC. */
static void test_set_mac_policy(void **state)
{
	static const u8 chosen[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	u32 r;

	lnx_probe(&lnx, 2);
	assert_int_equal(lnx_rar_set(&lnx, chosen),
			 IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK | IGB_MSG_CTS);
	assert_memory_equal(lnx.addr, lnx.perm_addr, 6);
	assert_non_null(strstr(shim_last_log, "vf2 (guest mallory): set-MAC 02:11:22:33:44:55"));
	assert_non_null(strstr(shim_last_log, "refused: moat assigned it 02:6d:6f:61:74:12"));
	/* another guest's MAC */
	assert_int_equal(lnx_rar_set(&lnx, test_pf.vf[0].default_mac),
			 IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK | IGB_MSG_CTS);
	assert_non_null(strstr(shim_last_log, "it belongs to vf0 of the PF"));
	assert_int_equal(lnx_set_uc_addr(&lnx, IGB_MAC_FILTER_ADD, chosen, &r), -ENOSPC);
	assert_int_equal(r, IGB_VF_SET_MAC_ADDR | FIELD_PREP(IGB_MSG_INFO, IGB_MAC_FILTER_ADD) |
				    IGB_MSG_NACK | IGB_MSG_CTS);
	/* its own: granted */
	assert_int_equal(lnx_rar_set(&lnx, lnx.perm_addr),
			 IGB_VF_SET_MAC_ADDR | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_memory_equal(test_pf.vf[2].mac, test_pf.vf[2].default_mac, 6);
	assert_int_equal(test_pf.vf[2].nacks, 3);
	/* The link stays up: CTS is in every reply. */
	assert_int_equal(lnx_check_for_link(&lnx), 0);
}

/* VLANs: VID 0 added and removed (granted); another VID refused. A refused add is
 * invisible to igbvf (INFO echoed), a refused remove is reported. */
static void test_vlan(void **state)
{
	u32 r;

	lnx_probe(&lnx, 0);
	assert_int_equal(lnx_set_vfta(&lnx, 0, true, &r), 0);
	assert_int_equal(lnx_set_vfta(&lnx, 0, false, &r), 0);
	assert_int_equal(r, IGB_VF_SET_VLAN | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(lnx_set_vfta(&lnx, 100, true, &r), 0);
	assert_int_equal(r, IGB_VF_SET_VLAN | FIELD_PREP(IGB_MSG_INFO, 1) | IGB_MSG_NACK |
				    IGB_MSG_CTS);
	assert_non_null(strstr(shim_last_log, "vf0 (guest web): VLAN 100 add"));
	assert_int_equal(lnx_set_vfta(&lnx, 100, false, &r), LNX_ERR_MAC_INIT);
	assert_int_equal(test_pf.vf[0].nacks, 2);
}

/* Before the reset handshake (the VF reset itself and did not send its reset message) a
 * request is refused without CTS; the link check then sees NACK without CTS and asks for
 * a reset, which brings everything back. */
static void test_before_handshake(void **state)
{
	u32 r;

	lnx_probe(&lnx, 1);
	vf_wr(1, IGB_VF_CTRL, IGB_VF_CTRL_RST);
	lnx.sticky = 0;
	igb_pf_poll_all(); /* the PF sees the function reset */
	assert_false(test_pf.vf[1].clear_to_send);
	assert_int_equal(lnx_rlpml_set(&lnx, 1522), IGB_VF_SET_LPE | IGB_MSG_NACK);
	assert_non_null(
		strstr(shim_last_log, "vf1 (guest db): message 0x5 refused: before the reset"));
	lnx.get_link_status = true;
	assert_int_equal(lnx_check_for_link(&lnx), LNX_ERR_MAC_INIT);
	lnx_igbvf_reset(&lnx);
	assert_int_equal(lnx_set_uc_addr(&lnx, IGB_MAC_FILTER_CLR, NULL, &r), 0);
	assert_int_equal(lnx_check_for_link(&lnx), 0);
}

/* rmmod igbvf; modprobe igbvf, again and again: each probe's handshakes succeed, the
 * previous load's multicast list is gone after the reset, and nothing is refused. */
static void test_reload(void **state)
{
	for (unsigned round = 0; round < 5; round++) {
		lnx_probe(&lnx, 0);
		assert_int_equal(test_pf.vf[0].nr_mc, 0);
		assert_false(reg(IGB_VMOLR(0)) & IGB_VMOLR_ROMPE);
		lnx_open(&lnx);
		assert_int_equal(test_pf.vf[0].nr_mc, 2);
		assert_int_equal(lnx_check_for_link(&lnx), 0);
		lnx_igbvf_reset(&lnx); /* igbvf_down at close */
	}
	assert_int_equal(test_pf.vf[0].nacks, 0);
	assert_int_equal(shim_warnings_logged, 0);
}

/* A VF that raises REQ without writing a message leaves the PF's last reply in word 0
 * (here the reset reply): it is not served again (no reset, no answer). */
static void test_stale_request_ignored(void **state)
{
	lnx_probe(&lnx, 0);
	lnx_open(&lnx);
	assert_int_equal(reg(IGB_VMBMEM(0)), IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
	set_reg(IGB_VMBMEM(0), IGB_VF_RESET | IGB_MSG_ACK);
	vf_wr(0, IGB_VF_MAILBOX, IGB_VF_MAILBOX_REQ);
	lnx.sticky = 0;
	igb_pf_poll_all();
	assert_int_equal(test_pf.vf[0].stale, 1);
	assert_false(vf_rd(0, IGB_VF_MAILBOX) & IGB_VF_MAILBOX_PFSTS); /* no answer */
	assert_int_equal(test_pf.vf[0].nr_mc, 2);		       /* no reset was done */
}

/* A guest that sends refused requests in a loop: IGB_REFUSAL_LOG_BURST warnings a second,
 * the rest counted and announced with the next second's first warning; every request is
 * answered. */
#define REFUSALS 40

static void test_refusals_rate_limited(void **state)
{
	static const u8 chosen[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
	unsigned throttle_warning;
	u64 start;

	lnx_probe(&lnx, 2);
	start = fake_us;
	for (unsigned i = 0; i < REFUSALS; i++)
		assert_int_equal(lnx_rar_set(&lnx, chosen),
				 IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK | IGB_MSG_CTS);
	assert_true(fake_us - start < IGB_REFUSAL_LOG_US);
	assert_int_equal(test_pf.vf[2].nacks, REFUSALS);
	/* (and once, the mailbox rate limit's own warning: 40 requests back to back) */
	throttle_warning = test_pf.vf[2].throttled > 0;
	assert_int_equal(shim_warnings_logged, IGB_REFUSAL_LOG_BURST + throttle_warning);
	fake_us += IGB_REFUSAL_LOG_US;
	lnx_rar_set(&lnx, chosen);
	assert_int_equal(shim_warnings_logged, IGB_REFUSAL_LOG_BURST + throttle_warning + 2);
	assert_non_null(strstr(shim_last_log, "set-MAC 02:11:22:33:44:55 refused"));
	assert_true(shim_log_seen("vf2 (guest mallory): 32 refusals not logged"));
}

/* The PF's view after the VF's function reset: no CTS, the assigned MAC in its receive
 * address entry, no multicast list, its pool's queues off. */
static void assert_vf_forgotten(unsigned vf)
{
	assert_false(test_pf.vf[vf].clear_to_send);
	assert_int_equal(test_pf.vf[vf].nr_mc, 0);
	assert_false(reg(IGB_VMOLR(vf)) & IGB_VMOLR_ROMPE);
	assert_memory_equal(test_pf.vf[vf].mac, test_pf.vf[vf].default_mac, 6);
	assert_false(reg(IGB_VFRE) & BIT(vf));
	for (unsigned w = 0; w < IGB_MTA_WORDS; w++)
		assert_int_equal(reg(IGB_MTA(w)), 0);
}

/* The guest resets its VF (FLR through moat's virtual config space) and reloads the driver,
 * again and again (`echo 1 > .../reset; rmmod igbvf; modprobe igbvf`): each FLR takes CTS
 * and the owner's state away, each probe's handshakes succeed with the same MAC, nothing is
 * refused. */
static void test_flr_and_reload(void **state)
{
	for (unsigned round = 0; round < 20; round++) {
		lnx_probe(&lnx, 1);
		assert_memory_equal(lnx.perm_addr, test_pf.vf[1].default_mac, 6);
		lnx_open(&lnx);
		assert_int_equal(lnx_check_for_link(&lnx), 0);
		assert_true(reg(IGB_VFRE) & BIT(1));
		vf_flr(1);
		igb_pf_poll_all();
		assert_vf_forgotten(1);
	}
	assert_int_equal(test_pf.vf[1].resets, 3 * 20); /* CTRL.RST twice a probe, the FLR */
	assert_int_equal(test_pf.vf[1].nacks, 0);
	assert_int_equal(shim_warnings_logged, 0);
}

/* `echo 1 > .../reset` under a running igbvf (it has no reset_done hook): its next request
 * is refused without CTS, the link check then asks for a reset, and after it everything is
 * granted again. */
static void test_flr_under_running_driver(void **state)
{
	lnx_probe(&lnx, 0);
	lnx_open(&lnx);
	vf_flr(0);
	igb_pf_poll_all();
	assert_vf_forgotten(0);
	assert_int_equal(lnx_update_mc(&lnx, lnx_mc_list, 2),
			 IGB_VF_SET_MULTICAST | FIELD_PREP(IGB_MSG_INFO, 2) | IGB_MSG_NACK);
	lnx.get_link_status = true;
	assert_int_equal(lnx_check_for_link(&lnx), LNX_ERR_MAC_INIT);
	lnx_igbvf_reset(&lnx);
	lnx_open(&lnx);
	assert_int_equal(lnx_check_for_link(&lnx), 0);
	assert_int_equal(test_pf.vf[0].nr_mc, 2);
	assert_true(reg(IGB_VFRE) & BIT(0));
}

/* A guest that resets its VF in a loop (CTRL.RST is in its own BAR): every reset is taken,
 * CPU 0 rewrites the shared multicast table only for the reset that dropped a list, and
 * the log says it IGB_RESET_LOG_BURST times a second. */
#define RESET_STORM 200

static void test_reset_storm(void **state)
{
	lnx_probe(&lnx, 2);
	lnx_open(&lnx);
	mta_writes = 0;
	shim_log_clear();
	for (unsigned i = 0; i < RESET_STORM; i++) {
		vf_wr(2, IGB_VF_CTRL, IGB_VF_CTRL_RST);
		igb_pf_poll_all();
	}
	assert_int_equal(test_pf.vf[2].resets, 2 + RESET_STORM); /* the probe's two */
	assert_int_equal(mta_writes, IGB_MTA_WORDS); /* once: the list went with the first */
	assert_vf_forgotten(2);
	assert_true(test_pf.vf[2].reset_log.used <= IGB_RESET_LOG_BURST);
	assert_true(test_pf.vf[2].reset_log.suppressed >= RESET_STORM - IGB_RESET_LOG_BURST);
	assert_true(shim_log_seen("vf2 (guest mallory): function reset seen"));
	/* The other VFs are served meanwhile. */
	lnx_probe(&lnx, 0);
	assert_int_equal(test_pf.vf[0].nacks, 0);
}

/* A VF without CTS that reads its buffer and ACKs is sent NACK (Linux's igb_rcv_ack_from_vf),
 * at most every 2 s; a VF with CTS is not; a request the VF completed meanwhile is served,
 * not overwritten. */
static void test_ack_without_cts_nacked(void **state)
{
	u32 w;

	lnx_probe(&lnx, 1);
	lnx_read(&lnx, &w, 1); /* the link check's read: ACK with CTS */
	igb_pf_poll_all();
	assert_int_equal(test_pf.vf[1].nocts_nacks, 0);
	vf_flr(1);
	igb_pf_poll_all();
	lnx_read(&lnx, &w, 1);
	assert_true(w & IGB_MSG_CTS); /* the reply before the reset */
	lnx.sticky = 0;
	igb_pf_poll_all();
	assert_int_equal(test_pf.vf[1].nocts_nacks, 0); /* within 2 s of its reset: none */
	fake_us += IGB_NOCTS_NACK_US;
	vf_wr(1, IGB_VF_MAILBOX, IGB_VF_MAILBOX_ACK);
	igb_pf_poll_all();
	assert_int_equal(test_pf.vf[1].nocts_nacks, 1);
	assert_true(vf_rd(1, IGB_VF_MAILBOX) & IGB_VF_MAILBOX_PFSTS);
	lnx_read(&lnx, &w, 1);
	assert_int_equal(w, IGB_MSG_NACK); /* the next link check asks for a reset */
	igb_pf_poll_all();
	assert_int_equal(test_pf.vf[1].nocts_nacks, 1); /* within 2 s: none */
	fake_us += IGB_NOCTS_NACK_US;
	/* ACK and a request in the same round: the request is answered (NACK, no CTS), the
	 * reply not overwritten by an unsolicited NACK, nor is the reply to its ACK. */
	vf_wr(1, IGB_VF_MAILBOX, IGB_VF_MAILBOX_ACK);
	lnx.timeout = LNX_MBX_TIMEOUT;
	assert_int_equal(lnx_rlpml_set(&lnx, 1522), IGB_VF_SET_LPE | IGB_MSG_NACK);
	igb_pf_poll_all();
	assert_int_equal(reg(IGB_VMBMEM(1)), IGB_VF_SET_LPE | IGB_MSG_NACK);
	assert_int_equal(test_pf.vf[1].nocts_nacks, 1);
	/* A request that lands after the PF looked at MBVFICR and before it took the buffer
	 * for the NACK: left alone, served in the next round. */
	fake_us += IGB_NOCTS_NACK_US;
	vf_wr(1, IGB_VF_MAILBOX, IGB_VF_MAILBOX_ACK);
	request_before_pfu = 1;
	igb_pf_poll_all();
	assert_int_equal(request_before_pfu, -1);
	assert_int_equal(test_pf.vf[1].nocts_nacks, 1);
	assert_int_equal(reg(IGB_VMBMEM(1)), IGB_VF_SET_LPE);
	igb_pf_poll_all();
	assert_int_equal(reg(IGB_VMBMEM(1)), IGB_VF_SET_LPE | IGB_MSG_NACK);
	/* After the handshake its ACKs draw nothing. */
	lnx_igbvf_reset(&lnx);
	fake_us += IGB_NOCTS_NACK_US;
	lnx_read(&lnx, &w, 1);
	igb_pf_poll_all();
	assert_int_equal(test_pf.vf[1].nocts_nacks, 1);
	assert_true(w & IGB_MSG_CTS);
}

/* The 82576's receive size checks (datasheet 8.10.1 RCTL.LPE, 8.10.x RLPML, VMOLR; as
 * QEMU's igb_receive_assign applies them): the device's RCTL.LPE and RLPML first, then the
 * pool's VMOLR.LPE and RLPML. `size` is an untagged frame without its FCS. */
static bool device_takes(unsigned pool, u32 size)
{
	u32 vmolr = reg(IGB_VMOLR(pool));
	bool device = reg(IGB_RCTL) & IGB_RCTL_LPE
			      ? size + 4 <= FIELD_GET(IGB_RLPML_SIZE, reg(IGB_RLPML))
			      : size <= 1514;
	bool in_pool = vmolr & IGB_VMOLR_LPE ? size + 4 <= FIELD_GET(IGB_VMOLR_RLPML, vmolr)
					     : size <= 1514;

	return device && in_pool;
}

/* `ip link set dev eth0 mtu 9000` (igbvf_change_mtu: igbvf_down, which resets the VF, then
 * igbvf_up, whose configure asks for MTU + 22): granted, and with the receive control the
 * PF's bring-up writes (igb_rx_enable) a 9014-byte frame reaches that VF's pool, while a
 * pool that never asked (a moat guest's driver, 2 KiB buffers) still takes 1514 bytes at
 * most; back at MTU 1500 the VF's pool takes no jumbo frame again. */
static void test_jumbo_mtu(void **state)
{
	struct lnx_vf other;

	igb_rx_enable(&test_pf);
	assert_true(reg(IGB_RCTL) & IGB_RCTL_EN);
	assert_true(reg(IGB_RCTL) & IGB_RCTL_BAM);
	lnx_probe(&other, 1);
	lnx_probe(&lnx, 0);
	lnx_open(&lnx);
	assert_true(device_takes(0, 1514));
	assert_false(device_takes(0, 9014));
	fake_us += 1000000; /* the next command, a second later */
	lnx_igbvf_reset(&lnx);
	assert_false(device_takes(0, 9014));
	assert_int_equal(lnx_rlpml_set(&lnx, 9000 + 14 + 4 + 4),
			 IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_true(device_takes(0, 9014));
	assert_false(device_takes(0, 9019)); /* 9022 counts a VLAN tag and the FCS */
	assert_true(device_takes(1, 1514));
	assert_false(device_takes(1, 1515));
	fake_us += 1000000; /* the next command, a second later */
	lnx_igbvf_reset(&lnx);
	lnx_open(&lnx);
	assert_true(device_takes(0, 1514));
	assert_false(device_takes(0, 9014));
	assert_int_equal(test_pf.vf[0].nacks, 0);
	assert_int_equal(shim_warnings_logged, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_probe, setup),
		cmocka_unit_test_setup(test_open_and_link, setup),
		cmocka_unit_test_setup(test_set_mac_policy, setup),
		cmocka_unit_test_setup(test_vlan, setup),
		cmocka_unit_test_setup(test_before_handshake, setup),
		cmocka_unit_test_setup(test_reload, setup),
		cmocka_unit_test_setup(test_stale_request_ignored, setup),
		cmocka_unit_test_setup(test_refusals_rate_limited, setup),
		cmocka_unit_test_setup(test_flr_and_reload, setup),
		cmocka_unit_test_setup(test_flr_under_running_driver, setup),
		cmocka_unit_test_setup(test_reset_storm, setup),
		cmocka_unit_test_setup(test_ack_without_cts_nacked, setup),
		cmocka_unit_test_setup(test_jumbo_mtu, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
