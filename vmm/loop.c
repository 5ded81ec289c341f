// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/loop.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct vmm_loop_watch {
	struct vmm_loop *loop;
	struct vmm_loop_watch *next;
	int fd;
	unsigned int events;
	bool dead;
	vmm_loop_fd_fn fn;
	void *opaque;
};

struct vmm_loop_timer {
	struct vmm_loop *loop;
	struct vmm_loop_timer *next;
	uint64_t deadline; /* 0: disarmed */
	bool dead;
	vmm_loop_fn fn;
	void *opaque;
};

struct loop_call {
	struct loop_call *next;
	vmm_loop_fn fn;
	void *opaque;
};

struct vmm_loop {
	pthread_mutex_t lock;
	int wake_fd;
	bool quit;
	struct vmm_loop_watch *watches;
	struct vmm_loop_timer *timers;
	struct loop_call *calls, **calls_tail;
	/* Scratch for poll(2), grown as needed; only the loop thread uses it. */
	struct pollfd *pfd;
	struct vmm_loop_watch **pw;
	unsigned int pfd_cap;
};

uint64_t vmm_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void loop_wake(struct vmm_loop *loop)
{
	uint64_t one = 1;

	/* EAGAIN means a wake-up is already pending, which is all we need. */
	if (write(loop->wake_fd, &one, sizeof(one)) < 0)
		(void)0;
}

struct vmm_loop *vmm_loop_new(void)
{
	struct vmm_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return NULL;
	loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wake_fd < 0) {
		free(loop);
		return NULL;
	}
	pthread_mutex_init(&loop->lock, NULL);
	loop->calls_tail = &loop->calls;
	return loop;
}

void vmm_loop_free(struct vmm_loop *loop)
{
	if (!loop)
		return;
	while (loop->watches) {
		struct vmm_loop_watch *w = loop->watches;

		loop->watches = w->next;
		free(w);
	}
	while (loop->timers) {
		struct vmm_loop_timer *t = loop->timers;

		loop->timers = t->next;
		free(t);
	}
	while (loop->calls) {
		struct loop_call *c = loop->calls;

		loop->calls = c->next;
		free(c);
	}
	close(loop->wake_fd);
	pthread_mutex_destroy(&loop->lock);
	free(loop->pfd);
	free(loop->pw);
	free(loop);
}

void vmm_loop_quit(struct vmm_loop *loop)
{
	pthread_mutex_lock(&loop->lock);
	loop->quit = true;
	pthread_mutex_unlock(&loop->lock);
	loop_wake(loop);
}

struct vmm_loop_watch *vmm_loop_watch_add(struct vmm_loop *loop, int fd, unsigned int events,
                                          vmm_loop_fd_fn fn, void *opaque)
{
	struct vmm_loop_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->loop = loop;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->opaque = opaque;
	pthread_mutex_lock(&loop->lock);
	w->next = loop->watches;
	loop->watches = w;
	pthread_mutex_unlock(&loop->lock);
	loop_wake(loop);
	return w;
}

void vmm_loop_watch_update(struct vmm_loop_watch *w, unsigned int events)
{
	pthread_mutex_lock(&w->loop->lock);
	w->events = events;
	pthread_mutex_unlock(&w->loop->lock);
	loop_wake(w->loop);
}

void vmm_loop_watch_remove(struct vmm_loop_watch *w)
{
	if (!w)
		return;
	/* Freed by the loop thread once no poll snapshot can refer to it. */
	pthread_mutex_lock(&w->loop->lock);
	w->dead = true;
	pthread_mutex_unlock(&w->loop->lock);
	loop_wake(w->loop);
}

struct vmm_loop_timer *vmm_loop_timer_new(struct vmm_loop *loop, vmm_loop_fn fn, void *opaque)
{
	struct vmm_loop_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->loop = loop;
	t->fn = fn;
	t->opaque = opaque;
	pthread_mutex_lock(&loop->lock);
	t->next = loop->timers;
	loop->timers = t;
	pthread_mutex_unlock(&loop->lock);
	return t;
}

void vmm_loop_timer_arm(struct vmm_loop_timer *t, uint64_t delay_ns)
{
	uint64_t deadline = vmm_now_ns() + delay_ns;

	pthread_mutex_lock(&t->loop->lock);
	t->deadline = deadline ? deadline : 1;
	pthread_mutex_unlock(&t->loop->lock);
	loop_wake(t->loop);
}

void vmm_loop_timer_disarm(struct vmm_loop_timer *t)
{
	pthread_mutex_lock(&t->loop->lock);
	t->deadline = 0;
	pthread_mutex_unlock(&t->loop->lock);
}

void vmm_loop_timer_free(struct vmm_loop_timer *t)
{
	if (!t)
		return;
	pthread_mutex_lock(&t->loop->lock);
	t->deadline = 0;
	t->dead = true;
	pthread_mutex_unlock(&t->loop->lock);
	loop_wake(t->loop);
}

