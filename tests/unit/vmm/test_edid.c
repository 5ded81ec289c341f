// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "vmm/devices/edid.h"

static const uint8_t header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };

static unsigned int sum(const uint8_t *e)
{
	unsigned int s = 0;

	for (int i = 0; i < VMM_EDID_SIZE; i++)
		s += e[i];
	return s & 0xff;
}

struct dtd {
	unsigned int clock; /* 10 kHz */
	unsigned int w, hblank, hfront, hsync;
	unsigned int h, vblank, vfront, vsync;
	unsigned int wmm, hmm;
	uint8_t flags;
};

/* Decode the detailed timing at byte 54 the way a monitor driver does. */
static struct dtd decode(const uint8_t *e)
{
	const uint8_t *d = e + 54;
	struct dtd t;

	t.clock = d[0] | d[1] << 8;
	t.w = d[2] | (d[4] & 0xf0) << 4;
	t.hblank = d[3] | (d[4] & 0x0f) << 8;
	t.h = d[5] | (d[7] & 0xf0) << 4;
	t.vblank = d[6] | (d[7] & 0x0f) << 8;
	t.hfront = d[8] | (d[11] & 0xc0) << 2;
	t.hsync = d[9] | (d[11] & 0x30) << 4;
	t.vfront = (d[10] >> 4) | (d[11] & 0x0c) << 2;
	t.vsync = (d[10] & 0x0f) | (d[11] & 0x03) << 4;
	t.wmm = d[12] | (d[14] & 0xf0) << 4;
	t.hmm = d[13] | (d[14] & 0x0f) << 8;
	t.flags = d[17];
	return t;
}

/* The descriptor with tag @tag among bytes 54..125, or NULL. */
static const uint8_t *descriptor(const uint8_t *e, uint8_t tag)
{
	for (int off = 54; off < 126; off += 18)
		if (!e[off] && !e[off + 1] && e[off + 3] == tag)
			return e + off;
	return NULL;
}

START_TEST(header_and_checksum)
{
	uint8_t e[VMM_EDID_SIZE];
	static const unsigned int sizes[][2] = { { 1024, 768 }, { 1920, 1080 }, { 320, 200 },
		                                 { 1366, 768 }, { 1, 1 },       { 0, 0 },
		                                 { 5000, 9000 } };

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		memset(e, 0xcc, sizeof(e));
		vmm_edid_generate(e, sizes[i][0], sizes[i][1], "x");
		ck_assert_int_eq(memcmp(e, header, sizeof(header)), 0);
		ck_assert_uint_eq(sum(e), 0);
		ck_assert_uint_eq(e[18], 1); /* EDID 1.4 */
		ck_assert_uint_eq(e[19], 4);
		ck_assert_uint_eq(e[20] & 0x80, 0x80); /* digital */
		ck_assert_uint_eq(e[126], 0);          /* no extensions */
	}
	/* Vendor "VDI": 5-bit letters, big-endian. */
	ck_assert_uint_eq(e[8], 0x58);
	ck_assert_uint_eq(e[9], 0x89);
}
END_TEST

