// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/desktop.h"

#include <errno.h>
#include <glib.h>
#include <linux/input-event-codes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "viewer/conn.h"
#include "viewer/hotkey.h"
#include "viewer/keymap.h"
#include "viewer/layout.h"
#include "viewer/meter.h"
#include "viewer/text.h"

#define RESIZE_SETTLE_MS 300 /* a window being dragged asks the guest once it rests */
#define WHEEL_STEPS_MAX 10
#define BACKGROUND 0x1e, 0x1f, 0x22

enum desk_state {
	DESK_CONNECTING,
	DESK_CONNECTED,
	DESK_WAITING, /* for the next attempt */
	DESK_DONE,
};

struct viewer_desktop {
	struct viewer_screen base;
	struct viewer_app *app;
	struct viewer_session session;
	struct viewer_ui ui;
	struct viewer_desktop_hooks hooks; /* broker mode when hooks.lost is set */
	bool asking;                       /* hooks.lost() called, no answer yet */
	char where[VIEWER_HOST_MAX + 48];  /* the session's URI, for people */

	enum desk_state state;
	struct viewer_conn *conn;
	struct viewer_conn *dead; /* ended, freed from an idle callback */
	guint reap_id, retry_id, tick_id, resize_id;
	unsigned int attempt; /* failed attempts in a row */
	bool ever_connected;
	int64_t retry_at_ms;
	char status[320], detail[512];

	/* the picture */
	SDL_Texture *tex;
	int tex_w, tex_h;
	bool full_upload;
	struct viewer_rect dirty[VIEWER_CHANGES_MAX]; /* changed since the upload, guest pixels */
	int n_dirty;
	struct viewer_rect dst; /* where it was drawn last, in output pixels */
	int out_w, out_h;
	uint64_t frames;

	/* the window */
	int expect_w, expect_h; /* a size we set whose event has not come yet */
	int asked_w, asked_h;   /* the size last asked of the guest */

	/* keyboard */
	uint8_t held[KEY_CNT / 8 + 1]; /* keys down here */
	uint8_t sent[KEY_CNT / 8 + 1]; /* keys down in the guest */
	uint8_t ours[KEY_CNT / 8 + 1]; /* hotkey keys: their release is ours too */
	struct viewer_chord chord;
	bool focused, grabbed, released;

	/* pointer */
	unsigned int buttons;
	SDL_Cursor *cursor, *dot;

	char *clip; /* the clipboard text last passed either way */

	bool overlay;
	struct viewer_meter fps, rx;
	int64_t rtt_us;

	char name[256];
};

static int64_t now_ms(void)
{
	return (int64_t)(g_get_monotonic_time() / 1000);
}

static bool bit(const uint8_t *map, unsigned int n)
{
	return n < KEY_CNT && (map[n / 8] >> (n % 8)) & 1;
}

static void set_bit(uint8_t *map, unsigned int n, bool on)
{
	if (n >= KEY_CNT)
		return;
	if (on)
		map[n / 8] |= (uint8_t)(1u << (n % 8));
	else
		map[n / 8] &= (uint8_t) ~(1u << (n % 8));
}

static unsigned int held_mods(const struct viewer_desktop *d)
{
	static const unsigned int mod_keys[] = { KEY_LEFTCTRL, KEY_RIGHTCTRL, KEY_LEFTALT,
		                                 KEY_RIGHTALT, KEY_LEFTSHIFT, KEY_RIGHTSHIFT,
		                                 KEY_LEFTMETA, KEY_RIGHTMETA };
	unsigned int mods = 0;

	for (size_t i = 0; i < sizeof(mod_keys) / sizeof(mod_keys[0]); i++)
		if (bit(d->held, mod_keys[i]))
			mods |= viewer_key_mod_bit(mod_keys[i]);
	return mods;
}

/* ---- title, grab, cursor ---- */

static void update_title(struct viewer_desktop *d)
{
	char title[600], keys[64];
	const char *base = d->session.title[0] ? d->session.title
	                   : d->name[0]        ? d->name
	                                       : d->session.host;

	if (d->state == DESK_CONNECTING || d->state == DESK_WAITING)
		snprintf(title, sizeof(title), "%s (%s)", base,
		         d->ever_connected ? "reconnecting" : "connecting");
	else if (d->grabbed && d->ui.hotkeys[VIEWER_HK_RELEASE_CURSOR].mods)
		snprintf(title, sizeof(title), "%s - press %s to release the keyboard", base,
		         viewer_hotkey_describe(&d->ui.hotkeys[VIEWER_HK_RELEASE_CURSOR], keys,
		                                sizeof(keys)));
	else
		snprintf(title, sizeof(title), "%s", base);
	SDL_SetWindowTitle(viewer_app_window(d->app), title);
}

