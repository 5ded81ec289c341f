// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "vmm/loop.h"

struct ctx {
	struct vmm_loop *loop;
	struct vmm_loop_watch *w;
	struct vmm_loop_timer *t;
	int fired;
	int reads;
	uint64_t fired_at;
	int order[4];
	int n;
};

static void on_timer(void *opaque)
{
	struct ctx *c = opaque;

	c->fired++;
	c->fired_at = vmm_now_ns();
	vmm_loop_quit(c->loop);
}

START_TEST(timer_fires_after_delay)
{
	struct ctx c = { 0 };
	uint64_t start;

	c.loop = vmm_loop_new();
	c.t = vmm_loop_timer_new(c.loop, on_timer, &c);
	start = vmm_now_ns();
	vmm_loop_timer_arm(c.t, 20 * 1000 * 1000);
	ck_assert_int_eq(vmm_loop_run(c.loop), 0);
	ck_assert_int_eq(c.fired, 1);
	ck_assert_uint_ge(c.fired_at - start, 20 * 1000 * 1000);
	vmm_loop_timer_free(c.t);
	vmm_loop_free(c.loop);
}
END_TEST

static void on_readable(void *opaque, int fd, unsigned int revents)
{
	struct ctx *c = opaque;
	char b[16];

	if (revents & POLLIN) {
		if (read(fd, b, sizeof(b)) > 0)
			c->reads++;
	}
	/* Removing itself from inside its own callback must be safe. */
	vmm_loop_watch_remove(c->w);
	vmm_loop_quit(c->loop);
}

START_TEST(watch_and_self_removal)
{
	struct ctx c = { 0 };
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	c.loop = vmm_loop_new();
	c.w = vmm_loop_watch_add(c.loop, p[0], POLLIN, on_readable, &c);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	ck_assert_int_eq(vmm_loop_run(c.loop), 0);
	ck_assert_int_eq(c.reads, 1);
	close(p[0]);
	close(p[1]);
	vmm_loop_free(c.loop);
}
END_TEST

static void call_a(void *opaque)
{
	struct ctx *c = opaque;

	c->order[c->n++] = 1;
}

static void call_b(void *opaque)
{
	struct ctx *c = opaque;

	c->order[c->n++] = 2;
	vmm_loop_quit(c->loop);
}

static void *caller(void *opaque)
{
	struct ctx *c = opaque;

	usleep(10000);
	vmm_loop_call(c->loop, call_a, c);
	vmm_loop_call(c->loop, call_b, c);
	return NULL;
}

START_TEST(calls_from_another_thread_in_order)
{
	struct ctx c = { 0 };
	pthread_t th;

	c.loop = vmm_loop_new();
	pthread_create(&th, NULL, caller, &c);
	ck_assert_int_eq(vmm_loop_run(c.loop), 0);
	pthread_join(th, NULL);
	ck_assert_int_eq(c.n, 2);
	ck_assert_int_eq(c.order[0], 1);
	ck_assert_int_eq(c.order[1], 2);
	vmm_loop_free(c.loop);
}
END_TEST

static void never(void *opaque)
{
	struct ctx *c = opaque;

	c->fired++;
}

START_TEST(disarmed_timer_does_not_fire)
{
	struct ctx c = { 0 };
	struct vmm_loop_timer *t, *stop;

	c.loop = vmm_loop_new();
	t = vmm_loop_timer_new(c.loop, never, &c);
	stop = vmm_loop_timer_new(c.loop, on_timer, &c);
	vmm_loop_timer_arm(t, 5 * 1000 * 1000);
	vmm_loop_timer_disarm(t);
	vmm_loop_timer_arm(stop, 30 * 1000 * 1000);
	ck_assert_int_eq(vmm_loop_run(c.loop), 0);
	ck_assert_int_eq(c.fired, 1); /* only the stop timer */
	vmm_loop_timer_free(t);
	vmm_loop_timer_free(stop);
	vmm_loop_free(c.loop);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_loop");
	TCase *tc = tcase_create("loop");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, timer_fires_after_delay);
	tcase_add_test(tc, watch_and_self_removal);
	tcase_add_test(tc, calls_from_another_thread_in_order);
	tcase_add_test(tc, disarmed_timer_does_not_fire);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
