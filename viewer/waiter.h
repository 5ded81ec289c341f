/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A thread that waits on file descriptors on behalf of the main thread.
 *
 * The main thread sleeps in SDL_WaitEvent(), which cannot watch sockets.
 * So it hands the descriptors it cares about to this thread (arm), which
 * poll()s them and calls a notify function (that pushes an SDL event) when
 * one is ready or the timeout passes; the main thread then takes the
 * results back (collect) and handles them itself. The waiter only polls: it
 * never reads, writes or closes the descriptors, and no library state is
 * touched outside the main thread. collect() also interrupts a poll still
 * running, so the main thread can always take the descriptors back at once.
 */
#ifndef VDI_VIEWER_WAITER_H
#define VDI_VIEWER_WAITER_H

#include <poll.h>
#include <stdbool.h>

#define VIEWER_WAITER_MAX_FDS 1024

struct viewer_waiter;

/* Called on the waiter thread when a poll ends by itself (not by collect()). */
typedef void (*viewer_waiter_notify_fn)(void *opaque);

/* Start the thread. Returns 0 or -errno; *@ret is set only on success. */
int viewer_waiter_new(viewer_waiter_notify_fn notify, void *opaque, struct viewer_waiter **ret);

/*
 * Start polling a copy of @fds (@n of them, at most VIEWER_WAITER_MAX_FDS)
 * for up to @timeout_ms (-1: no limit). The waiter must be idle (new, or
 * collected since the last arm). Returns 0, or -E2BIG / -ENOMEM.
 */
int viewer_waiter_arm(struct viewer_waiter *w, const struct pollfd *fds, unsigned int n,
                      int timeout_ms);

/*
 * Stop polling (interrupting the poll if it still runs), copy the revents
 * of the armed descriptors into @fds (the same @n as armed) and make the
 * waiter idle. Returns how many descriptors have events; 0 after a timeout
 * or an interruption, or when the waiter was not armed.
 */
int viewer_waiter_collect(struct viewer_waiter *w, struct pollfd *fds, unsigned int n);

/* Whether the waiter is armed (polling, or done and not yet collected). */
bool viewer_waiter_armed(struct viewer_waiter *w);

/* Stop and join the thread. NULL is a no-op. */
void viewer_waiter_free(struct viewer_waiter *w);

#endif
