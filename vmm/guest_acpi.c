/* ACPI tables for an operating-system guest (ACPI 6.5: 5.2.5 RSDP, 5.2.8 XSDT, 5.2.9 FADT,
 * 5.2.10 FACS, 5.2.11 DSDT, 5.2.12 MADT). Pure: host unit tests link this file. */
#include <moat/acpi.h>
#include <moat/bits.h>
#include <moat/string.h>
#include "acpi/acpi_parse.h"
#include "vmm/guest_acpi.h"

#define OEM_ID "MOAT  "
#define OEM_TABLE_ID "MOATGST "
#define CREATOR_ID 0x54414f4d /* "MOAT" */

/* Generic Address Structure (5.2.3.2) */
struct acpi_gas {
	u8 space_id;
	u8 bit_width;
	u8 bit_offset;
	u8 access_size;
	u64 address;
} __packed;
SIZE_CHECK(struct acpi_gas, 12);
#define GAS_SYSTEM_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

struct acpi_fadt {
	struct acpi_sdt_header h;
	u32 firmware_ctrl, dsdt;
	u8 reserved0, preferred_pm_profile;
	u16 sci_int;
	u32 smi_cmd;
	u8 acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	u32 pm1a_evt_blk, pm1b_evt_blk, pm1a_cnt_blk, pm1b_cnt_blk, pm2_cnt_blk, pm_tmr_blk;
	u32 gpe0_blk, gpe1_blk;
	u8 pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_blk_len, gpe1_blk_len;
	u8 gpe1_base, cst_cnt;
	u16 p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	u8 duty_offset, duty_width, day_alrm, mon_alrm, century;
	u16 iapc_boot_arch;
	u8 reserved1;
	u32 flags;
	struct acpi_gas reset_reg;
	u8 reset_value;
	u16 arm_boot_arch;
	u8 minor_version;
	u64 x_firmware_ctrl, x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk, x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk, x_pm_tmr_blk, x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	u64 hypervisor_vendor_id;
} __packed;
SIZE_CHECK(struct acpi_fadt, 276);

/* FADT.IAPC_BOOT_ARCH: no VGA (and no 8042: bit 1 clear; a CMOS RTC: bit 5 clear) */
#define IAPC_VGA_NOT_PRESENT BIT(2)
/* FADT.Flags */
#define FADT_WBINVD BIT(0)
#define FADT_PROC_C1 BIT(2)
#define FADT_PWR_BUTTON BIT(4) /* no fixed power button */
#define FADT_SLP_BUTTON BIT(5) /* no fixed sleep button */
#define FADT_TMR_VAL_EXT BIT(8)
#define FADT_RESET_REG_SUP BIT(10)
#define C2_NOT_SUPPORTED 101
#define C3_NOT_SUPPORTED 1001

struct acpi_facs {
	char signature[4];
	u32 length;
	u32 hardware_signature, firmware_waking_vector, global_lock, flags;
	u64 x_firmware_waking_vector;
	u8 version;
	u8 reserved[3];
	u32 ospm_flags;
	u8 reserved2[24];
} __packed;
SIZE_CHECK(struct acpi_facs, 64);

/* MADT (5.2.12) and its Processor Local APIC structure (5.2.12.2) */
struct acpi_madt {
	struct acpi_sdt_header h;
	u32 lapic_addr, flags;
} __packed;
SIZE_CHECK(struct acpi_madt, 44);

struct acpi_madt_lapic {
	u8 type, length, uid, apic_id;
	u32 flags;
} __packed;
SIZE_CHECK(struct acpi_madt_lapic, 8);
#define MADT_LAPIC 0
#define MADT_LAPIC_ENABLED BIT(0)

/* I/O APIC structure (5.2.12.3) and Interrupt Source Override (5.2.12.5) */
struct acpi_madt_ioapic {
	u8 type, length, id, reserved;
	u32 address, gsi_base;
} __packed;
SIZE_CHECK(struct acpi_madt_ioapic, 12);
#define MADT_IOAPIC 1