static void update_grab(struct viewer_desktop *d)
{
	bool want = d->ui.grab_keyboard && d->focused && !d->released && d->state == DESK_CONNECTED;

	if (want == d->grabbed)
		return;
	SDL_SetWindowKeyboardGrab(viewer_app_window(d->app), want ? SDL_TRUE : SDL_FALSE);
	d->grabbed = want;
	update_title(d);
}

static SDL_Cursor *make_cursor(const uint32_t *argb, int w, int h, int hot_x, int hot_y)
{
	SDL_Surface *s = SDL_CreateRGBSurfaceWithFormatFrom((void *)argb, w, h, 32, w * 4,
	                                                    SDL_PIXELFORMAT_ARGB8888);
	SDL_Cursor *c;

	if (!s)
		return NULL;
	c = SDL_CreateColorCursor(s, hot_x, hot_y);
	SDL_FreeSurface(s);
	return c;
}

/* A small dot, shown when the server draws its own pointer or sends none. */
static SDL_Cursor *make_dot(void)
{
	static const char *const rows[] = { "..www..", ".wbbbw.", "wbbbbbw", "wbbbbbw",
		                            "wbbbbbw", ".wbbbw.", "..www.." };
	uint32_t px[49];

	for (int y = 0; y < 7; y++)
		for (int x = 0; x < 7; x++) {
			char c = rows[y][x];

			px[y * 7 + x] = c == 'w' ? 0xffffffffu : c == 'b' ? 0xff000000u : 0;
		}
	return make_cursor(px, 7, 7, 3, 3);
}

static void set_cursor(struct viewer_desktop *d, SDL_Cursor *c)
{
	if (d->cursor && d->cursor != c)
		SDL_FreeCursor(d->cursor);
	d->cursor = c;
	SDL_SetCursor(c ? c : d->dot);
}

/* ---- the connection's life ---- */

static void connect_now(struct viewer_desktop *d);
static void local_clipboard(struct viewer_desktop *d);

static void set_status(struct viewer_desktop *d, const char *status, const char *detail)
{
	snprintf(d->status, sizeof(d->status), "%s", status);
	snprintf(d->detail, sizeof(d->detail), "%s", detail ? detail : "");
	viewer_app_redraw(d->app);
}

static void finish(struct viewer_desktop *d, int status, const char *message)
{
	d->state = DESK_DONE;
	viewer_app_screen_done(d->app, status, message);
}

static gboolean reap(gpointer data)
{
	struct viewer_desktop *d = data;

	d->reap_id = 0;
	viewer_conn_free(d->dead);
	d->dead = NULL;
	return G_SOURCE_REMOVE;
}

static void waiting_text(struct viewer_desktop *d)
{
	char detail[400];
	int64_t left = d->retry_at_ms - now_ms();

	if (left < 0)
		left = 0;
	snprintf(detail, sizeof(detail), "%s\nTrying again in %d s (retry %u of %d)", d->where,
	         (int)((left + 999) / 1000), d->attempt, d->ui.retries);
	set_status(d, d->ever_connected ? "Connection lost" : "Cannot reach the desktop", detail);
}

static gboolean retry(gpointer data)
{
	struct viewer_desktop *d = data;

	d->retry_id = 0;
	if (d->hooks.lost) {
		/* A ticket is good once: the broker gives a new one for each attempt. */
		d->asking = true;
		set_status(d, d->ever_connected ? "Reconnecting" : "Connecting",
		           "Asking the broker for a new ticket");
		d->hooks.lost(d->hooks.opaque);
		return G_SOURCE_REMOVE;
	}
	connect_now(d);
	return G_SOURCE_REMOVE;
}

int viewer_desktop_retry(struct viewer_screen *screen, const struct viewer_session *s)
{
	struct viewer_desktop *d = (struct viewer_desktop *)screen;
	int r;

	if (d->state == DESK_DONE)
		return -ECANCELED;
	d->asking = false;
	if (s) {
		struct viewer_session n;

		viewer_session_init(&n);
		r = viewer_session_copy(&n, s);
		if (r < 0) {
			finish(d, VIEWER_EXIT_ERROR, "out of memory");
			return r;
		}
		viewer_session_clear(&d->session);
		d->session = n;
		viewer_session_describe(&d->session, d->where, sizeof(d->where));
	}
	connect_now(d);
	return d->state == DESK_DONE ? -EIO : 0;
}

void viewer_desktop_status(struct viewer_screen *screen, const char *status, const char *detail)
{
	struct viewer_desktop *d = (struct viewer_desktop *)screen;

	if (d->state != DESK_DONE)
		set_status(d, status, detail);
}

static gboolean tick(gpointer data);

static void ensure_tick(struct viewer_desktop *d)
{
	if (!d->tick_id && (d->overlay || d->state == DESK_WAITING))
		d->tick_id = g_timeout_add(1000, tick, d);
}

