/* x86-64 descriptor formats shared by the hypervisor and its guests (SDM Vol. 3A 3.4.5
 * segment descriptors, 7.2.3 the 16-byte TSS descriptor, 7.7 the 64-bit TSS, 6.14.1 IDT
 * gates). */
#ifndef MOAT_X86_DESC_H
#define MOAT_X86_DESC_H

#include <moat/bits.h>
#include <moat/types.h>

/* Segment descriptor */
#define DESC_LIMIT_LO GENMASK(15, 0)
#define DESC_BASE_LO GENMASK(39, 16)
#define DESC_TYPE GENMASK(43, 40)
#define DESC_S BIT(44)
#define DESC_DPL GENMASK(46, 45)
#define DESC_P BIT(47)
#define DESC_L BIT(53)
#define DESC_BASE_MID GENMASK(63, 56)
#define TYPE_CODE_XR 0xa
#define TYPE_DATA_RW 0x2
#define TYPE_TSS_AVAIL 0x9

/* IDT gate: type/attribute byte */
#define GATE_P BIT(7)
#define GATE_DPL GENMASK(6, 5)
#define GATE_TYPE_INTR 0xe
#define GATE_INTERRUPT (GATE_P | GATE_TYPE_INTR) /* DPL 0 */

struct idt_gate {
	u16 offset_lo;
	u16 selector;
	u8 ist;
	u8 type_attr;
	u16 offset_mid;
	u32 offset_hi;
	u32 reserved;
} __packed;
SIZE_CHECK(struct idt_gate, 16);

struct tss64 {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
} __packed;
SIZE_CHECK(struct tss64, 104);

static inline struct idt_gate idt_gate_make(u64 handler, u16 selector, u8 ist, u8 type_attr)
{
	return (struct idt_gate){
		.offset_lo = (u16)handler,
		.selector = selector,
		.ist = ist,
		.type_attr = type_attr,
		.offset_mid = (u16)(handler >> 16),
		.offset_hi = (u32)(handler >> 32),
	};
}

/* The two GDT slots of an available 64-bit TSS at `base` */
static inline u64 tss_desc_lo(u64 base, u32 limit)
{
	return FIELD_PREP(DESC_LIMIT_LO, limit) | FIELD_PREP(DESC_BASE_LO, base & 0xffffff) |
	       FIELD_PREP(DESC_TYPE, TYPE_TSS_AVAIL) | DESC_P |
	       FIELD_PREP(DESC_BASE_MID, (base >> 24) & 0xff);
}

static inline u64 tss_desc_hi(u64 base)
{
	return base >> 32;
}

#endif
