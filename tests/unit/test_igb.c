/* The 82576 PF side of the VF mailbox (pci/pf/igb_mbx.c), the receive address table /
 * pool programming (pci/pf/igb_pool.c) and transmit anti-spoofing (pci/pf/igb_spoof.c), on a
 * register file in host memory: requests are placed in a VF's mailbox memory as the device would,
 * the PF is polled, and the reply and the registers it programmed are checked. */
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

/* ---- what the driver files need from the rest of moat ---- */
u64 time_us(void)
{
	return fake_us += 10;
}

/* A second NIC (NIC A, 02:00.0) for the tests of MAC uniqueness across NICs; test_pf is
 * NIC B. Its registers are a file of their own, where nothing happens. */
static struct igb_pf nic_a;
static struct pci_dev nic_a_dev = {.bus = 2}, nic_b_dev = {.bus = 1};
static u32 nic_a_regs[0x10000 / 4] __aligned(4096);
static unsigned nr_pfs = 1;

unsigned igb_pf_count(void)
{
	return nr_pfs;
}

struct igb_pf *igb_pf_at(unsigned idx)
{
	return idx == 0 ? &test_pf : idx == 1 ? &nic_a : NULL;
}

/* test_pf's VFs, each given to a guest (the refusals' log names it). */
static struct pci_dev vf_devs[IGB_MAX_VFS];
static const char *const guest_names[] = {"alpha", "beta", "mallory"};

struct pci_dev *pci_sriov_vf(const struct pci_dev *pf, unsigned idx)
{
	return pf == &nic_b_dev && idx < test_pf.num_vfs ? &vf_devs[idx] : NULL;
}

/* The register file, with the mailbox's buffer ownership (82576 datasheet 7.8.2.4): the
 * PF's PFU bit sticks only while the VF does not hold the buffer (VFU); VFLRE is write 1 to
 * clear. */
static bool vf_holds_buffer[IGB_MAX_VFS];

/* VF that resets itself (CTRL.RST: its VFLRE bit) and writes a reset request right after
 * the PF has read VFLRE: -1 none. */
static int vf_resets_after_vflre_read = -1;

u32 igb_model_read32(u64 a)
{
	u32 v = *(volatile u32 *)(uintptr_t)a, off = (u32)(a - (u64)(uintptr_t)regfile);

	if (off == IGB_VFLRE && vf_resets_after_vflre_read >= 0) {
		unsigned vf = (unsigned)vf_resets_after_vflre_read;

		vf_resets_after_vflre_read = -1;
		regfile[IGB_VFLRE / 4] |= (u32)BIT(vf);
		regfile[IGB_VMBMEM(vf) / 4] = IGB_VF_RESET;
		regfile[IGB_MBVFICR / 4] |= (u32)FIELD_PREP(IGB_MBVFICR_VFREQ, BIT(vf));
	}
	return v;
}

void igb_model_write32(u64 a, u32 v)
{
	u32 off = (u32)(a - (u64)(uintptr_t)regfile);

	if (off >= IGB_P2VMAILBOX(0) && off < IGB_P2VMAILBOX(IGB_MAX_VFS) &&
	    vf_holds_buffer[(off - IGB_P2VMAILBOX(0)) / 4])
		v &= ~(u32)IGB_P2VMAILBOX_PFU;
	if (off == IGB_VFLRE) /* write 1 to clear */
		v = *(volatile u32 *)(uintptr_t)a & ~v;
	*(volatile u32 *)(uintptr_t)a = v;
}

static u32 reg(u32 off)
{
	return regfile[off / 4];
}

static void set_reg(u32 off, u32 v)
{
	regfile[off / 4] = v;
}

static const u8 pf_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

