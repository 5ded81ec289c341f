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

static int64_t area(const struct viewer_rect *r)
{
	return (int64_t)r->w * r->h;
}

static struct viewer_rect union_rect(const struct viewer_rect *a, const struct viewer_rect *b)
{
	int x0 = a->x < b->x ? a->x : b->x, y0 = a->y < b->y ? a->y : b->y;
	int x1 = a->x + a->w > b->x + b->w ? a->x + a->w : b->x + b->w;
	int y1 = a->y + a->h > b->y + b->h ? a->y + a->h : b->y + b->h;

	return (struct viewer_rect){ x0, y0, x1 - x0, y1 - y0 };
}

int viewer_layout_add_rect(struct viewer_rect *rects, int n, int max, struct viewer_rect r)
{
	if (r.w <= 0 || r.h <= 0)
		return n;
	for (;;) {
		int64_t best_cost = INT64_MAX;
		int best = -1;

		for (int i = 0; i < n; i++) {
			struct viewer_rect u = union_rect(&rects[i], &r);
			int64_t cost = area(&u) - area(&rects[i]) - area(&r);

			if (cost < best_cost) {
				best_cost = cost;
				best = i;
			}
		}
		if (best < 0 || (best_cost > 0 && n < max)) {
			rects[n] = r;
			return n + 1;
		}
		r = union_rect(&rects[best], &r);
		rects[best] = rects[--n];
	}
}

struct viewer_rect viewer_layout_scaled_rect(const struct viewer_rect *dst, int fb_w, int fb_h,
                                             const struct viewer_rect *c)
{
	int64_t x0, y0, x1, y1, mx, my;

	if (fb_w <= 0 || fb_h <= 0 || dst->w <= 0 || dst->h <= 0)
		return (struct viewer_rect){ dst->x, dst->y, 0, 0 };
	/* Bilinear scaling reads a source pixel into the output pixels within one step of it. */
	mx = dst->w / fb_w + 2;
	my = dst->h / fb_h + 2;
	x0 = (int64_t)c->x * dst->w / fb_w - mx;
	y0 = (int64_t)c->y * dst->h / fb_h - my;
	x1 = ((int64_t)(c->x + c->w) * dst->w + fb_w - 1) / fb_w + mx;
	y1 = ((int64_t)(c->y + c->h) * dst->h + fb_h - 1) / fb_h + my;
	x0 = x0 < 0 ? 0 : x0;
	y0 = y0 < 0 ? 0 : y0;
	x1 = x1 > dst->w ? dst->w : x1;
	y1 = y1 > dst->h ? dst->h : y1;
	if (x1 < x0)
		x1 = x0;
	if (y1 < y0)
		y1 = y0;
	return (struct viewer_rect){ dst->x + (int)x0, dst->y + (int)y0, (int)(x1 - x0),
		                     (int)(y1 - y0) };
}
