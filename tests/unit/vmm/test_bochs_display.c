// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devices/bochs_display.h"
#include "vmm/devices/edid.h"

#define VRAM (16u << 20)
#define MMIO_BASE 0xe0000000ULL
#define MMIO_END 0xf0000000ULL

#define ID 0x0
#define XRES 0x1
#define YRES 0x2
#define BPP 0x3
#define ENABLE 0x4
#define BANK 0x5
#define VIRT_WIDTH 0x6
#define VIRT_HEIGHT 0x7
#define X_OFFSET 0x8
#define Y_OFFSET 0x9
#define VIDEO_MEMORY_64K 0xa

#define ENABLED 0x01
#define GETCAPS 0x02
#define LFB 0x40
#define NOCLEAR 0x80

struct fixture {
	struct vmm_bus bus;
	struct vmm_pci_bus pci;
	struct vmm_bochs *b;
	struct vmm_pci_dev *d;
	int slot;
	int remaps;
	uint64_t old_gpa, new_gpa;
	int mode_changes;
	uint64_t regs; /* BAR2 address */
};

static void remap(void *opaque, uint64_t old_gpa, uint64_t new_gpa)
{
	struct fixture *f = opaque;

	f->remaps++;
	f->old_gpa = old_gpa;
	f->new_gpa = new_gpa;
}

static void mode_changed(void *opaque)
{
	struct fixture *f = opaque;

	f->mode_changes++;
}

static struct fixture *setup_size(size_t vram)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vmm_bochs_ops ops = { remap, mode_changed, NULL };

	ck_assert_ptr_nonnull(f);
	ops.opaque = f;
	vmm_bus_init(&f->bus, "t");
	ck_assert_int_eq(vmm_pci_bus_init(&f->pci, &f->bus, NULL), 0);
	ck_assert_int_eq(vmm_bochs_new(&f->bus, vram, &ops, &f->b), 0);
	f->d = vmm_bochs_pci(f->b);
	f->slot = vmm_pci_bus_add(&f->pci, f->d, 0);
	ck_assert_int_gt(f->slot, 0);
	ck_assert_int_eq(vmm_pci_bus_assign(&f->pci, MMIO_BASE, MMIO_END, 0xc000, 0x10000), 0);
	f->regs = f->d->bar[2].addr;
	ck_assert_uint_ne(f->regs, 0);
	return f;
}

static struct fixture *setup(void)
{
	return setup_size(VRAM);
}

static void teardown(struct fixture *f)
{
	vmm_bochs_free(f->b);
	vmm_pci_bus_exit(&f->pci);
	vmm_bus_exit(&f->bus);
	free(f);
}

static uint32_t mmio_read(struct fixture *f, unsigned int off, unsigned int size)
{
	uint32_t v = 0;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_MMIO, f->regs + off, &v, size, false), 0);
	return v;
}

static void mmio_write(struct fixture *f, unsigned int off, unsigned int size, uint32_t v)
{
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_MMIO, f->regs + off, &v, size, true), 0);
}

static uint16_t dispi_mmio_read(struct fixture *f, unsigned int idx)
{
	return (uint16_t)mmio_read(f, 0x500 + 2 * idx, 2);
}

static void dispi_mmio_write(struct fixture *f, unsigned int idx, uint16_t v)
{
	mmio_write(f, 0x500 + 2 * idx, 2, v);
}

static uint16_t dispi_port_read(struct fixture *f, unsigned int idx)
{
	uint16_t i = (uint16_t)idx, v = 0;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x1ce, &i, 2, true), 0);
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x1cf, &v, 2, false), 0);
	return v;
}

static void dispi_port_write(struct fixture *f, unsigned int idx, uint16_t v)
{
	uint16_t i = (uint16_t)idx;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x1ce, &i, 2, true), 0);
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x1cf, &v, 2, true), 0);
}

