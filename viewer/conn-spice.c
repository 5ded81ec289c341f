// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * SPICE through spice-client-glib. The library is asynchronous and runs on
 * the GLib default main context, which loop.c drives from the SDL loop, so
 * all of this runs on the main thread.
 *
 * We open the main, display (monitor 0), inputs and cursor channels; audio,
 * USB and smartcard channels are left closed. The primary surface is shown
 * in place: spice-client-glib owns the pixels and says which parts changed.
 */
#include "viewer/conn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <spice-client.h>

#include "proto/log.h"
#include "viewer/keymap.h"

struct spice_conn {
	struct viewer_conn base;
	SpiceSession *session;
	GPtrArray *channels; /* every channel we attached handlers to (referenced) */
	SpiceMainChannel *main;
	SpiceDisplayChannel *display;
	SpiceInputsChannel *inputs;
	bool opened, ended;
	char where[VIEWER_HOST_MAX + 32];
	/* the primary surface, owned by spice-client-glib */
	const uint8_t *pixels;
	int width, height, stride;
	/* pointer */
	unsigned int buttons;
	int x, y;
	bool have_position;
	uint32_t *cursor;
};

static void spice_end(struct spice_conn *c, enum viewer_end why, const char *message)
{
	if (c->ended)
		return;
	c->ended = true;
	c->base.ev->ended(c->base.opaque, why, message);
}

static const char *error_text(SpiceChannel *ch)
{
	const GError *e = spice_channel_get_error(ch);

	return e && e->message ? e->message : NULL;
}

