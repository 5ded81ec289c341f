// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/hotkey.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto/keymap.h"
#include "viewer/keymap.h"

static const struct {
	const char *name;
	unsigned int mod;
} modifier_names[] = {
	{ "ctrl", VIEWER_MOD_CTRL },   { "control", VIEWER_MOD_CTRL }, { "alt", VIEWER_MOD_ALT },
	{ "shift", VIEWER_MOD_SHIFT }, { "super", VIEWER_MOD_SUPER },  { "win", VIEWER_MOD_SUPER },
	{ "meta", VIEWER_MOD_SUPER },
};

/* Names people (and GTK accelerators) use for keys whose proto name differs. */
static const struct {
	const char *alias;
	const char *name;
} key_aliases[] = {
	{ "del", "delete" },     { "escape", "esc" },         { "return", "ret" },
	{ "enter", "ret" },      { "space", "spc" },          { "pageup", "pgup" },
	{ "page_up", "pgup" },   { "prior", "pgup" },         { "pagedown", "pgdn" },
	{ "page_down", "pgdn" }, { "next", "pgdn" },          { "ins", "insert" },
	{ "print", "sysrq" },    { "backtab", "tab" },        { "bksp", "backspace" },
	{ "period", "dot" },     { "grave", "grave_accent" },
};

static unsigned int modifier_by_name(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof(modifier_names) / sizeof(modifier_names[0]); i++)
		if (strlen(modifier_names[i].name) == n &&
		    strncasecmp(modifier_names[i].name, s, n) == 0)
			return modifier_names[i].mod;
	return 0;
}

static unsigned int key_by_name(const char *s, size_t n)
{
	char name[32];
	const struct proto_key *k;

	if (n == 0 || n >= sizeof(name))
		return 0;
	for (size_t i = 0; i < n; i++)
		name[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
	name[n] = '\0';
	for (size_t i = 0; i < sizeof(key_aliases) / sizeof(key_aliases[0]); i++)
		if (strcmp(name, key_aliases[i].alias) == 0)
			snprintf(name, sizeof(name), "%s", key_aliases[i].name);
	k = proto_key_by_name(name);
	/* Modifier keys are written as modifiers, not as the key. */
	if (!k || viewer_key_mod_bit(k->evdev))
		return 0;
	return k->evdev;
}

int viewer_hotkey_parse(const char *s, struct viewer_hotkey *ret)
{
	struct viewer_hotkey hk = { 0, 0 };
	const char *p = s;

	if (!s || !*s || strlen(s) > VIEWER_HOTKEY_MAX_LEN)
		return -EINVAL;
	for (;;) {
		const char *plus = strchr(p, '+');
		size_t n = plus ? (size_t)(plus - p) : strlen(p);
		unsigned int mod = modifier_by_name(p, n), key;

		if (n == 0)
			return -EINVAL;
		if (mod) {
			if (hk.mods & mod)
				return -EINVAL;
			hk.mods |= mod;
		} else {
			key = key_by_name(p, n);
			if (!key || hk.evdev)
				return -EINVAL;
			hk.evdev = key;
		}
		if (!plus)
			break;
		p = plus + 1;
	}
	*ret = hk;
	return 0;
}

char *viewer_hotkey_describe(const struct viewer_hotkey *hk, char *out, size_t size)
{
	static const char *const mod_text[] = { "Ctrl", "Alt", "Shift", "Super" };
	size_t len = 0;

	out[0] = '\0';
	for (unsigned int i = 0; i < 4; i++)
		if (hk->mods & (1u << i))
			len += (size_t)snprintf(out + len, len < size ? size - len : 0, "%s%s",
			                        len ? "+" : "", mod_text[i]);
	if (hk->evdev) {
		const struct proto_key *k = proto_key_by_evdev(hk->evdev);
		char name[32];

		snprintf(name, sizeof(name), "%s", k ? k->name : "?");
		if (name[0] >= 'a' && name[0] <= 'z')
			name[0] = (char)(name[0] - 'a' + 'A');
		snprintf(out + (len < size ? len : size - 1), len < size ? size - len : 1, "%s%s",
		         len ? "+" : "", name);
	}
	return out;
}

bool viewer_hotkey_match(const struct viewer_hotkey *hk, unsigned int mods, unsigned int evdev)
{
	return hk->evdev && hk->evdev == evdev && hk->mods == mods;
}

bool viewer_chord_feed(struct viewer_chord *c, const struct viewer_hotkey *hk, unsigned int mods,
                       unsigned int evdev, bool down)
{
	bool is_mod = viewer_key_mod_bit(evdev) != 0;

	if (hk->evdev || !hk->mods)
		return false;
	if (down) {
		if (!is_mod)
			c->armed = false; /* a real key joined in: Ctrl+Alt+Del, not a release */
		else if (mods == hk->mods)
			c->armed = true;
		else if ((mods & ~hk->mods) != 0)
			c->armed = false;
		return false;
	}
	if (c->armed && is_mod && (mods & hk->mods) != hk->mods) {
		c->armed = false;
		return true;
	}
	return false;
}
