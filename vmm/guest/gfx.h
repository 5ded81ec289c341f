/*
 * gfx.h - drawing on the 32 bpp linear framebuffer, and the software
 * pointer.
 *
 * All primitives clip to the screen and do nothing without a framebuffer.
 * The pointer is kept out of the way automatically: a primitive touching
 * its box first restores the pixels under it, and gfx_cursor_show() puts
 * it back once a batch of drawing is done.
 */
#ifndef GUEST_GFX_H
#define GUEST_GFX_H

#include <stdbool.h>
#include <stdint.h>

#define RGB(r, g, b) ((uint32_t)(r) << 16 | (uint32_t)(g) << 8 | (uint32_t)(b))

#define GFX_ROUND_TOP 1
#define GFX_ROUND_BOTTOM 2
#define GFX_ROUND_ALL 3

struct gfx_screen {
	uint32_t *fb;
	int w, h;
	int pitch; /* pixels per row */
};

extern struct gfx_screen gfx;

/* Start drawing on a (new) framebuffer; the pointer is considered not drawn. */
void gfx_setup(uint32_t *fb, int w, int h, int pitch);

void gfx_fill(int x, int y, int w, int h, uint32_t c);

/* Filled rectangle with corners of radius r rounded as corners selects. */
void gfx_fill_round(int x, int y, int w, int h, int r, unsigned corners, uint32_t c);

/* Filled circle of radius r centred between pixels cx-1 and cx. */
void gfx_fill_circle(int cx, int cy, int r, uint32_t c);

/*
 * Move a w x h block from (sx, sy) to (dx, dy) in the framebuffer, for
 * scrolling. Vertical overlap is fine; both blocks must be on screen.
 */
void gfx_copy(int dx, int dy, int sx, int sy, int w, int h);

/* One character cell; opaque draws the background, otherwise only ink. */
void gfx_glyph(int x, int y, unsigned char ch, uint32_t fg, uint32_t bg, bool opaque);

/* A string of cells from (x, y); returns the x after the last one. */
int gfx_text(int x, int y, const char *s, uint32_t fg, uint32_t bg, bool opaque);

/*
 * Direct access to a block the caller will write itself: returns the
 * address of pixel (x, y) with the pointer moved out of the way, or NULL
 * when the block is not wholly on screen.
 */
uint32_t *gfx_lock(int x, int y, int w, int h);

/* Place the pointer's hot spot at (x, y) and show it. */
void gfx_cursor_move(int x, int y);

/* Draw the pointer again if drawing had hidden it. */
void gfx_cursor_show(void);

/* Blend c towards black by alpha/256. */
static inline uint32_t gfx_darken(uint32_t c, unsigned alpha)
{
	unsigned k = 256 - alpha;

	return RGB(((c >> 16) & 0xff) * k >> 8, ((c >> 8) & 0xff) * k >> 8, (c & 0xff) * k >> 8);
}

#endif
