// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/login.h"

#include <errno.h>
#include <stdbool.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "viewer/form.h"
#include "viewer/hotkey.h"
#include "viewer/keymap.h"
#include "viewer/text.h"

#define PANEL_W 440
#define PAD 36
#define BOX_H 42
#define ROW_H 44
#define ROWS_SHOWN 6
#define LOGO_SIZE 72
#define ERROR_LINES 6
#define WRAP_LINE 200        /* bytes of one wrapped line */
#define START_WAIT_MS 180000 /* a desktop that is starting: keep asking this long */

enum login_state {
	LOGIN_FORM,   /* typing */
	LOGIN_BUSY,   /* waiting for the broker */
	LOGIN_CHOOSE, /* picking one of several pools */
};

static const SDL_Color c_bg_top = { 0x1d, 0x24, 0x36, 0xff };
static const SDL_Color c_bg_bottom = { 0x0d, 0x10, 0x17, 0xff };
static const SDL_Color c_panel = { 0xf7, 0xf8, 0xfa, 0xff };
static const SDL_Color c_shadow = { 0x00, 0x00, 0x00, 0x50 };
static const SDL_Color c_text = { 0x1f, 0x23, 0x29, 0xff };
static const SDL_Color c_label = { 0x55, 0x5c, 0x69, 0xff };
static const SDL_Color c_box = { 0xff, 0xff, 0xff, 0xff };
static const SDL_Color c_box_border = { 0xc3, 0xc9, 0xd2, 0xff };
static const SDL_Color c_accent = { 0x2f, 0x6f, 0xed, 0xff };
static const SDL_Color c_accent_dim = { 0x8f, 0xaa, 0xe0, 0xff };
static const SDL_Color c_white = { 0xff, 0xff, 0xff, 0xff };
static const SDL_Color c_error = { 0xc6, 0x28, 0x28, 0xff };
static const SDL_Color c_row_sel = { 0xe3, 0xec, 0xfd, 0xff };
static const SDL_Color c_footer = { 0x9a, 0xa3, 0xb5, 0xff };

struct viewer_login {
	struct viewer_screen base;
	struct viewer_app *app;
	struct viewer_login_params p;
	struct viewer_login_hooks hooks;
	char title[256], where[300];
	struct viewer_ui ui;

	enum login_state state;
	struct viewer_form form;
	char message[400];
	bool message_is_error;
	char busy[200]; /* what we wait for */
	int call;       /* broker call id, 0: none */

	char pools[VIEWER_BROKER_POOLS_MAX][VIEWER_BROKER_NAME_MAX + 1];
	int npools, sel, top;
	char pool[VIEWER_BROKER_NAME_MAX + 1]; /* the one being connected to */
	guint again_id;                        /* asking again for a starting desktop */
	int64_t start_deadline_ms;

	bool focused, grabbed;
	/* where things were drawn, for clicks */
	SDL_Rect field_rect[VIEWER_FIELD_COUNT], button, rows[ROWS_SHOWN];
	int out_w, out_h;
};

static int64_t now_ms(void)
{
	return g_get_monotonic_time() / 1000;
}

