// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <stdlib.h>

#include "viewer/layout.h"

static void expect_rect(struct viewer_rect r, int x, int y, int w, int h)
{
	ck_assert_msg(r.x == x && r.y == y && r.w == w && r.h == h,
	              "got %d,%d %dx%d, expected %d,%d %dx%d", r.x, r.y, r.w, r.h, x, y, w, h);
}

START_TEST(fit)
{
	/* Same size: pixel for pixel. */
	expect_rect(viewer_layout_fit(800, 600, 800, 600), 0, 0, 800, 600);
	/* A wider window: bars left and right. */
	expect_rect(viewer_layout_fit(800, 600, 1000, 600), 100, 0, 800, 600);
	/* A taller window: bars above and below. */
	expect_rect(viewer_layout_fit(800, 600, 800, 800), 0, 100, 800, 600);
	/* Scaled up, aspect kept: 1024x768 in 1920x1080. */
	expect_rect(viewer_layout_fit(1024, 768, 1920, 1080), 240, 0, 1440, 1080);
	/* Scaled down. */
	expect_rect(viewer_layout_fit(1920, 1080, 960, 1080), 0, 270, 960, 540);
	/* One pixel more than the picture: centred with a bar of 0 (rounding down). */
	expect_rect(viewer_layout_fit(1000, 700, 1001, 700), 0, 0, 1000, 700);
	/* Rounding to the nearest pixel. */
	expect_rect(viewer_layout_fit(640, 480, 1001, 1001), 0, 125, 1001, 751);
	/* Degenerate input. */
	expect_rect(viewer_layout_fit(0, 600, 800, 600), 0, 0, 0, 0);
	expect_rect(viewer_layout_fit(800, 600, 0, 0), 0, 0, 0, 0);
	expect_rect(viewer_layout_fit(-5, 600, 800, 600), 0, 0, 0, 0);
	/* Extremes do not overflow and keep at least a pixel. */
	expect_rect(viewer_layout_fit(65535, 1, 100, 100), 0, 49, 100, 1);
	expect_rect(viewer_layout_fit(1, 1, 1 << 30, 1 << 30), 0, 0, 1 << 30, 1 << 30);
}
END_TEST

START_TEST(to_guest)
{
	struct viewer_rect same = viewer_layout_fit(800, 600, 800, 600);
	struct viewer_rect bars = viewer_layout_fit(800, 600, 1000, 600);
	struct viewer_rect twice = viewer_layout_fit(400, 300, 800, 600);
	int gx, gy;

	/* 1:1 is the identity on every pixel. */
	for (int y = 0; y < 600; y += 7)
		for (int x = 0; x < 800; x += 3) {
			ck_assert(viewer_layout_to_guest(&same, 800, 600, x, y, &gx, &gy));
			ck_assert_int_eq(gx, x);
			ck_assert_int_eq(gy, y);
		}
	ck_assert(viewer_layout_to_guest(&same, 800, 600, 799, 599, &gx, &gy));
	ck_assert_int_eq(gx, 799);
	ck_assert_int_eq(gy, 599);
	/* Offset by the bar. */
	ck_assert(viewer_layout_to_guest(&bars, 800, 600, 100, 10, &gx, &gy));
	ck_assert_int_eq(gx, 0);
	ck_assert_int_eq(gy, 10);
	/* On a bar: clamped to the edge, and said so. */
	ck_assert(!viewer_layout_to_guest(&bars, 800, 600, 50, 10, &gx, &gy));
	ck_assert_int_eq(gx, 0);
	ck_assert(!viewer_layout_to_guest(&bars, 800, 600, 950, 10, &gx, &gy));
	ck_assert_int_eq(gx, 799);
	ck_assert(!viewer_layout_to_guest(&same, 800, 600, -3, 1000, &gx, &gy));
	ck_assert_int_eq(gx, 0);
	ck_assert_int_eq(gy, 599);
	/* Scaled by two: every guest pixel covers two window pixels. */
	ck_assert(viewer_layout_to_guest(&twice, 400, 300, 799, 599, &gx, &gy));
	ck_assert_int_eq(gx, 399);
	ck_assert_int_eq(gy, 299);
	ck_assert(viewer_layout_to_guest(&twice, 400, 300, 3, 5, &gx, &gy));
	ck_assert_int_eq(gx, 1);
	ck_assert_int_eq(gy, 2);
}
END_TEST

START_TEST(window_size)
{
	int w, h;

	viewer_layout_window_size(800, 600, 1280, 1024, &w, &h);
	ck_assert_int_eq(w, 800);
	ck_assert_int_eq(h, 600);
	viewer_layout_window_size(1920, 1080, 1280, 1000, &w, &h);
	ck_assert_int_eq(w, 1280);
	ck_assert_int_eq(h, 720);
	viewer_layout_window_size(1920, 1200, 1920, 1080, &w, &h);
	ck_assert_int_eq(w, 1728);
	ck_assert_int_eq(h, 1080);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_layout");
	TCase *tc = tcase_create("layout");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, fit);
	tcase_add_test(tc, to_guest);
	tcase_add_test(tc, window_size);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
