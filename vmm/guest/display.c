/* display.c - bochs VBE DISPI mode setting and EDID reading. */
#include "display.h"

#include "arch.h"
#include "lib.h"
#include "mm.h"
#include "pci.h"
#include "serial.h"

#define BOCHS_VENDOR 0x1234
#define BOCHS_DEVICE 0x1111

#define DISPI_PORT_INDEX 0x1ce
#define DISPI_PORT_DATA 0x1cf
#define DISPI_MMIO_OFFSET 0x500
#define EDID_MMIO_OFFSET 0x000
#define EDID_SIZE 128
#define EDID_DTD 54
#define EDID_DTD_LEN 8

#define DISPI_ID 0
#define DISPI_XRES 1
#define DISPI_YRES 2
#define DISPI_BPP 3
#define DISPI_ENABLE 4
#define DISPI_BANK 5
#define DISPI_VIRT_WIDTH 6
#define DISPI_VIRT_HEIGHT 7
#define DISPI_X_OFFSET 8
#define DISPI_Y_OFFSET 9
#define DISPI_VIDEO_MEMORY_64K 0xa

#define DISPI_ID_MIN 0xb0c0
#define DISPI_ID_MAX 0xb0c5
#define DISPI_ENABLED 0x01
#define DISPI_LFB 0x40
#define DISPI_NOCLEAR 0x80

static struct {
	struct pci_dev *pci;
	volatile uint8_t *mmio; /* NULL: use the I/O ports */
	uint64_t fb_phys;
	uint64_t vram;
	uint8_t dtd[EDID_DTD_LEN]; /* last descriptor bytes seen by the poll */
	uint32_t edid_w, edid_h;
} vbe;

static void dispi_write(uint16_t idx, uint16_t v)
{
	if (vbe.mmio) {
		mmio_write16(vbe.mmio + DISPI_MMIO_OFFSET + idx * 2, v);
	} else {
		outw(DISPI_PORT_INDEX, idx);
		outw(DISPI_PORT_DATA, v);
	}
}

static uint16_t dispi_read(uint16_t idx)
{
	if (vbe.mmio)
		return mmio_read16(vbe.mmio + DISPI_MMIO_OFFSET + idx * 2);
	outw(DISPI_PORT_INDEX, idx);
	return inw(DISPI_PORT_DATA);
}

int display_init(void)
{
	struct pci_dev *d = pci_find(BOCHS_VENDOR, BOCHS_DEVICE, NULL);
	struct pci_bar *fb, *regs;
	uint16_t id;

	if (!d)
		return -ENODEV;
	fb = &d->bar[0];
	regs = &d->bar[2];
	if (fb->io || !fb->addr) {
		serial_log("display: bochs-vga %02x.%x has no framebuffer BAR", d->dev, d->fn);
		return -ENODEV;
	}
	pci_enable(d);
	vbe.pci = d;
	vbe.fb_phys = fb->addr;
	/* Byte reads of the EDID need at least the first 128 bytes of BAR2. */
	if (!regs->io && regs->addr && regs->size >= DISPI_MMIO_OFFSET + 0x16 &&
	    mm_map(regs->addr, regs->size, true) == 0)
		vbe.mmio = (volatile uint8_t *)(uintptr_t)regs->addr;

	id = dispi_read(DISPI_ID);
	if (id < DISPI_ID_MIN || id > DISPI_ID_MAX) {
		serial_log("display: bochs-vga %02x.%x: unknown DISPI id 0x%x", d->dev, d->fn, id);
		return -ENODEV;
	}
	vbe.vram = (uint64_t)dispi_read(DISPI_VIDEO_MEMORY_64K) << 16;
	if (!vbe.vram || (fb->size && fb->size < vbe.vram))
		vbe.vram = fb->size;
	if (!vbe.vram)
		vbe.vram = 16u << 20;
	if (mm_map(vbe.fb_phys, vbe.vram, false) != 0) {
		serial_log("display: cannot map framebuffer at 0x%lx", (unsigned long)vbe.fb_phys);
		return -ENODEV;
	}
	serial_log("display: bochs-vga %02x.%x id 0x%x fb 0x%lx vram %lu MiB regs %s", d->dev,
	           d->fn, id, (unsigned long)vbe.fb_phys, (unsigned long)(vbe.vram >> 20),
	           vbe.mmio ? "mmio" : "ports");
	return 0;
}

