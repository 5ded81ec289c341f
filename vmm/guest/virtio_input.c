/* virtio_input.c - virtio 1.0 PCI transport and the virtio-input event queue. */
#include "virtio_input.h"

#include "arch.h"
#include "desktop.h"
#include "input.h"
#include "irq.h"
#include "lib.h"
#include "mm.h"
#include "pci.h"
#include "serial.h"

#define VIRTIO_VENDOR 0x1af4
#define VIRTIO_INPUT_DEVICE 0x1052
#define VINPUT_MAX 4
#define VQ_SIZE 64

/* virtio_pci_cap cfg_type values */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4

/* common configuration layout */
#define COMMON_DFSELECT 0x00
#define COMMON_DF 0x04
#define COMMON_GFSELECT 0x08
#define COMMON_GF 0x0c
#define COMMON_STATUS 0x14
#define COMMON_Q_SELECT 0x16
#define COMMON_Q_SIZE 0x18
#define COMMON_Q_MSIX 0x1a
#define COMMON_Q_ENABLE 0x1c
#define COMMON_Q_NOFF 0x1e
#define COMMON_Q_DESCLO 0x20
#define COMMON_Q_DESCHI 0x24
#define COMMON_Q_AVAILLO 0x28
#define COMMON_Q_AVAILHI 0x2c
#define COMMON_Q_USEDLO 0x30
#define COMMON_Q_USEDHI 0x34
#define COMMON_LEN 0x38

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_FAILED 0x80
#define F_VERSION_1_HI 1 /* bit 32: bit 0 of feature word 1 */
#define NO_VECTOR 0xffff
#define DESC_F_WRITE 2

/* virtio-input configuration */
#define CFG_SELECT 0
#define CFG_SUBSEL 1
#define CFG_SIZE 2
#define CFG_DATA 8
#define CFG_ID_NAME 0x01
#define CFG_EV_BITS 0x11
#define CFG_ABS_INFO 0x12

#define EV_SYN 0
#define EV_KEY 1
#define EV_ABS 3
#define SYN_REPORT 0
#define ABS_X 0
#define ABS_Y 1
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define KEY_A 30

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct input_event {
	uint16_t type;
	uint16_t code;
	uint32_t value;
};

/* One page per device: ring parts at the alignments virtio 1.0 requires. */
struct vq_mem {
	struct vq_desc desc[VQ_SIZE];
	struct {
		uint16_t flags;
		uint16_t idx;
		uint16_t ring[VQ_SIZE];
		uint16_t used_event;
	} avail __attribute__((aligned(2)));
	struct {
		uint16_t flags;
		uint16_t idx;
		struct {
			uint32_t id;
			uint32_t len;
		} ring[VQ_SIZE];
		uint16_t avail_event;
	} used __attribute__((aligned(4)));
	struct input_event ev[VQ_SIZE];
} __attribute__((aligned(4096)));

enum vinput_kind {
	VINPUT_KEYBOARD,
	VINPUT_TABLET
};

struct vinput {
	struct pci_dev *pci;
	volatile uint8_t *common, *isr, *cfg, *notify;
	enum vinput_kind kind;
	uint16_t qsize;
	uint16_t last_used;
	struct vq_mem *vq;
	/* tablet state between SYN_REPORTs */
	int32_t abs_min[2], abs_max[2];
	int32_t abs[2];
	unsigned buttons;
	char name[40];
};

static struct vq_mem vq_mem[VINPUT_MAX];
static struct vinput devs[VINPUT_MAX];
static int ndevs;
static volatile bool irq_seen;

struct caps {
	volatile uint8_t *at[5];
	uint32_t len[5];
	uint32_t notify_mult;
};

