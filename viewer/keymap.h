/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keys as the viewer sees them: SDL scancodes (USB HID usage IDs, the
 * physical key whatever the local layout) turned into proto/keymap's keys,
 * and from there into what each protocol carries: the PC scan code for
 * SPICE and QEMU's VNC extended key event, or an X11 keysym for plain VNC.
 *
 * One hand-written table maps SDL scancodes to Linux input codes (evdev);
 * proto/keymap relates those to scan codes and keysyms, so the numbers live
 * in one place. Pure functions; any thread.
 */
#ifndef VDI_VIEWER_KEYMAP_H
#define VDI_VIEWER_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/keymap.h"

/* Modifier bits, for hotkeys and keysym choice. Left and right keys count alike. */
enum {
	VIEWER_MOD_CTRL = 1u << 0,
	VIEWER_MOD_ALT = 1u << 1,
	VIEWER_MOD_SHIFT = 1u << 2,
	VIEWER_MOD_SUPER = 1u << 3,
};

/* The Linux input code (KEY_*) of SDL scancode @scancode, or 0 when it has none. */
unsigned int viewer_scancode_to_evdev(int scancode);

/* The proto key of SDL scancode @scancode, or NULL when the table has none. */
const struct proto_key *viewer_key_from_scancode(int scancode);

/* The VIEWER_MOD_* bit of the key with Linux code @evdev, or 0 for other keys. */
unsigned int viewer_key_mod_bit(unsigned int evdev);

/*
 * @k's scan code as QEMU's extended key event numbers it: the set-1 code,
 * with 0x80 or'ed in for E0-prefixed keys (0xe01d, right ctrl, is 0x9d).
 */
uint32_t viewer_key_qemu_code(const struct proto_key *k);

/*
 * @k's scan code as spice_inputs_channel_key_press() takes it: the set-1
 * code, with 0x100 or'ed in for E0-prefixed keys.
 */
unsigned int viewer_key_spice_code(const struct proto_key *k);

/*
 * The keysym to send for @k to a VNC server without extended key events,
 * on a US layout: the shifted symbol when @shift is held, letters in upper
 * case when exactly one of @shift and @caps_lock is on.
 */
uint32_t viewer_key_keysym(const struct proto_key *k, bool shift, bool caps_lock);

#endif