struct acpi_madt_iso {
	u8 type, length, bus, source;
	u32 gsi;
	u16 flags;
} __packed;
SIZE_CHECK(struct acpi_madt_iso, 10);
#define MADT_ISO 2
#define MADT_ISO_BUS_ISA 0
/* MPS INTI flags (5.2.12.5, table 5.50) */
#define MPS_INTI_POLARITY GENMASK(1, 0)
#define MPS_INTI_POLARITY_HIGH 1
#define MPS_INTI_TRIGGER GENMASK(3, 2)
#define MPS_INTI_TRIGGER_LEVEL 3

/* MADT.Flags: PCAT_COMPAT (bit 0) says a dual 8259 is there; moat emulates none, so an OS
 * routes every ISA interrupt through the IOAPIC (Linux: "Using NULL legacy PIC"). */
#define MADT_PCAT_COMPAT BIT(0)

/* The overrides a PC's firmware lists: the PIT's IRQ 0 on pin 2; the SCI level-triggered
 * and active-high as moat drives it (without an override an OS takes it active-low). */
static const struct acpi_madt_iso madt_isos[] = {
	{MADT_ISO, sizeof(struct acpi_madt_iso), MADT_ISO_BUS_ISA, 0, GUEST_IOAPIC_PIN_IRQ0, 0},
	{MADT_ISO, sizeof(struct acpi_madt_iso), MADT_ISO_BUS_ISA, GUEST_SCI_IRQ, GUEST_SCI_IRQ,
	 (u16)(FIELD_PREP(MPS_INTI_POLARITY, MPS_INTI_POLARITY_HIGH) |
	       FIELD_PREP(MPS_INTI_TRIGGER, MPS_INTI_TRIGGER_LEVEL))},
};

/* DSDT body, AML (ACPI 6.5 chapter 20; as iasl compiles it):
 *   Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero })
 *   Scope (\_SB) { Device (PCI0) {
 *     Name (_HID, EisaId ("PNP0A03"))  Name (_UID, Zero)
 *     Name (_CRS, ResourceTemplate () {
 *       WordBusNumber (ResourceProducer, MinFixed, MaxFixed, PosDecode, 0, 0, 0, 0, 1)
 *       IO (Decode16, 0x0CF8, 0x0CF8, 0x01, 0x08)
 *       DWordMemory (ResourceProducer, PosDecode, MinFixed, MaxFixed, NonCacheable,
 *                    ReadWrite, 0, GUEST_PCI_MEM_BASE, GUEST_PCI_MEM_END, 0, length) }) } } */
#define AML_DWORD(v) (u8)(v), (u8)((v) >> 8), (u8)((v) >> 16), (u8)((v) >> 24)
#define AML_NAME(a, b, c, d) 0x08, a, b, c, d /* NameOp NameSeg */
static const u8 dsdt_aml[] = {
	AML_NAME('_', 'S', '5', '_'), 0x12, 0x08, 0x04, 0x0a, GUEST_SLP_TYP_S5, 0x0a,
	GUEST_SLP_TYP_S5, 0x00, 0x00, 0x10, 0x4b, 0x05, '_', 'S', 'B',
	'_',							    /* ScopeOp PkgLength(91) */
	0x5b, 0x82, 0x43, 0x05, 'P', 'C', 'I', '0',		    /* DeviceOp PkgLength(83) */
	AML_NAME('_', 'H', 'I', 'D'), 0x0c, 0x41, 0xd0, 0x0a, 0x03, /* DWordConst EISA ID */
	AML_NAME('_', 'U', 'I', 'D'), 0x00, AML_NAME('_', 'C', 'R', 'S'), 0x11, 0x37, 0x0a,
	0x34, /* Buffer (52) */
	/* Word Address Space Descriptor (6.4.3.5.3): bus numbers, producer, fixed 0..0 */
	0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x00,
	/* I/O Port Descriptor (6.4.2.5): 0xCF8, 8 ports */
	0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
	/* DWord Address Space Descriptor (6.4.3.5.2): memory, producer, fixed, read-write */
	0x87, 0x17, 0x00, 0x00, 0x0c, 0x01, AML_DWORD(0), AML_DWORD(GUEST_PCI_MEM_BASE),
	AML_DWORD(GUEST_PCI_MEM_END), AML_DWORD(0),
	AML_DWORD(GUEST_PCI_MEM_END - GUEST_PCI_MEM_BASE + 1), 0x79, 0x00, /* End Tag */
};
STATIC_ASSERT(sizeof(dsdt_aml) == 14 + 1 + 91, "the PkgLengths above");

