/* Intel VT-d remapping hardware registers (VT-d spec rev. 4, chapter 11) and in-memory
 * structure layouts (chapter 9). Each register is listed with its bits under it; every
 * access uses the register's own width (vtd_read32/vtd_read64 in vtd.h). */
#ifndef IOMMU_VTD_REGS_H
#define IOMMU_VTD_REGS_H

#include <moat/bits.h>

/* clang-format off: each register's bits stay indented under it */

/* Version (32) */
#define VTD_VER 0x00
#define VTD_VER_MIN GENMASK(3, 0)
#define VTD_VER_MAX GENMASK(7, 4)

/* Capability (64) */
#define VTD_CAP 0x08
#define VTD_CAP_ND GENMASK(2, 0) /* domains: 2^(4 + 2 * ND) */
#define VTD_CAP_AFL BIT(3)
#define VTD_CAP_RWBF BIT(4) /* write-buffer flush required */
#define VTD_CAP_PLMR BIT(5)
#define VTD_CAP_PHMR BIT(6)
#define VTD_CAP_CM BIT(7)	     /* caching mode: not-present entries cached */
#define VTD_CAP_SAGAW GENMASK(12, 8) /* bit 1: 39-bit 3-level, 2: 48/4, 3: 57/5 */
#define VTD_CAP_MGAW GENMASK(21, 16) /* max guest address width - 1 */
#define VTD_CAP_ZLR BIT(22)
#define VTD_CAP_FRO GENMASK(33, 24)   /* fault recording offset, 16-byte units */
#define VTD_CAP_SLLPS GENMASK(37, 34) /* bit 0: 2 MiB, bit 1: 1 GiB */
#define VTD_CAP_PSI BIT(39)
#define VTD_CAP_NFR GENMASK(47, 40)  /* fault recording registers - 1 */
#define VTD_CAP_MAMV GENMASK(53, 48) /* max address mask for page-selective IOTLB */
#define VTD_CAP_DWD BIT(54)
#define VTD_CAP_DRD BIT(55)
#define VTD_CAP_FL1GP BIT(56)
#define VTD_CAP_PI BIT(59)

/* Extended capability (64) */
#define VTD_ECAP 0x10
#define VTD_ECAP_C BIT(0) /* page walks snoop caches */
#define VTD_ECAP_QI BIT(1)
#define VTD_ECAP_DT BIT(2)
#define VTD_ECAP_IR BIT(3)
#define VTD_ECAP_EIM BIT(4)
#define VTD_ECAP_PT BIT(6)
#define VTD_ECAP_SC BIT(7)
#define VTD_ECAP_IRO GENMASK(17, 8) /* IOTLB register offset, 16-byte units */
#define VTD_ECAP_MHMV GENMASK(23, 20)
#define VTD_ECAP_SMTS BIT(43)

/* Global command (32) and global status (32): the same bit positions. */
#define VTD_GCMD 0x18
#define VTD_GSTS 0x1c
#define VTD_GCMD_CFI BIT(23)   /* compatibility format interrupts allowed */
#define VTD_GCMD_SIRTP BIT(24) /* set interrupt remapping table pointer (one-shot) */
#define VTD_GCMD_IRE BIT(25)
#define VTD_GCMD_QIE BIT(26)
#define VTD_GCMD_WBF BIT(27) /* one-shot */
#define VTD_GCMD_EAFL BIT(28)
#define VTD_GCMD_SFL BIT(29)
#define VTD_GCMD_SRTP BIT(30) /* set root table pointer (one-shot) */
#define VTD_GCMD_TE BIT(31)
/* Persistent enables; one-shot commands are never written back. */
#define VTD_GCMD_PERSISTENT                                                                        \
	(VTD_GCMD_TE | VTD_GCMD_QIE | VTD_GCMD_IRE | VTD_GCMD_CFI | VTD_GCMD_EAFL)

/* Root table address (64) */
#define VTD_RTADDR 0x20
#define VTD_RTADDR_TTM GENMASK(11, 10) /* 0: legacy root/context tables */
#define VTD_RTADDR_RTA GENMASK(63, 12)

/* Context command (64) */
#define VTD_CCMD 0x28
#define VTD_CCMD_DID GENMASK(15, 0)
#define VTD_CCMD_SID GENMASK(31, 16)
#define VTD_CCMD_FM GENMASK(33, 32)
#define VTD_CCMD_CAIG GENMASK(60, 59)
#define VTD_CCMD_CIRG GENMASK(62, 61)
#define VTD_CCMD_ICC BIT(63)
#define VTD_INV_GLOBAL 1u /* granularity values shared by CCMD, IOTLB and descriptors */
#define VTD_INV_DOMAIN 2u
#define VTD_INV_DEVICE 3u
#define VTD_INV_PAGE 3u

