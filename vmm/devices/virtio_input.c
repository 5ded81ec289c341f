// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/virtio_input.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"

/* Linux input event types and codes (linux/input-event-codes.h), as the wire carries them. */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_LED 0x11
#define EV_REP 0x14
#define SYN_REPORT 0
#define REL_WHEEL 0x08
#define ABS_X 0x00
#define ABS_Y 0x01
#define LED_NUML 0x00
#define LED_CAPSL 0x01
#define LED_SCROLLL 0x02
#define LED_MAX 0x0f
#define KEY_MAX 0x2ff
#define KEY_NORMAL_LAST 248 /* KEY_MICMUTE: the last key code below BTN_MISC */
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define BTN_SIDE 0x113
#define BTN_EXTRA 0x114
#define BUS_VIRTUAL 0x06

#define INPUT_QUEUE_SIZE 64
#define PCI_CLASS_INPUT_OTHER 0x098000

/* Our buttons argument, bit by bit. */
static const uint16_t button_codes[] = { BTN_LEFT, BTN_MIDDLE, BTN_RIGHT, BTN_SIDE, BTN_EXTRA };

static const struct {
	const char *pci_name, *name, *serial;
	uint16_t product;
} identity[] = {
	[VMM_VIRTIO_INPUT_KEYBOARD] = { "virtio-keyboard", "VDI Virtio Keyboard", "vdi-keyboard",
	                                0x0001 },
	[VMM_VIRTIO_INPUT_TABLET] = { "virtio-tablet", "VDI Virtio Tablet", "vdi-tablet", 0x0003 },
};