static void say(struct viewer_login *l, bool error, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void say(struct viewer_login *l, bool error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(l->message, sizeof(l->message), fmt, ap);
	va_end(ap);
	l->message_is_error = error;
	viewer_app_redraw(l->app);
}

static void set_busy(struct viewer_login *l, const char *what)
{
	l->state = LOGIN_BUSY;
	snprintf(l->busy, sizeof(l->busy), "%s", what);
	l->message[0] = '\0';
	viewer_app_redraw(l->app);
}

static void update_grab(struct viewer_login *l)
{
	bool want = l->p.grab_keyboard && l->focused;

	if (want == l->grabbed)
		return;
	SDL_SetWindowKeyboardGrab(viewer_app_window(l->app), want ? SDL_TRUE : SDL_FALSE);
	l->grabbed = want;
}

/* ---- the broker conversation ---- */

static void connect_pool(struct viewer_login *l, const char *pool);

/* Back to the form, signed out, with @error shown. */
static void back_to_form(struct viewer_login *l, const char *error)
{
	if (viewer_broker_logged_in(l->p.broker))
		viewer_broker_logout(l->p.broker, NULL, NULL);
	l->state = LOGIN_FORM;
	l->npools = 0;
	viewer_form_clear_field(&l->form, VIEWER_FIELD_PASSWORD);
	viewer_form_show_totp(&l->form, false);
	viewer_form_focus(&l->form, l->form.f[VIEWER_FIELD_USER].len ? VIEWER_FIELD_PASSWORD
	                                                             : VIEWER_FIELD_USER);
	if (error)
		say(l, true, "%s", error);
	viewer_app_redraw(l->app);
}

static gboolean connect_again(gpointer data);

static void on_connect(void *opaque, const struct viewer_broker_result *r)
{
	struct viewer_login *l = opaque;
	struct viewer_session s;
	char text[400], vm[VIEWER_BROKER_NAME_MAX + 1] = "", err[300];

	l->call = 0;
	if (r->err == 0 && r->status == 200) {
		viewer_session_init(&s);
		if (viewer_broker_session(r, &s, vm, sizeof(vm), err, sizeof(err)) < 0) {
			log_warn("login: %s", err);
			back_to_form(l, "The broker's answer could not be used. Please try again.");
			return;
		}
		log_info("login: desktop %s in pool %s", vm[0] ? vm : "?", l->pool);
		l->hooks.desktop(l->hooks.opaque, &s, l->pool, vm);
		viewer_session_clear(&s);
		return;
	}
	/* A desktop being started for us: ask again when the broker says. */
	if (r->err == 0 && r->status == 503 && strcmp(r->code, "unavailable") == 0 &&
	    r->retry_after > 0 && now_ms() < l->start_deadline_ms) {
		set_busy(l, "Your desktop is starting\u2026");
		l->again_id = g_timeout_add_seconds(
		        (guint)(r->retry_after > 5 ? 5 : r->retry_after), connect_again, l);
		return;
	}
	viewer_broker_explain(r, text, sizeof(text));
	log_info("login: %s", r->err ? "unreachable" : r->code[0] ? r->code : "error");
	if (r->err == 0 && r->status == 401) {
		back_to_form(l, text);
	} else if (l->npools > 1) {
		l->state = LOGIN_CHOOSE;
		say(l, true, "%s", text);
	} else {
		back_to_form(l, text);
	}
}

static gboolean connect_again(gpointer data)
{
	struct viewer_login *l = data;

	l->again_id = 0;
	connect_pool(l, l->pool);
	return G_SOURCE_REMOVE;
}

static void connect_pool(struct viewer_login *l, const char *pool)
{
	char what[200];

	if (pool != l->pool) {
		snprintf(l->pool, sizeof(l->pool), "%s", pool);
		l->start_deadline_ms = now_ms() + START_WAIT_MS;
		snprintf(what, sizeof(what), "Connecting to %s\u2026", pool);
		set_busy(l, what);
	}
	l->call = viewer_broker_connect(l->p.broker, l->pool, l->p.protocol, on_connect, l);
	if (l->call < 0) {
		l->call = 0;
		back_to_form(l, "Cannot ask the broker for a desktop.");
	}
}

static void on_pools(void *opaque, const struct viewer_broker_result *r)
{
	struct viewer_login *l = opaque;
	char text[400];

	l->call = 0;
	if (r->err || r->status != 200) {
		viewer_broker_explain(r, text, sizeof(text));
		back_to_form(l, text);
		return;
	}
	l->npools = viewer_broker_pool_names(r->json, l->pools, VIEWER_BROKER_POOLS_MAX);
	log_info("login: %d pool%s", l->npools, l->npools == 1 ? "" : "s");
	if (l->npools <= 0) {
		back_to_form(l, "No desktops are assigned to you. Please ask your administrator.");
		return;
	}
	if (l->npools == 1) {
		connect_pool(l, l->pools[0]);
		return;
	}
	l->sel = l->top = 0;
	l->state = LOGIN_CHOOSE;
	l->message[0] = '\0';
	viewer_app_redraw(l->app);
}

static void on_login(void *opaque, const struct viewer_broker_result *r)
{
	struct viewer_login *l = opaque;
	char text[400];

	l->call = 0;
	l->state = LOGIN_FORM;
	if (r->err == 0 && r->status == 200) {
		log_info("login: signed in as %s", viewer_broker_user(l->p.broker));
		viewer_form_clear_field(&l->form, VIEWER_FIELD_PASSWORD);
		viewer_form_show_totp(&l->form, false);
		set_busy(l, "Finding your desktops\u2026");
		l->call = viewer_broker_pools(l->p.broker, on_pools, l);
		if (l->call < 0) {
			l->call = 0;
			back_to_form(l, "Cannot ask the broker for your desktops.");
		}
		return;
	}
	viewer_broker_explain(r, text, sizeof(text));
	log_info("login: %s", r->err == -EKEYREJECTED ? "certificate_refused"
	                      : r->err                ? "unreachable"
	                      : r->code[0]            ? r->code
	                                              : "error");
	if (r->err == 0 && strcmp(r->code, "totp_required") == 0) {
		viewer_form_show_totp(&l->form, true);
		say(l, false, "%s", text);
		return;
	}
	if (r->err == 0 && strcmp(r->code, "totp_bad") == 0) {
		viewer_form_clear_field(&l->form, VIEWER_FIELD_TOTP);
		viewer_form_focus(&l->form, VIEWER_FIELD_TOTP);
	} else if (r->err == 0 && r->status < 500) {
		viewer_form_clear_field(&l->form, VIEWER_FIELD_PASSWORD);
		viewer_form_show_totp(&l->form, false);
		viewer_form_focus(&l->form, VIEWER_FIELD_PASSWORD);
	}
	say(l, true, "%s", text);
}

static void submit(struct viewer_login *l)
{
	const char *why = viewer_form_check(&l->form);

	if (why) {
		say(l, true, "%s", why);
		return;
	}
	set_busy(l, "Signing in\u2026");
	l->call = viewer_broker_login(
	        l->p.broker, viewer_form_value(&l->form, VIEWER_FIELD_USER),
	        viewer_form_value(&l->form, VIEWER_FIELD_PASSWORD),
	        l->form.totp_shown ? viewer_form_value(&l->form, VIEWER_FIELD_TOTP) : NULL,
	        on_login, l);
	if (l->call < 0) {
		l->call = 0;
		l->state = LOGIN_FORM;
		say(l, true, "The user name or password cannot be sent as typed.");
	}
}

static void choose(struct viewer_login *l, int i)
{
	if (i < 0 || i >= l->npools)
		return;
	l->sel = i;
	connect_pool(l, l->pools[i]);
}

static void sign_out(struct viewer_login *l)
{
	log_info("login: signed out");
	back_to_form(l, NULL);
	l->message[0] = '\0';
}

void viewer_login_idle(struct viewer_screen *screen, const char *message)
{
	struct viewer_login *l = (struct viewer_login *)screen;

	if (l->call) {
		viewer_broker_cancel(l->p.broker, l->call);
		l->call = 0;
	}
	if (l->again_id) {
		g_source_remove(l->again_id);
		l->again_id = 0;
	}
	back_to_form(l, NULL);
	viewer_form_clear(&l->form);
	if (message)
		say(l, false, "%s", message);
	else
		l->message[0] = '\0';
}

/* ---- input ---- */

static unsigned int sdl_mods(void)
{
	SDL_Keymod m = SDL_GetModState();
	unsigned int mods = 0;

	if (m & KMOD_CTRL)
		mods |= VIEWER_MOD_CTRL;
	if (m & KMOD_ALT)
		mods |= VIEWER_MOD_ALT;
	if (m & KMOD_SHIFT)
		mods |= VIEWER_MOD_SHIFT;
	if (m & KMOD_GUI)
		mods |= VIEWER_MOD_SUPER;
	return mods;
}

static void key_form(struct viewer_login *l, const SDL_Keysym *k)
{
	struct viewer_form *f = &l->form;

	switch (k->sym) {
	case SDLK_TAB:
		viewer_form_next(f, (k->mod & KMOD_SHIFT) != 0);
		break;
	case SDLK_UP:
		viewer_form_next(f, true);
		break;
	case SDLK_DOWN:
		viewer_form_next(f, false);
		break;
	case SDLK_RETURN:
	case SDLK_KP_ENTER:
		/* Enter in the user name goes on to the password, as people expect. */
		if (f->focus == VIEWER_FIELD_USER && f->f[VIEWER_FIELD_PASSWORD].len == 0 &&
		    f->f[VIEWER_FIELD_USER].len > 0)
			viewer_form_next(f, false);
		else
			submit(l);
		break;
	case SDLK_BACKSPACE:
		viewer_form_backspace(f);
		break;
	case SDLK_DELETE:
		viewer_form_delete(f);
		break;
	case SDLK_LEFT:
		viewer_form_left(f);
		break;
	case SDLK_RIGHT:
		viewer_form_right(f);
		break;
	case SDLK_HOME:
		viewer_form_home(f);
		break;
	case SDLK_END:
		viewer_form_end(f);
		break;
	case SDLK_u: /* Ctrl+U wipes the field, as in a terminal */
		if (k->mod & KMOD_CTRL) {
			viewer_form_clear_field(f, f->focus);
			break;
		}
		return;
	case SDLK_ESCAPE:
		l->message[0] = '\0';
		break;
	default:
		return;
	}
	viewer_app_redraw(l->app);
}

static void key_choose(struct viewer_login *l, const SDL_Keysym *k)
{
	switch (k->sym) {
	case SDLK_UP:
		if (l->sel > 0)
			l->sel--;
		break;
	case SDLK_DOWN:
		if (l->sel + 1 < l->npools)
			l->sel++;
		break;
	case SDLK_HOME:
		l->sel = 0;
		break;
	case SDLK_END:
		l->sel = l->npools - 1;
		break;
	case SDLK_RETURN:
	case SDLK_KP_ENTER:
		choose(l, l->sel);
		return;
	case SDLK_ESCAPE:
		sign_out(l);
		return;
	default:
		return;
	}
	if (l->sel < l->top)
		l->top = l->sel;
	if (l->sel >= l->top + ROWS_SHOWN)
		l->top = l->sel - ROWS_SHOWN + 1;
	viewer_app_redraw(l->app);
}

static bool inside(const SDL_Rect *r, int x, int y)
{
	SDL_Point p = { x, y };

	return r->w > 0 && SDL_PointInRect(&p, r);
}

/* Window coordinates to output pixels (they differ on high-DPI outputs). */
static void to_output(struct viewer_login *l, int *x, int *y)
{
	int w, h;

	SDL_GetWindowSize(viewer_app_window(l->app), &w, &h);
	if (w > 0 && h > 0 && l->out_w > 0) {
		*x = *x * l->out_w / w;
		*y = *y * l->out_h / h;
	}
}

static void click(struct viewer_login *l, int x, int y)
{
	to_output(l, &x, &y);
	if (l->state == LOGIN_FORM) {
		for (int i = 0; i < VIEWER_FIELD_COUNT; i++)
			if (viewer_form_shown(&l->form, i) && inside(&l->field_rect[i], x, y))
				viewer_form_focus(&l->form, i);
		if (inside(&l->button, x, y))
			submit(l);
	} else if (l->state == LOGIN_CHOOSE) {
		for (int i = 0; i < ROWS_SHOWN && l->top + i < l->npools; i++)
			if (inside(&l->rows[i], x, y))
				choose(l, l->top + i);
		if (inside(&l->button, x, y))
			sign_out(l);
	}
	viewer_app_redraw(l->app);
}

static void login_event(void *screen, const SDL_Event *ev)
{
	struct viewer_login *l = screen;
	unsigned int evdev;

	switch (ev->type) {
	case SDL_TEXTINPUT:
		/* SDL leaves control characters out; AltGr characters must come in. */
		if (l->state == LOGIN_FORM && viewer_form_insert(&l->form, ev->text.text))
			viewer_app_redraw(l->app);
		break;
	case SDL_KEYDOWN:
		evdev = viewer_scancode_to_evdev(ev->key.keysym.scancode);
		if (!ev->key.repeat && evdev && !viewer_key_mod_bit(evdev) &&
		    viewer_hotkey_match(&l->ui.hotkeys[VIEWER_HK_QUIT], sdl_mods(), evdev)) {
			log_info("quitting (hotkey)");
			viewer_app_quit(l->app);
			break;
		}
		if (l->state == LOGIN_FORM)
			key_form(l, &ev->key.keysym);
		else if (l->state == LOGIN_CHOOSE)
			key_choose(l, &ev->key.keysym);
		break;
	case SDL_MOUSEBUTTONDOWN:
		if (ev->button.button == SDL_BUTTON_LEFT)
			click(l, ev->button.x, ev->button.y);
		break;
	case SDL_MOUSEMOTION:
		if (l->state == LOGIN_CHOOSE) {
			int x = ev->motion.x, y = ev->motion.y;

			to_output(l, &x, &y);
			for (int i = 0; i < ROWS_SHOWN && l->top + i < l->npools; i++)
				if (inside(&l->rows[i], x, y) && l->sel != l->top + i) {
					l->sel = l->top + i;
					viewer_app_redraw(l->app);
				}
		}
		break;
	case SDL_MOUSEWHEEL:
		if (l->state == LOGIN_CHOOSE) {
			SDL_Keysym k = { .sym = ev->wheel.y > 0 ? SDLK_UP : SDLK_DOWN };

			key_choose(l, &k);
		}
		break;
	case SDL_WINDOWEVENT:
		if (ev->window.event == SDL_WINDOWEVENT_FOCUS_GAINED) {
			l->focused = true;
			update_grab(l);
		} else if (ev->window.event == SDL_WINDOWEVENT_FOCUS_LOST) {
			l->focused = false;
			update_grab(l);
		}
		viewer_app_redraw(l->app);
		break;
	default:
		break;
	}
}

/* ---- drawing ---- */

static void fill(struct viewer_login *l, int x, int y, int w, int h, SDL_Color c)
{
	viewer_fill_rect(viewer_app_renderer(l->app), x, y, w, h, c);
}

static void frame(struct viewer_login *l, const SDL_Rect *r, int width, SDL_Color c)
{
	fill(l, r->x, r->y, r->w, width, c);
	fill(l, r->x, r->y + r->h - width, r->w, width, c);
	fill(l, r->x, r->y, width, r->h, c);
	fill(l, r->x + r->w - width, r->y, width, r->h, c);
}

static void background(struct viewer_login *l, int w, int h)
{
	SDL_Renderer *r = viewer_app_renderer(l->app);

	SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
	for (int y = 0; y < h; y++) {
		int k = h > 1 ? y * 256 / (h - 1) : 0;

		SDL_SetRenderDrawColor(
		        r, (Uint8)(c_bg_top.r + (c_bg_bottom.r - c_bg_top.r) * k / 256),
		        (Uint8)(c_bg_top.g + (c_bg_bottom.g - c_bg_top.g) * k / 256),
		        (Uint8)(c_bg_top.b + (c_bg_bottom.b - c_bg_top.b) * k / 256), 0xff);
		SDL_RenderDrawLine(r, 0, y, w - 1, y);
	}
}

/* Whether the first @len bytes of @s fit @width in @font, with @tail after them; kept in @buf. */
static bool fits(struct viewer_text *t, enum viewer_font font, const char *s, size_t len,
                 const char *tail, int width, char buf[WRAP_LINE])
{
	int w, h;

	snprintf(buf, WRAP_LINE, "%.*s%s", (int)len, s, tail);
	viewer_text_measure(t, font, buf, &w, &h);
	return w <= width;
}

/* The UTF-8 character boundary after (or before) byte @i of @s. */
static size_t next_char(const char *s, size_t i)
{
	if (s[i])
		i++;
	while ((s[i] & 0xc0) == 0x80)
		i++;
	return i;
}

static size_t prev_char(const char *s, size_t i)
{
	if (i > 0)
		i--;
	while (i > 0 && (s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/*
 * Split @text into at most @max lines that fit @width in @font; returns
 * how many. Lines break between words; a word wider than a line (a
 * certificate fingerprint, a URL) breaks between characters; when the text
 * needs more lines than @max, the last one ends in an ellipsis.
 */
static int wrap(struct viewer_text *t, enum viewer_font font, const char *text, int width,
                char lines[][WRAP_LINE], int max)
{
	const char *p = text;
	int n = 0;

	while (*p && n < max) {
		char *line = lines[n];
		size_t take = 0, next = 0;

		for (;;) { /* as many whole words as fit */
			while (p[next] == ' ')
				next++;
			while (p[next] && p[next] != ' ')
				next++;
			if (next >= WRAP_LINE - 8 || !fits(t, font, p, next, "", width, line))
				break;
			take = next;
			if (!p[next])
				break;
		}
		if (take == 0) { /* a word wider than a line: as many characters as fit, */
			for (next = next_char(p, 0);
			     next < WRAP_LINE - 8 && fits(t, font, p, next, "", width, line);
			     next = next_char(p, next)) {
				take = next;
				if (!p[next])
					break;
			}
			/* after a separator when there is one late enough ("AB:CD:" or "/path/") */
			for (size_t i = take; p[take] && i > take / 2; i--)
				if (strchr(":/-.,", p[i - 1])) {
					take = i;
					break;
				}
		}
		if (take == 0)
			take = next_char(p, 0);
		if (n == max - 1 && p[take]) {
			while (take > 0 && !fits(t, font, p, take, "\u2026", width, line))
				take = prev_char(p, take);
			snprintf(line, WRAP_LINE, "%.*s\u2026", (int)take, p);
			return n + 1;
		}
		snprintf(line, WRAP_LINE, "%.*s", (int)take, p);
		n++;
		p += take;
		while (*p == ' ')
			p++;
	}
	return n;
}

static void draw_centered(struct viewer_login *l, enum viewer_font font, SDL_Color c,
                          const char *text, int cx, int y)
{
	struct viewer_text *t = viewer_app_text(l->app);
	int w, h;

	viewer_text_measure(t, font, text, &w, &h);
	viewer_text_draw(t, font, c, text, cx - w / 2, y);
}

static int draw_field(struct viewer_login *l, enum viewer_form_field f, const char *label, int x,
                      int y, int w)
{
	struct viewer_text *t = viewer_app_text(l->app);
	SDL_Renderer *r = viewer_app_renderer(l->app);
	bool focus = l->form.focus == f && l->state == LOGIN_FORM;
	SDL_Rect box = { x, y + viewer_text_line_height(t, VIEWER_FONT_SMALL) + 6, w, BOX_H };
	char shown[VIEWER_FORM_TEXT_MAX * 3 + 4], before[sizeof(shown)];
	size_t cur = viewer_form_display(&l->form, f, shown, sizeof(shown));
	int tw, th, cx, shift = 0, inner = w - 28;
	SDL_Rect clip = { box.x + 12, box.y + 2, inner + 4, box.h - 4 };

	viewer_text_draw(t, VIEWER_FONT_SMALL, c_label, label, x, y);
	fill(l, box.x, box.y, box.w, box.h, c_box);
	frame(l, &box, focus ? 2 : 1, focus ? c_accent : c_box_border);
	l->field_rect[f] = box;
	snprintf(before, sizeof(before), "%.*s", (int)cur, shown);
	viewer_text_measure(t, VIEWER_FONT_INPUT, before, &cx, &th);
	viewer_text_measure(t, VIEWER_FONT_INPUT, shown, &tw, &th);
	/* Long text scrolls so that the cursor stays in the box. */
	if (cx > inner)
		shift = cx - inner;
	SDL_RenderSetClipRect(r, &clip);
	viewer_text_draw(t, VIEWER_FONT_INPUT, l->state == LOGIN_BUSY ? c_label : c_text, shown,
	                 box.x + 14 - shift, box.y + (BOX_H - th) / 2);
	if (focus)
		fill(l, box.x + 14 - shift + cx, box.y + 10, 2, BOX_H - 20, c_text);
	SDL_RenderSetClipRect(r, NULL);
	return box.y + box.h - y;
}

static void draw_button(struct viewer_login *l, const char *label, bool primary, bool enabled,
                        int x, int y, int w)
{
	SDL_Rect b = { x, y, w, 44 };

	if (primary) {
		fill(l, b.x, b.y, b.w, b.h, enabled ? c_accent : c_accent_dim);
		draw_centered(l, VIEWER_FONT_TITLE, c_white, label, b.x + b.w / 2,
		              b.y + (b.h - viewer_text_line_height(viewer_app_text(l->app),
		                                                   VIEWER_FONT_TITLE)) /
		                              2);
	} else {
		fill(l, b.x, b.y, b.w, b.h, c_box);
		frame(l, &b, 1, c_box_border);
		draw_centered(l, VIEWER_FONT_BODY, c_text, label, b.x + b.w / 2,
		              b.y + (b.h - viewer_text_line_height(viewer_app_text(l->app),
		                                                   VIEWER_FONT_BODY)) /
		                              2);
	}
	l->button = b;
}

/* The panel's contents from @y; returns the height used (drawn only when @draw). */
static int panel_body(struct viewer_login *l, int x, int y, int w, bool draw)
{
	struct viewer_text *t = viewer_app_text(l->app);
	int y0 = y, lh_body = viewer_text_line_height(t, VIEWER_FONT_BODY);
	char lines[ERROR_LINES][WRAP_LINE], sub[200];
	int n;

	if (l->p.logo) {
		if (draw) {
			SDL_Rect dst = { x + (w - LOGO_SIZE) / 2, y, LOGO_SIZE, LOGO_SIZE };

			SDL_RenderCopy(viewer_app_renderer(l->app), l->p.logo, NULL, &dst);
		}
		y += LOGO_SIZE + 18;
	}
	if (draw)
		draw_centered(l, VIEWER_FONT_HEADING, c_text, l->title, x + w / 2, y);
	y += viewer_text_line_height(t, VIEWER_FONT_HEADING) + 2;
	if (l->state == LOGIN_CHOOSE || (l->state == LOGIN_BUSY && l->npools > 1))
		snprintf(sub, sizeof(sub), "Signed in as %s", viewer_broker_user(l->p.broker));
	else
		snprintf(sub, sizeof(sub), "Sign in to your desktop");
	if (draw)
		draw_centered(l, VIEWER_FONT_BODY, c_label, sub, x + w / 2, y);
	y += lh_body + 26;

	if (l->state == LOGIN_CHOOSE || (l->state == LOGIN_BUSY && l->npools > 1)) {
		if (draw)
			viewer_text_draw(t, VIEWER_FONT_SMALL, c_label, "Choose a desktop", x, y);
		y += viewer_text_line_height(t, VIEWER_FONT_SMALL) + 6;
		for (int i = 0; i < ROWS_SHOWN && l->top + i < l->npools; i++) {
			SDL_Rect row = { x, y, w, ROW_H };
			bool sel = l->top + i == l->sel;

			if (draw) {
				fill(l, row.x, row.y, row.w, row.h, sel ? c_row_sel : c_box);
				frame(l, &row, 1, sel ? c_accent : c_box_border);
				if (sel)
					fill(l, row.x, row.y, 4, row.h, c_accent);
				viewer_text_draw(t, VIEWER_FONT_INPUT, c_text, l->pools[l->top + i],
				                 row.x + 16,
				                 row.y + (ROW_H - viewer_text_line_height(
				                                          t, VIEWER_FONT_INPUT)) /
				                                 2);
			}
			l->rows[i] = row;
			y += ROW_H + 6;
		}
		if (draw && l->npools > ROWS_SHOWN) {
			char more[64];

			snprintf(more, sizeof(more), "%d of %d shown", ROWS_SHOWN, l->npools);
			viewer_text_draw(t, VIEWER_FONT_SMALL, c_label, more, x, y);
		}
		if (l->npools > ROWS_SHOWN)
			y += viewer_text_line_height(t, VIEWER_FONT_SMALL) + 4;
		y += 10;
	} else {
		memset(l->rows, 0, sizeof(l->rows));
		y += draw ? draw_field(l, VIEWER_FIELD_USER, "User name", x, y, w)
		          : viewer_text_line_height(t, VIEWER_FONT_SMALL) + 6 + BOX_H;
		y += 16;
		y += draw ? draw_field(l, VIEWER_FIELD_PASSWORD, "Password", x, y, w)
		          : viewer_text_line_height(t, VIEWER_FONT_SMALL) + 6 + BOX_H;
		y += 16;
		if (l->form.totp_shown) {
			y += draw ? draw_field(l, VIEWER_FIELD_TOTP, "Authentication code", x, y, w)
			          : viewer_text_line_height(t, VIEWER_FONT_SMALL) + 6 + BOX_H;
			y += 16;
		} else {
			memset(&l->field_rect[VIEWER_FIELD_TOTP], 0, sizeof(SDL_Rect));
		}
	}

	/* The message line: what went wrong, or what we wait for. */
	if (l->state == LOGIN_BUSY)
		n = wrap(t, VIEWER_FONT_BODY, l->busy, w, lines, ERROR_LINES);
	else
		n = l->message[0] ? wrap(t, VIEWER_FONT_BODY, l->message, w, lines, ERROR_LINES)
		                  : 0;
	for (int i = 0; i < n; i++) {
		if (draw)
			draw_centered(l, VIEWER_FONT_BODY,
			              l->state == LOGIN_BUSY ? c_accent
			              : l->message_is_error  ? c_error
			                                     : c_accent,
			              lines[i], x + w / 2, y);
		y += lh_body;
	}
	y += n ? 14 : 4;

	if (draw) {
		if (l->state == LOGIN_CHOOSE)
			draw_button(l, "Sign out", false, true, x, y, w);
		else if (l->state == LOGIN_BUSY)
			draw_button(l,
			            viewer_broker_logged_in(l->p.broker) ? "Connecting\u2026"
			                                                 : "Signing in\u2026",
			            true, false, x, y, w);
		else
			draw_button(l, "Sign in", true, true, x, y, w);
	}
	y += 44;
	return y - y0;
}

static void login_render(void *screen, int out_w, int out_h)
{
	struct viewer_login *l = screen;
	struct viewer_text *t = viewer_app_text(l->app);
	int w = PANEL_W, h, x, y, inner;
	char foot[400], keys[64];

	l->out_w = out_w;
	l->out_h = out_h;
	background(l, out_w, out_h);
	if (w > out_w - 32)
		w = out_w - 32;
	inner = w - 2 * PAD;
	h = panel_body(l, 0, 0, inner, false) + 2 * PAD;
	x = (out_w - w) / 2;
	y = (out_h - h) / 2;
	if (y < 16)
		y = 16;
	fill(l, x + 4, y + 6, w, h, c_shadow);
	fill(l, x, y, w, h, c_panel);
	fill(l, x, y, w, 4, c_accent);
	panel_body(l, x + PAD, y + PAD, inner, true);

	/* The footer: which broker, and the hints that matter here. */
	if (l->state == LOGIN_CHOOSE)
		snprintf(foot, sizeof(foot),
		         "\u2191 \u2193 to choose, Enter to connect, Esc to sign out  \u00b7  %s",
		         l->where);
	else if (l->ui.hotkeys[VIEWER_HK_QUIT].evdev)
		snprintf(
		        foot, sizeof(foot), "%s  \u00b7  %s quits", l->where,
		        viewer_hotkey_describe(&l->ui.hotkeys[VIEWER_HK_QUIT], keys, sizeof(keys)));
	else
		snprintf(foot, sizeof(foot), "%s", l->where);
	draw_centered(l, VIEWER_FONT_SMALL, c_footer, foot, out_w / 2,
	              out_h - viewer_text_line_height(t, VIEWER_FONT_SMALL) - 18);
}

static void login_free(void *screen)
{
	struct viewer_login *l = screen;

	if (!l)
		return;
	if (l->call)
		viewer_broker_cancel(l->p.broker, l->call);
	if (l->again_id)
		g_source_remove(l->again_id);
	if (l->grabbed)
		SDL_SetWindowKeyboardGrab(viewer_app_window(l->app), SDL_FALSE);
	viewer_form_clear(&l->form);
	free(l);
}

static const struct viewer_screen_ops login_ops = {
	.event = login_event,
	.render = login_render,
	.free = login_free,
};

int viewer_login_new(struct viewer_app *app, const struct viewer_login_params *p,
                     const struct viewer_login_hooks *hooks, struct viewer_screen **ret)
{
	struct viewer_login *l = calloc(1, sizeof(*l));
	SDL_Window *win = viewer_app_window(app);

	if (!l)
		return -ENOMEM;
	l->base.ops = &login_ops;
	l->app = app;
	l->p = *p;
	l->hooks = *hooks;
	l->ui = *p->ui;
	l->p.ui = &l->ui;
	snprintf(l->title, sizeof(l->title), "%s",
	         p->title && *p->title ? p->title : "Virtual desktop");
	snprintf(l->where, sizeof(l->where), "%s", p->where ? p->where : "");
	l->p.title = l->title;
	l->p.where = l->where;
	l->p.message = NULL;
	viewer_form_init(&l->form);
	if (p->message && *p->message)
		say(l, p->message_is_error, "%s", p->message);
	SDL_SetWindowTitle(win, l->title);
	l->focused = (SDL_GetWindowFlags(win) & SDL_WINDOW_INPUT_FOCUS) != 0;
	update_grab(l);
	SDL_StartTextInput();
	*ret = &l->base;
	viewer_app_redraw(app);
	return 0;
}
