// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/b64url.h"
#include "proto/ticket.h"

#define NOW 1800000000LL

static const uint8_t key[32] = "0123456789abcdef0123456789abcdef";
static const uint8_t other_key[32] = "0123456789abcdef0123456789abcdeF";

static struct proto_ticket sample(void)
{
	struct proto_ticket t = {
		.vm = "desk-3.pool_a",
		.protocols = PROTO_TICKET_VNC | PROTO_TICKET_WS,
		.user = "zoë@example.org",
		.expires = NOW + 30,
	};

	return t;
}

static void issue(struct proto_ticket *t, char *out, size_t size)
{
	ck_assert_int_eq(proto_ticket_issue(t, key, sizeof(key), out, size), 0);
}

static int verify(const char *s, struct proto_ticket *ret)
{
	return proto_ticket_verify(s, key, sizeof(key), NOW, ret);
}

/* Append ".<mac>" to the text "v1.<anything>" in @s, as the key's owner would. */
static void sign_text(char *s, size_t size)
{
	uint8_t mac[32];
	unsigned int mac_len = sizeof(mac);
	size_t len = strlen(s);

	ck_assert_ptr_nonnull(
	        HMAC(EVP_sha256(), key, sizeof(key), (const uint8_t *)s, len, mac, &mac_len));
	ck_assert_uint_lt(len + 1, size);
	s[len++] = '.';
	ck_assert_int_eq(proto_b64url_encode(mac, sizeof(mac), s + len, size - len), 0);
}

/* A correctly signed ticket around an arbitrary payload of @n bytes. */
static void sign_payload(const uint8_t *payload, size_t n, char *out, size_t size)
{
	memcpy(out, "v1.", 3);
	ck_assert_int_eq(proto_b64url_encode(payload, n, out + 3, size - 3), 0);
	sign_text(out, size);
}

START_TEST(round_trip)
{
	struct proto_ticket t = sample(), got;
	uint8_t zero[16] = { 0 };
	char s[PROTO_TICKET_MAX_LEN + 1];

	issue(&t, s, sizeof(s));
	ck_assert_mem_ne(t.nonce, zero, sizeof(zero));
	ck_assert_int_eq(strncmp(s, "v1.", 3), 0);
	ck_assert_int_eq(verify(s, &got), 0);
	ck_assert_str_eq(got.vm, t.vm);
	ck_assert_uint_eq(got.protocols, t.protocols);
	ck_assert_str_eq(got.user, t.user);
	ck_assert_int_eq(got.expires, t.expires);
	ck_assert_mem_eq(got.nonce, t.nonce, sizeof(t.nonce));
	ck_assert_int_eq(proto_ticket_verify(s, key, sizeof(key), NOW + 29, &got), 0);
}
END_TEST

START_TEST(fresh_nonce_each_issue)
{
	struct proto_ticket t = sample();
	uint8_t first[16];
	char a[300], b[300];

	issue(&t, a, sizeof(a));
	memcpy(first, t.nonce, sizeof(first));
	issue(&t, b, sizeof(b));
	ck_assert_mem_ne(first, t.nonce, sizeof(first));
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(longest_fields)
{
	struct proto_ticket t = sample(), got;
	char s[PROTO_TICKET_MAX_LEN + 1];

	memset(t.vm, 'v', 64);
	t.vm[64] = '\0';
	memset(t.user, 'u', 64);
	t.user[64] = '\0';
	t.protocols = PROTO_TICKET_ALL;
	t.expires = INT64_MAX;
	issue(&t, s, sizeof(s));
	ck_assert_uint_eq(strlen(s), 255);
	ck_assert_int_eq(verify(s, &got), 0);
	ck_assert_str_eq(got.vm, t.vm);
	ck_assert_str_eq(got.user, t.user);
	ck_assert_int_eq(got.expires, INT64_MAX);

	/* The smallest buffer that fits, and one byte less. */
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, 256), 0);
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, 255), -ENOSPC);
}
END_TEST

START_TEST(empty_user)
{
	struct proto_ticket t = sample(), got;
	char s[300];

	t.user[0] = '\0';
	issue(&t, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), 0);
	ck_assert_str_eq(got.user, "");
}
END_TEST

