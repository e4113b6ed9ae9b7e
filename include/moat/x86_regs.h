/* x86-64 architectural register bits and CPUID leaves, defined once for the hypervisor and
 * its guests (SDM Vol. 3A 2.5 control registers, 2.2.1 EFER, 17.2 debug registers; Vol. 2A
 * CPUID; APM Vol. 3 E.4 extended CPUID). Pure definitions: host unit tests include it. */
#ifndef MOAT_X86_REGS_H
#define MOAT_X86_REGS_H

#include <moat/bits.h>

/* Bit definitions are indented under their register. */
/* clang-format off */

/* CR0 */
#define CR0_PE			BIT(0)
#define CR0_MP			BIT(1)
#define CR0_ET			BIT(4)
#define CR0_NE			BIT(5)
#define CR0_WP			BIT(16)
#define CR0_AM			BIT(18)
#define CR0_NW			BIT(29)
#define CR0_CD			BIT(30)
#define CR0_PG			BIT(31)
#define CR0_RESERVED		GENMASK(63, 32)
#define CR0_INIT		(CR0_CD | CR0_NW | CR0_ET) /* after RESET and INIT: 0x60000010 */

/* CR4 */
#define CR4_PAE			BIT(5)
#define CR4_PGE			BIT(7)
#define CR4_OSFXSR		BIT(9)
#define CR4_OSXMMEXCPT		BIT(10)
#define CR4_VMXE		BIT(13)
#define CR4_FSGSBASE		BIT(16)
#define CR4_PCIDE		BIT(17)
#define CR4_OSXSAVE		BIT(18)

/* XCR0 (XSETBV/XGETBV with ECX 0; SDM Vol. 1 13.3) */
#define XCR0_X87		BIT(0)
#define XCR0_SSE		BIT(1)
#define XCR0_AVX		BIT(2)
#define XCR0_BNDREGS		BIT(3)
#define XCR0_BNDCSR		BIT(4)
#define XCR0_MPX		(XCR0_BNDREGS | XCR0_BNDCSR)
#define XCR0_AVX512		GENMASK(7, 5) /* opmask, ZMM_Hi256, Hi16_ZMM */
#define XCR0_TILE		GENMASK(18, 17) /* AMX TILECFG, TILEDATA */

/* RFLAGS */
#define RFLAGS_TF		BIT(8)
#define RFLAGS_IF		BIT(9)
#define RFLAGS_RF		BIT(16)

/* DR6 */
#define DR6_B(n)		BIT(n)
#define DR6_B_ALL		GENMASK(3, 0)
#define DR6_BD			BIT(13)
#define DR6_BS			BIT(14)
#define DR6_INIT		0xffff0ff0ull /* at reset: the reserved bits set */
/* DR7 */
#define DR7_RW(n)		GENMASK(17 + 4 * (n), 16 + 4 * (n)) /* 00: instruction execution */
#define DR7_GE			BIT(9)
#define DR7_INIT		0x400ull

/* IA32_EFER */
#define MSR_EFER		0xc0000080
#define EFER_SCE		BIT(0)
#define EFER_LME		BIT(8)
#define EFER_LMA		BIT(10)
#define EFER_NXE		BIT(11)
#define EFER_SVME		BIT(12)
/* Segment bases */
#define MSR_FS_BASE		0xc0000100
#define MSR_GS_BASE		0xc0000101
#define MSR_KERNEL_GS_BASE	0xc0000102
/* IA32_TSC_AUX (RDTSCP, RDPID) */
#define MSR_TSC_AUX		0xc0000103

