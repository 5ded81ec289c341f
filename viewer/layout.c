// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/layout.h"

#include <stdint.h>

struct viewer_rect viewer_layout_fit(int fb_w, int fb_h, int out_w, int out_h)
{
	struct viewer_rect r = { 0, 0, 0, 0 };
	int64_t w, h;

	if (fb_w <= 0 || fb_h <= 0 || out_w <= 0 || out_h <= 0)
		return r;
	/* Compare out_w / fb_w with out_h / fb_h without rounding. */
	if ((int64_t)out_w * fb_h <= (int64_t)out_h * fb_w) {
		w = out_w;
		h = ((int64_t)fb_h * out_w + fb_w / 2) / fb_w;
	} else {
		h = out_h;
		w = ((int64_t)fb_w * out_h + fb_h / 2) / fb_h;
	}
	if (w < 1)
		w = 1;
	if (h < 1)
		h = 1;
	r.w = (int)w;
	r.h = (int)h;
	r.x = (out_w - r.w) / 2;
	r.y = (out_h - r.h) / 2;
	return r;
}

static int map_axis(int v, int origin, int extent, int fb, bool *inside)
{
	int64_t g;

	if (v < origin || v >= origin + extent)
		*inside = false;
	if (extent <= 0 || fb <= 0)
		return 0;
	if (v < origin)
		return 0;
	g = (int64_t)(v - origin) * fb / extent;
	return g >= fb ? fb - 1 : (int)g;
}

bool viewer_layout_to_guest(const struct viewer_rect *r, int fb_w, int fb_h, int x, int y, int *gx,
                            int *gy)
{
	bool inside = true;

	*gx = map_axis(x, r->x, r->w, fb_w, &inside);
	*gy = map_axis(y, r->y, r->h, fb_h, &inside);
	return inside;
}

void viewer_layout_window_size(int fb_w, int fb_h, int max_w, int max_h, int *w, int *h)
{
	struct viewer_rect r;

	if (fb_w <= max_w && fb_h <= max_h) {
		*w = fb_w;
		*h = fb_h;
		return;
	}
	r = viewer_layout_fit(fb_w, fb_h, max_w, max_h);
	*w = r.w;
	*h = r.h;
}
