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

/*
 * Start showing @session (copied) with @ui (copied) in @app's window.
 * Returns 0 and the screen in *@ret, or -errno.
 */
int viewer_desktop_new(struct viewer_app *app, const struct viewer_session *session,
                       const struct viewer_ui *ui, struct viewer_screen **ret);

#endif
