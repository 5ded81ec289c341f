// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <stdlib.h>

#include "viewer/meter.h"

START_TEST(rates)
{
	struct viewer_meter m;

	viewer_meter_reset(&m);
	ck_assert(!m.valid);
	viewer_meter_feed(&m, 1000, 0);
	ck_assert(!m.valid);
	viewer_meter_feed(&m, 1500, 50); /* half a window: no figure yet */
	ck_assert(!m.valid);
	viewer_meter_feed(&m, 2000, 100);
	ck_assert(m.valid);
	ck_assert(m.rate > 99.9 && m.rate < 100.1);
	/* A late sample averages over the longer window. */
	viewer_meter_feed(&m, 4000, 300);
	ck_assert(m.rate > 99.9 && m.rate < 100.1);
	viewer_meter_feed(&m, 5000, 300);
	ck_assert(m.rate == 0);
	/* The counter went back (a new connection): start over, keep the last figure. */
	viewer_meter_feed(&m, 6000, 10);
	ck_assert(m.rate == 0);
	viewer_meter_feed(&m, 7000, 1010);
	ck_assert(m.rate > 999.9 && m.rate < 1000.1);
	/* The clock went back: start over too. */
	viewer_meter_feed(&m, 100, 2000);
	viewer_meter_feed(&m, 1100, 2500);
	ck_assert(m.rate > 499.9 && m.rate < 500.1);
}
END_TEST

START_TEST(backoff)
{
	/* Without jitter: 1, 2, 4, 8, 16, 30, 30 ... seconds. */
	ck_assert_uint_eq(viewer_backoff_ms(1, 0), 1000);
	ck_assert_uint_eq(viewer_backoff_ms(2, 0), 2000);
	ck_assert_uint_eq(viewer_backoff_ms(3, 0), 4000);
	ck_assert_uint_eq(viewer_backoff_ms(5, 0), 16000);
	ck_assert_uint_eq(viewer_backoff_ms(6, 0), 30000);
	ck_assert_uint_eq(viewer_backoff_ms(1000, 0), 30000);
	ck_assert_uint_eq(viewer_backoff_ms(0, 0), 1000);
	/* Jitter takes off at most a fifth. */
	for (uint32_t r = 0; r < 100000; r += 997) {
		unsigned int ms = viewer_backoff_ms(3, r * 7919u);

		ck_assert_uint_le(ms, 4000);
		ck_assert_uint_ge(ms, 3200);
	}
	ck_assert_uint_ge(viewer_backoff_ms(40, 0xffffffffu), 24000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_meter");
	TCase *tc = tcase_create("meter");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, rates);
	tcase_add_test(tc, backoff);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
