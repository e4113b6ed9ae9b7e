/* The 82576's receive address table and VMDq pools: which MAC lands in which pool, and
 * which pools may receive and transmit. */
#include "pci/pf/igb_regs.h"

/* RAR entry of VF n (entry 0 is the PF's). */
unsigned igb_vf_rar(unsigned vf)
{
	return 1 + vf;
}

void igb_set_rar(struct igb_pf *pf, unsigned idx, const u8 mac[ETH_ALEN], unsigned pool)
{
	u32 lo = (u32)mac[0] | (u32)mac[1] << 8 | (u32)mac[2] << 16 | (u32)mac[3] << 24;
	u32 hi = (u32)mac[4] | (u32)mac[5] << 8;

	/* Invalidate first so the device never matches half an address. */
	igb_wr(pf, IGB_RAH(idx), 0);
	igb_wr(pf, IGB_RAL(idx), lo);
	igb_wr(pf, IGB_RAH(idx),
	       (u32)(FIELD_PREP(IGB_RAH_ADDR, hi) | IGB_RAH_AV |
		     FIELD_PREP(IGB_RAH_POOL, BIT(pool))));
}

void igb_enable_pool(struct igb_pf *pf, unsigned pool)
{
	igb_wr(pf, IGB_VMOLR(pool), IGB_VMOLR_BAM | IGB_VMOLR_AUPE);
	igb_wr(pf, IGB_VFRE, igb_rd(pf, IGB_VFRE) | (u32)BIT(pool));
	igb_wr(pf, IGB_VFTE, igb_rd(pf, IGB_VFTE) | (u32)BIT(pool));
}

/* Receive on, broadcasts accepted, and long frames up to the 82576's longest: as Linux's
 * PF does (igb_setup_rctl sets RCTL.LPE, igb_set_rx_mode RLPML to MAX_JUMBO_FRAME_SIZE
 * once VFs exist). The device checks a frame against RCTL/RLPML before any pool's
 * VMOLR.LPE/RLPML, so without it no pool receives a jumbo frame whatever the PF granted
 * its VF (SET_LPE); a pool that never asked still takes at most 1518 bytes. RLPML is
 * written first: with LPE set, RLPML 0 would drop every frame. */
void igb_rx_enable(struct igb_pf *pf)
{
	igb_wr(pf, IGB_RLPML, (u32)FIELD_PREP(IGB_RLPML_SIZE, IGB_MAX_FRAME));
	igb_wr(pf, IGB_RCTL, IGB_RCTL_EN | IGB_RCTL_LPE | IGB_RCTL_BAM);
}