static void header(struct acpi_sdt_header *h, const char *sig, u32 length, u8 revision)
{
	memcpy(h->signature, sig, 4);
	h->length = length;
	h->revision = revision;
	memcpy(h->oem_id, OEM_ID, 6);
	memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
	h->oem_revision = 1;
	h->creator_id = CREATOR_ID;
	h->creator_revision = 1;
}

static void seal(struct acpi_sdt_header *h)
{
	h->checksum = 0;
	h->checksum = (u8)(0x100 - acpi_checksum(h, h->length));
}

static struct acpi_gas io_gas(u16 port, u8 bytes)
{
	return (struct acpi_gas){GAS_SYSTEM_IO, (u8)(bytes * 8), 0,
				 bytes == 1   ? GAS_ACCESS_BYTE
				 : bytes == 2 ? GAS_ACCESS_WORD
					      : GAS_ACCESS_DWORD,
				 port};
}

static void fadt_fill(struct acpi_fadt *f, u64 facs, u64 dsdt)
{
	header(&f->h, "FACP", sizeof(*f), 6);
	/* ACPI 6.4 5.2.9: X_FIRMWARE_CTRL is for a FACS above 4 GiB, and when it is set
	 * FIRMWARE_CTRL must be zero; ours is below, so only the 32-bit field names it
	 * (both set, Linux installs the FACS twice). */
	f->firmware_ctrl = (u32)facs;
	f->dsdt = (u32)dsdt;
	f->x_dsdt = dsdt;
	f->sci_int = GUEST_SCI_IRQ;
	f->pm1a_evt_blk = GUEST_PM1A_EVT_PORT;
	f->pm1a_cnt_blk = GUEST_PM1A_CNT_PORT;
	f->pm_tmr_blk = GUEST_PM_TMR_PORT;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->pm_tmr_len = 4;
	f->x_pm1a_evt_blk = io_gas(GUEST_PM1A_EVT_PORT, 4);
	f->x_pm1a_cnt_blk = io_gas(GUEST_PM1A_CNT_PORT, 2);
	f->x_pm_tmr_blk = io_gas(GUEST_PM_TMR_PORT, 4);
	f->p_lvl2_lat = C2_NOT_SUPPORTED;
	f->p_lvl3_lat = C3_NOT_SUPPORTED;
	f->iapc_boot_arch = IAPC_VGA_NOT_PRESENT;
	f->century = GUEST_RTC_CENTURY;
	f->flags = FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
		   FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP;
	f->reset_reg = io_gas(GUEST_RESET_PORT, 1);
	f->reset_value = GUEST_RESET_VALUE;
	f->minor_version = 5;
	memcpy(&f->hypervisor_vendor_id, "moat\0\0\0\0", 8);
}

static size_t madt_size(const struct guest_acpi_cfg *c)
{
	size_t n = sizeof(struct acpi_madt) + c->nr_cpus * sizeof(struct acpi_madt_lapic);

	if (c->ioapic_base)
		n += sizeof(struct acpi_madt_ioapic) + sizeof(madt_isos);
	return n;
}

static void madt_fill(u8 *p, const struct guest_acpi_cfg *c, u32 length)
{
	struct acpi_madt *m = (struct acpi_madt *)p;
	struct acpi_madt_lapic *l = (struct acpi_madt_lapic *)(m + 1);
	struct acpi_madt_ioapic *io = (struct acpi_madt_ioapic *)(l + c->nr_cpus);

	header(&m->h, "APIC", length, 5);
	m->lapic_addr = (u32)c->lapic_base;
	m->flags = 0; /* not MADT_PCAT_COMPAT: no 8259 pair */
	for (unsigned i = 0; i < c->nr_cpus; i++)
		l[i] = (struct acpi_madt_lapic){MADT_LAPIC, sizeof(*l), (u8)i, c->apic_ids[i],
						MADT_LAPIC_ENABLED};
	if (!c->ioapic_base)
		return;
	*io = (struct acpi_madt_ioapic){MADT_IOAPIC, sizeof(*io),	  c->ioapic_id,
					0,	     (u32)c->ioapic_base, 0};
	memcpy(io + 1, madt_isos, sizeof(madt_isos));
}

