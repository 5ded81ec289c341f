/* bench.c - the deterministic benchmark frame sequence. */
#include "bench.h"

#include "desktop.h"
#include "font.h"
#include "gfx.h"
#include "lib.h"
#include "serial.h"

#define TEXT_W 640
#define TEXT_H 160
#define WIN_W 300
#define WIN_H 200
#define WIN_TITLE_H 24
#define WIN_DX 12
#define WIN_DY 7
#define PHOTO_W 256
#define PHOTO_H 256

#define COL_TEXT_BG RGB(0x1f, 0x23, 0x2b)
#define COL_TEXT RGB(0xd8, 0xde, 0xe9)
#define COL_NUMBER RGB(0x88, 0xc0, 0xd0)
#define COL_WIN_TITLE RGB(0x2e, 0x34, 0x40)
#define COL_WIN_BODY RGB(0xec, 0xef, 0xf4)
#define COL_WIN_BORDER RGB(0x4c, 0x56, 0x6a)
#define COL_WIN_INK RGB(0x2e, 0x34, 0x40)

struct rect {
	int x, y, w, h;
};

static uint32_t xorshift(uint32_t *s)
{
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *s = x;
}

/* Phase 1: a text region scrolls by one line per frame. */
static void text_frame(struct rect r, unsigned line)
{
	static const char *const words[] = {
		"desktop", "virtual", "frame",  "pixel", "damage",  "tile",   "encode",
		"client",  "server",  "vnc",    "spice", "kvm",     "guest",  "scroll",
		"update",  "buffer",  "region", "bench", "latency", "socket", "display",
	};
	uint32_t seed = 0x9e3779b9u ^ (line * 0x85ebca6bu);
	char buf[TEXT_W / FONT_W + 1];
	int n, cols = r.w / FONT_W, y = r.y + r.h - FONT_H;

	n = snprintf(buf, sizeof(buf), "%04u ", line);
	while (n < cols) {
		const char *w = words[xorshift(&seed) % ARRAY_SIZE(words)];
		int len = (int)strlen(w);

		if (n + len + 1 > cols)
			break;
		memcpy(buf + n, w, (size_t)len);
		buf[n + len] = ' ';
		n += len + 1;
	}
	buf[MIN(n, cols)] = '\0';

	gfx_copy(r.x, r.y, r.x, r.y + FONT_H, r.w, r.h - FONT_H);
	gfx_fill(r.x, y, r.w, FONT_H, COL_TEXT_BG);
	buf[4] = '\0';
	gfx_text(r.x, y, buf, COL_NUMBER, COL_TEXT_BG, true);
	buf[4] = ' ';
	gfx_text(r.x + 4 * FONT_W, y, buf + 4, COL_TEXT, COL_TEXT_BG, true);
}

/* Background wherever the old window was and the new one is not. */
static void restore_exposed(struct rect o, struct rect n)
{
	int my0 = MAX(o.y, n.y), my1 = MIN(o.y + o.h, n.y + n.h);

	if (my1 <= my0 || o.x + o.w <= n.x || n.x + n.w <= o.x) {
		desk_bg_fill(o.x, o.y, o.w, o.h);
		return;
	}
	if (n.y > o.y)
		desk_bg_fill(o.x, o.y, o.w, my0 - o.y);
	if (o.y + o.h > my1)
		desk_bg_fill(o.x, my1, o.w, o.y + o.h - my1);
	if (n.x > o.x)
		desk_bg_fill(o.x, my0, n.x - o.x, my1 - my0);
	if (o.x + o.w > n.x + n.w)
		desk_bg_fill(n.x + n.w, my0, o.x + o.w - n.x - n.w, my1 - my0);
}

static void draw_window(struct rect r, unsigned frame)
{
	char line[40];

	gfx_fill(r.x, r.y, r.w, WIN_TITLE_H, COL_WIN_TITLE);
	gfx_text(r.x + 10, r.y + (WIN_TITLE_H - FONT_H) / 2, "Window", COL_TEXT, COL_WIN_TITLE,
	         true);
	gfx_fill(r.x, r.y + WIN_TITLE_H, r.w, r.h - WIN_TITLE_H - 1, COL_WIN_BODY);
	gfx_fill(r.x, r.y + r.h - 1, r.w, 1, COL_WIN_BORDER);
	gfx_fill(r.x, r.y + WIN_TITLE_H, 1, r.h - WIN_TITLE_H, COL_WIN_BORDER);
	gfx_fill(r.x + r.w - 1, r.y + WIN_TITLE_H, 1, r.h - WIN_TITLE_H, COL_WIN_BORDER);
	snprintf(line, sizeof(line), "frame %u", frame);
	gfx_text(r.x + 16, r.y + WIN_TITLE_H + 16, line, COL_WIN_INK, 0, false);
	snprintf(line, sizeof(line), "at %d,%d", r.x, r.y);
	gfx_text(r.x + 16, r.y + WIN_TITLE_H + 40, line, COL_WIN_INK, 0, false);
}

/* Phase 2: the window moves one step, bouncing off the screen edges. */
static struct rect window_step(struct rect r, int *dx, int *dy, int w, int h)
{
	struct rect n = r;

	if (n.x + *dx < 8 || n.x + n.w + *dx > w - 8)
		*dx = -*dx;
	if (n.y + *dy < DESK_BAR_H + 8 || n.y + n.h + *dy > h - 8)
		*dy = -*dy;
	n.x += *dx;
	n.y += *dy;
	n.x = MIN(MAX(n.x, 0), MAX(0, w - n.w));
	n.y = MIN(MAX(n.y, DESK_BAR_H), MAX(DESK_BAR_H, h - n.h));
	return n;
}

