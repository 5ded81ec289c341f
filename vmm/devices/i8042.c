// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/i8042.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

/* Status register. */
#define STS_OBF 0x01
#define STS_IBF 0x02
#define STS_SYS 0x04
#define STS_CMD 0x08 /* last write went to the command port */
#define STS_UNLOCKED 0x10
#define STS_AUXB 0x20

/* Command byte. */
#define CMD_KBD_INT 0x01
#define CMD_AUX_INT 0x02
#define CMD_SYS 0x04
#define CMD_KBD_DISABLE 0x10
#define CMD_AUX_DISABLE 0x20
#define CMD_XLATE 0x40

/* Output port: bit 0 low holds the CPU in reset; bit 1 is A20; the rest read as ones. */
#define OUTPORT_RESET 0x01
#define OUTPORT_A20 0x02
#define OUTPORT_OBF 0x10
#define OUTPORT_AUXB 0x20
#define OUTPORT_DEFAULT 0xcf

/* Controller commands. */
#define CCMD_READ_CMD 0x20
#define CCMD_WRITE_CMD 0x60
#define CCMD_PASSWORD_CHECK 0xa4
#define CCMD_AUX_DISABLE 0xa7
#define CCMD_AUX_ENABLE 0xa8
#define CCMD_AUX_TEST 0xa9
#define CCMD_SELF_TEST 0xaa
#define CCMD_KBD_TEST 0xab
#define CCMD_KBD_DISABLE 0xad
#define CCMD_KBD_ENABLE 0xae
#define CCMD_READ_INPORT 0xc0
#define CCMD_READ_OUTPORT 0xd0
#define CCMD_WRITE_OUTPORT 0xd1
#define CCMD_WRITE_KBD_OBUF 0xd2
#define CCMD_WRITE_AUX_OBUF 0xd3
#define CCMD_WRITE_AUX 0xd4
#define CCMD_A20_OFF 0xdd
#define CCMD_A20_ON 0xdf
#define CCMD_READ_TEST 0xe0
#define CCMD_PULSE 0xf0 /* 0xf0..0xff: pulse output port bits 0..3 where the command has 0 */

/* Device commands and replies. */
#define DEV_SET_LEDS 0xed
#define DEV_ECHO 0xee
#define DEV_SCANSET 0xf0
#define DEV_GET_ID 0xf2
#define DEV_SET_RATE 0xf3
#define DEV_ENABLE 0xf4
#define DEV_DISABLE 0xf5
#define DEV_DEFAULTS 0xf6
#define DEV_RESEND 0xfe
#define DEV_RESET 0xff
#define REPLY_BAT_OK 0xaa
#define REPLY_ACK 0xfa
#define REPLY_RESEND 0xfe
#define KBD_ID_1 0xab
#define KBD_ID_2 0x83
#define KBD_ID_2_XLATED 0x41 /* 0x83 as the controller's translation turns it */

/* Mouse commands. */
#define AUX_SCALE11 0xe6
#define AUX_SCALE21 0xe7
#define AUX_SET_RES 0xe8
#define AUX_STATUS 0xe9
#define AUX_STREAM 0xea
#define AUX_POLL 0xeb
#define AUX_RESET_WRAP 0xec
#define AUX_SET_WRAP 0xee
#define AUX_REMOTE 0xf0

#define SMALL_QUEUE 16
#define KEY_END 0x100 /* marks the last byte of a key in the key queue */
#define MAX_KEY_BYTES 8

struct byte_queue {
	uint16_t buf[VMM_I8042_KEY_QUEUE];
	unsigned int head, count, cap;
};

struct vmm_i8042 {
	pthread_mutex_t lock;
	struct vmm_bus *bus;
	struct vmm_irq_line kbd_irq, aux_irq;
	void (*reset_request)(void *opaque);
	void *opaque;

	/* Controller. */
	uint8_t cmd;
	uint8_t outport;
	uint8_t pending; /* controller command waiting for its data byte, or 0 */
	bool last_was_cmd;
	uint8_t obuf;
	bool obf, obuf_aux;
	bool kbd_level, aux_level;
	struct byte_queue ctrl; /* KEY_END set: the byte is for the aux side */

	/* Keyboard. */
	struct byte_queue kbd_reply;
	struct byte_queue keys;
	bool mid_key; /* the guest has part of a key: replies wait for the rest */
	uint8_t kbd_pending;
	bool scanning;
	unsigned int scanset;
	uint8_t leds;
	uint8_t kbd_last; /* for DEV_RESEND */
	bool drop_logged;

