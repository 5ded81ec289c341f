// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-broker's REST API over real HTTPS against the real binary and a real
 * SQLite file: logins and their failures, lockout and its expiry,
 * entitlements, malformed and oversized requests, admin endpoints, the
 * audit log, metrics, a restart that keeps sessions, and many clients at
 * once.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/totp.h"
#include "broker_harness.h"
#include "harness.h"

#define JSON_HDR "Content-Type: application/json\r\n"

static struct broker b;

static void start(const char *const *extra)
{
	ck_assert_msg(broker_start(&b, extra) == 0, "vdi-broker did not start");
	ck_assert_msg(b.admin_password[0], "no first-start password printed");
	ck_assert_msg(b.fingerprint[0], "no certificate fingerprint printed");
}

static int post(const char *path, const char *token, const char *body, json_t **ret)
{
	char hdr[256];
	struct http_reply r;
	int status;

	snprintf(hdr, sizeof(hdr), JSON_HDR "%s%s%s", token ? "Authorization: Bearer " : "",
	         token ? token : "", token ? "\r\n" : "");
	ck_assert_int_eq(broker_http(&b, "POST", path, hdr, body, body ? strlen(body) : 0, &r), 0);
	status = r.status;
	if (ret)
		*ret = http_json(&r);
	http_reply_free(&r);
	return status;
}

static int get(const char *path, const char *token, json_t **ret)
{
	char hdr[256];
	struct http_reply r;
	int status;

	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", token ? token : "");
	ck_assert_int_eq(broker_http(&b, "GET", path, hdr, NULL, 0, &r), 0);
	status = r.status;
	if (ret)
		*ret = http_json(&r);
	http_reply_free(&r);
	return status;
}

static const char *error_code(json_t *j)
{
	return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

static void add_user(const char *name, const char *password, const char *group)
{
	const char *args[] = { "user", "add", name, "--password-stdin", group ? "--group" : NULL,
		               group,  NULL };
	char input[128];

	snprintf(input, sizeof(input), "%s\n", password);
	ck_assert_int_eq(broker_cli(&b, input, args), 0);
}

START_TEST(login_and_logout)
{
	const char *token;
	json_t *j;
	int st;

	start(NULL);
	token = broker_login(&b, "admin", b.admin_password, &st);
	ck_assert_int_eq(st, 200);
	ck_assert_ptr_nonnull(token);
	ck_assert_int_eq(strlen(token), 43); /* 256 bits, base64url */
	ck_assert_int_eq(get("/api/v1/me", token, &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "role")), "admin");
	json_decref(j);
	ck_assert_int_eq(post("/api/v1/logout", token, NULL, NULL), 200);
	/* Revoked: the token is dead. */
	ck_assert_int_eq(get("/api/v1/me", token, &j), 401);
	ck_assert_str_eq(error_code(j), "unauthorized");
	json_decref(j);
	ck_assert_int_eq(get("/api/v1/me", "not-a-token", NULL), 401);
	broker_cleanup(&b);
}
END_TEST

START_TEST(wrong_password_and_unknown_user_look_the_same)
{
	json_t *a, *c;

	start(NULL);
	ck_assert_int_eq(post("/api/v1/login", NULL,
	                      "{\"user\":\"admin\",\"password\":\"wrong password\"}", &a),
	                 401);
	sleep(1); /* the address is slowed down after failures */
	ck_assert_int_eq(post("/api/v1/login", NULL,
	                      "{\"user\":\"nobody\",\"password\":\"wrong password\"}", &c),
	                 401);
	ck_assert_str_eq(error_code(a), "bad_credentials");
	ck_assert(json_equal(a, c));
	json_decref(a);
	json_decref(c);
	broker_cleanup(&b);
}
END_TEST

/* Five failures lock the account; it opens again after the lockout time. */
START_TEST(lockout_and_its_expiry)
{
	static const char *const extra[] = { NULL };
	char conf[400];
	const char *args[] = { "--config", conf, NULL };
	const char *token;
	json_t *j;
	FILE *f;
	int st, failures = 0;

	snprintf(conf, sizeof(conf), "/tmp/vdi-it-broker-%d.conf", (int)getpid());
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "[auth]\nlockout_failures = 5\nlockout_duration = 4\nthrottle_base_ms = 50\n"
	           "throttle_max_ms = 100\n");
	fclose(f);
	(void)extra;
	start(args);
	add_user("carol", "carol's password", NULL);
	while (failures < 5) {
		st = post("/api/v1/login", NULL, "{\"user\":\"carol\",\"password\":\"nope nope\"}",
		          &j);
		if (st == 429) { /* slowed down: wait as told, this did not count */
			json_decref(j);
			usleep(200000);
			continue;
		}
		ck_assert_int_eq(st, 401);
		json_decref(j);
		failures++;
		usleep(200000);
	}
	/* Locked: even the right password is refused, with a clear code. */
	st = post("/api/v1/login", NULL, "{\"user\":\"carol\",\"password\":\"carol's password\"}",
	          &j);
	ck_assert_int_eq(st, 403);
	ck_assert_str_eq(error_code(j), "locked");
	json_decref(j);
	sleep(5);
	token = broker_login(&b, "carol", "carol's password", &st);
	ck_assert_msg(token != NULL, "still locked after the lockout time (status %d)", st);
	broker_cleanup(&b);
	unlink(conf);
}
END_TEST

