// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * VNC through libvncclient.
 *
 * rfbInitClient() blocks (TCP connect, handshake, authentication), so it
 * runs on a short-lived thread that owns the rfbClient until it is done
 * and then hands it to the main thread through g_idle_add(). From then on
 * only the main thread touches it: a GLib fd source on the socket runs
 * HandleRFBServerMessage() while data is there. libvncclient reads ahead
 * into its own buffer, so the buffer is drained too before going back to
 * sleep, and a long burst yields to the screen after a few milliseconds.
 */
#include "viewer/conn.h"

#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rfb/rfbclient.h>

#include "proto/log.h"
#include "viewer/clipboard.h"
#include "viewer/keymap.h"
#include "viewer/options.h"

#define VNC_CONNECT_TIMEOUT_S 15
#define VNC_READ_TIMEOUT_S 30
#define VNC_BURST_MS 12    /* longest run of messages before the screen gets a turn */
#define VNC_MAX_SIDE 16384 /* a framebuffer side we accept */
#define VNC_ENCODINGS "tight zrle ultra copyrect hextile zlib corre rre raw"

struct vnc_conn;

/* What the connect thread works on; the main thread takes it back in connect_done(). */
struct vnc_job {
	rfbClient *client;     /* NULL once rfbInitClient() failed (it freed it) */
	struct vnc_conn *conn; /* NULL when the connection was freed meanwhile */
	bool ok;
	bool asked_password;
	bool has_password;
	char password[VIEWER_PASSWORD_MAX + 1];
	char host[VIEWER_HOST_MAX + 16]; /* host:port */
	char message[256];               /* libvncclient's last words when it failed */
	uint8_t *framebuffer;            /* allocated during the handshake, freed on failure */
};

struct vnc_conn {
	struct viewer_conn base;
	struct vnc_job *job; /* while connecting */
	rfbClient *client;   /* once connected */
	guint watch, idle;
	bool ended;
	int width, height;
	uint32_t *cursor; /* converted shape */
	gint64 probe_us;  /* when the round-trip probe went out, 0: none out */
	int64_t rtt_us;   /* the last probe's round trip, -1: none yet */
};

/* ---- libvncclient's log, per thread, so failures can be explained ---- */

static __thread char last_message[256];