	/* Mouse. */
	struct byte_queue aux;
	uint8_t aux_pending;
	bool aux_reporting, aux_remote, aux_scale21, aux_wrap;
	uint8_t aux_rate, aux_res;
};

/*
 * Set 1 make code to set 2 make code: the inverse of the 8042's
 * translation, for a guest that turns translation off. 0: no set-2 code.
 */
static const uint8_t set1_to_set2[128] = {
	0x00, 0x76, 0x16, 0x1e, 0x26, 0x25, 0x2e, 0x36, 0x3d, 0x3e, 0x46, 0x45, 0x4e, 0x55, 0x66,
	0x0d, 0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, 0x44, 0x4d, 0x54, 0x5b, 0x5a, 0x14,
	0x1c, 0x1b, 0x23, 0x2b, 0x34, 0x33, 0x3b, 0x42, 0x4b, 0x4c, 0x52, 0x0e, 0x12, 0x5d, 0x1a,
	0x22, 0x21, 0x2a, 0x32, 0x31, 0x3a, 0x41, 0x49, 0x4a, 0x59, 0x7c, 0x11, 0x29, 0x58, 0x05,
	0x06, 0x04, 0x0c, 0x03, 0x0b, 0x83, 0x0a, 0x01, 0x09, 0x77, 0x7e, 0x6c, 0x75, 0x7d, 0x7b,
	0x6b, 0x73, 0x74, 0x79, 0x69, 0x72, 0x7a, 0x70, 0x71, 0x84, 0x60, 0x61, 0x78, 0x07, 0x0f,
	0x17, 0x1f, 0x27, 0x2f, 0x37, 0x3f, 0x47, 0x4f, 0x56, 0x5e, 0x08, 0x10, 0x18, 0x20, 0x28,
	0x30, 0x38, 0x40, 0x48, 0x50, 0x57, 0x6f, 0x13, 0x19, 0x39, 0x51, 0x53, 0x5c, 0x5f, 0x62,
	0x63, 0x64, 0x65, 0x67, 0x68, 0x6a, 0x6d, 0x6e,
};

#define XT_PAUSE 0xe046

static void q_init(struct byte_queue *q, unsigned int cap)
{
	q->head = q->count = 0;
	q->cap = cap;
}

static bool q_push(struct byte_queue *q, uint16_t v)
{
	if (q->count == q->cap)
		return false;
	q->buf[(q->head + q->count) % q->cap] = v;
	q->count++;
	return true;
}

static uint16_t q_pop(struct byte_queue *q)
{
	uint16_t v = q->buf[q->head];

	q->head = (q->head + 1) % q->cap;
	q->count--;
	return v;
}

static void update_irq(struct vmm_i8042 *k)
{
	bool kbd = k->obf && !k->obuf_aux && (k->cmd & CMD_KBD_INT);
	bool aux = k->obf && k->obuf_aux && (k->cmd & CMD_AUX_INT);

	if (kbd != k->kbd_level) {
		k->kbd_level = kbd;
		vmm_irq_set(&k->kbd_irq, kbd);
	}
	if (aux != k->aux_level) {
		k->aux_level = aux;
		vmm_irq_set(&k->aux_irq, aux);
	}
}

/* Load the output buffer when it is empty and something waits. Lock held. */
static void refill(struct vmm_i8042 *k)
{
	if (k->obf)
		return;
	if (k->ctrl.count) {
		uint16_t v = q_pop(&k->ctrl);

		k->obuf = (uint8_t)v;
		k->obuf_aux = v & KEY_END;
	} else if (!(k->cmd & CMD_KBD_DISABLE) && (k->kbd_reply.count || k->keys.count)) {
		/* A reply goes between keys, never inside one. */
		if (k->kbd_reply.count && (!k->mid_key || !k->keys.count)) {
			k->obuf = (uint8_t)q_pop(&k->kbd_reply);
		} else {
			uint16_t v = q_pop(&k->keys);

			k->obuf = (uint8_t)v;
			k->mid_key = !(v & KEY_END);
		}
		k->obuf_aux = false;
		k->kbd_last = k->obuf;
	} else if (!(k->cmd & CMD_AUX_DISABLE) && k->aux.count) {
		k->obuf = (uint8_t)q_pop(&k->aux);
		k->obuf_aux = true;
	} else {
		return;
	}
	k->obf = true;
}

