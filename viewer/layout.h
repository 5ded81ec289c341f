/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the guest's picture goes in the window: as large as fits with its
 * aspect ratio kept, centred, with bars on the sides or at the top and
 * bottom (letterbox); pixel for pixel when the window has the guest's size.
 * And the way back, from a point in the window to a guest pixel; and the
 * rectangles of the picture that changed.
 *
 * Pure functions; any thread.
 */
#ifndef VDI_VIEWER_LAYOUT_H
#define VDI_VIEWER_LAYOUT_H

#include <stdbool.h>

struct viewer_rect {
	int x, y, w, h;
};

/*
 * The rectangle a @fb_w x @fb_h picture fills in an @out_w x @out_h area.
 * All sizes are positive; a degenerate input gives a 0x0 rectangle.
 */
struct viewer_rect viewer_layout_fit(int fb_w, int fb_h, int out_w, int out_h);

/*
 * The guest pixel under window point (@x, @y) when the picture is drawn at
 * @r: *@gx in 0..@fb_w-1, *@gy in 0..@fb_h-1 (clamped at the edges).
 * Returns whether the point is on the picture rather than on a bar.
 */
bool viewer_layout_to_guest(const struct viewer_rect *r, int fb_w, int fb_h, int x, int y, int *gx,
                            int *gy);

/*
 * A window size for a @fb_w x @fb_h guest on a screen area of @max_w x
 * @max_h: the guest's size when it fits, else scaled down with its aspect.
 */
void viewer_layout_window_size(int fb_w, int fb_h, int max_w, int max_h, int *w, int *h);

/*
 * Add @r to the @n rectangles in @rects (room for @max >= 1) that list what
 * changed: merged with one that it overlaps or touches along a side so
 * that their union covers no more than the two, or, when all @max are
 * taken, with the one whose union adds the least area (a union is added
 * again, as it may touch another). An empty @r is left out. Returns the
 * new number of rectangles.
 */
int viewer_layout_add_rect(struct viewer_rect *rects, int n, int max, struct viewer_rect r);

/*
 * The part of @dst that changes when guest rectangle @c of a @fb_w x @fb_h
 * picture changes and the picture is drawn scaled into @dst: @c scaled,
 * with a margin as wide as smooth scaling reaches, clipped to @dst.
 */
struct viewer_rect viewer_layout_scaled_rect(const struct viewer_rect *dst, int fb_w, int fb_h,
                                             const struct viewer_rect *c);

#endif