static void vnc_log(const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(last_message, sizeof(last_message), fmt, ap);
	va_end(ap);
	n = strlen(last_message);
	while (n && (last_message[n - 1] == '\n' || last_message[n - 1] == '\r'))
		last_message[--n] = '\0';
	log_debug("vnc: %s", last_message);
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void install_log(void)
{
	rfbClientLog = vnc_log;
	rfbClientErr = vnc_log;
}

/* ---- callbacks, on the connect thread during the handshake, else on the main thread ---- */

/* rfbClientSetClientData() keys: the job while connecting, the connection after. */
static int job_tag, conn_tag;

static struct vnc_job *job_of(rfbClient *client)
{
	return rfbClientGetClientData(client, (void *)&job_tag);
}

static struct vnc_conn *conn_of(rfbClient *client)
{
	struct vnc_job *job = job_of(client);

	return job ? NULL : rfbClientGetClientData(client, (void *)&conn_tag);
}

static char *get_password(rfbClient *client)
{
	struct vnc_job *job = job_of(client);

	/* No password: NULL (libvncclient leaks an empty string it refuses). */
	if (!job)
		return NULL;
	job->asked_password = true;
	return job->has_password ? strdup(job->password) : NULL;
}

static rfbBool malloc_framebuffer(rfbClient *client)
{
	struct vnc_job *job = job_of(client);
	struct vnc_conn *c = conn_of(client);
	uint8_t *fb;

	if (client->width <= 0 || client->height <= 0 || client->width > VNC_MAX_SIDE ||
	    client->height > VNC_MAX_SIDE) {
		rfbClientErr("refusing a %dx%d desktop", client->width, client->height);
		return FALSE;
	}
	fb = calloc((size_t)client->width * (size_t)client->height, 4);
	if (!fb)
		return FALSE;
	free(client->frameBuffer);
	client->frameBuffer = fb;
	if (job) {
		job->framebuffer = fb;
		return TRUE;
	}
	if (c) {
		c->width = client->width;
		c->height = client->height;
		c->base.ev->resize(c->base.opaque, c->width, c->height);
	}
	return TRUE;
}

static void got_update(rfbClient *client, int x, int y, int w, int h)
{
	struct vnc_conn *c = conn_of(client);

	if (c)
		c->base.ev->update(c->base.opaque, x, y, w, h);
}

/*
 * RFB has no ping. A non-incremental update request for one pixel is
 * answered at once, so its answer times the round trip, server included.
 */
static void finished_update(rfbClient *client)
{
	struct vnc_conn *c = conn_of(client);

	if (c && c->probe_us) {
		c->rtt_us = g_get_monotonic_time() - c->probe_us;
		c->probe_us = 0;
	}
}

static void got_cut_text(rfbClient *client, const char *text, int len)
{
	struct vnc_conn *c = conn_of(client);
	char *utf8;

	if (!c || len < 0)
		return;
	utf8 = viewer_latin1_to_utf8(text, (size_t)len);
	if (utf8)
		c->base.ev->clipboard(c->base.opaque, utf8);
	free(utf8);
}

static void got_cursor_shape(rfbClient *client, int xhot, int yhot, int w, int h, int bpp)
{
	struct vnc_conn *c = conn_of(client);
	struct viewer_cursor cur = { 0, 0, 0, 0, NULL };
	uint32_t *argb;

	if (!c)
		return;
	if (w <= 0 || h <= 0 || !client->rcSource || !client->rcMask) {
		c->base.ev->cursor(c->base.opaque, &cur); /* an empty shape: no cursor */
		return;
	}
	if (bpp != 4 || w > VIEWER_CURSOR_MAX || h > VIEWER_CURSOR_MAX)
		return;
	argb = malloc((size_t)w * (size_t)h * 4);
	if (!argb)
		return;
	for (int i = 0; i < w * h; i++) {
		uint32_t px;

		memcpy(&px, client->rcSource + (size_t)i * 4, 4);
		argb[i] = (client->rcMask[i] ? 0xff000000u : 0) | (px & 0xffffff);
	}
	free(c->cursor);
	c->cursor = argb;
	cur = (struct viewer_cursor){ w, h, xhot, yhot, argb };
	c->base.ev->cursor(c->base.opaque, &cur);
}

static rfbBool got_cursor_pos(rfbClient *client, int x, int y)
{
	return TRUE; /* the local pointer is where the person puts it */
}

/* ---- connecting ---- */

static void job_free(struct vnc_job *job)
{
	explicit_bzero(job->password, sizeof(job->password));
	free(job);
}

static void vnc_end(struct vnc_conn *c, enum viewer_end why, const char *message)
{
	if (c->ended)
		return;
	c->ended = true;
	c->base.ev->ended(c->base.opaque, why, message);
}

/* Why rfbInitClient() failed, from what we saw. */
static enum viewer_end classify(const struct vnc_job *job, char *msg, size_t size)
{
	if (strstr(job->message, "scheme") || strstr(job->message, "refusing a")) {
		snprintf(msg, size, "the VNC server at %s cannot be used: %s", job->host,
		         job->message);
		return VIEWER_END_FATAL;
	}
	if (job->asked_password && !job->has_password) {
		snprintf(msg, size,
		         "the VNC server at %s asks for a password and none was given "
		         "(--password-file, --password-stdin or VDI_PASSWORD)",
		         job->host);
		return VIEWER_END_AUTH;
	}
	if (job->asked_password) {
		const char *reason = strstr(job->message, "failed: ");

		snprintf(msg, size, "the VNC server at %s refused the password%s%s%s", job->host,
		         reason ? " (" : "", reason ? reason + 8 : "", reason ? ")" : "");
		return VIEWER_END_AUTH;
	}
	snprintf(msg, size, "cannot connect to the VNC server at %s: %s", job->host,
	         job->message[0] ? job->message : "the connection failed");
	return VIEWER_END_LOST;
}

static gboolean continue_reading(gpointer data);

/*
 * Handle the messages that are there, for at most a burst; false when the
 * connection broke. Bytes libvncclient already read ahead do not wake the
 * socket up again, so an idle callback comes back for them.
 */
static bool read_messages(struct vnc_conn *c)
{
	rfbClient *client = c->client;
	gint64 start = g_get_monotonic_time();

	last_message[0] = '\0';
	for (;;) {
		if (client->buffered == 0) {
			int n = WaitForMessage(client, 0);

			if (n < 0)
				return false;
			if (n == 0)
				break;
		}
		if (!HandleRFBServerMessage(client))
			return false;
		if (g_get_monotonic_time() - start > VNC_BURST_MS * 1000)
			break;
	}
	if (client->buffered > 0 && !c->idle)
		c->idle = g_idle_add(continue_reading, c);
	return true;
}

static void lost(struct vnc_conn *c)
{
	char msg[320];

	if (c->watch)
		g_source_remove(c->watch);
	c->watch = 0;
	if (c->idle)
		g_source_remove(c->idle);
	c->idle = 0;
	snprintf(msg, sizeof(msg), "the connection to the VNC server was lost%s%s",
	         last_message[0] ? ": " : "", last_message);
	vnc_end(c, VIEWER_END_LOST, msg);
}

static gboolean continue_reading(gpointer data)
{
	struct vnc_conn *c = data;

	c->idle = 0;
	if (!read_messages(c))
		lost(c);
	return G_SOURCE_REMOVE;
}

static gboolean on_readable(gint fd, GIOCondition cond, gpointer data)
{
	struct vnc_conn *c = data;

	if (read_messages(c))
		return G_SOURCE_CONTINUE;
	c->watch = 0; /* this source goes away by returning G_SOURCE_REMOVE */
	lost(c);
	return G_SOURCE_REMOVE;
}

static void tune_socket(int fd)
{
	int one = 1, idle = 10, intvl = 5, cnt = 3;

	/* A dead peer is noticed in about 25 s instead of hours. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static gboolean connect_done(gpointer data)
{
	struct vnc_job *job = data;
	struct vnc_conn *c = job->conn;
	rfbClient *client = job->client;
	char msg[640];

	if (!c) {
		/* Freed while connecting: clean up what the thread made. */
		if (job->ok) {
			free(client->frameBuffer);
			client->frameBuffer = NULL;
			rfbClientCleanup(client);
		} else {
			free(job->framebuffer);
		}
		job_free(job);
		return G_SOURCE_REMOVE;
	}
	c->job = NULL;
	if (!job->ok) {
		enum viewer_end why = classify(job, msg, sizeof(msg));

		free(job->framebuffer);
		job_free(job);
		vnc_end(c, why, msg);
		return G_SOURCE_REMOVE;
	}
	/* The main thread owns the client from here on. */
	rfbClientSetClientData(client, (void *)&job_tag, NULL);
	rfbClientSetClientData(client, (void *)&conn_tag, c);
	job_free(job);
	c->client = client;
	c->width = client->width;
	c->height = client->height;
	tune_socket(client->sock);
	c->watch = g_unix_fd_add(client->sock, G_IO_IN | G_IO_HUP | G_IO_ERR, on_readable, c);
	log_info("vnc: connected to %s:%d, desktop \"%s\" %dx%d", client->serverHost,
	         client->serverPort, client->desktopName ? client->desktopName : "", client->width,
	         client->height);
	c->base.ev->connected(c->base.opaque);
	if (client->desktopName && *client->desktopName)
		c->base.ev->name(c->base.opaque, client->desktopName);
	c->base.ev->resize(c->base.opaque, c->width, c->height);
	/* Messages that arrived with the handshake may already be buffered. */
	if (client->buffered > 0)
		c->idle = g_idle_add(continue_reading, c);
	return G_SOURCE_REMOVE;
}

