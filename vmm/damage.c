// SPDX-License-Identifier: GPL-2.0-or-later
/* Finding changed tiles and merging them into rectangles; see damage.h. */
#include "vmm/damage.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

int vmm_damage_init(struct vmm_damage *dmg, unsigned int max_width)
{
	size_t cols = (max_width + VMM_DAMAGE_TILE - 1) / VMM_DAMAGE_TILE;

	memset(dmg, 0, sizeof(*dmg));
	dmg->max_width = max_width;
	dmg->rects = calloc(VMM_DAMAGE_MAX_RECTS, sizeof(*dmg->rects));
	dmg->open = calloc(cols, sizeof(*dmg->open));
	dmg->next = calloc(cols, sizeof(*dmg->next));
	dmg->line = calloc(max_width, sizeof(*dmg->line));
	if (!dmg->rects || !dmg->open || !dmg->next || !dmg->line) {
		vmm_damage_exit(dmg);
		return -ENOMEM;
	}
	return 0;
}

void vmm_damage_exit(struct vmm_damage *dmg)
{
	free(dmg->rects);
	free(dmg->open);
	free(dmg->next);
	free(dmg->line);
	memset(dmg, 0, sizeof(*dmg));
}

void vmm_damage_convert_line(uint32_t *dst, const uint8_t *src, unsigned int n, enum vmm_pixfmt fmt)
{
	unsigned int bpp = vmm_pixfmt_bytes(fmt);

	for (unsigned int i = 0; i < n; i++)
		dst[i] = vmm_pixel_rgb(src + (size_t)i * bpp, fmt);
}

static void add_rect(struct vmm_damage *dmg, struct vmm_display_rect r)
{
	struct vmm_display_rect *b = &dmg->rects[0];
	unsigned int x1, y1;

	if (!dmg->collapsed && dmg->nr_rects < VMM_DAMAGE_MAX_RECTS) {
		dmg->rects[dmg->nr_rects++] = r;
		return;
	}
	/* Too fragmented: everything from now on joins one bounding rectangle. */
	dmg->collapsed = true;
	x1 = MAX(b->x + b->w, r.x + r.w);
	y1 = MAX(b->y + b->h, r.y + r.h);
	b->x = MIN(b->x, r.x);
	b->y = MIN(b->y, r.y);
	for (size_t i = 1; i < dmg->nr_rects; i++) {
		struct vmm_display_rect *o = &dmg->rects[i];

		b->x = MIN(b->x, o->x);
		b->y = MIN(b->y, o->y);
		x1 = MAX(x1, o->x + o->w);
		y1 = MAX(y1, o->y + o->h);
	}
	b->w = x1 - b->x;
	b->h = y1 - b->y;
	dmg->nr_rects = 1;
}

/*
 * A run of changed tiles in the current tile row: extend the rectangle of
 * the same columns from the row above, or start a new one.
 */
static void add_run(struct vmm_damage *dmg, struct vmm_display_rect run, size_t *nr_next)
{
	for (size_t i = 0; i < dmg->nr_open; i++) {
		struct vmm_display_rect *o = &dmg->open[i];

		if (o->w && o->x == run.x && o->w == run.w && o->y + o->h == run.y) {
			run.y = o->y;
			run.h += o->h;
			o->w = 0; /* taken over */
			break;
		}
	}
	dmg->next[(*nr_next)++] = run;
}

/* Runs of the previous row that did not continue into this one are finished. */
static void close_open(struct vmm_damage *dmg)
{
	for (size_t i = 0; i < dmg->nr_open; i++)
		if (dmg->open[i].w)
			add_rect(dmg, dmg->open[i]);
	dmg->nr_open = 0;
}

