/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The desktop screen: shows one session in the window and sends the
 * person's keys and pointer to it.
 *
 * It connects (conn.h), shows "Connecting" until the first picture,
 * draws the picture scaled with its aspect kept, follows the guest's
 * resolution with the window (and asks the guest for the window's size when
 * the window is resized), grabs the keyboard while focused, handles the
 * viewer's hotkeys, passes the clipboard both ways, shows the status overlay,
 * and when the connection breaks says so and reconnects with back-off.
 * When it gives up (password refused, retries exhausted) it tells the app
 * with an exit status and a message.
 *
 * Main thread only.
 */
#ifndef VDI_VIEWER_DESKTOP_H
#define VDI_VIEWER_DESKTOP_H

#include "viewer/app.h"
#include "viewer/options.h"
#include "viewer/session.h"

/* Broker mode: who gives the desktop screen fresh sessions. */
struct viewer_desktop_hooks {
	/*
	 * The connection broke and the next attempt is due: a one-time
	 * ticket cannot be used again, so the owner asks the broker for a new
	 * one and calls viewer_desktop_retry(), or ends the screen
	 * (viewer_app_screen_done()). Called from a GLib timeout, never from
	 * inside a viewer_desktop_* call.
	 */
	void (*lost)(void *opaque);
	void *opaque;
};

/*
 * Start showing @session (copied) with @ui (copied) in @app's window;
 * @hooks (copied) may be NULL: reconnect with the same session, and the
 * logout hotkey does nothing. Returns 0 and the screen in *@ret, or -errno.
 */
int viewer_desktop_new(struct viewer_app *app, const struct viewer_session *session,
                       const struct viewer_ui *ui, const struct viewer_desktop_hooks *hooks,
                       struct viewer_screen **ret);

/*
 * After a hooks.lost(): connect again with @s (copied; NULL: as before).
 * Returns 0, or -errno (then the screen is ending).
 */
int viewer_desktop_retry(struct viewer_screen *screen, const struct viewer_session *s);

/*
 * After a hooks.lost(): no session this time (the broker could not be
 * reached): count a failed attempt because of @message and try again after
 * the back-off, or end the screen when the retries ran out.
 */
void viewer_desktop_retry_later(struct viewer_screen *screen, const char *message);

/* After a hooks.lost(): show @status and @detail (may be NULL) while the owner works. */
void viewer_desktop_status(struct viewer_screen *screen, const char *status, const char *detail);

#endif
