/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One connection to a desktop, over VNC (conn-vnc.c, libvncclient) or
 * SPICE (conn-spice.c, spice-client-glib), behind one interface: a picture
 * (a surface of 32-bit pixels, 0x00RRGGBB in native byte order, that the
 * connection owns), events about it, and input going the other way.
 *
 * Threads: every function here, and every event, runs on the main thread,
 * from the GLib default main context (see loop.h). Events never arrive
 * from inside a call into the connection; an event handler must not free
 * the connection (schedule that for later, e.g. with g_idle_add()).
 */
#ifndef VDI_VIEWER_CONN_H
#define VDI_VIEWER_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/keymap.h"
#include "viewer/session.h"

/* Pointer buttons, as VNC numbers them; SPICE gets them translated. */
enum {
	VIEWER_BTN_LEFT = 1u << 0,
	VIEWER_BTN_MIDDLE = 1u << 1,
	VIEWER_BTN_RIGHT = 1u << 2,
	VIEWER_BTN_WHEEL_UP = 1u << 3,
	VIEWER_BTN_WHEEL_DOWN = 1u << 4,
	VIEWER_BTN_WHEEL_LEFT = 1u << 5,
	VIEWER_BTN_WHEEL_RIGHT = 1u << 6,
};

/* Why a connection ended. */
enum viewer_end {
	VIEWER_END_LOST,  /* could not connect, or the connection broke: worth a retry */
	VIEWER_END_AUTH,  /* the server refused the password */
	VIEWER_END_TLS,   /* the server's certificate was not trusted */
	VIEWER_END_FATAL, /* the server wants something we cannot do: a retry will not help */
};

#define VIEWER_CURSOR_MAX 256 /* pixels of a cursor side we accept */

/* A pointer shape: @w x @h pixels 0xAARRGGBB; 0x0 means "no cursor". */
struct viewer_cursor {
	int w, h, hot_x, hot_y;
	const uint32_t *argb;
};

struct viewer_conn_events {
	/* Logged in; the picture follows. */
	void (*connected)(void *opaque);
	/* The desktop's name, from the server. */
	void (*name)(void *opaque, const char *name);
	/* The connection is over; no more events follow. */
	void (*ended)(void *opaque, enum viewer_end why, const char *message);
	/* The surface has a new size (or is new); all of it is to be redrawn. */
	void (*resize)(void *opaque, int width, int height);
	/* This part of the surface changed. */
	void (*update)(void *opaque, int x, int y, int width, int height);
	/* The server's pointer shape; NULL: the server stopped sending one. */
	void (*cursor)(void *opaque, const struct viewer_cursor *cursor);
	/* The server's clipboard text, UTF-8. */
	void (*clipboard)(void *opaque, const char *utf8);
};

struct viewer_conn_params {
	int quality; /* VNC: JPEG quality 0..9, VIEWER_QUALITY_LOSSLESS or _AUTO */
};

struct viewer_conn_stats {
	uint64_t bytes_received; /* since connecting */
	int64_t rtt_us;          /* round trip, -1 if unknown (how it is measured varies) */
};

struct viewer_conn;

struct viewer_conn_ops {
	void (*free)(struct viewer_conn *c);
	/* The current surface; false when there is none yet. */
	bool (*surface)(struct viewer_conn *c, const uint32_t **pixels, int *width, int *height,
	                int *stride);
	/* Key @k went @down; @keysym is what a keysym-only VNC server should get. */
	void (*key)(struct viewer_conn *c, const struct proto_key *k, uint32_t keysym, bool down);
	/* The pointer is at guest pixel (@x, @y) with VIEWER_BTN_* @buttons held. */
	void (*pointer)(struct viewer_conn *c, int x, int y, unsigned int buttons);
	/* Whether the server can change the guest's resolution on request. */
	bool (*can_resize)(struct viewer_conn *c);
	void (*request_size)(struct viewer_conn *c, int width, int height);
	/* The local clipboard changed to @utf8. */
	void (*clipboard)(struct viewer_conn *c, const char *utf8);
	void (*stats)(struct viewer_conn *c, struct viewer_conn_stats *st);
};

struct viewer_conn {
	const struct viewer_conn_ops *ops;
	const struct viewer_conn_events *ev;
	void *opaque;
};

/*
 * Start connecting to @s (copied) with @p; progress and the outcome arrive
 * as @ev events with @opaque. Returns 0 and the connection in *@ret, or
 * -errno when it could not even start. Main thread.
 */
int viewer_conn_open(const struct viewer_session *s, const struct viewer_conn_params *p,
                     const struct viewer_conn_events *ev, void *opaque, struct viewer_conn **ret);

int viewer_conn_vnc_open(const struct viewer_session *s, const struct viewer_conn_params *p,
                         const struct viewer_conn_events *ev, void *opaque,
                         struct viewer_conn **ret);
int viewer_conn_spice_open(const struct viewer_session *s, const struct viewer_conn_params *p,
                           const struct viewer_conn_events *ev, void *opaque,
                           struct viewer_conn **ret);

/* Disconnect and free; no events follow. NULL is a no-op. Main thread. */
void viewer_conn_free(struct viewer_conn *c);

/*
 * TCP_INFO of socket @fd: bytes received and the path's round trip (the
 * minimum RTT the kernel saw); false when @fd is not a TCP socket.
 */
bool viewer_tcp_stats(int fd, uint64_t *bytes_received, int64_t *rtt_us);

#endif