static int setup(void **state)
{
	memset(regfile, 0, sizeof(regfile));
	memset(&test_pf, 0, sizeof(test_pf));
	memset(vf_holds_buffer, 0, sizeof(vf_holds_buffer));
	vf_resets_after_vflre_read = -1;
	test_pf.regs = (u64)(uintptr_t)regfile;
	test_pf.pdev = &nic_b_dev;
	nr_pfs = 1;
	test_pf.num_vfs = 3;
	test_pf.pf_pool = 3;
	memcpy(test_pf.mac, pf_mac, 6);
	for (unsigned vf = 0; vf < 3; vf++) {
		static const u8 base[6] = {0x52, 0x54, 0x00, 0x12, 0x56, 0x10};

		memcpy(test_pf.vf[vf].default_mac, base, 6);
		test_pf.vf[vf].default_mac[5] = (u8)(0x10 + vf);
		memcpy(test_pf.vf[vf].mac, test_pf.vf[vf].default_mac, 6);
	}
	for (unsigned vf = 0; vf < 3; vf++)
		vf_devs[vf].owner = (struct pci_owner){PCI_OWNER_GUEST, (int)vf, guest_names[vf]};
	shim_warnings_logged = 0;
	return 0;
}

/* What the device does when VF `vf` writes a message and sets VFMAILBOX.REQ. */
static void vf_sends(unsigned vf, const u32 *msg, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		set_reg(IGB_VMBMEM(vf) + 4 * i, msg[i]);
	set_reg(IGB_MBVFICR, (u32)FIELD_PREP(IGB_MBVFICR_VFREQ, BIT(vf)));
	set_reg(IGB_P2VMAILBOX(vf), 0);
}

static u32 exchange(unsigned vf, const u32 *msg, unsigned n)
{
	vf_sends(vf, msg, n);
	assert_int_equal(igb_pf_poll_all(), 1);
	/* The reply went out with STS (which also released the PF's hold on the buffer). */
	assert_int_equal(reg(IGB_P2VMAILBOX(vf)), IGB_P2VMAILBOX_STS);
	set_reg(IGB_MBVFICR, 0);
	return reg(IGB_VMBMEM(vf));
}

static void mac_words(const u8 *m, u32 *w)
{
	w[0] = (u32)m[0] | (u32)m[1] << 8 | (u32)m[2] << 16 | (u32)m[3] << 24;
	w[1] = (u32)m[4] | (u32)m[5] << 8;
}

static u32 reset_vf(unsigned vf)
{
	u32 msg = IGB_VF_RESET;

	return exchange(vf, &msg, 1);
}

static void test_reset_answers_mac(void **state)
{
	u32 w[2];

	assert_false(test_pf.vf[1].clear_to_send);
	assert_int_equal(reset_vf(1), IGB_VF_RESET | IGB_MSG_ACK);
	mac_words(test_pf.vf[1].mac, w);
	assert_int_equal(reg(IGB_VMBMEM(1) + 4), w[0]);
	assert_int_equal(reg(IGB_VMBMEM(1) + 8), w[1]);
	assert_true(test_pf.vf[1].clear_to_send);
	/* Its address is in the table for its pool, its queues are enabled. */
	assert_int_equal(reg(IGB_RAL(igb_vf_rar(1))), w[0]);
	assert_int_equal(reg(IGB_RAH(igb_vf_rar(1))),
			 w[1] | IGB_RAH_AV | FIELD_PREP(IGB_RAH_POOL, BIT(1)));
	assert_int_equal(reg(IGB_VFRE), BIT(1));
	assert_int_equal(reg(IGB_VFTE), BIT(1));
	assert_true(reg(IGB_VMOLR(1)) & IGB_VMOLR_BAM);
	/* Other VFs untouched. */
	assert_int_equal(reg(IGB_RAH(igb_vf_rar(0))), 0);
}

static void test_requests_before_reset_refused(void **state)
{
	u8 fresh[6] = {0x02, 1, 2, 3, 4, 5};
	u32 msg[3] = {IGB_VF_SET_MAC_ADDR};
	u32 r;

	mac_words(fresh, &msg[1]);
	r = exchange(0, msg, 3);
	assert_true(r & IGB_MSG_NACK);
	assert_false(r & (IGB_MSG_ACK | IGB_MSG_CTS));
	assert_int_equal(test_pf.vf[0].mac[5], 0x10);
	assert_int_equal(reg(IGB_RAH(igb_vf_rar(0))), 0);
	assert_int_equal(shim_warnings_logged, 1);
}

