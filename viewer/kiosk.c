// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/kiosk.h"

#include <errno.h>
#include <glib.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "viewer/broker.h"
#include "viewer/desktop.h"
#include "viewer/https.h"
#include "viewer/login.h"

#define PNG_SIDE_MAX 4096
#define TITLE_MAX 120
#define LOGOUT_WAIT_MS 3000 /* at exit, how long the logout may take to reach the broker */

enum kiosk_shows {
	SHOWS_NOTHING,
	SHOWS_LOGIN,
	SHOWS_DESKTOP,
};

struct viewer_kiosk {
	struct viewer_app *app;
	const struct viewer_options *o;
	struct viewer_broker *broker;
	SDL_Texture *logo;
	char title[TITLE_MAX + 1];
	char where[VIEWER_URL_HOST_MAX + 16];

	enum kiosk_shows shows;
	struct viewer_screen *screen;

	/* the desktop chosen on the login screen */
	bool have_session;
	struct viewer_session session;
	char pool[VIEWER_BROKER_NAME_MAX + 1];
	char vm[VIEWER_BROKER_NAME_MAX + 1];
	int call;       /* a broker call about the desktop, 0: none */
	bool reconnect; /* the call is for a lost connection (else the heartbeat) */
	guint heartbeat_id;

	/* why the desktop ends, for the next login screen */
	char note[400];
	bool note_is_error;

	guint idle_id;
	int64_t last_input_ms;
};

static int64_t now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

/* ---- branding ---- */

SDL_Surface *viewer_load_png(const char *path)
{
	png_image img;
	SDL_Surface *s;

	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	if (!png_image_begin_read_from_file(&img, path)) {
		SDL_SetError("%s", img.message);
		return NULL;
	}
	if (img.width == 0 || img.height == 0 || img.width > PNG_SIDE_MAX ||
	    img.height > PNG_SIDE_MAX) {
		png_image_free(&img);
		SDL_SetError("%ux%u pixels is too large", img.width, img.height);
		return NULL;
	}
	img.format = PNG_FORMAT_RGBA;
	s = SDL_CreateRGBSurfaceWithFormat(0, (int)img.width, (int)img.height, 32,
	                                   SDL_PIXELFORMAT_ABGR8888);
	if (!s) {
		png_image_free(&img);
		return NULL;
	}
	if (!png_image_finish_read(&img, NULL, s->pixels, s->pitch, NULL)) {
		SDL_SetError("%s", img.message);
		SDL_FreeSurface(s);
		return NULL;
	}
	return s;
}

static void load_branding(struct viewer_kiosk *k, const char *dir)
{
	char path[4096];
	FILE *f;
	SDL_Surface *s;

	snprintf(k->title, sizeof(k->title), "Virtual desktop");
	if (snprintf(path, sizeof(path), "%s/title", dir) >= (int)sizeof(path))
		return;
	f = fopen(path, "re");
	if (f) {
		char line[TITLE_MAX + 2];

		if (fgets(line, sizeof(line), f)) {
			line[strcspn(line, "\r\n")] = '\0';
			line[TITLE_MAX] = '\0';
			if (line[0] && g_utf8_validate(line, -1, NULL))
				memcpy(k->title, line, strlen(line) + 1);
		}
		fclose(f);
	} else {
		log_info("no title in %s; using '%s'", path, k->title);
	}
	if (snprintf(path, sizeof(path), "%s/logo.png", dir) >= (int)sizeof(path))
		return;
	s = viewer_load_png(path);
	if (!s) {
		log_info("no logo: %s: %s", path, SDL_GetError());
		return;
	}
	k->logo = SDL_CreateTextureFromSurface(viewer_app_renderer(k->app), s);
	if (k->logo) {
		SDL_SetTextureBlendMode(k->logo, SDL_BLENDMODE_BLEND);
		SDL_SetTextureScaleMode(k->logo, SDL_ScaleModeLinear);
	}
	SDL_FreeSurface(s);
}

/* ---- screens ---- */

