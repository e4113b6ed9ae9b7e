/* Guest memory: RAM carved in 2 MiB aligned chunks with a hypervisor-owned guard after it,
 * nested tables GPA -> HPA, the boot page tables of the entry state, and canaries. */
#define LOG_TAG "vmm"
#include <moat/errno.h>
#include <moat/log.h>
#include <moat/pmm.h>
#include <moat/string.h>
#include "vmm/elf.h"
#include "vmm/guest.h"

#define X86_P BIT(0)
#define X86_RW BIT(1)
#define X86_PS BIT(7)

static const struct pt_ops npt_ops = PT_OPS_PAGES(NULL);

static u64 canary_value(u64 hpa, u64 i)
{
	return 0x6d6f6174ca7a5a00ULL ^ (hpa * 0x9e3779b97f4a7c15ULL) ^ i;
}

/* The regions watched: the guest's first and last RAM page, and the whole hypervisor-owned
 * guard right after its RAM (what a wrong nested mapping would hit first). An OS guest's
 * first page is its BIOS data area: Linux writes the warm-reset vector at 0x467 to start its
 * other CPUs, as on any PC, so only moat's own guests have a canary there. */
struct canary_region {
	const char *where;
	u64 hpa, size;
};

static unsigned canary_regions(const struct guest *g, struct canary_region r[3])
{
	unsigned n = 0;

	if (!guest_is_os(g))
		r[n++] = (struct canary_region){"first RAM page", g->ram_hpa, PAGE_SIZE};
	r[n++] = (struct canary_region){"last RAM page", g->ram_hpa + g->ram_size - PAGE_SIZE,
					PAGE_SIZE};
	r[n++] = (struct canary_region){"guard after RAM", g->ram_hpa + g->ram_size,
					GUEST_GUARD_SIZE};
	return n;
}

static void canaries_fill(const struct guest *g)
{
	struct canary_region r[3];
	unsigned n = canary_regions(g, r);

	for (unsigned i = 0; i < n; i++) {
		u64 *p = (u64 *)(uintptr_t)r[i].hpa;

		for (u64 w = 0; w < r[i].size / 8; w++)
			p[w] = canary_value(r[i].hpa, w);
	}
}

int guest_canaries_check(const struct guest *g, char *why, size_t size)
{
	struct canary_region r[3];
	unsigned n = canary_regions(g, r);

	for (unsigned i = 0; i < n; i++) {
		const u64 *p = (const u64 *)(uintptr_t)r[i].hpa;

		for (u64 w = 0; w < r[i].size / 8; w++)
			if (p[w] != canary_value(r[i].hpa, w)) {
				snprintf(why, size, "guest %s: canary in %s changed at HPA %#llx",
					 g->cfg.name, r[i].where,
					 (unsigned long long)(r[i].hpa + w * 8));
				return -EIO;
			}
	}
	return 0;
}

/* Identity map of the guest's RAM with 2 MiB pages for the entry state. */
static int build_boot_tables(struct guest *g)
{
	u64 nr_pd = ALIGN_UP(g->ram_size, GiB) / GiB;
	u64 *pml4 = guest_ptr(g, GUEST_BOOT_PML4, PAGE_SIZE);
	u64 *pdpt = guest_ptr(g, GUEST_BOOT_PML4 + PAGE_SIZE, PAGE_SIZE);

	if (GUEST_BOOT_PML4 + (2 + nr_pd) * PAGE_SIZE > GUEST_BOOT_END)
		return pr_err(-E2BIG, "guest %s: %llu MiB of RAM is too much for the boot tables\n",
			      g->cfg.name, (unsigned long long)(g->ram_size / MiB));
	pml4[0] = (GUEST_BOOT_PML4 + PAGE_SIZE) | X86_P | X86_RW;
	for (u64 i = 0; i < nr_pd; i++) {
		u64 pd_gpa = GUEST_BOOT_PML4 + (2 + i) * PAGE_SIZE;
		u64 *pd = guest_ptr(g, pd_gpa, PAGE_SIZE);

		pdpt[i] = pd_gpa | X86_P | X86_RW;
		for (u64 j = 0; j < 512 && (i * 512 + j) * 2 * MiB < g->ram_size; j++)
			pd[j] = ((i * 512 + j) * 2 * MiB) | X86_P | X86_RW | X86_PS;
	}
	return 0;
}

int guest_memory_init(struct guest *g, const struct vmm_caps *caps)
{
	int err;

	g->ram_size = g->cfg.memory;
	/* RAM and guard in one chunk: the guard is what a broken nested map would hit. */
	/* 1 GiB alignment lets the nested tables use 1 GiB pages; 2 MiB is the minimum. */
	if (caps->npt_max_leaf >= 2 && IS_ALIGNED(g->ram_size, GiB))
		g->ram_hpa = pages_alloc(g->ram_size + GUEST_GUARD_SIZE, GiB);
	if (!g->ram_hpa)
		g->ram_hpa = pages_alloc(g->ram_size + GUEST_GUARD_SIZE, 2 * MiB);
	if (!g->ram_hpa)
		return pr_err(-ENOMEM, "guest %s: no %llu MiB of 2 MiB aligned RAM\n", g->cfg.name,
			      (unsigned long long)(g->ram_size / MiB));
	err = pt_init(&g->npt, caps->npt_fmt, &npt_ops, caps->npt_levels, caps->npt_max_leaf);
	if (err) {
		pr_err(err, "guest %s: no memory for nested tables\n", g->cfg.name);
		goto free_ram;
	}
	err = pt_map(&g->npt, 0, g->ram_hpa, g->ram_size, PT_RWX | PT_USER);
	if (err) {
		pr_err(err, "guest %s: mapping RAM in the nested tables failed\n", g->cfg.name);
		goto free_npt;
	}
	err = build_boot_tables(g);
	if (err)
		goto free_npt;
	canaries_fill(g);
	return 0;

free_npt:
	pt_destroy(&g->npt);
free_ram:
	pages_free(g->ram_hpa, g->ram_size + GUEST_GUARD_SIZE);
	g->ram_hpa = 0;
	return err;
}

void guest_memory_free(struct guest *g)
{
	if (!g->ram_hpa)
		return;
	pt_destroy(&g->npt);
	pages_free(g->ram_hpa, g->ram_size + GUEST_GUARD_SIZE);
	g->ram_hpa = 0;
}

void guest_memory_report(const struct guest *g)
{
	unsigned counts[5];

	pt_count_leaves(&g->npt, counts);
	pr_info("guest %s: RAM %llu MiB at HPA %#llx, nested tables: %u x 1G, %u x 2M, %u x 4K "
		"(%u tables)\n",
		g->cfg.name, (unsigned long long)(g->ram_size / MiB),
		(unsigned long long)g->ram_hpa, counts[2], counts[1], counts[0], g->npt.nr_tables);
}

int guest_load_image(struct guest *g, const void *image, u64 size, u64 *entry)
{
	char why[160];
	int err;

	/* The last RAM page holds a canary. */
	err = elf_check(image, size, g->ram_size - PAGE_SIZE, entry, why, sizeof(why));
	if (err)
		return pr_err(err, "guest %s: image '%s' refused: %s\n", g->cfg.name, g->cfg.image,
			      why);
	elf_load(image, guest_ptr(g, 0, g->ram_size));
	return 0;
}
