/* The hypervisor's allocator instance. */
#include <moat/pmm.h>
#include <moat/string.h>

struct pmm hv_pmm;

u64 pages_alloc(u64 size, u64 align)
{
	u64 pa = pmm_alloc_range(&hv_pmm, ALIGN_UP(size, PAGE_SIZE), align, 0);

	if (pa)
		memset((void *)(uintptr_t)pa, 0, ALIGN_UP(size, PAGE_SIZE));
	return pa;
}

void pages_free(u64 pa, u64 size)
{
	pmm_free_range(&hv_pmm, pa, ALIGN_UP(size, PAGE_SIZE));
}

u64 page_alloc(void)
{
	return pages_alloc(PAGE_SIZE, PAGE_SIZE);
}

void page_free(u64 pa)
{
	pages_free(pa, PAGE_SIZE);
}
