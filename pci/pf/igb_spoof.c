/* Transmit anti-spoofing of the 82576 (datasheet: DTXSWC, WVBR): the device drops a frame a
 * VF sends whose source MAC is not in that VF's pool (its receive address entry: the MAC
 * the PF gave it or the one its owner set through the mailbox, which the PF validated), so
 * no guest can send as another function. The PF's own pool is left free; it is a VF's only
 * when all 8 pools are VFs', and then it is checked too (against the PF's MAC and the
 * VF's). The PF counts the drops per VF from WVBR, which it polls with the mailboxes. */
#define LOG_TAG "igb"
#include <moat/log.h>
#include <moat/time.h>
#include "pci/pf/igb_regs.h"

#define SPOOF_WARN_INTERVAL_US 1000000

void igb_enable_anti_spoof(struct igb_pf *pf)
{
	u32 pools = pf->num_vfs ? (u32)GENMASK(MIN(pf->num_vfs, IGB_NR_POOLS) - 1, 0) : 0;

	igb_wr(pf, IGB_DTXSWC,
	       igb_rd(pf, IGB_DTXSWC) | (u32)FIELD_PREP(IGB_DTXSWC_MAC_SPOOF, pools) |
		       (u32)FIELD_PREP(IGB_DTXSWC_VLAN_SPOOF, pools));
}

static void count_spoofed(struct igb_pf *pf, unsigned vf)
{
	struct igb_vf_state *s = &pf->vf[vf];
	u64 now = time_us();

	s->spoofed++;
	if (s->spoof_warned_us && now - s->spoof_warned_us < SPOOF_WARN_INTERVAL_US)
		return;
	s->spoof_warned_us = now;
	pr_warn("vf%u: frame with a spoofed source MAC dropped (%u so far)\n", vf, s->spoofed);
}

/* Returns the number of drops seen. WVBR has one bit per pool and queue of the pool: a bit
 * says at least one frame of that queue was dropped since the last read. */
unsigned igb_service_spoof(struct igb_pf *pf)
{
	u32 wvbr = igb_rd(pf, IGB_WVBR);
	unsigned n = 0;

	for (unsigned bit = 0; bit < 32; bit++) {
		unsigned vf = bit % IGB_NR_POOLS;

		if (!(wvbr & BIT(bit)))
			continue;
		if (vf >= pf->num_vfs) {
			pr_warn("WVBR bit %u set for pool %u, which no VF uses\n", bit, vf);
			continue;
		}
		count_spoofed(pf, vf);
		n++;
	}
	return n;
}

unsigned igb_vf_spoofed(const struct igb_pf *pf, unsigned vf)
{
	return vf < pf->num_vfs ? pf->vf[vf].spoofed : 0;
}
