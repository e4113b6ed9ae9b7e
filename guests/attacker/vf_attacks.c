/* Attacks through the attacker's own VF: DMA to addresses outside its RAM (where the
 * hypervisor and the other guests live on the host) and another function's MAC through the
 * PF's mailbox. The device may do what it likes with its own descriptors; moat's IOMMU
 * domain for this guest holds only its RAM, so every such DMA faults (the hypervisor's
 * "assign: attacker-dma-fault" checks the faults were attributed to this guest), and the PF
 * driver refuses the MAC. The frames carry whatever the device read (zeros for a blocked
 * read) and a destination of zeros: no pool takes them. */
#include <moat/errno.h>
#include "guests/attacker/attacker.h"
#include "guests/lib/vf_dev.h"

static u8 vf_mem[IGBVF_MEM_SIZE] __aligned(IGBVF_MEM_ALIGN);
static struct igbvf drv;
static bool vf_up;

static bool vf_open(void)
{
	int err = vf_dev_enable();

	if (!err)
		err = igbvf_init(&drv, &vf_dev_ops, NULL, vf_mem);
	if (!err)
		err = igbvf_reset(&drv);
	if (!err)
		err = igbvf_up(&drv);
	if (err)
		guest_printf("# VF not up (%d): %s\n", err, drv.last_error);
	vf_up = !err;
	return vf_up;
}

/* One 60-byte frame whose buffer the device must fetch from bus address `iova`, queued
 * by hand (the driver would only use its own buffers); true when the device wrote the
 * descriptor back, i.e. it processed the descriptor and so attempted the read. */
static bool transmit_from(u64 iova)
{
	unsigned slot = drv.tx_tail;

	igb_tx_desc_fill(&drv.tx_ring[slot], iova, ETH_ZLEN);
	drv.tx_tail = (slot + 1) % IGBVF_RING_LEN;
	__asm__ volatile("sfence" ::: "memory");
	vf_dev_ops.wr(NULL, IGB_VF_TDT, drv.tx_tail);
	return igbvf_tx_wait(&drv) == 0 && (drv.tx_ring[slot].status & IGB_TXD_STAT_DD);
}

/* Starts test `id` of suite attack; with the VF not `up` the test is skipped and ended. */
static bool attack_begin(const char *id, bool up)
{
	test_begin("attack", id);
	if (up)
		return true;
	test_skip("the attacker's VF is not up");
	test_end();
	return false;
}

/* Tells the test image's judge what the device will now do (HC_EXPECT_DMA_FAULT: a DMA
 * outside this guest's RAM when addr is 0, else the interrupt message data -> addr). The
 * product has no judge: the attack runs all the same. */
static void announce_dma_fault(u32 addr, u32 data)
{
	long r = hypercall(HC_EXPECT_DMA_FAULT, addr, data, 0);

	check(r == 0 || (r == -ENOSYS && !guest_test_hypercalls()),
	      "announcing %#x <- %#x refused (%ld)", addr, data, r);
}

void attack_dma_outside_ram(void)
{
	u64 ram = guest_info.ram_size;
	const u64 targets[] = {ram, ram + 2 * MiB, 4 * GiB - 4096, 64 * GiB};
	unsigned done = 0;

	if (!attack_begin("dma-outside-ram", vf_open()))
		return;
	announce_dma_fault(0, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(targets); i++)
		done += transmit_from(targets[i]);
	check(done == ARRAY_SIZE(targets), "%u of %u descriptors written back", done,
	      (unsigned)ARRAY_SIZE(targets));
	test_end();
}

/* Host-physical addresses of the hypervisor and of the other guests, as bus addresses: the
 * 1 GiB-aligned places where moat puts guest RAM and the top of the 32-bit space, all
 * outside this guest's RAM: faults. (moat's own image at host-physical 2 MiB is, as a bus
 * address of this guest, its own RAM at GPA 2 MiB: nothing of the hypervisor's.) */
