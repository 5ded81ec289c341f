// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Login with a fake clock: password hashing, the same answer and the same
 * work for unknown users and wrong passwords, lockout and its expiry, TOTP,
 * session tokens and their expiry, per-address slow-down, PAM-mapped users
 * (with a fake PAM), and the PAM conversation.
 */
#include <check.h>
#include <errno.h>
#include <openssl/sha.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "broker/auth.h"
#include "broker/auth_pam.h"
#include "broker/store.h"
#include "broker/throttle.h"
#include "broker/totp.h"
#include "broker_test.h"
#include "proto/b64url.h"

#define T0 1700000000000LL /* ms */
#define PW "correct horse"

static char dir[64], path[128];
static struct broker_store *s;
static struct broker_auth *a;
static int64_t clock_ms;

static int64_t fake_clock(void *ctx)
{
	return *(int64_t *)ctx;
}

static void params(struct broker_auth_params *p)
{
	broker_auth_params_defaults(p);
	/* Cheap hashes: the tests are about the rules, not the cost. */
	p->argon2_m = 64;
	p->argon2_t = 1;
	p->lockout_failures = 3;
	p->lockout_seconds = 60;
	p->idle_timeout = 600;
	p->absolute_timeout = 3600;
	p->throttle_base_ms = 0;
	p->throttle_max_ms = 0;
	p->clock = fake_clock;
	p->clock_ctx = &clock_ms;
}

static void setup(void)
{
	struct broker_auth_params p;
	char err[256];

	bt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/broker.db", dir);
	ck_assert_msg(broker_store_open(path, &s, err, sizeof(err)) == 0, "%s", err);
	clock_ms = T0;
	params(&p);
	ck_assert_int_eq(broker_auth_new(s, &p, &a), 0);
}

static void teardown(void)
{
	broker_auth_free(a);
	broker_store_close(s);
	a = NULL;
	s = NULL;
	bt_rmdir(dir);
}

static int64_t add(const char *name, const char *pw)
{
	struct broker_user u;

	ck_assert_int_eq(broker_auth_user_add(a, name, pw, BROKER_ROLE_USER, NULL, 0, &u), 0);
	return u.id;
}

static int login(const char *name, const char *pw, const char *code, struct broker_login *l)
{
	return broker_auth_login(a, name, pw, code, "192.0.2.1", l);
}

static uint64_t verifies(void)
{
	struct broker_auth_stats st;

	broker_auth_get_stats(a, &st);
	return st.hash_verifies;
}

static size_t audit_count(const char *event, const char *needle)
{
	struct broker_audit *list = NULL;
	size_t n = 0, hits = 0;

	ck_assert_int_eq(broker_store_audit_list(s, 0, 1000, &list, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].event, event) == 0 &&
		    (!needle || strstr(list[i].detail, needle)))
			hits++;
	free(list);
	return hits;
}