/* What bochs-drm's bochs_hw_setmode() writes. */
static void program(struct fixture *f, unsigned int w, unsigned int h, unsigned int bpp,
                    uint16_t enable)
{
	dispi_mmio_write(f, ENABLE, 0);
	dispi_mmio_write(f, BPP, (uint16_t)bpp);
	dispi_mmio_write(f, XRES, (uint16_t)w);
	dispi_mmio_write(f, YRES, (uint16_t)h);
	dispi_mmio_write(f, BANK, 0);
	dispi_mmio_write(f, VIRT_WIDTH, (uint16_t)w);
	dispi_mmio_write(f, VIRT_HEIGHT, (uint16_t)(VRAM / (w * bpp / 8)));
	dispi_mmio_write(f, X_OFFSET, 0);
	dispi_mmio_write(f, Y_OFFSET, 0);
	dispi_mmio_write(f, ENABLE, enable);
}

START_TEST(pci_identity)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(vmm_pci_conf_read(&f->pci, f->slot, 0x00, 2), 0x1234);
	ck_assert_uint_eq(vmm_pci_conf_read(&f->pci, f->slot, 0x02, 2), 0x1111);
	ck_assert_uint_eq(vmm_pci_conf_read(&f->pci, f->slot, 0x08, 4), 0x03000002);
	ck_assert_uint_eq(vmm_pci_conf_read(&f->pci, f->slot, 0x2c, 4), 0x11001af4);
	ck_assert_uint_eq(vmm_pci_conf_read(&f->pci, f->slot, 0x3d, 1), 0);
	/* BAR0: prefetchable 32-bit memory of the VRAM's size; BAR2: 4 KiB of registers. */
	ck_assert_uint_eq(vmm_pci_conf_read(&f->pci, f->slot, 0x10, 4) & 0xf, 0x8);
	ck_assert_uint_eq(f->d->bar[0].size, VRAM);
	ck_assert_uint_eq(vmm_pci_conf_read(&f->pci, f->slot, 0x18, 4) & 0xf, 0x0);
	ck_assert_uint_eq(f->d->bar[2].size, 4096);
	ck_assert_uint_eq(vmm_bochs_vram_size(f->b), VRAM);
	ck_assert_uint_eq((uintptr_t)vmm_bochs_vram(f->b) % 4096, 0);
	teardown(f);
}
END_TEST

START_TEST(bar0_remap_forwarded)
{
	struct fixture *f = setup();
	uint64_t at = f->d->bar[0].addr;

	/* vmm_pci_bus_assign() placed it. */
	ck_assert_int_eq(f->remaps, 1);
	ck_assert_uint_eq(f->old_gpa, 0);
	ck_assert_uint_eq(f->new_gpa, at);
	ck_assert_uint_eq(at % VRAM, 0);
	/* The guest sizes the BAR (all ones: unmapped), then moves it. */
	vmm_pci_conf_write(&f->pci, f->slot, 0x10, 4, 0xffffffffu);
	ck_assert_uint_eq(f->old_gpa, at);
	ck_assert_uint_eq(f->new_gpa, 0);
	ck_assert_uint_eq(vmm_pci_conf_read(&f->pci, f->slot, 0x10, 4), (uint32_t)-VRAM | 0x8);
	vmm_pci_conf_write(&f->pci, f->slot, 0x10, 4, 0xd0000000u);
	ck_assert_uint_eq(f->old_gpa, 0);
	ck_assert_uint_eq(f->new_gpa, 0xd0000000u);
	/* Memory decoding off: unmapped. */
	vmm_pci_conf_write(&f->pci, f->slot, 0x04, 2, 0);
	ck_assert_uint_eq(f->old_gpa, 0xd0000000u);
	ck_assert_uint_eq(f->new_gpa, 0);
	ck_assert_int_eq(f->remaps, 4);
	teardown(f);
}
END_TEST

