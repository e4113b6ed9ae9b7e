/* 82576 (igb) PF register file, shared by the files of the PF driver (the VF side, the
 * mailbox messages and the descriptors are in <moat/igbvf.h>). Registers are listed with their bits
 * under them. */
#ifndef PCI_PF_IGB_REGS_H
#define PCI_PF_IGB_REGS_H

#include <moat/bits.h>
#include "arch/x86/io.h"
#include "pci/pf/igb.h"

#define IGB_DEVICE_PF 0x10c9
#define IGB_MAX_PFS 4
#define IGB_NR_POOLS 8

/* Device control. */
#define IGB_CTRL 0x0000
#define IGB_CTRL_SLU BIT(6)
#define IGB_CTRL_RST BIT(26)
/* Device status. */
#define IGB_STATUS 0x0008
#define IGB_STATUS_LU BIT(1)
/* Extended device control. */
#define IGB_CTRL_EXT 0x0018
#define IGB_CTRL_EXT_PFRSTD BIT(14) /* PF reset done: releases the VF mailboxes */
/* MDI control: PHY register access. */
#define IGB_MDIC 0x0020
#define IGB_MDIC_DATA GENMASK(15, 0)
#define IGB_MDIC_REG GENMASK(20, 16)
#define IGB_MDIC_PHY GENMASK(25, 21)
#define IGB_MDIC_OP GENMASK(27, 26)
#define IGB_MDIC_OP_WRITE 1
#define IGB_MDIC_OP_READ 2
#define IGB_MDIC_READY BIT(28)
#define IGB_MDIC_ERROR BIT(30)
#define IGB_PHY_ADDR 1
#define PHY_BMCR 0
#define PHY_BMCR_ANRESTART BIT(9)
#define PHY_BMCR_ANENABLE BIT(12)
/* General purpose interrupt enable. */
#define IGB_GPIE 0x1514
#define IGB_GPIE_NSICR BIT(0)	  /* reading ICR clears it */
#define IGB_GPIE_MSIX_MODE BIT(4) /* extended causes (EICR) per MSI-X vector */
/* Interrupt cause read / set, mask set / clear (the "other" causes). */
#define IGB_ICR 0x00c0
#define IGB_ICR_VMMB BIT(8) /* a VF mailbox message, ack or VF reset (VFLRE) */
#define IGB_ICS 0x00c8
#define IGB_IMS 0x00d0
#define IGB_IMC 0x00d8
/* Extended interrupt cause, mask set, auto-clear (one bit per MSI-X vector in MSI-X mode). */
#define IGB_EICR 0x1580
#define IGB_EIMS 0x1524
#define IGB_EIAC 0x152c
/* Vector of the "other" causes (ICR) in MSI-X mode. */
#define IGB_IVAR_MISC 0x1740
#define IGB_IVAR_MISC_OTHER GENMASK(15, 8)
#define IGB_IVAR_VALID BIT(7)
#define IGB_PF_MSIX_ENTRY 0 /* the PF's events: MSI-X entry and EICR bit 0 */
#define IGB_POLL_US 1000    /* when that interrupt does not arrive */
/* Receive control. */
#define IGB_RCTL 0x0100
#define IGB_RCTL_EN BIT(1)
#define IGB_RCTL_LPE BIT(5) /* frames longer than 1518 bytes, up to RLPML */
#define IGB_RCTL_BAM BIT(15)
/* The longest frame the device receives while RCTL.LPE is set (each pool: VMOLR.RLPML). */
#define IGB_RLPML 0x5004
#define IGB_RLPML_SIZE GENMASK(13, 0)
/* Transmit control. */
#define IGB_TCTL 0x0400
#define IGB_TCTL_EN BIT(1)
#define IGB_TCTL_PSP BIT(3)
/* Mailbox memory, PF side: 16 dwords per VF. */
#define IGB_VMBMEM(vf) (0x0800 + 0x40 * (vf))
/* PF-to-VF mailbox control. */
#define IGB_P2VMAILBOX(vf) (0x0c00 + 4 * (vf))
#define IGB_P2VMAILBOX_STS BIT(0) /* message for the VF */
#define IGB_P2VMAILBOX_ACK BIT(1) /* VF's message received */
#define IGB_P2VMAILBOX_VFU BIT(2)
#define IGB_P2VMAILBOX_PFU BIT(3) /* PF owns the buffer */
/* Mailbox VF interrupt cause. */
#define IGB_MBVFICR 0x0c80
#define IGB_MBVFICR_VFREQ GENMASK(7, 0)
#define IGB_MBVFICR_VFACK GENMASK(23, 16)
#define IGB_VFLRE 0x0c88 /* VF function-level reset events */
#define IGB_VFRE 0x0c8c	 /* VF receive enables */
#define IGB_VFTE 0x0c90	 /* VF transmit enables */
/* Multicast table array. */
#define IGB_MTA(n) (0x5200 + 4 * (n))
#define IGB_MTA_WORDS 128
/* Receive address table. */
#define IGB_RAL(n) (0x5400 + 8 * (n))
#define IGB_RAH(n) (0x5404 + 8 * (n))
#define IGB_RAH_ADDR GENMASK(15, 0)
#define IGB_RAH_POOL GENMASK(25, 18)
#define IGB_RAH_AV BIT(31)
#define IGB_RAR_ENTRIES 16
/* Multiple receive queues: VMDq. */
#define IGB_MRQC 0x5818
#define IGB_MRQC_MODE GENMASK(2, 0)
#define IGB_MRQC_MODE_VMDQ 3
#define IGB_VT_CTL 0x581c
#define IGB_VT_CTL_DEF_POOL GENMASK(9, 7)
/* Per-pool receive offload control. */
#define IGB_VMOLR(n) (0x5ad0 + 4 * (n))
#define IGB_VMOLR_RLPML GENMASK(13, 0)
#define IGB_VMOLR_LPE BIT(16)
#define IGB_VMOLR_AUPE BIT(24)	/* accept untagged */
#define IGB_VMOLR_ROMPE BIT(25) /* accept multicast table matches */
#define IGB_VMOLR_BAM BIT(27)	/* accept broadcast */
/* DMA TX switch control. */
#define IGB_DTXSWC 0x3500
#define IGB_DTXSWC_MAC_SPOOF                                                                       \
	GENMASK(7, 0) /* per pool: drop frames whose source MAC is not the pool's */