/* Is any page under framebuffer rows [@y0, @y1) dirty? */
static bool rows_dirty(const struct vmm_damage_frame *f, unsigned int y0, unsigned int y1)
{
	uint64_t start = f->fb_offset + (uint64_t)y0 * f->stride;
	uint64_t end = f->fb_offset + (uint64_t)y1 * f->stride;
	uint64_t p0 = start >> 12, p1 = (end + 4095) >> 12;

	if (!f->dirty)
		return true;
	for (uint64_t p = p0; p < p1; p++) {
		if ((p & 63) == 0 && p + 64 <= p1 && !f->dirty[p >> 6]) {
			p += 63; /* a whole clean word */
			continue;
		}
		if (f->dirty[p >> 6] & (1ULL << (p & 63)))
			return true;
	}
	return false;
}

/*
 * Compare one tile with the shadow and copy it in. Returns true if it
 * changed, with the first and last changed line (relative to @y) in
 * *@first and *@last: damage is exact to the line, as a guest drawing a
 * picture line by line would otherwise have half-drawn tiles sent twice.
 */
static bool tile_update(struct vmm_damage *dmg, const struct vmm_damage_frame *f, unsigned int x,
                        unsigned int y, unsigned int w, unsigned int h, unsigned int *first,
                        unsigned int *last)
{
	unsigned int bpp = vmm_pixfmt_bytes(f->fmt);
	bool changed = false;

	for (unsigned int j = 0; j < h; j++) {
		uint32_t *shadow = f->shadow + (size_t)(y + j) * f->width + x;
		const uint8_t *row = f->fb + (size_t)(y + j) * f->stride + (size_t)x * bpp;
		const uint32_t *src;

		if (f->fmt == VMM_PIXFMT_XRGB8888) {
			src = (const uint32_t *)row;
		} else {
			vmm_damage_convert_line(dmg->line, row, w, f->fmt);
			src = dmg->line;
		}
		if (memcmp(shadow, src, (size_t)w * 4) == 0)
			continue;
		if (!changed)
			*first = j;
		*last = j;
		changed = true;
		memcpy(shadow, src, (size_t)w * 4);
	}
	return changed;
}

/* @run narrowed to its changed lines @lo..@hi. */
static struct vmm_display_rect lines(struct vmm_display_rect run, unsigned int lo, unsigned int hi)
{
	run.y += lo;
	run.h = hi - lo + 1;
	return run;
}

size_t vmm_damage_scan(struct vmm_damage *dmg, const struct vmm_damage_frame *f)
{
	unsigned int W = MIN(f->width, dmg->max_width), H = f->height;

	dmg->nr_rects = 0;
	dmg->nr_open = 0;
	dmg->collapsed = false;
	for (unsigned int ty = 0; ty < H; ty += VMM_DAMAGE_TILE) {
		unsigned int th = MIN(H - ty, VMM_DAMAGE_TILE);
		struct vmm_display_rect run = { 0, ty, 0, th };
		unsigned int lo = 0, hi = 0; /* changed lines of the current run */
		size_t nr_next = 0;
		bool in_run = false;

		if (rows_dirty(f, ty, ty + th)) {
			for (unsigned int tx = 0; tx < W; tx += VMM_DAMAGE_TILE) {
				unsigned int tw = MIN(W - tx, VMM_DAMAGE_TILE), first, last;

				if (tile_update(dmg, f, tx, ty, tw, th, &first, &last)) {
					if (!in_run) {
						run.x = tx;
						run.w = 0;
						lo = first;
						hi = last;
						in_run = true;
					}
					run.w += tw;
					lo = MIN(lo, first);
					hi = MAX(hi, last);
				} else if (in_run) {
					add_run(dmg, lines(run, lo, hi), &nr_next);
					in_run = false;
				}
			}
			if (in_run)
				add_run(dmg, lines(run, lo, hi), &nr_next);
		}
		close_open(dmg);
		memcpy(dmg->open, dmg->next, nr_next * sizeof(*dmg->next));
		dmg->nr_open = nr_next;
	}
	close_open(dmg);
	return dmg->nr_rects;
}