static void expect_set_mac(unsigned vf, const u8 *mac, bool accepted)
{
	u32 msg[3] = {IGB_VF_SET_MAC_ADDR};
	u32 cts = test_pf.vf[vf].clear_to_send ? IGB_MSG_CTS : 0;
	u32 r;

	mac_words(mac, &msg[1]);
	r = exchange(vf, msg, 3);
	if (accepted) {
		assert_int_equal(r, IGB_VF_SET_MAC_ADDR | IGB_MSG_ACK | IGB_MSG_CTS);
		assert_memory_equal(test_pf.vf[vf].mac, mac, 6);
	} else {
		assert_int_equal(r, IGB_VF_SET_MAC_ADDR | IGB_MSG_NACK | cts);
		assert_memory_equal(test_pf.vf[vf].mac, test_pf.vf[vf].default_mac, 6);
	}
}

/* moat assigned each VF its MAC: the VF may set that one and no other (as Linux's PF
 * with an administrator-set MAC); each refusal is logged with the guest's name. */
static void test_set_mac_validated(void **state)
{
	u8 other[6], own[6], fresh[6] = {0x02, 0x6d, 0x6f, 0x61, 0x74, 0x01};
	u8 multicast[6] = {0x01, 0x00, 0x5e, 0, 0, 1}, zero[6] = {0};
	u32 w[2];

	reset_vf(2);
	memcpy(own, test_pf.vf[2].mac, 6);
	memcpy(other, test_pf.vf[0].mac, 6);
	expect_set_mac(2, other, false); /* another VF's */
	assert_non_null(strstr(shim_last_log, "vf2 (guest mallory): set-MAC 52:54:00:12:56:10"));
	assert_non_null(strstr(shim_last_log, "it belongs to vf0 of the PF"));
	expect_set_mac(2, pf_mac, false); /* the PF's */
	expect_set_mac(2, multicast, false);
	expect_set_mac(2, zero, false);
	fake_us += IGB_REFUSAL_LOG_US;	 /* four warnings a second */
	expect_set_mac(2, fresh, false); /* nobody's, but not the one moat assigned */
	assert_non_null(strstr(shim_last_log, "moat assigned it 52:54:00:12:56:12"));
	assert_int_equal(test_pf.vf[2].nacks, 5);
	assert_memory_equal(test_pf.vf[2].mac, own, 6);
	mac_words(own, w);
	assert_int_equal(reg(IGB_RAL(igb_vf_rar(2))), w[0]);
	assert_int_equal(reg(IGB_RAH(igb_vf_rar(2))),
			 w[1] | IGB_RAH_AV | FIELD_PREP(IGB_RAH_POOL, BIT(2)));
	/* Its own address is granted (Linux's igbvf sets it after every reset). */
	expect_set_mac(2, own, true);
}

/* With two NICs a guest on NIC B asks for the MACs of NIC A's functions: its PF's, a VF's
 * current one, a VF's assigned one while that VF uses another (reserved for it), and the
 * one that VF chose. Each is refused (NACK) naming the other NIC: anti-spoofing on NIC B
 * would otherwise let the guest send as NIC A's function. A MAC nobody holds is taken. */