/* Something was queued: deliver if the buffer is free. Lock held. */
static void kick(struct vmm_i8042 *k)
{
	refill(k);
	update_irq(k);
}

static void ctrl_reply(struct vmm_i8042 *k, uint8_t v, bool aux)
{
	if (!q_push(&k->ctrl, (uint16_t)(v | (aux ? KEY_END : 0))))
		log_debug("dev=i8042 controller reply 0x%02x dropped: guest not reading", v);
}

static void kbd_reply(struct vmm_i8042 *k, uint8_t v)
{
	if (!q_push(&k->kbd_reply, v))
		log_debug("dev=i8042 keyboard reply 0x%02x dropped: guest not reading", v);
}

static void aux_reply(struct vmm_i8042 *k, uint8_t v)
{
	if (!q_push(&k->aux, v))
		log_debug("dev=i8042 mouse reply 0x%02x dropped: guest not reading", v);
}

static bool translating(const struct vmm_i8042 *k)
{
	return k->cmd & CMD_XLATE;
}

static void kbd_defaults(struct vmm_i8042 *k)
{
	k->scanset = 2;
	k->leds = 0;
	k->kbd_pending = 0;
	q_init(&k->keys, VMM_I8042_KEY_QUEUE);
	k->mid_key = false;
}

/* The scan code set number as the guest reads it, through the translation if on. */
static uint8_t scanset_reply(const struct vmm_i8042 *k)
{
	static const uint8_t xlated[4] = { 0, 0x43, 0x41, 0x3f };

	return translating(k) ? xlated[k->scanset] : (uint8_t)k->scanset;
}

/* A byte the guest sent to the keyboard. Lock held. */
static void kbd_write(struct vmm_i8042 *k, uint8_t val)
{
	uint8_t cmd = k->kbd_pending;

	if (cmd) {
		k->kbd_pending = 0;
		switch (cmd) {
		case DEV_SET_LEDS:
			k->leds = val & 7;
			kbd_reply(k, REPLY_ACK);
			return;
		case DEV_SET_RATE:
			kbd_reply(k, REPLY_ACK);
			return;
		case DEV_SCANSET:
			if (val == 0) {
				kbd_reply(k, REPLY_ACK);
				kbd_reply(k, scanset_reply(k));
			} else if (val == 1 || val == 2) {
				/* Set 3 is not offered: it would need its own tables. */
				k->scanset = val;
				kbd_reply(k, REPLY_ACK);
			} else {
				kbd_reply(k, REPLY_RESEND);
			}
			return;
		}
	}
	switch (val) {
	case DEV_SET_LEDS:
	case DEV_SET_RATE:
	case DEV_SCANSET:
		k->kbd_pending = val;
		kbd_reply(k, REPLY_ACK);
		break;
	case DEV_ECHO:
		kbd_reply(k, DEV_ECHO);
		break;
	case DEV_GET_ID:
		kbd_reply(k, REPLY_ACK);
		kbd_reply(k, KBD_ID_1);
		kbd_reply(k, translating(k) ? KBD_ID_2_XLATED : KBD_ID_2);
		break;
	case DEV_ENABLE:
		k->scanning = true;
		kbd_reply(k, REPLY_ACK);
		break;
	case DEV_DISABLE:
		kbd_defaults(k);
		k->scanning = false;
		kbd_reply(k, REPLY_ACK);
		break;
	case DEV_DEFAULTS:
		kbd_defaults(k);
		k->scanning = true;
		kbd_reply(k, REPLY_ACK);
		break;
	case DEV_RESEND:
		kbd_reply(k, k->kbd_last);
		break;
	case DEV_RESET:
		kbd_defaults(k);
		k->scanning = true;
		q_init(&k->kbd_reply, SMALL_QUEUE);
		kbd_reply(k, REPLY_ACK);
		kbd_reply(k, REPLY_BAT_OK);
		break;
	case 0xf7:
	case 0xf8:
	case 0xf9:
	case 0xfa:
	case 0xfb:
	case 0xfc:
	case 0xfd:
		/* Set-3 key type commands: accepted, no effect. */
		kbd_reply(k, REPLY_ACK);
		break;
	default:
		kbd_reply(k, REPLY_RESEND);
		break;
	}
}

