/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Finding what changed on the guest's screen: compare the framebuffer with
 * a shadow copy in tiles, copy changed tiles into the shadow and describe
 * them as a few rectangles. Pure computation, no KVM: the display core
 * (vmm/display.c) feeds it the framebuffer and the KVM dirty log.
 *
 * Only tile rows with a dirty page under them are compared (or all rows
 * when no dirty log is given). Changed tiles of one row that touch become
 * one run, as tall as the lines that changed in them; runs of the same
 * columns that meet vertically become one rectangle. Beyond VMM_DAMAGE_MAX_RECTS rectangles
 * everything collapses into their bounding box: one big update beats hundreds of small ones.
 */
#ifndef VDI_VMM_DAMAGE_H
#define VDI_VMM_DAMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/screendump.h"

#define VMM_DAMAGE_TILE 16 /* tile edge, in pixels */
#define VMM_DAMAGE_MAX_RECTS 512

struct vmm_display_rect {
	unsigned int x, y, w, h;
};

/* One comparison: the guest's framebuffer against the shadow. */
struct vmm_damage_frame {
	uint32_t *shadow; /* width x height x8r8g8b8, rows packed */
	unsigned int width, height;
	const uint8_t *fb; /* the visible top-left pixel in guest memory */
	size_t stride;     /* bytes per framebuffer row */
	enum vmm_pixfmt fmt;
	uint64_t fb_offset;    /* bytes from the start of the dirty-logged memory to @fb */
	const uint64_t *dirty; /* one bit per 4 KiB page of that memory; NULL: compare all */
};

struct vmm_damage {
	unsigned int max_width;
	struct vmm_display_rect *rects; /* the result of the last scan */
	size_t nr_rects;
	bool collapsed;                       /* the last scan's damage became one bounding box */
	struct vmm_display_rect *open, *next; /* runs of the previous and current tile row */
	size_t nr_open;
	uint32_t *line; /* one converted tile line */
};

/* Room for frames up to @max_width pixels wide. 0 or -ENOMEM. */
int vmm_damage_init(struct vmm_damage *dmg, unsigned int max_width);
void vmm_damage_exit(struct vmm_damage *dmg);

/*
 * Compare @f, update its shadow, and return the number of rectangles now
 * in @dmg->rects (0: nothing changed). @f->width must not exceed max_width.
 */
size_t vmm_damage_scan(struct vmm_damage *dmg, const struct vmm_damage_frame *f);

/* Convert @n pixels of one framebuffer line in @fmt to x8r8g8b8. */
void vmm_damage_convert_line(uint32_t *dst, const uint8_t *src, unsigned int n,
                             enum vmm_pixfmt fmt);

#endif
