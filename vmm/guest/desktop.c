/* desktop.c - layout and drawing of the desktop, pointer and button handling. */
#include "desktop.h"

#include "display.h"
#include "font.h"
#include "gfx.h"
#include "guest.h"
#include "lib.h"
#include "rtc.h"
#include "serial.h"
#include "term.h"
#include "virtio_input.h"

#define TITLE_H 28
#define PAD 10
#define WIN_R 8
#define BTN_W 120
#define BTN_H 36
#define BTN_R 8
#define CAPTION_H 24
#define SHADOW 7
#define SHADOW_DROP 4
#define CLOCK_CHARS 16

#define BG_TOP RGB(0x4a, 0x64, 0x8c)
#define BG_BOTTOM RGB(0x1b, 0x25, 0x38)
#define COL_BAR RGB(0x1c, 0x20, 0x28)
#define COL_BAR_LINE RGB(0x2f, 0x35, 0x42)
#define COL_BAR_TEXT RGB(0xe5, 0xe9, 0xf0)
#define COL_ACCENT RGB(0x88, 0xc0, 0xd0)
#define COL_TITLE RGB(0x2e, 0x34, 0x40)
#define COL_TITLE_LINE RGB(0x23, 0x28, 0x31)
#define COL_TITLE_TEXT RGB(0xd8, 0xde, 0xe9)
#define COL_CAPTION RGB(0xe5, 0xe9, 0xf0)
#define COL_BTN_TEXT RGB(0xff, 0xff, 0xff)

struct rect {
	int x, y, w, h;
};

/* Flat colours the button steps through, one per click. */
static const uint32_t button_colors[] = {
	RGB(0x5e, 0x81, 0xac), RGB(0xbf, 0x61, 0x6a), RGB(0x4f, 0x8f, 0x6a),
	RGB(0xb4, 0x8e, 0xad), RGB(0xd0, 0x87, 0x70), RGB(0x3f, 0x8f, 0x9f),
};

static struct {
	bool have_display;
	int w, h;
	struct rect win, text, button, caption;
	int cols, rows;
	uint32_t bg_row[DISPLAY_MAX_H]; /* the gradient, one colour per scanline */
	char clock[CLOCK_CHARS + 1];
	unsigned clicks;
	bool pointer_seen;
	uint32_t px, pxr, py, pyr; /* last tablet position in device units */
	unsigned buttons;
} desk;

void desk_mode(uint32_t *w, uint32_t *h)
{
	*w = (uint32_t)desk.w;
	*h = (uint32_t)desk.h;
}

static uint32_t lerp(uint32_t a, uint32_t b, unsigned t)
{
	uint32_t r = (((a >> 16) & 0xff) * (256 - t) + ((b >> 16) & 0xff) * t) >> 8;
	uint32_t g = (((a >> 8) & 0xff) * (256 - t) + ((b >> 8) & 0xff) * t) >> 8;
	uint32_t bl = ((a & 0xff) * (256 - t) + (b & 0xff) * t) >> 8;

	return RGB(r, g, bl);
}

/*
 * Computed once per mode. A vertical gradient keeps every row one colour,
 * so repainting any block of background is a plain fill.
 */
static void compute_gradient(void)
{
	int y;

	for (y = 0; y < desk.h; y++)
		desk.bg_row[y] = lerp(BG_TOP, BG_BOTTOM, (unsigned)(y * 256 / desk.h));
}

void desk_bg_fill(int x, int y, int w, int h)
{
	int i;

	if (y < 0) {
		h += y;
		y = 0;
	}
	for (i = 0; i < h && y + i < desk.h; i++)
		gfx_fill(x, y + i, w, 1, desk.bg_row[y + i]);
}

