/* The virtual PCI configuration space: the host bridge, an assigned VF with its real IDs,
 * BAR sizing and refused BAR moves, Command filtering, the capability list with only PCIe
 * and MSI-X, foreign BDFs. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/vpci.h"
#include "host_shim.h"

/* The VF's real config space as QEMU's igbvf has it: PCIe at 0xa0, MSI-X at 0x70, the
 * standard list starting at 0x70 (0x70 -> 0xa0 -> 0). */
static u8 cfg[4096];
static unsigned hw_writes;
static struct pci_dev pf, vf;
static struct guest g;

u16 pci_read16(const struct pci_dev *d, u16 off)
{
	assert_ptr_equal(d, &vf);
	return (u16)(cfg[off] | cfg[off + 1] << 8);
}

u32 pci_read32(const struct pci_dev *d, u16 off)
{
	assert_ptr_equal(d, &vf);
	return pci_read16(d, off) | (u32)pci_read16(d, off + 2) << 16;
}

void pci_write16(const struct pci_dev *d, u16 off, u16 v)
{
	assert_ptr_equal(d, &vf);
	assert_int_equal(off, PCI_COMMAND); /* the only register a guest reaches */
	cfg[off] = (u8)v;
	cfg[off + 1] = (u8)(v >> 8);
	hw_writes++;
}

static void put32(u16 off, u32 v)
{
	memcpy(&cfg[off], &v, 4);
}

static int setup(void **state)
{
	memset(cfg, 0, sizeof(cfg));
	put32(0x00, 0xffffffff); /* a VF reads FFFF:FFFF */
	put32(0x04, 0x00100000 | PCI_COMMAND_INTX_DISABLE);
	cfg[0x34] = 0x70;
	put32(0x70, 0x0002a011); /* MSI-X, next 0xa0, 3 entries */
	put32(0x74, 0x00000003); /* table in BAR3 at 0 */
	put32(0x78, 0x00002003); /* PBA in BAR3 at 0x2000 */
	put32(0xa0, 0x00020010); /* PCIe v2 endpoint, next 0 */
	put32(0xa4, 0x10008000); /* DEVCAP: FLR */
	put32(0x50, 0x00000001); /* something hidden (PM-like) outside the list */
	hw_writes = 0;
	memset(&pf, 0, sizeof(pf));
	memset(&vf, 0, sizeof(vf));
	vf.vendor = 0x8086;
	vf.device = 0x10ca;
	vf.class = 0x020000;
	vf.revision = 1;
	vf.subsys_vendor = 0x8086;
	vf.subsys_id = 0x0000;
	vf.is_vf = true;
	vf.pf = &pf;
	vf.cap_pcie = 0xa0;
	vf.cap_msix = 0x70;
	vf.bar[0] = (struct pci_bar){.base = 0xfe000000, .size = 0x4000, .type = PCI_BAR_MEM64,
				     .prefetchable = true};
	vf.bar[3] = (struct pci_bar){.base = 0xfe100000, .size = 0x4000, .type = PCI_BAR_MEM64,
				     .prefetchable = true};
	memset(&g, 0, sizeof(g));
	strcpy(g.cfg.name, "t");
	g.nr_dev = 1;
	g.dev[0].pdev = &vf;
	g.dev[0].bar_gpa[0] = 0xc0000000;
	g.dev[0].bar_gpa[3] = 0xc0004000;
	(void)state;
	return 0;
}

#define DEV1 PCI_RID(0, 1, 0)

static void test_host_bridge_and_ids(void **state)
{
	assert_int_equal(vpci_read(&g, 0, 0, 4), 0x29c08086);
	assert_int_equal(vpci_read(&g, DEV1, 0, 4), 0x10ca8086);
	assert_int_equal(vpci_read(&g, DEV1, 2, 2), 0x10ca);
	assert_int_equal(vpci_read(&g, DEV1, 0x08, 4), 0x02000001);
	assert_int_equal(vpci_read(&g, DEV1, 0x0e, 1), 0); /* header type 0 */
	assert_int_equal(vpci_read(&g, DEV1, 0x2c, 4), 0x00008086);
	assert_int_equal(vpci_read(&g, DEV1, 0x3d, 1), 0); /* no INTx pin */
	(void)state;
}

static void test_foreign_bdfs(void **state)
{
	assert_int_equal(vpci_read(&g, PCI_RID(0, 2, 0), 0, 4), 0xffffffff);
	assert_int_equal(vpci_read(&g, PCI_RID(0, 1, 1), 0, 4), 0xffffffff);
	assert_int_equal(vpci_read(&g, PCI_RID(1, 0, 0), 0, 2), 0xffff);
	assert_int_equal(vpci_read(&g, PCI_RID(1, 0x10, 0), 0, 4), 0xffffffff);
	vpci_write(&g, PCI_RID(1, 0, 0), 0x04, 2, 0x6);
	vpci_write(&g, PCI_RID(0, 2, 0), 0x10, 4, 0);
	assert_int_equal(g.cfg_refused, 2);
	assert_int_equal(hw_writes, 0);
	/* Misaligned and out-of-range accesses. */
	assert_int_equal(vpci_read(&g, DEV1, 0x01, 2), 0xffff);
	assert_int_equal(vpci_read(&g, DEV1, 0x100, 4), 0xffffffff);
	(void)state;
}

