// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "viewer/clipboard.h"

START_TEST(latin1_to_utf8)
{
	char *s;

	s = viewer_latin1_to_utf8("plain text", 10);
	ck_assert_str_eq(s, "plain text");
	free(s);
	s = viewer_latin1_to_utf8("caf\xe9 \xa3"
	                          "5 \xff",
	                          9);
	ck_assert_str_eq(s, "caf\xc3\xa9 \xc2\xa3"
	                    "5 \xc3\xbf");
	free(s);
	/* CR LF becomes LF; a lone CR stays; NUL bytes go. */
	s = viewer_latin1_to_utf8("a\r\nb\rc\0d", 8);
	ck_assert_str_eq(s, "a\nb\rcd");
	free(s);
	s = viewer_latin1_to_utf8("", 0);
	ck_assert_str_eq(s, "");
	free(s);
	ck_assert_ptr_null(viewer_latin1_to_utf8("x", VIEWER_CLIPBOARD_MAX + 1));
}
END_TEST

START_TEST(utf8_to_latin1)
{
	size_t len;
	char *s;

	s = viewer_utf8_to_latin1("caf\xc3\xa9 \xc2\xa3", &len);
	ck_assert_uint_eq(len, 6);
	ck_assert_mem_eq(s, "caf\xe9 \xa3", 6);
	free(s);
	/* Beyond Latin-1: a question mark per character, whatever its length. */
	s = viewer_utf8_to_latin1("\xe2\x82\xac 1 \xf0\x9f\x98\x80!", &len);
	ck_assert_str_eq(s, "? 1 ?!");
	free(s);
	/* Invalid sequences: overlong, stray continuation, truncated, surrogate. */
	s = viewer_utf8_to_latin1("\xc0\xaf|\x80|\xe2\x82|\xed\xa0\x80|ok", &len);
	ck_assert_ptr_nonnull(strstr(s, "|ok"));
	ck_assert_ptr_null(strchr(s, '\x80'));
	free(s);
	s = viewer_utf8_to_latin1("one\r\ntwo\n", &len);
	ck_assert_str_eq(s, "one\ntwo\n");
	ck_assert_uint_eq(len, 8);
	free(s);
}
END_TEST

START_TEST(round_trip)
{
	char latin1[255];
	char *utf8, *back;
	size_t len;

	for (int i = 0; i < 255; i++)
		latin1[i] = (char)(i + 1);
	utf8 = viewer_latin1_to_utf8(latin1, sizeof(latin1));
	back = viewer_utf8_to_latin1(utf8, &len);
	/* Every byte but the CR of a CR LF pair (there is none here) comes back. */
	ck_assert_uint_eq(len, sizeof(latin1));
	ck_assert_mem_eq(back, latin1, sizeof(latin1));
	free(utf8);
	free(back);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_clipboard");
	TCase *tc = tcase_create("clipboard");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, latin1_to_utf8);
	tcase_add_test(tc, utf8_to_latin1);
	tcase_add_test(tc, round_trip);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
