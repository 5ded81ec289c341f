// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/clipboard.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

char *viewer_latin1_to_utf8(const char *text, size_t len)
{
	char *out, *o;

	if (len > VIEWER_CLIPBOARD_MAX)
		return NULL;
	out = malloc(len * 2 + 1);
	if (!out)
		return NULL;
	o = out;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == 0 || (c == '\r' && i + 1 < len && text[i + 1] == '\n'))
			continue;
		if (c < 0x80) {
			*o++ = (char)c;
		} else {
			*o++ = (char)(0xc0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*o = '\0';
	return out;
}

/* Decode one UTF-8 sequence at @s (@n bytes left); its length, code point in *@cp, or 0 if bad. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t len;
	uint32_t v, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		len = 2;
		v = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		len = 3;
		v = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		len = 4;
		v = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (s[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return len;
}

char *viewer_utf8_to_latin1(const char *text, size_t *ret_len)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = strlen(text), i = 0;
	char *out, *o;

	if (n > VIEWER_CLIPBOARD_MAX)
		return NULL;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	o = out;
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(s + i, n - i, &cp);

		if (len == 0) {
			*o++ = '?';
			i++;
			continue;
		}
		i += len;
		if (cp == '\r' && i < n && s[i] == '\n')
			continue;
		*o++ = cp <= 0xff ? (char)cp : '?';
	}
	*o = '\0';
	*ret_len = (size_t)(o - out);
	return out;
}
