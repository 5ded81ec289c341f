// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>

#include "viewer/hotkey.h"
#include "viewer/keymap.h"

static struct viewer_hotkey parse_ok(const char *s)
{
	struct viewer_hotkey hk;

	ck_assert_msg(viewer_hotkey_parse(s, &hk) == 0, "refused '%s'", s);
	return hk;
}

static void refuse(const char *s)
{
	struct viewer_hotkey hk = { 0x5a, 0x5a };

	ck_assert_msg(viewer_hotkey_parse(s, &hk) == -EINVAL, "accepted '%s'", s);
	ck_assert_uint_eq(hk.mods, 0x5a); /* untouched */
	ck_assert_uint_eq(hk.evdev, 0x5a);
}

START_TEST(parse)
{
	struct viewer_hotkey hk;

	hk = parse_ok("ctrl+alt+end");
	ck_assert_uint_eq(hk.mods, VIEWER_MOD_CTRL | VIEWER_MOD_ALT);
	ck_assert_uint_eq(hk.evdev, KEY_END);
	hk = parse_ok("Shift+F11");
	ck_assert_uint_eq(hk.mods, VIEWER_MOD_SHIFT);
	ck_assert_uint_eq(hk.evdev, KEY_F11);
	hk = parse_ok("ctrl+alt");
	ck_assert_uint_eq(hk.mods, VIEWER_MOD_CTRL | VIEWER_MOD_ALT);
	ck_assert_uint_eq(hk.evdev, 0);
	hk = parse_ok("f12");
	ck_assert_uint_eq(hk.mods, 0);
	ck_assert_uint_eq(hk.evdev, KEY_F12);
	/* Aliases people and GTK use. */
	ck_assert_uint_eq(parse_ok("control+alt+del").evdev, KEY_DELETE);
	ck_assert_uint_eq(parse_ok("ctrl+alt+Delete").evdev, KEY_DELETE);
	ck_assert_uint_eq(parse_ok("super+Return").evdev, KEY_ENTER);
	ck_assert_uint_eq(parse_ok("win+escape").evdev, KEY_ESC);
	ck_assert_uint_eq(parse_ok("alt+space").evdev, KEY_SPACE);
	ck_assert_uint_eq(parse_ok("ctrl+q").evdev, KEY_Q);
	ck_assert_uint_eq(parse_ok("meta+pageup").evdev, KEY_PAGEUP);
}
END_TEST

START_TEST(parse_refuses)
{
	char longest[VIEWER_HOTKEY_MAX_LEN + 2];

	refuse("");
	refuse("+");
	refuse("ctrl+");
	refuse("+end");
	refuse("ctrl++end");
	refuse("ctrl+ctrl+end");
	refuse("a+b");
	refuse("hyper+x");
	refuse("ctrl+alt+nosuchkey");
	refuse("shift_r"); /* a modifier key is written as a modifier */
	refuse("ctrl+shift+shift");
	refuse("ctrl alt end");
	memset(longest, 'a', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	refuse(longest);
	ck_assert_int_eq(viewer_hotkey_parse(NULL, &(struct viewer_hotkey){ 0, 0 }), -EINVAL);
}
END_TEST

START_TEST(describe)
{
	struct viewer_hotkey hk = parse_ok("ctrl+alt+end");
	char buf[64], tiny[6];

	ck_assert_str_eq(viewer_hotkey_describe(&hk, buf, sizeof(buf)), "Ctrl+Alt+End");
	hk = parse_ok("ctrl+alt");
	ck_assert_str_eq(viewer_hotkey_describe(&hk, buf, sizeof(buf)), "Ctrl+Alt");
	hk = parse_ok("f12");
	ck_assert_str_eq(viewer_hotkey_describe(&hk, buf, sizeof(buf)), "F12");
	hk = parse_ok("super+shift+f11");
	ck_assert_str_eq(viewer_hotkey_describe(&hk, buf, sizeof(buf)), "Shift+Super+F11");
	/* A short buffer is cut, never overrun. */
	hk = parse_ok("ctrl+alt+end");
	viewer_hotkey_describe(&hk, tiny, sizeof(tiny));
	ck_assert_uint_lt(strlen(tiny), sizeof(tiny));
}
END_TEST

START_TEST(match)
{
	struct viewer_hotkey hk = parse_ok("ctrl+alt+end"), f11 = parse_ok("f11");
	struct viewer_hotkey chord = parse_ok("ctrl+alt");

	ck_assert(viewer_hotkey_match(&hk, VIEWER_MOD_CTRL | VIEWER_MOD_ALT, KEY_END));
	ck_assert(!viewer_hotkey_match(&hk, VIEWER_MOD_CTRL, KEY_END));
	ck_assert(!viewer_hotkey_match(&hk, VIEWER_MOD_CTRL | VIEWER_MOD_ALT | VIEWER_MOD_SHIFT,
	                               KEY_END));
	ck_assert(!viewer_hotkey_match(&hk, VIEWER_MOD_CTRL | VIEWER_MOD_ALT, KEY_DELETE));
	ck_assert(viewer_hotkey_match(&f11, 0, KEY_F11));
	ck_assert(!viewer_hotkey_match(&f11, VIEWER_MOD_SHIFT,
	                               KEY_F11)); /* Shift+F11 is the guest's */
	ck_assert(!viewer_hotkey_match(&chord, VIEWER_MOD_CTRL | VIEWER_MOD_ALT, 0));
}
END_TEST

/* Feed a sequence; return how many times the chord fired. */
struct step {
	unsigned int key;
	bool down;
};

static int feed(const struct viewer_hotkey *hk, const struct step *steps, size_t n)
{
	struct viewer_chord c = { false };
	unsigned int mods = 0;
	int fired = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned int bit = viewer_key_mod_bit(steps[i].key);

		/* Left and right keys are not both held in these sequences. */
		mods = steps[i].down ? mods | bit : mods & ~bit;
		fired += viewer_chord_feed(&c, hk, mods, steps[i].key, steps[i].down);
	}
	return fired;
}