static void test_capability_list(void **state)
{
	u8 ptr = (u8)vpci_read(&g, DEV1, 0x34, 1);
	unsigned seen = 0;

	assert_true(vpci_read(&g, DEV1, 0x06, 2) & BIT(4)); /* capability list */
	assert_int_equal(ptr, 0xa0);
	assert_int_equal(vpci_read(&g, DEV1, ptr, 1), 0x10);
	ptr = (u8)vpci_read(&g, DEV1, ptr + 1, 1);
	assert_int_equal(ptr, 0x70);
	assert_int_equal(vpci_read(&g, DEV1, ptr, 1), 0x11);
	assert_int_equal(vpci_read(&g, DEV1, ptr + 2, 2), 0x0002); /* 3 entries */
	assert_int_equal(vpci_read(&g, DEV1, ptr + 4, 4), 0x3);	   /* table BIR 3, offset 0 */
	assert_int_equal(vpci_read(&g, DEV1, ptr + 8, 4), 0x2003);
	assert_int_equal(vpci_read(&g, DEV1, ptr + 1, 1), 0); /* end of list */
	assert_int_equal(vpci_read(&g, DEV1, 0xa4, 4), 0x10008000);
	/* Not in the shown list: reads 0. */
	assert_int_equal(vpci_read(&g, DEV1, 0x50, 4), 0);
	for (u16 r = 0x40; r < 0x100; r += 4)
		seen += vpci_read(&g, DEV1, r, 4) != 0;
	assert_int_equal(seen, 5); /* 3 MSI-X dwords, the PCIe header and DEVCAP */
	/* Capabilities are read-only. */
	vpci_write(&g, DEV1, 0x72, 2, 0xc000);
	assert_int_equal(vpci_read(&g, DEV1, 0x72, 2), 0x0002);
	assert_int_equal(hw_writes, 0);
	(void)state;
}

static void test_bar_sizing(void **state)
{
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xc000000c);
	assert_int_equal(vpci_read(&g, DEV1, 0x14, 4), 0);
	assert_int_equal(vpci_read(&g, DEV1, 0x18, 4), 0); /* not implemented */
	assert_int_equal(vpci_read(&g, DEV1, 0x1c, 4), 0xc000400c);
	vpci_write(&g, DEV1, 0x10, 4, 0xffffffff);
	vpci_write(&g, DEV1, 0x14, 4, 0xffffffff);
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xffffc00c);
	assert_int_equal(vpci_read(&g, DEV1, 0x14, 4), 0xffffffff);
	vpci_write(&g, DEV1, 0x18, 4, 0xffffffff);
	assert_int_equal(vpci_read(&g, DEV1, 0x18, 4), 0);
	/* Restoring the address ends sizing and is not a refusal. */
	vpci_write(&g, DEV1, 0x10, 4, 0xc000000c);
	vpci_write(&g, DEV1, 0x14, 4, 0);
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xc000000c);
	assert_int_equal(vpci_read(&g, DEV1, 0x14, 4), 0);
	assert_int_equal(g.bar_refused, 0);
	(void)state;
}

static void test_bar_moves_refused(void **state)
{
	/* Onto its own RAM, onto another VF's window, into the host's MMIO, high half. */
	vpci_write(&g, DEV1, 0x10, 4, 0x00100000);
	vpci_write(&g, DEV1, 0x10, 4, 0xc0004000);
	vpci_write(&g, DEV1, 0x1c, 4, 0xfe000000);
	vpci_write(&g, DEV1, 0x14, 4, 0x1);
	vpci_write(&g, DEV1, 0x12, 2, 0x1234);
	assert_int_equal(g.bar_refused, 5);
	assert_int_equal(vpci_read(&g, DEV1, 0x10, 4), 0xc000000c);
	assert_int_equal(vpci_read(&g, DEV1, 0x14, 4), 0);
	assert_int_equal(vpci_read(&g, DEV1, 0x1c, 4), 0xc000400c);
	assert_int_equal(hw_writes, 0);
	(void)state;
}

static void test_command_filtered(void **state)
{
	assert_int_equal(vpci_read(&g, DEV1, 0x04, 2), 0);
	vpci_write(&g, DEV1, 0x04, 2, 0xffff);
	assert_int_equal(vpci_read(&g, DEV1, 0x04, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
	/* Hardware: memory + master from the guest, INTx disable kept as moat set it. */
	assert_int_equal(pci_read16(&vf, PCI_COMMAND),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	vpci_write(&g, DEV1, 0x04, 1, 0x2);
	assert_int_equal(pci_read16(&vf, PCI_COMMAND),
			 PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
	/* A dword write carrying status bits changes only the command half. */
	vpci_write(&g, DEV1, 0x04, 4, 0xffff0004);
	assert_int_equal(pci_read16(&vf, PCI_COMMAND),
			 PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
	assert_int_equal(cfg[6] | cfg[7] << 8, 0x0010);
	/* IDs are not writable. */
	vpci_write(&g, DEV1, 0x00, 4, 0);
	assert_int_equal(vpci_read(&g, DEV1, 0, 4), 0x10ca8086);
	assert_int_equal(g.cfg_refused, 0);
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_host_bridge_and_ids, setup),
		cmocka_unit_test_setup(test_foreign_bdfs, setup),
		cmocka_unit_test_setup(test_capability_list, setup),
		cmocka_unit_test_setup(test_bar_sizing, setup),
		cmocka_unit_test_setup(test_bar_moves_refused, setup),
		cmocka_unit_test_setup(test_command_filtered, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