void attack_dma_hypervisor_hpa(void)
{
	const u64 targets[] = {1 * GiB, 2 * GiB, 3 * GiB - 4096, 4 * GiB + 2 * MiB, 5 * GiB};
	unsigned done = 0;

	if (!attack_begin("dma-hypervisor-hpa", vf_up))
		return;
	announce_dma_fault(0, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(targets); i++)
		done += transmit_from(targets[i]);
	check(done == ARRAY_SIZE(targets), "%u of %u descriptors written back", done,
	      (unsigned)ARRAY_SIZE(targets));
	test_end();
}

/* Interrupt messages written by the VF itself. Its transmit queue's head write-back stores
 * the 4-byte head index at an address the driver chooses, after each descriptor with RS;
 * aimed at 0xFEEx_xxxx that store is an interrupt request whose data is the head. A ring of
 * its own of 256 descriptors lets the head, and so the data, be any value below 256. The
 * VF's source ID is its own: only the IOMMU stands between the store and the CPUs. */
#define MSI_ADDR_BASE 0xfee00000u
#define MSI_ADDR_REMAPPABLE BIT(4) /* VT-d 5.1.2.2 */
#define MSI_ADDR_HANDLE_LO GENMASK(19, 5)
#define MSI_ADDR_HANDLE15 BIT(2)
#define MSI_ADDR_DEST GENMASK(19, 12) /* compatibility format: APIC ID */
#define FORGE_RING_LEN 256
#define FORGE_WAIT_US 200000
/* moat hands interrupt remapping entries out first-fit and takes its own before any guest
 * runs: entry 0 is present and belongs to a function that is not this VF. */
#define FORGE_VICTIM_HANDLE 0
/* A vector of the hypervisor's range on this guest's own CPU: harmless if it gets through. */
#define FORGE_COMPAT_VECTOR 0xee

static struct igb_tx_desc forge_ring[FORGE_RING_LEN] __aligned(4096);
static u8 forge_frame[ETH_ZLEN] __aligned(64);

static bool forge_wait(u32 reg, u32 mask, u32 want)
{
	u64 start = vf_now_us();

	while ((vf_dev_ops.rd(NULL, reg) & mask) != want)
		if (vf_now_us() - start > FORGE_WAIT_US)
			return false;
	return true;
}

/* Makes the device store `head` at `addr`: one frame from slot head - 1 of the private ring,
 * head write-back on. True when the device processed the descriptor (the head moved). The
 * driver's own rings are set up again afterwards. */
static bool forge_write(u32 addr, u8 head)
{
	unsigned slot = (head + FORGE_RING_LEN - 1) % FORGE_RING_LEN;
	u64 ring = (u64)(uintptr_t)forge_ring;
	bool done;

	memset(forge_ring, 0, sizeof(forge_ring));
	igb_tx_desc_fill(&forge_ring[slot], (u64)(uintptr_t)forge_frame, ETH_ZLEN);
	vf_dev_ops.wr(NULL, IGB_VF_TXDCTL, 0);
	vf_dev_ops.wr(NULL, IGB_VF_TDBAL, (u32)ring);
	vf_dev_ops.wr(NULL, IGB_VF_TDBAH, (u32)(ring >> 32));
	vf_dev_ops.wr(NULL, IGB_VF_TDLEN, sizeof(forge_ring));
	vf_dev_ops.wr(NULL, IGB_VF_TDH, slot);
	vf_dev_ops.wr(NULL, IGB_VF_TDT, slot);
	vf_dev_ops.wr(NULL, IGB_VF_TDWBAH, 0);
	vf_dev_ops.wr(NULL, IGB_VF_TDWBAL, (addr & IGB_TDWBAL_ADDR) | IGB_TDWBAL_HEAD_WB_EN);
	vf_dev_ops.wr(NULL, IGB_VF_TXDCTL, IGB_TXDCTL_ENABLE);
	done = forge_wait(IGB_VF_TXDCTL, IGB_TXDCTL_ENABLE, IGB_TXDCTL_ENABLE);
	__asm__ volatile("sfence" ::: "memory");
	vf_dev_ops.wr(NULL, IGB_VF_TDT, head);
	done = done && forge_wait(IGB_VF_TDH, 0xffff, head);
	if (!done)
		guest_printf("# forge: TXDCTL %#x TDH %u TDT %u\n",
			     vf_dev_ops.rd(NULL, IGB_VF_TXDCTL), vf_dev_ops.rd(NULL, IGB_VF_TDH),
			     vf_dev_ops.rd(NULL, IGB_VF_TDT));
	vf_dev_ops.wr(NULL, IGB_VF_TDWBAL, 0);
	if (igbvf_up(&drv))
		guest_printf("# forge: rings not set up again: %s\n", drv.last_error);
	return done;
}

