/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Keys: one table, generated from proto/keymap.csv, relating a key's name,
 * its Linux input code (what virtio-input carries), its PC "XT" scan code
 * (set 1, 0xe0XX for E0-prefixed keys: what the i8042, SPICE and QEMU's
 * extended key event carry) and its X11 keysyms on a US layout (what VNC
 * carries). Lookups never fail silently: NULL means "no such key".
 */
#ifndef VDI_PROTO_KEYMAP_H
#define VDI_PROTO_KEYMAP_H

#include <stdbool.h>
#include <stdint.h>

struct proto_key {
	const char *name;        /* "a", "ret", "ctrl", ... */
	uint16_t evdev;          /* KEY_* */
	uint16_t xt;             /* set-1 scan code, 0xe0XX when E0-prefixed */
	uint32_t keysym;         /* US layout, no modifiers */
	uint32_t keysym_shifted; /* with shift; 0 if the same key has no shifted symbol */
	uint32_t keysym_alt;     /* another symbol of the same key, or 0 */
};

extern const struct proto_key proto_keys[];
extern const unsigned int proto_nr_keys;

/* The key named @name (send-key's names), or NULL. */
const struct proto_key *proto_key_by_name(const char *name);

/* The key with Linux input code @code, or NULL. */
const struct proto_key *proto_key_by_evdev(unsigned int code);

/* The key with set-1 scan code @xt (0xe0XX for extended keys), or NULL. */
const struct proto_key *proto_key_by_xt(unsigned int xt);

/*
 * The key that produces X11 keysym @keysym on a US layout, or NULL. Letters
 * match either case. *@ret_shifted (if not NULL) tells whether the keysym is
 * the key's shifted symbol, for servers that must synthesise shift.
 */
const struct proto_key *proto_key_by_keysym(uint32_t keysym, bool *ret_shifted);

#endif
