/* MSI-X of assigned devices. The guest programs its table as on hardware, but the table
 * lives here: the physical entry of a vector stays masked until the guest unmasks a valid
 * entry (vector 0x20..0xfe, fixed, edge, destination its own vCPU), and then carries a
 * remappable-format message naming an interrupt remapping entry that checks the device's
 * source ID and targets a host vector on the guest's CPU; that vector raises the guest's
 * (an OS guest's: delivered to the vLAPICs the entry's message names). */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/string.h>
#include "arch/x86/io.h"
#include "arch/x86/irq_drain.h"
#include "arch/x86/percpu.h"
#include "arch/x86/trap.h"
#include "vmm/msix.h"

int msix_entry_check(const u32 entry[4], u32 apic_id, char *why, size_t size)
{
	u32 addr = entry[MSIX_ENTRY_ADDR_LO], data = entry[MSIX_ENTRY_DATA];
	u32 vector = (u32)FIELD_GET(MSI_DATA_VECTOR, data);

	if (entry[MSIX_ENTRY_ADDR_HI] || FIELD_GET(MSI_ADDR_BASE, addr) != MSI_ADDR_BASE_VAL)
		snprintf(why, size, "address %#x:%08x is not an interrupt message",
			 entry[MSIX_ENTRY_ADDR_HI], addr);
	else if (addr & (MSI_ADDR_IF_REMAP | MSI_ADDR_RH | MSI_ADDR_DM_LOGICAL))
		snprintf(why, size, "address %#x: remappable, redirected or logical", addr);
	else if (FIELD_GET(MSI_ADDR_DEST_ID, addr) != apic_id)
		snprintf(why, size, "destination APIC %u is not its vCPU (%u)",
			 (unsigned)FIELD_GET(MSI_ADDR_DEST_ID, addr), apic_id);
	else if (vector < VIRQ_VECTOR_MIN || vector > VIRQ_VECTOR_MAX)
		snprintf(why, size, "vector %#x outside %#x..%#x", vector, VIRQ_VECTOR_MIN,
			 VIRQ_VECTOR_MAX);
	else if (FIELD_GET(MSI_DATA_DELIVERY, data) || (data & MSI_DATA_TRIGGER_LEVEL))
		snprintf(why, size, "data %#x: not fixed edge-triggered delivery", data);
	else
		return 0;
	return -EINVAL;
}

int msix_entry_check_os(const u32 entry[4], u32 nr_vcpus, struct vlapic_msg *msg, char *why,
			size_t size)
{
	u32 addr = entry[MSIX_ENTRY_ADDR_LO], data = entry[MSIX_ENTRY_DATA];
	u32 vector = (u32)FIELD_GET(MSI_DATA_VECTOR, data);
	u32 dest = (u32)FIELD_GET(MSI_ADDR_DEST_ID, addr);
	u32 mode = (u32)FIELD_GET(MSI_DATA_DELIVERY, data);
	bool logical = addr & MSI_ADDR_DM_LOGICAL;

	if (entry[MSIX_ENTRY_ADDR_HI] || FIELD_GET(MSI_ADDR_BASE, addr) != MSI_ADDR_BASE_VAL)
		snprintf(why, size, "address %#x:%08x is not an interrupt message",
			 entry[MSIX_ENTRY_ADDR_HI], addr);
	else if (addr & MSI_ADDR_IF_REMAP)
		snprintf(why, size, "address %#x: remappable format", addr);
	else if (!logical && dest >= nr_vcpus)
		snprintf(why, size, "destination APIC %u is none of its %u vCPUs", dest, nr_vcpus);
	else if (logical && !dest)
		snprintf(why, size, "logical destination 0 names no vCPU");
	else if (vector < VIRQ_VECTOR_MIN || vector > VIRQ_VECTOR_MAX)
		snprintf(why, size, "vector %#x outside %#x..%#x", vector, VIRQ_VECTOR_MIN,
			 VIRQ_VECTOR_MAX);
	else if ((mode != VLAPIC_DM_FIXED && mode != VLAPIC_DM_LOWEST) ||
		 (data & MSI_DATA_TRIGGER_LEVEL))
		snprintf(why, size, "data %#x: not fixed or lowest-priority edge delivery", data);
	else {
		*msg = (struct vlapic_msg){.dest = dest,
					   .logical = logical,
					   .mode = (enum vlapic_delivery)mode,
					   .vector = (u8)vector};
		return 0;
	}
	return -EINVAL;
}

