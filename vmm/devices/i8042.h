/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The PS/2 controller (i8042) at ports 0x60 (data) and 0x64 (status and
 * command) with a keyboard on its first port and a minimal mouse on the
 * auxiliary port: the mouse answers every command Linux's psmouse sends
 * but never moves (pointing goes through virtio-tablet).
 *
 * The host presses keys as PC set-1 scan codes, which is what the guest
 * reads while the controller translates (command byte bit 6, on after
 * reset: command byte 0x45). A guest that turns translation off gets the
 * set-2 codes a real keyboard would send.
 *
 * Like the real controller, one byte at a time sits in the output buffer;
 * the next is loaded only after the guest read it, so each byte comes with
 * its own interrupt edge. Controller replies come first, then keyboard
 * replies, then key codes, then mouse bytes. Key codes wait in a bounded
 * queue (VMM_I8042_KEY_QUEUE bytes); a key that does not fit is dropped
 * whole (logged once), never split.
 */
#ifndef VDI_VMM_DEVICES_I8042_H
#define VDI_VMM_DEVICES_I8042_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/irq.h"

#define VMM_I8042_KEY_QUEUE 256

/* Command byte after reset: keyboard interrupt, system flag, translation. */
#define VMM_I8042_DEFAULT_CMD 0x45

struct vmm_i8042;

/*
 * A controller on ports 0x60 and 0x64 of @bus, interrupting on @kbd_irq
 * (keyboard bytes) and @aux_irq (mouse bytes). @reset_request(@opaque) is
 * called, on the vCPU thread and without the device lock, when the guest
 * pulses the CPU reset line (command 0xFE, or output port bit 0 cleared).
 * Returns 0 and the controller in *@ret, -ENOMEM, or the error of
 * vmm_bus_register(). Before the guest runs.
 */
int vmm_i8042_new(struct vmm_bus *bus, struct vmm_irq_line kbd_irq, struct vmm_irq_line aux_irq,
                  void (*reset_request)(void *opaque), void *opaque, struct vmm_i8042 **ret);

/*
 * Press (@down) or release key @xt: a set-1 scan code 0x01..0x7f, or
 * 0xe0XX for E0-prefixed keys (0xe046 is Pause, sent as its E1 sequence).
 * Dropped when the keyboard is not scanning or the queue is full; other
 * codes are ignored. Thread-safe, typically the loop thread.
 */
void vmm_i8042_key(struct vmm_i8042 *k, unsigned int xt, bool down);

/* Power-on state: command byte 0x45, queues emptied. Any thread. */
void vmm_i8042_reset(struct vmm_i8042 *k);

/* Unregister from the bus and free (vCPUs stopped); NULL is a no-op. */
void vmm_i8042_free(struct vmm_i8042 *k);

#endif