int display_set_mode(uint32_t w, uint32_t h, struct display_mode *ret)
{
	uint32_t pitch;

	if (!vbe.pci)
		return -ENODEV;
	w = MIN(MAX(w, DISPLAY_MIN_W), DISPLAY_MAX_W) & ~7u;
	h = MIN(MAX(h, DISPLAY_MIN_H), DISPLAY_MAX_H);
	if ((uint64_t)w * h * 4 > vbe.vram) {
		w = 1024;
		h = 768;
	}
	if ((uint64_t)w * h * 4 > vbe.vram) {
		w = 640;
		h = 480;
	}

	/*
	 * Programmed disabled, then enabled with the linear framebuffer. The
	 * adapter is told not to clear video memory: every pixel is redrawn
	 * anyway, and a clear costs a monitor a 16 MiB memset.
	 */
	dispi_write(DISPI_ENABLE, 0);
	dispi_write(DISPI_BPP, 32);
	dispi_write(DISPI_XRES, (uint16_t)w);
	dispi_write(DISPI_YRES, (uint16_t)h);
	dispi_write(DISPI_BANK, 0);
	dispi_write(DISPI_VIRT_WIDTH, (uint16_t)w);
	dispi_write(DISPI_VIRT_HEIGHT, (uint16_t)h);
	dispi_write(DISPI_X_OFFSET, 0);
	dispi_write(DISPI_Y_OFFSET, 0);
	dispi_write(DISPI_ENABLE, DISPI_ENABLED | DISPI_LFB | DISPI_NOCLEAR);

	/* The adapter has the last word on what it accepted. */
	w = dispi_read(DISPI_XRES);
	h = dispi_read(DISPI_YRES);
	pitch = dispi_read(DISPI_VIRT_WIDTH);
	if (pitch < w)
		pitch = w;
	ret->fb = (uint32_t *)(uintptr_t)vbe.fb_phys;
	ret->width = w;
	ret->height = h;
	ret->pitch = pitch;
	serial_log("display: mode %ux%u", w, h);
	return 0;
}

static bool edid_parse(const uint8_t *e, uint32_t *w, uint32_t *h)
{
	static const uint8_t header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	const uint8_t *dtd = e + EDID_DTD;
	uint8_t sum = 0;
	int i;

	if (memcmp(e, header, sizeof(header)) != 0)
		return false;
	for (i = 0; i < EDID_SIZE; i++)
		sum += e[i];
	/* A zero pixel clock marks a display descriptor, not a timing. */
	if (sum != 0 || (dtd[0] == 0 && dtd[1] == 0))
		return false;
	*w = dtd[2] | (uint32_t)(dtd[4] & 0xf0) << 4;
	*h = dtd[5] | (uint32_t)(dtd[7] & 0xf0) << 4;
	return *w && *h;
}

/*
 * Byte reads, as Linux's bochs driver does them, so every monitor's EDID
 * window handles them.
 */
static void edid_read(uint8_t *buf, unsigned off, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		buf[i] = mmio_read8(vbe.mmio + EDID_MMIO_OFFSET + off + i);
}

bool display_edid_mode(uint32_t *w, uint32_t *h)
{
	uint8_t e[EDID_SIZE];

	if (!vbe.mmio)
		return false;
	edid_read(e, 0, EDID_SIZE);
	memcpy(vbe.dtd, e + EDID_DTD, EDID_DTD_LEN);
	if (!edid_parse(e, w, h))
		return false;
	vbe.edid_w = *w;
	vbe.edid_h = *h;
	return true;
}

bool display_edid_poll(uint32_t *w, uint32_t *h)
{
	uint8_t dtd[EDID_DTD_LEN];
	uint32_t nw, nh, ow = vbe.edid_w, oh = vbe.edid_h;

	if (!vbe.mmio)
		return false;
	/* 8 register reads a second instead of 128 while nothing changes. */
	edid_read(dtd, EDID_DTD, EDID_DTD_LEN);
	if (memcmp(dtd, vbe.dtd, EDID_DTD_LEN) == 0)
		return false;
	if (!display_edid_mode(&nw, &nh) || (nw == ow && nh == oh))
		return false;
	*w = nw;
	*h = nh;
	return true;
}
