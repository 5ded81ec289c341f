/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The login screen of broker mode: a centred panel with the deployment's
 * logo and title, the user name and password (and the TOTP code when the
 * broker asks for one), a Sign in button and a line for what went wrong.
 * It signs in (broker.h), lists the user's pools, lets them pick one when
 * there are several (arrow keys and Enter, or a click), asks for a
 * connection and hands the session to its owner. Network calls run off
 * the main thread; meanwhile the panel says what it is waiting for.
 *
 * Main thread only.
 */
#ifndef VDI_VIEWER_LOGIN_H
#define VDI_VIEWER_LOGIN_H

#include <stdbool.h>

#include <SDL.h>

#include "viewer/app.h"
#include "viewer/broker.h"
#include "viewer/options.h"
#include "viewer/session.h"

struct viewer_login_params {
	struct viewer_broker *broker;  /* borrowed; outlives the screen */
	enum viewer_protocol protocol; /* what to ask the broker for */
	const char *title;             /* the deployment's title */
	SDL_Texture *logo;             /* borrowed, may be NULL */
	const char *where;             /* the broker, for the footer ("host:8443") */
	const char *message;           /* shown at start (may be NULL) ... */
	bool message_is_error;         /* ... in the error colour, else as a note */
	const struct viewer_ui *ui;    /* hotkeys (quit) */
	bool grab_keyboard;            /* kiosk: keep the keyboard while focused */
};

struct viewer_login_hooks {
	/*
	 * The user chose a desktop and the broker gave a session for it: the
	 * owner copies what it needs and ends this screen. @pool and @vm name
	 * it (@vm may be "").
	 */
	void (*desktop)(void *opaque, const struct viewer_session *s, const char *pool,
	                const char *vm);
	void *opaque;
};

/* A login screen in @app; 0 and the screen in *@ret, or -errno. */
int viewer_login_new(struct viewer_app *app, const struct viewer_login_params *p,
                     const struct viewer_login_hooks *hooks, struct viewer_screen **ret);

/*
 * Nobody touched the screen for the idle timeout: sign out if signed in,
 * wipe the form, and say why (@message, may be NULL).
 */
void viewer_login_idle(struct viewer_screen *screen, const char *message);

#endif
