/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The application: one SDL window, its renderer, the event loop (loop.h)
 * and the screen currently shown in the window.
 *
 * A screen is one state of the UI with its own event handling and drawing:
 * the desktop screen (desktop.h) shows a session; a kiosk login screen
 * will be another. A screen that is done calls viewer_app_screen_done();
 * the app then decides what comes next: exit with its status, or in
 * broker mode (kiosk.h) the next screen, usually the login screen.
 *
 * Main thread only.
 */
#ifndef VDI_VIEWER_APP_H
#define VDI_VIEWER_APP_H

#include <stdbool.h>

#include <SDL.h>

#include "viewer/options.h"

struct viewer_app;
struct viewer_text;

/* Most rectangles a screen reports from render_changes(). */
#define VIEWER_CHANGES_MAX 16

struct viewer_screen_ops {
	/* An SDL event (window, keyboard, mouse, clipboard). */
	void (*event)(void *screen, const SDL_Event *ev);
	/* Draw the whole window (@out_w x @out_h output pixels), the background included. */
	void (*render)(void *screen, int out_w, int out_h);
	/* Free the screen (the app calls this once the screen is done or the app ends). */
	void (*free)(void *screen);
	/*
	 * Optional, after viewer_app_update(): draw only what changed since the
	 * last frame, over that frame. The app calls it only when the renderer
	 * keeps the last frame (SDL's software renderer) and the output size
	 * is the one render() last drew. Returns the number of output
	 * rectangles it drew into, in @rects (at most VIEWER_CHANGES_MAX; 0:
	 * nothing changed), or -1 when the whole window must be drawn again
	 * (render() follows).
	 */
	int (*render_changes)(void *screen, int out_w, int out_h, SDL_Rect *rects);
};

struct viewer_screen {
	const struct viewer_screen_ops *ops;
};

/* What screens use of the app. */
SDL_Window *viewer_app_window(struct viewer_app *app);
SDL_Renderer *viewer_app_renderer(struct viewer_app *app);
struct viewer_text *viewer_app_text(struct viewer_app *app);

/*
 * Full screen on or off: through the window manager when there is one,
 * else as a borderless window over the whole display (a kiosk's bare X).
 */
void viewer_app_set_fullscreen(struct viewer_app *app, bool on);
bool viewer_app_fullscreen(struct viewer_app *app);

/*
 * Draw the whole window again before the loop sleeps next, or at the next
 * frame of the display when the last one was drawn less than a refresh
 * period ago.
 */
void viewer_app_redraw(struct viewer_app *app);

/*
 * Part of the screen changed: draw it as viewer_app_redraw() does, but
 * only what changed (the screen's render_changes()) when the renderer
 * allows it.
 */
void viewer_app_update(struct viewer_app *app);

/*
 * The current screen is done: exit status @status and, for a non-zero
 * status, a one-line @message for people (may be NULL). The screen is
 * freed by the app after the current event, not during this call.
 */
void viewer_app_screen_done(struct viewer_app *app, int status, const char *message);

/* End the viewer (status 0) after the current event: a quit hotkey, closing the window. */
void viewer_app_quit(struct viewer_app *app);

/*
 * Show @screen (the app owns it from now on). Only when no screen is
 * shown: at start, or from viewer_kiosk_next() after the last one ended.
 */
void viewer_app_set_screen(struct viewer_app *app, struct viewer_screen *screen);

/*
 * Run the viewer for @o: open the window, show the session, return the
 * exit status (enum viewer_exit), with a one-line reason in @message for a
 * non-zero one.
 */
int viewer_app_run(const struct viewer_options *o, char *message, size_t size);

#endif