START_TEST(ports_and_mmio_agree)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(dispi_port_read(f, ID), 0xb0c5);
	ck_assert_uint_eq(dispi_mmio_read(f, ID), 0xb0c5);
	/* Drivers write the version they speak; reads stay 0xb0c5. */
	dispi_port_write(f, ID, 0xb0c0);
	ck_assert_uint_eq(dispi_mmio_read(f, ID), 0xb0c5);
	ck_assert_uint_eq(dispi_port_read(f, VIDEO_MEMORY_64K), VRAM >> 16);
	ck_assert_uint_eq(dispi_mmio_read(f, VIDEO_MEMORY_64K), VRAM >> 16);
	dispi_port_write(f, XRES, 800);
	ck_assert_uint_eq(dispi_mmio_read(f, XRES), 800);
	dispi_mmio_write(f, YRES, 600);
	ck_assert_uint_eq(dispi_port_read(f, YRES), 600);
	for (unsigned int idx = XRES; idx <= Y_OFFSET; idx++) {
		if (idx == ENABLE)
			continue;
		dispi_port_write(f, idx, (uint16_t)(0x100 + idx));
		ck_assert_uint_eq(dispi_mmio_read(f, idx), 0x100 + idx);
	}
	/* The index port reads back; 0x1d0 is a data port too, as in QEMU on x86. */
	{
		uint16_t i = BPP, v = 0;

		vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x1ce, &i, 2, true);
		i = 0;
		vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x1ce, &i, 2, false);
		ck_assert_uint_eq(i, BPP);
		vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x1d0, &v, 1, false);
		ck_assert_uint_eq(v, 0x03);
		vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x1cf, &v, 2, false);
		ck_assert_uint_eq(v, 0x103);
	}
	/* MMIO byte lanes and a 32-bit access across two registers. */
	mmio_write(f, 0x500 + 2 * XRES, 1, 0x20);
	ck_assert_uint_eq(dispi_port_read(f, XRES), 0x120);
	mmio_write(f, 0x500 + 2 * XRES + 1, 1, 0x03);
	ck_assert_uint_eq(dispi_port_read(f, XRES), 0x320);
	mmio_write(f, 0x500 + 2 * XRES, 4, 640 | 480u << 16);
	ck_assert_uint_eq(dispi_port_read(f, XRES), 640);
	ck_assert_uint_eq(dispi_port_read(f, YRES), 480);
	ck_assert_uint_eq(mmio_read(f, 0x500 + 2 * XRES, 4), 640 | 480u << 16);
	ck_assert_int_eq(f->mode_changes, 0);
	teardown(f);
}
END_TEST

START_TEST(mode_set_and_callback)
{
	struct fixture *f = setup();
	struct vmm_bochs_mode m;
	uint8_t *vram = vmm_bochs_vram(f->b);

	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.enabled);
	memset(vram, 0xaa, 800 * 600 * 4 + 16);
	/* The driver programs everything disabled; only the enable changes the mode. */
	program(f, 800, 600, 32, ENABLED | LFB);
	ck_assert_int_eq(f->mode_changes, 1);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(m.enabled);
	ck_assert_uint_eq(m.width, 800);
	ck_assert_uint_eq(m.height, 600);
	ck_assert_uint_eq(m.bpp, 32);
	ck_assert_uint_eq(m.stride, 3200);
	ck_assert_uint_eq(m.offset, 0);
	ck_assert(!m.big_endian);
	/* Enabling without NOCLEAR cleared what the mode shows. */
	ck_assert_uint_eq(vram[0], 0);
	ck_assert_uint_eq(vram[800 * 600 * 4 - 1], 0);
	ck_assert_uint_eq(vram[800 * 600 * 4], 0xaa);
	/* A page flip: Y_OFFSET moves the visible part. */
	dispi_mmio_write(f, Y_OFFSET, 600);
	ck_assert_int_eq(f->mode_changes, 2);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert_uint_eq(m.offset, 600 * 3200);
	/* Same value again: no callback. */
	dispi_mmio_write(f, Y_OFFSET, 600);
	ck_assert_int_eq(f->mode_changes, 2);
	/* A wider virtual screen changes the stride, X_OFFSET the start. */
	dispi_mmio_write(f, Y_OFFSET, 0);
	dispi_mmio_write(f, VIRT_WIDTH, 1024);
	dispi_mmio_write(f, X_OFFSET, 8);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert_uint_eq(m.stride, 4096);
	ck_assert_uint_eq(m.offset, 32);
	/* 16 bpp through the ports, NOCLEAR keeps the VRAM. */
	memset(vram, 0x55, 64);
	dispi_port_write(f, ENABLE, 0);
	dispi_port_write(f, BPP, 16);
	dispi_port_write(f, X_OFFSET, 0);
	dispi_port_write(f, VIRT_WIDTH, 0);
	dispi_port_write(f, ENABLE, ENABLED | LFB | NOCLEAR);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(m.enabled);
	ck_assert_uint_eq(m.bpp, 16);
	ck_assert_uint_eq(m.stride, 1600);
	ck_assert_uint_eq(vram[0], 0x55);
	/* Disabled. */
	f->mode_changes = 0;
	dispi_mmio_write(f, ENABLE, 0);
	ck_assert_int_eq(f->mode_changes, 1);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.enabled);
	teardown(f);
}
END_TEST