int vmm_loop_call(struct vmm_loop *loop, vmm_loop_fn fn, void *opaque)
{
	struct loop_call *c = malloc(sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->next = NULL;
	c->fn = fn;
	c->opaque = opaque;
	pthread_mutex_lock(&loop->lock);
	*loop->calls_tail = c;
	loop->calls_tail = &c->next;
	pthread_mutex_unlock(&loop->lock);
	loop_wake(loop);
	return 0;
}

/* Free dead watches and timers. Called with the lock held, outside dispatch. */
static void reap(struct vmm_loop *loop)
{
	for (struct vmm_loop_watch **pw = &loop->watches; *pw;) {
		struct vmm_loop_watch *w = *pw;

		if (w->dead) {
			*pw = w->next;
			free(w);
		} else {
			pw = &w->next;
		}
	}
	for (struct vmm_loop_timer **pt = &loop->timers; *pt;) {
		struct vmm_loop_timer *t = *pt;

		if (t->dead) {
			*pt = t->next;
			free(t);
		} else {
			pt = &t->next;
		}
	}
}

/* Build the poll set; returns the number of entries or -ENOMEM. Lock held. */
static int snapshot(struct vmm_loop *loop)
{
	unsigned int n = 1;

	for (struct vmm_loop_watch *w = loop->watches; w; w = w->next)
		n++;
	if (n > loop->pfd_cap) {
		struct pollfd *pfd = realloc(loop->pfd, n * 2 * sizeof(*pfd));
		struct vmm_loop_watch **pw;

		if (!pfd)
			return -ENOMEM;
		loop->pfd = pfd;
		pw = realloc(loop->pw, n * 2 * sizeof(*pw));
		if (!pw)
			return -ENOMEM;
		loop->pw = pw;
		loop->pfd_cap = n * 2;
	}
	loop->pfd[0] = (struct pollfd){ .fd = loop->wake_fd, .events = POLLIN };
	loop->pw[0] = NULL;
	n = 1;
	for (struct vmm_loop_watch *w = loop->watches; w; w = w->next) {
		loop->pfd[n] = (struct pollfd){ .fd = w->fd, .events = (short)w->events };
		loop->pw[n] = w;
		n++;
	}
	return (int)n;
}

static int next_timeout_ms(struct vmm_loop *loop, uint64_t now)
{
	uint64_t earliest = 0;

	for (struct vmm_loop_timer *t = loop->timers; t; t = t->next)
		if (t->deadline && (!earliest || t->deadline < earliest))
			earliest = t->deadline;
	if (!earliest)
		return -1;
	if (earliest <= now)
		return 0;
	/* Round up so a timer never fires early and spins. */
	return (int)((earliest - now + 999999) / 1000000);
}

static void run_timers(struct vmm_loop *loop)
{
	uint64_t now = vmm_now_ns();
	bool again = true;

	/* Restart the scan after each callback: it may have changed the list. */
	while (again) {
		again = false;
		for (struct vmm_loop_timer *t = loop->timers; t; t = t->next) {
			if (t->dead || !t->deadline || t->deadline > now)
				continue;
			t->deadline = 0;
			pthread_mutex_unlock(&loop->lock);
			t->fn(t->opaque);
			pthread_mutex_lock(&loop->lock);
			again = true;
			break;
		}
	}
}

static void run_calls(struct vmm_loop *loop)
{
	struct loop_call *c = loop->calls;

	loop->calls = NULL;
	loop->calls_tail = &loop->calls;
	while (c) {
		struct loop_call *next = c->next;

		pthread_mutex_unlock(&loop->lock);
		c->fn(c->opaque);
		free(c);
		pthread_mutex_lock(&loop->lock);
		c = next;
	}
}

int vmm_loop_run(struct vmm_loop *loop)
{
	int ret = 0;

	pthread_mutex_lock(&loop->lock);
	while (!loop->quit) {
		int n, timeout, r;

		reap(loop);
		n = snapshot(loop);
		if (n < 0) {
			ret = n;
			break;
		}
		timeout = next_timeout_ms(loop, vmm_now_ns());
		if (loop->calls)
			timeout = 0;
		pthread_mutex_unlock(&loop->lock);
		r = poll(loop->pfd, (nfds_t)n, timeout);
		pthread_mutex_lock(&loop->lock);
		if (r < 0 && errno != EINTR) {
			ret = -errno;
			break;
		}
		if (r > 0 && loop->pfd[0].revents) {
			uint64_t v;

			if (read(loop->wake_fd, &v, sizeof(v)) < 0)
				(void)0;
		}
		for (int i = 1; r > 0 && i < n && !loop->quit; i++) {
			struct vmm_loop_watch *w = loop->pw[i];
			unsigned int rev = (unsigned int)loop->pfd[i].revents;

			if (!rev || w->dead)
				continue;
			pthread_mutex_unlock(&loop->lock);
			w->fn(w->opaque, w->fd, rev);
			pthread_mutex_lock(&loop->lock);
		}
		run_calls(loop);
		run_timers(loop);
	}
	loop->quit = false;
	pthread_mutex_unlock(&loop->lock);
	return ret;
}
