/* PCI bring-up: config access, the root buses' address space, enumeration, SR-IOV. */
#define LOG_TAG "pci"
#include <moat/acpi.h>
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "pci/internal.h"
#include <moat/pci_driver.h>

/* The 32-bit PCI hole of PC machines ends below the IOAPIC/HPET/LAPIC block. */
#define PCI_HOLE_END 0xfec00000ULL

static bool is_ram(u32 type)
{
	return type == MEM_USABLE || type == MEM_ACPI_RECLAIM || type == MEM_ACPI_NVS ||
	       type == MEM_BAD || type == MEM_PERSISTENT || type == MEM_BOOT_DATA;
}

struct range {
	u64 base, end; /* [base, end) */
};

/* Removes [b, e) from the set of ranges. */
static unsigned carve(struct range *r, unsigned n, unsigned max, u64 b, u64 e)
{
	for (unsigned i = 0; i < n; i++) {
		if (e <= r[i].base || b >= r[i].end)
			continue;
		if (b > r[i].base && e < r[i].end) {
			if (n < max) {
				r[n] = (struct range){e, r[i].end};
				n++;
			}
			r[i].end = b;
		} else if (b > r[i].base) {
			r[i].end = b;
		} else if (e < r[i].end) {
			r[i].base = e;
		} else {
			r[i] = r[--n];
			i--;
		}
	}
	return n;
}

int pci_apertures_from_memmap(const struct mem_range *mem, unsigned nr_mem,
			      const struct ecam_region *ecam, unsigned nr_ecam)
{
	struct range r[PCI_MAX_APERTURES];
	u64 top = 0;
	unsigned n = 1;
	int err = 0;

	for (unsigned i = 0; i < nr_mem; i++)
		if (is_ram(mem[i].type) && mem[i].base < PCI_HOLE_END)
			top = MAX(top, mem[i].base + mem[i].length);
	r[0] = (struct range){ALIGN_UP(top, PCI_WINDOW_MEM_ALIGN), PCI_HOLE_END};
	if (r[0].base >= r[0].end)
		return pr_err(-ENOSPC, "no PCI hole below 4 GiB (RAM reaches %#llx)\n",
			      (unsigned long long)top);
	for (unsigned i = 0; i < nr_mem; i++)
		n = carve(r, n, ARRAY_SIZE(r), mem[i].base, mem[i].base + mem[i].length);
	for (unsigned i = 0; i < nr_ecam; i++)
		n = carve(r, n, ARRAY_SIZE(r), ecam[i].base + ((u64)ecam[i].bus_start << 20),
			  ecam[i].base + (((u64)ecam[i].bus_end + 1) << 20));
	pci_root_apertures_reset();
	for (unsigned i = 0; i < n && !err; i++) {
		u64 b = ALIGN_UP(r[i].base, PCI_WINDOW_MEM_ALIGN);
		u64 e = ALIGN_DOWN(r[i].end, PCI_WINDOW_MEM_ALIGN);

		if (e <= b)
			continue;
		for (unsigned s = 0; s < (nr_ecam ? nr_ecam : 1) && !err; s++)
			err = pci_root_aperture_add(nr_ecam ? ecam[s].seg : 0, b, e - 1);
		pr_info("root memory aperture %#llx-%#llx\n", (unsigned long long)b,
			(unsigned long long)e - 1);
	}
	return err;
}

static struct ecam_region ecam[PCI_MAX_ECAM];
static unsigned nr_ecam;

static void config_access_init(const struct acpi_mcfg_segment *mcfg, unsigned nr_mcfg)
{
	pci_ecam_reset();
	nr_ecam = 0;
	for (unsigned i = 0; i < nr_mcfg && nr_ecam < PCI_MAX_ECAM; i++) {
		struct ecam_region r = {mcfg[i].base, mcfg[i].segment, mcfg[i].bus_start,
					mcfg[i].bus_end};

		if (pci_ecam_add(&r) == 0)
			ecam[nr_ecam++] = r;
	}
	if (nr_ecam) {
		pci_cfg_set_backend(&pci_ecam_ops, NULL);
		return;
	}
	pci_cfg_set_backend(&pci_cf8_ops, NULL);
	if (pci_ecam_from_q35_mch(&ecam[0]) == 0 && pci_ecam_add(&ecam[0]) == 0) {
		pr_info("no MCFG; ECAM found in the Q35 host bridge's PCIEXBAR\n");
		nr_ecam = 1;
		pci_cfg_set_backend(&pci_ecam_ops, NULL);
		return;
	}
	pr_warn("no ECAM: CF8/CFC only, first 256 bytes of config space (no extended capabilities, "
		"no SR-IOV)\n");
}

static void claim_infrastructure(void)
{
	for (unsigned i = 0; i < pci_dev_count(); i++) {
		struct pci_dev *d = pci_dev_at(i);

		/* Bridges and host bridges route everyone's traffic: never a guest's. */
		if (d->header_type == 1 || (d->class >> 8) == 0x0600)
			pci_set_owner(d, PCI_OWNER_HYPERVISOR, 0);
	}
}

static void sriov_init_all(void)
{
	unsigned n = pci_dev_count();

	for (unsigned i = 0; i < n; i++) {
		struct pci_dev *pf = pci_dev_at(i);
		unsigned want;

		if (!pf->ecap_sriov || pf->is_vf || pci_sriov_probe(pf))
			continue;
		pci_set_owner(pf, PCI_OWNER_HYPERVISOR, 0);
		if (pf->sriov->enabled) {
			/* The state left by firmware is unknown: start from VF Enable off. */
			pf->sriov->enabled = true;
			pci_sriov_disable(pf);
		}
		want = pci_sriov_configured_vfs(pf);
		pci_sriov_enable(pf, want);
	}
}

int pci_init(const struct acpi_mcfg_segment *mcfg, unsigned nr_mcfg, const struct mem_range *mem,
	     unsigned nr_mem)
{
	int found = 0;

	config_access_init(mcfg, nr_mcfg);
	pr_info("config access: %s\n", pci_cfg_backend_name());
	pci_apertures_from_memmap(mem, nr_mem, ecam, nr_ecam);
	if (nr_ecam) {
		for (unsigned i = 0; i < nr_ecam; i++) {
			int r = pci_enumerate_segment(ecam[i].seg, ecam[i].bus_start,
						      ecam[i].bus_end);

			found += r > 0 ? r : 0;
		}
	} else {
		int r = pci_enumerate_segment(0, 0, 0xff);

		found = r > 0 ? r : 0;
	}
	pr_info("%d functions found by the scan\n", found);
	claim_infrastructure();
	sriov_init_all();
	pci_drivers_probe();
	pci_print_devices();
	return found ? 0 : -ENODEV;
}