static bool find_caps(struct pci_dev *d, struct caps *c)
{
	uint8_t ptr;
	int guard;

	memset(c, 0, sizeof(*c));
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return false;
	ptr = pci_read8(d, PCI_CAP_PTR) & 0xfc;
	/* Bounded walk: a looping list must not hang the boot. */
	for (guard = 0; ptr >= 0x40 && guard < 48; guard++) {
		uint8_t id = pci_read8(d, ptr), type = pci_read8(d, ptr + 3);
		uint8_t bar = pci_read8(d, ptr + 4);
		uint32_t off = pci_read32(d, ptr + 8), len = pci_read32(d, ptr + 12);

		if (id == PCI_CAP_ID_VNDR && type >= CAP_COMMON && type <= CAP_DEVICE &&
		    !c->at[type] && bar < PCI_BARS && !d->bar[bar].io && d->bar[bar].addr &&
		    (uint64_t)off + len <= d->bar[bar].size &&
		    mm_map(d->bar[bar].addr + off, len, true) == 0) {
			c->at[type] = (volatile uint8_t *)(uintptr_t)(d->bar[bar].addr + off);
			c->len[type] = len;
			if (type == CAP_NOTIFY)
				c->notify_mult = pci_read32(d, ptr + 16);
		}
		ptr = pci_read8(d, ptr + 1) & 0xfc;
	}
	return c->at[CAP_COMMON] && c->at[CAP_NOTIFY] && c->at[CAP_ISR] && c->at[CAP_DEVICE] &&
	       c->len[CAP_COMMON] >= COMMON_LEN && c->len[CAP_DEVICE] >= CFG_DATA + 20;
}

/* Select a config item; returns its size (0: the device does not have it). */
static uint8_t cfg_select(struct vinput *v, uint8_t sel, uint8_t subsel)
{
	mmio_write8(v->cfg + CFG_SELECT, sel);
	mmio_write8(v->cfg + CFG_SUBSEL, subsel);
	return mmio_read8(v->cfg + CFG_SIZE);
}

static uint8_t cfg_byte(struct vinput *v, unsigned i)
{
	return mmio_read8(v->cfg + CFG_DATA + i);
}

static uint32_t cfg_le32(struct vinput *v, unsigned i)
{
	return cfg_byte(v, i) | (uint32_t)cfg_byte(v, i + 1) << 8 |
	       (uint32_t)cfg_byte(v, i + 2) << 16 | (uint32_t)cfg_byte(v, i + 3) << 24;
}

/* Tell a tablet (absolute X and Y) from a keyboard (letter keys). */
static bool classify(struct vinput *v)
{
	uint8_t n = cfg_select(v, CFG_ID_NAME, 0);
	unsigned i;
	int axis;

	for (i = 0; i < n && i < sizeof(v->name) - 1; i++) {
		char c = (char)cfg_byte(v, i);

		if (!c)
			break;
		v->name[i] = c >= 32 && c < 127 ? c : '?';
	}
	v->name[i] = '\0';

	if (cfg_select(v, CFG_EV_BITS, EV_ABS) && (cfg_byte(v, 0) & 0x03) == 0x03) {
		v->kind = VINPUT_TABLET;
		for (axis = 0; axis < 2; axis++) {
			v->abs_min[axis] = 0;
			v->abs_max[axis] = 0x7fff;
			if (cfg_select(v, CFG_ABS_INFO, (uint8_t)axis) >= 8) {
				v->abs_min[axis] = (int32_t)cfg_le32(v, 0);
				v->abs_max[axis] = (int32_t)cfg_le32(v, 4);
			}
			if (v->abs_max[axis] <= v->abs_min[axis])
				v->abs_max[axis] = v->abs_min[axis] + 1;
		}
		return true;
	}
	if (cfg_select(v, CFG_EV_BITS, EV_KEY) > KEY_A / 8 &&
	    (cfg_byte(v, KEY_A / 8) & (1u << (KEY_A % 8)))) {
		v->kind = VINPUT_KEYBOARD;
		return true;
	}
	return false;
}

static void vinput_irq(void *arg)
{
	int i;

	(void)arg;
	/* Reading ISR acknowledges and drops the level-triggered line. */
	for (i = 0; i < ndevs; i++)
		if (mmio_read8(devs[i].isr))
			irq_seen = true;
}