static void on_desktop_chosen(void *opaque, const struct viewer_session *s, const char *pool,
                              const char *vm)
{
	struct viewer_kiosk *k = opaque;

	viewer_session_clear(&k->session);
	viewer_session_init(&k->session);
	if (viewer_session_copy(&k->session, s) < 0) {
		log_warn("out of memory");
		return;
	}
	snprintf(k->pool, sizeof(k->pool), "%s", pool);
	snprintf(k->vm, sizeof(k->vm), "%s", vm);
	k->have_session = true;
	viewer_app_screen_done(k->app, VIEWER_EXIT_OK, NULL);
}

static int show_login(struct viewer_kiosk *k, const char *message, bool is_error)
{
	struct viewer_login_params p = {
		.broker = k->broker,
		.protocol = k->o->broker.protocol,
		.title = k->title,
		.logo = k->logo,
		.where = k->where,
		.message = message,
		.message_is_error = is_error,
		.ui = &k->o->ui,
		.grab_keyboard = k->o->broker.kiosk && k->o->ui.grab_keyboard,
	};
	struct viewer_login_hooks hooks = { .desktop = on_desktop_chosen, .opaque = k };
	int r;

	r = viewer_login_new(k->app, &p, &hooks, &k->screen);
	if (r < 0)
		return r;
	k->shows = SHOWS_LOGIN;
	log_info("kiosk: login screen%s%s", message ? ": " : "", message ? message : "");
	viewer_app_set_screen(k->app, k->screen);
	return 0;
}

/* End the desktop and go back to the login screen saying @note. */
static void end_desktop(struct viewer_kiosk *k, const char *note, bool is_error)
{
	if (k->shows != SHOWS_DESKTOP)
		return;
	snprintf(k->note, sizeof(k->note), "%s", note);
	k->note_is_error = is_error;
	viewer_app_screen_done(k->app, VIEWER_EXIT_OK, NULL);
}

static void on_ticket(void *opaque, const struct viewer_broker_result *r)
{
	struct viewer_kiosk *k = opaque;
	struct viewer_session s;
	char err[320], vm[VIEWER_BROKER_NAME_MAX + 1];

	k->call = 0;
	if (k->shows != SHOWS_DESKTOP)
		return;
	if (r->err) {
		viewer_desktop_retry_later(k->screen, "the broker cannot be reached");
		return;
	}
	if (r->status == 503 && r->retry_after > 0) {
		viewer_desktop_retry_later(k->screen, "the desktop is starting");
		return;
	}
	if (r->status != 200) {
		viewer_broker_explain(r, err, sizeof(err));
		end_desktop(k, err, true);
		return;
	}
	viewer_session_init(&s);
	if (viewer_broker_session(r, &s, vm, sizeof(vm), err, sizeof(err)) < 0) {
		end_desktop(k, "The broker's answer could not be used. Please sign in again.",
		            true);
		return;
	}
	if (k->vm[0] && vm[0] && strcmp(vm, k->vm) != 0)
		log_info("kiosk: the broker gave desktop %s instead of %s", vm, k->vm);
	snprintf(k->vm, sizeof(k->vm), "%s", vm);
	log_info("kiosk: a new ticket for %s", k->vm);
	viewer_desktop_retry(k->screen, &s);
	viewer_session_clear(&s);
}

/* What GET /desktops says about ours: true when it is still ours (the rest is handled). */
static bool still_ours(struct viewer_kiosk *k, const struct viewer_broker_result *r)
{
	if (r->err)
		return true; /* cannot tell: the connection decides */
	if (r->status == 401) {
		log_info("kiosk: the login session is over");
		end_desktop(k, "Your session has ended. Please sign in again.", false);
		return false;
	}
	if (r->status == 200 && k->vm[0] && viewer_broker_has_desktop(r->json, k->vm) == 0) {
		log_info("kiosk: desktop %s is no longer assigned", k->vm);
		end_desktop(k, "Your desktop was disconnected.", false);
		return false;
	}
	return true;
}

static void on_check(void *opaque, const struct viewer_broker_result *r)
{
	struct viewer_kiosk *k = opaque;

	k->call = 0;
	if (k->shows != SHOWS_DESKTOP || !still_ours(k, r))
		return;
	if (!k->reconnect)
		return;
	if (r->err) {
		viewer_desktop_retry_later(k->screen, r->message);
		return;
	}
	k->call = viewer_broker_connect(k->broker, k->pool, k->o->broker.protocol, on_ticket, k);
	if (k->call < 0) {
		k->call = 0;
		viewer_desktop_retry_later(k->screen, "cannot ask the broker");
	}
}