static u64 table_hpa(const struct vdev *v, unsigned idx)
{
	const struct pci_dev *d = v->pdev;

	return d->bar[d->msix.table_bir].base + d->msix.table_offset + idx * MSIX_ENTRY_SIZE;
}

static void phys_mask(const struct vdev *v, unsigned idx)
{
	u64 e = table_hpa(v, idx);

	mmio_write32(e + 4 * MSIX_ENTRY_CTRL,
		     mmio_read32(e + 4 * MSIX_ENTRY_CTRL) | MSIX_ENTRY_CTRL_MASKED);
}

void msix_init(struct vdev *v)
{
	memset(&v->msix, 0, sizeof(v->msix));
	if (!v->pdev->cap_msix)
		return;
	v->msix.nr = (u16)MIN((unsigned)v->pdev->msix.table_size, (unsigned)VMSIX_MAX);
	for (unsigned i = 0; i < v->msix.nr; i++)
		v->msix.entry[i][MSIX_ENTRY_CTRL] = MSIX_ENTRY_CTRL_MASKED;
}

static void host_vector_fired(struct trap_frame *f, void *ctx)
{
	struct vmsix_vec *vec = ctx;

	__atomic_fetch_add(&vec->messages, 1, __ATOMIC_RELAXED);
	if (!vec->to_vlapic)
		virq_raise(vec->g, vec->vector);
	else if (vlapic_deliver(vec->g, &vec->msg))
		__atomic_fetch_add(&vec->g->msix_nowhere, 1, __ATOMIC_RELAXED);
}

/* A vector in quarantine (its device released) belongs to nobody: what still arrives on
 * it is swallowed and counted. */
static u64 quarantine_strays;

static void quarantined_fired(struct trap_frame *f, void *ctx)
{
	__atomic_fetch_add(&quarantine_strays, 1, __ATOMIC_RELAXED);
}

/* Host vectors guests' devices took, and those freed again (drained on their CPUs). */
static u32 vectors_taken, vectors_back;

u64 msix_quarantine_strays(void)
{
	return __atomic_load_n(&quarantine_strays, __ATOMIC_RELAXED);
}

/* The physical CPU the entry's IRTE targets: the guest's CPU; for an OS guest, that of the
 * first vCPU the message names, by APIC ID or by a logical destination matched against the
 * vLAPICs' LDRs now (Linux's flat mode: one bit, one vCPU), so that the interrupt lands
 * where it is taken; none: the boot vCPU's (vlapic_deliver decides when it arrives). */
static u32 entry_cpu(const struct guest *g, const struct vmsix_vec *vec)
{
	int t = vec->to_vlapic ? vlapic_msg_target(g, &vec->msg) : -1;

	return t >= 0 ? g->vcpu[t].cpu : g->vcpu[0].cpu;
}

/* The IRTE and host vector of entry idx, allocated on first use. */
static int entry_route(struct guest *g, struct vdev *v, unsigned idx)
{
	struct vmsix *m = &v->msix;
	const struct pci_dev *d = v->pdev;
	struct iommu_irq_cfg cfg = {0};
	int err;

	if (!m->host_vector[idx]) {
		m->vec[idx].g = g;
		err = irq_alloc_vector(host_vector_fired, &m->vec[idx]);
		if (err < 0)
			return pr_err(err, "guest %s: no host vector for MSI-X entry %u\n",
				      g->cfg.name, idx);
		m->host_vector[idx] = err;
		__atomic_fetch_add(&vectors_taken, 1, __ATOMIC_RELAXED);
	}
	if (!m->have_irq[idx]) {
		err = iommu_irq_alloc(d->seg, d->rid, d->is_vf ? d->pf->rid : d->rid, &m->irq[idx]);
		if (err)
			return pr_err(err, "guest %s: no interrupt remapping entry for %04x\n",
				      g->cfg.name, d->rid);
		m->have_irq[idx] = true;
	}
	m->cpu[idx] = entry_cpu(g, &m->vec[idx]);
	cfg.dest_apic_id = cpu_data[m->cpu[idx]].apic_id;
	cfg.vector = (u8)m->host_vector[idx];
	err = iommu_irq_program(&m->irq[idx], &cfg);
	if (err)
		return pr_err(err, "guest %s: programming IRTE %u failed\n", g->cfg.name,
			      m->irq[idx].index);
	return 0;
}

/* Makes the physical entry follow the guest's: live only when enabled, not masked and
 * valid. */
