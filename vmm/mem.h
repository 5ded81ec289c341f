/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Guest RAM as the vmm sees it: up to a few regions of host memory mapped at
 * guest-physical addresses. Everything a device reads or writes on the
 * guest's behalf (virtqueues, buffers, boot data) goes through
 * vmm_mem_ptr(), which refuses any range not wholly inside one RAM region.
 * The framebuffer is not RAM here: it belongs to the display adapter.
 */
#ifndef VDI_VMM_MEM_H
#define VDI_VMM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_MEM_MAX_REGIONS 4

struct vmm_mem_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct vmm_mem {
	struct vmm_mem_region region[VMM_MEM_MAX_REGIONS];
	unsigned int nr_regions;
	uint64_t ram_size; /* sum of the regions */
};

/*
 * Host pointer for guest-physical [gpa, gpa + len), or NULL when any byte of
 * it is outside guest RAM (including wrap-around of gpa + len). len may be 0
 * only for a gpa inside RAM. Thread-safe: the layout never changes after
 * start-up.
 */
void *vmm_mem_ptr(const struct vmm_mem *mem, uint64_t gpa, uint64_t len);

/* Copy between guest RAM and host memory; 0 or -EFAULT outside RAM. */
int vmm_mem_read(const struct vmm_mem *mem, uint64_t gpa, void *buf, size_t len);
int vmm_mem_write(const struct vmm_mem *mem, uint64_t gpa, const void *buf, size_t len);

/*
 * Allocate guest RAM of @size bytes laid out as on a PC: below the 32-bit
 * PCI hole at VMM_MEM_HOLE_START, the rest from 4 GiB up. Anonymous
 * private mappings, so untouched pages cost nothing. Returns 0 or -errno.
 */
#define VMM_MEM_HOLE_START 0xC0000000ULL
#define VMM_MEM_HIGH_START 0x100000000ULL
int vmm_mem_init(struct vmm_mem *mem, uint64_t size);

/* Unmap what vmm_mem_init() mapped; safe on a zeroed struct. */
void vmm_mem_exit(struct vmm_mem *mem);

/* Parse "256M", "1G", "65536K" or a byte count; 0 or -EINVAL/-ERANGE. */
int vmm_parse_size(const char *s, uint64_t *ret_size);

#endif
