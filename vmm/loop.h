/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vmm's event loop: one thread that owns everything that is not a vCPU
 * (control socket clients, display servers, timers). It is a small poll(2)
 * loop with fd watches, one-shot timers and cross-thread calls; the SPICE
 * server's core interface maps straight onto it.
 *
 * Every function here may be called from any thread; callbacks always run
 * on the loop thread, never with a loop lock held, so they may add, change
 * or remove watches and timers (including their own).
 */
#ifndef VDI_VMM_LOOP_H
#define VDI_VMM_LOOP_H

#include <stdint.h>

struct vmm_loop;
struct vmm_loop_watch;
struct vmm_loop_timer;

/* @events and @revents use POLLIN/POLLOUT; POLLERR/POLLHUP are always reported. */
typedef void (*vmm_loop_fd_fn)(void *opaque, int fd, unsigned int revents);
typedef void (*vmm_loop_fn)(void *opaque);

/* Monotonic time in nanoseconds. */
uint64_t vmm_now_ns(void);

/* A new loop, or NULL with errno set. */
struct vmm_loop *vmm_loop_new(void);

/* Free the loop and every watch and timer still registered; NULL is a no-op. */
void vmm_loop_free(struct vmm_loop *loop);

/*
 * Run callbacks until vmm_loop_quit(). Returns 0, or -errno if poll(2)
 * failed for a reason other than EINTR. The calling thread becomes the
 * loop thread.
 */
int vmm_loop_run(struct vmm_loop *loop);

/* Ask vmm_loop_run() to return after the current callback. */
void vmm_loop_quit(struct vmm_loop *loop);

/* Watch @fd for @events. Returns the watch, or NULL on ENOMEM. */
struct vmm_loop_watch *vmm_loop_watch_add(struct vmm_loop *loop, int fd, unsigned int events,
                                          vmm_loop_fd_fn fn, void *opaque);
void vmm_loop_watch_update(struct vmm_loop_watch *w, unsigned int events);

/* Stop watching; the callback is not called again once this returns on the loop thread. */
void vmm_loop_watch_remove(struct vmm_loop_watch *w);

/* A disarmed one-shot timer, or NULL on ENOMEM. */
struct vmm_loop_timer *vmm_loop_timer_new(struct vmm_loop *loop, vmm_loop_fn fn, void *opaque);

/* (Re)arm to fire once, @delay_ns from now. */
void vmm_loop_timer_arm(struct vmm_loop_timer *t, uint64_t delay_ns);
void vmm_loop_timer_disarm(struct vmm_loop_timer *t);
void vmm_loop_timer_free(struct vmm_loop_timer *t);

/*
 * Run @fn(@opaque) on the loop thread soon, in call order. For vCPU threads
 * that must hand work to the loop (a mode change, a guest shutdown).
 * Returns 0 or -ENOMEM.
 */
int vmm_loop_call(struct vmm_loop *loop, vmm_loop_fn fn, void *opaque);

#endif