static void set_bit(uint8_t *bitmap, unsigned int bit)
{
	bitmap[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

static void put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
	put_le16(p, (uint16_t)v);
	put_le16(p + 2, (uint16_t)(v >> 16));
}

/* Size of a bitmap: bytes up to the last non-zero one. */
static uint8_t bitmap_size(const uint8_t *u)
{
	unsigned int n = 128;

	while (n && !u[n - 1])
		n--;
	return (uint8_t)n;
}

static uint8_t ev_bits(const struct vmm_virtio_input *vi, unsigned int type, uint8_t *u)
{
	if (vi->kind == VMM_VIRTIO_INPUT_KEYBOARD) {
		switch (type) {
		case EV_KEY:
			/* Every key code Linux defines below BTN_MISC. */
			for (unsigned int k = 1; k <= KEY_NORMAL_LAST; k++)
				if (k != 84 && (k < 195 || k > 199))
					set_bit(u, k);
			return bitmap_size(u);
		case EV_REP:
			/* Present but empty: the guest does autorepeat itself. */
			return 1;
		case EV_LED:
			set_bit(u, LED_NUML);
			set_bit(u, LED_CAPSL);
			set_bit(u, LED_SCROLLL);
			return bitmap_size(u);
		}
		return 0;
	}
	switch (type) {
	case EV_KEY:
		for (size_t i = 0; i < sizeof(button_codes) / sizeof(button_codes[0]); i++)
			set_bit(u, button_codes[i]);
		return bitmap_size(u);
	case EV_REL:
		set_bit(u, REL_WHEEL);
		return bitmap_size(u);
	case EV_ABS:
		set_bit(u, ABS_X);
		set_bit(u, ABS_Y);
		return bitmap_size(u);
	}
	return 0;
}

/* Fill size and u[] for the select/subsel the driver wrote (5.8.5). */
static void cfg_update(struct vmm_virtio_input *vi)
{
	uint8_t select = vi->cfg[0], subsel = vi->cfg[1], size = 0;
	uint8_t *u = &vi->cfg[VMM_VIRTIO_INPUT_CFG_DATA];
	const char *s = NULL;

	memset(&vi->cfg[2], 0, sizeof(vi->cfg) - 2);
	switch (select) {
	case VMM_VIRTIO_INPUT_CFG_ID_NAME:
		s = identity[vi->kind].name;
		break;
	case VMM_VIRTIO_INPUT_CFG_ID_SERIAL:
		s = identity[vi->kind].serial;
		break;
	case VMM_VIRTIO_INPUT_CFG_ID_DEVIDS:
		if (subsel)
			break;
		put_le16(u, BUS_VIRTUAL);
		put_le16(u + 2, 0x0627);
		put_le16(u + 4, identity[vi->kind].product);
		put_le16(u + 6, 0x0001);
		size = 8;
		break;
	case VMM_VIRTIO_INPUT_CFG_PROP_BITS:
		/* No properties: the tablet is not INPUT_PROP_DIRECT (a touchscreen). */
		break;
	case VMM_VIRTIO_INPUT_CFG_EV_BITS:
		size = ev_bits(vi, subsel, u);
		break;
	case VMM_VIRTIO_INPUT_CFG_ABS_INFO:
		if (vi->kind != VMM_VIRTIO_INPUT_TABLET || (subsel != ABS_X && subsel != ABS_Y))
			break;
		/* min, max, fuzz, flat, res */
		put_le32(u, 0);
		put_le32(u + 4, VMM_VIRTIO_INPUT_ABS_MAX);
		size = 20;
		break;
	}
	if (s && !subsel) {
		size = (uint8_t)strlen(s);
		memcpy(u, s, size);
	}
	vi->cfg[2] = size;
}

static uint64_t input_get_features(void *backend)
{
	return 1ULL << VMM_VIRTIO_F_INDIRECT_DESC | 1ULL << VMM_VIRTIO_F_EVENT_IDX;
}

static void input_config_read(void *backend, unsigned int off, void *data, unsigned int size)
{
	struct vmm_virtio_input *vi = backend;

	memcpy(data, &vi->cfg[off], size);
}

static void input_config_write(void *backend, unsigned int off, const void *data, unsigned int size)
{
	struct vmm_virtio_input *vi = backend;
	const uint8_t *b = data;
	bool changed = false;

	/* Only select and subsel are the driver's; the rest is read-only. */
	for (unsigned int i = 0; i < size; i++) {
		if (off + i < 2) {
			vi->cfg[off + i] = b[i];
			changed = true;
		}
	}
	if (changed)
		cfg_update(vi);
}

/* Deliver buffered events while the guest has buffers. vp.lock held. */
static void flush_events(struct vmm_virtio_input *vi)
{
	struct vmm_vq *vq = vmm_virtio_pci_queue(&vi->vp, VMM_VIRTIO_INPUT_EVENTQ);
	bool pushed = false;

	while (vq && vi->count) {
		const struct virtio_input_event *e = &vi->ring[vi->head];
		uint8_t wire[8];

		if (vmm_vq_pop(vq, &vi->chain) <= 0)
			break;
		if (vi->chain.writable_bytes < sizeof(wire)) {
			/* A buffer too small for an event: hand it back empty, keep the event. */
			log_debug("dev=%s event buffer of %" PRIu32 " bytes", vi->vp.name,
			          vi->chain.writable_bytes);
			if (vmm_vq_push(vq, vi->chain.head, 0) < 0)
				break;
			pushed = true;
			continue;
		}
		put_le16(wire, e->type);
		put_le16(wire + 2, e->code);
		put_le32(wire + 4, e->value);
		vmm_vq_chain_write(&vi->chain, 0, wire, sizeof(wire));
		if (vmm_vq_push(vq, vi->chain.head, sizeof(wire)) < 0)
			break;
		pushed = true;
		vi->head = (vi->head + 1) % VMM_VIRTIO_INPUT_RING;
		vi->count--;
	}
	if (pushed)
		vmm_virtio_pci_signal_used(&vi->vp, VMM_VIRTIO_INPUT_EVENTQ);
}

/* The guest reports LED state on the status queue. vp.lock held. */
static void drain_status(struct vmm_virtio_input *vi)
{
	struct vmm_vq *vq = vmm_virtio_pci_queue(&vi->vp, VMM_VIRTIO_INPUT_STATUSQ);
	bool pushed = false;

	while (vq && vmm_vq_pop(vq, &vi->chain) > 0) {
		uint8_t wire[8];

		if (vmm_vq_chain_read(&vi->chain, 0, wire, sizeof(wire)) == sizeof(wire)) {
			unsigned int type = wire[0] | wire[1] << 8, code = wire[2] | wire[3] << 8;
			uint32_t value = (uint32_t)wire[4] | (uint32_t)wire[5] << 8 |
			                 (uint32_t)wire[6] << 16 | (uint32_t)wire[7] << 24;

			if (type == EV_LED && code <= LED_MAX) {
				if (value)
					vi->leds |= 1u << code;
				else
					vi->leds &= ~(1u << code);
			}
		}
		if (vmm_vq_push(vq, vi->chain.head, 0) < 0)
			break;
		pushed = true;
	}
	if (pushed)
		vmm_virtio_pci_signal_used(&vi->vp, VMM_VIRTIO_INPUT_STATUSQ);
}

static void input_queue_notify(void *backend, unsigned int qidx)
{
	struct vmm_virtio_input *vi = backend;

	if (qidx == VMM_VIRTIO_INPUT_EVENTQ)
		flush_events(vi);
	else if (qidx == VMM_VIRTIO_INPUT_STATUSQ)
		drain_status(vi);
}

static void input_reset(void *backend)
{
	struct vmm_virtio_input *vi = backend;

	vi->head = vi->count = 0;
	vi->leds = 0;
	vi->pos_valid = false;
	vi->x = vi->y = vi->buttons = 0;
	memset(vi->cfg, 0, sizeof(vi->cfg));
}

static const struct vmm_virtio_ops input_ops = {
	.get_features = input_get_features,
	.config_read = input_config_read,
	.config_write = input_config_write,
	.queue_notify = input_queue_notify,
	.reset = input_reset,
	.config_size = VMM_VIRTIO_INPUT_CFG_SIZE,
};

int vmm_virtio_input_new(const struct vmm_mem *mem, enum vmm_virtio_input_kind kind,
                         struct vmm_virtio_input **ret)
{
	struct vmm_virtio_input *vi;
	int r;

	if (kind != VMM_VIRTIO_INPUT_KEYBOARD && kind != VMM_VIRTIO_INPUT_TABLET)
		return -EINVAL;
	vi = calloc(1, sizeof(*vi));
	if (!vi)
		return -ENOMEM;
	vi->kind = kind;
	r = vmm_virtio_pci_init(&vi->vp, identity[kind].pci_name, VMM_VIRTIO_ID_INPUT,
	                        PCI_CLASS_INPUT_OTHER, &input_ops, vi, mem, 2);
	if (r < 0)
		goto out_free;
	vmm_virtio_pci_set_queue_max(&vi->vp, VMM_VIRTIO_INPUT_EVENTQ, INPUT_QUEUE_SIZE);
	vmm_virtio_pci_set_queue_max(&vi->vp, VMM_VIRTIO_INPUT_STATUSQ, INPUT_QUEUE_SIZE);
	*ret = vi;
	return 0;

out_free:
	free(vi);
	return r;
}

void vmm_virtio_input_free(struct vmm_virtio_input *vi)
{
	if (!vi)
		return;
	vmm_virtio_pci_exit(&vi->vp);
	free(vi);
}

struct vmm_pci_dev *vmm_virtio_input_pci(struct vmm_virtio_input *vi)
{
	return &vi->vp.pci;
}

void vmm_virtio_input_reset(struct vmm_virtio_input *vi)
{
	vmm_virtio_pci_reset(&vi->vp);
}

/* Buffer one event, dropping the oldest when full. vp.lock held. */
static void enqueue(struct vmm_virtio_input *vi, uint16_t type, uint16_t code, uint32_t value)
{
	if (vi->count == VMM_VIRTIO_INPUT_RING) {
		if (!vi->drop_logged)
			log_warn("dev=%s guest not taking input events, dropping the oldest",
			         vi->vp.name);
		vi->drop_logged = true;
		vi->dropped++;
		vi->head = (vi->head + 1) % VMM_VIRTIO_INPUT_RING;
		vi->count--;
	}
	vi->ring[(vi->head + vi->count) % VMM_VIRTIO_INPUT_RING] =
	        (struct virtio_input_event){ type, code, value };
	vi->count++;
}

int vmm_virtio_input_send(struct vmm_virtio_input *vi, const struct virtio_input_event *ev,
                          size_t n)
{
	if (!n || n > VMM_VIRTIO_INPUT_MAX_BATCH)
		return -EINVAL;
	vmm_virtio_pci_lock(&vi->vp);
	if (vmm_virtio_pci_driver_ok(&vi->vp)) {
		for (size_t i = 0; i < n; i++)
			enqueue(vi, ev[i].type, ev[i].code, ev[i].value);
		flush_events(vi);
	}
	vmm_virtio_pci_unlock(&vi->vp);
	return 0;
}

int vmm_virtio_input_key(struct vmm_virtio_input *vi, unsigned int linux_keycode, bool down)
{
	struct virtio_input_event ev[2] = {
		{ EV_KEY, (uint16_t)linux_keycode, down },
		{ EV_SYN, SYN_REPORT, 0 },
	};

	if (vi->kind != VMM_VIRTIO_INPUT_KEYBOARD)
		return -EOPNOTSUPP;
	if (!linux_keycode || linux_keycode > KEY_MAX)
		return -EINVAL;
	return vmm_virtio_input_send(vi, ev, 2);
}

int vmm_virtio_input_abs(struct vmm_virtio_input *vi, unsigned int x, unsigned int y,
                         unsigned int buttons, int wheel)
{
	struct virtio_input_event ev[2 + 5 + 2];
	unsigned int n = 0, changed;

	if (vi->kind != VMM_VIRTIO_INPUT_TABLET)
		return -EOPNOTSUPP;
	x = x > VMM_VIRTIO_INPUT_ABS_MAX ? VMM_VIRTIO_INPUT_ABS_MAX : x;
	y = y > VMM_VIRTIO_INPUT_ABS_MAX ? VMM_VIRTIO_INPUT_ABS_MAX : y;
	buttons &= (1u << 5) - 1;
	vmm_virtio_pci_lock(&vi->vp);
	if (!vmm_virtio_pci_driver_ok(&vi->vp)) {
		/* Nobody listens: start from scratch once a driver does. */
		vi->pos_valid = false;
		vi->buttons = 0;
		goto out;
	}
	if (!vi->pos_valid || x != vi->x)
		ev[n++] = (struct virtio_input_event){ EV_ABS, ABS_X, x };
	if (!vi->pos_valid || y != vi->y)
		ev[n++] = (struct virtio_input_event){ EV_ABS, ABS_Y, y };
	changed = buttons ^ vi->buttons;
	for (unsigned int i = 0; i < 5; i++)
		if (changed & (1u << i))
			ev[n++] = (struct virtio_input_event){ EV_KEY, button_codes[i],
				                               !!(buttons & (1u << i)) };
	if (wheel)
		ev[n++] = (struct virtio_input_event){ EV_REL, REL_WHEEL, (uint32_t)wheel };
	if (!n)
		goto out;
	ev[n++] = (struct virtio_input_event){ EV_SYN, SYN_REPORT, 0 };
	for (unsigned int i = 0; i < n; i++)
		enqueue(vi, ev[i].type, ev[i].code, ev[i].value);
	flush_events(vi);
	vi->pos_valid = true;
	vi->x = x;
	vi->y = y;
	vi->buttons = buttons;
out:
	vmm_virtio_pci_unlock(&vi->vp);
	return 0;
}

bool vmm_virtio_input_ready(struct vmm_virtio_input *vi)
{
	bool ready;

	vmm_virtio_pci_lock(&vi->vp);
	ready = vmm_virtio_pci_driver_ok(&vi->vp);
	vmm_virtio_pci_unlock(&vi->vp);
	return ready;
}

unsigned int vmm_virtio_input_leds(struct vmm_virtio_input *vi)
{
	unsigned int leds;

	vmm_virtio_pci_lock(&vi->vp);
	leds = vi->leds;
	vmm_virtio_pci_unlock(&vi->vp);
	return leds;
}
