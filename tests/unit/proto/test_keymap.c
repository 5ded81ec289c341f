// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <linux/input-event-codes.h>
#include <X11/keysym.h>

#include "proto/keymap.h"

START_TEST(by_name)
{
	const struct proto_key *k;

	k = proto_key_by_name("a");
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->evdev, KEY_A);
	ck_assert_uint_eq(k->xt, 0x1e);
	ck_assert_uint_eq(k->keysym, XK_a);
	ck_assert_uint_eq(k->keysym_shifted, XK_A);

	k = proto_key_by_name("ret");
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->evdev, KEY_ENTER);
	ck_assert_uint_eq(k->keysym, XK_Return);

	k = proto_key_by_name("delete");
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->evdev, KEY_DELETE);
	ck_assert_uint_eq(k->xt, 0xe053);

	ck_assert_ptr_null(proto_key_by_name("no-such-key"));
	ck_assert_ptr_null(proto_key_by_name("A")); /* names are lower case */
	ck_assert_ptr_null(proto_key_by_name(""));
	ck_assert_ptr_null(proto_key_by_name(NULL));
}
END_TEST

START_TEST(by_evdev)
{
	const struct proto_key *k;

	k = proto_key_by_evdev(KEY_ESC);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "esc");
	ck_assert_uint_eq(k->xt, 0x01);

	k = proto_key_by_evdev(KEY_LEFTCTRL);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "ctrl");
	k = proto_key_by_evdev(KEY_RIGHTCTRL);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->xt, 0xe01d);

	ck_assert_ptr_null(proto_key_by_evdev(KEY_RESERVED));
	ck_assert_ptr_null(proto_key_by_evdev(0xffff));
	ck_assert_ptr_null(proto_key_by_evdev(0x10000 + KEY_A)); /* not truncated to 16 bits */
}
END_TEST

START_TEST(by_xt)
{
	const struct proto_key *k;

	k = proto_key_by_xt(0x1c);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "ret");
	k = proto_key_by_xt(0xe01c);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "kp_enter");
	ck_assert_uint_eq(k->evdev, KEY_KPENTER);
	k = proto_key_by_xt(0xe048);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->evdev, KEY_UP);

	ck_assert_ptr_null(proto_key_by_xt(0));
	ck_assert_ptr_null(proto_key_by_xt(0x7f));
	ck_assert_ptr_null(proto_key_by_xt(0xe0ff));
}
END_TEST

START_TEST(by_keysym)
{
	const struct proto_key *k;
	bool shifted = true;

	k = proto_key_by_keysym(XK_a, &shifted);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "a");
	ck_assert(!shifted);

	k = proto_key_by_keysym(XK_A, &shifted);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "a");
	ck_assert(shifted);

	k = proto_key_by_keysym(XK_exclam, &shifted);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "1");
	ck_assert(shifted);

	k = proto_key_by_keysym(XK_1, &shifted);
	ck_assert_ptr_nonnull(k);
	ck_assert_str_eq(k->name, "1");
	ck_assert(!shifted);

	k = proto_key_by_keysym(XK_Return, NULL);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->evdev, KEY_ENTER);

	/* Another symbol of the same key: keypad with Num Lock off. */
	k = proto_key_by_keysym(XK_KP_Home, &shifted);
	ck_assert_ptr_nonnull(k);
	ck_assert_uint_eq(k->evdev, KEY_KP7);
	ck_assert(!shifted);

	ck_assert_ptr_null(proto_key_by_keysym(0, NULL));
	ck_assert_ptr_null(proto_key_by_keysym(XK_eacute, NULL)); /* not on a US layout */
	ck_assert_ptr_null(proto_key_by_keysym(0x1234567, NULL));
}
END_TEST

START_TEST(table_unique)
{
	ck_assert_uint_gt(proto_nr_keys, 100);
	for (unsigned int i = 0; i < proto_nr_keys; i++) {
		const struct proto_key *a = &proto_keys[i];

		ck_assert_ptr_nonnull(a->name);
		ck_assert_uint_gt(strlen(a->name), 0);
		ck_assert_uint_ne(a->evdev, 0);
		ck_assert_uint_ne(a->xt, 0);
		for (unsigned int j = i + 1; j < proto_nr_keys; j++) {
			const struct proto_key *b = &proto_keys[j];

			ck_assert_msg(strcmp(a->name, b->name) != 0, "name %s twice", a->name);
			ck_assert_msg(a->evdev != b->evdev, "evdev %u: %s and %s", a->evdev,
			              a->name, b->name);
			ck_assert_msg(a->xt != b->xt, "xt 0x%x: %s and %s", a->xt, a->name,
			              b->name);
		}
		/* Every lookup leads back to this entry. */
		ck_assert_ptr_eq(proto_key_by_name(a->name), a);
		ck_assert_ptr_eq(proto_key_by_evdev(a->evdev), a);
		ck_assert_ptr_eq(proto_key_by_xt(a->xt), a);
	}
}
END_TEST

START_TEST(every_keysym_typeable)
{
	/* Whatever key a keysym maps to, pressing it (with shift if told) gives that keysym. */
	for (unsigned int i = 0; i < proto_nr_keys; i++) {
		const struct proto_key *a = &proto_keys[i];
		const uint32_t syms[] = { a->keysym, a->keysym_shifted, a->keysym_alt };

		for (unsigned int s = 0; s < 3; s++) {
			const struct proto_key *k;
			bool shifted;

			if (!syms[s])
				continue;
			k = proto_key_by_keysym(syms[s], &shifted);
			ck_assert_msg(k, "keysym 0x%x of %s not found", syms[s], a->name);
			if (shifted)
				ck_assert_uint_eq(k->keysym_shifted, syms[s]);
			else
				ck_assert(k->keysym == syms[s] || k->keysym_alt == syms[s]);
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_keymap");
	TCase *tc = tcase_create("keymap");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, by_name);
	tcase_add_test(tc, by_evdev);
	tcase_add_test(tc, by_xt);
	tcase_add_test(tc, by_keysym);
	tcase_add_test(tc, table_unique);
	tcase_add_test(tc, every_keysym_typeable);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