START_TEST(hash_and_verify)
{
	char h1[BROKER_HASH_MAX + 1], h2[BROKER_HASH_MAX + 1], big[BROKER_PASSWORD_MAX + 2];

	ck_assert_int_eq(broker_auth_hash_password(a, PW, h1, sizeof(h1)), 0);
	ck_assert_int_eq(broker_auth_hash_password(a, PW, h2, sizeof(h2)), 0);
	ck_assert_msg(strncmp(h1, "$argon2id$v=19$m=64,t=1,p=1$", 28) == 0, "%s", h1);
	ck_assert_str_ne(h1, h2); /* fresh salt each time */
	ck_assert_int_eq(broker_auth_verify_password(a, h1, PW), 0);
	ck_assert_int_eq(broker_auth_verify_password(a, h2, PW), 0);
	ck_assert_int_eq(broker_auth_verify_password(a, h1, "correct horsf"), -EACCES);
	ck_assert_int_eq(broker_auth_verify_password(a, h1, ""), -EACCES);
	ck_assert_int_eq(broker_auth_verify_password(a, "!pam", PW), -EINVAL);
	ck_assert_int_eq(broker_auth_verify_password(a, "$argon2id$garbage", PW), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(broker_auth_hash_password(a, big, h1, sizeof(h1)), -EINVAL);
	ck_assert_int_eq(broker_auth_verify_password(a, h2, big), -EACCES);
	ck_assert_int_eq(broker_auth_hash_password(a, PW, h1, 20), -ENOSPC);
}
END_TEST

START_TEST(password_policy)
{
	char why[128], big[BROKER_PASSWORD_MAX + 2];

	ck_assert_int_eq(broker_auth_password_policy("12345678", why, sizeof(why)), 0);
	ck_assert_int_eq(broker_auth_password_policy("1234567", why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "8"));
	ck_assert_int_eq(broker_auth_password_policy("12345678\n", why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(broker_auth_password_policy(NULL, why, sizeof(why)), -EINVAL);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(broker_auth_password_policy(big, why, sizeof(why)), -EINVAL);
	big[BROKER_PASSWORD_MAX] = '\0';
	ck_assert_int_eq(broker_auth_password_policy(big, why, sizeof(why)), 0);
}
END_TEST

START_TEST(login_gives_a_token_stored_only_as_its_hash)
{
	struct broker_login l;
	struct broker_session sess;
	struct broker_user u;
	uint8_t raw[40], hash[32];
	size_t n;
	FILE *f;
	char *db;
	long size;

	add("bob", PW);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	ck_assert_uint_eq(strlen(l.token), BROKER_TOKEN_TEXT_LEN);
	ck_assert_str_eq(l.user.name, "bob");
	ck_assert_str_eq(l.user.password_hash, "");
	ck_assert_int_eq(l.session.expires, T0 / 1000 + 3600);
	ck_assert_str_eq(l.session.source, "192.0.2.1");
	ck_assert_int_eq(broker_auth_session_check(a, l.token, &sess, &u), 0);
	ck_assert_int_eq(sess.id, l.session.id);
	ck_assert_str_eq(u.name, "bob");
	ck_assert_int_eq(proto_b64url_decode(l.token, strlen(l.token), raw, sizeof(raw), &n), 0);
	ck_assert_uint_eq(n, 32);
	SHA256(raw, 32, hash);
	ck_assert_int_eq(memcmp(hash, sess.token_hash, 32), 0);
	ck_assert_uint_eq(audit_count("login", "\"result\":\"ok\""), 1);

	/* The token's text is nowhere in the database files. */
	broker_store_close(s);
	f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	db = malloc((size_t)size);
	ck_assert_uint_eq(fread(db, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	ck_assert_ptr_null(memmem(db, (size_t)size, l.token, strlen(l.token)));
	ck_assert_ptr_null(memmem(db, (size_t)size, raw, 32));
	free(db);
	{
		char err[256];

		ck_assert_int_eq(broker_store_open(path, &s, err, sizeof(err)), 0);
	}
}
END_TEST

START_TEST(unknown_user_and_wrong_password_look_the_same)
{
	struct broker_login l1, l2, l3, l4, zero;
	uint64_t v0;

	memset(&zero, 0, sizeof(zero));
	add("bob", PW);
	v0 = verifies();
	ck_assert_int_eq(login("bob", "wrong password", NULL, &l1), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_uint_eq(verifies(), v0 + 1);
	ck_assert_int_eq(login("nobody", "wrong password", NULL, &l2),
	                 BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_uint_eq(verifies(), v0 + 2);
	ck_assert_int_eq(login("no body!", "x", NULL, &l3), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_uint_eq(verifies(), v0 + 3);
	ck_assert_int_eq(login(NULL, NULL, NULL, &l4), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_uint_eq(verifies(), v0 + 4);
	/* Nothing about the account comes back. */
	ck_assert_int_eq(memcmp(&l1, &zero, sizeof(zero)), 0);
	ck_assert_int_eq(memcmp(&l2, &zero, sizeof(zero)), 0);
	ck_assert_uint_eq(audit_count("login", "unknown_user"), 3);
}
END_TEST

static double login_seconds(const char *name)
{
	struct broker_login l;
	struct timespec t0, t1;
	double best = 1e9;

	for (int i = 0; i < 5; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		login(name, "wrong password", NULL, &l);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if ((t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9 < best)
			best = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		/* Keep bob from locking: failures are not what is measured. */
		broker_store_user_login_ok(s, 1);
	}
	return best;
}

START_TEST(unknown_user_costs_a_real_hash)
{
	struct broker_auth_params p;
	double known, unknown;

	/* Hashes costly enough to dominate a login (a few ms each). */
	broker_auth_free(a);
	params(&p);
	p.argon2_m = 4096;
	p.argon2_t = 2;
	p.lockout_failures = 100;
	ck_assert_int_eq(broker_auth_new(s, &p, &a), 0);
	add("bob", PW);
	known = login_seconds("bob");
	unknown = login_seconds("nobody");
	ck_assert_msg(unknown > known / 3 && unknown < known * 3,
	              "wrong password %.2f ms, unknown user %.2f ms", known * 1e3, unknown * 1e3);
}
END_TEST

START_TEST(lockout_and_its_expiry)
{
	struct broker_login l;

	add("bob", PW);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_uint_eq(audit_count("user.locked", NULL), 0);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_uint_eq(audit_count("user.locked", NULL), 1);
	/* Locked: even the right password is refused, and says for how long. */
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_LOCKED);
	ck_assert_int_eq(l.retry_after_ms, 60000);
	ck_assert_str_eq(l.user.name, "bob");
	clock_ms += 59500;
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_LOCKED);
	ck_assert_int_eq(l.retry_after_ms, 500);
	clock_ms += 500;
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	/* Attempts while locked did not extend the lock or count. */
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
}
END_TEST

START_TEST(good_login_clears_the_count)
{
	struct broker_login l;

	add("bob", PW);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
}
END_TEST

static void code_at(const char *secret, int64_t ms, char out[7])
{
	uint8_t key[64];
	size_t n;
	uint32_t v;

	ck_assert_int_eq(broker_base32_decode(secret, key, sizeof(key), &n), 0);
	ck_assert_int_eq(broker_hotp(key, n, (uint64_t)broker_totp_step(ms / 1000), 6, &v), 0);
	snprintf(out, 7, "%06u", v);
}

/* A well-formed code that is wrong for every step of the window at @ms. */
static void wrong_code_at(const char *secret, int64_t ms, char out[7])
{
	char near[3][7];

	for (int d = -1; d <= 1; d++)
		code_at(secret, ms + d * 30000, near[d + 1]);
	for (unsigned int v = 0;; v++) {
		snprintf(out, 7, "%06u", v % 1000000);
		if (strcmp(out, near[0]) && strcmp(out, near[1]) && strcmp(out, near[2]))
			return;
	}
}

START_TEST(totp_login)
{
	char secret[BROKER_TOTP_SECRET_MAX + 1], uri[BROKER_TOTP_URI_MAX], code[7], wrong[7];
	struct broker_login l;
	int64_t id = add("bob", PW);

	ck_assert_int_eq(broker_auth_totp_new(a, "bob", secret, sizeof(secret), uri, sizeof(uri)),
	                 0);
	ck_assert_ptr_nonnull(strstr(uri, "otpauth://totp/vdi:bob?secret="));
	ck_assert_ptr_nonnull(strstr(uri, secret));
	ck_assert_int_eq(broker_auth_totp_enrol(a, id, secret), 0);

	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_TOTP_REQUIRED);
	ck_assert_str_eq(l.token, "");
	ck_assert_str_eq(l.user.totp_secret, "*");
	ck_assert_int_eq(login("bob", PW, "", &l), BROKER_LOGIN_TOTP_REQUIRED);
	/* A wrong password with a code is still just bad credentials. */
	code_at(secret, clock_ms, code);
	ck_assert_int_eq(login("bob", "bad", code, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	wrong_code_at(secret, clock_ms, wrong);
	ck_assert_int_eq(login("bob", PW, wrong, &l), BROKER_LOGIN_TOTP_BAD);
	ck_assert_int_eq(login("bob", PW, "12ab56", &l), BROKER_LOGIN_TOTP_BAD);
	/* Three failures: locked; an admin unlocks, then the right code works. */
	ck_assert_int_eq(login("bob", PW, code, &l), BROKER_LOGIN_LOCKED);
	ck_assert_int_eq(broker_store_user_login_ok(s, id), 0);
	ck_assert_int_eq(login("bob", PW, code, &l), BROKER_LOGIN_OK);
	/* The same code cannot be used twice, even within its 30 s. */
	ck_assert_int_eq(login("bob", PW, code, &l), BROKER_LOGIN_TOTP_BAD);
	clock_ms += 30000;
	code_at(secret, clock_ms, code);
	ck_assert_int_eq(login("bob", PW, code, &l), BROKER_LOGIN_OK);
}
END_TEST

START_TEST(totp_required_does_not_clear_failures)
{
	struct broker_login l;
	int64_t id = add("bob", PW);
	char wrong[7];

	ck_assert_int_eq(broker_auth_totp_enrol(a, id, "JBSWY3DPEHPK3PXP"), 0);
	wrong_code_at("JBSWY3DPEHPK3PXP", clock_ms, wrong);
	ck_assert_int_eq(login("bob", PW, wrong, &l), BROKER_LOGIN_TOTP_BAD);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_TOTP_REQUIRED);
	/* Guessing codes between "no code" answers still locks the account. */
	ck_assert_int_eq(login("bob", PW, wrong, &l), BROKER_LOGIN_TOTP_BAD);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_LOCKED);
}
END_TEST

START_TEST(totp_confirm)
{
	char secret[BROKER_TOTP_SECRET_MAX + 1], uri[BROKER_TOTP_URI_MAX], code[7], wrong[7];
	struct broker_login l;
	struct broker_user u;
	int64_t id = add("bob", PW);

	ck_assert_int_eq(broker_auth_totp_new(a, "bob", secret, sizeof(secret), uri, sizeof(uri)),
	                 0);
	code_at(secret, clock_ms, code);
	wrong_code_at(secret, clock_ms, wrong);
	ck_assert_int_eq(broker_auth_totp_confirm(a, id, secret, wrong), -EACCES);
	ck_assert_int_eq(broker_store_user_get(s, id, &u), 0);
	ck_assert_str_eq(u.totp_secret, "");
	ck_assert_int_eq(broker_auth_totp_confirm(a, id, secret, code), 0);
	ck_assert_int_eq(broker_store_user_get(s, id, &u), 0);
	ck_assert_str_eq(u.totp_secret, secret);
	/* The code that confirmed cannot also log in. */
	ck_assert_int_eq(login("bob", PW, code, &l), BROKER_LOGIN_TOTP_BAD);
}
END_TEST

START_TEST(token_idle_and_absolute_expiry)
{
	struct broker_login l;
	struct broker_session sess;
	int64_t start = clock_ms;

	add("bob", PW);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	/* Idle: each use moves the deadline. */
	clock_ms = start + 599000;
	ck_assert_int_eq(broker_auth_session_check(a, l.token, &sess, NULL), 0);
	ck_assert_int_eq(sess.last_seen, (start + 599000) / 1000);
	clock_ms = start + 1198000;
	ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), 0);
	clock_ms = start + 1798000;
	ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), -EKEYEXPIRED);
	ck_assert(!broker_auth_session_live(a, &sess));

	/* Absolute: however busy, it ends absolute_timeout after login. */
	clock_ms = start;
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	for (int64_t t = 500000; t < 3600000; t += 500000) {
		clock_ms = start + t;
		ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), 0);
	}
	clock_ms = start + 3599999;
	ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), 0);
	clock_ms = start + 3600000;
	ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), -EKEYEXPIRED);
}
END_TEST

