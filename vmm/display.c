// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The display core; see display.h for the threads and the scanning scheme.
 *
 * A scan goes tile row by tile row (VMM_DISPLAY_TILE scanlines). A tile row
 * is looked at only if one of the framebuffer pages under it is in the KVM
 * dirty log; then each tile of the row is converted to x8r8g8b8 one line at
 * a time and compared with the shadow. Changed tiles are copied into the
 * shadow and merged into rectangles: runs of changed tiles in a row, then
 * runs of equal width stacked over several rows.
 */
#include "vmm/display.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "proto/log.h"
#include "vmm/devices/bochs_display.h"
#include "vmm/kvm.h"
#include "vmm/screendump.h"

#define MAX_LISTENERS 4
#define MAX_RECTS 512   /* more damage than this becomes one bounding rectangle */
#define INPUT_QUEUE 512 /* input events waiting for the machine's loop */
#define ADDRESS_MAX 108

enum input_kind {
	INPUT_KEY,
	INPUT_POINTER,
	INPUT_CLIENT,
};

struct input_event {
	enum input_kind kind;
	unsigned int a, b,
	        c; /* key: evdev, down; pointer: x, y, buttons; client: protocol, connected */
	int wheel;
	char address[64];
};

struct server_entry {
	bool set;
	char address[ADDRESS_MAX];
	int port, tls_port;
	bool auth;
};

struct vmm_display {
	struct vmm_machine *m;
	struct vmm_loop *loop;
	pthread_t thread;
	bool thread_started;

	/* Display thread only. */
	struct vmm_loop_timer *scan_timer;
	int clients;
	bool full; /* the next scan compares every tile */
	uint64_t fb_gpa_seen;
	struct vmm_bochs_mode mode; /* the mode the surface shows */
	enum vmm_pixfmt fmt;
	struct vmm_display_surface surf;
	uint64_t *bitmap; /* the framebuffer slot's dirty log */
	size_t bitmap_bytes;
	struct vmm_damage damage;
	const struct vmm_display_listener *listeners[MAX_LISTENERS];
	size_t nr_listeners;

	/* Shared with the other threads, under @lock. */
	pthread_mutex_t lock;
	struct vmm_ticket tickets[VMM_NR_PROTOCOLS];
	struct server_entry servers[VMM_NR_PROTOCOLS];
	struct input_event queue[INPUT_QUEUE];
	size_t queue_head, queue_len;
	bool drain_pending;
	uint64_t dropped_inputs;
};

static const char *const protocol_names[VMM_NR_PROTOCOLS] = { "vnc", "spice" };

/* ---- the surface ---- */

static void notify_surface(struct vmm_display *d)
{
	for (size_t i = 0; i < d->nr_listeners; i++)
		d->listeners[i]->surface(d->listeners[i]->opaque, &d->surf);
}

/* The framebuffer bytes of line @y starting at pixel @x. */
static const uint8_t *fb_at(struct vmm_display *d, unsigned int x, unsigned int y)
{
	return vmm_bochs_vram(d->m->bochs) + d->mode.offset + (size_t)y * d->mode.stride +
	       (size_t)x * vmm_pixfmt_bytes(d->fmt);
}

/* Does the visible framebuffer of @mode lie inside the video memory? */
static bool mode_fits(struct vmm_display *d, const struct vmm_bochs_mode *mode, enum vmm_pixfmt fmt)
{
	size_t vram = vmm_bochs_vram_size(d->m->bochs);
	uint64_t end = mode->offset + (uint64_t)(mode->height - 1) * mode->stride +
	               (uint64_t)mode->width * vmm_pixfmt_bytes(fmt);

	return mode->stride >= (uint64_t)mode->width * vmm_pixfmt_bytes(fmt) && end <= vram;
}

