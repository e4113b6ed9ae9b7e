/* ECAM: one 4 KiB page of configuration space per function, per MCFG segment and bus
 * range. Without MCFG, the Q35 MCH's PCIEXBAR register tells where ECAM is. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "arch/x86/io.h"
#include "arch/x86/paging.h"
#include "pci/internal.h"

static struct ecam_region regions[PCI_MAX_ECAM];
static unsigned nr_regions;

static const struct ecam_region *ecam_lookup(u16 seg, u8 bus)
{
	for (unsigned i = 0; i < nr_regions; i++)
		if (regions[i].seg == seg && bus >= regions[i].bus_start &&
		    bus <= regions[i].bus_end)
			return &regions[i];
	return NULL;
}

static u64 ecam_addr(u16 seg, u16 rid, u16 off)
{
	const struct ecam_region *r = ecam_lookup(seg, PCI_RID_BUS(rid));

	/* The bus was checked by space_size before any access reaches here. */
	return r->base + ((u64)rid << 12) + off;
}

static u32 ecam_read(void *ctx, u16 seg, u16 rid, u16 off, unsigned width)
{
	u64 a = ecam_addr(seg, rid, off);

	if (width == 1)
		return mmio_read8(a);
	if (width == 2)
		return mmio_read16(a);
	return mmio_read32(a);
}

static void ecam_write(void *ctx, u16 seg, u16 rid, u16 off, unsigned width, u32 val)
{
	u64 a = ecam_addr(seg, rid, off);

	if (width == 1)
		mmio_write8(a, (u8)val);
	else if (width == 2)
		mmio_write16(a, (u16)val);
	else
		mmio_write32(a, val);
}

static u16 ecam_space_size(void *ctx, u16 seg, u8 bus)
{
	return ecam_lookup(seg, bus) ? PCI_CFG_SIZE : 0;
}

const struct pci_cfg_ops pci_ecam_ops = {
	.name = "ECAM",
	.read = ecam_read,
	.write = ecam_write,
	.space_size = ecam_space_size,
};

void pci_ecam_reset(void)
{
	nr_regions = 0;
}

int pci_ecam_add(const struct ecam_region *r)
{
	u64 first = r->base + ((u64)r->bus_start << 20);
	u64 size = ((u64)(r->bus_end - r->bus_start) + 1) << 20;
	int err;

	if (r->bus_end < r->bus_start || !IS_ALIGNED(r->base, MiB))
		return pr_err(-EINVAL,
			      "ECAM region %#llx segment %u buses %02x-%02x is malformed\n",
			      (unsigned long long)r->base, r->seg, r->bus_start, r->bus_end);
	if (nr_regions == PCI_MAX_ECAM)
		return pr_err(-ENOSPC, "more than %u ECAM regions\n", PCI_MAX_ECAM);
	for (unsigned i = 0; i < nr_regions; i++)
		if (regions[i].seg == r->seg && r->bus_start <= regions[i].bus_end &&
		    regions[i].bus_start <= r->bus_end)
			return pr_err(-EEXIST,
				      "ECAM segment %u buses %02x-%02x overlap an earlier region\n",
				      r->seg, r->bus_start, r->bus_end);
#ifndef MOAT_HOST_TEST
	err = paging_map_mmio(first, size);
	if (err)
		return pr_err(err, "cannot map ECAM %#llx+%#llx\n", (unsigned long long)first,
			      (unsigned long long)size);
#else
	(void)err;
	(void)first;
	(void)size;
#endif
	regions[nr_regions++] = *r;
	pr_info("ECAM segment %u buses %02x-%02x at %#llx\n", r->seg, r->bus_start, r->bus_end,
		(unsigned long long)r->base);
	return 0;
}

/* Intel Q35 MCH (QEMU's q35 host bridge) PCIEXBAR, 00:00.0 offset 0x60. */
#define Q35_MCH_VENDOR 0x8086
#define Q35_MCH_DEVICE 0x29c0
#define Q35_PCIEXBAR 0x60
#define Q35_PCIEXBAR_EN BIT(0)
#define Q35_PCIEXBAR_LENGTH GENMASK(2, 1)
#define Q35_PCIEXBAR_LENGTH_256 0
#define Q35_PCIEXBAR_LENGTH_128 1
#define Q35_PCIEXBAR_LENGTH_64 2
#define Q35_PCIEXBAR_ADDR GENMASK(38, 26)

int pci_ecam_from_q35_mch(struct ecam_region *r)
{
	static const unsigned buses[] = {256, 128, 64};
	u32 id = pci_cfg_read32_at(0, PCI_RID(0, 0, 0), PCI_VENDOR_ID);
	u64 bar;
	unsigned len;

	if ((id & 0xffff) != Q35_MCH_VENDOR || id >> 16 != Q35_MCH_DEVICE)
		return -ENODEV;
	bar = pci_cfg_read32_at(0, PCI_RID(0, 0, 0), Q35_PCIEXBAR) |
	      (u64)pci_cfg_read32_at(0, PCI_RID(0, 0, 0), Q35_PCIEXBAR + 4) << 32;
	if (!(bar & Q35_PCIEXBAR_EN))
		return pr_err(-ENODEV, "Q35 MCH: PCIEXBAR is not enabled\n");
	len = (unsigned)FIELD_GET(Q35_PCIEXBAR_LENGTH, bar);
	if (len >= ARRAY_SIZE(buses))
		return pr_err(-EINVAL, "Q35 MCH: PCIEXBAR length field %u is reserved\n", len);
	memset(r, 0, sizeof(*r));
	r->base = bar & Q35_PCIEXBAR_ADDR & ~((u64)buses[len] * MiB - 1);
	r->seg = 0;
	r->bus_start = 0;
	r->bus_end = (u8)(buses[len] - 1);
	return 0;
}
