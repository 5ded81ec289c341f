/* gfx.c - framebuffer primitives and the save-under software pointer. */
#include "gfx.h"

#include "font.h"
#include "lib.h"

#define CUR_W 12
#define CUR_H 19
#define CUR_INK RGB(0x10, 0x12, 0x16)
#define CUR_FILL RGB(0xff, 0xff, 0xff)

struct gfx_screen gfx;

/* 'X' outline, '.' fill, anything else transparent. */
static const char *const arrow[CUR_H] = {
	"X",           "XX",           "X.X",        "X..X",      "X...X",
	"X....X",      "X.....X",      "X......X",   "X.......X", "X........X",
	"X.........X", "X......XXXXX", "X...X..X",   "X..XX..X",  "X.X  X..X",
	"XX   X..X",   "X     X..X",   "      X..X", "       XX",
};

static struct {
	int x, y;
	bool enabled;
	bool shown;
	uint32_t save[CUR_H][CUR_W];
} cur;

static inline uint32_t *pixel(int x, int y)
{
	return gfx.fb + (long)y * gfx.pitch + x;
}

void gfx_setup(uint32_t *fb, int w, int h, int pitch)
{
	gfx.fb = fb;
	gfx.w = w;
	gfx.h = h;
	gfx.pitch = pitch;
	cur.shown = false;
}

static void cursor_restore(void)
{
	int r, c;

	for (r = 0; r < CUR_H && cur.y + r < gfx.h; r++)
		for (c = 0; c < CUR_W && cur.x + c < gfx.w; c++)
			*pixel(cur.x + c, cur.y + r) = cur.save[r][c];
	cur.shown = false;
}

void gfx_cursor_show(void)
{
	int r, c;

	if (!cur.enabled || cur.shown || !gfx.fb)
		return;
	for (r = 0; r < CUR_H && cur.y + r < gfx.h; r++) {
		const char *row = arrow[r];
		bool end = false;

		for (c = 0; c < CUR_W && cur.x + c < gfx.w; c++) {
			uint32_t *p = pixel(cur.x + c, cur.y + r);

			cur.save[r][c] = *p;
			end = end || !row[c];
			if (!end && row[c] == 'X')
				*p = CUR_INK;
			else if (!end && row[c] == '.')
				*p = CUR_FILL;
		}
	}
	cur.shown = true;
}

void gfx_cursor_move(int x, int y)
{
	x = MIN(MAX(x, 0), gfx.w - 1);
	y = MIN(MAX(y, 0), gfx.h - 1);
	if (cur.enabled && cur.shown && cur.x == x && cur.y == y)
		return;
	if (cur.shown)
		cursor_restore();
	cur.x = x;
	cur.y = y;
	cur.enabled = true;
	gfx_cursor_show();
}

/* Take the pointer off the screen if it overlaps the block about to change. */
static void guard(int x, int y, int w, int h)
{
	if (cur.shown && x < cur.x + CUR_W && cur.x < x + w && y < cur.y + CUR_H && cur.y < y + h)
		cursor_restore();
}

static bool clip(int *x, int *y, int *w, int *h)
{
	if (!gfx.fb)
		return false;
	if (*x < 0) {
		*w += *x;
		*x = 0;
	}
	if (*y < 0) {
		*h += *y;
		*y = 0;
	}
	if (*x + *w > gfx.w)
		*w = gfx.w - *x;
	if (*y + *h > gfx.h)
		*h = gfx.h - *y;
	return *w > 0 && *h > 0;
}

void gfx_fill(int x, int y, int w, int h, uint32_t c)
{
	uint32_t *row;

	if (!clip(&x, &y, &w, &h))
		return;
	guard(x, y, w, h);
	for (row = pixel(x, y); h > 0; h--, row += gfx.pitch)
		fill32(row, c, (size_t)w);
}

static int isqrt(int v)
{
	int r = 0;

	while ((r + 1) * (r + 1) <= v)
		r++;
	return r;
}

/*
 * Horizontal inset of row i (0 = outermost) of a corner of radius r,
 * measured at pixel centres, i.e. in half-pixel units.
 */