static u8 own_apic_id(void)
{
	u32 r[4];

	guest_cpuid(1, 0, r);
	return (u8)(r[1] >> 24);
}

/* A remappable-format message naming another function's entry: the IOMMU must refuse it on
 * the source ID (the hypervisor's "assign: attacker-msix-forge-remappable" judges). */
void attack_msix_forge_remappable(void)
{
	u32 addr = MSI_ADDR_BASE | MSI_ADDR_REMAPPABLE |
		   (u32)FIELD_PREP(MSI_ADDR_HANDLE_LO, FORGE_VICTIM_HANDLE & 0x7fff) |
		   (FORGE_VICTIM_HANDLE & 0x8000 ? MSI_ADDR_HANDLE15 : 0);
	if (!attack_begin("msix-forge-remappable", vf_up))
		return;
	announce_dma_fault(addr, 1);
	check(forge_write(addr, 1), "the device did not write %#x", addr);
	test_end();
}

/* A compatibility-format message to its own CPU: blocked while interrupt remapping is on
 * with CFI clear (the hypervisor's "assign: attacker-msix-forge-compat" judges). */
void attack_msix_forge_compat(void)
{
	u32 addr = MSI_ADDR_BASE | (u32)FIELD_PREP(MSI_ADDR_DEST, own_apic_id());
	if (!attack_begin("msix-forge-compat", vf_up))
		return;
	announce_dma_fault(addr, FORGE_COMPAT_VECTOR);
	check(forge_write(addr, FORGE_COMPAT_VECTOR), "the device did not write %#x", addr);
	test_end();
}

/* The other VFs of the reference NIC have the MACs next to ours (the PF numbers them by
 * VF); neither may be taken, and our own stays. */
void attack_mac_spoof(void)
{
	u8 own[ETH_ALEN], other[ETH_ALEN];
	int err;

	if (!attack_begin("mac-spoof", vf_up))
		return;
	memcpy(own, drv.mac, ETH_ALEN);
	/* Its own MAC is accepted: the handshake holds, so a refusal below is the PF's
	 * validation, not a lost handshake. */
	err = igbvf_set_mac(&drv, own);
	check(err == 0, "set-MAC of its own address answered %d", err);
	for (unsigned d = 1; d <= 2; d++) {
		memcpy(other, own, ETH_ALEN);
		other[5] = (u8)(own[5] - d);
		err = igbvf_set_mac(&drv, other);
		check(err == -EPERM, "set-MAC ..:%02x:%02x answered %d", other[4], other[5], err);
	}
	check(!memcmp(drv.mac, own, ETH_ALEN), "driver MAC changed");
	err = igbvf_reset(&drv);
	check(err == 0 && !memcmp(drv.mac, own, ETH_ALEN),
	      "after the refusals the PF hands back ..:%02x:%02x (%d)", drv.mac[4], drv.mac[5],
	      err);
	vf_up = false;
	test_end();
}

/* With a VF of a second NIC at 00:02.0 (the two-NIC configurations) the attacker learns
 * that NIC's VF MACs (its own VF's there, and the VF numbered two before it, another
 * guest's) and asks for them through its VF of the first NIC. MACs are unique across every
 * NIC moat drives: both are refused, or the first NIC's anti-spoofing would let it send as
 * those functions. */
#define SECOND_NIC_SLOT 2

static u8 vf2_mem[IGBVF_MEM_SIZE] __aligned(IGBVF_MEM_ALIGN);
static struct igbvf drv2;