static void on_connected(void *opaque)
{
	struct viewer_desktop *d = opaque;

	d->state = DESK_CONNECTED;
	d->attempt = 0;
	d->ever_connected = true;
	d->asked_w = d->asked_h = 0;
	viewer_meter_reset(&d->rx);
	update_title(d);
	update_grab(d);
	if (d->focused)
		local_clipboard(d); /* as focusing the window would */
	viewer_app_redraw(d->app);
}

static void on_name(void *opaque, const char *name)
{
	struct viewer_desktop *d = opaque;

	snprintf(d->name, sizeof(d->name), "%s", name);
	update_title(d);
}

static void schedule_retry(struct viewer_desktop *d, const char *message);

static void on_ended(void *opaque, enum viewer_end why, const char *message)
{
	struct viewer_desktop *d = opaque;
	char msg[640];

	/* Not freed here: the connection is running this callback. An older one is not. */
	viewer_conn_free(d->dead);
	d->dead = d->conn;
	d->conn = NULL;
	if (!d->reap_id)
		d->reap_id = g_idle_add(reap, d);
	/* Keys held in the guest are gone with the connection. */
	memset(d->sent, 0, sizeof(d->sent));
	d->buttons = 0;
	set_cursor(d, NULL);
	if (d->state == DESK_DONE)
		return;
	d->state = DESK_WAITING;
	update_grab(d);

	switch (why) {
	case VIEWER_END_AUTH:
		if (d->ever_connected)
			snprintf(msg, sizeof(msg),
			         "%s when reconnecting (a one-time ticket cannot be used twice)",
			         message);
		else
			snprintf(msg, sizeof(msg), "%s", message);
		finish(d, VIEWER_EXIT_AUTH, msg);
		return;
	case VIEWER_END_TLS:
		finish(d, VIEWER_EXIT_TLS, message);
		return;
	case VIEWER_END_FATAL:
		finish(d, VIEWER_EXIT_CONNECT, message);
		return;
	case VIEWER_END_LOST:
		break;
	}
	schedule_retry(d, message);
}

/* A failed attempt: the next one after the back-off, or give up when they ran out. */
static void schedule_retry(struct viewer_desktop *d, const char *message)
{
	char msg[640];

	d->state = DESK_WAITING;
	if (d->attempt >= (unsigned int)d->ui.retries) {
		if (d->ui.retries > 0)
			snprintf(msg, sizeof(msg), "%s; gave up after %d %s", message,
			         d->ui.retries, d->ui.retries == 1 ? "retry" : "retries");
		else
			snprintf(msg, sizeof(msg), "%s", message);
		finish(d, VIEWER_EXIT_CONNECT, msg);
		return;
	}
	d->attempt++;
	{
		unsigned int wait = viewer_backoff_ms(d->attempt, g_random_int());

		log_warn("%s; trying again in %.1f s", message, wait / 1000.0);
		d->retry_at_ms = now_ms() + wait;
		d->retry_id = g_timeout_add(wait, retry, d);
	}
	waiting_text(d);
	update_title(d);
	ensure_tick(d);
}

void viewer_desktop_retry_later(struct viewer_screen *screen, const char *message)
{
	struct viewer_desktop *d = (struct viewer_desktop *)screen;

	if (d->state == DESK_DONE || d->retry_id)
		return;
	d->asking = false;
	schedule_retry(d, message);
}

static void fit_window(struct viewer_desktop *d, int fb_w, int fb_h)
{
	SDL_Window *win = viewer_app_window(d->app);
	Uint32 flags = SDL_GetWindowFlags(win);
	SDL_Rect usable;
	int w, h, cur_w, cur_h;

	if (viewer_app_fullscreen(d->app) ||
	    (flags &
	     (SDL_WINDOW_FULLSCREEN | SDL_WINDOW_FULLSCREEN_DESKTOP | SDL_WINDOW_MAXIMIZED)))
		return;
	if (SDL_GetDisplayUsableBounds(SDL_GetWindowDisplayIndex(win), &usable) < 0)
		usable = (SDL_Rect){ 0, 0, fb_w, fb_h };
	viewer_layout_window_size(fb_w, fb_h, usable.w > 0 ? usable.w : fb_w,
	                          usable.h > 0 ? usable.h : fb_h, &w, &h);
	SDL_GetWindowSize(win, &cur_w, &cur_h);
	if (w == cur_w && h == cur_h)
		return;
	d->expect_w = w;
	d->expect_h = h;
	SDL_SetWindowSize(win, w, h);
}

static gboolean resize_guest(gpointer data);

static void on_resize(void *opaque, int width, int height)
{
	struct viewer_desktop *d = opaque;

	log_info("desktop: %dx%d", width, height);
	d->full_upload = true;
	d->n_dirty = 0;
	fit_window(d, width, height);
	/* Full screen (a kiosk) does not follow the guest: the guest follows the screen. */
	if (viewer_app_fullscreen(d->app) && d->ui.resize_guest && !d->resize_id)
		d->resize_id = g_timeout_add(RESIZE_SETTLE_MS, resize_guest, d);
	viewer_app_redraw(d->app);
}

