// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Linux through the x86 boot protocol (Documentation/arch/x86/boot.rst):
 * the protected-mode kernel of a bzImage is copied to 1 MiB and entered at
 * its 64-bit entry point, with boot_params ("the zero page") holding the
 * setup header, the e820 map, the command line, the initrd and a
 * screen_info describing the display adapter's linear framebuffer.
 */
#include "vmm/boot.h"

#include <errno.h>
#include <string.h>

#define SETUP_HDR 0x1f1
#define SETUP_HDR_MAX 0x290 /* copy no more of the header than we understand */
#define BP_E820_ENTRIES 0x1e8
#define BP_E820_TABLE 0x2d0
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE 0x0c4
#define BP_EXT_CMD_LINE_PTR 0x0c8
#define HDR_SETUP_SECTS 0x1f1
#define HDR_BOOT_FLAG 0x1fe
#define HDR_JUMP 0x201
#define HDR_VERSION 0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_LOADFLAGS 0x211
#define HDR_RAMDISK_IMAGE 0x218
#define HDR_RAMDISK_SIZE 0x21c
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_ADDR_MAX 0x22c
#define HDR_XLOADFLAGS 0x236
#define HDR_INIT_SIZE 0x260

#define LOADED_HIGH 0x01
#define CAN_USE_HEAP 0x80
#define XLF_KERNEL_64 0x01
#define VIDEO_TYPE_VLFB 0x23
#define VIDEO_CAPABILITY_SKIP_QUIRKS 0x1
#define VIDEO_CAPABILITY_64BIT_BASE 0x2

struct screen_info {
	uint8_t orig_x, orig_y;
	uint16_t ext_mem_k, orig_video_page;
	uint8_t orig_video_mode, orig_video_cols, flags, unused2;
	uint16_t orig_video_ega_bx, unused3;
	uint8_t orig_video_lines, orig_video_is_vga;
	uint16_t orig_video_points;
	uint16_t lfb_width, lfb_height, lfb_depth;
	uint32_t lfb_base, lfb_size;
	uint16_t cl_magic, cl_offset;
	uint16_t lfb_linelength;
	uint8_t red_size, red_pos, green_size, green_pos, blue_size, blue_pos, rsvd_size, rsvd_pos;
	uint16_t vesapm_seg, vesapm_off, pages, vesa_attributes;
	uint32_t capabilities, ext_lfb_base;
	uint8_t reserved[2];
} __attribute__((packed));

_Static_assert(sizeof(struct screen_info) == 0x40, "screen_info layout");

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) | (uint32_t)get16(p + 2) << 16;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void describe_framebuffer(uint8_t *zp, const struct vmm_boot_fb *fb)
{
	struct screen_info si = { 0 };

	if (!fb->gpa || fb->bpp != 32)
		return;
	si.orig_video_is_vga = VIDEO_TYPE_VLFB;
	si.lfb_width = (uint16_t)fb->width;
	si.lfb_height = (uint16_t)fb->height;
	si.lfb_depth = 32;
	si.lfb_linelength = (uint16_t)fb->stride;
	si.lfb_base = (uint32_t)fb->gpa;
	si.ext_lfb_base = (uint32_t)(fb->gpa >> 32);
	si.lfb_size = (uint32_t)(fb->size >> 16); /* in 64 KiB units for VLFB */
	si.red_size = si.green_size = si.blue_size = si.rsvd_size = 8;
	si.red_pos = 16;
	si.green_pos = 8;
	si.blue_pos = 0;
	si.rsvd_pos = 24;
	si.pages = 1;
	si.capabilities = VIDEO_CAPABILITY_SKIP_QUIRKS;
	if (si.ext_lfb_base)
		si.capabilities |= VIDEO_CAPABILITY_64BIT_BASE;
	memcpy(zp, &si, sizeof(si));
}

/* Identity-map the first 4 GiB with 2 MiB pages and write a boot GDT. */
static int build_page_tables(struct vmm_mem *mem)
{
	uint64_t *pml4 = vmm_mem_ptr(mem, VMM_BOOT_PML4, 4096);
	uint64_t *pdpt = vmm_mem_ptr(mem, VMM_BOOT_PDPT, 4096);
	uint64_t *pd = vmm_mem_ptr(mem, VMM_BOOT_PD, 4 * 4096);
	uint64_t *gdt = vmm_mem_ptr(mem, VMM_BOOT_GDT, 6 * 8);

	if (!pml4 || !pdpt || !pd || !gdt)
		return -ENOMEM;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = VMM_BOOT_PDPT | 0x3; /* present, writable */
	for (unsigned int i = 0; i < 4; i++)
		pdpt[i] = (VMM_BOOT_PD + i * 4096ULL) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */
	gdt[0] = 0;
	gdt[1] = 0;
	gdt[2] = 0x00af9b000000ffffULL; /* 0x10: 64-bit code */
	gdt[3] = 0x00cf93000000ffffULL; /* 0x18: data */
	gdt[4] = 0x00008b0000000067ULL; /* 0x20: TSS (low half) */
	gdt[5] = 0;
	return 0;
}

