/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Text on the viewer's window: the status panel (connecting, reconnecting)
 * and the overlay of figures, drawn with SDL2_ttf in a system font found
 * at run time (DejaVu Sans from fonts-dejavu-core, with fallbacks, or the
 * file named by VDI_VIEWER_FONT). Without a font the panels are drawn
 * without text rather than not at all.
 *
 * Main thread (SDL rendering).
 */
#ifndef VDI_VIEWER_TEXT_H
#define VDI_VIEWER_TEXT_H

#include <SDL.h>

struct viewer_text;

/*
 * The first readable font file among VDI_VIEWER_FONT and the usual system
 * places, @bold or regular; NULL when there is none.
 */
const char *viewer_font_find(int bold);

/*
 * Open the fonts for @r. Returns 0 or -ENOMEM. Without a usable font this
 * still succeeds (with a warning in the log) and text is left out.
 */
int viewer_text_new(SDL_Renderer *r, struct viewer_text **ret);

/*
 * A panel in the middle of an @out_w x @out_h output: @title in bold, then
 * @detail (may be NULL; up to three lines split at '\n'), over a darkened
 * picture when @dim.
 */
void viewer_text_panel(struct viewer_text *t, int out_w, int out_h, const char *title,
                       const char *detail, int dim);

/* A box of @n lines at the top-left corner (the status overlay). */
void viewer_text_overlay(struct viewer_text *t, const char *const *lines, int n);

/* NULL is a no-op. */
void viewer_text_free(struct viewer_text *t);

#endif