static int second_nic_mac(u8 mac[ETH_ALEN])
{
	u64 bar0 = vf_dev.bar0;
	int err;

	vf_dev.slot = SECOND_NIC_SLOT;
	err = vf_dev_enable();
	if (!err)
		err = igbvf_init(&drv2, &vf_dev_ops, NULL, vf2_mem);
	if (!err)
		err = igbvf_reset(&drv2);
	if (!err)
		memcpy(mac, drv2.mac, ETH_ALEN);
	vf_dev.slot = 0;
	vf_dev.bar0 = bar0;
	return err;
}

void attack_mac_other_nic(void)
{
	u8 own[ETH_ALEN], mine_there[ETH_ALEN], theirs[ETH_ALEN];
	int err;

	if (!attack_begin("mac-other-nic", vf_dev.bar0 && drv.ops))
		return;
	if (second_nic_mac(mine_there)) {
		test_skip("no VF of a second NIC at 00:02.0");
		test_end();
		return;
	}
	err = igbvf_reset(&drv);
	check(err == 0, "reset handshake failed (%d)", err);
	memcpy(own, drv.mac, ETH_ALEN);
	memcpy(theirs, mine_there, ETH_ALEN);
	theirs[5] = (u8)(mine_there[5] - 2);
	err = igbvf_set_mac(&drv, theirs);
	check(err == -EPERM, "set-MAC of the other NIC's VF ..:%02x:%02x answered %d", theirs[4],
	      theirs[5], err);
	err = igbvf_set_mac(&drv, mine_there);
	check(err == -EPERM, "set-MAC of our VF's on the other NIC ..:%02x:%02x answered %d",
	      mine_there[4], mine_there[5], err);
	check(!memcmp(drv.mac, own, ETH_ALEN), "driver MAC changed");
	guest_printf("# mac-other-nic: asked for ..:%02x:%02x and ..:%02x:%02x of the second "
		     "NIC through ..:%02x:%02x\n",
		     theirs[4], theirs[5], mine_there[4], mine_there[5], own[4], own[5]);
	test_end();
}

/* A mailbox storm: requests back to back for FLOOD_US. moat's PF serves at most
 * IGB_MBX_BUDGET per window of this VF's (the rest wait), so CPU 0 is not swamped and the
 * other guests' transfers go on (their suites check that). A request of the storm may
 * time out while it waits its turn on a slow host: that is the rate limit at work, so it
 * is reported, not failed; what must hold is the limit and that the PF still answers. */
#define FLOOD_US 500000

void attack_mailbox_flood(void)
{
	u32 msg[2] = {IGB_VF_SET_LPE, ETH_FRAME_MAX + 4}, reply = 0;
	unsigned answered = 0, failed = 0, most;
	u64 start, elapsed;
	int err;

	if (!attack_begin("flood", vf_dev.bar0 && drv.ops))
		return;
	err = igbvf_reset(&drv);
	check(err == 0, "reset handshake failed (%d)", err);
	start = vf_now_us();
	while (!err && vf_now_us() - start < FLOOD_US) {
		if (igbvf_mbx_request(&drv, msg, 2, &reply, 1))
			failed++;
		else
			answered++;
	}
	elapsed = vf_now_us() - start;
	most = IGB_MBX_BUDGET * (unsigned)(elapsed / IGB_MBX_WINDOW_US + 2);
	check(answered <= most, "%u requests answered in %llu us: not rate-limited (at most %u)",
	      answered, (unsigned long long)elapsed, most);
	/* How many CPU 0 answers depends on the host's speed; that it answers does not. */
	check(answered > 0, "no request answered in %llu us", (unsigned long long)elapsed);
	guest_printf("flood: %u mailbox requests answered, %u timed out waiting, in %llu ms "
		     "(budget %u per %u ms)\n",
		     answered, failed, (unsigned long long)elapsed / 1000, IGB_MBX_BUDGET,
		     IGB_MBX_WINDOW_US / 1000);
	igbvf_down(&drv);
	test_end();
}

/* Resets of its own VF in a loop, each in the middle of DMA: the transmit ring full of
 * frames to its own MAC (the switch loops them back: receive DMA too) when Initiate FLR is
 * written. Each reset is real and costs this guest's vCPU the 100 ms the spec requires (the
 * next config read is answered only after them), the function comes back reset (Command 0)
 * every time, and afterwards the VF is probed again with its own MAC. CPU 0 and the other
 * guests are not held up: alpha's and beta's transfers run meanwhile and pass, and moat
 * logs the resets a few times a second (the run checks). */