static int corner_inset(int r, int i)
{
	int dy2 = 2 * (r - i) - 1;

	return r - (isqrt(4 * r * r - dy2 * dy2) + 1) / 2;
}

void gfx_fill_round(int x, int y, int w, int h, int r, unsigned corners, uint32_t c)
{
	int i;

	r = MIN(r, MIN(w, h) / 2);
	for (i = 0; i < h; i++) {
		int in = 0;

		if ((corners & GFX_ROUND_TOP) && i < r)
			in = corner_inset(r, i);
		else if ((corners & GFX_ROUND_BOTTOM) && i >= h - r)
			in = corner_inset(r, h - 1 - i);
		gfx_fill(x + in, y + i, w - 2 * in, 1, c);
	}
}

void gfx_fill_circle(int cx, int cy, int r, uint32_t c)
{
	int i;

	for (i = 0; i < 2 * r; i++) {
		int dy2 = 2 * i + 1 - 2 * r;
		int half = (isqrt(4 * r * r - dy2 * dy2) + 1) / 2;

		gfx_fill(cx - half, cy - r + i, 2 * half, 1, c);
	}
}

void gfx_copy(int dx, int dy, int sx, int sy, int w, int h)
{
	int i;

	if (!gfx.fb || w <= 0 || h <= 0 || dx < 0 || dy < 0 || sx < 0 || sy < 0 || dx + w > gfx.w ||
	    sx + w > gfx.w || dy + h > gfx.h || sy + h > gfx.h)
		return;
	guard(sx, sy, w, h);
	guard(dx, dy, w, h);
	if (dy == sy) {
		for (i = 0; i < h; i++)
			memmove(pixel(dx, dy + i), pixel(sx, sy + i), (size_t)w * 4);
	} else if (dy < sy) {
		for (i = 0; i < h; i++)
			copy32(pixel(dx, dy + i), pixel(sx, sy + i), (size_t)w);
	} else {
		for (i = h - 1; i >= 0; i--)
			copy32(pixel(dx, dy + i), pixel(sx, sy + i), (size_t)w);
	}
}

void gfx_glyph(int x, int y, unsigned char ch, uint32_t fg, uint32_t bg, bool opaque)
{
	const uint8_t *g = font_glyph(ch);
	int r, c;

	if (!gfx.fb || x >= gfx.w || y >= gfx.h || x + FONT_W <= 0 || y + FONT_H <= 0)
		return;
	guard(x, y, FONT_W, FONT_H);
	if (x >= 0 && y >= 0 && x + FONT_W <= gfx.w && y + FONT_H <= gfx.h) {
		uint32_t *row = pixel(x, y);

		for (r = 0; r < FONT_H; r++, row += gfx.pitch) {
			unsigned bits = g[r];

			if (opaque) {
				for (c = 0; c < FONT_W; c++)
					row[c] = bits & (0x80u >> c) ? fg : bg;
			} else if (bits) {
				for (c = 0; c < FONT_W; c++)
					if (bits & (0x80u >> c))
						row[c] = fg;
			}
		}
		return;
	}
	/* Partly off screen: the slow path with a check per pixel. */
	for (r = 0; r < FONT_H; r++) {
		for (c = 0; c < FONT_W; c++) {
			int px = x + c, py = y + r;
			bool ink = g[r] & (0x80u >> c);

			if (px < 0 || py < 0 || px >= gfx.w || py >= gfx.h || (!ink && !opaque))
				continue;
			*pixel(px, py) = ink ? fg : bg;
		}
	}
}

int gfx_text(int x, int y, const char *s, uint32_t fg, uint32_t bg, bool opaque)
{
	for (; *s; s++, x += FONT_W)
		gfx_glyph(x, y, (unsigned char)*s, fg, bg, opaque);
	return x;
}

uint32_t *gfx_lock(int x, int y, int w, int h)
{
	if (!gfx.fb || x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > gfx.w || y + h > gfx.h)
		return NULL;
	guard(x, y, w, h);
	return pixel(x, y);
}
