/* Enumeration: from each root bus down through every PCI-PCI bridge, using the firmware's
 * bus numbers and assigning them to bridges left unconfigured. */
#define LOG_TAG "pci"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "pci/internal.h"

#define PCI_MAX_DEPTH 32

struct scan_state {
	u16 seg;
	u8 bus_end;	     /* last bus this segment's config access reaches */
	u8 next_free_bus;    /* for bridges that need bus numbers */
	u8 seen[256 / 8];    /* buses already scanned */
	u8 claimed[256 / 8]; /* buses some bridge forwards to (scanned or not) */
	int found;
};

int pci_probe_function(struct pci_dev *d)
{
	u32 cr = pci_read32(d, PCI_CLASS_REVISION);
	u8 ht = pci_read8(d, PCI_HEADER_TYPE);
	int err;

	d->vendor = pci_read16(d, PCI_VENDOR_ID);
	d->device = pci_read16(d, PCI_DEVICE_ID);
	d->class = (u32)FIELD_GET(PCI_CLASS_MASK, cr);
	d->revision = (u8)FIELD_GET(PCI_REVISION_MASK, cr);
	d->header_type = (u8)FIELD_GET(PCI_HEADER_TYPE_MASK, ht);
	d->multifunction = ht & PCI_HEADER_MULTIFUNCTION;
	d->irq_pin = pci_read8(d, PCI_INTERRUPT_PIN);
	d->irq_line = pci_read8(d, PCI_INTERRUPT_LINE);
	if (d->header_type == 0) {
		d->subsys_vendor = pci_read16(d, PCI_SUBSYS_VENDOR);
		d->subsys_id = pci_read16(d, PCI_SUBSYS_ID);
	} else if (d->header_type == 1) {
		d->primary = pci_read8(d, PCI_PRIMARY_BUS);
		d->secondary = pci_read8(d, PCI_SECONDARY_BUS);
		d->subordinate = pci_read8(d, PCI_SUBORDINATE_BUS);
		pci_read_bridge_windows(d);
	} else {
		pr_warn("%04x:%02x:%02x.%x: header type %u not handled (only 0 and 1); BARs not "
			"read\n",
			d->seg, d->bus, d->dev, d->fn, d->header_type);
		pci_walk_caps(d);
		return 0;
	}
	err = pci_read_bars(d);
	pci_walk_caps(d);
	return err;
}

static bool bus_seen(struct scan_state *s, u8 bus)
{
	return s->seen[bus / 8] & (1u << (bus % 8));
}

static void mark_bus(struct scan_state *s, u8 bus)
{
	s->seen[bus / 8] |= (u8)(1u << (bus % 8));
}

static void claim_buses(struct scan_state *s, u8 first, u8 last)
{
	for (unsigned b = first; b <= last; b++)
		s->claimed[b / 8] |= (u8)(1u << (b % 8));
}

static bool bus_claimed(struct scan_state *s, u8 bus)
{
	return s->claimed[bus / 8] & (1u << (bus % 8));
}

static int scan_bus(struct scan_state *s, u8 bus, struct pci_dev *parent, unsigned depth);

/* Gives an unconfigured bridge the next free bus number, scans below it, and closes its
 * range at the highest bus found there. */
static int assign_bridge_buses(struct scan_state *s, struct pci_dev *br, unsigned depth)
{
	u8 sec;
	int err;

	if (s->next_free_bus == 0 || s->next_free_bus > s->bus_end)
		return pr_err(-ENOSPC, "%04x:%02x:%02x.%x: no bus number left for this bridge\n",
			      br->seg, br->bus, br->dev, br->fn);
	sec = s->next_free_bus++;
	pci_write8(br, PCI_PRIMARY_BUS, br->bus);
	pci_write8(br, PCI_SECONDARY_BUS, sec);
	/* Open the range fully while scanning so configuration cycles reach the buses below. */
	pci_write8(br, PCI_SUBORDINATE_BUS, s->bus_end);
	br->primary = br->bus;
	br->secondary = sec;
	br->subordinate = s->bus_end;
	pr_info("%04x:%02x:%02x.%x: bridge had no bus numbers; assigned secondary %02x\n", br->seg,
		br->bus, br->dev, br->fn, sec);
	err = scan_bus(s, sec, br, depth + 1);
	br->subordinate = (u8)(s->next_free_bus - 1);
	claim_buses(s, sec, br->subordinate);
	pci_write8(br, PCI_SUBORDINATE_BUS, br->subordinate);
	return err;
}

