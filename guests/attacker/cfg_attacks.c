/* Attacks on the virtual PCI configuration space: other functions (the host's PF, other
 * VFs, empty slots) and moving its own VF's BAR away from the window moat chose. */
#include "guests/attacker/attacker.h"

#define PCI_CONF_ADDR 0xcf8
#define PCI_CONF_DATA 0xcfc
#define CFG_ADDR(bus, dev, fn, reg)                                                                \
	(0x80000000u | (bus) << 16 | (dev) << 11 | (fn) << 8 | ((reg)&0xfc))

static u32 cfg_read(u32 bus, u32 dev, u32 fn, u32 reg)
{
	guest_outl(PCI_CONF_ADDR, CFG_ADDR(bus, dev, fn, reg));
	return guest_inl(PCI_CONF_DATA);
}

static void cfg_write(u32 bus, u32 dev, u32 fn, u32 reg, u32 v)
{
	guest_outl(PCI_CONF_ADDR, CFG_ADDR(bus, dev, fn, reg));
	guest_outl(PCI_CONF_DATA, v);
}

/* Host functions of the reference machine: the PF and its VFs (01:00.0, 01:10.x), the
 * root port (00:02.0 on the host) and the edu (00:05.0); none is the guest's. */
static const u8 foreign[][3] = {
	{1, 0, 0}, {1, 0x10, 0}, {1, 0x10, 2}, {1, 0x10, 4}, {0, 5, 0}, {0, 0x1f, 0}, {0, 0, 1},
};

void attack_cfg_foreign(void)
{
	test_begin("attack", "cfg-foreign");
	for (unsigned i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		const u8 *f = foreign[i];

		/* Memory decode + bus master on, an SR-IOV control write at the PF's offset,
		 * Initiate FLR in the igb functions' PCIe Device Control: none may reach
		 * anything (alpha's and beta's transfers on those VFs go on). */
		cfg_write(f[0], f[1], f[2], 0x04, 0x6);
		cfg_write(f[0], f[1], f[2], 0xc8, 0x19);
		cfg_write(f[0], f[1], f[2], 0xa8, 0x8000);
		check(cfg_read(f[0], f[1], f[2], 0x00) == 0xffffffff, "%02x:%02x.%x reads %#x",
		      f[0], f[1], f[2], cfg_read(f[0], f[1], f[2], 0x00));
		check(cfg_read(f[0], f[1], f[2], 0x04) == 0xffffffff,
		      "%02x:%02x.%x command reads %#x", f[0], f[1], f[2],
		      cfg_read(f[0], f[1], f[2], 0x04));
	}
	test_end();
}

void attack_bar_remap(void)
{
	static const u32 targets[] = {
		0x00100000, /* its own RAM (its image) */
		0xc0004000, /* next to its window, where another device of a guest could be */
		0xfe000000, /* the host's VF BAR region */
		0x00000000,
	};
	u32 bar0;

	test_begin("attack", "bar-remap");
	if (cfg_read(0, 1, 0, 0x00) == 0xffffffff) {
		test_skip("no device assigned at 00:01.0");
		test_end();
		return;
	}
	bar0 = cfg_read(0, 1, 0, 0x10);
	check((bar0 & ~0xfu) != 0, "BAR0 of 00:01.0 reads %#x", bar0);
	for (unsigned i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
		cfg_write(0, 1, 0, 0x10, targets[i] | (bar0 & 0xf));
		check(cfg_read(0, 1, 0, 0x10) == bar0, "BAR0 moved to %#x: reads %#x", targets[i],
		      cfg_read(0, 1, 0, 0x10));
	}
	/* The high half of a 64-bit BAR: a move above 4 GiB. */
	cfg_write(0, 1, 0, 0x14, 0x1);
	check(cfg_read(0, 1, 0, 0x14) == 0, "BAR0 high half reads %#x", cfg_read(0, 1, 0, 0x14));
	/* Sizing still works and the BAR comes back. */
	cfg_write(0, 1, 0, 0x10, 0xffffffff);
	check((cfg_read(0, 1, 0, 0x10) & ~0xfu) != 0 && cfg_read(0, 1, 0, 0x10) != 0xffffffff,
	      "BAR0 sizing reads %#x", cfg_read(0, 1, 0, 0x10));
	cfg_write(0, 1, 0, 0x10, bar0);
	check(cfg_read(0, 1, 0, 0x10) == bar0, "BAR0 restore reads %#x", cfg_read(0, 1, 0, 0x10));
	test_end();
}
