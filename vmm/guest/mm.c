/* mm.c - on-demand identity mappings above 4 GiB. */
#include "mm.h"

#include "lib.h"

#define PAGE_2M (2ull << 20)
#define LOW_MAPPED (4ull << 30)
#define IDENTITY_LIMIT (1ull << 47)
#define PTE_PRESENT_RW 0x003ull
#define PTE_PWT_PCD 0x018ull
#define PDE_LARGE 0x083ull
#define PTE_ADDR 0x000ffffffffff000ull
#define TABLE_POOL 8

extern uint64_t boot_pml4[512];

static uint64_t pool[TABLE_POOL][512] __attribute__((aligned(4096)));
static unsigned pool_used;

static uint64_t *next_table(uint64_t *table, unsigned idx)
{
	if (!(table[idx] & 1)) {
		if (pool_used == TABLE_POOL)
			return NULL;
		table[idx] = (uintptr_t)pool[pool_used++] | PTE_PRESENT_RW;
	}
	return (uint64_t *)(uintptr_t)(table[idx] & PTE_ADDR);
}

int mm_map(uint64_t phys, uint64_t size, bool uncached)
{
	uint64_t a, end = phys + size;

	if (end <= LOW_MAPPED)
		return 0;
	if (end < phys || end > IDENTITY_LIMIT)
		return -EINVAL;
	for (a = phys & ~(PAGE_2M - 1); a < end; a += PAGE_2M) {
		uint64_t *pdpt, *pd;

		if (a < LOW_MAPPED)
			continue;
		pdpt = next_table(boot_pml4, (a >> 39) & 511);
		pd = pdpt ? next_table(pdpt, (a >> 30) & 511) : NULL;
		if (!pd)
			return -ENOMEM;
		pd[(a >> 21) & 511] = a | PDE_LARGE | (uncached ? PTE_PWT_PCD : 0);
		__asm__ volatile("invlpg (%0)" : : "r"((uintptr_t)a) : "memory");
	}
	return 0;
}
