/* The guest's VF through the virtual config space, and lib/igbvf.c's hooks in a guest. */
#include <moat/errno.h>
#include "guests/lib/vf_dev.h"

struct vf_dev vf_dev;

u64 vf_now_us(void)
{
	return guest_rdtsc() / vf_dev.tsc_per_us;
}

/* ---- config space through CF8/CFC */
static u32 cfg_address(u16 reg)
{
	return (u32)(CFG_ENABLE | FIELD_PREP(CFG_DEV, vf_dev.slot ? vf_dev.slot : VF_DEV) |
		     FIELD_PREP(CFG_REG, reg >> 2));
}

u32 vf_cfg_read(u16 reg)
{
	guest_outl(PCI_CFG_ADDR, cfg_address(reg));
	return guest_inl(PCI_CFG_DATA);
}

void vf_cfg_write(u16 reg, u32 v)
{
	guest_outl(PCI_CFG_ADDR, cfg_address(reg));
	guest_outl(PCI_CFG_DATA, v);
}

/* Offset of capability `id` in the list, 0 if absent (at most 48 hops). */
u8 vf_find_cap(u8 id)
{
	u8 off = (u8)vf_cfg_read(CFG_CAP_PTR) & 0xfc;

	for (unsigned hops = 0; off && hops < 48; hops++) {
		u32 hdr = vf_cfg_read(off);

		if (FIELD_GET(CAP_ID, hdr) == id)
			return off;
		off = (u8)FIELD_GET(CAP_NEXT, hdr) & 0xfc;
	}
	return 0;
}

/* ---- driver hooks: the BAR mapped uncached, DMA addresses = guest-physical */
static u32 vf_rd(void *ctx, u32 reg)
{
	return *(volatile u32 *)(uintptr_t)(vf_dev.bar0 + reg);
}

static void vf_wr(void *ctx, u32 reg, u32 val)
{
	*(volatile u32 *)(uintptr_t)(vf_dev.bar0 + reg) = val;
}

static u64 vf_dma_addr(void *ctx, const void *p)
{
	return (u64)(uintptr_t)p; /* identity-mapped guest RAM */
}

static u64 vf_hook_now_us(void *ctx)
{
	return vf_now_us();
}

static void vf_idle(void *ctx)
{
	__builtin_ia32_pause();
}

static void vf_log(void *ctx, const char *msg)
{
	guest_printf("# igbvf: %s", msg);
}

const struct igbvf_ops vf_dev_ops = {
	.rd = vf_rd,
	.wr = vf_wr,
	.dma_addr = vf_dma_addr,
	.now_us = vf_hook_now_us,
	.idle = vf_idle,
	.log = vf_log,
};

/* BAR n's address (64-bit memory BARs take two registers); 0 if not a memory BAR. */
u64 vf_bar_address(unsigned n)
{
	u32 lo = vf_cfg_read((u16)CFG_BAR(n));

	if (lo & BAR_IO)
		return 0;
	if (FIELD_GET(BAR_TYPE, lo) == BAR_TYPE_64)
		return (lo & BAR_ADDR) | (u64)vf_cfg_read((u16)CFG_BAR(n + 1)) << 32;
	return lo & BAR_ADDR;
}

/* Size by the all-ones protocol, the address put back afterwards. */
u32 vf_bar_size(unsigned n)
{
	u32 lo = vf_cfg_read((u16)CFG_BAR(n)), mask;

	vf_cfg_write((u16)CFG_BAR(n), 0xffffffffu);
	mask = vf_cfg_read((u16)CFG_BAR(n)) & BAR_ADDR;
	vf_cfg_write((u16)CFG_BAR(n), lo);
	return mask ? ~mask + 1 : 0;
}

int vf_dev_enable(void)
{
	if (vf_cfg_read(CFG_ID) != (IGB_VENDOR | (u32)IGB_DEVICE_VF << 16))
		return -ENODEV;
	if (guest_info.tsc_khz < 1000)
		return -EINVAL;
	vf_dev.tsc_per_us = guest_info.tsc_khz / 1000;
	vf_dev.bar0 = vf_bar_address(0);
	if (!vf_dev.bar0 || vf_dev.bar0 + VF_BAR0_SIZE > 4 * GiB)
		return -ENODEV;
	guest_map_mmio(vf_dev.bar0, VF_BAR0_SIZE);
	vf_cfg_write(CFG_COMMAND,
		     vf_cfg_read(CFG_COMMAND) | CFG_COMMAND_MEMORY | CFG_COMMAND_MASTER);
	return 0;
}

/* ---- MSI-X through moat's virtual table (docs/passthrough.md) */
void vf_mmio_write32(u64 addr, u32 v)
{
	__asm__ volatile("movl %1, (%0)" ::"r"(addr), "r"(v) : "memory");
}

u64 vf_msix_table(u8 cap)
{
	u32 tbl = vf_cfg_read((u16)(cap + 4));
	u64 table = vf_bar_address((unsigned)FIELD_GET(MSIX_TABLE_BIR, tbl));

	if (!table)
		return 0;
	table += tbl & MSIX_TABLE_OFFSET;
	guest_map_mmio(table, 4096);
	return table;
}

static u8 apic_id(void)
{
	u32 r[4];

	guest_cpuid(1, 0, r);
	return (u8)(r[1] >> 24);
}

u64 vf_msix_route(unsigned entry, u8 vector)
{
	u8 cap = vf_find_cap(CAP_ID_MSIX);
	u64 table, e;
	u32 ctrl;

	if (!cap)
		return 0;
	ctrl = vf_cfg_read(cap);
	table = vf_msix_table(cap);
	if (!table)
		return 0;
	e = table + entry * MSIX_ENTRY_SIZE;
	vf_mmio_write32(e + MSIX_ADDR_LO,
			MSI_ADDR_BASE | (u32)FIELD_PREP(MSI_ADDR_DEST, apic_id()));
	vf_mmio_write32(e + MSIX_ADDR_HI, 0);
	vf_mmio_write32(e + MSIX_DATA, vector);
	vf_mmio_write32(e + MSIX_VECTOR_CTRL, 0);
	vf_cfg_write(cap, (ctrl | MSIX_ENABLE) & ~MSIX_FUNC_MASK);
	return table;
}