static void on_update(void *opaque, int x, int y, int w, int h)
{
	struct viewer_desktop *d = opaque;

	d->n_dirty = viewer_layout_add_rect(d->dirty, d->n_dirty, VIEWER_CHANGES_MAX,
	                                    (struct viewer_rect){ x, y, w, h });
	viewer_app_update(d->app);
}

static void on_cursor(void *opaque, const struct viewer_cursor *c)
{
	struct viewer_desktop *d = opaque;

	if (!c || c->w <= 0 || c->h <= 0)
		set_cursor(d, NULL);
	else
		set_cursor(d, make_cursor(c->argb, c->w, c->h, c->hot_x, c->hot_y));
}

static void on_clipboard(void *opaque, const char *utf8)
{
	struct viewer_desktop *d = opaque;

	if (d->clip && strcmp(d->clip, utf8) == 0)
		return;
	free(d->clip);
	d->clip = strdup(utf8);
	log_debug("clipboard: %zu bytes from the desktop", strlen(utf8));
	if (SDL_SetClipboardText(utf8) < 0)
		log_warn("cannot set the clipboard: %s", SDL_GetError());
}

static const struct viewer_conn_events conn_events = {
	.connected = on_connected,
	.name = on_name,
	.ended = on_ended,
	.resize = on_resize,
	.update = on_update,
	.cursor = on_cursor,
	.clipboard = on_clipboard,
};

static void connect_now(struct viewer_desktop *d)
{
	struct viewer_conn_params p = { .quality = d->ui.quality };
	char title[300];
	int r;

	d->state = DESK_CONNECTING;
	snprintf(title, sizeof(title), "%s %s",
	         d->ever_connected ? "Reconnecting to" : "Connecting to",
	         d->session.title[0] ? d->session.title
	         : d->name[0]        ? d->name
	                             : "the desktop");
	set_status(d, title, d->where);
	update_title(d);
	log_info("connecting to %s", d->where);
	r = viewer_conn_open(&d->session, &p, &conn_events, d, &d->conn);
	if (r < 0) {
		char msg[400];

		snprintf(msg, sizeof(msg), "cannot start a connection to %s: %s", d->where,
		         strerror(-r));
		finish(d, VIEWER_EXIT_ERROR, msg);
	}
}

/* ---- the window asks the guest for its size ---- */

static void output_size(struct viewer_desktop *d, int *w, int *h)
{
	if (SDL_GetRendererOutputSize(viewer_app_renderer(d->app), w, h) < 0)
		SDL_GetWindowSize(viewer_app_window(d->app), w, h);
}

static gboolean resize_guest(gpointer data)
{
	struct viewer_desktop *d = data;
	const uint32_t *px;
	int w, h, fb_w, fb_h, stride;

	d->resize_id = 0;
	if (!d->conn || d->state != DESK_CONNECTED || !d->conn->ops->can_resize(d->conn))
		return G_SOURCE_REMOVE;
	output_size(d, &w, &h);
	if (!d->conn->ops->surface(d->conn, &px, &fb_w, &fb_h, &stride))
		return G_SOURCE_REMOVE;
	/* Already there, or already asked (a guest that cannot follow is not asked again). */
	if ((w == fb_w && h == fb_h) || (w == d->asked_w && h == d->asked_h))
		return G_SOURCE_REMOVE;
	d->asked_w = w;
	d->asked_h = h;
	d->conn->ops->request_size(d->conn, w, h);
	return G_SOURCE_REMOVE;
}

static void window_resized(struct viewer_desktop *d, int w, int h)
{
	viewer_app_redraw(d->app);
	if (w == d->expect_w && h == d->expect_h) {
		d->expect_w = d->expect_h = 0; /* our own doing: the guest already has this size */
		return;
	}
	if (!d->ui.resize_guest)
		return;
	if (d->resize_id)
		g_source_remove(d->resize_id);
	d->resize_id = g_timeout_add(RESIZE_SETTLE_MS, resize_guest, d);
}

/* ---- keyboard ---- */

static void send_key(struct viewer_desktop *d, unsigned int evdev, bool down)
{
	const struct proto_key *k = proto_key_by_evdev(evdev);
	unsigned int mods = held_mods(d);
	bool caps = (SDL_GetModState() & KMOD_CAPS) != 0;

	if (!k || !d->conn || d->state != DESK_CONNECTED)
		return;
	if (!down && !bit(d->sent, evdev))
		return; /* never went down there */
	d->conn->ops->key(d->conn, k, viewer_key_keysym(k, mods & VIEWER_MOD_SHIFT, caps), down);
	set_bit(d->sent, evdev, down);
}