START_TEST(getcaps)
{
	struct fixture *f = setup();

	dispi_mmio_write(f, XRES, 640);
	dispi_mmio_write(f, ENABLE, GETCAPS);
	ck_assert_uint_eq(dispi_mmio_read(f, XRES), VMM_BOCHS_MAX_W);
	ck_assert_uint_eq(dispi_port_read(f, YRES), VMM_BOCHS_MAX_H);
	ck_assert_uint_eq(dispi_mmio_read(f, BPP), 32);
	ck_assert_uint_eq(dispi_mmio_read(f, ENABLE), GETCAPS);
	dispi_mmio_write(f, ENABLE, 0);
	ck_assert_uint_eq(dispi_mmio_read(f, XRES), 640);
	ck_assert_int_eq(f->mode_changes, 0);
	teardown(f);
}
END_TEST

START_TEST(invalid_modes)
{
	struct fixture *f = setup();
	struct fixture *small = setup_size(4u << 20);
	struct vmm_bochs_mode m;

	/* 7 bpp: never displayed. */
	program(f, 800, 600, 7, ENABLED | LFB | NOCLEAR);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.enabled);
	ck_assert_int_eq(f->mode_changes, 0);
	/* Beyond the adapter's maximum. */
	program(f, 2048, 1080, 32, ENABLED | LFB | NOCLEAR);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.enabled);
	program(f, 32, 32, 32, ENABLED | LFB | NOCLEAR);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.enabled);
	/* Visible part past the end of VRAM, by size or by offset. */
	program(small, 1920, 1080, 32, ENABLED | LFB | NOCLEAR);
	vmm_bochs_get_mode(small->b, &m);
	ck_assert(!m.enabled);
	program(f, 1920, 1080, 32, ENABLED | LFB | NOCLEAR);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(m.enabled);
	/* Two 1920x1080 pages fit in 16 MiB, a third row of pages does not. */
	dispi_mmio_write(f, Y_OFFSET, 1080);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(m.enabled);
	dispi_mmio_write(f, Y_OFFSET, 1105);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.enabled);
	dispi_mmio_write(f, Y_OFFSET, 0xffff);
	dispi_mmio_write(f, X_OFFSET, 0xffff);
	dispi_mmio_write(f, VIRT_WIDTH, 0xffff);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.enabled);
	/* Host-side calls refuse the same. */
	ck_assert_int_eq(vmm_bochs_set_mode(f->b, 800, 600, 7), -EINVAL);
	ck_assert_int_eq(vmm_bochs_set_mode(f->b, 4000, 600, 32), -EINVAL);
	ck_assert_int_eq(vmm_bochs_set_mode(small->b, 1920, 1080, 32), -EINVAL);
	ck_assert_int_eq(vmm_bochs_set_preferred_mode(f->b, 319, 200), -EINVAL);
	ck_assert_int_eq(vmm_bochs_set_preferred_mode(f->b, 1921, 1080), -EINVAL);
	ck_assert_int_eq(vmm_bochs_set_preferred_mode(small->b, 1920, 1080), -EINVAL);
	ck_assert_int_eq(vmm_bochs_set_preferred_mode(small->b, 1280, 720), 0);
	teardown(small);
	teardown(f);
}
END_TEST

