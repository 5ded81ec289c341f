/* mm.h - the guest's 1:1 page tables. */
#ifndef GUEST_MM_H
#define GUEST_MM_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Make [phys, phys + size) reachable at the same virtual address. The boot
 * code maps the low 4 GiB; this adds 2 MiB pages above that, e.g. for a
 * 64-bit BAR placed high. uncached is for device registers. Returns 0,
 * -EINVAL for addresses beyond the 47-bit identity range, or -ENOMEM when
 * the table pool is used up.
 */
int mm_map(uint64_t phys, uint64_t size, bool uncached);

#endif
