/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Broker mode (--broker, and --kiosk): what the app shows next.
 *
 *   login screen --(a session from the broker)--> desktop screen
 *   desktop screen --(disconnect, sign-out, idle timeout, session over)--> login screen
 *
 * While the desktop is shown, a lost connection is not retried with the
 * old one-time ticket: the broker is asked whether the desktop is still
 * the user's and, if so, for a new ticket. Every HEARTBEAT seconds the
 * broker is asked the same (which also keeps the login session alive), so
 * a desktop the broker took back (logged off, disconnected by an admin)
 * returns to the login screen even when its console stays open.
 *
 * The idle timeout counts from the last key, click or pointer motion.
 * Main thread only.
 */
#ifndef VDI_VIEWER_KIOSK_H
#define VDI_VIEWER_KIOSK_H

#include <stddef.h>

#include "viewer/app.h"
#include "viewer/options.h"

#define VIEWER_KIOSK_HEARTBEAT_S 10

struct viewer_kiosk;

/*
 * Broker mode for @app with @o (borrowed; outlives the kiosk): reads the
 * branding, and shows the login screen. 0, or -errno with a reason in @err.
 */
int viewer_kiosk_new(struct viewer_app *app, const struct viewer_options *o,
                     struct viewer_kiosk **ret, char *err, size_t err_size);

/*
 * The screen shown ended (the app has freed it) with @status and
 * @message: show the next one (viewer_app_set_screen()). 0, or -errno
 * when none could be made (the app then ends).
 */
int viewer_kiosk_next(struct viewer_kiosk *k, int status, const char *message);

/* The person did something (a key, a click, a motion): the idle clock starts over. */
void viewer_kiosk_activity(struct viewer_kiosk *k);

/* NULL is a no-op. Call after the last screen is freed. */
void viewer_kiosk_free(struct viewer_kiosk *k);

/*
 * Load a PNG file into an SDL surface (ABGR8888, i.e. RGBA bytes).
 * NULL with the reason in SDL_GetError() when it cannot be read. At most
 * 4096 x 4096 pixels.
 */
SDL_Surface *viewer_load_png(const char *path);

#endif
