/* The local APIC's registers as a guest sees them (SDM Vol. 3 ch. 11): offsets in the xAPIC
 * page, the x2APIC MSR of each (0x800 + offset / 16), and their fields. */
#ifndef VMM_VLAPIC_REGS_H
#define VMM_VLAPIC_REGS_H

#include <moat/bits.h>

#define APIC_ID 0x020
#define APIC_ID_XAPIC GENMASK(31, 24) /* xAPIC mode: 8-bit ID in bits 31:24 */

#define APIC_VERSION 0x030
#define APIC_VERSION_VER GENMASK(7, 0)
#define APIC_VERSION_MAX_LVT GENMASK(23, 16)
#define APIC_VERSION_EOI_SUPPRESS BIT(24)
#define APIC_VERSION_INTEGRATED 0x14 /* an integrated APIC, as in every P6 and later */

#define APIC_TPR 0x080
#define APIC_APR 0x090
#define APIC_PPR 0x0a0
#define APIC_PRIO_CLASS GENMASK(7, 4) /* TPR, PPR, vectors: priority class */
#define APIC_PRIO_MASK GENMASK(7, 0)

#define APIC_EOI 0x0b0
#define APIC_RRD 0x0c0

#define APIC_LDR 0x0d0
#define APIC_LDR_XAPIC GENMASK(31, 24)
#define APIC_LDR_X2_CLUSTER GENMASK(31, 16) /* x2APIC: from the ID (SDM 11.12.10.2) */
#define APIC_LDR_X2_BITS GENMASK(15, 0)

#define APIC_DFR 0x0e0
#define APIC_DFR_MODEL GENMASK(31, 28)
#define APIC_DFR_FLAT 0xf
#define APIC_DFR_CLUSTER 0x0
#define APIC_DFR_ONES GENMASK(27, 0) /* reserved, read as ones */

#define APIC_SVR 0x0f0
#define APIC_SVR_VECTOR GENMASK(7, 0)
#define APIC_SVR_ENABLE BIT(8)
#define APIC_SVR_FOCUS_OFF BIT(9)
#define APIC_SVR_EOI_SUPPRESS BIT(12) /* not offered: reserved */

#define APIC_ISR 0x100 /* 8 registers of 32 vectors, 16 bytes apart */
#define APIC_TMR 0x180
#define APIC_IRR 0x200
#define APIC_VEC_REGS 8

#define APIC_ESR 0x280
#define APIC_ESR_SEND_CS BIT(0)
#define APIC_ESR_RECV_CS BIT(1)
#define APIC_ESR_SEND_ACCEPT BIT(2)
#define APIC_ESR_RECV_ACCEPT BIT(3)
#define APIC_ESR_REDIR_IPI BIT(4)
#define APIC_ESR_SEND_ILLEGAL BIT(5)
#define APIC_ESR_RECV_ILLEGAL BIT(6)
#define APIC_ESR_ILLEGAL_REG BIT(7)

#define APIC_LVT_CMCI 0x2f0

#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define APIC_ICR_VECTOR GENMASK(7, 0)
#define APIC_ICR_MODE GENMASK(10, 8)
#define APIC_ICR_LOGICAL BIT(11)
#define APIC_ICR_BUSY BIT(12) /* delivery status: always idle here */
#define APIC_ICR_ASSERT BIT(14)
#define APIC_ICR_LEVEL BIT(15)
#define APIC_ICR_SHORTHAND GENMASK(19, 18)
#define APIC_ICR_DEST_XAPIC GENMASK(31, 24) /* of ICR high */
#define APIC_ICR_WRITABLE                                                                          \
	(APIC_ICR_VECTOR | APIC_ICR_MODE | APIC_ICR_LOGICAL | APIC_ICR_ASSERT | APIC_ICR_LEVEL |   \
	 APIC_ICR_SHORTHAND)
enum apic_shorthand {
	APIC_SH_NONE = 0,
	APIC_SH_SELF = 1,
	APIC_SH_ALL = 2,
	APIC_SH_OTHERS = 3,
};

#define APIC_LVT_TIMER 0x320
#define APIC_LVT_THERMAL 0x330
#define APIC_LVT_PERF 0x340
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_LVT_VECTOR GENMASK(7, 0)
#define APIC_LVT_MODE GENMASK(10, 8)
#define APIC_LVT_PENDING BIT(12)
#define APIC_LVT_POLARITY BIT(13)
#define APIC_LVT_REMOTE_IRR BIT(14)
#define APIC_LVT_LEVEL BIT(15)
#define APIC_LVT_MASKED BIT(16)
#define APIC_LVT_TIMER_MODE GENMASK(18, 17)
enum apic_timer_mode {
	APIC_TIMER_ONESHOT = 0,
	APIC_TIMER_PERIODIC = 1,
	APIC_TIMER_TSC_DEADLINE = 2,
};

#define APIC_TIMER_INITIAL 0x380
#define APIC_TIMER_CURRENT 0x390
#define APIC_TIMER_DIVIDE 0x3e0
#define APIC_DIVIDE_LOW GENMASK(1, 0)
#define APIC_DIVIDE_HIGH BIT(3)

#define APIC_SELF_IPI 0x3f0 /* x2APIC only */

/* The x2APIC MSR of a register, and the register of an x2APIC MSR. */
#define X2APIC_MSR_FIRST 0x800
#define X2APIC_MSR_LAST 0x8ff
#define X2APIC_MSR(off) (X2APIC_MSR_FIRST + ((off) >> 4))
#define X2APIC_OFFSET(msr) (((msr)-X2APIC_MSR_FIRST) << 4)
#define X2APIC_BROADCAST 0xffffffffU
#define XAPIC_BROADCAST 0xffU

#define MSR_IA32_TSC_DEADLINE 0x6e0

#endif