START_TEST(edid_via_mmio)
{
	struct fixture *f = setup();
	uint8_t e[VMM_EDID_SIZE], sum = 0;
	unsigned int w, h;

	vmm_bochs_get_preferred_mode(f->b, &w, &h);
	ck_assert_uint_eq(w, 1024);
	ck_assert_uint_eq(h, 768);
	/* Byte reads, as bochs-drm and the reference guest make them. */
	for (unsigned int i = 0; i < VMM_EDID_SIZE; i++) {
		e[i] = (uint8_t)mmio_read(f, i, 1);
		sum = (uint8_t)(sum + e[i]);
	}
	ck_assert_uint_eq(sum, 0);
	ck_assert_uint_eq(e[0], 0x00);
	ck_assert_uint_eq(e[1], 0xff);
	ck_assert_uint_eq(e[54 + 2] | (e[54 + 4] & 0xf0) << 4, 1024);
	ck_assert_uint_eq(e[54 + 5] | (e[54 + 7] & 0xf0) << 4, 768);
	ck_assert_uint_eq(mmio_read(f, 0, 4), 0xffffff00u);
	/* Nothing after the block, up to the VGA window. */
	ck_assert_uint_eq(mmio_read(f, 128, 1), 0);
	ck_assert_uint_eq(mmio_read(f, 0x3fc, 4), 0);
	/* A new preferred mode is a new EDID. */
	ck_assert_int_eq(vmm_bochs_set_preferred_mode(f->b, 1280, 720), 0);
	ck_assert_uint_eq(mmio_read(f, 54 + 2, 1) | (mmio_read(f, 54 + 4, 1) & 0xf0) << 4, 1280);
	ck_assert_uint_eq(mmio_read(f, 54 + 5, 1) | (mmio_read(f, 54 + 7, 1) & 0xf0) << 4, 720);
	vmm_bochs_get_preferred_mode(f->b, &w, &h);
	ck_assert_uint_eq(w, 1280);
	ck_assert_uint_eq(h, 720);
	/* EDID writes are ignored. */
	mmio_write(f, 0, 4, 0);
	ck_assert_uint_eq(mmio_read(f, 0, 4), 0xffffff00u);
	teardown(f);
}
END_TEST

START_TEST(qemu_extended_registers)
{
	struct fixture *f = setup();
	struct vmm_bochs_mode m;

	ck_assert_uint_eq(mmio_read(f, 0x600, 4), 8);
	ck_assert_uint_eq(mmio_read(f, 0x604, 4), 0x1e1e1e1eu);
	program(f, 1024, 768, 32, ENABLED | LFB | NOCLEAR);
	f->mode_changes = 0;
	mmio_write(f, 0x604, 4, 0xbebebebeu);
	ck_assert_uint_eq(mmio_read(f, 0x604, 4), 0xbebebebeu);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(m.big_endian);
	ck_assert_int_eq(f->mode_changes, 1);
	/* Anything but the two magic values is ignored. */
	mmio_write(f, 0x604, 4, 0x12345678u);
	ck_assert_uint_eq(mmio_read(f, 0x604, 4), 0xbebebebeu);
	mmio_write(f, 0x604, 4, 0x1e1e1e1eu);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.big_endian);
	ck_assert_int_eq(f->mode_changes, 2);
	/* The size register is read-only. */
	mmio_write(f, 0x600, 4, 0);
	ck_assert_uint_eq(mmio_read(f, 0x600, 4), 8);
	teardown(f);
}
END_TEST

