/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Boot loaders: put a kernel into guest RAM the way firmware would and say
 * where vCPU 0 starts. Two formats:
 *
 *  - an ELF64 (or ELF32) with a PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY):
 *    the reference guest, and any kernel built for PVH. Entered in 32-bit
 *    protected mode with %ebx pointing at struct hvm_start_info.
 *  - a Linux bzImage, through the x86 boot protocol (2.12 or later): entered
 *    at its 64-bit entry point with %rsi pointing at boot_params, which
 *    carries the e820 map, the command line, the initrd and a screen_info
 *    describing the linear framebuffer so vesafb/simplefb use the display.
 *
 * Files are untrusted: every header field and segment is checked against
 * the file's size and against guest RAM before anything is copied.
 */
#ifndef VDI_VMM_BOOT_H
#define VDI_VMM_BOOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/mem.h"

#define VMM_BOOT_MAX_KERNEL (256u << 20)
#define VMM_BOOT_MAX_INITRD (1024u << 20)
#define VMM_BOOT_MAX_CMDLINE 2048

/* Fixed guest-physical layout below 1 MiB, shared by both loaders. */
#define VMM_BOOT_GDT 0x500
#define VMM_BOOT_START_INFO 0x6000 /* PVH start_info, memory map, module list */
#define VMM_BOOT_ZERO_PAGE 0x7000  /* Linux boot_params */
#define VMM_BOOT_PML4 0x9000       /* identity page tables for 64-bit Linux entry */
#define VMM_BOOT_PDPT 0xa000
#define VMM_BOOT_PD 0xb000 /* four page directories: the first 4 GiB */
#define VMM_BOOT_CMDLINE 0x20000
#define VMM_BOOT_EBDA 0x9fc00
#define VMM_BOOT_MPTABLE 0xf0000
#define VMM_BOOT_KERNEL_ADDR 0x100000

struct vmm_boot_fb {
	uint64_t gpa; /* 0: no framebuffer to describe */
	uint64_t size;
	unsigned int width, height, stride, bpp;
};

struct vmm_boot_params {
	struct vmm_mem *mem;
	const char *kernel_path;
	const char *initrd_path; /* NULL: none */
	const char *cmdline;     /* NULL: empty */
	struct vmm_boot_fb fb;
};

enum vmm_boot_mode {
	VMM_BOOT_PROTECTED32, /* PVH */
	VMM_BOOT_LONG64,      /* Linux 64-bit boot protocol */
};

struct vmm_boot_entry {
	enum vmm_boot_mode mode;
	uint64_t entry;
	uint64_t arg; /* %ebx (PVH) or %rsi (Linux) */
	uint64_t cr3;
	uint64_t gdt_base;
	uint16_t gdt_limit;
};

/*
 * Load the kernel (and initrd) named in @p into guest RAM. Returns 0 and
 * fills @ret, or -errno with a one-line reason in @err.
 */
int vmm_boot_load(const struct vmm_boot_params *p, struct vmm_boot_entry *ret, char *err,
                  size_t err_size);

/* Internal to the loaders (boot.c, boot_pvh.c, boot_linux.c). */
struct vmm_boot_file {
	const uint8_t *data;
	size_t size;
};

struct vmm_e820 {
	uint64_t addr, size;
	uint32_t type; /* 1 RAM, 2 reserved */
};
#define VMM_E820_MAX 8

/* The guest's memory map as a PC firmware would report it; returns the entry count. */
unsigned int vmm_boot_e820(const struct vmm_mem *mem, struct vmm_e820 *map);

/* Write a reason to @err and return @r, so loaders can "return vmm_boot_fail(...)". */
int vmm_boot_fail(char *err, size_t err_size, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

int vmm_boot_read_file(const char *path, size_t max, struct vmm_boot_file *ret, char *err,
                       size_t err_size);
void vmm_boot_file_free(struct vmm_boot_file *f);

int vmm_boot_pvh(const struct vmm_boot_params *p, const struct vmm_boot_file *kernel,
                 struct vmm_boot_entry *ret, char *err, size_t err_size);
int vmm_boot_linux(const struct vmm_boot_params *p, const struct vmm_boot_file *kernel,
                   struct vmm_boot_entry *ret, char *err, size_t err_size);

/* Copy the initrd as high in low RAM as @max_addr allows; returns 0 and its placement. */
int vmm_boot_place_initrd(const struct vmm_boot_params *p, uint64_t min_addr, uint64_t max_addr,
                          uint64_t *ret_addr, uint64_t *ret_size, char *err, size_t err_size);

#endif