static void release_all(struct viewer_desktop *d)
{
	for (unsigned int k = 0; k < KEY_CNT; k++)
		if (bit(d->sent, k))
			send_key(d, k, false);
	memset(d->held, 0, sizeof(d->held));
	memset(d->ours, 0, sizeof(d->ours));
	d->chord.armed = false;
}

/* Ctrl+Alt+Del, adding only the modifiers the guest does not have down already. */
static void secure_attention(struct viewer_desktop *d)
{
	bool ctrl = bit(d->sent, KEY_LEFTCTRL) || bit(d->sent, KEY_RIGHTCTRL);
	bool alt = bit(d->sent, KEY_LEFTALT) || bit(d->sent, KEY_RIGHTALT);

	log_info("sending Ctrl+Alt+Del");
	if (!ctrl)
		send_key(d, KEY_LEFTCTRL, true);
	if (!alt)
		send_key(d, KEY_LEFTALT, true);
	send_key(d, KEY_DELETE, true);
	send_key(d, KEY_DELETE, false);
	if (!alt)
		send_key(d, KEY_LEFTALT, false);
	if (!ctrl)
		send_key(d, KEY_LEFTCTRL, false);
}

static void toggle_fullscreen(struct viewer_desktop *d)
{
	viewer_app_set_fullscreen(d->app, !viewer_app_fullscreen(d->app));
}

static void toggle_overlay(struct viewer_desktop *d)
{
	d->overlay = !d->overlay;
	viewer_meter_reset(&d->fps);
	viewer_meter_reset(&d->rx);
	d->rtt_us = -1;
	ensure_tick(d);
	tick(d);
	viewer_app_redraw(d->app);
}

/* Whether the key going down is one of our hotkeys; it is then handled here. */
static bool hotkey(struct viewer_desktop *d, unsigned int evdev, unsigned int mods)
{
	const struct viewer_hotkey *hk = d->ui.hotkeys;

	if (viewer_hotkey_match(&hk[VIEWER_HK_TOGGLE_FULLSCREEN], mods, evdev))
		toggle_fullscreen(d);
	else if (viewer_hotkey_match(&hk[VIEWER_HK_SECURE_ATTENTION], mods, evdev))
		secure_attention(d);
	else if (viewer_hotkey_match(&hk[VIEWER_HK_OVERLAY], mods, evdev))
		toggle_overlay(d);
	else if (viewer_hotkey_match(&hk[VIEWER_HK_LOGOUT], mods, evdev)) {
		if (!d->hooks.lost)
			return false; /* not signed in to anything: the key is the guest's */
		log_info("signing out (hotkey)");
		finish(d, VIEWER_EXIT_LOGOUT, NULL);
	} else if (viewer_hotkey_match(&hk[VIEWER_HK_QUIT], mods, evdev)) {
		log_info("quitting (hotkey)");
		viewer_app_quit(d->app);
	} else if (viewer_hotkey_match(&hk[VIEWER_HK_RELEASE_CURSOR], mods, evdev)) {
		d->released = true;
		update_grab(d);
	} else {
		return false;
	}
	return true;
}

static void key_event(struct viewer_desktop *d, const SDL_KeyboardEvent *e)
{
	unsigned int evdev = viewer_scancode_to_evdev(e->keysym.scancode);
	bool down = e->type == SDL_KEYDOWN;

	if (!evdev)
		return;
	if (down && !e->repeat && !viewer_key_mod_bit(evdev) && hotkey(d, evdev, held_mods(d))) {
		set_bit(d->ours, evdev, true);
		return;
	}
	if (bit(d->ours, evdev)) {
		if (!down)
			set_bit(d->ours, evdev, false);
		return; /* a hotkey's repeat or release */
	}
	set_bit(d->held, evdev, down);
	if (viewer_chord_feed(&d->chord, &d->ui.hotkeys[VIEWER_HK_RELEASE_CURSOR], held_mods(d),
	                      evdev, down)) {
		d->released = true;
		update_grab(d);
	}
	send_key(d, evdev, down);
}

/* ---- pointer ---- */

static bool to_guest(struct viewer_desktop *d, int x, int y, int *gx, int *gy)
{
	int win_w, win_h;

	if (!d->tex || d->state != DESK_CONNECTED || !d->conn)
		return false;
	SDL_GetWindowSize(viewer_app_window(d->app), &win_w, &win_h);
	if (win_w > 0 && win_h > 0 && (win_w != d->out_w || win_h != d->out_h)) {
		x = (int)((int64_t)x * d->out_w / win_w);
		y = (int)((int64_t)y * d->out_h / win_h);
	}
	viewer_layout_to_guest(&d->dst, d->tex_w, d->tex_h, x, y, gx, gy);
	return true;
}