static void entry_update(struct guest *g, struct vdev *v, unsigned idx)
{
	struct vmsix *m = &v->msix;
	u32 *e = m->entry[idx];
	struct vlapic_msg msg = {0};
	char why[96];
	u64 p = table_hpa(v, idx);

	phys_mask(v, idx);
	m->live[idx] = false;
	if (!m->enabled || m->fmask || (e[MSIX_ENTRY_CTRL] & MSIX_ENTRY_CTRL_MASKED))
		return;
	if (guest_is_os(g) ? msix_entry_check_os(e, g->nr_vcpus, &msg, why, sizeof(why))
			   : msix_entry_check(e, cpu_data[g->vcpu[0].cpu].apic_id & 0xff, why,
					      sizeof(why))) {
		g->msix_refused++;
		pr_info("guest %s: MSI-X entry %u of 00:%02x.0 refused: %s\n", g->cfg.name, idx,
			(unsigned)(v - g->dev) + 1, why);
		return;
	}
	/* The guest may rewrite its entry while a message sent through the old one is in
	 * flight: the host vector raises the vector checked here, never the table's. */
	m->vec[idx].vector = (u8)FIELD_GET(MSI_DATA_VECTOR, e[MSIX_ENTRY_DATA]);
	m->vec[idx].to_vlapic = guest_is_os(g);
	m->vec[idx].msg = msg;
	if (entry_route(g, v, idx))
		return;
	mmio_write32(p + 4 * MSIX_ENTRY_ADDR_LO, m->irq[idx].msi_addr);
	mmio_write32(p + 4 * MSIX_ENTRY_ADDR_HI, 0);
	mmio_write32(p + 4 * MSIX_ENTRY_DATA, m->irq[idx].msi_data);
	mmio_write32(p + 4 * MSIX_ENTRY_CTRL, 0);
	m->live[idx] = true;
}

