/* font.h - 8x16 glyphs for ASCII 32..126, generated at build time by mkfont.py. */
#ifndef GUEST_FONT_H
#define GUEST_FONT_H

#include <stdint.h>

#define FONT_W 8
#define FONT_H 16
#define FONT_FIRST 32
#define FONT_GLYPHS 96

/* The table's last slot (DEL, never printed) holds an em dash. */
#define FONT_EMDASH "\x7f"

/* One byte per row, most significant bit leftmost. */
extern const uint8_t font_glyphs[FONT_GLYPHS][FONT_H];

/* Glyph for c; characters outside the table show as '?'. */
static inline const uint8_t *font_glyph(unsigned char c)
{
	if (c < FONT_FIRST || c >= FONT_FIRST + FONT_GLYPHS)
		c = '?';
	return font_glyphs[c - FONT_FIRST];
}

#endif