static void aux_defaults(struct vmm_i8042 *k)
{
	k->aux_pending = 0;
	k->aux_reporting = k->aux_remote = k->aux_scale21 = k->aux_wrap = false;
	k->aux_rate = 100;
	k->aux_res = 2;
}

/* A byte the guest sent to the mouse (command 0xd4). Lock held. */
static void aux_write(struct vmm_i8042 *k, uint8_t val)
{
	uint8_t cmd = k->aux_pending;

	if (cmd) {
		k->aux_pending = 0;
		if (cmd == AUX_SET_RES)
			k->aux_res = val & 3;
		else
			k->aux_rate = val;
		aux_reply(k, REPLY_ACK);
		return;
	}
	/* In wrap mode the mouse echoes everything but the ways out of it. */
	if (k->aux_wrap && val != AUX_RESET_WRAP && val != DEV_RESET) {
		aux_reply(k, val);
		return;
	}
	switch (val) {
	case AUX_SCALE11:
	case AUX_SCALE21:
		k->aux_scale21 = val == AUX_SCALE21;
		aux_reply(k, REPLY_ACK);
		break;
	case AUX_SET_RES:
	case DEV_SET_RATE:
		k->aux_pending = val;
		aux_reply(k, REPLY_ACK);
		break;
	case AUX_STATUS:
		aux_reply(k, REPLY_ACK);
		aux_reply(k, (uint8_t)((k->aux_remote ? 0x40 : 0) | (k->aux_reporting ? 0x20 : 0) |
		                       (k->aux_scale21 ? 0x10 : 0)));
		aux_reply(k, k->aux_res);
		aux_reply(k, k->aux_rate);
		break;
	case AUX_STREAM:
	case AUX_REMOTE:
		k->aux_remote = val == AUX_REMOTE;
		aux_reply(k, REPLY_ACK);
		break;
	case AUX_POLL:
		/* A packet with no buttons and no motion (bit 3 is always one). */
		aux_reply(k, REPLY_ACK);
		aux_reply(k, 0x08);
		aux_reply(k, 0);
		aux_reply(k, 0);
		break;
	case AUX_RESET_WRAP:
	case AUX_SET_WRAP:
		k->aux_wrap = val == AUX_SET_WRAP;
		aux_reply(k, REPLY_ACK);
		break;
	case DEV_GET_ID:
		aux_reply(k, REPLY_ACK);
		aux_reply(k, 0x00); /* a plain PS/2 mouse */
		break;
	case DEV_ENABLE:
	case DEV_DISABLE:
		k->aux_reporting = val == DEV_ENABLE;
		aux_reply(k, REPLY_ACK);
		break;
	case DEV_DEFAULTS:
		aux_defaults(k);
		aux_reply(k, REPLY_ACK);
		break;
	case DEV_RESET:
		aux_defaults(k);
		q_init(&k->aux, SMALL_QUEUE);
		aux_reply(k, REPLY_ACK);
		aux_reply(k, REPLY_BAT_OK);
		aux_reply(k, 0x00);
		break;
	default:
		aux_reply(k, REPLY_RESEND);
		break;
	}
}

static uint8_t outport_value(const struct vmm_i8042 *k)
{
	uint8_t v = k->outport & (uint8_t) ~(OUTPORT_OBF | OUTPORT_AUXB);

	if (k->obf)
		v |= k->obuf_aux ? OUTPORT_AUXB : OUTPORT_OBF;
	return v;
}