/* Build the surface for the adapter's current mode and tell every listener. */
static void rebuild_surface(struct vmm_display *d)
{
	struct vmm_bochs_mode mode;
	enum vmm_pixfmt fmt = VMM_PIXFMT_XRGB8888;
	uint32_t *pixels = NULL;
	bool shown;

	vmm_bochs_get_mode(d->m->bochs, &mode);
	shown = mode.enabled && mode.width && mode.height && vmm_pixfmt_from_bpp(mode.bpp, &fmt) &&
	        mode_fits(d, &mode, fmt);
	if (shown && d->surf.pixels && mode.width == d->mode.width &&
	    mode.height == d->mode.height && mode.bpp == d->mode.bpp &&
	    mode.stride == d->mode.stride && mode.offset == d->mode.offset) {
		d->full = true; /* same geometry (a reset, say): only the pixels may differ */
		return;
	}
	if (shown) {
		pixels = malloc((size_t)mode.width * mode.height * 4);
		if (!pixels) {
			log_err("vm=%s no memory for a %ux%u display surface", d->m->cfg.name,
			        mode.width, mode.height);
			shown = false;
		}
	}
	/* Listeners switch to the new surface before the old one is freed. */
	{
		uint32_t *old_pixels = d->surf.pixels;

		d->mode = mode;
		d->fmt = fmt;
		d->surf.pixels = pixels;
		d->surf.width = shown ? mode.width : 0;
		d->surf.height = shown ? mode.height : 0;
		d->surf.stride = shown ? (size_t)mode.width * 4 : 0;
		d->surf.serial++;
		if (shown)
			for (unsigned int y = 0; y < mode.height; y++)
				vmm_damage_convert_line(pixels + (size_t)y * mode.width,
				                        fb_at(d, 0, y), mode.width, fmt);
		notify_surface(d);
		free(old_pixels);
	}
	d->full = false;
	if (shown)
		log_info("vm=%s display surface %ux%u (guest %u bpp)", d->m->cfg.name, mode.width,
		         mode.height, mode.bpp);
}

static void mode_changed_on_thread(void *opaque)
{
	rebuild_surface(opaque);
}

void vmm_display_mode_changed(struct vmm_display *d)
{
	if (d && vmm_loop_call(d->loop, mode_changed_on_thread, d) < 0)
		log_err("vm=%s display mode change lost: out of memory", d->m->cfg.name);
}

const struct vmm_display_surface *vmm_display_surface(struct vmm_display *d)
{
	return &d->surf;
}

/* ---- finding damage ---- */

static void scan(struct vmm_display *d)
{
	uint64_t gpa = __atomic_load_n(&d->m->fb_gpa, __ATOMIC_ACQUIRE);
	struct vmm_damage_frame f = {
		.shadow = d->surf.pixels,
		.width = d->surf.width,
		.height = d->surf.height,
		.fb = fb_at(d, 0, 0),
		.stride = d->mode.stride,
		.fmt = d->fmt,
		.fb_offset = d->mode.offset,
		.dirty = d->bitmap,
	};

	if (!d->surf.pixels)
		return;
	if (gpa != d->fb_gpa_seen) {
		/* The slot was recreated: its dirty log starts over. */
		d->fb_gpa_seen = gpa;
		f.dirty = NULL;
	}
	if (d->full)
		f.dirty = NULL;
	if (!gpa && f.dirty)
		return; /* the framebuffer is not mapped: the guest cannot draw */
	if (gpa && vmm_kvm_get_dirty_log(&d->m->kvm, VMM_SLOT_FRAMEBUFFER, d->bitmap) < 0)
		f.dirty = NULL; /* remapped under us; compare everything */
	d->full = false;
	if (!vmm_damage_scan(&d->damage, &f))
		return;
	for (size_t i = 0; i < d->nr_listeners; i++)
		d->listeners[i]->update(d->listeners[i]->opaque, d->damage.rects,
		                        d->damage.nr_rects);
}

static void scan_tick(void *opaque)
{
	struct vmm_display *d = opaque;

	scan(d);
	if (d->clients > 0)
		vmm_loop_timer_arm(d->scan_timer, VMM_DISPLAY_SCAN_MS * 1000000ULL);
}

void vmm_display_clients(struct vmm_display *d, int delta)
{
	int before = d->clients;

	d->clients += delta;
	if (d->clients < 0)
		d->clients = 0;
	if (before == 0 && d->clients > 0) {
		d->full = true; /* the shadow went stale while nobody watched */
		scan(d);
		vmm_loop_timer_arm(d->scan_timer, VMM_DISPLAY_SCAN_MS * 1000000ULL);
	} else if (d->clients == 0) {
		vmm_loop_timer_disarm(d->scan_timer);
	}
}

