// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/bochs_display.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "proto/log.h"
#include "vmm/devices/edid.h"

#define BOCHS_VENDOR 0x1234
#define BOCHS_DEVICE 0x1111
#define BOCHS_CLASS 0x030000 /* VGA compatible display controller */
#define BOCHS_REVISION 2     /* bochs-drm looks for the extended registers from 2 on */
#define BOCHS_SUBSYS_VENDOR 0x1af4
#define BOCHS_SUBSYS_ID 0x1100

#define DISPI_PORT 0x1ce
#define DISPI_NR_PORTS 3 /* index at 0x1ce, data at 0x1cf and 0x1d0 */

/* BAR2 layout. */
#define MMIO_SIZE 0x1000
#define MMIO_EDID 0x000
#define MMIO_EDID_END 0x400
#define MMIO_VGA 0x400
#define MMIO_VGA_END 0x420
#define MMIO_DISPI 0x500
#define MMIO_QEXT 0x600
#define QEXT_SIZE 8
#define QEXT_REG_SIZE 0
#define QEXT_REG_BYTEORDER 4
#define QEXT_LITTLE_ENDIAN 0x1e1e1e1eu
#define QEXT_BIG_ENDIAN 0xbebebebeu

/* DISPI registers. */
#define DISPI_ID 0x0
#define DISPI_XRES 0x1
#define DISPI_YRES 0x2
#define DISPI_BPP 0x3
#define DISPI_ENABLE 0x4
#define DISPI_BANK 0x5
#define DISPI_VIRT_WIDTH 0x6
#define DISPI_VIRT_HEIGHT 0x7
#define DISPI_X_OFFSET 0x8
#define DISPI_Y_OFFSET 0x9
#define DISPI_VIDEO_MEMORY_64K 0xa
#define DISPI_NR_REGS 0xb
#define MMIO_DISPI_END (MMIO_DISPI + 2 * DISPI_NR_REGS)

#define DISPI_ID0 0xb0c0
#define DISPI_ID5 0xb0c5
#define DISPI_ENABLED 0x01
#define DISPI_GETCAPS 0x02
#define DISPI_LFB_ENABLED 0x40
#define DISPI_NOCLEARMEM 0x80
#define DISPI_MAX_BPP 32

#define MONITOR_NAME "VDI Display"

struct vmm_bochs {
	struct vmm_pci_dev pci;
	pthread_mutex_t lock; /* guards everything below but the VRAM contents */
	struct vmm_bus *bus;
	struct vmm_bochs_ops ops;
	uint8_t *vram;
	size_t vram_size;
	uint16_t index;
	uint16_t regs[DISPI_NR_REGS];
	bool big_endian;
	unsigned int pref_w, pref_h;
	uint8_t edid[VMM_EDID_SIZE];
	struct vmm_bochs_mode mode; /* what regs describe, as last computed */
};

/* Bytes per pixel of a depth the adapter displays, 0 for others. */
static unsigned int bytes_per_pixel(unsigned int bpp)
{
	switch (bpp) {
	case 15:
	case 16:
		return 2;
	case 24:
		return 3;
	case 32:
		return 4;
	}
	return 0;
}

static void compute_mode(const struct vmm_bochs *b, struct vmm_bochs_mode *m)
{
	const uint16_t *r = b->regs;
	unsigned int bpp = r[DISPI_BPP], bytes = bytes_per_pixel(bpp);
	unsigned int w = r[DISPI_XRES], h = r[DISPI_YRES];
	unsigned int vw = r[DISPI_VIRT_WIDTH] > w ? r[DISPI_VIRT_WIDTH] : w;
	uint64_t stride = (uint64_t)vw * bytes;
	uint64_t offset = r[DISPI_Y_OFFSET] * stride + (uint64_t)r[DISPI_X_OFFSET] * bytes;

	memset(m, 0, sizeof(*m));
	if (!(r[DISPI_ENABLE] & DISPI_ENABLED) || !bytes || w < VMM_BOCHS_MIN_W ||
	    w > VMM_BOCHS_MAX_W || h < VMM_BOCHS_MIN_H || h > VMM_BOCHS_MAX_H)
		return;
	/* Every visible row must lie inside VRAM. */
	if (offset + stride * h > b->vram_size)
		return;
	m->enabled = true;
	m->width = w;
	m->height = h;
	m->bpp = bpp;
	m->stride = (unsigned int)stride;
	m->offset = offset;
	m->big_endian = b->big_endian && bpp == 32;
}

