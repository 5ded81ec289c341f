// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/loop.h"

#include <errno.h>
#include <glib.h>
#include <poll.h>
#include <stdlib.h>

#include "proto/log.h"
#include "viewer/waiter.h"

struct viewer_loop {
	GMainContext *ctx;
	struct viewer_waiter *waiter;
	Uint32 wake_type;
	GPollFD *gfds;
	struct pollfd *pfds;
	int cap;
};

static void wake_main(void *opaque)
{
	struct viewer_loop *l = opaque;
	SDL_Event ev = { .type = l->wake_type };

	SDL_PushEvent(&ev);
}

int viewer_loop_new(struct viewer_loop **ret)
{
	struct viewer_loop *l = calloc(1, sizeof(*l));
	int r;

	if (!l)
		return -ENOMEM;
	l->wake_type = SDL_RegisterEvents(1);
	if (l->wake_type == (Uint32)-1) {
		free(l);
		return -ENOSPC;
	}
	l->cap = 32;
	l->gfds = calloc((size_t)l->cap, sizeof(*l->gfds));
	l->pfds = calloc((size_t)l->cap, sizeof(*l->pfds));
	if (!l->gfds || !l->pfds) {
		r = -ENOMEM;
		goto out_free;
	}
	l->ctx = g_main_context_ref(g_main_context_default());
	if (!g_main_context_acquire(l->ctx)) {
		r = -EBUSY;
		goto out_ctx;
	}
	r = viewer_waiter_new(wake_main, l, &l->waiter);
	if (r < 0)
		goto out_release;
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
		p = realloc(l->pfds, (size_t)n * sizeof(*p));
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

int viewer_loop_wait(struct viewer_loop *l, SDL_Event *ev, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	for (;;) {
		gint prio, gtimeout = -1;
		gboolean ready = g_main_context_prepare(l->ctx, &prio);
		int n = query(l, prio, &gtimeout), got = 0, left = -1;

		if (ready)
			gtimeout = 0;
		for (int i = 0; i < n; i++)
			l->pfds[i] = (struct pollfd){ .fd = l->gfds[i].fd,
				                      .events = (short)l->gfds[i].events };
		if (deadline >= 0) {
			int64_t d = deadline - now_ms();

			left = d < 0 ? 0 : (int)d;
		}
		if (gtimeout == 0) {
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
		if (g_main_context_check(l->ctx, prio, l->gfds, n))
			g_main_context_dispatch(l->ctx);
		if (got && ev->type != l->wake_type)
			return 1;
		if (got || gtimeout == 0 || (deadline >= 0 && now_ms() >= deadline))
			return 0; /* GLib ran (or time is up): let the caller redraw */
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