START_TEST(issue_refuses_bad_fields)
{
	struct proto_ticket t;
	uint8_t nonce[16];
	uint8_t long_key[65] = { 0 };
	char s[300];

	t = sample();
	memcpy(nonce, t.nonce, sizeof(nonce));
	strcpy(t.vm, "");
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);
	ck_assert_mem_eq(t.nonce, nonce, sizeof(nonce)); /* untouched on failure */
	strcpy(t.vm, "desk/3");
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);
	memset(t.vm, 'a', sizeof(t.vm)); /* not terminated */
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);

	t = sample();
	t.protocols = 0;
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);
	t.protocols = 8;
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);

	t = sample();
	strcpy(t.user, "bob\n");
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);
	strcpy(t.user, "bob\x7f");
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);
	strcpy(t.user, "bob\xc2\x85"); /* U+0085, a C1 control */
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);
	strcpy(t.user, "bob\xff");
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);
	memset(t.user, 'u', sizeof(t.user));
	ck_assert_int_eq(proto_ticket_issue(&t, key, sizeof(key), s, sizeof(s)), -EINVAL);

	t = sample();
	ck_assert_int_eq(proto_ticket_issue(&t, key, 31, s, sizeof(s)), -EINVAL);
	ck_assert_int_eq(proto_ticket_issue(&t, long_key, 65, s, sizeof(s)), -EINVAL);
	ck_assert_int_eq(proto_ticket_issue(&t, long_key, 64, s, sizeof(s)), 0);
	ck_assert_int_eq(proto_ticket_issue(&t, NULL, 32, s, sizeof(s)), -EINVAL);
}
END_TEST

START_TEST(wrong_key)
{
	struct proto_ticket t = sample(), got;
	char s[300];

	issue(&t, s, sizeof(s));
	ck_assert_int_eq(proto_ticket_verify(s, other_key, sizeof(other_key), NOW, &got),
	                 PROTO_TICKET_EMAC);
	ck_assert_int_eq(proto_ticket_verify(s, key, 16, NOW, &got), -EINVAL);
}
END_TEST

/* Flip every bit of every character in [from, to) of a valid ticket. */
static void flip_range(size_t from, size_t to)
{
	struct proto_ticket t = sample(), got;
	char s[300];

	issue(&t, s, sizeof(s));
	if (to > strlen(s))
		to = strlen(s);
	for (size_t i = from; i < to; i++)
		for (unsigned int bit = 0; bit < 8; bit++) {
			char copy[300];
			int r;

			strcpy(copy, s);
			copy[i] ^= (char)(1u << bit);
			memset(&got, 0x5a, sizeof(got));
			r = verify(copy, &got);
			ck_assert_msg(r == PROTO_TICKET_EMAC || r == PROTO_TICKET_EPARSE,
			              "char %zu bit %u: %d", i, bit, r);
			ck_assert_uint_eq(got.protocols, 0x5a5a5a5a); /* not written */
		}
}

START_TEST(flipped_bit_in_payload)
{
	struct proto_ticket t = sample();
	char s[300];
	const char *dot;

	issue(&t, s, sizeof(s));
	dot = strchr(s + 3, '.');
	flip_range(3, (size_t)(dot - s));
}
END_TEST

START_TEST(flipped_bit_in_mac)
{
	struct proto_ticket t = sample();
	char s[300];

	issue(&t, s, sizeof(s));
	flip_range((size_t)(strchr(s + 3, '.') - s + 1), strlen(s));
}
END_TEST