static int scan_bridge(struct scan_state *s, struct pci_dev *br, unsigned depth)
{
	u8 sec = br->secondary, sub = br->subordinate;

	if (depth >= PCI_MAX_DEPTH)
		return pr_err(-ELOOP,
			      "%04x:%02x:%02x.%x: bridges nested deeper than %u; not scanned\n",
			      br->seg, br->bus, br->dev, br->fn, PCI_MAX_DEPTH);
	if (sec == 0 || sec <= br->bus || sub < sec || sub > s->bus_end)
		return assign_bridge_buses(s, br, depth);
	if (bus_seen(s, sec))
		return pr_err(-ELOOP,
			      "%04x:%02x:%02x.%x: secondary bus %02x was already scanned; bridge "
			      "skipped\n",
			      br->seg, br->bus, br->dev, br->fn, sec);
	if (br->parent && (sec <= br->parent->secondary || sub > br->parent->subordinate))
		pr_warn("%04x:%02x:%02x.%x: buses %02x-%02x are outside the parent bridge's "
			"%02x-%02x\n",
			br->seg, br->bus, br->dev, br->fn, sec, sub, br->parent->secondary,
			br->parent->subordinate);
	if (s->next_free_bus <= sub)
		s->next_free_bus = sub == 0xff ? 0 : (u8)(sub + 1);
	claim_buses(s, sec, sub);
	return scan_bus(s, sec, br, depth + 1);
}

static int scan_function(struct scan_state *s, u8 bus, u8 dev, u8 fn, struct pci_dev *parent,
			 unsigned depth, bool *multifunction)
{
	u16 rid = PCI_RID(bus, dev, fn);
	struct pci_dev *d;

	if (pci_cfg_read16_at(s->seg, rid, PCI_VENDOR_ID) == 0xffff)
		return 0;
	d = pci_dev_alloc(s->seg, rid);
	if (!d)
		return -ENOSPC;
	d->parent = parent;
	pci_probe_function(d);
	s->found++;
	if (fn == 0)
		*multifunction = d->multifunction;
	if (d->header_type == 1)
		scan_bridge(s, d, depth);
	return 0;
}

static int scan_bus(struct scan_state *s, u8 bus, struct pci_dev *parent, unsigned depth)
{
	mark_bus(s, bus);
	for (u8 dev = 0; dev < 32; dev++) {
		bool multifunction = false;

		for (u8 fn = 0; fn < 8; fn++) {
			int err = scan_function(s, bus, dev, fn, parent, depth, &multifunction);

			if (err)
				return err;
			if (fn == 0 && !multifunction)
				break;
		}
	}
	return 0;
}

static bool bus_has_device(struct scan_state *s, u8 bus)
{
	for (u8 dev = 0; dev < 32; dev++)
		if (pci_cfg_read16_at(s->seg, PCI_RID(bus, dev, 0), PCI_VENDOR_ID) != 0xffff)
			return true;
	return false;
}

/* Host bridges other than the first have their own root buses (found through ACPI _CRS on
 * systems that have several; moat reads no AML): a bus no bridge forwards to that has a
 * device on it is one of those. */
static int scan_peer_root_buses(struct scan_state *s, u8 bus_start)
{
	for (unsigned b = bus_start + 1u; b <= s->bus_end; b++) {
		int err;

		if (bus_seen(s, (u8)b) || bus_claimed(s, (u8)b) || !bus_has_device(s, (u8)b))
			continue;
		pr_info("%04x:%02x: peer root bus\n", s->seg, b);
		if (s->next_free_bus && s->next_free_bus <= b)
			s->next_free_bus = b == 0xff ? 0 : (u8)(b + 1);
		err = scan_bus(s, (u8)b, NULL, 0);
		if (err)
			return err;
	}
	return 0;
}

int pci_enumerate_segment(u16 seg, u8 bus_start, u8 bus_end)
{
	static struct scan_state s;
	int err;

	memset(&s, 0, sizeof(s));
	s.seg = seg;
	s.bus_end = bus_end;
	s.next_free_bus = (u8)(bus_start + 1);
	err = scan_bus(&s, bus_start, NULL, 0);
	if (!err)
		err = scan_peer_root_buses(&s, bus_start);
	if (err)
		return err;
	return s.found;
}