static void rsdp_fill(struct acpi_rsdp *r, u64 xsdt)
{
	memcpy(r->signature, "RSD PTR ", 8);
	memcpy(r->oem_id, OEM_ID, 6);
	r->revision = 2;
	r->length = sizeof(*r);
	r->xsdt = xsdt;
	r->checksum = (u8)(0x100 - acpi_checksum(r, ACPI_RSDP_V1_LEN));
	r->ext_checksum = (u8)(0x100 - acpi_checksum(r, sizeof(*r)));
}

/* One local APIC per vCPU, each ID its own and none the broadcast ID 0xFF (ACPI 6.5
 * 5.2.12.2; an OS drops a repeated ID and the vCPU behind it). */
static bool apic_ids_valid(const struct guest_acpi_cfg *c)
{
	for (unsigned i = 0; i < c->nr_cpus; i++) {
		if (c->apic_ids[i] == 0xff)
			return false;
		for (unsigned j = 0; j < i; j++)
			if (c->apic_ids[i] == c->apic_ids[j])
				return false;
	}
	return true;
}

size_t guest_acpi_build(u8 *buf, u64 gpa, size_t cap, const struct guest_acpi_cfg *c)
{
	/* RSDP, FACS (64-byte aligned), DSDT, FADT, MADT, XSDT: offsets in buf */
	size_t rsdp = 0, facs = 64, dsdt = facs + sizeof(struct acpi_facs);
	size_t fadt = ALIGN_UP(dsdt + sizeof(struct acpi_sdt_header) + sizeof(dsdt_aml), 16);
	size_t madt = ALIGN_UP(fadt + sizeof(struct acpi_fadt), 16);
	size_t madt_len = madt_size(c);
	size_t xsdt = ALIGN_UP(madt + madt_len, 16);
	size_t xsdt_len = sizeof(struct acpi_sdt_header) + 2 * sizeof(u64);
	struct acpi_sdt_header *h;
	struct acpi_facs *fs;
	u64 entries[2];

	/* address 0 is "no RSDP" in every hand-off (zero page, boot loaders) */
	if (!c->nr_cpus || c->nr_cpus > GUEST_ACPI_MAX_CPUS || !apic_ids_valid(c) || !gpa ||
	    xsdt + xsdt_len > cap || gpa + cap > BIT(32) || c->ioapic_base >= BIT(32) ||
	    c->ioapic_id > GUEST_IOAPIC_ID_MAX)
		return 0;
	memset(buf, 0, xsdt + xsdt_len);
	fs = (struct acpi_facs *)(buf + facs);
	memcpy(fs->signature, "FACS", 4);
	fs->length = sizeof(*fs);
	fs->version = 2;
	h = (struct acpi_sdt_header *)(buf + dsdt);
	header(h, "DSDT", sizeof(*h) + sizeof(dsdt_aml), 2);
	memcpy(h + 1, dsdt_aml, sizeof(dsdt_aml));
	seal(h);
	fadt_fill((struct acpi_fadt *)(buf + fadt), gpa + facs, gpa + dsdt);
	seal((struct acpi_sdt_header *)(buf + fadt));
	madt_fill(buf + madt, c, (u32)madt_len);
	seal((struct acpi_sdt_header *)(buf + madt));
	h = (struct acpi_sdt_header *)(buf + xsdt);
	header(h, "XSDT", (u32)xsdt_len, 1);
	entries[0] = gpa + fadt;
	entries[1] = gpa + madt;
	memcpy(h + 1, entries, sizeof(entries));
	seal(h);
	rsdp_fill((struct acpi_rsdp *)(buf + rsdp), gpa + xsdt);
	return xsdt + xsdt_len;
}