START_TEST(flipped_bit_in_decoded_payload)
{
	struct proto_ticket t = sample(), got;
	uint8_t payload[200];
	char s[300], forged[300];
	const char *dot;
	size_t n;

	issue(&t, s, sizeof(s));
	dot = strchr(s + 3, '.');
	ck_assert_int_eq(
	        proto_b64url_decode(s + 3, (size_t)(dot - s - 3), payload, sizeof(payload), &n), 0);
	for (size_t i = 0; i < n * 8; i++) {
		size_t len;

		payload[i / 8] ^= (uint8_t)(1u << (i % 8));
		strcpy(forged, "v1.");
		ck_assert_int_eq(proto_b64url_encode(payload, n, forged + 3, sizeof(forged) - 3),
		                 0);
		len = strlen(forged);
		strcpy(forged + len, dot); /* the original MAC */
		ck_assert_int_eq(verify(forged, &got), PROTO_TICKET_EMAC);
		payload[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
}
END_TEST

START_TEST(truncated_at_every_length)
{
	struct proto_ticket t = sample(), got;
	char s[300];
	size_t len;

	issue(&t, s, sizeof(s));
	len = strlen(s);
	for (size_t i = 0; i < len; i++) {
		char copy[300];

		memcpy(copy, s, i);
		copy[i] = '\0';
		ck_assert_msg(verify(copy, &got) == PROTO_TICKET_EPARSE, "length %zu", i);
	}
	ck_assert_int_eq(verify(s, &got), 0);
}
END_TEST

START_TEST(malformed)
{
	struct proto_ticket t = sample(), got;
	char s[300], copy[400];
	char *dot;

	issue(&t, s, sizeof(s));
	dot = strchr(s + 3, '.');

	snprintf(copy, sizeof(copy), "%s.", s); /* extra dot at the end */
	ck_assert_int_eq(verify(copy, &got), PROTO_TICKET_EPARSE);
	snprintf(copy, sizeof(copy), "%.*s.%s", (int)(dot - s), s, dot); /* two dots */
	ck_assert_int_eq(verify(copy, &got), PROTO_TICKET_EPARSE);
	snprintf(copy, sizeof(copy), "v2%s", s + 2); /* another version */
	ck_assert_int_eq(verify(copy, &got), PROTO_TICKET_EPARSE);
	snprintf(copy, sizeof(copy), "v1.%s", dot); /* no payload */
	ck_assert_int_eq(verify(copy, &got), PROTO_TICKET_EPARSE);
	snprintf(copy, sizeof(copy), "%.*s", (int)(dot - s), s); /* no MAC */
	ck_assert_int_eq(verify(copy, &got), PROTO_TICKET_EPARSE);
	snprintf(copy, sizeof(copy), "%s=", s); /* padding */
	ck_assert_int_eq(verify(copy, &got), PROTO_TICKET_EPARSE);
	snprintf(copy, sizeof(copy), " %s", s);
	ck_assert_int_eq(verify(copy, &got), PROTO_TICKET_EPARSE);
	strcpy(copy, s);
	copy[strlen(copy) - 1] = '+'; /* standard alphabet in the MAC */
	ck_assert_int_eq(verify(copy, &got), PROTO_TICKET_EPARSE);
	ck_assert_int_eq(verify("", &got), PROTO_TICKET_EPARSE);
	ck_assert_int_eq(verify("v1.", &got), PROTO_TICKET_EPARSE);
	ck_assert_int_eq(verify("v1..", &got), PROTO_TICKET_EPARSE);
	ck_assert_int_eq(verify(NULL, &got), PROTO_TICKET_EPARSE);
}
END_TEST

START_TEST(bad_base64_payload)
{
	static const char *const bad[] = { "AB+/", "AB=", "AB C", "A", "Zh" };
	struct proto_ticket got;
	char s[300];

	/* Forged: a bad payload fails the MAC before it is decoded. */
	strcpy(s, "v1.AAAA+AAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EMAC);

	/* Signed with the right key but not base64url: malformed. */
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), "v1.%s", bad[i]);
		sign_text(s, sizeof(s));
		ck_assert_msg(verify(s, &got) == PROTO_TICKET_EPARSE, "payload '%s'", bad[i]);
	}
}
END_TEST