void vmm_display_refresh(struct vmm_display *d)
{
	d->full = true;
	scan(d);
}

/* ---- listeners and servers ---- */

int vmm_display_listener_add(struct vmm_display *d, const struct vmm_display_listener *l)
{
	if (d->nr_listeners == MAX_LISTENERS)
		return -ENOSPC;
	d->listeners[d->nr_listeners++] = l;
	l->surface(l->opaque, &d->surf);
	return 0;
}

void vmm_display_listener_remove(struct vmm_display *d, const struct vmm_display_listener *l)
{
	for (size_t i = 0; i < d->nr_listeners; i++)
		if (d->listeners[i] == l) {
			d->listeners[i] = d->listeners[--d->nr_listeners];
			return;
		}
}

void vmm_display_server_info_set(struct vmm_display *d, const struct vmm_display_server_info *i)
{
	struct server_entry *e = &d->servers[i->protocol];

	pthread_mutex_lock(&d->lock);
	e->set = true;
	snprintf(e->address, sizeof(e->address), "%s", i->address);
	e->port = i->port;
	e->tls_port = i->tls_port;
	e->auth = i->auth;
	pthread_mutex_unlock(&d->lock);
}

void vmm_display_server_info_clear(struct vmm_display *d, enum vmm_protocol protocol)
{
	pthread_mutex_lock(&d->lock);
	d->servers[protocol].set = false;
	pthread_mutex_unlock(&d->lock);
}

json_t *vmm_display_describe(struct vmm_display *d)
{
	struct vmm_bochs_mode mode;
	json_t *servers = json_array(), *jmode = json_null();

	vmm_bochs_get_mode(d->m->bochs, &mode);
	if (mode.enabled)
		jmode = json_pack("{s:i, s:i, s:i}", "width", (int)mode.width, "height",
		                  (int)mode.height, "bpp", (int)mode.bpp);
	pthread_mutex_lock(&d->lock);
	for (int p = 0; p < VMM_NR_PROTOCOLS; p++) {
		struct server_entry *e = &d->servers[p];
		json_t *s;

		if (!e->set)
			continue;
		s = json_pack("{s:s, s:s, s:b}", "protocol", protocol_names[p], "address",
		              e->address, "auth", e->auth);
		if (e->port >= 0)
			json_object_set_new(s, "port", json_integer(e->port));
		if (e->tls_port >= 0)
			json_object_set_new(s, "tls-port", json_integer(e->tls_port));
		json_array_append_new(servers, s);
	}
	pthread_mutex_unlock(&d->lock);
	return json_pack("{s:o, s:o}", "mode", jmode, "servers", servers);
}

/* ---- tickets ---- */

struct ticket_note {
	struct vmm_display *d;
	enum vmm_protocol protocol;
	struct vmm_ticket ticket;
	bool disconnect;
};

static void ticket_on_thread(void *opaque)
{
	struct ticket_note *n = opaque;
	struct vmm_display *d = n->d;

	for (size_t i = 0; i < d->nr_listeners; i++)
		if (d->listeners[i]->protocol == n->protocol && d->listeners[i]->ticket)
			d->listeners[i]->ticket(d->listeners[i]->opaque, &n->ticket, n->disconnect);
	OPENSSL_cleanse(&n->ticket, sizeof(n->ticket));
}

void vmm_display_ticket_set(struct vmm_display *d, enum vmm_protocol protocol,
                            const struct vmm_ticket *t, bool disconnect)
{
	struct ticket_note n = { d, protocol, *t, disconnect };

	pthread_mutex_lock(&d->lock);
	d->tickets[protocol] = *t;
	pthread_mutex_unlock(&d->lock);
	/* Synchronous, so a reply to set-ticket means the server has it. */
	if (vmm_display_call_sync(d, ticket_on_thread, &n) < 0)
		log_err("vm=%s ticket not handed to the display server: out of memory",
		        d->m->cfg.name);
	OPENSSL_cleanse(&n.ticket, sizeof(n.ticket));
}