static bool mode_equal(const struct vmm_bochs_mode *a, const struct vmm_bochs_mode *c)
{
	return a->enabled == c->enabled && a->width == c->width && a->height == c->height &&
	       a->bpp == c->bpp && a->stride == c->stride && a->offset == c->offset &&
	       a->big_endian == c->big_endian;
}

/* Recompute the mode; true when it changed and ops->mode_changed is due. Lock held. */
static bool update_mode(struct vmm_bochs *b)
{
	struct vmm_bochs_mode m;

	compute_mode(b, &m);
	if (mode_equal(&m, &b->mode))
		return false;
	b->mode = m;
	return true;
}

static void notify(struct vmm_bochs *b, bool changed)
{
	if (changed && b->ops.mode_changed)
		b->ops.mode_changed(b->ops.opaque);
}

static uint16_t dispi_read(const struct vmm_bochs *b, unsigned int idx)
{
	bool caps = b->regs[DISPI_ENABLE] & DISPI_GETCAPS;

	switch (idx) {
	case DISPI_ID:
		return DISPI_ID5;
	case DISPI_XRES:
		return caps ? VMM_BOCHS_MAX_W : b->regs[idx];
	case DISPI_YRES:
		return caps ? VMM_BOCHS_MAX_H : b->regs[idx];
	case DISPI_BPP:
		return caps ? DISPI_MAX_BPP : b->regs[idx];
	case DISPI_VIDEO_MEMORY_64K:
		return (uint16_t)(b->vram_size >> 16);
	}
	return idx < DISPI_NR_REGS ? b->regs[idx] : 0xffff;
}

/* Clear what the mode about to be enabled shows, as the BIOS's mode set does. Lock held. */
static void clear_screen(struct vmm_bochs *b)
{
	const uint16_t *r = b->regs;
	unsigned int bytes = bytes_per_pixel(r[DISPI_BPP]);
	unsigned int vw = r[DISPI_VIRT_WIDTH] > r[DISPI_XRES] ? r[DISPI_VIRT_WIDTH] : r[DISPI_XRES];
	uint64_t n = (uint64_t)vw * bytes * r[DISPI_YRES];

	memset(b->vram, 0, n < b->vram_size ? n : b->vram_size);
}

static void dispi_write(struct vmm_bochs *b, unsigned int idx, uint16_t val)
{
	switch (idx) {
	case DISPI_ID:
		/* Drivers announce the interface version they speak; every one is fine. */
		if (val < DISPI_ID0 || val > DISPI_ID5)
			log_debug("dev=bochs-display unknown DISPI id 0x%x written", val);
		break;
	case DISPI_XRES:
	case DISPI_YRES:
	case DISPI_BPP:
	case DISPI_BANK:
	case DISPI_VIRT_WIDTH:
	case DISPI_VIRT_HEIGHT:
	case DISPI_X_OFFSET:
	case DISPI_Y_OFFSET:
		b->regs[idx] = val;
		break;
	case DISPI_ENABLE: {
		bool was_enabled = b->regs[DISPI_ENABLE] & DISPI_ENABLED;

		b->regs[DISPI_ENABLE] = val;
		if (!was_enabled && (val & DISPI_ENABLED) && !(val & DISPI_NOCLEARMEM))
			clear_screen(b);
		break;
	}
	default:
		/* VIDEO_MEMORY_64K is read-only; beyond it there is nothing. */
		break;
	}
}

/*
 * An access to the DISPI registers as a little-endian array of 16-bit
 * registers at @off (MMIO: any width, byte lanes merged into the
 * registers they touch). Returns true when the mode changed. Lock held.
 */
static bool dispi_mmio(struct vmm_bochs *b, unsigned int off, uint8_t *p, unsigned int size,
                       bool is_write)
{
	bool changed = false;

	for (unsigned int i = 0; i < size;) {
		unsigned int idx = (off + i) / 2, lane = (off + i) % 2;
		unsigned int n = size - i < 2 - lane ? size - i : 2 - lane;
		uint16_t v = idx < DISPI_NR_REGS ? b->regs[idx] : 0;

		if (!is_write) {
			v = dispi_read(b, idx);
			for (unsigned int j = 0; j < n; j++)
				p[i + j] = (uint8_t)(v >> (8 * (lane + j)));
		} else {
			for (unsigned int j = 0; j < n; j++) {
				unsigned int shift = 8 * (lane + j), byte = p[i + j];

				v = (uint16_t)((v & ~(0xffu << shift)) | byte << shift);
			}
			dispi_write(b, idx, v);
			changed |= update_mode(b);
		}
		i += n;
	}
	return changed;
}