static void *connect_thread(void *arg)
{
	struct vnc_job *job = arg;

	last_message[0] = '\0';
	job->ok = rfbInitClient(job->client, NULL, NULL);
	if (!job->ok)
		job->client = NULL; /* rfbInitClient() freed it */
	snprintf(job->message, sizeof(job->message), "%s", last_message);
	g_idle_add(connect_done, job);
	return NULL;
}

static bool is_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 ||
	       strcmp(host, "::1") == 0 || host[0] == '/';
}

/* ---- the interface ---- */

static void vnc_free(struct viewer_conn *base)
{
	struct vnc_conn *c = (struct vnc_conn *)base;

	if (c->job)
		c->job->conn = NULL; /* connect_done() cleans up */
	if (c->watch)
		g_source_remove(c->watch);
	if (c->idle)
		g_source_remove(c->idle);
	if (c->client) {
		free(c->client->frameBuffer);
		c->client->frameBuffer = NULL;
		rfbClientCleanup(c->client);
	}
	free(c->cursor);
	free(c);
}

static bool vnc_surface(struct viewer_conn *base, const uint32_t **pixels, int *width, int *height,
                        int *stride)
{
	struct vnc_conn *c = (struct vnc_conn *)base;

	if (!c->client || !c->client->frameBuffer)
		return false;
	*pixels = (const uint32_t *)c->client->frameBuffer;
	*width = c->client->width;
	*height = c->client->height;
	*stride = c->client->width * 4;
	return true;
}