/* The desktop's connection broke: still ours? Then a new ticket. */
static void on_lost(void *opaque)
{
	struct viewer_kiosk *k = opaque;

	if (k->call)
		viewer_broker_cancel(k->broker, k->call);
	k->reconnect = true;
	k->call = viewer_broker_desktops(k->broker, on_check, k);
	if (k->call < 0) {
		k->call = 0;
		viewer_desktop_retry_later(k->screen, "cannot ask the broker");
	}
}

static gboolean heartbeat(gpointer data)
{
	struct viewer_kiosk *k = data;

	if (k->shows != SHOWS_DESKTOP) {
		k->heartbeat_id = 0;
		return G_SOURCE_REMOVE;
	}
	if (!k->call) {
		k->reconnect = false;
		k->call = viewer_broker_desktops(k->broker, on_check, k);
		if (k->call < 0)
			k->call = 0;
	}
	return G_SOURCE_CONTINUE;
}

static int show_desktop(struct viewer_kiosk *k)
{
	struct viewer_desktop_hooks hooks = { .lost = on_lost, .opaque = k };
	struct viewer_ui ui = k->o->ui;
	int r;

	if (k->session.title[0] == '\0' && k->vm[0])
		snprintf(k->session.title, sizeof(k->session.title), "%s", k->vm);
	r = viewer_desktop_new(k->app, &k->session, &ui, &hooks, &k->screen);
	/* The ticket in it is used: only the desktop screen's copy remains. */
	viewer_session_clear(&k->session);
	k->have_session = false;
	if (r < 0)
		return r;
	k->shows = SHOWS_DESKTOP;
	k->note[0] = '\0';
	log_info("kiosk: desktop %s", k->vm[0] ? k->vm : "?");
	viewer_app_set_screen(k->app, k->screen);
	if (!k->heartbeat_id)
		k->heartbeat_id = g_timeout_add_seconds(VIEWER_KIOSK_HEARTBEAT_S, heartbeat, k);
	return 0;
}

int viewer_kiosk_next(struct viewer_kiosk *k, int status, const char *message)
{
	enum kiosk_shows was = k->shows;
	char note[600];
	bool is_error = false;

	k->screen = NULL;
	k->shows = SHOWS_NOTHING;
	if (k->call) {
		viewer_broker_cancel(k->broker, k->call);
		k->call = 0;
	}
	if (k->heartbeat_id) {
		g_source_remove(k->heartbeat_id);
		k->heartbeat_id = 0;
	}
	if (was == SHOWS_LOGIN && k->have_session) {
		int r = show_desktop(k);

		if (r == 0)
			return 0;
		snprintf(note, sizeof(note), "The desktop cannot be shown: %s", strerror(-r));
		is_error = true;
	} else if (was != SHOWS_DESKTOP) {
		note[0] = '\0';
	} else if (k->note[0]) {
		snprintf(note, sizeof(note), "%s", k->note);
		is_error = k->note_is_error;
	} else if (status == VIEWER_EXIT_LOGOUT) {
		snprintf(note, sizeof(note), "You have signed out.");
	} else if (status == VIEWER_EXIT_OK) {
		snprintf(note, sizeof(note), "Your desktop session has ended.");
	} else {
		/* The desktop screen's reason is for logs; people get a sentence. */
		log_warn("kiosk: the desktop ended: %s", message ? message : "?");
		snprintf(note, sizeof(note), "%s",
		         status == VIEWER_EXIT_AUTH
		                 ? "The desktop refused its ticket. Please sign in again."
		         : status == VIEWER_EXIT_TLS ? "The desktop's certificate was not trusted."
		                                     : "The connection to your desktop was lost.");
		is_error = true;
	}
	k->note[0] = '\0';
	if (was == SHOWS_DESKTOP && viewer_broker_logged_in(k->broker)) {
		log_info("kiosk: signing out of the broker");
		viewer_broker_logout(k->broker, NULL, NULL);
	}
	return show_login(k, note[0] ? note : NULL, is_error);
}

