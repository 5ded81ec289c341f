// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/waiter.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum waiter_state {
	WAITER_IDLE,
	WAITER_ARMED, /* the thread owns fds[] and polls them */
	WAITER_DONE,  /* the poll ended; revents are in fds[] */
	WAITER_QUIT,
};

struct viewer_waiter {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int wake[2]; /* a byte in wake[0] interrupts the poll */
	enum waiter_state state;
	struct pollfd *fds; /* n armed descriptors, then wake[0] */
	unsigned int n, cap;
	int timeout_ms;
	int ready; /* poll's result, without the wake pipe */
	viewer_waiter_notify_fn notify;
	void *opaque;
};

static void drain(int fd)
{
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
}

static void *waiter_main(void *arg)
{
	struct viewer_waiter *w = arg;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		bool interrupted;
		int r;

		while (w->state != WAITER_ARMED && w->state != WAITER_QUIT)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->state == WAITER_QUIT)
			break;
		pthread_mutex_unlock(&w->lock);

		do
			r = poll(w->fds, w->n + 1, w->timeout_ms);
		while (r < 0 && errno == EINTR);

		pthread_mutex_lock(&w->lock);
		interrupted = r > 0 && w->fds[w->n].revents;
		w->ready = r < 0 ? 0 : r - (interrupted ? 1 : 0);
		if (w->state == WAITER_QUIT)
			break;
		w->state = WAITER_DONE;
		pthread_cond_broadcast(&w->cond);
		if (!interrupted) {
			/* Unlocked: notify may take SDL's locks, collect() may be waiting. */
			pthread_mutex_unlock(&w->lock);
			w->notify(w->opaque);
			pthread_mutex_lock(&w->lock);
		}
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

int viewer_waiter_new(viewer_waiter_notify_fn notify, void *opaque, struct viewer_waiter **ret)
{
	struct viewer_waiter *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->notify = notify;
	w->opaque = opaque;
	w->cap = 16;
	w->fds = calloc(w->cap + 1, sizeof(*w->fds));
	if (!w->fds) {
		r = -ENOMEM;
		goto out_free;
	}
	if (pipe2(w->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		goto out_fds;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	r = -pthread_create(&w->thread, NULL, waiter_main, w);
	if (r < 0)
		goto out_pipe;
	*ret = w;
	return 0;

out_pipe:
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	close(w->wake[0]);
	close(w->wake[1]);
out_fds:
	free(w->fds);
out_free:
	free(w);
	return r;
}

int viewer_waiter_arm(struct viewer_waiter *w, const struct pollfd *fds, unsigned int n,
                      int timeout_ms)
{
	int r = 0;

	if (n > VIEWER_WAITER_MAX_FDS)
		return -E2BIG;
	pthread_mutex_lock(&w->lock);
	if (w->state != WAITER_IDLE) {
		r = -EBUSY;
		goto out;
	}
	if (n > w->cap) {
		struct pollfd *nfds = realloc(w->fds, (n + 1) * sizeof(*nfds));

		if (!nfds) {
			r = -ENOMEM;
			goto out;
		}
		w->fds = nfds;
		w->cap = n;
	}
	if (n)
		memcpy(w->fds, fds, n * sizeof(*fds));
	for (unsigned int i = 0; i < n; i++)
		w->fds[i].revents = 0;
	w->fds[n] = (struct pollfd){ .fd = w->wake[0], .events = POLLIN };
	w->n = n;
	w->timeout_ms = timeout_ms;
	w->ready = 0;
	w->state = WAITER_ARMED;
	pthread_cond_broadcast(&w->cond);
out:
	pthread_mutex_unlock(&w->lock);
	return r;
}

int viewer_waiter_collect(struct viewer_waiter *w, struct pollfd *fds, unsigned int n)
{
	int ready = 0;

	pthread_mutex_lock(&w->lock);
	if (w->state == WAITER_ARMED) {
		(void)!write(w->wake[1], "", 1);
		while (w->state == WAITER_ARMED)
			pthread_cond_wait(&w->cond, &w->lock);
	}
	if (w->state == WAITER_DONE) {
		/* A byte written just as the poll ended by itself must not cut the next one short.
		 */
		drain(w->wake[0]);
		for (unsigned int i = 0; i < n && i < w->n; i++)
			fds[i].revents = w->fds[i].revents;
		ready = w->ready;
		w->state = WAITER_IDLE;
	}
	pthread_mutex_unlock(&w->lock);
	return ready;
}

bool viewer_waiter_armed(struct viewer_waiter *w)
{
	bool armed;

	pthread_mutex_lock(&w->lock);
	armed = w->state == WAITER_ARMED || w->state == WAITER_DONE;
	pthread_mutex_unlock(&w->lock);
	return armed;
}

void viewer_waiter_free(struct viewer_waiter *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->state = WAITER_QUIT;
	(void)!write(w->wake[1], "", 1);
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	pthread_cond_destroy(&w->cond);
	pthread_mutex_destroy(&w->lock);
	close(w->wake[0]);
	close(w->wake[1]);
	free(w->fds);
	free(w);
}