START_TEST(bad_requests_change_nothing)
{
	char *big;
	struct http_reply r;
	const char *token;
	json_t *j;
	int st;

	start(NULL);
	token = broker_login(&b, "admin", b.admin_password, &st);
	ck_assert_ptr_nonnull(token);
	ck_assert_int_eq(post("/api/v1/login", NULL, "garbage", &j), 400);
	ck_assert_str_eq(error_code(j), "bad_request");
	json_decref(j);
	ck_assert_int_eq(post("/api/v1/login", NULL, "{\"user\":1,\"password\":\"x\"}", &j), 400);
	json_decref(j);
	ck_assert_int_eq(post("/api/v1/login", NULL,
	                      "{\"user\":\"a\",\"password\":\"b\",\"admin\":true}", &j),
	                 400);
	json_decref(j);
	/* A user with a bad name is refused and not created. */
	ck_assert_int_eq(post("/api/v1/admin/users", token,
	                      "{\"name\":\"../../etc\",\"password\":\"long enough pw\"}", &j),
	                 400);
	json_decref(j);
	ck_assert_int_eq(get("/api/v1/admin/users", token, &j), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "users")), 1);
	json_decref(j);
	/* Oversized body: 413, whatever it holds. */
	big = malloc(200000);
	memset(big, 'a', 200000);
	ck_assert_int_eq(broker_http(&b, "POST", "/api/v1/login", JSON_HDR, big, 200000, &r), 0);
	ck_assert_int_eq(r.status, 413);
	http_reply_free(&r);
	free(big);
	ck_assert_int_eq(get("/api/v1/nothing-here", token, NULL), 404);
	ck_assert_int_eq(get("/api/v1/login", NULL, NULL), 405);
	/* The server is still fine. */
	ck_assert_int_eq(get("/api/v1/me", token, NULL), 200);
	broker_cleanup(&b);
}
END_TEST

START_TEST(entitlements_and_roles)
{
	const char *token;
	json_t *j;
	int st;

	start(NULL);
	add_user("dave", "dave's password", "outsiders"); /* not in group "users" */
	token = broker_login(&b, "dave", "dave's password", &st);
	ck_assert_ptr_nonnull(token);
	ck_assert_int_eq(get("/api/v1/pools", token, &j), 200);
	ck_assert_int_eq(json_array_size(json_object_get(j, "pools")), 0);
	json_decref(j);
	/* The demo pool is for group "users": refused, and not disclosed. */
	ck_assert_int_eq(post("/api/v1/pools/demo/connect", token, "{\"protocol\":\"vnc\"}", &j),
	                 404);
	ck_assert_str_eq(error_code(j), "not_found");
	json_decref(j);
	ck_assert_int_eq(get("/api/v1/admin/users", token, &j), 403);
	ck_assert_str_eq(error_code(j), "forbidden");
	json_decref(j);

	add_user("erin", "erin's password", "users");
	token = broker_login(&b, "erin", "erin's password", &st);
	ck_assert_int_eq(get("/api/v1/pools", token, &j), 200);
	ck_assert_str_eq(json_string_value(json_object_get(
	                         json_array_get(json_object_get(j, "pools"), 0), "name")),
	                 "demo");
	json_decref(j);
	broker_cleanup(&b);
}
END_TEST