int vmm_display_ticket_verify(struct vmm_display *d, enum vmm_protocol protocol,
                              bool (*match)(void *opaque, const char *secret), void *opaque)
{
	struct vmm_ticket *t = &d->tickets[protocol];
	int r;

	pthread_mutex_lock(&d->lock);
	if (!t->set)
		r = -ENOENT;
	else if (t->used)
		r = -EALREADY;
	else if (t->expires && time(NULL) >= t->expires)
		r = -EKEYEXPIRED;
	else if (!match(opaque, t->secret))
		r = -EACCES;
	else
		r = 0;
	if (r == 0)
		t->used = true;
	pthread_mutex_unlock(&d->lock);
	return r;
}

void vmm_display_ticket_get(struct vmm_display *d, enum vmm_protocol protocol,
                            struct vmm_ticket *ret)
{
	pthread_mutex_lock(&d->lock);
	*ret = d->tickets[protocol];
	pthread_mutex_unlock(&d->lock);
}

/* ---- input and events, to the machine's loop ---- */

/* On the machine's loop: apply every queued event in order. */
static void drain_inputs(void *opaque)
{
	struct vmm_display *d = opaque;
	struct input_event ev;
	uint64_t dropped;

	for (;;) {
		pthread_mutex_lock(&d->lock);
		if (!d->queue_len) {
			d->drain_pending = false;
			dropped = d->dropped_inputs;
			d->dropped_inputs = 0;
			pthread_mutex_unlock(&d->lock);
			break;
		}
		ev = d->queue[d->queue_head];
		d->queue_head = (d->queue_head + 1) % INPUT_QUEUE;
		d->queue_len--;
		pthread_mutex_unlock(&d->lock);
		switch (ev.kind) {
		case INPUT_KEY:
			vmm_machine_key(d->m, ev.a, ev.b);
			break;
		case INPUT_POINTER:
			vmm_machine_pointer(d->m, ev.a, ev.b, ev.c, ev.wheel);
			break;
		case INPUT_CLIENT:
			vmm_machine_event(d->m, ev.b ? "client-connected" : "client-disconnected",
			                  json_pack("{s:s, s:s}", "protocol", protocol_names[ev.a],
			                            "address", ev.address));
			break;
		}
	}
	if (dropped)
		log_warn("vm=%s %llu input events dropped: the machine was not keeping up",
		         d->m->cfg.name, (unsigned long long)dropped);
}

static void queue_input(struct vmm_display *d, const struct input_event *ev)
{
	bool call = false;

	pthread_mutex_lock(&d->lock);
	if (d->queue_len == INPUT_QUEUE) {
		d->dropped_inputs++;
	} else {
		d->queue[(d->queue_head + d->queue_len) % INPUT_QUEUE] = *ev;
		d->queue_len++;
		if (!d->drain_pending)
			call = d->drain_pending = true;
	}
	pthread_mutex_unlock(&d->lock);
	if (call && vmm_loop_call(d->m->loop, drain_inputs, d) < 0) {
		pthread_mutex_lock(&d->lock);
		d->drain_pending = false;
		pthread_mutex_unlock(&d->lock);
	}
}

void vmm_display_key(struct vmm_display *d, unsigned int evdev, bool down)
{
	struct input_event ev = { .kind = INPUT_KEY, .a = evdev, .b = down };

	queue_input(d, &ev);
}

void vmm_display_pointer(struct vmm_display *d, unsigned int x, unsigned int y,
                         unsigned int buttons, int wheel)
{
	struct input_event ev = {
		.kind = INPUT_POINTER, .a = x, .b = y, .c = buttons, .wheel = wheel
	};

	queue_input(d, &ev);
}

void vmm_display_client_event(struct vmm_display *d, enum vmm_protocol protocol, bool connected,
                              const char *remote_address)
{
	struct input_event ev = { .kind = INPUT_CLIENT, .a = protocol, .b = connected };

	snprintf(ev.address, sizeof(ev.address), "%s", remote_address ? remote_address : "");
	log_info("vm=%s %s client %s %s", d->m->cfg.name, protocol_names[protocol],
	         connected ? "connected from" : "disconnected:", ev.address);
	queue_input(d, &ev);
}