static void channel_failed(struct spice_conn *c, SpiceChannel *ch, SpiceChannelEvent event)
{
	const char *detail = error_text(ch);
	char msg[512];

	switch (event) {
	case SPICE_CHANNEL_ERROR_AUTH:
		snprintf(msg, sizeof(msg), "the SPICE server at %s refused the password%s%s%s",
		         c->where, detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
		spice_end(c, VIEWER_END_AUTH, msg);
		break;
	case SPICE_CHANNEL_ERROR_TLS:
		snprintf(msg, sizeof(msg),
		         "the TLS certificate of the SPICE server at %s was not trusted%s%s",
		         c->where, detail ? ": " : "", detail ? detail : "");
		spice_end(c, VIEWER_END_TLS, msg);
		break;
	default:
		if (c->opened)
			snprintf(msg, sizeof(msg),
			         "the connection to the SPICE server at %s was lost%s%s", c->where,
			         detail ? ": " : "", detail ? detail : "");
		else
			snprintf(msg, sizeof(msg), "cannot connect to the SPICE server at %s%s%s",
			         c->where, detail ? ": " : "", detail ? detail : "");
		spice_end(c, VIEWER_END_LOST, msg);
		break;
	}
}

static void main_event(SpiceChannel *ch, SpiceChannelEvent event, gpointer data)
{
	struct spice_conn *c = data;

	switch (event) {
	case SPICE_CHANNEL_OPENED:
		c->opened = true;
		log_info("spice: connected to %s", c->where);
		spice_main_channel_request_mouse_mode(SPICE_MAIN_CHANNEL(ch),
		                                      SPICE_MOUSE_MODE_CLIENT);
		c->base.ev->connected(c->base.opaque);
		break;
	case SPICE_CHANNEL_SWITCHING:
	case SPICE_CHANNEL_NONE:
		break;
	default:
		channel_failed(c, ch, event);
		break;
	}
}

static void other_event(SpiceChannel *ch, SpiceChannelEvent event, gpointer data)
{
	struct spice_conn *c = data;

	if (event == SPICE_CHANNEL_OPENED || event == SPICE_CHANNEL_NONE ||
	    event == SPICE_CHANNEL_SWITCHING)
		return;
	/* Without the picture there is no session; inputs or a cursor can be lived without. */
	if (SPICE_IS_DISPLAY_CHANNEL(ch)) {
		channel_failed(c, ch, event);
		return;
	}
	log_warn("spice: the %s channel closed (event %d)",
	         spice_channel_type_to_string(SPICE_IS_INPUTS_CHANNEL(ch) ? SPICE_CHANNEL_INPUTS
	                                                                  : SPICE_CHANNEL_CURSOR),
	         (int)event);
	if (SPICE_IS_INPUTS_CHANNEL(ch) && (SpiceInputsChannel *)ch == c->inputs)
		c->inputs = NULL;
}

static void session_name(GObject *obj, GParamSpec *pspec, gpointer data)
{
	struct spice_conn *c = data;
	gchar *name = NULL;

	g_object_get(obj, "name", &name, NULL);
	if (name && *name)
		c->base.ev->name(c->base.opaque, name);
	g_free(name);
}

static void primary_create(SpiceChannel *ch, gint format, gint width, gint height, gint stride,
                           gint shmid, gpointer imgdata, gpointer data)
{
	struct spice_conn *c = data;

	if (format != SPICE_SURFACE_FMT_32_xRGB && format != SPICE_SURFACE_FMT_32_ARGB) {
		char msg[160];

		snprintf(msg, sizeof(msg),
		         "the SPICE server sends surface format %d, which is not "
		         "supported",
		         format);
		spice_end(c, VIEWER_END_FATAL, msg);
		return;
	}
	if (width <= 0 || height <= 0 || stride < width * 4 || !imgdata)
		return;
	c->pixels = imgdata;
	c->width = width;
	c->height = height;
	c->stride = stride;
	c->base.ev->resize(c->base.opaque, width, height);
}

static void primary_destroy(SpiceChannel *ch, gpointer data)
{
	struct spice_conn *c = data;

	c->pixels = NULL;
}

static void invalidate(SpiceChannel *ch, gint x, gint y, gint w, gint h, gpointer data)
{
	struct spice_conn *c = data;

	if (!c->pixels)
		return;
	/* Clip to the surface: the rectangle comes from the server. */
	if (x < 0) {
		w += x;
		x = 0;
	}
	if (y < 0) {
		h += y;
		y = 0;
	}
	if (x + w > c->width)
		w = c->width - x;
	if (y + h > c->height)
		h = c->height - y;
	if (w > 0 && h > 0)
		c->base.ev->update(c->base.opaque, x, y, w, h);
}

static void cursor_set(SpiceChannel *ch, gint w, gint h, gint hot_x, gint hot_y, gpointer rgba,
                       gpointer data)
{
	struct spice_conn *c = data;
	const uint8_t *p = rgba;
	struct viewer_cursor cur;
	uint32_t *argb;

	if (!rgba || w <= 0 || h <= 0 || w > VIEWER_CURSOR_MAX || h > VIEWER_CURSOR_MAX)
		return;
	argb = malloc((size_t)w * (size_t)h * 4);
	if (!argb)
		return;
	/* Bytes R, G, B, A, as a GdkPixbuf has them. */
	for (int i = 0; i < w * h; i++, p += 4)
		argb[i] = (uint32_t)p[3] << 24 | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
	free(c->cursor);
	c->cursor = argb;
	cur = (struct viewer_cursor){ w, h, hot_x, hot_y, argb };
	c->base.ev->cursor(c->base.opaque, &cur);
}

static void cursor_hide(SpiceChannel *ch, gpointer data)
{
	struct spice_conn *c = data;
	struct viewer_cursor none = { 0, 0, 0, 0, NULL };

	c->base.ev->cursor(c->base.opaque, &none);
}

static void cursor_reset(SpiceChannel *ch, gpointer data)
{
	struct spice_conn *c = data;

	c->base.ev->cursor(c->base.opaque, NULL);
}

static void watch(struct spice_conn *c, SpiceChannel *ch)
{
	g_ptr_array_add(c->channels, g_object_ref(ch));
}

static void channel_new(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
	struct spice_conn *c = data;
	gint id = 0;

	g_object_get(ch, "channel-id", &id, NULL);
	if (SPICE_IS_MAIN_CHANNEL(ch)) {
		c->main = SPICE_MAIN_CHANNEL(ch);
		watch(c, ch);
		g_signal_connect(ch, "channel-event", G_CALLBACK(main_event), c);
		return; /* the session connects it */
	}
	if (SPICE_IS_DISPLAY_CHANNEL(ch)) {
		if (id != 0 || c->display)
			return; /* one monitor */
		c->display = SPICE_DISPLAY_CHANNEL(ch);
		watch(c, ch);
		g_signal_connect(ch, "channel-event", G_CALLBACK(other_event), c);
		g_signal_connect(ch, "display-primary-create", G_CALLBACK(primary_create), c);
		g_signal_connect(ch, "display-primary-destroy", G_CALLBACK(primary_destroy), c);
		g_signal_connect(ch, "display-invalidate", G_CALLBACK(invalidate), c);
	} else if (SPICE_IS_INPUTS_CHANNEL(ch)) {
		c->inputs = SPICE_INPUTS_CHANNEL(ch);
		watch(c, ch);
		g_signal_connect(ch, "channel-event", G_CALLBACK(other_event), c);
	} else if (SPICE_IS_CURSOR_CHANNEL(ch)) {
		if (id != 0)
			return;
		watch(c, ch);
		g_signal_connect(ch, "channel-event", G_CALLBACK(other_event), c);
		g_signal_connect(ch, "cursor-set", G_CALLBACK(cursor_set), c);
		g_signal_connect(ch, "cursor-hide", G_CALLBACK(cursor_hide), c);
		g_signal_connect(ch, "cursor-reset", G_CALLBACK(cursor_reset), c);
	} else {
		return; /* audio, USB, smartcard, ports: not here */
	}
	spice_channel_connect(ch);
}

static void channel_destroy(SpiceSession *s, SpiceChannel *ch, gpointer data)
{
	struct spice_conn *c = data;

	if ((SpiceChannel *)c->main == ch)
		c->main = NULL;
	if ((SpiceChannel *)c->display == ch) {
		c->display = NULL;
		c->pixels = NULL;
	}
	if ((SpiceChannel *)c->inputs == ch)
		c->inputs = NULL;
}

/* ---- the interface ---- */

static void spice_free(struct viewer_conn *base)
{
	struct spice_conn *c = (struct spice_conn *)base;

	for (guint i = 0; i < c->channels->len; i++) {
		GObject *ch = g_ptr_array_index(c->channels, i);

		g_signal_handlers_disconnect_by_data(ch, c);
	}
	g_signal_handlers_disconnect_by_data(c->session, c);
	spice_session_disconnect(c->session);
	g_ptr_array_free(c->channels, TRUE);
	g_object_unref(c->session);
	free(c->cursor);
	free(c);
}

static bool spice_surface(struct viewer_conn *base, const uint32_t **pixels, int *width,
                          int *height, int *stride)
{
	struct spice_conn *c = (struct spice_conn *)base;

	if (!c->pixels)
		return false;
	*pixels = (const uint32_t *)c->pixels;
	*width = c->width;
	*height = c->height;
	*stride = c->stride;
	return true;
}

static void spice_key(struct viewer_conn *base, const struct proto_key *k, uint32_t keysym,
                      bool down)
{
	struct spice_conn *c = (struct spice_conn *)base;

	if (!c->inputs || c->ended)
		return;
	if (down)
		spice_inputs_channel_key_press(c->inputs, viewer_key_spice_code(k));
	else
		spice_inputs_channel_key_release(c->inputs, viewer_key_spice_code(k));
}

static const struct {
	unsigned int bit;
	int button;
} spice_buttons[] = {
	{ VIEWER_BTN_LEFT, SPICE_MOUSE_BUTTON_LEFT },
	{ VIEWER_BTN_MIDDLE, SPICE_MOUSE_BUTTON_MIDDLE },
	{ VIEWER_BTN_RIGHT, SPICE_MOUSE_BUTTON_RIGHT },
	{ VIEWER_BTN_WHEEL_UP, SPICE_MOUSE_BUTTON_UP },
	{ VIEWER_BTN_WHEEL_DOWN, SPICE_MOUSE_BUTTON_DOWN },
};

static void spice_pointer(struct viewer_conn *base, int x, int y, unsigned int buttons)
{
	struct spice_conn *c = (struct spice_conn *)base;
	int mode = SPICE_MOUSE_MODE_CLIENT;
	unsigned int held;

	if (!c->inputs || c->ended)
		return;
	if (c->main)
		g_object_get(c->main, "mouse-mode", &mode, NULL);
	held = c->buttons & 0x1f;
	if (!c->have_position || x != c->x || y != c->y) {
		if (mode == SPICE_MOUSE_MODE_CLIENT)
			spice_inputs_channel_position(c->inputs, x, y, 0, (gint)(held & 7));
		else if (c->have_position) /* server mode: what moved, relative */
			spice_inputs_channel_motion(c->inputs, x - c->x, y - c->y,
			                            (gint)(held & 7));
		c->x = x;
		c->y = y;
		c->have_position = true;
	}
	for (size_t i = 0; i < sizeof(spice_buttons) / sizeof(spice_buttons[0]); i++) {
		unsigned int bit = spice_buttons[i].bit;

		if ((buttons & bit) == (c->buttons & bit))
			continue;
		held = (held & ~bit) | (buttons & bit);
		if (buttons & bit)
			spice_inputs_channel_button_press(c->inputs, spice_buttons[i].button,
			                                  (gint)(held & 0x1f));
		else
			spice_inputs_channel_button_release(c->inputs, spice_buttons[i].button,
			                                    (gint)(held & 0x1f));
	}
	c->buttons = buttons;
}

static bool spice_can_resize(struct viewer_conn *base)
{
	struct spice_conn *c = (struct spice_conn *)base;
	gboolean agent = FALSE;

	/* Only a guest agent can change the resolution for a SPICE client. */
	if (!c->main || c->ended)
		return false;
	g_object_get(c->main, "agent-connected", &agent, NULL);
	return agent;
}

static void spice_request_size(struct viewer_conn *base, int width, int height)
{
	struct spice_conn *c = (struct spice_conn *)base;

	if (!spice_can_resize(base))
		return;
	spice_main_channel_update_display(c->main, 0, 0, 0, width, height, TRUE);
	spice_main_channel_send_monitor_config(c->main);
}

static void spice_clipboard(struct viewer_conn *base, const char *utf8)
{
	/* The SPICE clipboard needs a guest agent; not offered yet. */
}

static void spice_stats(struct viewer_conn *base, struct viewer_conn_stats *st)
{
	struct spice_conn *c = (struct spice_conn *)base;

	st->bytes_received = 0;
	st->rtt_us = -1;
	for (guint i = 0; i < c->channels->len; i++) {
		GObject *ch = g_ptr_array_index(c->channels, i);
		gulong bytes = 0;

		g_object_get(ch, "total-read-bytes", &bytes, NULL);
		st->bytes_received += bytes;
	}
	if (c->display && g_object_class_find_property(G_OBJECT_GET_CLASS(c->display), "socket")) {
		GSocket *sock = NULL;
		uint64_t ignored;

		g_object_get(c->display, "socket", &sock, NULL);
		if (sock) {
			viewer_tcp_stats(g_socket_get_fd(sock), &ignored, &st->rtt_us);
			g_object_unref(sock);
		}
	}
}

static const struct viewer_conn_ops spice_ops = {
	.free = spice_free,
	.surface = spice_surface,
	.key = spice_key,
	.pointer = spice_pointer,
	.can_resize = spice_can_resize,
	.request_size = spice_request_size,
	.clipboard = spice_clipboard,
	.stats = spice_stats,
};

/* spice-client-glib's own messages: ours say what matters, theirs are detail. */
static void glib_log(const gchar *domain, GLogLevelFlags level, const gchar *message, gpointer data)
{
	if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
		log_warn("%s: %s", domain ? domain : "glib", message);
	else
		log_debug("%s: %s", domain ? domain : "glib", message);
}

static bool log_handlers; /* main thread only */

int viewer_conn_spice_open(const struct viewer_session *s, const struct viewer_conn_params *p,
                           const struct viewer_conn_events *ev, void *opaque,
                           struct viewer_conn **ret)
{
	struct spice_conn *c = calloc(1, sizeof(*c));
	char port[16], tls_port[16];
	char where[sizeof(c->where)];

	if (!c)
		return -ENOMEM;
	if (!log_handlers) {
		/* GSpice: spice-client-glib; Spice: spice-common, which it embeds. */
		g_log_set_handler("GSpice",
		                  G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
		                  glib_log, NULL);
		g_log_set_handler("Spice",
		                  G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
		                  glib_log, NULL);
		log_handlers = true;
	}
	c->base = (struct viewer_conn){ &spice_ops, ev, opaque };
	c->channels = g_ptr_array_new_with_free_func(g_object_unref);
	c->session = spice_session_new();
	if (s->port > 0)
		snprintf(where, sizeof(where), "%s%s%s:%d", strchr(s->host, ':') ? "[" : "",
		         s->host, strchr(s->host, ':') ? "]" : "", s->port);
	else
		snprintf(where, sizeof(where), "%s%s%s:%d (TLS)", strchr(s->host, ':') ? "[" : "",
		         s->host, strchr(s->host, ':') ? "]" : "", s->tls_port);
	snprintf(c->where, sizeof(c->where), "%s", where);
	g_object_set(c->session, "host", s->host, "enable-audio", FALSE, "enable-usbredir", FALSE,
	             "enable-smartcard", FALSE, NULL);
	if (s->port > 0) {
		snprintf(port, sizeof(port), "%d", s->port);
		g_object_set(c->session, "port", port, NULL);
	}
	if (s->tls_port > 0) {
		snprintf(tls_port, sizeof(tls_port), "%d", s->tls_port);
		g_object_set(c->session, "tls-port", tls_port, NULL);
	}
	if (s->has_password)
		g_object_set(c->session, "password", s->password, NULL);
	if (s->ca_file) {
		g_object_set(c->session, "ca-file", s->ca_file, NULL);
	} else if (s->ca) {
		GByteArray *ca = g_byte_array_new();

		g_byte_array_append(ca, (const guint8 *)s->ca, (guint)strlen(s->ca));
		g_object_set(c->session, "ca", ca, NULL);
		g_byte_array_unref(ca);
	}
	if (s->host_subject[0])
		g_object_set(c->session, "cert-subject", s->host_subject, "verify",
		             SPICE_SESSION_VERIFY_SUBJECT, NULL);
	if (s->proxy[0]) {
		/* spice-client-glib asks the proxy to CONNECT to each channel's host and port. */
		g_object_set(c->session, "proxy", s->proxy, NULL);
		/* Without a user name and password it may hold. */
		log_info("spice: through the HTTP proxy %s",
		         strchr(s->proxy, '@') ? strchr(s->proxy, '@') + 1 : s->proxy);
	}
	g_signal_connect(c->session, "channel-new", G_CALLBACK(channel_new), c);
	g_signal_connect(c->session, "channel-destroy", G_CALLBACK(channel_destroy), c);
	g_signal_connect(c->session, "notify::name", G_CALLBACK(session_name), c);
	if (!spice_session_connect(c->session)) {
		g_signal_handlers_disconnect_by_data(c->session, c);
		g_object_unref(c->session);
		g_ptr_array_free(c->channels, TRUE);
		free(c);
		return -EINVAL;
	}
	(void)p;
	*ret = &c->base;
	return 0;
}