/* Syscall MSRs */
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_IA32_SYSENTER_CS	0x174
#define MSR_IA32_SYSENTER_ESP	0x175
#define MSR_IA32_SYSENTER_EIP	0x176
/* Time stamp counter */
#define MSR_IA32_TSC		0x10
#define MSR_IA32_TSC_DEADLINE	0x6e0
/* The x2APIC's registers */
#define MSR_X2APIC_FIRST	0x800
#define MSR_X2APIC_LAST		0x8ff
/* Speculation control (CPUID.7.0:EDX bits 26, 29) */
#define MSR_IA32_SPEC_CTRL	0x48
#define MSR_IA32_PRED_CMD	0x49
#define MSR_IA32_ARCH_CAPABILITIES 0x10a
/* IA32_BIOS_SIGN_ID (Intel) / PATCH_LEVEL (AMD): the microcode revision in bits 63:32 */
#define MSR_IA32_UCODE_REV	0x8b
/* MSR_PLATFORM_INFO (Intel): ratios of the non-turbo and minimum frequencies */
#define MSR_PLATFORM_INFO	0xce
/* Machine check */
#define MSR_IA32_MCG_CAP	0x179
#define MSR_IA32_MCG_STATUS	0x17a
/* IA32_MISC_ENABLE (Intel) */
#define MSR_IA32_MISC_ENABLE	0x1a0
#define MISC_ENABLE_FAST_STRING	BIT(0)
#define MISC_ENABLE_BTS_UNAVAIL	BIT(11)
#define MISC_ENABLE_PEBS_UNAVAIL BIT(12)
/* IA32_MTRRCAP */
#define MSR_MTRR_CAP		0xfe
#define MTRR_CAP_VCNT		GENMASK(7, 0)
#define MTRR_CAP_FIX		BIT(8)
#define MTRR_CAP_WC		BIT(10)
/* IA32_MTRR_PHYSBASE0 */
#define MSR_MTRR_PHYS_BASE0	0x200
/* IA32_MTRR_DEF_TYPE */
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MTRR_DEF_TYPE_TYPE	GENMASK(7, 0)
#define MTRR_DEF_TYPE_FE	BIT(10)
#define MTRR_DEF_TYPE_E		BIT(11)
/* Memory types (MTRR and PAT encodings) */
#define MEMTYPE_UC		0
#define MEMTYPE_WC		1
#define MEMTYPE_WT		4
#define MEMTYPE_WP		5
#define MEMTYPE_WB		6
#define MEMTYPE_UC_MINUS	7 /* PAT only */
/* IA32_PAT: eight entries of one byte, the type in bits 2:0 */
#define MSR_IA32_PAT		0x277
#define PAT_POWER_ON		0x0007040600070406ull /* WB, WT, UC-, UC, twice */
/* AMD */
#define MSR_AMD_PERF_CTL0	0xc0010000
#define MSR_AMD_SYSCFG		0xc0010010
#define MSR_AMD_HWCR		0xc0010015
#define HWCR_TSC_FREQ_SEL	BIT(24) /* the TSC counts at the P0 frequency */
#define MSR_AMD_INT_PENDING_MSG	0xc0010055 /* K8: C1E on CMP halt (erratum 400) */
#define MSR_AMD_VIRT_SPEC_CTRL	0xc001011f
#define MSR_AMD_DE_CFG		0xc0011029