/* Terminal window, button and caption for a w x h screen. */
static void layout(void)
{
	int margin = desk.w >= 1000 ? 40 : 16;
	int avail_w = desk.w - 2 * margin, avail_h = desk.h - DESK_BAR_H - 2 * margin;
	int win_w, win_h, below_h;
	bool side;

	desk.cols = MIN(TERM_COLS_MAX, MAX(8, (avail_w - 2 * PAD) / FONT_W));
	win_w = desk.cols * FONT_W + 2 * PAD;
	side = win_w + margin + BTN_W <= avail_w;
	below_h = side ? 0 : margin + BTN_H + CAPTION_H;
	desk.rows = MIN(TERM_ROWS_MAX, MAX(2, (avail_h - TITLE_H - 2 * PAD - below_h) / FONT_H));
	win_h = TITLE_H + desk.rows * FONT_H + 2 * PAD;

	if (side) {
		int group_w = win_w + margin + BTN_W;

		desk.win.x = (desk.w - group_w) / 2;
		desk.win.y = DESK_BAR_H + MAX(margin, (desk.h - DESK_BAR_H - win_h) / 2);
		desk.button.x = desk.win.x + win_w + margin;
		desk.button.y = desk.win.y + TITLE_H + PAD;
	} else {
		int group_h = win_h + margin + BTN_H + CAPTION_H;

		desk.win.x = (desk.w - win_w) / 2;
		desk.win.y = DESK_BAR_H + MAX(margin, (desk.h - DESK_BAR_H - group_h) / 2);
		desk.button.x = (desk.w - BTN_W) / 2;
		desk.button.y = desk.win.y + win_h + margin;
	}
	desk.win.w = win_w;
	desk.win.h = win_h;
	desk.text = (struct rect){ desk.win.x + PAD, desk.win.y + TITLE_H + PAD, desk.cols * FONT_W,
		                   desk.rows * FONT_H };
	desk.button.w = BTN_W;
	desk.button.h = BTN_H;
	desk.caption = (struct rect){ desk.button.x - 20, desk.button.y + BTN_H + 4, BTN_W + 40,
		                      CAPTION_H };
}

/* Whole screen except the window's straight-sided middle, which the window covers. */
static void draw_background(const struct rect *skip)
{
	int y;

	for (y = DESK_BAR_H; y < desk.h; y++) {
		uint32_t c = desk.bg_row[y];

		if (skip && y >= skip->y && y < skip->y + skip->h) {
			gfx_fill(0, y, skip->x, 1, c);
			gfx_fill(skip->x + skip->w, y, desk.w - skip->x - skip->w, 1, c);
		} else {
			gfx_fill(0, y, desk.w, 1, c);
		}
	}
}

static unsigned shadow_alpha(int d)
{
	return d > SHADOW ? 0 : (unsigned)(64 * (SHADOW + 1 - d) / (SHADOW + 1));
}

/* A soft drop shadow on the left, right and bottom of r, drawn before r. */
static void draw_shadow(struct rect r)
{
	int bottom = r.y + r.h - 1;
	int y, d;

	for (y = r.y + SHADOW_DROP; y <= bottom + SHADOW; y++) {
		int dv = MAX(0, y - bottom);
		uint32_t bg = desk.bg_row[MIN(y, desk.h - 1)];

		for (d = 1; d <= SHADOW; d++) {
			uint32_t c = gfx_darken(bg, shadow_alpha(MAX(d, dv)));

			gfx_fill(r.x - d, y, 1, 1, c);
			gfx_fill(r.x + r.w - 1 + d, y, 1, 1, c);
		}
		/* Under the rounded bottom corners too, so the cut-outs show shadow. */
		if (dv > 0 || y > bottom - WIN_R)
			gfx_fill(r.x, y, r.w, 1, gfx_darken(bg, shadow_alpha(MAX(dv, 1))));
	}
}