START_TEST(signed_but_bad_fields)
{
	/* Authentic payloads whose fields are wrong are malformed, never accepted. */
	struct proto_ticket got;
	uint8_t good[64] = { 1, 1, 0, 0, 0, 0, 0x7f, 0, 0, 0 };
	uint8_t p[64];
	char s[300];
	size_t n = 29;

	/* Format 1, VNC, an expiry far ahead, nonce zero, vm "a", no user. */
	good[26] = 1;
	good[27] = 'a';
	good[28] = 0;
	sign_payload(good, n, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), 0);
	ck_assert_str_eq(got.vm, "a");

	memcpy(p, good, n);
	p[0] = 2; /* format */
	sign_payload(p, n, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);

	memcpy(p, good, n);
	p[1] = 0; /* no protocol */
	sign_payload(p, n, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);
	p[1] = 0x81;
	sign_payload(p, n, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);

	memcpy(p, good, n);
	p[26] = 0; /* empty vm */
	sign_payload(p, n, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);
	p[26] = 2; /* vm longer than the payload */
	sign_payload(p, n, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);

	memcpy(p, good, n);
	p[27] = '/';
	sign_payload(p, n, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);

	memcpy(p, good, n);
	p[28] = 1; /* user runs past the end */
	sign_payload(p, n, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);
	p[29] = '\0'; /* a NUL in the user */
	sign_payload(p, n + 1, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);
	p[29] = '\t';
	sign_payload(p, n + 1, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);
	p[29] = 'u';
	sign_payload(p, n + 1, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), 0);
	ck_assert_str_eq(got.user, "u");
	p[30] = 'x'; /* trailing byte */
	sign_payload(p, n + 2, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);

	sign_payload(good, 27, s, sizeof(s)); /* too short */
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);
	sign_payload(good, 0, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), PROTO_TICKET_EPARSE);
}
END_TEST

START_TEST(expired)
{
	struct proto_ticket t = sample(), got;
	char s[300];

	issue(&t, s, sizeof(s));
	ck_assert_int_eq(proto_ticket_verify(s, key, sizeof(key), t.expires - 1, &got), 0);
	ck_assert_int_eq(proto_ticket_verify(s, key, sizeof(key), t.expires, &got),
	                 PROTO_TICKET_EEXPIRED);
	ck_assert_int_eq(proto_ticket_verify(s, key, sizeof(key), t.expires + 3600, &got),
	                 PROTO_TICKET_EEXPIRED);
	/* A forged ticket is forged, whatever its expiry. */
	ck_assert_int_eq(proto_ticket_verify(s, other_key, sizeof(other_key), t.expires, &got),
	                 PROTO_TICKET_EMAC);
}
END_TEST

START_TEST(oversized)
{
	struct proto_ticket t = sample(), got;
	char *big = malloc(PROTO_TICKET_MAX_LEN + 2);
	char s[300];

	issue(&t, s, sizeof(s));
	/* A valid ticket followed by junk up to one character too many. */
	memset(big, 'A', PROTO_TICKET_MAX_LEN + 1);
	memcpy(big, s, strlen(s));
	big[PROTO_TICKET_MAX_LEN + 1] = '\0';
	ck_assert_int_eq(verify(big, &got), PROTO_TICKET_EPARSE);
	big[PROTO_TICKET_MAX_LEN] = '\0';
	ck_assert_int_eq(verify(big, &got), PROTO_TICKET_EPARSE);
	free(big);
}
END_TEST

START_TEST(strerror_distinct)
{
	const char *parse = proto_ticket_strerror(PROTO_TICKET_EPARSE);
	const char *mac = proto_ticket_strerror(PROTO_TICKET_EMAC);
	const char *expired_s = proto_ticket_strerror(PROTO_TICKET_EEXPIRED);

	ck_assert_str_ne(parse, mac);
	ck_assert_str_ne(parse, expired_s);
	ck_assert_str_ne(mac, expired_s);
	ck_assert_str_eq(proto_ticket_strerror(-EALREADY), "ticket already used");
	ck_assert_ptr_nonnull(proto_ticket_strerror(-12345));
	ck_assert_int_ne(PROTO_TICKET_EPARSE, PROTO_TICKET_EMAC);
	ck_assert_int_ne(PROTO_TICKET_EMAC, PROTO_TICKET_EEXPIRED);
}
END_TEST

static void nonce_of(uint8_t nonce[16], unsigned int i)
{
	memset(nonce, 0, 16);
	memcpy(nonce, &i, sizeof(i));
}