int vmm_display_request_size(struct vmm_display *d, unsigned int w, unsigned int h)
{
	int r = vmm_bochs_set_preferred_mode(d->m->bochs, w, h);

	if (r == 0)
		log_info("vm=%s client asked for %ux%u; the guest's preferred mode is now that",
		         d->m->cfg.name, w, h);
	return r;
}

/* ---- the thread ---- */

struct sync_call {
	vmm_loop_fn fn;
	void *opaque;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void sync_call_run(void *opaque)
{
	struct sync_call *c = opaque;

	c->fn(c->opaque);
	pthread_mutex_lock(&c->lock);
	c->done = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

int vmm_display_call_sync(struct vmm_display *d, vmm_loop_fn fn, void *opaque)
{
	struct sync_call c = { .fn = fn, .opaque = opaque };
	int r;

	if (pthread_equal(pthread_self(), d->thread)) {
		fn(opaque);
		return 0;
	}
	pthread_mutex_init(&c.lock, NULL);
	pthread_cond_init(&c.cond, NULL);
	r = vmm_loop_call(d->loop, sync_call_run, &c);
	if (r == 0) {
		pthread_mutex_lock(&c.lock);
		while (!c.done)
			pthread_cond_wait(&c.cond, &c.lock);
		pthread_mutex_unlock(&c.lock);
	}
	pthread_cond_destroy(&c.cond);
	pthread_mutex_destroy(&c.lock);
	return r;
}

struct vmm_loop *vmm_display_loop(struct vmm_display *d)
{
	return d->loop;
}

static void *display_thread(void *opaque)
{
	struct vmm_display *d = opaque;
	int r = vmm_loop_run(d->loop);

	if (r < 0)
		log_err("vm=%s display loop failed: %s", d->m->cfg.name, strerror(-r));
	return NULL;
}

static void first_surface(void *opaque)
{
	rebuild_surface(opaque);
}

int vmm_display_new(struct vmm_machine *m, struct vmm_display **ret)
{
	struct vmm_display *d = calloc(1, sizeof(*d));
	size_t pages;
	int r;

	if (!d)
		return -ENOMEM;
	d->m = m;
	pthread_mutex_init(&d->lock, NULL);
	for (int p = 0; p < VMM_NR_PROTOCOLS; p++)
		d->servers[p].port = d->servers[p].tls_port = -1;
	pages = (vmm_bochs_vram_size(m->bochs) + 4095) / 4096;
	d->bitmap_bytes = (pages + 63) / 64 * 8;
	d->bitmap = calloc(1, d->bitmap_bytes);
	d->loop = vmm_loop_new();
	if (!d->bitmap || !d->loop || vmm_damage_init(&d->damage, VMM_BOCHS_MAX_W) < 0) {
		vmm_display_free(d);
		return -ENOMEM;
	}
	d->scan_timer = vmm_loop_timer_new(d->loop, scan_tick, d);
	if (!d->scan_timer) {
		vmm_display_free(d);
		return -ENOMEM;
	}
	r = pthread_create(&d->thread, NULL, display_thread, d);
	if (r) {
		vmm_display_free(d);
		return -r;
	}
	d->thread_started = true;
	vmm_display_call_sync(d, first_surface, d);
	*ret = d;
	return 0;
}

static void release_surface(void *opaque)
{
	struct vmm_display *d = opaque;

	vmm_loop_timer_free(d->scan_timer);
	d->scan_timer = NULL;
	vmm_loop_quit(d->loop);
}

void vmm_display_free(struct vmm_display *d)
{
	if (!d)
		return;
	if (d->thread_started) {
		vmm_display_call_sync(d, release_surface, d);
		pthread_join(d->thread, NULL);
	} else {
		vmm_loop_timer_free(d->scan_timer);
	}
	vmm_loop_free(d->loop);
	OPENSSL_cleanse(d->tickets, sizeof(d->tickets));
	pthread_mutex_destroy(&d->lock);
	free(d->surf.pixels);
	free(d->bitmap);
	vmm_damage_exit(&d->damage);
	free(d);
}