#define FLR_STORM 20
#define PCIE_DEVCTL 0x08
#define PCIE_DEVCTL_BCR_FLR BIT(15)
#define FLR_WAIT_US 100000

void attack_flr_storm(void)
{
	u8 pcie = vf_find_cap(CAP_ID_PCIE), mac[ETH_ALEN];
	unsigned not_reset = 0, queued = 0;
	u64 start, elapsed;

	if (!attack_begin("flr-storm", vf_dev.bar0 && drv.ops && pcie && vf_open()))
		return;
	memcpy(mac, drv.mac, ETH_ALEN);
	start = vf_now_us();
	for (unsigned i = 0; i < FLR_STORM; i++) {
		u32 ctl = vf_cfg_read((u16)(pcie + PCIE_DEVCTL)) & 0xffff;

		while (vf_up && igbvf_xmit(&drv, mac, 0x88b8, "moat-flr", 9) == 0)
			queued++;
		vf_cfg_write((u16)(pcie + PCIE_DEVCTL), ctl | PCIE_DEVCTL_BCR_FLR);
		not_reset +=
			(vf_cfg_read(CFG_COMMAND) & (CFG_COMMAND_MEMORY | CFG_COMMAND_MASTER)) != 0;
		vf_up = false;
		if (i + 1 < FLR_STORM && vf_open())
			vf_up = true;
	}
	elapsed = vf_now_us() - start;
	check(not_reset == 0, "%u of %u resets left Command set", not_reset, FLR_STORM);
	check(elapsed >= FLR_STORM * (FLR_WAIT_US - FLR_WAIT_US / 100),
	      "%u resets in %llu us: not each waited out", FLR_STORM, (unsigned long long)elapsed);
	check(vf_open(), "VF not up after the resets: %s", drv.last_error);
	check(!memcmp(drv.mac, mac, ETH_ALEN), "MAC after the resets differs");
	guest_printf("flr-storm: %u resets with DMA in flight (%u frames queued) in %llu ms\n",
		     FLR_STORM, queued, (unsigned long long)elapsed / 1000);
	test_end();
}

/* Its own BAR while the function must not be reached: with memory decode off in its
 * Command register, and in the 100 ms of a function level reset it initiated. moat takes
 * the BAR pages out of the nested tables then (docs/passthrough.md, "Memory decode and
 * resets"), so a read gets all ones and a write reaches nothing, as on a function that
 * does not decode: the marker written then must not be in the register afterwards. The
 * register is the receive ring's base (RDBAL of queue 0), with the queues stopped: it
 * holds what is written and does nothing by itself (QEMU's VF reset keeps it). The
 * hypervisor checks that it counted the accesses (assign: attacker-bar-off-counted). */
#define BAR_MARK_ON 0x5a5a0000u
#define BAR_MARK_OFF 0xa5a50000u
#define BAR_MARK_FLR 0x3c3c0000u
#define BAR_NO_VF "no VF: needs an IOMMU and an igb (QEMU runs; Bochs has neither)"

static u32 bar_rd(u32 reg)
{
	u32 v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"(vf_dev.bar0 + reg) : "memory");
	return v;
}

static void bar_wr(u32 reg, u32 v)
{
	__asm__ volatile("movl %1, (%0)" ::"r"(vf_dev.bar0 + reg), "r"(v) : "memory");
}

static bool bar_attack_begin(const char *id)
{
	test_begin("attack", id);
	if (vf_dev.bar0 && drv.ops)
		return true;
	test_skip(BAR_NO_VF);
	test_end();
	return false;
}

