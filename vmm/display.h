/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The display core: turns the guest's framebuffer into a surface and damage
 * rectangles for the display servers (VNC in vmm/vnc.c, SPICE in
 * vmm/spice.c), and carries their clients' input back to the machine.
 *
 * Threads. The display core, both servers and every client connection run
 * on one display thread with its own event loop (vmm_display_loop()), so a
 * slow client never stalls the machine's loop or the control socket. All
 * vmm_display_* functions are for the display thread unless they say "any
 * thread"; input and events are handed to the machine's loop thread.
 *
 * Finding changes. While at least one client is connected, a timer fetches
 * the KVM dirty log of the framebuffer slot every VMM_DISPLAY_SCAN_MS and
 * compares only the dirtied rows, in tiles of VMM_DAMAGE_TILE pixels,
 * against a shadow copy of the visible framebuffer. Tiles that really
 * differ are copied into the shadow and reported as damage rectangles.
 * With no client connected the timer is off and the core does no work.
 *
 * The surface. The shadow is always 32 bits per pixel, x8r8g8b8 in host
 * (little-endian) order, whatever depth the guest chose: servers handle a
 * single format. It stays valid and unchanged between callbacks, so a
 * server may read it at any time on the display thread.
 */
#ifndef VDI_VMM_DISPLAY_H
#define VDI_VMM_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/damage.h"
#include "vmm/loop.h"
#include "vmm/machine.h"

#define VMM_DISPLAY_SCAN_MS 10 /* dirty-log period while clients are connected */

struct vmm_display;

/* The current picture; @pixels is NULL and the size 0x0 when the guest has no mode. */
struct vmm_display_surface {
	unsigned int width, height;
	size_t stride; /* bytes per row */
	uint32_t *pixels;
	uint64_t serial; /* changes with every new surface */
};

/*
 * A display server. Callbacks run on the display thread. The surface
 * pointer passed to surface() stays valid until the next surface() call.
 */
struct vmm_display_listener {
	enum vmm_protocol protocol;
	/* A new surface (first one, mode change, guest disabled the display). */
	void (*surface)(void *opaque, const struct vmm_display_surface *s);
	/* Pixels inside @rects changed in the current surface; @n >= 1. */
	void (*update)(void *opaque, const struct vmm_display_rect *rects, size_t n);
	/*
	 * set-ticket for this protocol: @t is the new ticket (a copy); with
	 * @disconnect the server drops its connected clients. May be NULL.
	 */
	void (*ticket)(void *opaque, const struct vmm_ticket *t, bool disconnect);
	void *opaque;
};

/* What a server reports for query-displays; the strings are copied. */
struct vmm_display_server_info {
	enum vmm_protocol protocol;
	const char *address; /* "127.0.0.1", "::1", or a unix socket path */
	int port;            /* TCP port, or -1 for a unix socket */
	int tls_port;        /* -1 when there is none */
	bool auth;           /* tickets required (always true for a network listener) */
};

/*
 * Create the display core for @m (whose bochs adapter and KVM slot it reads)
 * and start its thread. Returns 0 or -errno. Main thread.
 */
int vmm_display_new(struct vmm_machine *m, struct vmm_display **ret);

/* Stop the thread (servers must be gone) and free; NULL is a no-op. Main thread. */
void vmm_display_free(struct vmm_display *d);

/* The display thread's event loop, for the servers' sockets and timers. Any thread. */
struct vmm_loop *vmm_display_loop(struct vmm_display *d);

/*
 * Run @fn(@opaque) on the display thread and wait for it to return: how
 * the main thread creates and destroys servers. Returns 0 or -ENOMEM.
 */
int vmm_display_call_sync(struct vmm_display *d, vmm_loop_fn fn, void *opaque);

/* Register a server; its surface() is called at once with the current surface. */
int vmm_display_listener_add(struct vmm_display *d, const struct vmm_display_listener *l);
void vmm_display_listener_remove(struct vmm_display *d, const struct vmm_display_listener *l);

/* The current surface (valid until the next surface() callback). */
const struct vmm_display_surface *vmm_display_surface(struct vmm_display *d);

/*
 * A client connected to (@delta = 1) or left (-1) a server. Scanning runs
 * while the total is positive; a first client gets a full comparison so
 * that the shadow is exact before anything is sent.
 */
void vmm_display_clients(struct vmm_display *d, int delta);

/* Compare the whole framebuffer now (a client asked for a full refresh). */
void vmm_display_refresh(struct vmm_display *d);

/* The guest changed its mode: rebuild the surface soon. Any thread. */
void vmm_display_mode_changed(struct vmm_display *d);

/* Publish a server for query-displays (replacing an entry of the same protocol). */
void vmm_display_server_info_set(struct vmm_display *d, const struct vmm_display_server_info *i);
void vmm_display_server_info_clear(struct vmm_display *d, enum vmm_protocol protocol);

/* {"mode":..., "servers":[...]} for query-displays. Any thread. */
json_t *vmm_display_describe(struct vmm_display *d);

/* ---- Input and events, handed to the machine's loop thread ---- */

/* A key by Linux input code (KEY_*). */
void vmm_display_key(struct vmm_display *d, unsigned int evdev, bool down);

/* Pointer at surface pixel (@x, @y); @buttons bit 0 left, 1 middle, 2 right; @wheel +up/-down. */
void vmm_display_pointer(struct vmm_display *d, unsigned int x, unsigned int y,
                         unsigned int buttons, int wheel);

/* A client asked for a new desktop size: becomes the guest's preferred mode (EDID). */
int vmm_display_request_size(struct vmm_display *d, unsigned int w, unsigned int h);

/* client-connected / client-disconnected on the control socket. */
void vmm_display_client_event(struct vmm_display *d, enum vmm_protocol protocol, bool connected,
                              const char *remote_address);

/* ---- Tickets ---- */

/*
 * Store the ticket for @protocol (set-ticket) and tell that protocol's
 * server. Any thread.
 */
void vmm_display_ticket_set(struct vmm_display *d, enum vmm_protocol protocol,
                            const struct vmm_ticket *t, bool disconnect);

/*
 * Authenticate a client against the ticket of @protocol: @match is called
 * (under the ticket lock) with the secret and decides whether the client
 * proved it knows it. Returns 0 and uses the ticket up, -ENOENT when no
 * ticket is set, -EALREADY when it was used, -EKEYEXPIRED, or -EACCES when
 * @match says no. Any thread.
 */
int vmm_display_ticket_verify(struct vmm_display *d, enum vmm_protocol protocol,
                              bool (*match)(void *opaque, const char *secret), void *opaque);

/* A copy of the ticket of @protocol (for servers that check it themselves). */
void vmm_display_ticket_get(struct vmm_display *d, enum vmm_protocol protocol,
                            struct vmm_ticket *ret);

#endif