static unsigned int button_bit(Uint8 button)
{
	switch (button) {
	case SDL_BUTTON_LEFT:
		return VIEWER_BTN_LEFT;
	case SDL_BUTTON_MIDDLE:
		return VIEWER_BTN_MIDDLE;
	case SDL_BUTTON_RIGHT:
		return VIEWER_BTN_RIGHT;
	default:
		return 0;
	}
}

static void pointer_at(struct viewer_desktop *d, int x, int y)
{
	int gx, gy;

	if (to_guest(d, x, y, &gx, &gy))
		d->conn->ops->pointer(d->conn, gx, gy, d->buttons);
}

static void wheel(struct viewer_desktop *d, const SDL_MouseWheelEvent *e)
{
	int x, y, gx, gy, dy = e->y, dx = e->x;

	if (e->direction == SDL_MOUSEWHEEL_FLIPPED) {
		dy = -dy;
		dx = -dx;
	}
	SDL_GetMouseState(&x, &y);
	if (!to_guest(d, x, y, &gx, &gy))
		return;
	for (int i = 0; i < abs(dy) && i < WHEEL_STEPS_MAX; i++) {
		unsigned int b = dy > 0 ? VIEWER_BTN_WHEEL_UP : VIEWER_BTN_WHEEL_DOWN;

		d->conn->ops->pointer(d->conn, gx, gy, d->buttons | b);
		d->conn->ops->pointer(d->conn, gx, gy, d->buttons);
	}
	for (int i = 0; i < abs(dx) && i < WHEEL_STEPS_MAX; i++) {
		unsigned int b = dx > 0 ? VIEWER_BTN_WHEEL_RIGHT : VIEWER_BTN_WHEEL_LEFT;

		d->conn->ops->pointer(d->conn, gx, gy, d->buttons | b);
		d->conn->ops->pointer(d->conn, gx, gy, d->buttons);
	}
}

/* ---- clipboard ---- */

static void local_clipboard(struct viewer_desktop *d)
{
	char *text;

	if (!d->conn || d->state != DESK_CONNECTED)
		return;
	if (!SDL_HasClipboardText()) {
		log_debug("clipboard: none here");
		return;
	}
	text = SDL_GetClipboardText();
	if (text && *text && (!d->clip || strcmp(d->clip, text) != 0)) {
		free(d->clip);
		d->clip = strdup(text);
		log_debug("clipboard: %zu bytes to the desktop", strlen(text));
		d->conn->ops->clipboard(d->conn, text);
	}
	SDL_free(text);
}

/* ---- screen ---- */

static void desktop_event(void *screen, const SDL_Event *ev)
{
	struct viewer_desktop *d = screen;

	switch (ev->type) {
	case SDL_KEYDOWN:
	case SDL_KEYUP:
		key_event(d, &ev->key);
		break;
	case SDL_MOUSEMOTION:
		pointer_at(d, ev->motion.x, ev->motion.y);
		break;
	case SDL_MOUSEBUTTONDOWN:
	case SDL_MOUSEBUTTONUP: {
		unsigned int b = button_bit(ev->button.button);

		if (ev->type == SDL_MOUSEBUTTONDOWN && d->released) {
			d->released = false; /* a click takes the keyboard back */
			update_grab(d);
		}
		if (ev->type == SDL_MOUSEBUTTONDOWN)
			d->buttons |= b;
		else
			d->buttons &= ~b;
		pointer_at(d, ev->button.x, ev->button.y);
		break;
	}
	case SDL_MOUSEWHEEL:
		wheel(d, &ev->wheel);
		break;
	case SDL_CLIPBOARDUPDATE:
		local_clipboard(d);
		break;
	case SDL_WINDOWEVENT:
		switch (ev->window.event) {
		case SDL_WINDOWEVENT_SIZE_CHANGED:
			window_resized(d, ev->window.data1, ev->window.data2);
			break;
		case SDL_WINDOWEVENT_FOCUS_GAINED:
			log_debug("focus gained");
			d->focused = true;
			update_grab(d);
			local_clipboard(d);
			break;
		case SDL_WINDOWEVENT_FOCUS_LOST:
			d->focused = false;
			release_all(d);
			update_grab(d);
			break;
		case SDL_WINDOWEVENT_LEAVE:
			break;
		default:
			viewer_app_redraw(d->app);
			break;
		}
		break;
	default:
		break;
	}
}

static gboolean tick(gpointer data)
{
	struct viewer_desktop *d = data;
	struct viewer_conn_stats st = { 0, -1 };

	if (d->state == DESK_WAITING && !d->asking)
		waiting_text(d);
	if (d->overlay) {
		viewer_meter_feed(&d->fps, now_ms(), d->frames);
		if (d->conn && d->state == DESK_CONNECTED) {
			d->conn->ops->stats(d->conn, &st);
			viewer_meter_feed(&d->rx, now_ms(), st.bytes_received);
		}
		d->rtt_us = st.rtt_us;
		viewer_app_redraw(d->app);
	}
	if (d->overlay || d->state == DESK_WAITING)
		return G_SOURCE_CONTINUE;
	d->tick_id = 0;
	return G_SOURCE_REMOVE;
}

