/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The viewer's one event loop: SDL's events and GLib's default main
 * context, both run on the main thread.
 *
 * Everything that is not SDL (libvncclient's socket, spice-client-glib's
 * channels, timers) is a GLib source on the default context. Each wait
 * prepares the context and polls its descriptors together with SDL's X
 * server connection, then dispatches whatever GLib sources are ready and
 * hands out SDL's events. With a video driver other than X11, a
 * viewer_waiter thread polls the descriptors while the main thread sleeps
 * in SDL_WaitEventTimeout(). So an idle viewer sleeps without waking up, a
 * socket that becomes readable wakes it at once, and no library is ever
 * called from two threads.
 */
#ifndef VDI_VIEWER_LOOP_H
#define VDI_VIEWER_LOOP_H

#include <SDL.h>

struct viewer_loop;

/*
 * Take GLib's default main context for this thread; on X11 (@window's
 * display) the main thread polls the X connection and GLib's descriptors
 * itself, elsewhere a waiter thread polls GLib's. SDL's video system must
 * be initialised. Returns 0 or -errno.
 */
int viewer_loop_new(SDL_Window *window, struct viewer_loop **ret);

/*
 * Wait up to @timeout_ms (-1: no limit) for an SDL event or GLib work.
 * Ready GLib sources are dispatched before this returns. Returns 1 with an
 * SDL event in *@ev, or 0 when only GLib work ran or the time ran out.
 */
int viewer_loop_wait(struct viewer_loop *l, SDL_Event *ev, int timeout_ms);

/* Whether @ev is the loop's own wake-up event, which callers ignore. */
int viewer_loop_is_wakeup(struct viewer_loop *l, const SDL_Event *ev);

/* Stop the waiter and release the context. NULL is a no-op. */
void viewer_loop_free(struct viewer_loop *l);

#endif