/* A controller command. Returns true when the guest asked for a CPU reset. Lock held. */
static bool ctrl_command(struct vmm_i8042 *k, uint8_t val)
{
	k->pending = 0;
	if (val >= CCMD_READ_CMD && val < CCMD_READ_CMD + 0x20) {
		/* Byte 0 of the controller's RAM is the command byte; the rest reads as 0. */
		ctrl_reply(k, val == CCMD_READ_CMD ? k->cmd : 0, false);
		return false;
	}
	if (val >= CCMD_WRITE_CMD && val < CCMD_WRITE_CMD + 0x20) {
		k->pending = val;
		return false;
	}
	if (val >= CCMD_PULSE)
		return !(val & OUTPORT_RESET);
	switch (val) {
	case CCMD_PASSWORD_CHECK:
		ctrl_reply(k, 0xf1, false); /* no password installed */
		break;
	case CCMD_AUX_DISABLE:
		k->cmd |= CMD_AUX_DISABLE;
		break;
	case CCMD_AUX_ENABLE:
		k->cmd &= (uint8_t)~CMD_AUX_DISABLE;
		break;
	case CCMD_AUX_TEST:
	case CCMD_KBD_TEST:
		ctrl_reply(k, 0x00, false);
		break;
	case CCMD_SELF_TEST:
		k->cmd |= CMD_SYS;
		ctrl_reply(k, 0x55, false);
		break;
	case CCMD_KBD_DISABLE:
		k->cmd |= CMD_KBD_DISABLE;
		break;
	case CCMD_KBD_ENABLE:
		k->cmd &= (uint8_t)~CMD_KBD_DISABLE;
		break;
	case CCMD_READ_INPORT:
		ctrl_reply(k, 0x80, false); /* keyboard not inhibited */
		break;
	case CCMD_READ_OUTPORT:
		ctrl_reply(k, outport_value(k), false);
		break;
	case CCMD_WRITE_OUTPORT:
	case CCMD_WRITE_KBD_OBUF:
	case CCMD_WRITE_AUX_OBUF:
	case CCMD_WRITE_AUX:
		k->pending = val;
		break;
	case CCMD_A20_OFF:
		k->outport &= (uint8_t)~OUTPORT_A20;
		break;
	case CCMD_A20_ON:
		k->outport |= OUTPORT_A20;
		break;
	case CCMD_READ_TEST:
		ctrl_reply(k, 0x00, false);
		break;
	default:
		log_debug("dev=i8042 unknown controller command 0x%02x", val);
		break;
	}
	return false;
}

/* A data port write. Returns true when the guest asked for a CPU reset. Lock held. */
static bool data_write(struct vmm_i8042 *k, uint8_t val)
{
	uint8_t pending = k->pending;

	k->pending = 0;
	switch (pending) {
	case 0:
		kbd_write(k, val);
		break;
	case CCMD_WRITE_CMD:
		k->cmd = val;
		break;
	case CCMD_WRITE_OUTPORT:
		k->outport = val;
		return !(val & OUTPORT_RESET);
	case CCMD_WRITE_KBD_OBUF:
		ctrl_reply(k, val, false);
		break;
	case CCMD_WRITE_AUX_OBUF:
		ctrl_reply(k, val, true);
		break;
	case CCMD_WRITE_AUX:
		aux_write(k, val);
		break;
	default:
		/* 0x61..0x7f: controller RAM nobody reads back. */
		break;
	}
	return false;
}

static void data_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_i8042 *k = opaque;
	uint8_t *p = data;
	bool reset = false;

	if (offset || size != 1)
		return;
	pthread_mutex_lock(&k->lock);
	if (is_write) {
		k->last_was_cmd = false;
		reset = data_write(k, p[0]);
	} else {
		/* With nothing new, the port reads the last byte again, as on hardware. */
		p[0] = k->obuf;
		if (k->obf) {
			k->obf = false;
			/* Drop the line so the next byte makes a new edge. */
			update_irq(k);
		}
	}
	kick(k);
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset_request)
		k->reset_request(k->opaque);
}

static void cmd_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_i8042 *k = opaque;
	uint8_t *p = data;
	bool reset = false;

	if (offset || size != 1)
		return;
	pthread_mutex_lock(&k->lock);
	if (is_write) {
		k->last_was_cmd = true;
		reset = ctrl_command(k, p[0]);
		kick(k);
	} else {
		p[0] = (uint8_t)((k->obf ? STS_OBF : 0) | (k->obf && k->obuf_aux ? STS_AUXB : 0) |
		                 (k->cmd & CMD_SYS ? STS_SYS : 0) |
		                 (k->last_was_cmd ? STS_CMD : 0) | STS_UNLOCKED);
	}
	pthread_mutex_unlock(&k->lock);
	if (reset && k->reset_request)
		k->reset_request(k->opaque);
}

static void reset_locked(struct vmm_i8042 *k)
{
	k->cmd = VMM_I8042_DEFAULT_CMD;
	k->outport = OUTPORT_DEFAULT;
	k->pending = 0;
	k->last_was_cmd = false;
	k->obuf = 0;
	k->obf = k->obuf_aux = false;
	q_init(&k->ctrl, SMALL_QUEUE);
	q_init(&k->kbd_reply, SMALL_QUEUE);
	q_init(&k->aux, SMALL_QUEUE);
	kbd_defaults(k);
	k->scanning = true;
	k->kbd_last = 0;
	aux_defaults(k);
	update_irq(k);
}