/*
 * Bring the texture up to date with the connection's surface. Returns the
 * number of guest rectangles that changed, in @changed (VIEWER_CHANGES_MAX
 * of them, or NULL), or -1 when all of the texture is new.
 */
static int upload(struct viewer_desktop *d, SDL_Rect *changed)
{
	SDL_Renderer *r = viewer_app_renderer(d->app);
	const uint32_t *px;
	int w, h, stride, n = 0;

	if (!d->conn || !d->conn->ops->surface(d->conn, &px, &w, &h, &stride))
		return 0;
	if (!d->tex || d->tex_w != w || d->tex_h != h) {
		if (d->tex)
			SDL_DestroyTexture(d->tex);
		d->tex = SDL_CreateTexture(r, SDL_PIXELFORMAT_RGB888, SDL_TEXTUREACCESS_STREAMING,
		                           w, h);
		if (!d->tex) {
			log_warn("cannot make a %dx%d texture: %s", w, h, SDL_GetError());
			return 0;
		}
		d->tex_w = w;
		d->tex_h = h;
		d->full_upload = true;
	}
	if (d->full_upload) {
		SDL_UpdateTexture(d->tex, NULL, px, stride);
		d->full_upload = false;
		d->n_dirty = 0;
		d->frames++;
		return -1;
	}
	for (int i = 0; i < d->n_dirty; i++) {
		const struct viewer_rect *g = &d->dirty[i];
		SDL_Rect all = { 0, 0, w, h }, c, rect = { g->x, g->y, g->w, g->h };

		if (!SDL_IntersectRect(&rect, &all, &c))
			continue;
		SDL_UpdateTexture(d->tex, &c,
		                  (const uint8_t *)px + (size_t)c.y * (size_t)stride +
		                          (size_t)c.x * 4,
		                  stride);
		if (changed)
			changed[n] = c;
		n++;
	}
	if (n)
		d->frames++;
	d->n_dirty = 0;
	return n;
}

static void draw_overlay(struct viewer_desktop *d)
{
	char l[5][400], keys[64];
	const char *lines[5];
	int n = 0;

	snprintf(l[n++], sizeof(l[0]), "%s  %s", viewer_protocol_name(d->session.protocol),
	         strstr(d->where, "://") ? strstr(d->where, "://") + 3 : d->where);
	if (d->tex)
		snprintf(l[n++], sizeof(l[0]), "%d x %d  shown at %d%%", d->tex_w, d->tex_h,
		         d->dst.w * 100 / (d->tex_w ? d->tex_w : 1));
	if (d->state == DESK_CONNECTED) {
		char fps[32] = "-", mbit[32] = "-";

		if (d->fps.valid)
			snprintf(fps, sizeof(fps), "%.0f", d->fps.rate);
		if (d->rx.valid)
			snprintf(mbit, sizeof(mbit), "%.2f", d->rx.rate * 8 / 1e6);
		snprintf(l[n++], sizeof(l[0]), "%s fps   %s Mbit/s received", fps, mbit);
		if (d->rtt_us >= 1000)
			snprintf(l[n++], sizeof(l[0]), "round trip %.1f ms", d->rtt_us / 1000.0);
		else if (d->rtt_us >= 0)
			snprintf(l[n++], sizeof(l[0]), "round trip %d \u00b5s", (int)d->rtt_us);
		else
			snprintf(l[n++], sizeof(l[0]), "round trip -");
	}
	snprintf(l[n++], sizeof(l[0]), "%s hides this",
	         viewer_hotkey_describe(&d->ui.hotkeys[VIEWER_HK_OVERLAY], keys, sizeof(keys)));
	for (int i = 0; i < n; i++)
		lines[i] = l[i];
	viewer_text_overlay(viewer_app_text(d->app), lines, n);
}

static void desktop_render(void *screen, int out_w, int out_h)
{
	struct viewer_desktop *d = screen;
	SDL_Renderer *r = viewer_app_renderer(d->app);

	d->out_w = out_w;
	d->out_h = out_h;
	upload(d, NULL);
	SDL_SetRenderDrawColor(r, BACKGROUND, 0xff);
	SDL_RenderClear(r);
	if (d->tex) {
		SDL_Rect dst;

		d->dst = viewer_layout_fit(d->tex_w, d->tex_h, out_w, out_h);
		dst = (SDL_Rect){ d->dst.x, d->dst.y, d->dst.w, d->dst.h };
		/* Pixel for pixel at 1:1; smooth when scaled. */
		SDL_SetTextureScaleMode(d->tex, dst.w == d->tex_w && dst.h == d->tex_h
		                                        ? SDL_ScaleModeNearest
		                                        : SDL_ScaleModeLinear);
		SDL_RenderCopy(r, d->tex, NULL, &dst);
	}
	if (d->state != DESK_CONNECTED)
		viewer_text_panel(viewer_app_text(d->app), out_w, out_h, d->status, d->detail,
		                  d->tex != NULL);
	if (d->overlay)
		draw_overlay(d);
}