int vmm_boot_linux(const struct vmm_boot_params *p, const struct vmm_boot_file *k,
                   struct vmm_boot_entry *ret, char *err, size_t err_size)
{
	uint8_t *zp = vmm_mem_ptr(p->mem, VMM_BOOT_ZERO_PAGE, 4096);
	struct vmm_e820 e820[VMM_E820_MAX];
	unsigned int setup_sects, nr_e820, hdr_end;
	uint64_t pm_offset, pm_size, init_size, initrd_max;
	uint16_t version;
	uint8_t *dst;
	int r;

	if (k->size < SETUP_HDR_MAX || !zp)
		return vmm_boot_fail(err, err_size, -ENOEXEC, "%s: truncated bzImage",
		                     p->kernel_path);
	version = get16(k->data + HDR_VERSION);
	if (get16(k->data + HDR_BOOT_FLAG) != 0xaa55 || version < 0x020c ||
	    !(get16(k->data + HDR_XLOADFLAGS) & XLF_KERNEL_64) ||
	    !(k->data[HDR_LOADFLAGS] & LOADED_HIGH))
		return vmm_boot_fail(err, err_size, -ENOEXEC,
		                     "%s: needs a 64-bit bzImage with boot protocol 2.12 or later",
		                     p->kernel_path);
	setup_sects = k->data[HDR_SETUP_SECTS] ? k->data[HDR_SETUP_SECTS] : 4;
	pm_offset = (setup_sects + 1ULL) * 512;
	if (pm_offset >= k->size)
		return vmm_boot_fail(err, err_size, -ENOEXEC, "%s: no protected-mode kernel",
		                     p->kernel_path);
	pm_size = k->size - pm_offset;
	init_size = get32(k->data + HDR_INIT_SIZE);
	if (init_size < pm_size)
		init_size = pm_size;
	/* The kernel decompresses in place, so init_size must fit, not just the file. */
	dst = vmm_mem_ptr(p->mem, VMM_BOOT_KERNEL_ADDR, init_size);
	if (!dst)
		return vmm_boot_fail(
		        err, err_size, -ENOMEM, "%s: needs %llu MiB of RAM to decompress",
		        p->kernel_path,
		        (unsigned long long)((VMM_BOOT_KERNEL_ADDR + init_size) >> 20) + 1);
	memcpy(dst, k->data + pm_offset, pm_size);

	memset(zp, 0, 4096);
	hdr_end = 0x202 + k->data[HDR_JUMP];
	if (hdr_end > SETUP_HDR_MAX)
		hdr_end = SETUP_HDR_MAX;
	memcpy(zp + SETUP_HDR, k->data + SETUP_HDR, hdr_end - SETUP_HDR);
	zp[HDR_TYPE_OF_LOADER] = 0xff; /* a boot loader without an assigned ID */
	zp[HDR_LOADFLAGS] |= CAN_USE_HEAP;

	if (p->cmdline) {
		r = vmm_mem_write(p->mem, VMM_BOOT_CMDLINE, p->cmdline, strlen(p->cmdline) + 1);
		if (r < 0)
			return vmm_boot_fail(err, err_size, r, "no room for the command line");
		put32(zp + HDR_CMD_LINE_PTR, VMM_BOOT_CMDLINE);
	}
	if (p->initrd_path) {
		uint64_t addr, size;

		initrd_max = get32(k->data + HDR_INITRD_ADDR_MAX);
		if (!initrd_max)
			initrd_max = 0x37ffffff;
		r = vmm_boot_place_initrd(p, VMM_BOOT_KERNEL_ADDR + init_size, initrd_max + 1ULL,
		                          &addr, &size, err, err_size);
		if (r < 0)
			return r;
		put32(zp + HDR_RAMDISK_IMAGE, (uint32_t)addr);
		put32(zp + HDR_RAMDISK_SIZE, (uint32_t)size);
		put32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(addr >> 32));
		put32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)(size >> 32));
	}
	nr_e820 = vmm_boot_e820(p->mem, e820);
	zp[BP_E820_ENTRIES] = (uint8_t)nr_e820;
	for (unsigned int i = 0; i < nr_e820; i++) {
		uint8_t *e = zp + BP_E820_TABLE + 20 * i;

		memcpy(e, &e820[i].addr, 8);
		memcpy(e + 8, &e820[i].size, 8);
		memcpy(e + 16, &e820[i].type, 4);
	}
	describe_framebuffer(zp, &p->fb);
	r = build_page_tables(p->mem);
	if (r < 0)
		return vmm_boot_fail(err, err_size, r, "no room for boot page tables");

	*ret = (struct vmm_boot_entry){
		.mode = VMM_BOOT_LONG64,
		.entry = VMM_BOOT_KERNEL_ADDR + 0x200,
		.arg = VMM_BOOT_ZERO_PAGE,
		.cr3 = VMM_BOOT_PML4,
		.gdt_base = VMM_BOOT_GDT,
		.gdt_limit = 6 * 8 - 1,
	};
	return 0;
}