static void set_status(struct vinput *v, uint8_t bits)
{
	mmio_write8(v->common + COMMON_STATUS, mmio_read8(v->common + COMMON_STATUS) | bits);
}

static void write64(volatile uint8_t *lo, uint64_t v)
{
	/* Two 32-bit halves, low first: the spec's rule for 64-bit fields. */
	mmio_write32(lo, (uint32_t)v);
	mmio_write32(lo + 4, (uint32_t)(v >> 32));
}

static int setup(struct pci_dev *d, struct vinput *v, struct vq_mem *vq)
{
	struct caps c;
	uint16_t qsize, noff;
	unsigned i;

	pci_enable(d);
	if (!find_caps(d, &c)) {
		serial_log("virtio-input: %02x.%x: missing virtio capabilities", d->dev, d->fn);
		return -ENODEV;
	}
	memset(v, 0, sizeof(*v));
	v->pci = d;
	v->common = c.at[CAP_COMMON];
	v->isr = c.at[CAP_ISR];
	v->cfg = c.at[CAP_DEVICE];
	v->vq = vq;

	mmio_write8(v->common + COMMON_STATUS, 0);
	for (i = 0; i < 1000 && mmio_read8(v->common + COMMON_STATUS); i++)
		;
	set_status(v, STATUS_ACKNOWLEDGE | STATUS_DRIVER);

	mmio_write32(v->common + COMMON_DFSELECT, 1);
	if (!(mmio_read32(v->common + COMMON_DF) & F_VERSION_1_HI))
		goto fail;
	mmio_write32(v->common + COMMON_GFSELECT, 0);
	mmio_write32(v->common + COMMON_GF, 0);
	mmio_write32(v->common + COMMON_GFSELECT, 1);
	mmio_write32(v->common + COMMON_GF, F_VERSION_1_HI);
	set_status(v, STATUS_FEATURES_OK);
	if (!(mmio_read8(v->common + COMMON_STATUS) & STATUS_FEATURES_OK))
		goto fail;

	if (!classify(v)) {
		serial_log("virtio-input: %02x.%x \"%s\" is neither keyboard nor tablet", d->dev,
		           d->fn, v->name);
		goto fail;
	}

	mmio_write16(v->common + COMMON_Q_SELECT, 0);
	qsize = mmio_read16(v->common + COMMON_Q_SIZE);
	if (!qsize)
		goto fail;
	qsize = MIN(qsize, VQ_SIZE);
	mmio_write16(v->common + COMMON_Q_SIZE, qsize);
	mmio_write16(v->common + COMMON_Q_MSIX, NO_VECTOR);
	memset(vq, 0, sizeof(*vq));
	for (i = 0; i < qsize; i++) {
		vq->desc[i].addr = (uintptr_t)&vq->ev[i];
		vq->desc[i].len = sizeof(vq->ev[i]);
		vq->desc[i].flags = DESC_F_WRITE;
		vq->avail.ring[i] = (uint16_t)i;
	}
	barrier();
	vq->avail.idx = qsize;
	v->qsize = qsize;
	write64(v->common + COMMON_Q_DESCLO, (uintptr_t)vq->desc);
	write64(v->common + COMMON_Q_AVAILLO, (uintptr_t)&vq->avail);
	write64(v->common + COMMON_Q_USEDLO, (uintptr_t)&vq->used);
	noff = mmio_read16(v->common + COMMON_Q_NOFF);
	if ((uint64_t)noff * c.notify_mult + 2 > c.len[CAP_NOTIFY])
		goto fail;
	v->notify = c.at[CAP_NOTIFY] + (uint64_t)noff * c.notify_mult;
	mmio_write16(v->common + COMMON_Q_ENABLE, 1);

	if (d->irq == 0 || d->irq >= IRQ_LINES) {
		serial_log("virtio-input: %02x.%x has no usable IRQ line (%u)", d->dev, d->fn,
		           d->irq);
		goto fail;
	}
	set_status(v, STATUS_DRIVER_OK);
	return 0;

fail:
	set_status(v, STATUS_FAILED);
	return -EIO;
}

