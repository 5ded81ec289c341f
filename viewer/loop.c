// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/loop.h"

#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdlib.h>

#include <SDL_syswm.h>

#include "proto/log.h"
#include "viewer/waiter.h"

struct viewer_loop {
	GMainContext *ctx;
	int xfd;                      /* the X server connection, polled here; else -1 */
	struct viewer_waiter *waiter; /* without one: a thread polls for GLib */
	Uint32 wake_type;
	GPollFD *gfds;
	struct pollfd *pfds; /* one more than gfds: the X connection */
	int cap;
};

static void wake_main(void *opaque)
{
	struct viewer_loop *l = opaque;
	SDL_Event ev = { .type = l->wake_type };

	SDL_PushEvent(&ev);
}

/* The X server connection of @window's display, or -1 (not X11). */
static int x11_fd(SDL_Window *window)
{
#ifdef SDL_VIDEO_DRIVER_X11
	SDL_SysWMinfo info;

	SDL_VERSION(&info.version);
	if (window && SDL_GetWindowWMInfo(window, &info) && info.subsystem == SDL_SYSWM_X11)
		return ConnectionNumber(info.info.x11.display);
#endif
	return -1;
}

int viewer_loop_new(SDL_Window *window, struct viewer_loop **ret)
{
	struct viewer_loop *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->xfd = x11_fd(window);
	l->wake_type = SDL_RegisterEvents(1);
	if (l->wake_type == (Uint32)-1) {
		free(l);
		return -ENOSPC;
	}
	l->cap = 32;
	l->gfds = calloc((size_t)l->cap, sizeof(*l->gfds));
	l->pfds = calloc((size_t)l->cap + 1, sizeof(*l->pfds));
	if (!l->gfds || !l->pfds) {
		r = -ENOMEM;
		goto out_free;
	}
	l->ctx = g_main_context_ref(g_main_context_default());
	if (!g_main_context_acquire(l->ctx)) {
		r = -EBUSY;
		goto out_ctx;
	}
	if (l->xfd < 0) {
		r = viewer_waiter_new(wake_main, l, &l->waiter);
		if (r < 0)
			goto out_release;
	}
	*ret = l;
	return 0;

out_release:
	g_main_context_release(l->ctx);
out_ctx:
	g_main_context_unref(l->ctx);
out_free:
	free(l->gfds);
	free(l->pfds);
	free(l);
	return r;
}

/* Query the context's descriptors into l->gfds, growing it; their number. */
static int query(struct viewer_loop *l, gint prio, gint *timeout)
{
	for (;;) {
		int n = g_main_context_query(l->ctx, prio, timeout, l->gfds, l->cap);
		GPollFD *g;
		struct pollfd *p;

		if (n <= l->cap)
			return n;
		g = realloc(l->gfds, (size_t)n * sizeof(*g));
		if (g)
			l->gfds = g;
		p = realloc(l->pfds, ((size_t)n + 1) * sizeof(*p));
		if (p)
			l->pfds = p;
		if (!g || !p)
			return l->cap; /* poll what fits; the rest waits for the next round */
		l->cap = n;
	}
}

static int64_t now_ms(void)
{
	return (int64_t)(g_get_monotonic_time() / 1000);
}

/*
 * Poll GLib's descriptors and the X connection here, on the main thread,
 * for at most @wait_ms (-1: no limit); no thread, no wake-up event through
 * the X server per GLib wake-up. SDL_PumpEvents() flushes what SDL sends
 * and reads all the X server sent, so an event not handed out yet is in
 * SDL's queue, never left unread in the connection: with one queued the
 * poll does not sleep. Returns whether an SDL event is in *@ev.
 */
static int wait_x11(struct viewer_loop *l, int n, int wait_ms, SDL_Event *ev)
{
	int got;

	SDL_PumpEvents();
	got = SDL_PeepEvents(ev, 1, SDL_GETEVENT, SDL_FIRSTEVENT, SDL_LASTEVENT) == 1;
	l->pfds[n] = (struct pollfd){ .fd = l->xfd, .events = POLLIN };
	if (poll(l->pfds, (nfds_t)n + 1, got ? 0 : wait_ms) < 0) {
		/* A signal (SIGTERM): the next SDL_PumpEvents() makes it SDL_QUIT. */
		for (int i = 0; i <= n; i++)
			l->pfds[i].revents = 0;
	}
	if (!got && l->pfds[n].revents) {
		SDL_PumpEvents();
		got = SDL_PeepEvents(ev, 1, SDL_GETEVENT, SDL_FIRSTEVENT, SDL_LASTEVENT) == 1;
	}
	return got;
}

int viewer_loop_wait(struct viewer_loop *l, SDL_Event *ev, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		gint prio, gtimeout = -1;
		gboolean ready = g_main_context_prepare(l->ctx, &prio);
		int n = query(l, prio, &gtimeout), got = 0, left = -1;
		bool ran = false;

		if (ready)
			gtimeout = 0;
		for (int i = 0; i < n; i++)
			l->pfds[i] = (struct pollfd){ .fd = l->gfds[i].fd,
				                      .events = (short)l->gfds[i].events };
		if (deadline >= 0) {
			int64_t d = deadline - now_ms();

			left = d < 0 ? 0 : (int)d;
		}
		if (l->xfd >= 0) {
			int wait = gtimeout;

			if (left >= 0 && (wait < 0 || left < wait))
				wait = left;
			got = wait_x11(l, n, wait, ev);
		} else if (gtimeout == 0) {
			/* Work is due now: look at the descriptors without sleeping. */
			poll(l->pfds, (nfds_t)n, 0);
			got = SDL_PollEvent(ev);
		} else if (viewer_waiter_arm(l->waiter, l->pfds, (unsigned int)n, gtimeout) == 0) {
			got = left < 0 ? SDL_WaitEvent(ev) : SDL_WaitEventTimeout(ev, left);
			viewer_waiter_collect(l->waiter, l->pfds, (unsigned int)n);
		} else {
			/* Should not happen; degrade to a short sleep rather than spin. */
			log_debug("loop: could not arm the waiter");
			poll(l->pfds, (nfds_t)n, 10);
		}
		for (int i = 0; i < n; i++)
			l->gfds[i].revents = (gushort)l->pfds[i].revents;
		if (g_main_context_check(l->ctx, prio, l->gfds, n)) {
			g_main_context_dispatch(l->ctx);
			ran = true;
		}
		if (got && ev->type != l->wake_type)
			return 1;
		/*
		 * GLib ran (or time is up): let the caller redraw. X traffic that
		 * made no event (a reply, an event SDL keeps) waits again.
		 */
		if (got || ran || gtimeout == 0 || (deadline >= 0 && now_ms() >= deadline))
			return 0;
	}
}

int viewer_loop_is_wakeup(struct viewer_loop *l, const SDL_Event *ev)
{
	return ev->type == l->wake_type;
}

void viewer_loop_free(struct viewer_loop *l)
{
	if (!l)
		return;
	viewer_waiter_free(l->waiter);
	g_main_context_release(l->ctx);
	g_main_context_unref(l->ctx);
	free(l->gfds);
	free(l->pfds);
	free(l);
}