static unsigned tri(unsigned v)
{
	v &= 511;
	return v < 256 ? v : 511 - v;
}

/*
 * Phase 3: smooth colour fields drifting per frame with film-grain noise.
 * Guests here retire a few million instructions a second, so pixels are
 * made two at a time in 64-bit words from per-frame channel tables, and
 * one xorshift step yields the grain for eight pixels.
 */
static void photo_frame(struct rect r, unsigned frame)
{
	uint32_t *p = gfx_lock(r.x, r.y, r.w & ~1, r.h);
	uint32_t seed = 0x2545f491u ^ (frame * 0x9e3779b9u);
	uint64_t red[PHOTO_W / 2], blue[PHOTO_W + PHOTO_H];
	uint32_t one[PHOTO_W + PHOTO_H + 1];
	int x, y, pairs = r.w / 2;

	if (!p)
		return;
	for (x = 0; x < 2 * pairs; x += 2)
		red[x / 2] = (uint64_t)(24 + tri((unsigned)x + 1 + frame * 5) * 200 / 255) << 48 |
		             (uint64_t)(24 + tri((unsigned)x + frame * 5) * 200 / 255) << 16;
	for (x = 0; x <= r.w + r.h; x++)
		one[x] = 24 + tri((unsigned)x / 2 + 128 + frame * 3) * 200 / 255;
	for (x = 0; x < r.w + r.h; x++)
		blue[x] = (uint64_t)one[x + 1] << 32 | one[x];
	for (y = 0; y < r.h; y++, p += gfx.pitch) {
		uint64_t green = (24 + tri((unsigned)y * 2 + frame * 7) * 200 / 255) << 8;
		uint64_t *row = (uint64_t *)(void *)p;
		const uint64_t *b = blue + y;
		uint32_t grain = 0;

		green |= green << 32;
		/* No channel exceeds 239, so adding grain (< 16) never carries. */
		for (x = 0; x < pairs; x++) {
			uint64_t g;

			if (!(x & 3))
				grain = xorshift(&seed);
			g = (grain & 0xf) | (uint64_t)(grain & 0xf0) << 28;
			grain >>= 8;
			row[x] = (red[x] | green | b[2 * x]) + g * 0x010101u;
		}
	}
}

/*
 * The frame marker: frame number @n as 16 cells of BENCH_MARK_CELL pixels
 * square along the top-left corner, most significant bit first, white for
 * 1 and black for 0. Drawn last in each frame, so a client that sees the
 * marker of frame N has (nearly) all of frame N; display benchmarks time
 * from the "frame N" serial line to that moment.
 */
static void draw_marker(uint32_t n)
{
	for (int bit = 0; bit < BENCH_MARK_BITS; bit++) {
		bool one = (n >> (BENCH_MARK_BITS - 1 - bit)) & 1;

		gfx_fill(bit * BENCH_MARK_CELL, 0, BENCH_MARK_CELL, BENCH_MARK_CELL,
		         one ? RGB(0xff, 0xff, 0xff) : RGB(0, 0, 0));
	}
}

void bench_run(uint32_t w, uint32_t h, uint32_t frames)
{
	struct rect text, win, photo, shown = { 0, 0, 0, 0 };
	uint32_t p1 = (frames + 2) / 3, p2 = (frames + 1) / 3;
	int sw, sh, dx = WIN_DX, dy = WIN_DY;
	uint32_t n;

	if (desk_set_mode_bench(w, h, "benchmark") == 0) {
		sw = gfx.w;
		sh = gfx.h;
	} else {
		sw = sh = 0;
	}
	serial_log("desktop: ready %dx%d", sw, sh);
	serial_log("bench: start frames=%u", frames);

	text.w = MIN(TEXT_W, sw - 32) / FONT_W * FONT_W;
	text.h = MIN(TEXT_H, sh - DESK_BAR_H - 32) / FONT_H * FONT_H;
	text.x = (sw - text.w) / 2;
	text.y = DESK_BAR_H + 24;
	win = (struct rect){ 16, DESK_BAR_H + 16, MIN(WIN_W, sw - 32), MIN(WIN_H, sh / 2) };
	photo.w = MIN(PHOTO_W, sw - 32);
	photo.h = MIN(PHOTO_H, sh - DESK_BAR_H - 32);
	photo.x = (sw - photo.w) / 2;
	photo.y = DESK_BAR_H + (sh - DESK_BAR_H - photo.h) / 2;

	for (n = 1; n <= frames; n++) {
		if (n <= p1) {
			if (n == 1) {
				gfx_fill(text.x, text.y, text.w, text.h, COL_TEXT_BG);
				shown = text;
			}
			text_frame(text, n);
		} else if (n <= p1 + p2) {
			struct rect next = n == p1 + 1 ? win : window_step(win, &dx, &dy, sw, sh);

			if (n == p1 + 1)
				desk_bg_fill(shown.x, shown.y, shown.w, shown.h);
			else
				restore_exposed(win, next);
			win = next;
			draw_window(win, n);
			shown = win;
		} else {
			if (n == p1 + p2 + 1)
				desk_bg_fill(shown.x, shown.y, shown.w, shown.h);
			photo_frame(photo, n);
			shown = photo;
		}
		draw_marker(n);
		serial_log("frame %u", n);
	}
	serial_log("bench: done");
}