void attack_bar_decode_off(void)
{
	u32 cmd, st, rd, off;

	if (!bar_attack_begin("bar-decode-off"))
		return;
	if (vf_up)
		igbvf_down(&drv);
	vf_up = false;
	cmd = vf_cfg_read(CFG_COMMAND) & 0xffff;
	vf_cfg_write(CFG_COMMAND, cmd | CFG_COMMAND_MEMORY);
	bar_wr(IGB_VF_RDBAL, BAR_MARK_ON);
	rd = bar_rd(IGB_VF_RDBAL);
	check(rd == BAR_MARK_ON, "RDBAL reads %#x with decode on, wrote %#x", rd, BAR_MARK_ON);
	vf_cfg_write(CFG_COMMAND, cmd & ~CFG_COMMAND_MEMORY);
	st = bar_rd(IGB_VF_STATUS);
	off = bar_rd(IGB_VF_RDBAL);
	bar_wr(IGB_VF_RDBAL, BAR_MARK_OFF);
	check(st == 0xffffffff && off == 0xffffffff,
	      "decode off: STATUS reads %#x, RDBAL %#x (the function answered)", st, off);
	vf_cfg_write(CFG_COMMAND, cmd | CFG_COMMAND_MEMORY);
	rd = bar_rd(IGB_VF_RDBAL);
	check(rd == BAR_MARK_ON, "RDBAL %#x after decode came back: the write with decode off %s",
	      rd, rd == BAR_MARK_OFF ? "reached the function" : "or something else changed it");
	guest_printf("# bar-decode-off: STATUS %#x RDBAL %#x with decode off, RDBAL %#x after\n",
		     st, off, rd);
	check(vf_open(), "VF not up again: %s", drv.last_error);
	test_end();
}

void attack_bar_flr_window(void)
{
	u8 pcie = vf_find_cap(CAP_ID_PCIE);
	u32 ctl, st, rd, cmd, off_rd, after;
	u64 t0, answered;

	if (!bar_attack_begin("bar-flr-window"))
		return;
	if (!pcie) {
		test_skip("no PCI Express capability");
		test_end();
		return;
	}
	if (vf_up)
		igbvf_down(&drv);
	vf_up = false;
	ctl = vf_cfg_read((u16)(pcie + PCIE_DEVCTL)) & 0xffff;
	t0 = vf_now_us();
	vf_cfg_write((u16)(pcie + PCIE_DEVCTL), ctl | PCIE_DEVCTL_BCR_FLR);
	/* In the 100 ms: nothing may reach the function. */
	st = bar_rd(IGB_VF_STATUS);
	rd = bar_rd(IGB_VF_RDBAL);
	bar_wr(IGB_VF_RDBAL, BAR_MARK_FLR);
	answered = vf_now_us() - t0;
	check(st == 0xffffffff && rd == 0xffffffff,
	      "in the reset: STATUS reads %#x, RDBAL %#x (the function answered)", st, rd);
	/* This config read waits the reset out; Command 0, decode still off. */
	cmd = vf_cfg_read(CFG_COMMAND) & 0xffff;
	check(!(cmd & CFG_COMMAND_MEMORY), "Command %#x after the reset", cmd);
	off_rd = bar_rd(IGB_VF_RDBAL);
	check(off_rd == 0xffffffff, "RDBAL reads %#x after the reset with decode off", off_rd);
	vf_cfg_write(CFG_COMMAND, CFG_COMMAND_MEMORY);
	after = bar_rd(IGB_VF_RDBAL);
	check(after != BAR_MARK_FLR && after != 0xffffffff,
	      "RDBAL %#x with decode on again: the write in the reset reached the function", after);
	guest_printf("# bar-flr-window: STATUS %#x RDBAL %#x %llu us after Initiate FLR, RDBAL "
		     "%#x after\n",
		     st, rd, (unsigned long long)answered, after);
	check(vf_open(), "VF not up after the reset: %s", drv.last_error);
	test_end();
}

/* State the VF's owner leaves in the PF: a multicast list (a MAC of its choosing is
 * refused: moat assigns each VF its MAC). The attacker sets the list and stops with it in
 * place; when moat takes the VF back (FLR) the PF must forget it, or the next owner of this
 * VF would keep receiving frames sent to the attacker's groups. The hypervisor judges
 * after the release (igb: vf-owner-state-forgotten); here the list must be accepted, or
 * that verdict would prove nothing. */
