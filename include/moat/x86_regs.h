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

/* CPUID leaves */
#define CPUID_LEAF_FEATURES	0x1
#define CPUID_LEAF_MWAIT	0x5
#define CPUID_LEAF_EXT_FEATURES_7 0x7
#define CPUID_LEAF_PMU		0xa /* architectural performance monitoring */
#define CPUID_LEAF_XSAVE	0xd /* subleaf 0: EDX:EAX the XCR0 bits the CPU supports */
#define CPUID_LEAF_HV		0x40000000 /* hypervisor vendor leaf */
#define CPUID_LEAF_EXT_MAX	0x80000000
#define CPUID_LEAF_EXT_FEATURES	0x80000001
#define CPUID_LEAF_ADDR_SIZES	0x80000008
#define CPUID_LEAF_SVM		0x8000000a

/* CPUID.1:EBX */
#define CPUID_1_EBX_APIC_ID	GENMASK(31, 24)
/* CPUID.1:ECX */
#define CPUID_1_ECX_MONITOR	BIT(3)
#define CPUID_1_ECX_VMX		BIT(5)
#define CPUID_1_ECX_X2APIC	BIT(21)
#define CPUID_1_ECX_XSAVE	BIT(26)
#define CPUID_1_ECX_OSXSAVE	BIT(27)
#define CPUID_1_ECX_HYPERVISOR	BIT(31)
/* CPUID.1:EDX */
#define CPUID_1_EDX_APIC	BIT(9)
/* CPUID.7.0:ECX */
#define CPUID_7_ECX_RDPID	BIT(22)
/* CPUID.80000001h:ECX */
#define CPUID_80000001_ECX_SVM	BIT(2)
#define CPUID_80000001_ECX_PERFCTR_CORE BIT(23)
#define CPUID_80000001_ECX_MONITORX BIT(29)
/* CPUID.80000001h:EDX */
#define CPUID_80000001_EDX_NX	BIT(20)
#define CPUID_80000001_EDX_1G	BIT(26)
#define CPUID_80000001_EDX_RDTSCP BIT(27)
/* CPUID.80000008h:EAX */
#define CPUID_80000008_EAX_PA_BITS GENMASK(7, 0)

/* clang-format on */

#endif
