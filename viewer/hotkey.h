/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hotkeys the viewer keeps for itself, written as remote-viewer writes them
 * in .vv files and --hotkeys: modifiers and at most one key joined by '+',
 * case-insensitive, e.g. "ctrl+alt+end", "shift+f11", "ctrl+alt".
 *
 * A hotkey with a key fires when that key goes down with exactly the
 * hotkey's modifiers held. A hotkey of modifiers only ("ctrl+alt") fires
 * when they were all held together and one is released, with no other key
 * pressed in between, so Ctrl+Alt+Del still reaches the guest.
 *
 * Pure functions; any thread.
 */
#ifndef VDI_VIEWER_HOTKEY_H
#define VDI_VIEWER_HOTKEY_H

#include <stdbool.h>
#include <stddef.h>

#define VIEWER_HOTKEY_MAX_LEN 64 /* characters of a hotkey we parse */

struct viewer_hotkey {
	unsigned int mods;  /* VIEWER_MOD_* */
	unsigned int evdev; /* the key's Linux code; 0: modifiers only */
};

/*
 * Parse @s into *@ret (written only on success). Returns 0, or -EINVAL for
 * an empty or unknown part, a repeated modifier, two keys, no part at all
 * or more than VIEWER_HOTKEY_MAX_LEN characters.
 */
int viewer_hotkey_parse(const char *s, struct viewer_hotkey *ret);

/* Write @hk for people ("Ctrl+Alt+End") into @out; returns @out. */
char *viewer_hotkey_describe(const struct viewer_hotkey *hk, char *out, size_t size);

/* Whether @evdev going down with modifiers @mods held fires @hk (which has a key). */
bool viewer_hotkey_match(const struct viewer_hotkey *hk, unsigned int mods, unsigned int evdev);

/* The state of a modifier-only hotkey between key events. */
struct viewer_chord {
	bool armed; /* all its modifiers are held and nothing else was pressed */
};

/*
 * Feed one key event to the modifier-only hotkey @hk: @evdev went @down,
 * and @mods are the modifiers held after it. Returns true when the hotkey
 * fires (on the first release of one of its modifiers).
 */
bool viewer_chord_feed(struct viewer_chord *c, const struct viewer_hotkey *hk, unsigned int mods,
                       unsigned int evdev, bool down);

#endif
