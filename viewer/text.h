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

/* Faces for screens that lay text out themselves (the login screen). */
enum viewer_font {
	VIEWER_FONT_HEADING, /* bold, large: a screen's title */
	VIEWER_FONT_TITLE,   /* bold: panel titles, buttons */
	VIEWER_FONT_BODY,    /* regular: details, labels */
	VIEWER_FONT_INPUT,   /* regular, larger: what people type */
	VIEWER_FONT_SMALL,   /* regular, small: hints, the overlay */
	VIEWER_FONT_COUNT,
};

/*
 * Draw @text (UTF-8, one line) in @font and @color with its top-left
 * corner at (@x, @y). Returns its width in pixels (0 without a font).
 */
int viewer_text_draw(struct viewer_text *t, enum viewer_font font, SDL_Color color,
                     const char *text, int x, int y);

/* The size @text would take in @font; 0 x line height without a font or text. */
void viewer_text_measure(struct viewer_text *t, enum viewer_font font, const char *text, int *w,
                         int *h);

/* The line height of @font (a guess without a font). */
int viewer_text_line_height(struct viewer_text *t, enum viewer_font font);

/* A filled rectangle in @r with blending (a helper for screens). */
void viewer_fill_rect(SDL_Renderer *r, int x, int y, int w, int h, SDL_Color c);

/* NULL is a no-op. */
void viewer_text_free(struct viewer_text *t);

#endif