static uint8_t qext_byte(const struct vmm_bochs *b, unsigned int off)
{
	uint32_t v = off < QEXT_REG_BYTEORDER
	                     ? QEXT_SIZE
	                     : (b->big_endian ? QEXT_BIG_ENDIAN : QEXT_LITTLE_ENDIAN);

	return (uint8_t)(v >> (8 * (off % 4)));
}

static uint32_t load_le(const uint8_t *p, unsigned int size)
{
	uint32_t v = 0;

	for (unsigned int i = 0; i < size && i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

/* BAR2. Accesses that cross a region boundary are ignored (reads stay all-ones). */
static void mmio_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_bochs *b = opaque;
	unsigned int off = (unsigned int)offset;
	uint8_t *p = data;
	bool changed = false;

	if (offset >= MMIO_SIZE || size > MMIO_SIZE - offset)
		return;
	pthread_mutex_lock(&b->lock);
	if (off + size <= MMIO_EDID_END) {
		for (unsigned int i = 0; !is_write && i < size; i++)
			p[i] = off + i < VMM_EDID_SIZE ? b->edid[off + i] : 0;
	} else if (off >= MMIO_VGA && off + size <= MMIO_VGA_END) {
		/*
		 * No VGA core: bochs-drm's unblank (0x3c2, 0x3da, 0x3c0) needs none,
		 * the display shows whenever DISPI is enabled.
		 */
	} else if (off >= MMIO_DISPI && off + size <= MMIO_DISPI_END) {
		changed = dispi_mmio(b, off - MMIO_DISPI, p, size, is_write);
	} else if (off >= MMIO_QEXT && off + size <= MMIO_QEXT + QEXT_SIZE) {
		unsigned int q = off - MMIO_QEXT;

		if (!is_write) {
			for (unsigned int i = 0; i < size; i++)
				p[i] = qext_byte(b, q + i);
		} else if (q == QEXT_REG_BYTEORDER && size == 4) {
			uint32_t v = load_le(p, 4);

			if (v == QEXT_BIG_ENDIAN || v == QEXT_LITTLE_ENDIAN) {
				b->big_endian = v == QEXT_BIG_ENDIAN;
				changed = update_mode(b);
			}
		}
	}
	pthread_mutex_unlock(&b->lock);
	notify(b, changed);
}

/* Ports 0x1ce (index) and 0x1cf/0x1d0 (data), 8 or 16 bits wide. */
static void port_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_bochs *b = opaque;
	uint8_t *p = data;
	bool changed = false;
	uint16_t v;

	if (size > 2 || offset >= DISPI_NR_PORTS)
		return;
	pthread_mutex_lock(&b->lock);
	if (offset == 0) {
		if (is_write) {
			b->index = (uint16_t)load_le(p, size);
		} else {
			p[0] = (uint8_t)b->index;
			if (size == 2)
				p[1] = (uint8_t)(b->index >> 8);
		}
	} else if (is_write) {
		dispi_write(b, b->index, (uint16_t)load_le(p, size));
		changed = update_mode(b);
	} else {
		v = dispi_read(b, b->index);
		p[0] = (uint8_t)v;
		if (size == 2)
			p[1] = (uint8_t)(v >> 8);
	}
	pthread_mutex_unlock(&b->lock);
	notify(b, changed);
}

static void bochs_remap(void *opaque, uint64_t old_addr, uint64_t new_addr)
{
	struct vmm_bochs *b = opaque;

	if (b->ops.remap)
		b->ops.remap(b->ops.opaque, old_addr, new_addr);
}

int vmm_bochs_new(struct vmm_bus *bus, size_t vram_size, const struct vmm_bochs_ops *ops,
                  struct vmm_bochs **ret)
{
	struct vmm_bochs *b;
	int r;