START_TEST(nonce_reuse_refused)
{
	struct proto_nonce_cache c;
	struct proto_ticket t = sample(), got;
	char s[300];

	ck_assert_int_eq(proto_nonce_cache_init(&c, 4), 0);
	issue(&t, s, sizeof(s));
	ck_assert_int_eq(verify(s, &got), 0);
	ck_assert_int_eq(proto_nonce_cache_use(&c, got.nonce, got.expires, NOW), 0);
	ck_assert_int_eq(verify(s, &got), 0);
	ck_assert_int_eq(proto_nonce_cache_use(&c, got.nonce, got.expires, NOW + 1), -EALREADY);
	ck_assert_int_eq(proto_nonce_cache_use(&c, got.nonce, got.expires, got.expires - 1),
	                 -EALREADY);
	/* Once expired the ticket cannot verify, and the cache says so too. */
	ck_assert_int_eq(proto_nonce_cache_use(&c, got.nonce, got.expires, got.expires),
	                 PROTO_TICKET_EEXPIRED);
	proto_nonce_cache_free(&c);
	proto_nonce_cache_free(&c);
	proto_nonce_cache_free(NULL);
}
END_TEST

START_TEST(nonce_expiry_eviction)
{
	struct proto_nonce_cache c;
	uint8_t n[16];

	ck_assert_int_eq(proto_nonce_cache_init(&c, 3), 0);
	nonce_of(n, 1);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 10, NOW), 0);
	nonce_of(n, 2);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 20, NOW), 0);
	nonce_of(n, 3);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 30, NOW), 0);
	/* Full of live nonces: refuse rather than forget one. */
	nonce_of(n, 4);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 40, NOW + 9), -ENOSPC);
	nonce_of(n, 1);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 10, NOW + 9), -EALREADY);
	/* At NOW + 10 nonce 1's ticket expired: its slot is taken by nonce 4. */
	nonce_of(n, 4);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 40, NOW + 10), 0);
	ck_assert_uint_eq(c.nr, 3);
	nonce_of(n, 2);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 20, NOW + 10), -EALREADY);
	nonce_of(n, 3);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 30, NOW + 10), -EALREADY);
	nonce_of(n, 4);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 40, NOW + 10), -EALREADY);
	/* Later, everything but nonce 4 is gone. */
	nonce_of(n, 5);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 50, NOW + 35), 0);
	ck_assert_uint_eq(c.nr, 2);
	proto_nonce_cache_free(&c);
}
END_TEST

START_TEST(nonce_cache_full)
{
	struct proto_nonce_cache c;
	uint8_t n[16];

	ck_assert_int_eq(proto_nonce_cache_init(&c, 0), -EINVAL);
	ck_assert_int_eq(proto_nonce_cache_init(&c, 100), 0);
	for (unsigned int i = 0; i < 100; i++) {
		nonce_of(n, i);
		ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 60, NOW), 0);
	}
	nonce_of(n, 100);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 60, NOW), -ENOSPC);
	for (unsigned int i = 0; i < 100; i++) {
		nonce_of(n, i);
		ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 60, NOW + 59), -EALREADY);
	}
	nonce_of(n, 100);
	ck_assert_int_eq(proto_nonce_cache_use(&c, n, NOW + 120, NOW + 60), 0);
	ck_assert_uint_eq(c.nr, 1);
	proto_nonce_cache_free(&c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_ticket");
	TCase *tc = tcase_create("ticket");
	TCase *tn = tcase_create("nonce_cache");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, round_trip);
	tcase_add_test(tc, fresh_nonce_each_issue);
	tcase_add_test(tc, longest_fields);
	tcase_add_test(tc, empty_user);
	tcase_add_test(tc, issue_refuses_bad_fields);
	tcase_add_test(tc, wrong_key);
	tcase_add_test(tc, flipped_bit_in_payload);
	tcase_add_test(tc, flipped_bit_in_mac);
	tcase_add_test(tc, flipped_bit_in_decoded_payload);
	tcase_add_test(tc, truncated_at_every_length);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, bad_base64_payload);
	tcase_add_test(tc, signed_but_bad_fields);
	tcase_add_test(tc, expired);
	tcase_add_test(tc, oversized);
	tcase_add_test(tc, strerror_distinct);
	suite_add_tcase(s, tc);
	tcase_add_test(tn, nonce_reuse_refused);
	tcase_add_test(tn, nonce_expiry_eviction);
	tcase_add_test(tn, nonce_cache_full);
	suite_add_tcase(s, tn);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
