// SPDX-License-Identifier: GPL-2.0-or-later
/* The login form's editing: typing, cursor, deleting, fields, masking, checks. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "viewer/form.h"

START_TEST(typing_and_cursor)
{
	struct viewer_form f;
	char out[64];

	viewer_form_init(&f);
	ck_assert_int_eq(f.focus, VIEWER_FIELD_USER);
	ck_assert(viewer_form_insert(&f, "alce"));
	ck_assert_str_eq(viewer_form_value(&f, VIEWER_FIELD_USER), "alce");
	/* Back two, insert, forward to the end. */
	ck_assert(viewer_form_left(&f));
	ck_assert(viewer_form_left(&f));
	ck_assert(viewer_form_insert(&f, "i"));
	ck_assert_str_eq(viewer_form_value(&f, VIEWER_FIELD_USER), "alice");
	ck_assert_uint_eq(f.f[VIEWER_FIELD_USER].cursor, 3);
	ck_assert_uint_eq(viewer_form_display(&f, VIEWER_FIELD_USER, out, sizeof(out)), 3);
	ck_assert_str_eq(out, "alice");
	viewer_form_end(&f);
	ck_assert(!viewer_form_right(&f));
	viewer_form_home(&f);
	ck_assert(!viewer_form_left(&f));
	ck_assert(!viewer_form_backspace(&f)); /* nothing before the cursor */
	ck_assert(viewer_form_delete(&f));
	ck_assert_str_eq(viewer_form_value(&f, VIEWER_FIELD_USER), "lice");
	viewer_form_end(&f);
	ck_assert(!viewer_form_delete(&f)); /* nothing after it */
	ck_assert(viewer_form_backspace(&f));
	ck_assert_str_eq(viewer_form_value(&f, VIEWER_FIELD_USER), "lic");
}
END_TEST

/* Multi-byte characters move and go as one. */
START_TEST(utf8_characters)
{
	struct viewer_form f;

	viewer_form_init(&f);
	viewer_form_focus(&f, VIEWER_FIELD_PASSWORD);
	ck_assert(viewer_form_insert(&f, "p\xc3\xa4ss\xe2\x82\xac")); /* "päss€" */
	ck_assert_uint_eq(f.f[VIEWER_FIELD_PASSWORD].len, 8);
	ck_assert(viewer_form_backspace(&f)); /* the euro sign: three bytes */
	ck_assert_str_eq(viewer_form_value(&f, VIEWER_FIELD_PASSWORD), "p\xc3\xa4ss");
	ck_assert(viewer_form_left(&f));
	ck_assert(viewer_form_left(&f));
	ck_assert(viewer_form_left(&f)); /* before the ä */
	ck_assert_uint_eq(f.f[VIEWER_FIELD_PASSWORD].cursor, 1);
	ck_assert(viewer_form_delete(&f));
	ck_assert_str_eq(viewer_form_value(&f, VIEWER_FIELD_PASSWORD), "pss");
	ck_assert(viewer_form_right(&f));
	ck_assert_uint_eq(f.f[VIEWER_FIELD_PASSWORD].cursor, 2);
}
END_TEST

START_TEST(refused_input)
{
	struct viewer_form f;
	char big[VIEWER_FORM_TEXT_MAX + 2];

	viewer_form_init(&f);
	ck_assert(!viewer_form_insert(&f, ""));
	ck_assert(!viewer_form_insert(&f, "a\tb"));
	ck_assert(!viewer_form_insert(&f, "a\nb"));
	ck_assert(!viewer_form_insert(&f, "\x7f"));
	ck_assert(!viewer_form_insert(&f, "\xc3"));      /* cut UTF-8 */
	ck_assert(!viewer_form_insert(&f, "\xc0\xaf"));  /* overlong */
	ck_assert(!viewer_form_insert(&f, "two words")); /* no spaces in a user name */
	ck_assert_uint_eq(f.f[VIEWER_FIELD_USER].len, 0);

	/* Lengths: 64 bytes of user name, 1024 of password. */
	memset(big, 'x', sizeof(big));
	big[VIEWER_FORM_USER_MAX] = '\0';
	ck_assert(viewer_form_insert(&f, big));
	ck_assert(!viewer_form_insert(&f, "y"));
	ck_assert_uint_eq(f.f[VIEWER_FIELD_USER].len, VIEWER_FORM_USER_MAX);
	viewer_form_next(&f, false);
	ck_assert_int_eq(f.focus, VIEWER_FIELD_PASSWORD);
	ck_assert(viewer_form_insert(&f, "with spaces is fine"));
	viewer_form_clear_field(&f, VIEWER_FIELD_PASSWORD);
	memset(big, 'x', sizeof(big));
	big[VIEWER_FORM_PASSWORD_MAX] = '\0';
	ck_assert(viewer_form_insert(&f, big));
	ck_assert(!viewer_form_insert(&f, "y"));

	/* The code takes digits only, at most 8. */
	viewer_form_show_totp(&f, true);
	ck_assert_int_eq(f.focus, VIEWER_FIELD_TOTP);
	ck_assert(!viewer_form_insert(&f, "12a"));
	ck_assert(viewer_form_insert(&f, "123456"));
	ck_assert(viewer_form_insert(&f, "78"));
	ck_assert(!viewer_form_insert(&f, "9"));
	ck_assert_str_eq(viewer_form_value(&f, VIEWER_FIELD_TOTP), "12345678");
}
END_TEST

