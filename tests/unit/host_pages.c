/* The page allocator for host tests of code that takes its tables one page at a time:
 * zeroed, aligned pages from libc, counted so a test can prove every table was freed. */
#include <stdlib.h>
#include <string.h>
#include <moat/pmm.h>
#include "host_shim.h"

int host_live_pages;

u64 page_alloc(void)
{
	void *p = aligned_alloc(4096, 4096);

	if (!p)
		return 0;
	memset(p, 0, 4096);
	host_live_pages++;
	return (u64)(uintptr_t)p;
}

void page_free(u64 pa)
{
	host_live_pages--;
	free((void *)(uintptr_t)pa);
}
