// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TOTP and base32 against the RFCs' own test vectors (RFC 4226 appendix D,
 * RFC 6238 appendix B, RFC 4648 section 10), then the verification rules:
 * skew window, single use, malformed input.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "broker/totp.h"
#include "broker_test.h"

/* RFC 6238's SHA-1 key, "12345678901234567890", in base32. */
#define RFC_SECRET "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
static const uint8_t rfc_key[] = "12345678901234567890";

START_TEST(hotp_rfc4226_vectors)
{
	static const uint32_t expect[] = { 755224, 287082, 359152, 969429, 338314,
		                           254676, 287922, 162583, 399871, 520489 };

	for (uint64_t c = 0; c < 10; c++) {
		uint32_t v = 0;

		ck_assert_int_eq(broker_hotp(rfc_key, 20, c, 6, &v), 0);
		ck_assert_uint_eq(v, expect[c]);
	}
}
END_TEST

START_TEST(totp_rfc6238_sha1_vectors)
{
	static const struct {
		int64_t t;
		uint32_t code;
	} vec[] = {
		{ 59, 94287082 },         { 1111111109, 7081804 },  { 1111111111, 14050471 },
		{ 1234567890, 89005924 }, { 2000000000, 69279037 }, { 20000000000LL, 65353130 },
	};

	for (size_t i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		char code[8];
		int64_t step = -1;
		uint32_t v = 0;

		ck_assert_int_eq(
		        broker_hotp(rfc_key, 20, (uint64_t)broker_totp_step(vec[i].t), 8, &v), 0);
		ck_assert_uint_eq(v, vec[i].code);
		/* The 6-digit code apps show is the last six digits. */
		snprintf(code, sizeof(code), "%06u", vec[i].code % 1000000);
		ck_assert_int_eq(broker_totp_verify(RFC_SECRET, code, vec[i].t, 0, &step), 0);
		ck_assert_int_eq(step, vec[i].t / 30);
	}
}
END_TEST

START_TEST(window_and_reuse)
{
	int64_t step = 0;

	/* 287082 is the code of step 1 (t = 30..59). */
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, "287082", 59, 0, &step), 0);
	ck_assert_int_eq(step, 1);
	/* One step late or early is accepted, two are not. */
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, "287082", 89, 0, &step), 0);
	ck_assert_int_eq(step, 1);
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, "287082", 15, 0, &step), 0);
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, "287082", 119, 0, &step), -EACCES);
	/* Used once: refused again, and so is any older step. */
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, "287082", 59, 1, &step), -EALREADY);
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, "287082", 59, 2, &step), -EALREADY);
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, "000000", 59, 0, &step), -EACCES);
	/* A code at step 0 (the epoch's first 30 s) counts as well. */
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, "755224", 10, -1, &step), 0);
	ck_assert_int_eq(step, 0);
}
END_TEST

START_TEST(malformed_codes_and_secrets)
{
	static const char *const codes[] = { "",        "28708",  "2870822", "28708a",
		                             " 287082", "287 82", "-28708",  "287082\n" };
	int64_t step = 0;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		ck_assert_int_eq(broker_totp_verify(RFC_SECRET, codes[i], 59, 0, &step), -EINVAL);
	ck_assert_int_eq(broker_totp_verify(RFC_SECRET, NULL, 59, 0, &step), -EINVAL);
	ck_assert_int_eq(broker_totp_verify("not base32!", "287082", 59, 0, &step), -EINVAL);
	ck_assert_int_eq(broker_totp_verify("", "287082", 59, 0, &step), -EINVAL);
	ck_assert_int_eq(broker_totp_verify(NULL, "287082", 59, 0, &step), -EINVAL);
	/* Longer than any secret we make. */
	ck_assert_int_eq(
	        broker_totp_verify(
	                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	                "287082", 59, 0, &step),
	        -EINVAL);
}
END_TEST

