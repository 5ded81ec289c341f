// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/b64url.h"

/* RFC 4648 section 10, without the padding. */
static const struct {
	const char *plain;
	const char *b64;
} vectors[] = {
	{ "", "" },           { "f", "Zg" },          { "fo", "Zm8" },          { "foo", "Zm9v" },
	{ "foob", "Zm9vYg" }, { "fooba", "Zm9vYmE" }, { "foobar", "Zm9vYmFy" },
};

static int decode_str(const char *s, void *out, size_t out_size, size_t *ret_len)
{
	return proto_b64url_decode(s, strlen(s), out, out_size, ret_len);
}

START_TEST(vectors_rfc4648)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		const char *plain = vectors[i].plain;
		char enc[16];
		uint8_t dec[16];
		size_t n = 99;

		ck_assert_uint_eq(proto_b64url_encoded_len(strlen(plain)), strlen(vectors[i].b64));
		ck_assert_int_eq(proto_b64url_encode(plain, strlen(plain), enc, sizeof(enc)), 0);
		ck_assert_str_eq(enc, vectors[i].b64);
		ck_assert_int_eq(decode_str(enc, dec, sizeof(dec), &n), 0);
		ck_assert_uint_eq(n, strlen(plain));
		ck_assert_mem_eq(dec, plain, n);
	}
}
END_TEST

START_TEST(url_alphabet)
{
	const uint8_t in[] = { 0xfb, 0xff, 0xbf };
	uint8_t out[3];
	char enc[8];
	size_t n;

	/* Standard base64 would say "+/+/". */
	ck_assert_int_eq(proto_b64url_encode(in, 3, enc, sizeof(enc)), 0);
	ck_assert_str_eq(enc, "-_-_");
	ck_assert_int_eq(decode_str(enc, out, sizeof(out), &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_mem_eq(out, in, 3);
}
END_TEST

START_TEST(round_trip_every_length)
{
	uint8_t in[70], out[70];
	char enc[100];
	size_t n;

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(in); len++) {
		ck_assert_int_eq(proto_b64url_encode(in, len, enc, sizeof(enc)), 0);
		ck_assert_uint_eq(strlen(enc), proto_b64url_encoded_len(len));
		ck_assert_uint_ne(strlen(enc) % 4, 1);
		ck_assert_int_eq(decode_str(enc, out, sizeof(out), &n), 0);
		ck_assert_uint_eq(n, len);
		ck_assert_mem_eq(out, in, len);
	}
}
END_TEST

START_TEST(encode_nospc)
{
	char enc[9];

	memset(enc, 'x', sizeof(enc));
	/* "foobar" needs 8 characters and the NUL. */
	ck_assert_int_eq(proto_b64url_encode("foobar", 6, enc, 8), -ENOSPC);
	ck_assert_int_eq(enc[0], 'x');
	ck_assert_int_eq(proto_b64url_encode("foobar", 6, enc, 9), 0);
	ck_assert_int_eq(proto_b64url_encode("", 0, enc, 0), -ENOSPC);
	ck_assert_int_eq(proto_b64url_encode("", 0, enc, 1), 0);
	ck_assert_str_eq(enc, "");
}
END_TEST

START_TEST(decode_strict)
{
	static const char *const bad[] = {
		"Zg==",    /* padding */
		"Zm8=",    /* padding */
		"Zm9v+",   /* standard alphabet, and an impossible length */
		"+/8",     /* standard alphabet */
		"Zm 9v",   /* space */
		"Zm9v\n",  /* newline */
		"Zm9vY",   /* 5 % 4 == 1 */
		"Z",       /* 1 character */
		"Zh",      /* 'h' leaves a stray bit: "Zg" is the only spelling of "f" */
		"Zm9",     /* stray bits */
		"Zm9vYmF", /* stray bits */
		"Zm9v.",   /* dot */
		"Zm9vÿ",   /* not ASCII */
	};
	uint8_t out[16];
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(decode_str(bad[i], out, sizeof(out), &n) == -EINVAL, "accepted '%s'",
		              bad[i]);
	/* A NUL inside the given length is not a character of the alphabet. */
	ck_assert_int_eq(proto_b64url_decode("Zm\0v", 4, out, sizeof(out), &n), -EINVAL);
}
END_TEST

START_TEST(decode_nospc)
{
	uint8_t out[6];
	size_t n;

	ck_assert_int_eq(decode_str("Zm9vYmFy", out, 5, &n), -ENOSPC);
	ck_assert_int_eq(decode_str("Zm9vYmFy", out, 6, &n), 0);
	ck_assert_uint_eq(n, 6);
	ck_assert_int_eq(decode_str("Zm8", out, 1, &n), -ENOSPC);
	ck_assert_int_eq(decode_str("", NULL, 0, &n), 0);
	ck_assert_uint_eq(n, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_b64url");
	TCase *tc = tcase_create("b64url");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, vectors_rfc4648);
	tcase_add_test(tc, url_alphabet);
	tcase_add_test(tc, round_trip_every_length);
	tcase_add_test(tc, encode_nospc);
	tcase_add_test(tc, decode_strict);
	tcase_add_test(tc, decode_nospc);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