START_TEST(preferred_timing)
{
	uint8_t e[VMM_EDID_SIZE];
	struct dtd t;
	uint64_t hz;

	vmm_edid_generate(e, 1920, 1080, NULL);
	t = decode(e);
	ck_assert_uint_eq(t.w, 1920);
	ck_assert_uint_eq(t.h, 1080);
	/* VESA CVT reduced blanking 1920x1080: 138.5 MHz, 2080 x 1111 total. */
	ck_assert_uint_eq(t.clock, 13850);
	ck_assert_uint_eq(t.hblank, 160);
	ck_assert_uint_eq(t.hfront, 48);
	ck_assert_uint_eq(t.hsync, 32);
	ck_assert_uint_eq(t.vblank, 31);
	ck_assert_uint_eq(t.vfront, 3);
	ck_assert_uint_eq(t.vsync, 5);
	ck_assert_uint_eq(t.flags, 0x1a);
	ck_assert_uint_gt(t.wmm, 400);
	ck_assert_uint_lt(t.wmm, 600);
	/* The preferred timing flag is set. */
	ck_assert_uint_eq(e[24] & 0x02, 0x02);

	/* Odd sizes decode back exactly and refresh near 60 Hz (the 0.25 MHz clock step
	 * costs small modes a little). */
	for (unsigned int w = 320; w <= 1920; w += 333) {
		for (unsigned int h = 200; h <= 1080; h += 111) {
			vmm_edid_generate(e, w, h, NULL);
			t = decode(e);
			ck_assert_uint_eq(t.w, w);
			ck_assert_uint_eq(t.h, h);
			ck_assert_uint_ne(t.clock, 0);
			hz = (uint64_t)t.clock * 10000 * 1000 /
			     ((t.w + t.hblank) * (t.h + t.vblank));
			ck_assert_uint_ge(hz, 55000);
			ck_assert_uint_le(hz, 60100);
			ck_assert_uint_eq(sum(e), 0);
		}
	}
	/* Too big for 12-bit fields: clamped, still valid. */
	vmm_edid_generate(e, 8000, 8000, NULL);
	t = decode(e);
	ck_assert_uint_eq(t.w, 4095);
	ck_assert_uint_eq(t.h, 4095);
	ck_assert_uint_eq(t.clock, 0xffff);
}
END_TEST

START_TEST(monitor_name)
{
	uint8_t e[VMM_EDID_SIZE];
	const uint8_t *d;

	vmm_edid_generate(e, 1024, 768, "VDI Display");
	d = descriptor(e, 0xfc);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(memcmp(d + 5, "VDI Display\n ", 13), 0);

	/* Exactly 13 characters: no terminator. */
	vmm_edid_generate(e, 1024, 768, "ABCDEFGHIJKLMNOP");
	d = descriptor(e, 0xfc);
	ck_assert_int_eq(memcmp(d + 5, "ABCDEFGHIJKLM", 13), 0);
	ck_assert_uint_eq(sum(e), 0);

	/* Control and non-ASCII characters are not passed on. */
	vmm_edid_generate(e, 1024, 768, "a\tb\xc3\xa9");
	d = descriptor(e, 0xfc);
	ck_assert_int_eq(memcmp(d + 5, "a?b??\n", 6), 0);

	vmm_edid_generate(e, 1024, 768, NULL);
	d = descriptor(e, 0xfc);
	ck_assert_int_eq(memcmp(d + 5, "VDI Monitor\n", 12), 0);
}
END_TEST

START_TEST(range_limits_and_standard_timings)
{
	uint8_t e[VMM_EDID_SIZE];
	const uint8_t *d;
	struct dtd t;

	vmm_edid_generate(e, 1280, 800, NULL);
	d = descriptor(e, 0xfd);
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_le(d[5], 60);
	ck_assert_uint_ge(d[6], 60);
	t = decode(e);
	/* The preferred clock is within the advertised maximum (10 MHz units). */
	ck_assert_uint_le(t.clock / 1000, d[9]);
	/* 1280x800 is 16:10: the CVT vsync width says so. */
	ck_assert_uint_eq(t.vsync, 6);
	/* Established 640x480, 800x600, 1024x768. */
	ck_assert_uint_eq(e[35], 0x21);
	ck_assert_uint_eq(e[36], 0x08);
	/* Standard timings: valid entries, 60 Hz, none above 1920 wide. */
	for (int i = 38; i < 54; i += 2) {
		ck_assert_uint_ne(e[i], 0x01);
		ck_assert_uint_le(e[i], 1920 / 8 - 31);
		ck_assert_uint_eq(e[i + 1] & 0x3f, 0);
	}
	/* 1920x1080 16:9 is among them. */
	{
		bool found = false;

		for (int i = 38; i < 54; i += 2)
			found |= e[i] == 1920 / 8 - 31 && e[i + 1] >> 6 == 3;
		ck_assert(found);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_edid");
	TCase *tc = tcase_create("edid");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, header_and_checksum);
	tcase_add_test(tc, preferred_timing);
	tcase_add_test(tc, monitor_name);
	tcase_add_test(tc, range_limits_and_standard_timings);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