START_TEST(base32_rfc4648_vectors)
{
	static const char *const plain[] = { "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const enc[] = { "MY",      "MZXQ",     "MZXW6",
		                           "MZXW6YQ", "MZXW6YTB", "MZXW6YTBOI" };
	char out[32];
	uint8_t dec[32];
	size_t n;

	for (size_t i = 0; i < 6; i++) {
		ck_assert_int_eq(broker_base32_encode((const uint8_t *)plain[i], strlen(plain[i]),
		                                      out, sizeof(out)),
		                 0);
		ck_assert_str_eq(out, enc[i]);
		ck_assert_int_eq(broker_base32_decode(enc[i], dec, sizeof(dec), &n), 0);
		ck_assert_uint_eq(n, strlen(plain[i]));
		ck_assert_int_eq(memcmp(dec, plain[i], n), 0);
	}
	/* Padding and lower case are accepted on input. */
	ck_assert_int_eq(broker_base32_decode("MZXW6===", dec, sizeof(dec), &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(broker_base32_decode("mzxw6ytboi", dec, sizeof(dec), &n), 0);
	ck_assert_uint_eq(n, 6);
	/* Impossible lengths, bad characters, padding inside. */
	ck_assert_int_eq(broker_base32_decode("M", dec, sizeof(dec), &n), -EINVAL);
	ck_assert_int_eq(broker_base32_decode("MZX", dec, sizeof(dec), &n), -EINVAL);
	ck_assert_int_eq(broker_base32_decode("MZXW6Y", dec, sizeof(dec), &n), -EINVAL);
	ck_assert_int_eq(broker_base32_decode("MZ1Q", dec, sizeof(dec), &n), -EINVAL);
	ck_assert_int_eq(broker_base32_decode("MZ=Q", dec, sizeof(dec), &n), -EINVAL);
	ck_assert_int_eq(broker_base32_decode("", dec, sizeof(dec), &n), -EINVAL);
	ck_assert_int_eq(broker_base32_decode("MZXW6YTBOI", dec, 5, &n), -ENOSPC);
	ck_assert_int_eq(broker_base32_encode((const uint8_t *)"foobar", 6, out, 10), -ENOSPC);
}
END_TEST

START_TEST(new_secrets)
{
	char a[64], b[64];
	uint8_t key[64];
	size_t n;

	ck_assert_int_eq(broker_totp_new_secret(a, sizeof(a)), 0);
	ck_assert_int_eq(broker_totp_new_secret(b, sizeof(b)), 0);
	ck_assert_uint_eq(strlen(a), 32);
	ck_assert_str_ne(a, b);
	ck_assert_int_eq(broker_base32_decode(a, key, sizeof(key), &n), 0);
	ck_assert_uint_eq(n, BROKER_TOTP_SECRET_BYTES);
	ck_assert_int_eq(broker_totp_new_secret(a, 32), -ENOSPC);
}
END_TEST

START_TEST(otpauth_uri)
{
	char uri[BROKER_TOTP_URI_MAX];

	ck_assert_int_eq(broker_totp_uri("vdi", "bob", RFC_SECRET, uri, sizeof(uri)), 0);
	ck_assert_str_eq(uri, "otpauth://totp/vdi:bob?secret=" RFC_SECRET
	                      "&issuer=vdi&algorithm=SHA1&digits=6&period=30");
	ck_assert_int_eq(broker_totp_uri("My Corp & Co", "a.b", RFC_SECRET, uri, sizeof(uri)), 0);
	ck_assert_str_eq(uri, "otpauth://totp/My%20Corp%20%26%20Co:a.b?secret=" RFC_SECRET
	                      "&issuer=My%20Corp%20%26%20Co&algorithm=SHA1&digits=6&period=30");
	ck_assert_int_eq(broker_totp_uri("a:b", "bob", RFC_SECRET, uri, sizeof(uri)), -EINVAL);
	ck_assert_int_eq(broker_totp_uri("vdi", "", RFC_SECRET, uri, sizeof(uri)), -EINVAL);
	ck_assert_int_eq(broker_totp_uri("vdi", "bob", "bad!", uri, sizeof(uri)), -EINVAL);
	ck_assert_int_eq(broker_totp_uri("vdi", "bob", RFC_SECRET, uri, 40), -ENOSPC);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("broker_totp");
	TCase *tc = tcase_create("totp");

	tcase_add_test(tc, hotp_rfc4226_vectors);
	tcase_add_test(tc, totp_rfc6238_sha1_vectors);
	tcase_add_test(tc, window_and_reuse);
	tcase_add_test(tc, malformed_codes_and_secrets);
	tcase_add_test(tc, base32_rfc4648_vectors);
	tcase_add_test(tc, new_secrets);
	tcase_add_test(tc, otpauth_uri);
	suite_add_tcase(s, tc);
	return bt_run(s);
}