START_TEST(logout_and_bad_tokens)
{
	static const char *const bad[] = {
		"",
		"abc",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA+",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB",
	};
	struct broker_login l;
	int64_t id;

	id = add("bob", PW);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_int_eq(broker_auth_session_check(a, bad[i], NULL, NULL), -EKEYREJECTED);
	ck_assert_int_eq(broker_auth_session_check(a, NULL, NULL, NULL), -EKEYREJECTED);
	ck_assert_int_eq(broker_auth_logout(a, l.token, "192.0.2.1"), 0);
	ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), -EKEYREJECTED);
	ck_assert_int_eq(broker_auth_logout(a, l.token, "192.0.2.1"), -EKEYREJECTED);
	ck_assert_uint_eq(audit_count("logout", NULL), 1);

	/* A new password ends every session; a deleted user's tokens die too. */
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	ck_assert_int_eq(broker_auth_set_password(a, id, "another password"), 0);
	ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), -EKEYREJECTED);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("bob", "another password", NULL, &l), BROKER_LOGIN_OK);
	ck_assert_int_eq(broker_auth_set_password(a, id, "short"), -EINVAL);
	ck_assert_int_eq(broker_store_user_del(s, id), 0);
	ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), -EKEYREJECTED);
}
END_TEST

START_TEST(set_password_unlocks)
{
	struct broker_login l;
	int64_t id = add("bob", PW);

	for (int i = 0; i < 3; i++)
		login("bob", "bad", NULL, &l);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_LOCKED);
	ck_assert_int_eq(broker_auth_set_password(a, id, "new password"), 0);
	ck_assert_int_eq(login("bob", "new password", NULL, &l), BROKER_LOGIN_OK);
}
END_TEST

