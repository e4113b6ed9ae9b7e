/* PCI enumeration, capability walks and SR-IOV (pci/) over the unit tests' config
 * space model (tests/unit/pci_model.c) with contents from the input: a device can lie.
 *
 * Input: byte 0 picks the topology (the builders' QEMU shapes: igb behind a root port,
 * on the root bus, behind a switch, two igbs) and byte 1 the VFs asked for (bit 7: also
 * function-level and secondary bus resets); then 5-byte
 * patches until the end: function (index into the built functions; 0xff = what every VF
 * shows), 12-bit offset + 2 flag bits (bit 12: the write mask instead of the contents),
 * value byte. Then what pci_init does with segment 0 (enumeration, SR-IOV enable with the
 * VFs asked for, the report), capability lookups, the MSI-X layout check of every function
 * (VFs included) and SR-IOV disable. */
#include <stdlib.h>
#include <moat/errno.h>
#include <moat/pci.h>
#include <moat/string.h>
#include "pci/internal.h"
#include "pci_model.h"
#include "fuzz.h"

static unsigned numvfs_asked;
static u64 fake_us;

u64 time_us(void)
{
	return fake_us += 10;
}

void mdelay(u64 ms) {}

int cmdline_get(const char *key, char *buf, size_t size)
{
	if (strcmp(key, "sriov.numvfs"))
		return -ENOENT;
	return snprintf(buf, size, "%u", numvfs_asked);
}

/* pci_init() binds PF drivers; this target never runs it. */
void pci_drivers_probe(void) {}

static int build(u8 shape)
{
	int hb, rp, up, dn, igb, n;

	model_reset();
	hb = model_host_bridge();
	(void)hb;
	switch (shape % 4) {
	case 0: /* the reference machine: root port 00:01.0 -> igb 01:00.0, edu 00:05.0 */
		rp = model_root_port(-1, 1, 1, 1);
		model_window(rp, false, 0xfe600000, 0xfe7fffff);
		model_window(rp, true, 0xfea00000, 0xfebfffff);
		igb = model_igb(rp, 0, 0);
		model_set(igb, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
		model_edu(5);
		break;
	case 1: /* igb on the root bus, no bridge */
		model_igb(-1, 0, 3);
		model_edu(5);
		break;
	case 2: /* root port -> switch upstream -> downstream -> igb, buses not yet numbered */
		rp = model_root_port(-1, 1, 0, 0);
		up = model_switch_up(rp, 0, 0);
		dn = model_switch_down(up, 0, 0, 0);
		model_igb(dn, 0, 0);
		break;
	default: /* two root ports with an igb each */
		rp = model_root_port(-1, 1, 1, 1);
		model_igb(rp, 0, 0);
		rp = model_root_port(-1, 2, 2, 2);
		model_igb(rp, 0, 0);
		break;
	}
	for (n = 0; n < MODEL_MAX_FNS && model.fn[n].used; n++)
		;
	pci_root_aperture_add(0, 0xc0000000, 0xfebfffff);
	return n;
}

static void patch(struct fin *f, int nfns)
{
	while (f->n >= 4) {
		u8 fn = fin_u8(f);
		u16 where = fin_u16(f);
		u8 val = fin_u8(f);
		u16 off = where & 0xfff;

		if (fn == 0xff) {
			model.vf_cfg[off] = val;
			continue;
		}
		fn %= nfns;
		if (where & 0x1000)
			model.fn[fn].wmask[off] = val;
		else
			model.fn[fn].cfg[off] = val;
	}
	model_changed();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const u8 caps[] = {PCI_CAP_PM, PCI_CAP_MSI, PCI_CAP_MSIX, PCI_CAP_PCIE};
	static const u16 ecaps[] = {PCI_ECAP_AER, PCI_ECAP_ARI, PCI_ECAP_SRIOV, PCI_ECAP_ACS};
	struct fin f = {data, size};
	int nfns;
	unsigned n;

	u8 opts;

	nfns = build(fin_u8(&f));
	opts = fin_u8(&f);
	numvfs_asked = (opts & 0x7f) % 10;
	patch(&f, nfns);

	pci_enumerate_segment(0, 0, 0xff);
	n = pci_dev_count();
	for (unsigned i = 0; i < n; i++) {
		struct pci_dev *d = pci_dev_at(i);

		for (unsigned c = 0; c < sizeof(caps); c++)
			pci_cap_find(d, caps[c]);
		for (unsigned c = 0; c < sizeof(ecaps) / sizeof(ecaps[0]); c++)
			pci_ecap_find(d, ecaps[c]);
		pci_has_flr(d);
	}

	for (unsigned i = 0; i < n; i++) {
		struct pci_dev *pf = pci_dev_at(i);

		if (!pf->ecap_sriov || pf->is_vf || pci_sriov_probe(pf))
			continue;
		if (pci_sriov_enable(pf, pci_sriov_configured_vfs(pf)) == 0) {
			for (unsigned v = 0; v < pf->sriov->num_vfs + 1u; v++)
				pci_sriov_vf(pf, v);
		}
	}
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		char why[160];

		if (pci_dev_at(i)->cap_msix)
			pci_msix_layout_check(pci_dev_at(i), why, sizeof(why));
	}
	pci_print_devices();
	for (unsigned i = 0; (opts & 0x80) && i < n; i++) {
		struct pci_dev *d = pci_dev_at(i);

		if (d->header_type == 1)
			pci_secondary_bus_reset(d);
		else if (pci_has_flr(d))
			pci_flr(d);
	}
	for (unsigned i = 0; i < n; i++) {
		struct pci_dev *pf = pci_dev_at(i);

		if (pf->sriov && pf->sriov->enabled)
			pci_sriov_disable(pf);
	}
	return 0;
}