	if (vram_size < VMM_BOCHS_VRAM_MIN || vram_size > VMM_BOCHS_VRAM_MAX ||
	    (vram_size & (vram_size - 1)))
		return -EINVAL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	/* Untouched pages cost nothing; the kernel zero-fills them. */
	b->vram = mmap(NULL, vram_size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (b->vram == MAP_FAILED) {
		r = -ENOMEM;
		goto out_free;
	}
	b->vram_size = vram_size;
	pthread_mutex_init(&b->lock, NULL);
	b->bus = bus;
	if (ops)
		b->ops = *ops;
	b->pref_w = VMM_BOCHS_DEFAULT_W;
	b->pref_h = VMM_BOCHS_DEFAULT_H;
	vmm_edid_generate(b->edid, b->pref_w, b->pref_h, MONITOR_NAME);

	vmm_pci_dev_init(&b->pci, "bochs-display", BOCHS_VENDOR, BOCHS_DEVICE, BOCHS_CLASS,
	                 BOCHS_REVISION, BOCHS_SUBSYS_VENDOR, BOCHS_SUBSYS_ID);
	b->pci.cfg[PCI_INTERRUPT_PIN] = 0; /* no interrupt */
	b->pci.opaque = b;
	vmm_pci_dev_set_ram_bar(&b->pci, 0, vram_size, VMM_PCI_BAR_PREFETCH, bochs_remap, b);
	vmm_pci_dev_set_bar(&b->pci, 2, MMIO_SIZE, 0, mmio_io, b);

	r = vmm_bus_register(bus, VMM_BUS_PIO, DISPI_PORT, DISPI_NR_PORTS, port_io, b,
	                     "bochs-dispi");
	if (r < 0)
		goto out_unmap;
	*ret = b;
	return 0;

out_unmap:
	pthread_mutex_destroy(&b->lock);
	munmap(b->vram, vram_size);
out_free:
	free(b);
	return r;
}

struct vmm_pci_dev *vmm_bochs_pci(struct vmm_bochs *b)
{
	return &b->pci;
}

uint8_t *vmm_bochs_vram(struct vmm_bochs *b)
{
	return b->vram;
}

size_t vmm_bochs_vram_size(struct vmm_bochs *b)
{
	return b->vram_size;
}

void vmm_bochs_get_mode(struct vmm_bochs *b, struct vmm_bochs_mode *ret)
{
	pthread_mutex_lock(&b->lock);
	*ret = b->mode;
	pthread_mutex_unlock(&b->lock);
}

int vmm_bochs_set_preferred_mode(struct vmm_bochs *b, unsigned int w, unsigned int h)
{
	if (w < VMM_BOCHS_PREF_MIN_W || w > VMM_BOCHS_MAX_W || h < VMM_BOCHS_PREF_MIN_H ||
	    h > VMM_BOCHS_MAX_H || (uint64_t)w * h * 4 > b->vram_size)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	b->pref_w = w;
	b->pref_h = h;
	vmm_edid_generate(b->edid, w, h, MONITOR_NAME);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

void vmm_bochs_get_preferred_mode(struct vmm_bochs *b, unsigned int *w, unsigned int *h)
{
	pthread_mutex_lock(&b->lock);
	*w = b->pref_w;
	*h = b->pref_h;
	pthread_mutex_unlock(&b->lock);
}

int vmm_bochs_set_mode(struct vmm_bochs *b, unsigned int w, unsigned int h, unsigned int bpp)
{
	unsigned int bytes = bytes_per_pixel(bpp);
	bool changed;

	if (!bytes || w < VMM_BOCHS_MIN_W || w > VMM_BOCHS_MAX_W || h < VMM_BOCHS_MIN_H ||
	    h > VMM_BOCHS_MAX_H || (uint64_t)w * h * bytes > b->vram_size)
		return -EINVAL;
	pthread_mutex_lock(&b->lock);
	dispi_write(b, DISPI_ENABLE, 0);
	dispi_write(b, DISPI_BPP, (uint16_t)bpp);
	dispi_write(b, DISPI_XRES, (uint16_t)w);
	dispi_write(b, DISPI_YRES, (uint16_t)h);
	dispi_write(b, DISPI_BANK, 0);
	dispi_write(b, DISPI_VIRT_WIDTH, (uint16_t)w);
	dispi_write(b, DISPI_VIRT_HEIGHT, (uint16_t)h);
	dispi_write(b, DISPI_X_OFFSET, 0);
	dispi_write(b, DISPI_Y_OFFSET, 0);
	dispi_write(b, DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB_ENABLED);
	changed = update_mode(b);
	pthread_mutex_unlock(&b->lock);
	notify(b, changed);
	return 0;
}

void vmm_bochs_reset(struct vmm_bochs *b)
{
	bool changed;

	pthread_mutex_lock(&b->lock);
	memset(b->regs, 0, sizeof(b->regs));
	b->index = 0;
	b->big_endian = false;
	changed = update_mode(b);
	pthread_mutex_unlock(&b->lock);
	notify(b, changed);
}

void vmm_bochs_free(struct vmm_bochs *b)
{
	if (!b)
		return;
	vmm_bus_unregister(b->bus, VMM_BUS_PIO, DISPI_PORT, b);
	if (b->pci.pci && b->pci.bar[2].mapped)
		vmm_bus_unregister(b->pci.pci->bus, VMM_BUS_MMIO, b->pci.bar[2].mapped, b);
	munmap(b->vram, b->vram_size);
	pthread_mutex_destroy(&b->lock);
	free(b);
}
