// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <linux/input-event-codes.h>
#include <stdlib.h>

#include <SDL_scancode.h>

#include "proto/keymap.h"
#include "viewer/keymap.h"

START_TEST(letters_digits_and_named_keys)
{
	const struct proto_key *k;

	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_A), KEY_A);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_Z), KEY_Z);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_1), KEY_1);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_0), KEY_0);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_RETURN), KEY_ENTER);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_KP_ENTER), KEY_KPENTER);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_NONUSBACKSLASH), KEY_102ND);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_APPLICATION), KEY_COMPOSE);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_RGUI), KEY_RIGHTMETA);

	k = viewer_key_from_scancode(SDL_SCANCODE_A);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "a");
	ck_assert_uint_eq(k->xt, 0x1e);
	k = viewer_key_from_scancode(SDL_SCANCODE_DELETE);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "delete");
	ck_assert_uint_eq(k->xt, 0xe053);
}
END_TEST

START_TEST(unknown_scancodes)
{
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_UNKNOWN), 0);
	ck_assert_uint_eq(viewer_scancode_to_evdev(-1), 0);
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_NUM_SCANCODES), 0);
	ck_assert_uint_eq(viewer_scancode_to_evdev(100000), 0);
	ck_assert_ptr_null(viewer_key_from_scancode(SDL_SCANCODE_UNKNOWN));
	/* Mapped to evdev, but proto/keymap has no such key: nothing to send. */
	ck_assert_uint_eq(viewer_scancode_to_evdev(SDL_SCANCODE_F13), KEY_F13);
	ck_assert_ptr_null(viewer_key_from_scancode(SDL_SCANCODE_F13));
}
END_TEST

/* Every key proto/keymap knows can be typed: some SDL scancode leads to it. */
START_TEST(every_proto_key_is_reachable)
{
	for (unsigned int i = 0; i < proto_nr_keys; i++) {
		bool found = false;

		for (int sc = 0; sc < SDL_NUM_SCANCODES && !found; sc++)
			found = viewer_scancode_to_evdev(sc) == proto_keys[i].evdev;
		ck_assert_msg(found, "no SDL scancode gives key '%s'", proto_keys[i].name);
	}
}
END_TEST

/* Every scancode in the table that proto/keymap knows comes back as itself. */
START_TEST(table_agrees_with_proto)
{
	unsigned int mapped = 0;

	for (int sc = 0; sc < SDL_NUM_SCANCODES; sc++) {
		unsigned int evdev = viewer_scancode_to_evdev(sc);
		const struct proto_key *k = viewer_key_from_scancode(sc);

		if (!evdev)
			continue;
		ck_assert_uint_lt(evdev, KEY_CNT);
		if (k) {
			ck_assert_uint_eq(k->evdev, evdev);
			mapped++;
		}
	}
	ck_assert_uint_ge(mapped, proto_nr_keys);
}
END_TEST

START_TEST(scan_code_numbering)
{
	const struct proto_key *ctrl_r = proto_key_by_name("ctrl_r");
	const struct proto_key *a = proto_key_by_name("a");
	const struct proto_key *kp_enter = proto_key_by_name("kp_enter");
	const struct proto_key *del = proto_key_by_name("delete");

	/* QEMU's extended key event: E0 keys as 0x80 | code. */
	ck_assert_uint_eq(viewer_key_qemu_code(a), 0x1e);
	ck_assert_uint_eq(viewer_key_qemu_code(ctrl_r), 0x9d);
	ck_assert_uint_eq(viewer_key_qemu_code(kp_enter), 0x9c);
	ck_assert_uint_eq(viewer_key_qemu_code(del), 0xd3);
	/* spice-client-glib: E0 keys as 0x100 | code. */
	ck_assert_uint_eq(viewer_key_spice_code(a), 0x1e);
	ck_assert_uint_eq(viewer_key_spice_code(ctrl_r), 0x11d);
	ck_assert_uint_eq(viewer_key_spice_code(del), 0x153);
	/* No two keys share a code in either numbering. */
	for (unsigned int i = 0; i < proto_nr_keys; i++)
		for (unsigned int j = i + 1; j < proto_nr_keys; j++) {
			ck_assert_uint_ne(viewer_key_qemu_code(&proto_keys[i]),
			                  viewer_key_qemu_code(&proto_keys[j]));
			ck_assert_uint_ne(viewer_key_spice_code(&proto_keys[i]),
			                  viewer_key_spice_code(&proto_keys[j]));
		}
}
END_TEST

START_TEST(keysyms)
{
	const struct proto_key *a = proto_key_by_name("a"), *one = proto_key_by_name("1");
	const struct proto_key *ret = proto_key_by_name("ret");

	ck_assert_uint_eq(viewer_key_keysym(a, false, false), 'a');
	ck_assert_uint_eq(viewer_key_keysym(a, true, false), 'A');
	ck_assert_uint_eq(viewer_key_keysym(a, false, true), 'A');
	ck_assert_uint_eq(viewer_key_keysym(a, true, true), 'a');
	ck_assert_uint_eq(viewer_key_keysym(one, false, false), '1');
	ck_assert_uint_eq(viewer_key_keysym(one, true, false), '!');
	ck_assert_uint_eq(viewer_key_keysym(one, false, true), '1'); /* caps lock is for letters */
	ck_assert_uint_eq(viewer_key_keysym(ret, true, false), 0xff0d);
}
END_TEST

START_TEST(modifier_bits)
{
	ck_assert_uint_eq(viewer_key_mod_bit(KEY_LEFTCTRL), VIEWER_MOD_CTRL);
	ck_assert_uint_eq(viewer_key_mod_bit(KEY_RIGHTCTRL), VIEWER_MOD_CTRL);
	ck_assert_uint_eq(viewer_key_mod_bit(KEY_LEFTALT), VIEWER_MOD_ALT);
	ck_assert_uint_eq(viewer_key_mod_bit(KEY_RIGHTALT), VIEWER_MOD_ALT);
	ck_assert_uint_eq(viewer_key_mod_bit(KEY_RIGHTSHIFT), VIEWER_MOD_SHIFT);
	ck_assert_uint_eq(viewer_key_mod_bit(KEY_LEFTMETA), VIEWER_MOD_SUPER);
	ck_assert_uint_eq(viewer_key_mod_bit(KEY_A), 0);
	ck_assert_uint_eq(viewer_key_mod_bit(KEY_CAPSLOCK), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_keymap");
	TCase *tc = tcase_create("keymap");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, letters_digits_and_named_keys);
	tcase_add_test(tc, unknown_scancodes);
	tcase_add_test(tc, every_proto_key_is_reachable);
	tcase_add_test(tc, table_agrees_with_proto);
	tcase_add_test(tc, scan_code_numbering);
	tcase_add_test(tc, keysyms);
	tcase_add_test(tc, modifier_bits);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