/* Fault status (32) */
#define VTD_FSTS 0x34
#define VTD_FSTS_PFO BIT(0) /* primary fault overflow (RW1C) */
#define VTD_FSTS_PPF BIT(1) /* primary pending fault (RO: some FRCD.F set) */
#define VTD_FSTS_AFO BIT(2)
#define VTD_FSTS_APF BIT(3)
#define VTD_FSTS_IQE BIT(4) /* invalidation queue error (RW1C) */
#define VTD_FSTS_ICE BIT(5) /* invalidation completion error (RW1C) */
#define VTD_FSTS_ITE BIT(6) /* invalidation time-out error (RW1C) */
#define VTD_FSTS_FRI GENMASK(15, 8)
#define VTD_FSTS_RW1C                                                                              \
	(VTD_FSTS_PFO | VTD_FSTS_AFO | VTD_FSTS_APF | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)

/* Fault event control (32), data (32), address (32), upper address (32) */
#define VTD_FECTL 0x38
#define VTD_FECTL_IP BIT(30)
#define VTD_FECTL_IM BIT(31)
#define VTD_FEDATA 0x3c
#define VTD_FEADDR 0x40
#define VTD_FEUADDR 0x44

/* Protected memory enable (32) */
#define VTD_PMEN 0x64
#define VTD_PMEN_PRS BIT(0)
#define VTD_PMEN_EPM BIT(31)

/* Invalidation queue head (64), tail (64), address (64), completion status (32) */
#define VTD_IQH 0x80
#define VTD_IQT 0x88
#define VTD_IQ_INDEX GENMASK(18, 4) /* 128-bit descriptor index */
#define VTD_IQA 0x90
#define VTD_IQA_QS GENMASK(2, 0) /* 2^QS pages */
#define VTD_IQA_DW BIT(11)	 /* 256-bit descriptors */
#define VTD_IQA_IQA GENMASK(63, 12)
#define VTD_ICS 0x9c
#define VTD_ICS_IWC BIT(0)

/* Interrupt remapping table address (64) */
#define VTD_IRTA 0xb8
#define VTD_IRTA_S GENMASK(3, 0) /* 2^(S + 1) entries */
#define VTD_IRTA_EIME BIT(11)	 /* x2APIC (32-bit) destinations */
#define VTD_IRTA_IRTA GENMASK(63, 12)

/* IOTLB registers at ECAP.IRO * 16: invalidate address (64) then IOTLB invalidate (64). */
#define VTD_IVA_OFF 0x0
#define VTD_IVA_AM GENMASK(5, 0)
#define VTD_IVA_IH BIT(6)
#define VTD_IVA_ADDR GENMASK(63, 12)
#define VTD_IOTLB_OFF 0x8
#define VTD_IOTLB_DID GENMASK(47, 32)
#define VTD_IOTLB_DW BIT(48)
#define VTD_IOTLB_DR BIT(49)
#define VTD_IOTLB_IAIG GENMASK(58, 57)
#define VTD_IOTLB_IIRG GENMASK(61, 60)
#define VTD_IOTLB_IVT BIT(63)

/* Fault recording register (128) at CAP.FRO * 16, 16 bytes each: low and high quadword. */
#define VTD_FRCD_SIZE 16
#define VTD_FRCD_LO 0x0
#define VTD_FRCD_LO_FI GENMASK(63, 12) /* faulting page address */
#define VTD_FRCD_HI 0x8
#define VTD_FRCD_HI_SID GENMASK(15, 0)
#define VTD_FRCD_HI_PRIV BIT(29)
#define VTD_FRCD_HI_EXE BIT(30)
#define VTD_FRCD_HI_PP BIT(31)
#define VTD_FRCD_HI_FR GENMASK(39, 32) /* fault reason */
#define VTD_FRCD_HI_PV GENMASK(59, 40)
#define VTD_FRCD_HI_AT GENMASK(61, 60)
#define VTD_FRCD_HI_T BIT(62) /* 0: write request, 1: read request */
#define VTD_FRCD_HI_F BIT(63) /* fault (RW1C) */
#define VTD_FRCD_HI_DW3 0xc   /* the F bit is cleared by a 32-bit write of this dword */
#define VTD_FRCD_DW3_F BIT(31)

/* Root entry (128), legacy mode (9.1) */
#define VTD_ROOT_LO_P BIT(0)
#define VTD_ROOT_LO_CTP GENMASK(63, 12)

/* Context entry (128), legacy mode (9.3) */
#define VTD_CTX_LO_P BIT(0)
#define VTD_CTX_LO_FPD BIT(1) /* fault processing disable */
#define VTD_CTX_LO_TT GENMASK(3, 2)
#define VTD_CTX_TT_UNTRANSLATED 0u /* second-level translation, no device TLB */
#define VTD_CTX_TT_DEVTLB 1u
#define VTD_CTX_TT_PASSTHROUGH 2u
#define VTD_CTX_LO_SLPTPTR GENMASK(63, 12)
#define VTD_CTX_HI_AW GENMASK(2, 0) /* 1: 39-bit, 2: 48-bit, 3: 57-bit */
#define VTD_CTX_HI_DID GENMASK(23, 8)