START_TEST(tab_between_fields)
{
	struct viewer_form f;

	viewer_form_init(&f);
	viewer_form_next(&f, false);
	ck_assert_int_eq(f.focus, VIEWER_FIELD_PASSWORD);
	viewer_form_next(&f, false); /* the code field is not shown: around to the user */
	ck_assert_int_eq(f.focus, VIEWER_FIELD_USER);
	viewer_form_next(&f, true);
	ck_assert_int_eq(f.focus, VIEWER_FIELD_PASSWORD);
	viewer_form_focus(&f, VIEWER_FIELD_TOTP); /* not shown: ignored */
	ck_assert_int_eq(f.focus, VIEWER_FIELD_PASSWORD);
	ck_assert(!viewer_form_shown(&f, VIEWER_FIELD_TOTP));

	viewer_form_show_totp(&f, true);
	ck_assert(viewer_form_shown(&f, VIEWER_FIELD_TOTP));
	viewer_form_next(&f, false);
	ck_assert_int_eq(f.focus, VIEWER_FIELD_USER);
	viewer_form_next(&f, true);
	ck_assert_int_eq(f.focus, VIEWER_FIELD_TOTP);
	ck_assert(viewer_form_insert(&f, "123"));
	/* Hiding it wipes it and moves the focus off it. */
	viewer_form_show_totp(&f, false);
	ck_assert_int_eq(f.focus, VIEWER_FIELD_PASSWORD);
	ck_assert_str_eq(viewer_form_value(&f, VIEWER_FIELD_TOTP), "");

	/* The cursor goes to the end of the field focused. */
	viewer_form_focus(&f, VIEWER_FIELD_USER);
	ck_assert(viewer_form_insert(&f, "bob"));
	viewer_form_home(&f);
	viewer_form_next(&f, false);
	viewer_form_next(&f, true);
	ck_assert_uint_eq(f.f[VIEWER_FIELD_USER].cursor, 3);
}
END_TEST

START_TEST(masked_password)
{
	struct viewer_form f;
	char out[64];
	size_t cur;

	viewer_form_init(&f);
	viewer_form_focus(&f, VIEWER_FIELD_PASSWORD);
	ck_assert(viewer_form_insert(&f, "s3\xc3\xa9"));
	cur = viewer_form_display(&f, VIEWER_FIELD_PASSWORD, out, sizeof(out));
	/* One dot per character, not per byte, and the secret nowhere. */
	ck_assert_str_eq(out, "\xe2\x80\xa2\xe2\x80\xa2\xe2\x80\xa2");
	ck_assert_uint_eq(cur, 9);
	viewer_form_left(&f);
	ck_assert_uint_eq(viewer_form_display(&f, VIEWER_FIELD_PASSWORD, out, sizeof(out)), 6);
	viewer_form_home(&f);
	ck_assert_uint_eq(viewer_form_display(&f, VIEWER_FIELD_PASSWORD, out, sizeof(out)), 0);
	/* A small buffer is cut at whole dots. */
	viewer_form_display(&f, VIEWER_FIELD_PASSWORD, out, 8);
	ck_assert_str_eq(out, "\xe2\x80\xa2\xe2\x80\xa2");
	viewer_form_clear_field(&f, VIEWER_FIELD_PASSWORD);
	ck_assert_uint_eq(viewer_form_display(&f, VIEWER_FIELD_PASSWORD, out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(check_and_clear)
{
	struct viewer_form f;

	viewer_form_init(&f);
	viewer_form_focus(&f, VIEWER_FIELD_PASSWORD);
	ck_assert_str_eq(viewer_form_check(&f), "Enter your user name.");
	ck_assert_int_eq(f.focus, VIEWER_FIELD_USER);
	ck_assert(viewer_form_insert(&f, "alice"));
	ck_assert_str_eq(viewer_form_check(&f), "Enter your password.");
	ck_assert_int_eq(f.focus, VIEWER_FIELD_PASSWORD);
	ck_assert(viewer_form_insert(&f, "secret"));
	ck_assert_ptr_null(viewer_form_check(&f));
	viewer_form_show_totp(&f, true);
	ck_assert(viewer_form_insert(&f, "12345"));
	viewer_form_focus(&f, VIEWER_FIELD_USER);
	ck_assert_ptr_nonnull(viewer_form_check(&f)); /* five digits are not a code */
	ck_assert_int_eq(f.focus, VIEWER_FIELD_TOTP);
	ck_assert(viewer_form_insert(&f, "6"));
	ck_assert_ptr_null(viewer_form_check(&f));

	viewer_form_clear(&f);
	for (int i = 0; i < VIEWER_FIELD_COUNT; i++) {
		ck_assert_uint_eq(f.f[i].len, 0);
		for (size_t b = 0; b < sizeof(f.f[i].text); b++)
			ck_assert_int_eq(f.f[i].text[b], 0);
	}
	ck_assert_int_eq(f.focus, VIEWER_FIELD_USER);
	ck_assert(!f.totp_shown);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_form");
	TCase *tc = tcase_create("form");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, typing_and_cursor);
	tcase_add_test(tc, utf8_characters);
	tcase_add_test(tc, refused_input);
	tcase_add_test(tc, tab_between_fields);
	tcase_add_test(tc, masked_password);
	tcase_add_test(tc, check_and_clear);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