#define IGB_DTXSWC_VLAN_SPOOF                                                                      \
	GENMASK(15, 8) /* per pool: drop frames tagged with a VLAN not the pool's */
#define IGB_DTXSWC_LOOPBACK_EN BIT(31)
/* Wrong VM behaviour: a frame dropped by the anti-spoof check, one bit per pool and queue
 * (bit pool + 8 * queue of the pool); read to clear. */
#define IGB_WVBR 0x3554
/* Transmit queue n. */
#define IGB_TDBAL(q) (0xe000 + 0x40 * (q))
#define IGB_TDBAH(q) (0xe004 + 0x40 * (q))
#define IGB_TDLEN(q) (0xe008 + 0x40 * (q))
#define IGB_TDH(q) (0xe010 + 0x40 * (q))
#define IGB_TDT(q) (0xe018 + 0x40 * (q))
#define IGB_TXDCTL(q) (0xe028 + 0x40 * (q))

#define IGB_TX_RING_LEN 8

/* Mailbox messages, VF registers and descriptors: <moat/igbvf.h>. */
#define IGB_MAX_FRAME 9728 /* the 82576's longest (jumbo) frame: 9.5 KiB */
#define IGB_MIN_FRAME 64

#define IGB_RESET_TIMEOUT_US 100000
#define IGB_MDIC_TIMEOUT_US 10000
#define IGB_LINK_TIMEOUT_US 3000000
#define IGB_MBX_LOCK_TIMEOUT_US 1000
/* Refused requests: at most IGB_REFUSAL_LOG_BURST warnings per VF and window. */
#define IGB_REFUSAL_LOG_US 1000000
#define IGB_REFUSAL_LOG_BURST 8
/* VF function resets: at most IGB_RESET_LOG_BURST log lines per VF and window. */
#define IGB_RESET_LOG_US 1000000
#define IGB_RESET_LOG_BURST 4
/* A VF without CTS that ACKs (reads its buffer) is sent NACK, as Linux's igb PF does
 * (igb_rcv_ack_from_vf), at most once per this many microseconds. */
#define IGB_NOCTS_NACK_US 2000000
/* Mailbox rate limit per VF (IGB_MBX_BUDGET per IGB_MBX_WINDOW_US): <moat/igbvf.h>. */
#define IGB_TX_TIMEOUT_US 100000

static inline u32 igb_rd(const struct igb_pf *pf, u32 reg)
{
	return mmio_read32(pf->regs + reg);
}

static inline void igb_wr(const struct igb_pf *pf, u32 reg, u32 v)
{
	mmio_write32(pf->regs + reg, v);
}

/* igb_pool.c */
unsigned igb_vf_rar(unsigned vf);
void igb_set_rar(struct igb_pf *pf, unsigned idx, const u8 mac[ETH_ALEN], unsigned pool);
void igb_enable_pool(struct igb_pf *pf, unsigned pool);
void igb_rx_enable(struct igb_pf *pf);
/* igb_mbx.c: serves one PF's mailboxes and VF resets */
unsigned igb_pf_serve(struct igb_pf *pf);
/* igb_spoof.c */
void igb_enable_anti_spoof(struct igb_pf *pf);
unsigned igb_service_spoof(struct igb_pf *pf);
/* igb.c: the PFs brought up */
unsigned igb_pf_count(void);
struct igb_pf *igb_pf_at(unsigned idx);

#endif
