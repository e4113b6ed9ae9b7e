/* The PF side of the 82576 VF mailbox (pci/pf/igb_mbx.c, igb_pool.c, igb_spoof.c) on the
 * unit tests' PF model (tests/unit/test_igb.c): BAR0 as a register file in host memory
 * (128 KiB, its real size, so a register outside it is an ASan report). The input is a
 * sequence of events, as hostile VFs and the device produce them:
 *   byte 0: VFs enabled (1..8; the PF pool is the next one or the last, as igb.c chooses)
 *   then per event, an opcode byte:
 *     0: VF message: VF number (any, also one that is not enabled), word count (0..16),
 *        the words written into its mailbox memory; VFREQ set, then the PF polls
 *     1: function-level resets: VFLRE (32 bits); the PF polls
 *     2: the device's ACK and spoof bits: MBVFICR.VFACK, WVBR; the PF polls
 *     3: time passes (32-bit microseconds), which refills the rate limit
 * After each poll: a reply went out only with STS, and every VF's state is sane. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/string.h>
#include "pci/pf/igb_regs.h"
#include "fuzz.h"

#define BAR0_SIZE 0x20000

static u32 *regfile;
static struct igb_pf pf;
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
	return idx == 0 ? &pf : NULL;
}

struct pci_dev *pci_sriov_vf(const struct pci_dev *pf_dev, unsigned idx)
{
	return NULL; /* no VF has an owner to name */
}

static void set_reg(u32 off, u32 v)
{
	regfile[off / 4] = v;
}

static void setup(unsigned num_vfs)
{
	static const u8 pf_mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

	memset(regfile, 0, BAR0_SIZE);
	memset(&pf, 0, sizeof(pf));
	pf.regs = (u64)(uintptr_t)regfile;
	pf.num_vfs = num_vfs;
	pf.pf_pool = MIN(num_vfs, IGB_NR_POOLS - 1);
	memcpy(pf.mac, pf_mac, 6);
	for (unsigned vf = 0; vf < num_vfs; vf++) {
		static const u8 base[6] = {0x52, 0x54, 0x00, 0x12, 0x56, 0x10};

		memcpy(pf.vf[vf].default_mac, base, 6);
		pf.vf[vf].default_mac[5] = (u8)(0x10 + vf);
		memcpy(pf.vf[vf].mac, pf.vf[vf].default_mac, 6);
	}
}

static void check(void)
{
	for (unsigned vf = 0; vf < pf.num_vfs; vf++) {
		const struct igb_vf_state *s = &pf.vf[vf];

		if (s->nr_mc > IGB_VF_MC_HASHES || (s->mac[0] & 1))
			abort(); /* a multicast list too long, a multicast "unicast" address */
		if (memcmp(s->mac, s->default_mac, 6))
			abort(); /* a VF got an address moat did not assign it */
		if (memcmp(s->mac, pf.mac, 6) == 0)
			abort(); /* a VF took the PF's address */
		for (unsigned o = 0; o < pf.num_vfs; o++)
			if (o != vf && (!memcmp(s->mac, pf.vf[o].mac, 6) ||
					!memcmp(s->mac, pf.vf[o].default_mac, 6)))
				abort(); /* a VF took another's address */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fin f = {data, size};

	if (!regfile)
		regfile = aligned_alloc(4096, BAR0_SIZE);
	fake_us = 0;
	setup(1 + fin_u8(&f) % IGB_NR_POOLS);
	while (f.n) {
		u8 op = fin_u8(&f);

		switch (op % 4) {
		case 0: {
			unsigned vf = fin_u8(&f) % IGB_MAX_VFS,
				 words = fin_u8(&f) % (IGB_MBX_WORDS + 1);

			for (unsigned i = 0; i < words; i++)
				set_reg(IGB_VMBMEM(vf) + 4 * i, fin_u32(&f));
			set_reg(IGB_MBVFICR, (u32)FIELD_PREP(IGB_MBVFICR_VFREQ, BIT(vf)));
			set_reg(IGB_P2VMAILBOX(vf), 0);
			break;
		}
		case 1: set_reg(IGB_VFLRE, fin_u32(&f)); break;
		case 2:
			set_reg(IGB_MBVFICR, (u32)FIELD_PREP(IGB_MBVFICR_VFACK, fin_u8(&f)));
			set_reg(IGB_WVBR, fin_u32(&f));
			break;
		default: fake_us += fin_u32(&f); continue;
		}
		igb_pf_poll_all();
		check();
	}
	return 0;
}