/* CPUID leaves */
#define CPUID_LEAF_MAX		0x0 /* EAX: highest basic leaf; EBX/EDX/ECX: vendor */
#define CPUID_LEAF_FEATURES	0x1
#define CPUID_LEAF_CACHE_DESC	0x2
#define CPUID_LEAF_CACHE_PARAMS	0x4 /* Intel deterministic cache parameters */
#define CPUID_LEAF_MWAIT	0x5
#define CPUID_LEAF_POWER	0x6 /* thermal and power management */
#define CPUID_LEAF_EXT_FEATURES_7 0x7
#define CPUID_LEAF_PMU		0xa /* architectural performance monitoring */
#define CPUID_LEAF_TOPOLOGY	0xb /* extended topology */
#define CPUID_LEAF_XSAVE	0xd
#define CPUID_LEAF_TSC		0x15 /* TSC / crystal clock ratio */
#define CPUID_LEAF_FREQ		0x16 /* processor frequencies */
#define CPUID_LEAF_TOPOLOGY_V2	0x1f
#define CPUID_LEAF_HV		0x40000000 /* hypervisor vendor leaf */
#define CPUID_LEAF_EXT_MAX	0x80000000
#define CPUID_LEAF_EXT_FEATURES	0x80000001
#define CPUID_LEAF_BRAND0	0x80000002
#define CPUID_LEAF_BRAND2	0x80000004
#define CPUID_LEAF_L1_CACHE	0x80000005
#define CPUID_LEAF_L2_CACHE	0x80000006
#define CPUID_LEAF_EXT_POWER	0x80000007
#define CPUID_LEAF_ADDR_SIZES	0x80000008
#define CPUID_LEAF_SVM		0x8000000a
#define CPUID_LEAF_AMD_CACHE_TOPO 0x8000001d
#define CPUID_LEAF_AMD_TOPOLOGY	0x8000001e
#define CPUID_LEAF_AMD_SME	0x8000001f

/* CPUID.0:EBX,EDX,ECX */
#define CPUID_VENDOR_INTEL_EBX	0x756e6547 /* "Genu" */
#define CPUID_VENDOR_AMD_EBX	0x68747541 /* "Auth" */