static void vnc_key(struct viewer_conn *base, const struct proto_key *k, uint32_t keysym, bool down)
{
	struct vnc_conn *c = (struct vnc_conn *)base;

	if (!c->client || c->ended)
		return;
	/* Scan codes keep the guest's own layout right; keysyms are the fallback. */
	if (SupportsClient2Server(c->client, rfbQemuEvent))
		SendExtendedKeyEvent(c->client, keysym, viewer_key_qemu_code(k), down);
	else if (keysym)
		SendKeyEvent(c->client, keysym, down);
}

static void vnc_pointer(struct viewer_conn *base, int x, int y, unsigned int buttons)
{
	struct vnc_conn *c = (struct vnc_conn *)base;

	if (c->client && !c->ended)
		SendPointerEvent(c->client, x, y, (int)buttons);
}

static bool vnc_can_resize(struct viewer_conn *base)
{
	struct vnc_conn *c = (struct vnc_conn *)base;

	/* The server told us its screen layout: it speaks ExtendedDesktopSize. */
	return c->client && !c->ended && (c->client->screen.width || c->client->screen.height);
}

static void vnc_request_size(struct viewer_conn *base, int width, int height)
{
	struct vnc_conn *c = (struct vnc_conn *)base;

	if (!vnc_can_resize(base) || width <= 0 || height <= 0 || width > 0xffff || height > 0xffff)
		return;
	log_info("vnc: asking the server for %dx%d", width, height);
	SendExtDesktopSize(c->client, (uint16_t)width, (uint16_t)height);
}

static void vnc_clipboard(struct viewer_conn *base, const char *utf8)
{
	struct vnc_conn *c = (struct vnc_conn *)base;
	size_t len;
	char *latin1;

	if (!c->client || c->ended)
		return;
	latin1 = viewer_utf8_to_latin1(utf8, &len);
	if (!latin1)
		return;
	SendClientCutText(c->client, latin1, (int)len);
	free(latin1);
}