int vmm_i8042_new(struct vmm_bus *bus, struct vmm_irq_line kbd_irq, struct vmm_irq_line aux_irq,
                  void (*reset_request)(void *opaque), void *opaque, struct vmm_i8042 **ret)
{
	struct vmm_i8042 *k = calloc(1, sizeof(*k));
	int r;

	if (!k)
		return -ENOMEM;
	pthread_mutex_init(&k->lock, NULL);
	k->bus = bus;
	k->kbd_irq = kbd_irq;
	k->aux_irq = aux_irq;
	k->reset_request = reset_request;
	k->opaque = opaque;
	reset_locked(k);
	r = vmm_bus_register(bus, VMM_BUS_PIO, I8042_DATA_PORT, 1, data_io, k, "i8042-data");
	if (r < 0)
		goto out_free;
	r = vmm_bus_register(bus, VMM_BUS_PIO, I8042_CMD_PORT, 1, cmd_io, k, "i8042-cmd");
	if (r < 0)
		goto out_data;
	*ret = k;
	return 0;

out_data:
	vmm_bus_unregister(bus, VMM_BUS_PIO, I8042_DATA_PORT, k);
out_free:
	pthread_mutex_destroy(&k->lock);
	free(k);
	return r;
}

/* The bytes for one key press or release in the current code set; 0 if it has none. */
static unsigned int encode_key(const struct vmm_i8042 *k, unsigned int xt, bool down,
                               uint8_t out[MAX_KEY_BYTES])
{
	static const uint8_t pause1[] = { 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 };
	static const uint8_t pause2[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
	bool set1 = translating(k) || k->scanset == 1;
	uint8_t code = xt & 0x7f;
	unsigned int n = 0;

	if (xt == XT_PAUSE) {
		/* Pause has no break code. */
		if (!down)
			return 0;
		memcpy(out, set1 ? pause1 : pause2, set1 ? sizeof(pause1) : sizeof(pause2));
		return set1 ? sizeof(pause1) : sizeof(pause2);
	}
	if (xt >> 8)
		out[n++] = 0xe0;
	if (set1) {
		out[n++] = (uint8_t)(code | (down ? 0 : 0x80));
		return n;
	}
	if (!set1_to_set2[code])
		return 0;
	if (!down)
		out[n++] = 0xf0;
	out[n++] = set1_to_set2[code];
	return n;
}

void vmm_i8042_key(struct vmm_i8042 *k, unsigned int xt, bool down)
{
	uint8_t bytes[MAX_KEY_BYTES];
	unsigned int n;

	if ((xt >> 8 != 0 && xt >> 8 != 0xe0) || !(xt & 0xff) || (xt & 0x80)) {
		log_debug("dev=i8042 no such scan code 0x%x", xt);
		return;
	}
	pthread_mutex_lock(&k->lock);
	n = k->scanning ? encode_key(k, xt, down, bytes) : 0;
	if (n && k->keys.cap - k->keys.count < n) {
		if (!k->drop_logged)
			log_warn("dev=i8042 guest not reading the keyboard, dropping keys");
		k->drop_logged = true;
		n = 0;
	}
	for (unsigned int i = 0; i < n; i++)
		q_push(&k->keys, (uint16_t)(bytes[i] | (i == n - 1 ? KEY_END : 0)));
	kick(k);
	pthread_mutex_unlock(&k->lock);
}

void vmm_i8042_reset(struct vmm_i8042 *k)
{
	pthread_mutex_lock(&k->lock);
	reset_locked(k);
	pthread_mutex_unlock(&k->lock);
}

void vmm_i8042_free(struct vmm_i8042 *k)
{
	if (!k)
		return;
	vmm_bus_unregister(k->bus, VMM_BUS_PIO, I8042_CMD_PORT, k);
	vmm_bus_unregister(k->bus, VMM_BUS_PIO, I8042_DATA_PORT, k);
	if (k->kbd_level)
		vmm_irq_set(&k->kbd_irq, 0);
	if (k->aux_level)
		vmm_irq_set(&k->aux_irq, 0);
	pthread_mutex_destroy(&k->lock);
	free(k);
}