u16 msix_ctrl_read(const struct vdev *v, u16 hw)
{
	hw &= (u16) ~(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	return hw | (v->msix.enabled ? MSIX_CTRL_ENABLE : 0) |
	       (v->msix.fmask ? MSIX_CTRL_FMASK : 0);
}

void msix_refresh(struct guest *g, struct vdev *v)
{
	for (unsigned i = 0; i < v->msix.nr; i++)
		entry_update(g, v, i);
}

void msix_ctrl_write(struct guest *g, struct vdev *v, u16 val)
{
	const struct pci_dev *d = v->pdev;
	u16 hw = pci_read16(d, (u16)(d->cap_msix + 2));

	v->msix.enabled = val & MSIX_CTRL_ENABLE;
	v->msix.fmask = val & MSIX_CTRL_FMASK;
	/* The function stays unmasked in hardware: each entry is masked on its own. */
	hw &= (u16) ~(MSIX_CTRL_ENABLE | MSIX_CTRL_FMASK);
	pci_write16(d, (u16)(d->cap_msix + 2), hw | (v->msix.enabled ? MSIX_CTRL_ENABLE : 0));
	msix_refresh(g, v);
}

static bool in_page_of(u64 gpa, u64 base, u64 start, u64 end)
{
	return gpa >= base + ALIGN_DOWN(start, PAGE_SIZE) && gpa < base + ALIGN_UP(end, PAGE_SIZE);
}

struct vdev *msix_region(struct guest *g, u64 gpa)
{
	for (u32 i = 0; i < g->nr_dev; i++) {
		struct vdev *v = &g->dev[i];
		const struct pci_msix_info *m = &v->pdev->msix;
		u64 tab = v->bar_gpa[m->table_bir], pba = v->bar_gpa[m->pba_bir];

		if (!v->pdev->cap_msix)
			continue;
		if ((tab && in_page_of(gpa, tab, m->table_offset,
				       m->table_offset + (u64)m->table_size * MSIX_ENTRY_SIZE)) ||
		    (pba && in_page_of(gpa, pba, m->pba_offset,
				       m->pba_offset + ALIGN_UP((u64)m->table_size, 64) / 8)))
			return v;
	}
	return NULL;
}

/* Offset of gpa in the table (< 0 when it is not in it). */
static s64 table_off(const struct vdev *v, u64 gpa)
{
	const struct pci_msix_info *m = &v->pdev->msix;
	s64 off = (s64)(gpa - v->bar_gpa[m->table_bir]) - (s64)m->table_offset;

	return off >= 0 && off < (s64)m->table_size * MSIX_ENTRY_SIZE ? off : -1;
}

static s64 pba_off(const struct vdev *v, u64 gpa)
{
	const struct pci_msix_info *m = &v->pdev->msix;
	s64 off = (s64)(gpa - v->bar_gpa[m->pba_bir]) - (s64)m->pba_offset;

	return off >= 0 && off < (s64)ALIGN_UP((u64)m->table_size, 64) / 8 ? off : -1;
}

u32 msix_mmio_read(struct guest *g, struct vdev *v, u64 gpa)
{
	const struct pci_dev *d = v->pdev;
	s64 off = table_off(v, gpa);

	if (off >= 0)
		return off / MSIX_ENTRY_SIZE < v->msix.nr
			       ? v->msix.entry[off / MSIX_ENTRY_SIZE][(off % MSIX_ENTRY_SIZE) / 4]
			       : (off % MSIX_ENTRY_SIZE == 12 ? MSIX_ENTRY_CTRL_MASKED : 0);
	off = pba_off(v, gpa);
	/* Pending bits are the hardware's: an entry masked here is masked there too. */
	if (off >= 0)
		return mmio_read32(d->bar[d->msix.pba_bir].base + d->msix.pba_offset + (u64)off);
	return 0; /* the rest of those pages */
}

void msix_mmio_write(struct guest *g, struct vdev *v, u64 gpa, u32 val)
{
	s64 off = table_off(v, gpa);
	unsigned idx;

	if (off < 0 || (idx = (unsigned)(off / MSIX_ENTRY_SIZE)) >= v->msix.nr)
		return; /* PBA is read-only; entries past VMSIX_MAX stay masked */
	v->msix.entry[idx][(off % MSIX_ENTRY_SIZE) / 4] =
		(off % MSIX_ENTRY_SIZE) / 4 == MSIX_ENTRY_CTRL ? val & MSIX_ENTRY_CTRL_MASKED : val;
	entry_update(g, v, idx);
}

/* Quiescing a released device's interrupts, in this order: the physical entry masked (no
 * new message), the IRTE freed (its invalidation completes before iommu_irq_free returns:
 * nothing more is remapped to the vector), the host vector kept but handed to the
 * quarantine handler. A
 * message already past the IOMMU may still be in flight or pending in the CPU's IRR: the
 * vector is handed out again only after the function reset and a drain on its CPU
 * (msix_free_vectors, arch/x86/irq_drain.h), or the next owner would receive it. */
/* Entry i masked at the device and its IRTE freed. */
static void entry_quiesce(struct vdev *v, unsigned i)
{
	struct vmsix *m = &v->msix;

	phys_mask(v, i);
	m->live[i] = false;
	if (m->have_irq[i])
		iommu_irq_free(&m->irq[i]);
	m->have_irq[i] = false;
}

void msix_release(struct vdev *v)
{
	struct vmsix *m = &v->msix;

	for (unsigned i = 0; i < m->nr; i++) {
		entry_quiesce(v, i);
		if (m->host_vector[i])
			irq_set_handler((u8)m->host_vector[i], quarantined_fired, NULL);
	}
}

void msix_flr(struct vdev *v)
{
	struct vmsix *m = &v->msix;

	for (unsigned i = 0; i < m->nr; i++) {
		entry_quiesce(v, i);
		memset(m->entry[i], 0, sizeof(m->entry[i]));
		m->entry[i][MSIX_ENTRY_CTRL] = MSIX_ENTRY_CTRL_MASKED;
	}
	m->enabled = m->fmask = false;
}

void msix_free_vectors(struct vdev *v)
{
	struct vmsix *m = &v->msix;

	for (unsigned i = 0; i < m->nr; i++) {
		u8 vector = (u8)m->host_vector[i];

		if (!vector)
			continue;
		m->host_vector[i] = 0;
		/* Only the CPU the IRTE targeted sees whether the vector drained (an OS guest's
		 * entries target the CPUs of the vCPUs they name): drained there, now or in its
		 * idle loop. */
		if (irq_free_drained(vector, m->cpu[i], &vectors_back))
			pr_warn("host vector %#x of MSI-X entry %u stays in quarantine\n", vector,
				i);
	}
}

void msix_host_vectors(u32 *taken, u32 *back)
{
	*taken = __atomic_load_n(&vectors_taken, __ATOMIC_RELAXED);
	*back = __atomic_load_n(&vectors_back, __ATOMIC_RELAXED);
}

u64 msix_messages(const struct vdev *v)
{
	u64 n = 0;

	for (unsigned i = 0; i < v->msix.nr; i++)
		n += __atomic_load_n(&v->msix.vec[i].messages, __ATOMIC_RELAXED);
	return n;
}

unsigned msix_irtes(const struct guest *g)
{
	unsigned n = 0;

	for (u32 i = 0; i < g->nr_dev; i++)
		for (unsigned j = 0; j < g->dev[i].msix.nr; j++)
			n += g->dev[i].msix.have_irq[j];
	return n;
}