static void draw_clock(bool force)
{
	struct rtc_time t;
	char buf[CLOCK_CHARS + 8];

	rtc_read(&t);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d", t.year, t.mon, t.day, t.hour, t.min);
	buf[CLOCK_CHARS] = '\0';
	/* A still screen stays still: pixels change only with the minute. */
	if (!force && strcmp(buf, desk.clock) == 0)
		return;
	memcpy(desk.clock, buf, sizeof(desk.clock));
	gfx_text(desk.w - 14 - CLOCK_CHARS * FONT_W, (DESK_BAR_H - FONT_H) / 2, desk.clock,
	         COL_BAR_TEXT, COL_BAR, true);
}

static void draw_bar(const char *label)
{
	int ty = (DESK_BAR_H - FONT_H) / 2;

	gfx_fill(0, 0, desk.w, DESK_BAR_H - 1, COL_BAR);
	gfx_fill(0, DESK_BAR_H - 1, desk.w, 1, COL_BAR_LINE);
	gfx_fill_circle(20, DESK_BAR_H / 2, 5, COL_ACCENT);
	gfx_text(34, ty, guest.name, COL_BAR_TEXT, COL_BAR, true);
	if (label)
		gfx_text(desk.w - 14 - (int)strlen(label) * FONT_W, ty, label, COL_BAR_TEXT,
		         COL_BAR, true);
	else
		draw_clock(true);
}

static void draw_window(void)
{
	struct rect w = desk.win;
	char title[64];
	int tw;

	draw_shadow(w);
	gfx_fill_round(w.x, w.y, w.w, TITLE_H, WIN_R, GFX_ROUND_TOP, COL_TITLE);
	gfx_fill(w.x, w.y + TITLE_H - 1, w.w, 1, COL_TITLE_LINE);
	gfx_fill_round(w.x, w.y + TITLE_H, w.w, w.h - TITLE_H, WIN_R, GFX_ROUND_BOTTOM, TERM_BG);
	gfx_fill_circle(w.x + 18, w.y + TITLE_H / 2, 6, RGB(0xec, 0x6a, 0x5e));
	gfx_fill_circle(w.x + 38, w.y + TITLE_H / 2, 6, RGB(0xf4, 0xbf, 0x4f));
	gfx_fill_circle(w.x + 58, w.y + TITLE_H / 2, 6, RGB(0x61, 0xc5, 0x54));
	snprintf(title, sizeof(title), "Terminal " FONT_EMDASH " %s", guest.name);
	tw = (int)strlen(title) * FONT_W;
	gfx_text(w.x + MAX(72, (w.w - tw) / 2), w.y + (TITLE_H - FONT_H) / 2, title, COL_TITLE_TEXT,
	         COL_TITLE, false);
}

static void draw_button(void)
{
	struct rect b = desk.button;
	char caption[32];
	int cw;

	gfx_fill_round(b.x, b.y, b.w, b.h, BTN_R, GFX_ROUND_ALL,
	               button_colors[desk.clicks % ARRAY_SIZE(button_colors)]);
	gfx_text(b.x + (b.w - 8 * FONT_W) / 2, b.y + (b.h - FONT_H) / 2, "Click me", COL_BTN_TEXT,
	         0, false);

	if (desk.clicks == 0)
		snprintf(caption, sizeof(caption), "not clicked yet");
	else
		snprintf(caption, sizeof(caption), "clicked %u time%s", desk.clicks,
		         desk.clicks == 1 ? "" : "s");
	cw = (int)strlen(caption) * FONT_W;
	desk_bg_fill(desk.caption.x, desk.caption.y, desk.caption.w, desk.caption.h);
	gfx_text(desk.caption.x + (desk.caption.w - cw) / 2, desk.caption.y + 4, caption,
	         COL_CAPTION, 0, false);
}

static int pointer_coord(uint32_t v, uint32_t range, int size)
{
	/*
	 * The axis range maps onto pixels 0..size-1, the convention of Linux
	 * input drivers and of QEMU's tablet; rounded, so a client's pixel
	 * comes back as the same pixel.
	 */
	uint64_t p = ((uint64_t)v * (uint32_t)(size - 1) + range / 2) / (range ? range : 1);

	return (int)MIN(p, (uint64_t)size - 1);
}