START_TEST(unknown_registers)
{
	struct fixture *f = setup();

	/* bochs-drm's unblank sequence through the VGA window: harmless. */
	mmio_write(f, 0x400 + 0x3c2 - 0x3c0, 1, 0x01);
	ck_assert_uint_eq(mmio_read(f, 0x400 + 0x3da - 0x3c0, 1), 0xff);
	mmio_write(f, 0x400, 1, 0x20);
	ck_assert_uint_eq(mmio_read(f, 0x400, 1), 0xff);
	/* Holes read as all ones. */
	ck_assert_uint_eq(mmio_read(f, 0x700, 4), 0xffffffffu);
	ck_assert_uint_eq(mmio_read(f, 0x516, 2), 0xffff);
	ck_assert_uint_eq(mmio_read(f, 0xffc, 4), 0xffffffffu);
	mmio_write(f, 0x516, 2, 0x1234);
	mmio_write(f, 0xffc, 4, 0x1234);
	/* An access straddling two regions is dropped. */
	ck_assert_uint_eq(mmio_read(f, 0x3fe, 4), 0xffffffffu);
	/* An out-of-range DISPI index reads all ones and takes no writes. */
	ck_assert_uint_eq(dispi_port_read(f, 0x20), 0xffff);
	dispi_port_write(f, 0x20, 0x1234);
	ck_assert_uint_eq(dispi_port_read(f, 0xffff), 0xffff);
	dispi_port_write(f, 0xffff, 0x1234);
	/* VIDEO_MEMORY_64K is read-only. */
	dispi_port_write(f, VIDEO_MEMORY_64K, 1);
	ck_assert_uint_eq(dispi_port_read(f, VIDEO_MEMORY_64K), VRAM >> 16);
	ck_assert_int_eq(f->mode_changes, 0);
	teardown(f);
}
END_TEST

START_TEST(firmware_mode_and_reset)
{
	struct fixture *f = setup();
	struct vmm_bochs_mode m;

	ck_assert_int_eq(vmm_bochs_set_mode(f->b, 1024, 768, 32), 0);
	ck_assert_int_eq(f->mode_changes, 1);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(m.enabled);
	ck_assert_uint_eq(m.width, 1024);
	ck_assert_uint_eq(m.stride, 4096);
	/* What a guest driver sees: the firmware's mode, with the linear framebuffer. */
	ck_assert_uint_eq(dispi_port_read(f, XRES), 1024);
	ck_assert_uint_eq(dispi_port_read(f, ENABLE) & (ENABLED | LFB), ENABLED | LFB);
	ck_assert_int_eq(vmm_bochs_set_preferred_mode(f->b, 800, 600), 0);
	vmm_bochs_reset(f->b);
	ck_assert_int_eq(f->mode_changes, 2);
	vmm_bochs_get_mode(f->b, &m);
	ck_assert(!m.enabled);
	ck_assert_uint_eq(dispi_port_read(f, XRES), 0);
	/* The monitor did not change. */
	ck_assert_uint_eq(mmio_read(f, 54 + 2, 1), 800 & 0xff);
	/* A second reset changes nothing. */
	vmm_bochs_reset(f->b);
	ck_assert_int_eq(f->mode_changes, 2);
	teardown(f);
}
END_TEST

START_TEST(bad_sizes_and_free)
{
	struct vmm_bus bus;
	struct vmm_bochs *b;

	vmm_bus_init(&bus, "t");
	ck_assert_int_eq(vmm_bochs_new(&bus, 3u << 20, NULL, &b), -EINVAL);
	ck_assert_int_eq(vmm_bochs_new(&bus, 12u << 20, NULL, &b), -EINVAL);
	ck_assert_int_eq(vmm_bochs_new(&bus, 512u << 20, NULL, &b), -EINVAL);
	/* No ops at all, and not on a PCI bus. */
	ck_assert_int_eq(vmm_bochs_new(&bus, 4u << 20, NULL, &b), 0);
	ck_assert_int_eq(vmm_bochs_set_mode(b, 640, 480, 32), 0);
	vmm_bochs_free(b);
	vmm_bochs_free(NULL);
	vmm_bus_exit(&bus);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_bochs_display");
	TCase *tc = tcase_create("bochs_display");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, pci_identity);
	tcase_add_test(tc, bar0_remap_forwarded);
	tcase_add_test(tc, ports_and_mmio_agree);
	tcase_add_test(tc, mode_set_and_callback);
	tcase_add_test(tc, getcaps);
	tcase_add_test(tc, invalid_modes);
	tcase_add_test(tc, edid_via_mmio);
	tcase_add_test(tc, qemu_extended_registers);
	tcase_add_test(tc, unknown_registers);
	tcase_add_test(tc, firmware_mode_and_reset);
	tcase_add_test(tc, bad_sizes_and_free);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