/* CPUID.1:EBX */
#define CPUID_1_EBX_CLFLUSH	GENMASK(15, 0) /* brand index, CLFLUSH line size */
#define CPUID_1_EBX_NR_LOGICAL	GENMASK(23, 16)
#define CPUID_1_EBX_APIC_ID	GENMASK(31, 24)
/* CPUID.1:ECX */
#define CPUID_1_ECX_SSE3	BIT(0)
#define CPUID_1_ECX_PCLMULQDQ	BIT(1)
#define CPUID_1_ECX_MONITOR	BIT(3)
#define CPUID_1_ECX_VMX		BIT(5)
#define CPUID_1_ECX_SSSE3	BIT(9)
#define CPUID_1_ECX_FMA		BIT(12)
#define CPUID_1_ECX_CX16	BIT(13)
#define CPUID_1_ECX_PDCM	BIT(15)
#define CPUID_1_ECX_PCID	BIT(17)
#define CPUID_1_ECX_SSE41	BIT(19)
#define CPUID_1_ECX_SSE42	BIT(20)
#define CPUID_1_ECX_X2APIC	BIT(21)
#define CPUID_1_ECX_MOVBE	BIT(22)
#define CPUID_1_ECX_POPCNT	BIT(23)
#define CPUID_1_ECX_TSC_DEADLINE BIT(24)
#define CPUID_1_ECX_AES		BIT(25)
#define CPUID_1_ECX_XSAVE	BIT(26)
#define CPUID_1_ECX_OSXSAVE	BIT(27)
#define CPUID_1_ECX_AVX		BIT(28)
#define CPUID_1_ECX_F16C	BIT(29)
#define CPUID_1_ECX_RDRAND	BIT(30)
#define CPUID_1_ECX_HYPERVISOR	BIT(31)
/* CPUID.1:EDX */
#define CPUID_1_EDX_FPU		BIT(0)
#define CPUID_1_EDX_VME		BIT(1)
#define CPUID_1_EDX_DE		BIT(2)
#define CPUID_1_EDX_PSE		BIT(3)
#define CPUID_1_EDX_TSC		BIT(4)
#define CPUID_1_EDX_MSR		BIT(5)
#define CPUID_1_EDX_PAE		BIT(6)
#define CPUID_1_EDX_MCE		BIT(7)
#define CPUID_1_EDX_CX8		BIT(8)
#define CPUID_1_EDX_APIC	BIT(9)
#define CPUID_1_EDX_SEP		BIT(11)
#define CPUID_1_EDX_MTRR	BIT(12)
#define CPUID_1_EDX_PGE		BIT(13)
#define CPUID_1_EDX_MCA		BIT(14)
#define CPUID_1_EDX_CMOV	BIT(15)
#define CPUID_1_EDX_PAT		BIT(16)
#define CPUID_1_EDX_PSE36	BIT(17)
#define CPUID_1_EDX_CLFSH	BIT(19)
#define CPUID_1_EDX_DS		BIT(21)
#define CPUID_1_EDX_ACPI	BIT(22)
#define CPUID_1_EDX_MMX		BIT(23)
#define CPUID_1_EDX_FXSR	BIT(24)
#define CPUID_1_EDX_SSE		BIT(25)
#define CPUID_1_EDX_SSE2	BIT(26)
#define CPUID_1_EDX_SS		BIT(27)
#define CPUID_1_EDX_HTT		BIT(28)
#define CPUID_1_EDX_TM		BIT(29)
/* CPUID.4:EAX */
#define CPUID_4_EAX_TYPE	GENMASK(4, 0) /* 0: no more caches */
#define CPUID_4_EAX_LEVEL	GENMASK(7, 5)
#define CPUID_4_EAX_SHARING	GENMASK(25, 14) /* logical processors sharing it, - 1 */
#define CPUID_4_EAX_CORES	GENMASK(31, 26) /* cores in the package, - 1 */
/* CPUID.6:EAX */
#define CPUID_6_EAX_ARAT	BIT(2) /* the APIC timer runs in every C-state */
/* CPUID.7.0:EAX */
#define CPUID_7_EAX_MAX_SUBLEAF	GENMASK(31, 0)
/* CPUID.7.0:EBX */
#define CPUID_7_EBX_FSGSBASE	BIT(0)
#define CPUID_7_EBX_TSC_ADJUST	BIT(1)
#define CPUID_7_EBX_BMI1	BIT(3)
#define CPUID_7_EBX_HLE		BIT(4)
#define CPUID_7_EBX_AVX2	BIT(5)
#define CPUID_7_EBX_FDP_EXCPTN	BIT(6)
#define CPUID_7_EBX_SMEP	BIT(7)
#define CPUID_7_EBX_BMI2	BIT(8)
#define CPUID_7_EBX_ERMS	BIT(9)
#define CPUID_7_EBX_INVPCID	BIT(10)
#define CPUID_7_EBX_RTM		BIT(11)
#define CPUID_7_EBX_FCS_FDS_DEP	BIT(13)
#define CPUID_7_EBX_RDSEED	BIT(18)
#define CPUID_7_EBX_ADX		BIT(19)
#define CPUID_7_EBX_SMAP	BIT(20)
#define CPUID_7_EBX_CLFLUSHOPT	BIT(23)
#define CPUID_7_EBX_CLWB	BIT(24)
#define CPUID_7_EBX_SHA		BIT(29)
/* CPUID.7.0:ECX */
#define CPUID_7_ECX_UMIP	BIT(2)
#define CPUID_7_ECX_GFNI	BIT(8)
#define CPUID_7_ECX_VAES	BIT(9)
#define CPUID_7_ECX_VPCLMULQDQ	BIT(10)
#define CPUID_7_ECX_RDPID	BIT(22)
#define CPUID_7_ECX_CLDEMOTE	BIT(25)
#define CPUID_7_ECX_MOVDIRI	BIT(27)
#define CPUID_7_ECX_MOVDIR64B	BIT(28)
/* CPUID.7.0:EDX */
#define CPUID_7_EDX_FSRM	BIT(4)
#define CPUID_7_EDX_MD_CLEAR	BIT(10)
#define CPUID_7_EDX_SERIALIZE	BIT(14)
#define CPUID_7_EDX_SPEC_CTRL	BIT(26) /* IBRS and IBPB */
#define CPUID_7_EDX_STIBP	BIT(27)
#define CPUID_7_EDX_ARCH_CAPS	BIT(29)
#define CPUID_7_EDX_SSBD	BIT(31)
/* CPUID.0Bh / 1Fh */
#define CPUID_TOPO_EAX_SHIFT	GENMASK(4, 0) /* x2APIC ID bits below the next level */
#define CPUID_TOPO_EBX_COUNT	GENMASK(15, 0) /* logical processors at this level */
#define CPUID_TOPO_ECX_LEVEL	GENMASK(7, 0)
#define CPUID_TOPO_ECX_TYPE	GENMASK(15, 8)
#define   CPUID_TOPO_TYPE_SMT	1
#define   CPUID_TOPO_TYPE_CORE	2
/* CPUID.0Dh.0 / 0Dh.1:EAX */
#define XFEATURE_X87		BIT(0)
#define XFEATURE_SSE		BIT(1)
#define XFEATURE_AVX		BIT(2)
#define CPUID_D1_EAX_XSAVEOPT	BIT(0)
/* CPUID.80000001h:ECX */
#define CPUID_80000001_ECX_LAHF	BIT(0)
#define CPUID_80000001_ECX_CMP_LEGACY BIT(1)
#define CPUID_80000001_ECX_SVM	BIT(2)
#define CPUID_80000001_ECX_CR8_LEGACY BIT(4)
#define CPUID_80000001_ECX_ABM	BIT(5)
#define CPUID_80000001_ECX_SSE4A BIT(6)
#define CPUID_80000001_ECX_MISALIGNSSE BIT(7)
#define CPUID_80000001_ECX_PREFETCHW BIT(8)
#define CPUID_80000001_ECX_OSVW	BIT(9)
#define CPUID_80000001_ECX_IBS	BIT(10)
#define CPUID_80000001_ECX_XOP	BIT(11)
#define CPUID_80000001_ECX_FMA4	BIT(16)
#define CPUID_80000001_ECX_NODEID_MSR BIT(19)
#define CPUID_80000001_ECX_TOPOEXT BIT(22)
#define CPUID_80000001_ECX_PERFCTR_CORE BIT(23)
#define CPUID_80000001_ECX_MONITORX BIT(29)
/* CPUID.80000001h:EDX (bits 0-17 and 23-24 mirror CPUID.1:EDX on AMD) */
#define CPUID_80000001_EDX_SYSCALL BIT(11)
#define CPUID_80000001_EDX_NX	BIT(20)
#define CPUID_80000001_EDX_MMXEXT BIT(22)
#define CPUID_80000001_EDX_FFXSR BIT(25)
#define CPUID_80000001_EDX_1G	BIT(26)
#define CPUID_80000001_EDX_RDTSCP BIT(27)
#define CPUID_80000001_EDX_LM	BIT(29)
#define CPUID_80000001_EDX_3DNOWEXT BIT(30)
#define CPUID_80000001_EDX_3DNOW BIT(31)
/* CPUID.80000007h:EDX */
#define CPUID_80000007_EDX_INVARIANT_TSC BIT(8)
/* CPUID.80000008h:EAX */
#define CPUID_80000008_EAX_PA_BITS GENMASK(7, 0)
/* CPUID.80000008h:EBX */
#define CPUID_80000008_EBX_CLZERO BIT(0)
#define CPUID_80000008_EBX_XSAVEERPTR BIT(2)
/* CPUID.80000008h:ECX */
#define CPUID_80000008_ECX_NC	GENMASK(7, 0) /* cores - 1 */
#define CPUID_80000008_ECX_APIC_ID_SIZE GENMASK(15, 12)
/* CPUID.8000001Dh:EAX */
#define CPUID_8000001D_EAX_SHARING GENMASK(25, 14)
/* CPUID.8000001Eh */
#define CPUID_8000001E_EBX_CORE_ID GENMASK(7, 0)
#define CPUID_8000001E_EBX_THREADS GENMASK(15, 8) /* threads per core, - 1 */
#define CPUID_8000001E_ECX_NODE_ID GENMASK(7, 0)

/* clang-format on */

#endif