int vinput_init(void)
{
	struct pci_dev *d = NULL;
	int i;

	while (ndevs < VINPUT_MAX && (d = pci_find(VIRTIO_VENDOR, VIRTIO_INPUT_DEVICE, d))) {
		struct vinput *v = &devs[ndevs];

		if (setup(d, v, &vq_mem[ndevs]) != 0)
			continue;
		if (v->kind == VINPUT_TABLET)
			serial_log("virtio-input: %02x.%x tablet \"%s\" irq %u x %d..%d y %d..%d",
			           d->dev, d->fn, v->name, d->irq, v->abs_min[0], v->abs_max[0],
			           v->abs_min[1], v->abs_max[1]);
		else
			serial_log("virtio-input: %02x.%x keyboard \"%s\" irq %u", d->dev, d->fn,
			           v->name, d->irq);
		ndevs++;
	}
	/* Handlers go in once the device table is final: lines may be shared. */
	for (i = 0; i < ndevs; i++) {
		int j, dup = 0;

		for (j = 0; j < i; j++)
			dup |= devs[j].pci->irq == devs[i].pci->irq;
		if (!dup)
			irq_register(devs[i].pci->irq, true, vinput_irq, NULL);
	}
	for (i = 0; i < ndevs; i++)
		mmio_write16(devs[i].notify, 0);
	return ndevs;
}

bool vinput_have_tablet(void)
{
	int i;

	for (i = 0; i < ndevs; i++)
		if (devs[i].kind == VINPUT_TABLET)
			return true;
	return false;
}

bool vinput_pending(void)
{
	return irq_seen;
}

static void tablet_event(struct vinput *v, const struct input_event *e)
{
	unsigned bit = 0;

	switch (e->type) {
	case EV_ABS:
		if (e->code == ABS_X || e->code == ABS_Y)
			v->abs[e->code] = (int32_t)e->value;
		break;
	case EV_KEY:
		/* Buttons numbered as X11 and VNC do: 1 left, 2 middle, 3 right. */
		if (e->code == BTN_LEFT)
			bit = 1;
		else if (e->code == BTN_MIDDLE)
			bit = 2;
		else if (e->code == BTN_RIGHT)
			bit = 4;
		if (e->value)
			v->buttons |= bit;
		else
			v->buttons &= ~bit;
		break;
	case EV_SYN:
		if (e->code == SYN_REPORT) {
			int32_t x = MIN(MAX(v->abs[0], v->abs_min[0]), v->abs_max[0]);
			int32_t y = MIN(MAX(v->abs[1], v->abs_min[1]), v->abs_max[1]);

			desk_pointer((uint32_t)(x - v->abs_min[0]),
			             (uint32_t)(v->abs_max[0] - v->abs_min[0]),
			             (uint32_t)(y - v->abs_min[1]),
			             (uint32_t)(v->abs_max[1] - v->abs_min[1]), v->buttons);
		}
		break;
	default:
		break;
	}
}

static void drain(struct vinput *v)
{
	struct vq_mem *vq = v->vq;
	bool reposted = false;

	while (v->last_used != *(volatile uint16_t *)&vq->used.idx) {
		uint32_t id;
		struct input_event e;

		barrier();
		id = vq->used.ring[v->last_used % v->qsize].id;
		v->last_used++;
		if (id >= v->qsize)
			continue; /* a broken device; the buffer is lost */
		e = vq->ev[id];
		if (v->kind == VINPUT_KEYBOARD) {
			if (e.type == EV_KEY && e.code <= KEY_MAX_CODE)
				input_key(e.code, (int)e.value);
		} else {
			tablet_event(v, &e);
		}
		vq->avail.ring[vq->avail.idx % v->qsize] = (uint16_t)id;
		barrier();
		vq->avail.idx++;
		reposted = true;
	}
	if (reposted) {
		barrier();
		mmio_write16(v->notify, 0);
	}
}

void vinput_poll(void)
{
	int i;

	irq_seen = false;
	barrier();
	for (i = 0; i < ndevs; i++)
		drain(&devs[i]);
}