static void test_set_mac_unique_across_nics(void **state)
{
	static const u8 a_pf[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
	static const u8 a_chosen[6] = {0x02, 0x6d, 0x6f, 0x61, 0x74, 0x0a};
	static const u8 fresh[6] = {0x02, 0x6d, 0x6f, 0x61, 0x74, 0x0b};

	memset(&nic_a, 0, sizeof(nic_a));
	memset(nic_a_regs, 0, sizeof(nic_a_regs));
	nic_a.regs = (u64)(uintptr_t)nic_a_regs;
	nic_a.pdev = &nic_a_dev;
	nic_a.num_vfs = 3;
	nic_a.pf_pool = 3;
	memcpy(nic_a.mac, a_pf, 6);
	for (unsigned vf = 0; vf < 3; vf++) {
		static const u8 base[6] = {0x52, 0x54, 0x00, 0x12, 0x57, 0x10};

		memcpy(nic_a.vf[vf].default_mac, base, 6);
		nic_a.vf[vf].default_mac[5] = (u8)(0x10 + vf);
		memcpy(nic_a.vf[vf].mac, nic_a.vf[vf].default_mac, 6);
	}
	memcpy(nic_a.vf[1].mac, a_chosen, 6);
	nr_pfs = 2;

	reset_vf(2);
	expect_set_mac(2, a_pf, false);
	assert_non_null(strstr(shim_last_log, "the PF 0000:02:00.0 (another NIC)"));
	expect_set_mac(2, nic_a.vf[0].mac, false);
	assert_non_null(strstr(shim_last_log, "vf0 of the PF 0000:02:00.0 (another NIC)"));
	expect_set_mac(2, nic_a.vf[1].default_mac, false);
	expect_set_mac(2, a_chosen, false);
	assert_non_null(strstr(shim_last_log, "vf1 of the PF 0000:02:00.0"));
	assert_int_equal(test_pf.vf[2].nacks, 4);
	/* this NIC's own functions are still named as such */
	fake_us += IGB_REFUSAL_LOG_US; /* four warnings a second */
	expect_set_mac(2, test_pf.vf[0].mac, false);
	assert_non_null(strstr(shim_last_log, "vf0 of the PF 0000:01:00.0 (this NIC)"));
	expect_set_mac(2, fresh, false);
	nr_pfs = 1;
}

/* VLAN 0 is granted (added or removed), any other VLAN refused; the reply echoes INFO. */
static void test_vlan_promisc_unknown_refused(void **state)
{
	u32 add = IGB_VF_SET_VLAN | FIELD_PREP(IGB_MSG_INFO, IGB_MSG_VLAN_ADD);
	u32 msg[2] = {add, 5};

	reset_vf(0);
	assert_int_equal(exchange(0, msg, 2), add | IGB_MSG_NACK | IGB_MSG_CTS);
	assert_non_null(strstr(shim_last_log, "vf0 (guest alpha): VLAN 5 add"));
	msg[0] = IGB_VF_SET_VLAN;
	assert_int_equal(exchange(0, msg, 2), IGB_VF_SET_VLAN | IGB_MSG_NACK | IGB_MSG_CTS);
	msg[1] = 0;
	assert_int_equal(exchange(0, msg, 2), IGB_VF_SET_VLAN | IGB_MSG_ACK | IGB_MSG_CTS);
	msg[0] = add;
	assert_int_equal(exchange(0, msg, 2), add | IGB_MSG_ACK | IGB_MSG_CTS);
	msg[0] = IGB_VF_SET_PROMISC;
	assert_true(exchange(0, msg, 1) & IGB_MSG_NACK);
	msg[0] = 0x77;
	assert_true(exchange(0, msg, 1) & IGB_MSG_NACK);
	assert_int_equal(test_pf.vf[0].nacks, 4);
}

static void test_multicast_and_lpe(void **state)
{
	u32 msg[16] = {IGB_VF_SET_MULTICAST | FIELD_PREP(IGB_MSG_INFO, 2), 0x0abc | 0x0123u << 16};
	u32 lpe[2] = {IGB_VF_SET_LPE, 1522};

	reset_vf(1);
	assert_int_equal(exchange(1, msg, 2) & (IGB_MSG_ACK | IGB_MSG_NACK), IGB_MSG_ACK);
	assert_true(reg(IGB_MTA(0xabc >> 5)) & BIT(0xabc & 0x1f));
	assert_true(reg(IGB_MTA(0x123 >> 5)) & BIT(0x123 & 0x1f));
	assert_true(reg(IGB_VMOLR(1)) & IGB_VMOLR_ROMPE);
	msg[0] = IGB_VF_SET_MULTICAST | FIELD_PREP(IGB_MSG_INFO, 31); /* more than fits */
	assert_true(exchange(1, msg, 16) & IGB_MSG_NACK);
	assert_int_equal(exchange(1, lpe, 2) & (IGB_MSG_ACK | IGB_MSG_NACK), IGB_MSG_ACK);
	assert_int_equal(FIELD_GET(IGB_VMOLR_RLPML, reg(IGB_VMOLR(1))), 1522);
	assert_true(reg(IGB_VMOLR(1)) & IGB_VMOLR_LPE);
	/* Longer than the device's longest frame: cut to it and granted, as Linux's PF. */
	lpe[1] = 20000;
	assert_int_equal(exchange(1, lpe, 2), IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(FIELD_GET(IGB_VMOLR_RLPML, reg(IGB_VMOLR(1))), IGB_MAX_FRAME);
	lpe[1] = 20;
	assert_int_equal(exchange(1, lpe, 2), IGB_VF_SET_LPE | IGB_MSG_NACK | IGB_MSG_CTS);
	assert_int_equal(FIELD_GET(IGB_VMOLR_RLPML, reg(IGB_VMOLR(1))), IGB_MAX_FRAME);
}

/* A VF function reset (VFLRE) takes its clearance away until it does the reset handshake
 * again; the event is acknowledged by writing its bit back. */
static void test_vflr(void **state)
{
	u8 own[6];

	reset_vf(0);
	memcpy(own, test_pf.vf[0].default_mac, 6);
	set_reg(IGB_VFLRE, BIT(0));
	assert_int_equal(igb_pf_poll_all(), 1);
	assert_false(test_pf.vf[0].clear_to_send);
	assert_int_equal(reg(IGB_VFLRE), 0); /* acknowledged: written back (write-1-to-clear) */
	set_reg(IGB_VFLRE, 0);
	expect_set_mac(0, own, false);
	reset_vf(0);
	expect_set_mac(0, own, true);
}

static bool mta_bit(unsigned h)
{
	return reg(IGB_MTA(h >> 5)) & BIT(h & 0x1f);
}

/* What a VF's owner set through the mailbox (its multicast hashes) is forgotten when the
 * function is reset (moat resets it when it takes the VF back): nobody keeps receiving the
 * old owner's groups, and the VF's own MAC is in its entry. Another VF's hashes stay. */
static void test_vflr_forgets_owner_state(void **state)
{
	u32 mc1[2] = {IGB_VF_SET_MULTICAST | FIELD_PREP(IGB_MSG_INFO, 2), 0x0abc | 0x0123u << 16};
	u32 mc0[2] = {IGB_VF_SET_MULTICAST | FIELD_PREP(IGB_MSG_INFO, 1), 0x0123};
	u32 w[2];

	reset_vf(0);
	reset_vf(1);
	assert_true(exchange(1, mc1, 2) & IGB_MSG_ACK);
	assert_true(exchange(0, mc0, 2) & IGB_MSG_ACK);
	assert_true(mta_bit(0xabc) && mta_bit(0x123));
	assert_true(reg(IGB_VMOLR(1)) & IGB_VMOLR_ROMPE);
	set_reg(IGB_VFLRE, BIT(1));
	assert_int_equal(igb_pf_poll_all(), 1);
	set_reg(IGB_VFLRE, 0);
	assert_memory_equal(test_pf.vf[1].mac, test_pf.vf[1].default_mac, 6);
	mac_words(test_pf.vf[1].default_mac, w);
	assert_int_equal(reg(IGB_RAL(igb_vf_rar(1))), w[0]);
	assert_int_equal(reg(IGB_RAH(igb_vf_rar(1))),
			 w[1] | IGB_RAH_AV | FIELD_PREP(IGB_RAH_POOL, BIT(1)));
	assert_false(mta_bit(0xabc));
	assert_true(mta_bit(0x123)); /* VF 0's */
	assert_false(reg(IGB_VMOLR(1)) & IGB_VMOLR_ROMPE);
	reset_vf(1);
	mac_words(test_pf.vf[1].default_mac, w);
	assert_int_equal(reg(IGB_VMBMEM(1) + 4), w[0]);
	/* A multicast request replaces the VF's list (as the message carries all of it). */
	mc0[1] = 0x0200;
	assert_true(exchange(0, mc0, 2) & IGB_MSG_ACK);
	assert_false(mta_bit(0x123));
	assert_true(mta_bit(0x200));
}

static void test_vf_beyond_num_vfs_ignored(void **state)
{
	u32 msg = IGB_VF_RESET;

	vf_sends(5, &msg, 1); /* VF 5 is not enabled */
	assert_int_equal(igb_pf_poll_all(), 0);
	assert_int_equal(reg(IGB_P2VMAILBOX(5)), 0);
}

/* A storm from one VF: IGB_MBX_BUDGET messages per window are served, the next one waits
 * (its request stays pending) until the window ends; another VF is served meanwhile. */
static void test_mailbox_rate_limited(void **state)
{
	u32 msg[2] = {IGB_VF_SET_LPE, 1518};

	assert_int_equal(reset_vf(0), IGB_VF_RESET | IGB_MSG_ACK);
	for (unsigned i = 1; i < IGB_MBX_BUDGET; i++)
		assert_int_equal(exchange(0, msg, 2) & IGB_MSG_ACK, IGB_MSG_ACK);
	vf_sends(0, msg, 2);
	assert_int_equal(igb_pf_poll_all(), 0);
	assert_int_equal(reg(IGB_P2VMAILBOX(0)), 0); /* not answered */
	assert_true(reg(IGB_MBVFICR) & BIT(0));	     /* still pending */
	assert_int_equal(test_pf.vf[0].throttled, 1);
	assert_int_equal(shim_warnings_logged, 1);
	/* QEMU clears MBVFICR when read: the PF must remember the waiting request. Another
	 * VF is not held up meanwhile. */
	set_reg(IGB_MBVFICR, 0);
	assert_int_equal(reset_vf(1), IGB_VF_RESET | IGB_MSG_ACK);
	/* The next window serves VF 0's waiting request. */
	fake_us += IGB_MBX_WINDOW_US;
	assert_int_equal(igb_pf_poll_all(), 1);
	assert_int_equal(reg(IGB_VMBMEM(0)), IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
	assert_int_equal(test_pf.vf[0].throttled, 1);
}

/* A VF that holds its mailbox buffer (VFU) makes each of its requests cost CPU 0 a bounded
 * wait for the buffer: that wait is charged against the VF's budget, so a VF sending at
 * one request per millisecond costs CPU 0 at most one lock timeout per window (5%), not
 * one per request within the budget (40%). Another VF is served meanwhile, and the VF is
 * served again once it lets go of the buffer. */
#define HOLD_WINDOWS 10

static void test_mailbox_hold_charged(void **state)
{
	u32 msg[2] = {IGB_VF_SET_LPE, 1518};
	u64 start, spent = 0;

	assert_int_equal(reset_vf(0), IGB_VF_RESET | IGB_MSG_ACK);
	vf_holds_buffer[0] = true;
	start = fake_us;
	while (fake_us - start < HOLD_WINDOWS * IGB_MBX_WINDOW_US) {
		u64 t0;

		vf_sends(0, msg, 2);
		t0 = fake_us;
		igb_pf_poll_all();
		spent += fake_us - t0;
		fake_us += 1000; /* the VF's next request a millisecond later */
	}
	/* at most one 1 ms lock timeout per window, plus the poll's own register accesses */
	assert_true(spent <= (HOLD_WINDOWS + 1) * (IGB_MBX_LOCK_TIMEOUT_US + 100));
	set_reg(IGB_MBVFICR, 0);
	assert_int_equal(reset_vf(1), IGB_VF_RESET | IGB_MSG_ACK);
	vf_holds_buffer[0] = false;
	fake_us += IGB_MBX_WINDOW_US;
	assert_int_equal(exchange(0, msg, 2), IGB_VF_SET_LPE | IGB_MSG_ACK | IGB_MSG_CTS);
}

/* A request held back by the rate limit is served in a later window; if the VF reset
 * itself meanwhile and wrote its reset request after the PF looked at VFLRE, the message
 * served is that reset request: its function reset must be taken first (forgetting the
 * old state), never after, which would undo the handshake just done and refuse the VF's
 * next request ("before the reset handshake"). */
static void test_reset_after_held_request(void **state)
{
	u32 msg[2] = {IGB_VF_SET_LPE, 1518};

	assert_int_equal(reset_vf(0), IGB_VF_RESET | IGB_MSG_ACK);
	for (unsigned i = 1; i < IGB_MBX_BUDGET; i++)
		exchange(0, msg, 2);
	vf_sends(0, msg, 2);
	assert_int_equal(igb_pf_poll_all(), 0); /* held back */
	set_reg(IGB_MBVFICR, 0);		/* QEMU clears it on read */
	fake_us += IGB_MBX_WINDOW_US;
	vf_resets_after_vflre_read = 0;
	igb_pf_poll_all();
	assert_int_equal(reg(IGB_VMBMEM(0)), IGB_VF_RESET | IGB_MSG_ACK);
	assert_true(test_pf.vf[0].clear_to_send);
	set_reg(IGB_MBVFICR, 0);
	igb_pf_poll_all();
	assert_true(test_pf.vf[0].clear_to_send); /* no late reset undid the handshake */
	expect_set_mac(0, test_pf.vf[0].default_mac, true);
}

/* Transmit anti-spoofing is on for every VF pool (MAC and VLAN), off for the PF's own pool,
 * and the loopback switch stays on. */
static void test_anti_spoof_vf_pools(void **state)
{
	set_reg(IGB_DTXSWC, IGB_DTXSWC_LOOPBACK_EN);
	igb_enable_anti_spoof(&test_pf);
	assert_int_equal(reg(IGB_DTXSWC), IGB_DTXSWC_LOOPBACK_EN | 0x0707);
	/* Seven VFs: pools 0-6 checked, the PF's pool 7 free. */
	test_pf.num_vfs = 7;
	test_pf.pf_pool = 7;
	set_reg(IGB_DTXSWC, IGB_DTXSWC_LOOPBACK_EN);
	igb_enable_anti_spoof(&test_pf);
	assert_int_equal(FIELD_GET(IGB_DTXSWC_MAC_SPOOF, reg(IGB_DTXSWC)), 0x7f);
	assert_int_equal(FIELD_GET(IGB_DTXSWC_VLAN_SPOOF, reg(IGB_DTXSWC)), 0x7f);
	/* No VFs: nothing checked. */
	test_pf.num_vfs = 0;
	test_pf.pf_pool = 0;
	set_reg(IGB_DTXSWC, IGB_DTXSWC_LOOPBACK_EN);
	igb_enable_anti_spoof(&test_pf);
	assert_int_equal(reg(IGB_DTXSWC), IGB_DTXSWC_LOOPBACK_EN);
}

/* A WVBR bit names the pool (bit % 8) whose frame the device dropped, for either of the
 * pool's queues: the drop is counted for that VF, warned about at most once a second per
 * VF; a bit of a pool no VF uses is not counted. (The device clears WVBR when read; the
 * register file here is cleared by hand.) */
static void test_wvbr_attributed(void **state)
{
	set_reg(IGB_WVBR, BIT(2) | BIT(1 + 8));
	assert_int_equal(igb_pf_poll_all(), 2);
	assert_int_equal(igb_vf_spoofed(&test_pf, 0), 0);
	assert_int_equal(igb_vf_spoofed(&test_pf, 1), 1);
	assert_int_equal(igb_vf_spoofed(&test_pf, 2), 1);
	assert_int_equal(shim_warnings_logged, 2);
	set_reg(IGB_WVBR, BIT(2));
	assert_int_equal(igb_pf_poll_all(), 1);
	assert_int_equal(igb_vf_spoofed(&test_pf, 2), 2);
	assert_int_equal(shim_warnings_logged, 2); /* within the second: not warned again */
	fake_us += 1000000;
	assert_int_equal(igb_pf_poll_all(), 1);
	assert_int_equal(igb_vf_spoofed(&test_pf, 2), 3);
	assert_int_equal(shim_warnings_logged, 3);
	set_reg(IGB_WVBR, BIT(5)); /* pool 5: no VF (3 enabled) */
	assert_int_equal(igb_pf_poll_all(), 0);
	assert_int_equal(igb_vf_spoofed(&test_pf, 5), 0);
	assert_int_equal(igb_vf_spoofed(&test_pf, 2), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_reset_answers_mac, setup),
		cmocka_unit_test_setup(test_requests_before_reset_refused, setup),
		cmocka_unit_test_setup(test_set_mac_validated, setup),
		cmocka_unit_test_setup(test_set_mac_unique_across_nics, setup),
		cmocka_unit_test_setup(test_vlan_promisc_unknown_refused, setup),
		cmocka_unit_test_setup(test_multicast_and_lpe, setup),
		cmocka_unit_test_setup(test_vflr, setup),
		cmocka_unit_test_setup(test_vflr_forgets_owner_state, setup),
		cmocka_unit_test_setup(test_vf_beyond_num_vfs_ignored, setup),
		cmocka_unit_test_setup(test_mailbox_rate_limited, setup),
		cmocka_unit_test_setup(test_mailbox_hold_charged, setup),
		cmocka_unit_test_setup(test_reset_after_held_request, setup),
		cmocka_unit_test_setup(test_anti_spoof_vf_pools, setup),
		cmocka_unit_test_setup(test_wvbr_attributed, setup),
	};

	return cmocka_run_group_tests_name("igb", tests, NULL, NULL);
}