/*
 * Over the last frame (the software renderer keeps it), draw only the
 * guest rectangles that changed: copied 1:1, or, when the picture is
 * scaled, the whole picture scaled again (scaled pieces would not line up
 * with it: SDL rounds each piece's source rectangle) and only the changed
 * part shown. Anything else on the window (the status panel, the overlay,
 * a new layout) takes the whole window.
 */
static int desktop_render_changes(void *screen, int out_w, int out_h, SDL_Rect *rects)
{
	struct viewer_desktop *d = screen;
	SDL_Renderer *r = viewer_app_renderer(d->app);
	SDL_Rect changed[VIEWER_CHANGES_MAX];
	struct viewer_rect dst;
	bool scaled;
	int n;

	if (!d->tex || d->full_upload || d->state != DESK_CONNECTED || d->overlay ||
	    out_w != d->out_w || out_h != d->out_h)
		return -1;
	dst = viewer_layout_fit(d->tex_w, d->tex_h, out_w, out_h);
	if (dst.x != d->dst.x || dst.y != d->dst.y || dst.w != d->dst.w || dst.h != d->dst.h)
		return -1;
	n = upload(d, changed);
	if (n <= 0)
		return n;
	scaled = dst.w != d->tex_w || dst.h != d->tex_h;
	if (scaled)
		SDL_RenderCopy(r, d->tex, NULL, &(SDL_Rect){ dst.x, dst.y, dst.w, dst.h });
	for (int i = 0; i < n; i++) {
		const SDL_Rect *c = &changed[i];
		struct viewer_rect o;

		if (scaled) {
			o = viewer_layout_scaled_rect(
			        &dst, d->tex_w, d->tex_h,
			        &(struct viewer_rect){ c->x, c->y, c->w, c->h });
			rects[i] = (SDL_Rect){ o.x, o.y, o.w, o.h };
		} else {
			rects[i] = (SDL_Rect){ dst.x + c->x, dst.y + c->y, c->w, c->h };
			SDL_RenderCopy(r, d->tex, c, &rects[i]);
		}
	}
	return n;
}

static void desktop_free(void *screen)
{
	struct viewer_desktop *d = screen;

	if (!d)
		return;
	if (d->grabbed)
		SDL_SetWindowKeyboardGrab(viewer_app_window(d->app), SDL_FALSE);
	viewer_conn_free(d->conn);
	viewer_conn_free(d->dead);
	if (d->reap_id)
		g_source_remove(d->reap_id);
	if (d->retry_id)
		g_source_remove(d->retry_id);
	if (d->tick_id)
		g_source_remove(d->tick_id);
	if (d->resize_id)
		g_source_remove(d->resize_id);
	if (d->tex)
		SDL_DestroyTexture(d->tex);
	SDL_SetCursor(SDL_GetDefaultCursor());
	if (d->cursor)
		SDL_FreeCursor(d->cursor);
	if (d->dot)
		SDL_FreeCursor(d->dot);
	free(d->clip);
	viewer_session_clear(&d->session);
	free(d);
}

static const struct viewer_screen_ops desktop_ops = {
	.event = desktop_event,
	.render = desktop_render,
	.free = desktop_free,
	.render_changes = desktop_render_changes,
};

int viewer_desktop_new(struct viewer_app *app, const struct viewer_session *session,
                       const struct viewer_ui *ui, const struct viewer_desktop_hooks *hooks,
                       struct viewer_screen **ret)
{
	struct viewer_desktop *d = calloc(1, sizeof(*d));
	SDL_Window *win = viewer_app_window(app);
	int r;

	if (!d)
		return -ENOMEM;
	d->base.ops = &desktop_ops;
	d->app = app;
	d->ui = *ui;
	if (hooks)
		d->hooks = *hooks;
	d->overlay = ui->overlay;
	d->rtt_us = -1;
	r = viewer_session_copy(&d->session, session);
	if (r < 0) {
		free(d);
		return r;
	}
	viewer_session_describe(&d->session, d->where, sizeof(d->where));
	d->dot = make_dot();
	set_cursor(d, NULL);
	d->focused = (SDL_GetWindowFlags(win) & SDL_WINDOW_INPUT_FOCUS) != 0;
	*ret = &d->base;
	connect_now(d);
	ensure_tick(d);
	return 0;
}
