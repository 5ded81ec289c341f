// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The damage finder: changed pixels become few, exact rectangles; the
 * dirty log limits which rows are looked at; other depths are converted.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/damage.h"

#define W 100 /* not a multiple of the tile size: the last column is narrow */
#define H 70

static uint32_t fb[W * H], shadow[W * H];
static struct vmm_damage dmg;

static struct vmm_damage_frame frame(const uint64_t *dirty)
{
	struct vmm_damage_frame f = {
		shadow, W, H, (const uint8_t *)fb, W * 4, VMM_PIXFMT_XRGB8888, 0, dirty
	};

	return f;
}

static void setup(void)
{
	memset(fb, 0, sizeof(fb));
	memset(shadow, 0, sizeof(shadow));
	ck_assert_int_eq(vmm_damage_init(&dmg, W), 0);
}

static void teardown(void)
{
	vmm_damage_exit(&dmg);
}

static void assert_rect(size_t i, unsigned int x, unsigned int y, unsigned int w, unsigned int h)
{
	ck_assert_uint_eq(dmg.rects[i].x, x);
	ck_assert_uint_eq(dmg.rects[i].y, y);
	ck_assert_uint_eq(dmg.rects[i].w, w);
	ck_assert_uint_eq(dmg.rects[i].h, h);
}

START_TEST(unchanged_screen_has_no_damage)
{
	struct vmm_damage_frame f = frame(NULL);

	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 0);
}
END_TEST

START_TEST(one_pixel_is_one_tile_line)
{
	struct vmm_damage_frame f = frame(NULL);

	fb[20 * W + 37] = 0xff0000;
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 1);
	/* Tile columns, exact lines: 16 pixels wide, 1 line high. */
	assert_rect(0, 32, 20, 16, 1);
	ck_assert_uint_eq(shadow[20 * W + 37], 0xff0000);
	/* Copied into the shadow: the next scan finds nothing. */
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 0);
}
END_TEST

START_TEST(edges_are_clipped)
{
	struct vmm_damage_frame f = frame(NULL);

	fb[(H - 1) * W + W - 1] = 1; /* bottom-right pixel: tile 96..99 x 64..69 */
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 1);
	assert_rect(0, 96, 69, 4, 1);
}
END_TEST

START_TEST(neighbours_merge)
{
	struct vmm_damage_frame f = frame(NULL);

	/* A horizontal line over three tiles and two rows of tiles below it. */
	for (int x = 0; x < 40; x++)
		fb[5 * W + x] = 7;
	for (int y = 16; y < 48; y++)
		fb[y * W + 3] = 7, fb[y * W + 20] = 7, fb[y * W + 40] = 7;
	/* Line 5 over tiles 0-2; then lines 16..47 over the same tiles, stacked. */
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 2);
	assert_rect(0, 0, 5, 48, 1);
	assert_rect(1, 0, 16, 48, 32);
	/* A run of other columns below does not join it. */
	fb[50 * W + 3] = 8;
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 1);
	assert_rect(0, 0, 50, 16, 1);
}
END_TEST

START_TEST(separate_changes_stay_separate)
{
	struct vmm_damage_frame f = frame(NULL);

	fb[0] = 1;
	fb[50 * W + 90] = 1;
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 2);
	assert_rect(0, 0, 0, 16, 1);
	assert_rect(1, 80, 50, 16, 1);
}
END_TEST

START_TEST(dirty_log_limits_the_rows)
{
	/* 400-byte rows: page 0 holds rows 0..10, page 1 rows 10..20. */
	uint64_t dirty[1] = { 0 };
	struct vmm_damage_frame f = frame(dirty);

	fb[2 * W] = 1;  /* in page 0 */
	fb[40 * W] = 1; /* in page 3 */
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 0);
	dirty[0] = 1ULL << 3;
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 1);
	assert_rect(0, 0, 40, 16, 1);
	ck_assert_uint_eq(shadow[2 * W], 0); /* not looked at */
	dirty[0] = 1;
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 1);
	assert_rect(0, 0, 2, 16, 1);
}
END_TEST

START_TEST(writes_that_restore_pixels_are_not_damage)
{
	uint64_t dirty[1] = { ~0ULL };
	struct vmm_damage_frame f = frame(dirty);

	/* The guest rewrote every page with the same pixels. */
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 0);
}
END_TEST

START_TEST(too_many_rects_become_one)
{
	struct vmm_damage_frame f;
	static uint32_t big_fb[1600 * 1200], big_shadow[1600 * 1200];
	struct vmm_damage big;

	ck_assert_int_eq(vmm_damage_init(&big, 1600), 0);
	/* A checkerboard of changed tiles: 100 x 75 / 2 separate tiles. */
	for (unsigned int ty = 0; ty < 75; ty++)
		for (unsigned int tx = (ty & 1); tx < 100; tx += 2)
			big_fb[(ty * 16 + 3) * 1600 + tx * 16 + 5] = 9;
	f = (struct vmm_damage_frame){ big_shadow, 1600,
		                       1200,       (const uint8_t *)big_fb,
		                       1600 * 4,   VMM_PIXFMT_XRGB8888,
		                       0,          NULL };
	ck_assert_uint_eq(vmm_damage_scan(&big, &f), 1);
	ck_assert_uint_eq(big.rects[0].x, 0);
	ck_assert_uint_eq(big.rects[0].y, 3);
	ck_assert_uint_eq(big.rects[0].w, 1600);
	ck_assert_uint_eq(big.rects[0].h, 74 * 16 + 1);
	ck_assert(big.collapsed);
	ck_assert_uint_eq(big_shadow[(74 * 16 + 3) * 1600 + 98 * 16 + 5], 9);
	vmm_damage_exit(&big);
}
END_TEST

START_TEST(sixteen_bit_pixels_are_converted)
{
	static uint16_t fb16[W * H];
	struct vmm_damage_frame f = {
		shadow, W, H, (const uint8_t *)fb16, W * 2, VMM_PIXFMT_RGB565, 0, NULL
	};

	fb16[10 * W + 10] = 0xf800; /* pure red in RGB565 */
	ck_assert_uint_eq(vmm_damage_scan(&dmg, &f), 1);
	ck_assert_uint_eq(shadow[10 * W + 10] & 0xffffff, 0xff0000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_damage");
	TCase *tc = tcase_create("damage");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, unchanged_screen_has_no_damage);
	tcase_add_test(tc, one_pixel_is_one_tile_line);
	tcase_add_test(tc, edges_are_clipped);
	tcase_add_test(tc, neighbours_merge);
	tcase_add_test(tc, separate_changes_stay_separate);
	tcase_add_test(tc, dirty_log_limits_the_rows);
	tcase_add_test(tc, writes_that_restore_pixels_are_not_damage);
	tcase_add_test(tc, too_many_rects_become_one);
	tcase_add_test(tc, sixteen_bit_pixels_are_converted);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