static void vnc_stats(struct viewer_conn *base, struct viewer_conn_stats *st)
{
	struct vnc_conn *c = (struct vnc_conn *)base;

	int64_t tcp_rtt;

	st->bytes_received = 0;
	st->rtt_us = c->rtt_us;
	if (!c->client || c->ended)
		return;
	viewer_tcp_stats(c->client->sock, &st->bytes_received, &tcp_rtt);
	if (!c->probe_us && !c->client->requestedResize &&
	    SendFramebufferUpdateRequest(c->client, 0, 0, 1, 1, FALSE))
		c->probe_us = g_get_monotonic_time();
}

static const struct viewer_conn_ops vnc_ops = {
	.free = vnc_free,
	.surface = vnc_surface,
	.key = vnc_key,
	.pointer = vnc_pointer,
	.can_resize = vnc_can_resize,
	.request_size = vnc_request_size,
	.clipboard = vnc_clipboard,
	.stats = vnc_stats,
};

int viewer_conn_vnc_open(const struct viewer_session *s, const struct viewer_conn_params *p,
                         const struct viewer_conn_events *ev, void *opaque,
                         struct viewer_conn **ret)
{
	struct vnc_conn *c;
	struct vnc_job *job;
	rfbClient *client;
	pthread_attr_t attr;
	pthread_t thread;
	int r;

	pthread_once(&log_once, install_log);
	c = calloc(1, sizeof(*c));
	job = calloc(1, sizeof(*job));
	if (!c || !job) {
		r = -ENOMEM;
		goto out_free;
	}
	c->base = (struct viewer_conn){ &vnc_ops, ev, opaque };
	c->rtt_us = -1;
	client = rfbGetClient(8, 3, 4);
	if (!client) {
		r = -ENOMEM;
		goto out_free;
	}
	/* 0x00RRGGBB in native order, what the renderer takes as is. */
	client->format.redShift = 16;
	client->format.greenShift = 8;
	client->format.blueShift = 0;
	free(client->serverHost); /* rfbGetClient() put an empty string there */
	client->serverHost = strdup(s->host);
	client->serverPort = s->port;
	client->programName = "vdi-viewer";
	client->canHandleNewFBSize = TRUE;
	client->connectTimeout = VNC_CONNECT_TIMEOUT_S;
	client->readTimeout = VNC_READ_TIMEOUT_S;
	client->appData.shareDesktop = TRUE;
	client->appData.encodingsString = VNC_ENCODINGS;
	client->appData.useRemoteCursor = TRUE;
	client->appData.compressLevel = is_loopback(s->host) ? 1 : 6;
	if (p->quality == VIEWER_QUALITY_LOSSLESS ||
	    (p->quality == VIEWER_QUALITY_AUTO && is_loopback(s->host))) {
		client->appData.enableJPEG = FALSE;
	} else {
		client->appData.enableJPEG = TRUE;
		client->appData.qualityLevel = p->quality >= 0 ? p->quality : 8;
	}
	client->GetPassword = get_password;
	client->MallocFrameBuffer = malloc_framebuffer;
	client->GotFrameBufferUpdate = got_update;
	client->FinishedFrameBufferUpdate = finished_update;
	client->GotXCutText = got_cut_text;
	client->GotCursorShape = got_cursor_shape;
	client->HandleCursorPos = got_cursor_pos;
	rfbClientSetClientData(client, (void *)&job_tag, job);

	job->client = client;
	job->conn = c;
	job->has_password = s->has_password;
	memcpy(job->password, s->password, sizeof(job->password));
	snprintf(job->host, sizeof(job->host), "%s:%d", s->host, s->port);
	c->job = job;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = -pthread_create(&thread, &attr, connect_thread, job);
	pthread_attr_destroy(&attr);
	if (r < 0) {
		rfbClientCleanup(client);
		goto out_free;
	}
	*ret = &c->base;
	return 0;

out_free:
	if (job)
		job_free(job);
	free(c);
	return r;
}
