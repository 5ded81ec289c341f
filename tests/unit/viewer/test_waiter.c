// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "viewer/waiter.h"

/* The notify side: counts calls and lets the test wait for one. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int notified;

static void notify(void *opaque)
{
	pthread_mutex_lock(&lock);
	notified++;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
}

/* Wait until notify() ran @count times in all; false after @ms. */
static bool wait_notified(int count, int ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&lock);
	while (notified < count && pthread_cond_timedwait(&cond, &lock, &ts) != ETIMEDOUT)
		;
	ok = notified >= count;
	pthread_mutex_unlock(&lock);
	return ok;
}

static int count(void)
{
	int n;

	pthread_mutex_lock(&lock);
	n = notified;
	pthread_mutex_unlock(&lock);
	return n;
}

START_TEST(readable)
{
	struct viewer_waiter *w;
	struct pollfd fds[2];
	int a[2], b[2];

	notified = 0;
	ck_assert_int_eq(pipe(a), 0);
	ck_assert_int_eq(pipe(b), 0);
	ck_assert_int_eq(viewer_waiter_new(notify, NULL, &w), 0);
	fds[0] = (struct pollfd){ .fd = a[0], .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = b[0], .events = POLLIN };
	ck_assert_int_eq(viewer_waiter_arm(w, fds, 2, -1), 0);
	ck_assert(viewer_waiter_armed(w));
	/* Armed twice is refused. */
	ck_assert_int_eq(viewer_waiter_arm(w, fds, 2, -1), -EBUSY);
	usleep(50000);
	ck_assert_int_eq(count(), 0);
	ck_assert_int_eq(write(b[1], "x", 1), 1);
	ck_assert(wait_notified(1, 5000));
	ck_assert_int_eq(viewer_waiter_collect(w, fds, 2), 1);
	ck_assert_int_eq(fds[0].revents, 0);
	ck_assert(fds[1].revents & POLLIN);
	ck_assert(!viewer_waiter_armed(w));
	viewer_waiter_free(w);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
}
END_TEST

START_TEST(timeout)
{
	struct viewer_waiter *w;
	struct pollfd fd;
	int p[2];

	notified = 0;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(viewer_waiter_new(notify, NULL, &w), 0);
	fd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	ck_assert_int_eq(viewer_waiter_arm(w, &fd, 1, 30), 0);
	ck_assert(wait_notified(1, 5000));
	ck_assert_int_eq(viewer_waiter_collect(w, &fd, 1), 0);
	ck_assert_int_eq(fd.revents, 0);
	/* No descriptors at all: a plain timer. */
	ck_assert_int_eq(viewer_waiter_arm(w, NULL, 0, 10), 0);
	ck_assert(wait_notified(2, 5000));
	ck_assert_int_eq(viewer_waiter_collect(w, NULL, 0), 0);
	viewer_waiter_free(w);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* collect() while the poll runs: it ends at once, quietly, and the next poll is not cut short. */
START_TEST(interrupt)
{
	struct viewer_waiter *w;
	struct pollfd fd;
	int p[2];

	notified = 0;
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(viewer_waiter_new(notify, NULL, &w), 0);
	fd = (struct pollfd){ .fd = p[0], .events = POLLIN };
	for (int round = 0; round < 50; round++) {
		ck_assert_int_eq(viewer_waiter_arm(w, &fd, 1, -1), 0);
		if (round % 2)
			usleep(1000);
		ck_assert_int_eq(viewer_waiter_collect(w, &fd, 1), 0);
	}
	ck_assert_int_eq(count(), 0);
	/* After all those interruptions a wait still waits, then wakes on data. */
	ck_assert_int_eq(viewer_waiter_arm(w, &fd, 1, -1), 0);
	usleep(100000);
	ck_assert_int_eq(count(), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert(wait_notified(1, 5000));
	ck_assert_int_eq(viewer_waiter_collect(w, &fd, 1), 1);
	/* Collecting when idle is harmless. */
	ck_assert_int_eq(viewer_waiter_collect(w, &fd, 1), 0);
	/* Freeing while armed stops the poll. */
	ck_assert_int_eq(viewer_waiter_arm(w, &fd, 1, -1), 0);
	viewer_waiter_free(w);
	viewer_waiter_free(NULL);
	close(p[0]);
	close(p[1]);
}
END_TEST

START_TEST(many_descriptors)
{
	struct viewer_waiter *w;
	struct pollfd *fds = calloc(VIEWER_WAITER_MAX_FDS + 1, sizeof(*fds));
	int p[2];

	notified = 0;
	ck_assert_int_eq(pipe(p), 0);
	for (int i = 0; i <= VIEWER_WAITER_MAX_FDS; i++)
		fds[i] = (struct pollfd){ .fd = p[0], .events = POLLIN };
	ck_assert_int_eq(viewer_waiter_new(notify, NULL, &w), 0);
	ck_assert_int_eq(viewer_waiter_arm(w, fds, VIEWER_WAITER_MAX_FDS + 1, -1), -E2BIG);
	ck_assert_int_eq(viewer_waiter_arm(w, fds, 100, -1), 0);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert(wait_notified(1, 5000));
	ck_assert_int_eq(viewer_waiter_collect(w, fds, 100), 100);
	viewer_waiter_free(w);
	close(p[0]);
	close(p[1]);
	free(fds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_waiter");
	TCase *tc = tcase_create("waiter");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, readable);
	tcase_add_test(tc, timeout);
	tcase_add_test(tc, interrupt);
	tcase_add_test(tc, many_descriptors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
