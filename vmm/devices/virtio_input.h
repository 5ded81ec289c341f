/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * virtio-input (virtio 1.x, section 5.8): a keyboard and an absolute
 * pointer (tablet) as Linux's virtio_input driver expects them, with the
 * identities, event bitmaps and axis ranges of QEMU's virtio-keyboard and
 * virtio-tablet.
 *
 * The VNC and SPICE servers inject events from the loop thread. Events wait
 * in a bounded ring (VMM_VIRTIO_INPUT_RING) until the guest offers buffers
 * on the event queue; when it is full the oldest events are dropped (logged
 * once). Injection never blocks and never allocates.
 */
#ifndef VDI_VMM_DEVICES_VIRTIO_INPUT_H
#define VDI_VMM_DEVICES_VIRTIO_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/devices/virtio_pci.h"
#include "vmm/mem.h"

/* Events buffered while the guest has no free buffers. */
#define VMM_VIRTIO_INPUT_RING 256
/* Largest batch vmm_virtio_input_send() takes. */
#define VMM_VIRTIO_INPUT_MAX_BATCH 64

#define VMM_VIRTIO_INPUT_EVENTQ 0
#define VMM_VIRTIO_INPUT_STATUSQ 1

/* Config selectors (5.8.5). */
#define VMM_VIRTIO_INPUT_CFG_UNSET 0x00
#define VMM_VIRTIO_INPUT_CFG_ID_NAME 0x01
#define VMM_VIRTIO_INPUT_CFG_ID_SERIAL 0x02
#define VMM_VIRTIO_INPUT_CFG_ID_DEVIDS 0x03
#define VMM_VIRTIO_INPUT_CFG_PROP_BITS 0x10
#define VMM_VIRTIO_INPUT_CFG_EV_BITS 0x11
#define VMM_VIRTIO_INPUT_CFG_ABS_INFO 0x12
/* select, subsel, size, reserved[5], u[128] */
#define VMM_VIRTIO_INPUT_CFG_DATA 8
#define VMM_VIRTIO_INPUT_CFG_SIZE (8 + 128)

/* The tablet's axes run 0..VMM_VIRTIO_INPUT_ABS_MAX. */
#define VMM_VIRTIO_INPUT_ABS_MAX 32767

/* Linux input event (little-endian on the wire; host order here, x86 is both). */
struct virtio_input_event {
	uint16_t type;
	uint16_t code;
	uint32_t value;
};

enum vmm_virtio_input_kind {
	VMM_VIRTIO_INPUT_KEYBOARD,
	VMM_VIRTIO_INPUT_TABLET,
};

struct vmm_virtio_input {
	struct vmm_virtio_pci vp; /* vp.lock guards everything below */
	enum vmm_virtio_input_kind kind;
	/* Current config selection, computed when select/subsel change. */
	uint8_t cfg[VMM_VIRTIO_INPUT_CFG_SIZE];
	/* Events not yet delivered: ring[(head + i) % RING] for i < count. */
	struct virtio_input_event ring[VMM_VIRTIO_INPUT_RING];
	unsigned int head, count;
	bool drop_logged;
	uint64_t dropped;
	unsigned int leds; /* bit n: LED n (LED_NUML 0, LED_CAPSL 1, ...) as the guest set it */
	/* Tablet state, to send only what changed. */
	bool pos_valid;
	unsigned int x, y, buttons;
	struct vmm_vq_chain chain; /* scratch for popping */
};

/*
 * A keyboard or tablet on guest RAM @mem (kept). Returns 0 and the device
 * in *@ret, or -ENOMEM/-EINVAL. Plug vmm_virtio_input_pci(*ret) into the
 * PCI bus. Before the guest runs.
 */
int vmm_virtio_input_new(const struct vmm_mem *mem, enum vmm_virtio_input_kind kind,
                         struct vmm_virtio_input **ret);

/* Free the device (off the bus, vCPUs stopped); NULL is a no-op. */
void vmm_virtio_input_free(struct vmm_virtio_input *vi);

/* The PCI function to add to the bus; owned by @vi. */
struct vmm_pci_dev *vmm_virtio_input_pci(struct vmm_virtio_input *vi);

/* System reset: back to power-on state, pending events dropped. Any thread. */
void vmm_virtio_input_reset(struct vmm_virtio_input *vi);

/*
 * Queue @n raw events (1..VMM_VIRTIO_INPUT_MAX_BATCH; the caller ends the
 * batch with EV_SYN/SYN_REPORT) and deliver what the guest has room for.
 * While no driver is ready (see vmm_virtio_input_ready()) events are
 * dropped: a driver that comes up later must not see stale keystrokes.
 * Returns 0 or -EINVAL. Any thread, typically the loop thread.
 */
int vmm_virtio_input_send(struct vmm_virtio_input *vi, const struct virtio_input_event *ev,
                          size_t n);

/*
 * Keyboard: press or release Linux key @linux_keycode (1..0x2ff) and
 * report. Returns 0, -EINVAL for a bad code, -EOPNOTSUPP on a tablet. Any
 * thread.
 */
int vmm_virtio_input_key(struct vmm_virtio_input *vi, unsigned int linux_keycode, bool down);

/*
 * Tablet: move to @x, @y (0..32767, clamped), with @buttons held (bit 0
 * left, 1 middle, 2 right, 3 side, 4 extra) and @wheel notches (positive
 * up). Only what changed since the last call is sent; nothing at all if
 * nothing changed. Returns 0 or -EOPNOTSUPP on a keyboard. Any thread.
 */
int vmm_virtio_input_abs(struct vmm_virtio_input *vi, unsigned int x, unsigned int y,
                         unsigned int buttons, int wheel);

/*
 * True once the guest driver set DRIVER_OK (and no reset is pending): the
 * input router sends keys here rather than to the i8042. Any thread.
 */
bool vmm_virtio_input_ready(struct vmm_virtio_input *vi);

/* LEDs the guest last set through the status queue (bit 1: caps lock). Any thread. */
unsigned int vmm_virtio_input_leds(struct vmm_virtio_input *vi);

#endif