/* ---- idle timeout ---- */

static gboolean idle_check(gpointer data)
{
	struct viewer_kiosk *k = data;
	int64_t left = k->last_input_ms + (int64_t)k->o->broker.idle_timeout * 1000 - now_ms();
	char note[200];
	int t = k->o->broker.idle_timeout;

	k->idle_id = 0;
	if (left > 0) {
		k->idle_id = g_timeout_add((guint)left + 10, idle_check, k);
		return G_SOURCE_REMOVE;
	}
	if (t >= 120)
		snprintf(note, sizeof(note),
		         "You were signed out after %d minutes without activity.", t / 60);
	else
		snprintf(note, sizeof(note),
		         "You were signed out after %d seconds without activity.", t);
	log_info("kiosk: idle for %d s", t);
	if (k->shows == SHOWS_DESKTOP)
		end_desktop(k, note, false);
	else if (k->shows == SHOWS_LOGIN)
		viewer_login_idle(k->screen, viewer_broker_logged_in(k->broker) ? note : NULL);
	/* Nothing more until someone touches the screen again. */
	return G_SOURCE_REMOVE;
}

void viewer_kiosk_activity(struct viewer_kiosk *k)
{
	k->last_input_ms = now_ms();
	if (k->o->broker.idle_timeout > 0 && !k->idle_id)
		k->idle_id = g_timeout_add((guint)k->o->broker.idle_timeout * 1000, idle_check, k);
}

/* ---- life ---- */

int viewer_kiosk_new(struct viewer_app *app, const struct viewer_options *o,
                     struct viewer_kiosk **ret, char *err, size_t err_size)
{
	struct viewer_kiosk *k = calloc(1, sizeof(*k));
	struct viewer_https_target t = { 0 };
	int r;

	if (!k)
		return -ENOMEM;
	k->app = app;
	k->o = o;
	viewer_session_init(&k->session);
	r = viewer_https_parse_url(o->broker.url, &t, err, err_size);
	if (r < 0)
		goto out_free;
	t.ca_file = o->broker.ca_file;
	if (o->broker.fingerprint) {
		t.pinned = true;
		r = viewer_https_parse_fingerprint(o->broker.fingerprint, t.fingerprint);
		if (r < 0) {
			snprintf(err, err_size, "--fingerprint is not a SHA-256 fingerprint");
			goto out_free;
		}
	}
	snprintf(k->where, sizeof(k->where), "%s%s%s:%d", strchr(t.host, ':') ? "[" : "", t.host,
	         strchr(t.host, ':') ? "]" : "", t.port);
	r = viewer_broker_new(&t, &k->broker);
	if (r < 0) {
		snprintf(err, err_size, "out of memory");
		goto out_free;
	}
	load_branding(k, o->broker.branding);
	log_info("broker mode: %s%s, certificate %s", k->where, o->broker.kiosk ? " (kiosk)" : "",
	         o->broker.fingerprint ? "pinned by fingerprint"
	         : o->broker.ca_file   ? "checked against --ca"
	                               : "checked against the system's CAs");
	if (o->broker.kiosk) {
		SDL_RaiseWindow(viewer_app_window(app));
		SDL_SetWindowInputFocus(viewer_app_window(app));
	}
	viewer_kiosk_activity(k);
	r = show_login(k, NULL, false);
	if (r < 0) {
		snprintf(err, err_size, "cannot show the login screen: %s", strerror(-r));
		viewer_kiosk_free(k);
		return r;
	}
	*ret = k;
	return 0;

out_free:
	free(k);
	return r;
}

void viewer_kiosk_free(struct viewer_kiosk *k)
{
	if (!k)
		return;
	if (k->heartbeat_id)
		g_source_remove(k->heartbeat_id);
	if (k->idle_id)
		g_source_remove(k->idle_id);
	/* Sign out on the way out, so the broker does not keep the session. */
	if (k->broker && viewer_broker_logged_in(k->broker))
		viewer_broker_logout(k->broker, NULL, NULL);
	viewer_broker_free(k->broker, LOGOUT_WAIT_MS);
	viewer_session_clear(&k->session);
	if (k->logo)
		SDL_DestroyTexture(k->logo);
	free(k);
}
