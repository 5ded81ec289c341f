// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <stdbool.h>
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

#define R(x, y, w, h) ((struct viewer_rect){ x, y, w, h })

/* Whether @r is one of the @n rectangles (in any order). */
static bool has_rect(const struct viewer_rect *rs, int n, struct viewer_rect r)
{
	for (int i = 0; i < n; i++)
		if (rs[i].x == r.x && rs[i].y == r.y && rs[i].w == r.w && rs[i].h == r.h)
			return true;
	return false;
}

START_TEST(add_rect)
{
	struct viewer_rect rs[4];
	int n = 0;

	/* Empty rectangles are left out. */
	n = viewer_layout_add_rect(rs, n, 4, R(5, 5, 0, 10));
	n = viewer_layout_add_rect(rs, n, 4, R(5, 5, 10, -1));
	ck_assert_int_eq(n, 0);
	/* Apart: two rectangles; the desktop between them is not copied. */
	n = viewer_layout_add_rect(rs, n, 4, R(0, 0, 100, 16));
	n = viewer_layout_add_rect(rs, n, 4, R(500, 400, 64, 64));
	ck_assert_int_eq(n, 2);
	ck_assert(has_rect(rs, n, R(0, 0, 100, 16)));
	ck_assert(has_rect(rs, n, R(500, 400, 64, 64)));
	/* Tiles of a row (touching along a side) make one rectangle. */
	n = viewer_layout_add_rect(rs, n, 4, R(564, 400, 64, 64));
	n = viewer_layout_add_rect(rs, n, 4, R(628, 400, 64, 64));
	ck_assert_int_eq(n, 2);
	ck_assert(has_rect(rs, n, R(500, 400, 192, 64)));
	/* Inside another one: nothing new. */
	n = viewer_layout_add_rect(rs, n, 4, R(10, 2, 20, 10));
	ck_assert_int_eq(n, 2);
	ck_assert(has_rect(rs, n, R(0, 0, 100, 16)));
	/* A rectangle joining two: all three become one (the union is added again). */
	n = viewer_layout_add_rect(rs, n, 4, R(0, 16, 100, 384));
	ck_assert_int_eq(n, 2);
	n = viewer_layout_add_rect(rs, n, 4, R(0, 400, 500, 64));
	n = viewer_layout_add_rect(rs, n, 4, R(100, 0, 592, 400));
	ck_assert_int_eq(n, 1);
	expect_rect(rs[0], 0, 0, 692, 464);

	/* Full: the cheapest union is made. */
	n = 0;
	n = viewer_layout_add_rect(rs, n, 2, R(0, 0, 10, 10));
	n = viewer_layout_add_rect(rs, n, 2, R(1000, 1000, 10, 10));
	n = viewer_layout_add_rect(rs, n, 2, R(20, 0, 10, 10));
	ck_assert_int_eq(n, 2);
	ck_assert(has_rect(rs, n, R(0, 0, 30, 10)));
	ck_assert(has_rect(rs, n, R(1000, 1000, 10, 10)));
}
END_TEST

START_TEST(scaled_rect)
{
	struct viewer_rect twice = R(100, 0, 800, 600), half = R(0, 50, 400, 300);

	/* 400x300 at twice the size, at x 100: 2 pixels a step, and a margin of 2 + 2. */
	expect_rect(viewer_layout_scaled_rect(&twice, 400, 300, &R(10, 20, 5, 5)), 116, 36, 18, 18);
	/* Clipped to the picture, not to the window. */
	expect_rect(viewer_layout_scaled_rect(&twice, 400, 300, &R(0, 0, 400, 300)), 100, 0, 800,
	            600);
	expect_rect(viewer_layout_scaled_rect(&twice, 400, 300, &R(398, 299, 2, 1)), 892, 594, 8,
	            6);
	/* 800x600 at half the size: pixels 50..51 (half ones rounded out), a margin of 2. */
	expect_rect(viewer_layout_scaled_rect(&half, 800, 600, &R(101, 101, 2, 2)), 48, 98, 6, 6);
	/* Degenerate input. */
	expect_rect(viewer_layout_scaled_rect(&half, 0, 600, &R(1, 1, 2, 2)), 0, 50, 0, 0);
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
	tcase_add_test(tc, add_rect);
	tcase_add_test(tc, scaled_rect);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