START_TEST(chord)
{
	struct viewer_hotkey hk = parse_ok("ctrl+alt"), with_key = parse_ok("ctrl+alt+end");
	static const struct step release[] = { { KEY_LEFTCTRL, true },
		                               { KEY_LEFTALT, true },
		                               { KEY_LEFTALT, false },
		                               { KEY_LEFTCTRL, false } };
	static const struct step either_order[] = { { KEY_RIGHTALT, true },
		                                    { KEY_RIGHTCTRL, true },
		                                    { KEY_RIGHTALT, false },
		                                    { KEY_RIGHTCTRL, false } };
	static const struct step cad[] = { { KEY_LEFTCTRL, true }, { KEY_LEFTALT, true },
		                           { KEY_DELETE, true },   { KEY_DELETE, false },
		                           { KEY_LEFTALT, false }, { KEY_LEFTCTRL, false } };
	static const struct step ctrl_only[] = { { KEY_LEFTCTRL, true }, { KEY_LEFTCTRL, false } };
	static const struct step with_shift[] = {
		{ KEY_LEFTCTRL, true }, { KEY_LEFTSHIFT, true },  { KEY_LEFTALT, true },
		{ KEY_LEFTALT, false }, { KEY_LEFTSHIFT, false }, { KEY_LEFTCTRL, false }
	};
	static const struct step twice[] = { { KEY_LEFTCTRL, true }, { KEY_LEFTALT, true },
		                             { KEY_LEFTALT, false }, { KEY_LEFTALT, true },
		                             { KEY_LEFTALT, false }, { KEY_LEFTCTRL, false } };

	ck_assert_int_eq(feed(&hk, release, 4), 1);
	ck_assert_int_eq(feed(&hk, either_order, 4), 1);
	ck_assert_int_eq(feed(&hk, cad, 6), 0); /* Ctrl+Alt+Del goes to the guest */
	ck_assert_int_eq(feed(&hk, ctrl_only, 2), 0);
	ck_assert_int_eq(feed(&hk, with_shift, 6), 0);
	ck_assert_int_eq(feed(&hk, twice, 6), 2);
	/* A hotkey with a key never fires as a chord. */
	ck_assert_int_eq(feed(&with_key, release, 4), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_hotkey");
	TCase *tc = tcase_create("hotkey");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, parse);
	tcase_add_test(tc, parse_refuses);
	tcase_add_test(tc, describe);
	tcase_add_test(tc, match);
	tcase_add_test(tc, chord);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