/* Second-level paging entry (9.8) */
#define VTD_SL_R BIT(0)
#define VTD_SL_W BIT(1)
#define VTD_SL_X BIT(2)
#define VTD_SL_PS BIT(7) /* large page (level 1/2 leaf) */
#define VTD_SL_ADDR_4K GENMASK(51, 12)
#define VTD_SL_ADDR_2M GENMASK(51, 21)
#define VTD_SL_ADDR_1G GENMASK(51, 30)

/* Interrupt remapping table entry (128), remappable format (9.10) */
#define VTD_IRTE_LO_P BIT(0)
#define VTD_IRTE_LO_FPD BIT(1)
#define VTD_IRTE_LO_DM BIT(2)		      /* destination mode: 1 logical */
#define VTD_IRTE_LO_RH BIT(3)		      /* redirection hint */
#define VTD_IRTE_LO_TM BIT(4)		      /* trigger mode: 1 level */
#define VTD_IRTE_LO_DLM GENMASK(7, 5)	      /* delivery mode */
#define VTD_IRTE_LO_IM BIT(15)		      /* 0: remapped, 1: posted */
#define VTD_IRTE_LO_V GENMASK(23, 16)	      /* vector */
#define VTD_IRTE_LO_DST GENMASK(63, 32)	      /* x2APIC: 32-bit APIC ID */
#define VTD_IRTE_LO_DST_XAPIC GENMASK(47, 40) /* xAPIC: 8-bit APIC ID */
#define VTD_IRTE_HI_SID GENMASK(15, 0)
#define VTD_IRTE_HI_SQ GENMASK(17, 16)	/* SID qualifier: functions ignored */
#define VTD_IRTE_HI_SVT GENMASK(19, 18) /* source validation type */
#define VTD_SVT_NONE 0u
#define VTD_SVT_SID 1u /* requester ID must match SID/SQ */
#define VTD_SVT_BUS 2u /* requester bus in [SID[15:8], SID[7:0]] */

/* Remappable-format MSI address (5.1.5.2) */
#define VTD_MSI_ADDR_BASE 0xfee00000u
#define VTD_MSI_ADDR_HANDLE15 BIT(2)
#define VTD_MSI_ADDR_SHV BIT(3)
#define VTD_MSI_ADDR_IF BIT(4) /* 1: remappable format */
#define VTD_MSI_ADDR_HANDLE GENMASK(19, 5)
/* IOAPIC redirection entry, remappable format (5.1.5.1) */
#define VTD_RTE_VECTOR GENMASK(7, 0) /* the IRTE's vector: used for EOI matching */
#define VTD_RTE_HANDLE15 BIT(11)
#define VTD_RTE_POLARITY_LOW BIT(13)
#define VTD_RTE_TRIGGER_LEVEL BIT(15)
#define VTD_RTE_MASK BIT(16)
#define VTD_RTE_IF BIT(48) /* 1: remappable format */
#define VTD_RTE_HANDLE GENMASK(63, 49)
/* Compatibility-format MSI address */
#define MSI_ADDR_DEST_ID GENMASK(19, 12)
#define MSI_DATA_VECTOR GENMASK(7, 0)

/* Invalidation descriptors (128), 6.5.2 */
#define VTD_DESC_TYPE GENMASK(3, 0)
#define VTD_DESC_CC 1u
#define VTD_DESC_IOTLB 2u
#define VTD_DESC_IEC 4u
#define VTD_DESC_WAIT 5u
/* context-cache invalidate */
#define VTD_CC_G GENMASK(5, 4)
#define VTD_CC_DID GENMASK(31, 16)
#define VTD_CC_SID GENMASK(47, 32)
#define VTD_CC_FM GENMASK(49, 48)
/* IOTLB invalidate */
#define VTD_IOTLB_G GENMASK(5, 4)
#define VTD_IOTLB_DESC_DW BIT(6)
#define VTD_IOTLB_DESC_DR BIT(7)
#define VTD_IOTLB_DESC_DID GENMASK(31, 16)
#define VTD_IOTLB_HI_AM GENMASK(5, 0)
#define VTD_IOTLB_HI_IH BIT(6)
#define VTD_IOTLB_HI_ADDR GENMASK(63, 12)
/* interrupt entry cache invalidate */
#define VTD_IEC_G BIT(4) /* 0: global, 1: index-selective */
#define VTD_IEC_IM GENMASK(31, 27)
#define VTD_IEC_IIDX GENMASK(47, 32)
/* invalidation wait */
#define VTD_WAIT_IF BIT(4)
#define VTD_WAIT_SW BIT(5)
#define VTD_WAIT_FN BIT(6)
#define VTD_WAIT_PD BIT(7)
#define VTD_WAIT_STATDATA GENMASK(63, 32)
#define VTD_WAIT_HI_STATADDR GENMASK(63, 2)

/* clang-format on */

#endif