START_TEST(source_slow_down)
{
	struct broker_auth_params p;
	struct broker_login l;
	uint64_t v;

	broker_auth_free(a);
	params(&p);
	p.throttle_base_ms = 100;
	p.throttle_max_ms = 400;
	p.lockout_failures = 100;
	ck_assert_int_eq(broker_auth_new(s, &p, &a), 0);
	add("bob", PW);

	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(broker_auth_source_delay_ms(a, "192.0.2.1"), 0);
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(broker_auth_source_delay_ms(a, "192.0.2.1"), 100);
	/* While it must wait: refused at once, no hashing, even with the right password. */
	v = verifies();
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_THROTTLED);
	ck_assert_int_eq(l.retry_after_ms, 100);
	ck_assert_uint_eq(verifies(), v);
	/* Other addresses are not affected. */
	ck_assert_int_eq(broker_auth_source_delay_ms(a, "198.51.100.7"), 0);
	ck_assert_int_eq(broker_auth_login(a, "bob", PW, NULL, "198.51.100.7", &l),
	                 BROKER_LOGIN_OK);
	clock_ms += 60;
	ck_assert_int_eq(broker_auth_source_delay_ms(a, "192.0.2.1"), 40);
	clock_ms += 40;
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(broker_auth_source_delay_ms(a, "192.0.2.1"), 200);
	clock_ms += 200;
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(broker_auth_source_delay_ms(a, "192.0.2.1"), 400);
	clock_ms += 400;
	ck_assert_int_eq(login("bob", "bad", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(broker_auth_source_delay_ms(a, "192.0.2.1"), 400); /* the maximum */
	clock_ms += 400;
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	ck_assert_int_eq(broker_auth_source_delay_ms(a, "192.0.2.1"), 0);
}
END_TEST

START_TEST(throttle_table)
{
	struct broker_throttle *t;
	char src[80];

	ck_assert_int_eq(broker_throttle_new(10, 5, 0, &t), -EINVAL);
	ck_assert_int_eq(broker_throttle_new(100, 1000, 2, &t), 0);
	broker_throttle_failure(t, "a", 1000);
	broker_throttle_failure(t, "a", 1000);
	broker_throttle_failure(t, "b", 2000);
	broker_throttle_failure(t, "b", 2000);
	ck_assert_uint_eq(broker_throttle_size(t), 2);
	/* Full: the entry with the oldest failure goes. */
	broker_throttle_failure(t, "c", 3000);
	ck_assert_uint_eq(broker_throttle_size(t), 2);
	ck_assert_int_eq(broker_throttle_delay_ms(t, "a", 3000), 0);
	ck_assert_int_eq(broker_throttle_delay_ms(t, "b", 2000), 100);
	/* Forgotten an hour after the last failure. */
	ck_assert_int_eq(broker_throttle_delay_ms(t, "b", 2000 + BROKER_THROTTLE_FORGET_MS), 0);
	ck_assert_uint_eq(broker_throttle_size(t), 1);
	/* Long keys are cut at the stored source length, not overflowed. */
	memset(src, 'x', sizeof(src) - 1);
	src[sizeof(src) - 1] = '\0';
	broker_throttle_failure(t, src, 5000);
	broker_throttle_failure(t, src, 5000);
	ck_assert_int_eq(broker_throttle_delay_ms(t, src, 5000), 100);
	/* Many failures do not overflow the shift. */
	for (int i = 0; i < 100; i++)
		broker_throttle_failure(t, "c", 6000);
	ck_assert_int_eq(broker_throttle_delay_ms(t, "c", 6000), 1000);
	broker_throttle_success(t, "c");
	ck_assert_int_eq(broker_throttle_delay_ms(t, "c", 6000), 0);
	broker_throttle_free(t);
	broker_throttle_free(NULL);
}
END_TEST

struct fake_pam {
	int calls;
};

static int fake_pam(void *ctx, const char *user, const char *password)
{
	struct fake_pam *f = ctx;

	f->calls++;
	return strcmp(user, "carol") == 0 && strcmp(password, "pam password") == 0 ? 0 : -EACCES;
}

START_TEST(pam_users_are_mapped)
{
	struct broker_auth_params p;
	struct fake_pam fp = { 0 };
	struct broker_login l;
	struct broker_user u;
	struct broker_group *gs = NULL;
	size_t n;

	broker_auth_free(a);
	params(&p);
	p.pam_service = "vdi-test";
	ck_assert_int_eq(broker_auth_new(s, &p, &a), 0);
	broker_auth_set_external(a, fake_pam, &fp);
	add("bob", PW);
	ck_assert_int_eq(broker_auth_user_add(a, "nopw", NULL, BROKER_ROLE_USER, NULL, 0, NULL), 0);

	/* A local password never goes to PAM. */
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	ck_assert_int_eq(login("bob", "pam password", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(fp.calls, 0);
	/* Unknown to PAM: nothing is created. */
	ck_assert_int_eq(login("dave", "pam password", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(fp.calls, 1);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "dave", &u), -ENOENT);
	/* First good PAM login makes a local user in the default group. */
	ck_assert_int_eq(login("carol", "pam password", NULL, &l), BROKER_LOGIN_OK);
	ck_assert_int_eq(fp.calls, 2);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "carol", &u), 0);
	ck_assert_str_eq(u.password_hash, "!pam");
	ck_assert_int_eq(u.role, BROKER_ROLE_USER);
	ck_assert_int_eq(broker_store_user_groups(s, u.id, &gs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(gs[0].name, "users");
	free(gs);
	ck_assert_uint_eq(audit_count("user.add", "pam"), 1);
	/* Later logins ask PAM again; failures count toward lockout. */
	ck_assert_int_eq(login("carol", "pam password", NULL, &l), BROKER_LOGIN_OK);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(login("carol", "wrong", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("carol", "pam password", NULL, &l), BROKER_LOGIN_LOCKED);
	/* An account without a password is neither local nor PAM. */
	fp.calls = 0;
	ck_assert_int_eq(login("nopw", "", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(fp.calls, 0);
}
END_TEST

START_TEST(pam_conversation)
{
	struct pam_message m0 = { PAM_PROMPT_ECHO_OFF, "Password: " };
	struct pam_message m1 = { PAM_TEXT_INFO, "hello" };
	struct pam_message m2 = { PAM_PROMPT_ECHO_ON, "login: " };
	struct pam_message m3 = { 99, "?" };
	const struct pam_message *msgs[] = { &m0, &m1, &m2 }, *badmsgs[] = { &m0, &m3 };
	struct pam_response *resp = NULL;

	ck_assert_int_eq(broker_pam_conv(3, msgs, &resp, (void *)"s3cret"), PAM_SUCCESS);
	ck_assert_str_eq(resp[0].resp, "s3cret");
	ck_assert_ptr_null(resp[1].resp);
	ck_assert_str_eq(resp[2].resp, "");
	for (int i = 0; i < 3; i++)
		free(resp[i].resp);
	free(resp);
	resp = NULL;
	ck_assert_int_eq(broker_pam_conv(2, badmsgs, &resp, (void *)"s3cret"), PAM_CONV_ERR);
	ck_assert_ptr_null(resp);
	ck_assert_int_eq(broker_pam_conv(0, msgs, &resp, (void *)"s3cret"), PAM_CONV_ERR);
	ck_assert_int_eq(broker_pam_conv(PAM_MAX_NUM_MSG + 1, msgs, &resp, NULL), PAM_CONV_ERR);
}
END_TEST

START_TEST(user_add_groups_and_failures)
{
	static const char *const groups[] = { "staff", "ops" };
	static const char *const bad[] = { "ok", "not ok" };
	struct broker_group *gs = NULL;
	struct broker_user u;
	struct broker_login l;
	size_t n;

	ck_assert_int_eq(broker_auth_user_add(a, "bob", PW, BROKER_ROLE_ADMIN, groups, 2, &u), 0);
	ck_assert_int_eq(u.role, BROKER_ROLE_ADMIN);
	ck_assert_int_eq(broker_store_user_groups(s, u.id, &gs, &n), 0);
	ck_assert_uint_eq(n, 2); /* the given groups instead of the default */
	ck_assert_str_eq(gs[0].name, "ops");
	free(gs);
	ck_assert_int_eq(broker_auth_user_add(a, "bob", PW, BROKER_ROLE_USER, NULL, 0, NULL),
	                 -EEXIST);
	ck_assert_int_eq(broker_auth_user_add(a, "eve", PW, BROKER_ROLE_USER, bad, 2, NULL),
	                 -EINVAL);
	ck_assert_int_eq(broker_auth_user_add(a, "eve", "short", BROKER_ROLE_USER, NULL, 0, NULL),
	                 -EINVAL);
	ck_assert_int_eq(broker_auth_user_add(a, "e ve", PW, BROKER_ROLE_USER, NULL, 0, NULL),
	                 -EINVAL);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "eve", &u), -ENOENT);
	ck_assert_int_eq(broker_auth_user_add(a, "eve", NULL, BROKER_ROLE_USER, NULL, 0, &u), 0);
	ck_assert_int_eq(broker_store_user_groups(s, u.id, &gs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(gs[0].name, "users");
	free(gs);
	ck_assert_int_eq(login("eve", "", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
	ck_assert_int_eq(login("eve", "!", NULL, &l), BROKER_LOGIN_BAD_CREDENTIALS);
}
END_TEST

START_TEST(new_parameters_rehash_on_login)
{
	struct broker_auth_params p;
	struct broker_login l;
	struct broker_user u;

	add("bob", PW);
	broker_auth_free(a);
	params(&p);
	p.argon2_m = 128;
	ck_assert_int_eq(broker_auth_new(s, &p, &a), 0);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "bob", &u), 0);
	ck_assert_msg(strncmp(u.password_hash, "$argon2id$v=19$m=128,t=1,p=1$", 29) == 0, "%s",
	              u.password_hash);
	ck_assert_int_eq(login("bob", PW, NULL, &l), BROKER_LOGIN_OK);
}
END_TEST

START_TEST(bad_parameters)
{
	struct broker_auth_params p;
	struct broker_auth *x = NULL;

	params(&p);
	p.lockout_failures = 0;
	ck_assert_int_eq(broker_auth_new(s, &p, &x), -EINVAL);
	params(&p);
	p.argon2_m = 8;
	ck_assert_int_eq(broker_auth_new(s, &p, &x), -EINVAL);
	params(&p);
	p.argon2_t = 0;
	ck_assert_int_eq(broker_auth_new(s, &p, &x), -EINVAL);
	params(&p);
	p.default_group = "not a group";
	ck_assert_int_eq(broker_auth_new(s, &p, &x), -EINVAL);
	params(&p);
	p.pam_service = "../../etc/passwd";
	ck_assert_int_eq(broker_auth_new(s, &p, &x), -EINVAL);
	ck_assert_ptr_null(x);
	broker_auth_free(NULL);
}
END_TEST

START_TEST(status_names)
{
	ck_assert_str_eq(broker_login_status_name(BROKER_LOGIN_OK), "ok");
	ck_assert_str_eq(broker_login_status_name(BROKER_LOGIN_BAD_CREDENTIALS), "bad_credentials");
	ck_assert_str_eq(broker_login_status_name(BROKER_LOGIN_LOCKED), "locked");
	ck_assert_str_eq(broker_login_status_name(BROKER_LOGIN_TOTP_REQUIRED), "totp_required");
	ck_assert_str_eq(broker_login_status_name(BROKER_LOGIN_TOTP_BAD), "totp_bad");
	ck_assert_str_eq(broker_login_status_name(BROKER_LOGIN_THROTTLED), "throttled");
}
END_TEST

int main(void)
{
	Suite *su = suite_create("broker_auth");
	TCase *tc = tcase_create("auth");
	TCase *tt = tcase_create("throttle");
	TCase *tp = tcase_create("pam");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, hash_and_verify);
	tcase_add_test(tc, password_policy);
	tcase_add_test(tc, login_gives_a_token_stored_only_as_its_hash);
	tcase_add_test(tc, unknown_user_and_wrong_password_look_the_same);
	tcase_add_test(tc, unknown_user_costs_a_real_hash);
	tcase_add_test(tc, lockout_and_its_expiry);
	tcase_add_test(tc, good_login_clears_the_count);
	tcase_add_test(tc, totp_login);
	tcase_add_test(tc, totp_required_does_not_clear_failures);
	tcase_add_test(tc, totp_confirm);
	tcase_add_test(tc, token_idle_and_absolute_expiry);
	tcase_add_test(tc, logout_and_bad_tokens);
	tcase_add_test(tc, set_password_unlocks);
	tcase_add_test(tc, user_add_groups_and_failures);
	tcase_add_test(tc, new_parameters_rehash_on_login);
	tcase_add_test(tc, bad_parameters);
	tcase_add_test(tc, status_names);
	suite_add_tcase(su, tc);
	tcase_add_checked_fixture(tt, setup, teardown);
	tcase_add_test(tt, source_slow_down);
	tcase_add_test(tt, throttle_table);
	suite_add_tcase(su, tt);
	tcase_add_checked_fixture(tp, setup, teardown);
	tcase_add_test(tp, pam_users_are_mapped);
	tcase_add_test(tp, pam_conversation);
	suite_add_tcase(su, tp);
	return bt_run(su);
}