START_TEST(audit_metrics_and_restart)
{
	struct http_reply r;
	const char *token;
	char saved[128];
	json_t *j, *e;
	size_t i;
	int st, seen_login = 0, seen_failed = 0;

	start(NULL);
	post("/api/v1/login", NULL, "{\"user\":\"admin\",\"password\":\"not it at all\"}", NULL);
	sleep(1);
	token = broker_login(&b, "admin", b.admin_password, &st);
	ck_assert_ptr_nonnull(token);
	snprintf(saved, sizeof(saved), "%s", token);
	ck_assert_int_eq(get("/api/v1/admin/audit", saved, &j), 200);
	json_array_foreach (json_object_get(j, "events"), i, e) {
		const char *ev = json_string_value(json_object_get(e, "event"));
		const char *res =
		        json_string_value(json_object_get(json_object_get(e, "detail"), "result"));

		if (ev && strcmp(ev, "login") == 0 && res && strcmp(res, "ok") == 0)
			seen_login++;
		if (ev && strcmp(ev, "login") == 0 && res && strcmp(res, "ok") != 0)
			seen_failed++;
	}
	json_decref(j);
	ck_assert_int_ge(seen_login, 1);
	ck_assert_int_ge(seen_failed, 1);

	ck_assert_int_eq(broker_http(&b, "GET", "/metrics", NULL, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	ck_assert_ptr_nonnull(strstr(r.body, "vdi_logins_total{result=\"ok\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "vdi_sessions 1\n"));
	ck_assert_ptr_nonnull(strstr(r.body, "vdi_allocation_seconds_bucket{le=\"+Inf\"}"));
	http_reply_free(&r);

	/* A restart keeps the database: the session still works. */
	ck_assert_int_eq(broker_stop(&b), 0);
	ck_assert_int_eq(broker_restart(&b, NULL), 0);
	ck_assert_int_eq(get("/api/v1/me", saved, NULL), 200);
	broker_cleanup(&b);
}
END_TEST

/* TOTP (RFC 6238) from the authenticator's side: the code for @secret now. */
static void totp_code(const char *secret, char code[7])
{
	uint8_t key[64];
	size_t n = 0;
	uint32_t v;

	ck_assert_int_eq(broker_base32_decode(secret, key, sizeof(key), &n), 0);
	ck_assert_int_eq(broker_hotp(key, n, (uint64_t)broker_totp_step(time(NULL)), 6, &v), 0);
	snprintf(code, 7, "%06u", v);
}

START_TEST(totp_second_factor)
{
	const char *args[] = { "user", "totp", "gina", NULL };
	char out[2048], secret[80], code[7], body[200];
	const char *p;
	json_t *j;
	int st;

	start(NULL);
	add_user("gina", "gina's password", "users");
	ck_assert_int_eq(broker_cli_capture(&b, NULL, args, out, sizeof(out)), 0);
	p = strstr(out, "otpauth://totp/");
	ck_assert_msg(p != NULL, "no otpauth URI in: %s", out);
	p = strstr(p, "secret=");
	ck_assert_ptr_nonnull(p);
	sscanf(p + 7, "%79[A-Z2-7]", secret);

	/* The password alone is not enough now. */
	ck_assert_int_eq(post("/api/v1/login", NULL,
	                      "{\"user\":\"gina\",\"password\":\"gina's password\"}", &j),
	                 401);
	ck_assert_str_eq(error_code(j), "totp_required");
	json_decref(j);
	/* A wrong code is refused. */
	ck_assert_int_eq(post("/api/v1/login", NULL,
	                      "{\"user\":\"gina\",\"password\":\"gina's password\","
	                      "\"totp\":\"000000x\"}",
	                      &j),
	                 401);
	json_decref(j);
	sleep(1);
	totp_code(secret, code);
	snprintf(body, sizeof(body),
	         "{\"user\":\"gina\",\"password\":\"gina's password\",\"totp\":\"%s\"}", code);
	st = post("/api/v1/login", NULL, body, &j);
	ck_assert_msg(st == 200, "login with the right code: %d", st);
	json_decref(j);
	/* The same code a second time is refused (replay). */
	sleep(1);
	ck_assert_int_eq(post("/api/v1/login", NULL, body, &j), 401);
	json_decref(j);
	broker_cleanup(&b);
}
END_TEST

struct worker {
	int ok, failed;
};

static void *login_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 10; i++) {
		int st;
		const char *t = broker_login(&b, "frank", "frank's password", &st);
		char hdr[128];
		struct http_reply r;

		if (!t) {
			w->failed++;
			continue;
		}
		snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", t);
		if (broker_http(&b, "GET", "/api/v1/pools", hdr, NULL, 0, &r) == 0 &&
		    r.status == 200)
			w->ok++;
		else
			w->failed++;
		http_reply_free(&r);
	}
	return NULL;
}

/* 100 logins from 10 clients at once: every one answered, none lost. */
START_TEST(parallel_logins)
{
	pthread_t th[10];
	struct worker w[10];
	int ok = 0, failed = 0;

	start(NULL);
	add_user("frank", "frank's password", "users");
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 10; i++)
		pthread_create(&th[i], NULL, login_worker, &w[i]);
	for (int i = 0; i < 10; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
		failed += w[i].failed;
	}
	ck_assert_int_eq(failed, 0);
	ck_assert_int_eq(ok, 100);
	broker_cleanup(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("broker_api");
	TCase *tc = tcase_create("api");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, login_and_logout);
	tcase_add_test(tc, wrong_password_and_unknown_user_look_the_same);
	tcase_add_test(tc, lockout_and_its_expiry);
	tcase_add_test(tc, bad_requests_change_nothing);
	tcase_add_test(tc, entitlements_and_roles);
	tcase_add_test(tc, audit_metrics_and_restart);
	tcase_add_test(tc, parallel_logins);
	tcase_add_test(tc, totp_second_factor);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