void attack_owner_state_left(void)
{
	static const u8 chosen[ETH_ALEN] = {0x02, 0x6d, 0x6f, 0x61, 0x74, 0xee};
	u32 mc[2] = {IGB_VF_SET_MULTICAST | FIELD_PREP(IGB_MSG_INFO, 2), 0x05a5 | 0x0c3cu << 16};
	u32 reply = 0;
	int err;

	if (!attack_begin("owner-state-left", vf_dev.bar0 && drv.ops))
		return;
	err = igbvf_reset(&drv);
	check(err == 0, "reset handshake failed (%d)", err);
	if (!err) {
		err = igbvf_set_mac(&drv, chosen);
		check(err == -EPERM, "set-MAC of a free address answered %d", err);
		err = igbvf_mbx_request(&drv, mc, 2, &reply, 1);
		check(err == 0, "set-multicast of 2 hashes answered %d (reply %#x)", err, reply);
	}
	test_end();
}

/* Frames sent as another function: the source MAC is alpha's or beta's (the VFs numbered
 * before ours), the destination our own MAC (the NIC's switch would loop it back to us)
 * and broadcast (every pool and the wire). moat's PF turned on the device's transmit
 * anti-spoofing for every VF pool, so the device drops each before its switch and records
 * the drop in WVBR, which the PF counts for this VF; every descriptor must still be
 * processed (written back), or nothing was attempted.
 * The hypervisor judges (igb: vf-tx-spoof-dropped); QEMU 10 does not model the check, so
 * there the frames go through (reported here, # SKIP there). A frame with our own MAC is
 * sent too: the check must not stop a guest from sending as itself. */
#define SPOOF_ETHERTYPE 0x88b7
#define SPOOF_RX_WAIT_US 100000

static const char spoof_marker[] = "moat-tx-spoof";
static const char legit_marker[] = "moat-tx-legit";

static bool send_as(const u8 src[ETH_ALEN], const u8 dst[ETH_ALEN], const char *marker)
{
	u8 own[ETH_ALEN];
	int err;

	memcpy(own, drv.mac, ETH_ALEN);
	memcpy(drv.mac, src, ETH_ALEN);
	err = igbvf_xmit(&drv, dst, SPOOF_ETHERTYPE, marker, (unsigned)strlen(marker) + 1);
	memcpy(drv.mac, own, ETH_ALEN);
	return err == 0 && igbvf_tx_wait(&drv) == 0;
}

/* Frames of ours that came back within SPOOF_RX_WAIT_US, counted by marker. */
static void count_returned(unsigned *spoofed, unsigned *legit)
{
	static u8 frame[IGBVF_BUF_SIZE];
	u64 start = vf_now_us();

	while (vf_now_us() - start < SPOOF_RX_WAIT_US) {
		int len = igbvf_recv(&drv, frame, sizeof(frame));
		const char *p = (const char *)frame + ETH_HLEN;

		if (len < ETH_ZLEN || (u16)(frame[12] << 8 | frame[13]) != SPOOF_ETHERTYPE)
			continue;
		if (!memcmp(p, spoof_marker, sizeof(spoof_marker)))
			(*spoofed)++;
		else if (!memcmp(p, legit_marker, sizeof(legit_marker)))
			(*legit)++;
	}
}

void attack_tx_mac_spoof(void)
{
	static const u8 bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
	u8 own[ETH_ALEN], other[ETH_ALEN];
	unsigned sent = 0, tried = 0, spoofed = 0, legit = 0;

	if (!attack_begin("tx-mac-spoof", vf_up))
		return;
	memcpy(own, drv.mac, ETH_ALEN);
	for (unsigned d = 1; d <= 2; d++) {
		memcpy(other, own, ETH_ALEN);
		other[5] = (u8)(own[5] - d);
		sent += send_as(other, own, spoof_marker);
		sent += send_as(other, bcast, spoof_marker);
		tried += 2;
	}
	check(sent == tried, "%u of %u spoofed frames written back", sent, tried);
	check(send_as(own, own, legit_marker), "a frame with our own MAC not written back");
	count_returned(&spoofed, &legit);
	guest_printf("# tx-mac-spoof: %u of %u spoofed frames and %u of 1 own came back to us\n",
		     spoofed, tried, legit);
	test_end();
}