static void place_pointer(void)
{
	if (!desk.have_display || !vinput_have_tablet())
		return;
	if (desk.pointer_seen)
		gfx_cursor_move(pointer_coord(desk.px, desk.pxr, desk.w),
		                pointer_coord(desk.py, desk.pyr, desk.h));
	else
		gfx_cursor_move(desk.w / 2, desk.h / 2);
}

static bool set_mode(uint32_t w, uint32_t h)
{
	struct display_mode m;

	if (display_set_mode(w, h, &m) != 0) {
		desk.have_display = false;
		desk.w = desk.h = 0;
		return false;
	}
	desk.have_display = true;
	desk.w = (int)m.width;
	desk.h = (int)MIN(m.height, DISPLAY_MAX_H);
	gfx_setup(m.fb, desk.w, desk.h, (int)m.pitch);
	compute_gradient();
	return true;
}

int desk_set_mode(uint32_t w, uint32_t h)
{
	struct rect skip;

	if (!set_mode(w, h)) {
		term_set_area(0, 0, TERM_COLS_MAX, TERM_ROWS_MAX);
		return -ENODEV;
	}
	layout();
	skip = (struct rect){ desk.win.x, desk.win.y + WIN_R, desk.win.w, desk.win.h - 2 * WIN_R };
	draw_background(&skip);
	draw_bar(NULL);
	draw_window();
	term_set_area(desk.text.x, desk.text.y, desk.cols, desk.rows);
	term_redraw();
	draw_button();
	place_pointer();
	/* Tests find the terminal and the button from this line, whatever the mode. */
	serial_log("desktop: layout terminal=%d,%d,%d,%d text=%d,%d,%d,%d button=%d,%d,%d,%d",
	           desk.win.x, desk.win.y, desk.win.w, desk.win.h, desk.text.x, desk.text.y,
	           desk.cols * FONT_W, desk.rows * FONT_H, desk.button.x, desk.button.y,
	           desk.button.w, desk.button.h);
	return 0;
}

int desk_set_mode_bench(uint32_t w, uint32_t h, const char *label)
{
	if (!set_mode(w, h))
		return -ENODEV;
	draw_background(NULL);
	draw_bar(label);
	return 0;
}

void desk_tick(void)
{
	uint32_t w, h;

	if (!rtc_take_ticks())
		return;
	if (desk.have_display)
		draw_clock(false);
	if (display_edid_poll(&w, &h)) {
		serial_log("display: EDID asks for %ux%u", w, h);
		desk_set_mode(w, h);
	}
}

static bool in_rect(const struct rect *r, int x, int y)
{
	return x >= r->x && x < r->x + r->w && y >= r->y && y < r->y + r->h;
}

void desk_pointer(uint32_t x, uint32_t xrange, uint32_t y, uint32_t yrange, unsigned buttons)
{
	unsigned pressed = buttons & ~desk.buttons;
	int px, py;
	unsigned b;

	desk.px = x;
	desk.pxr = xrange;
	desk.py = y;
	desk.pyr = yrange;
	desk.pointer_seen = true;
	desk.buttons = buttons;
	if (!desk.have_display)
		return;
	px = pointer_coord(x, xrange, desk.w);
	py = pointer_coord(y, yrange, desk.h);
	gfx_cursor_move(px, py);

	for (b = 0; b < 3; b++) {
		if (!(pressed & (1u << b)))
			continue;
		serial_log("pointer: press button=%u x=%d y=%d", b + 1, px, py);
		if (b == 0 && in_rect(&desk.button, px, py)) {
			desk.clicks++;
			draw_button();
			serial_log("button: clicked count=%u", desk.clicks);
		}
	}
}
