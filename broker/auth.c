// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "broker/auth_pam.h"
#include "broker/totp.h"
#include "proto/b64url.h"
#include "proto/log.h"

#define ARGON2ID_PREFIX "$argon2id$"
#define MARKER_NONE "!"
#define MARKER_PAM "!pam"

struct broker_auth {
	struct broker_store *store;
	struct broker_auth_params p;
	char pam_service[BROKER_NAME_MAX + 1];
	char default_group[BROKER_NAME_MAX + 1];
	char totp_issuer[BROKER_NAME_MAX + 1];
	struct broker_throttle *throttle;
	bool own_throttle;
	broker_external_fn external;
	void *external_ctx;
	/* What an unknown user's password is checked against. */
	char dummy_hash[BROKER_HASH_MAX + 1];
	/* "$argon2id$v=19$m=M,t=T,p=P$": hashes without it get redone on login. */
	char params_prefix[80];
	struct broker_auth_stats stats;
};

void broker_auth_params_defaults(struct broker_auth_params *p)
{
	memset(p, 0, sizeof(*p));
	p->lockout_failures = 5;
	p->lockout_seconds = 300;
	p->idle_timeout = 30 * 60;
	p->absolute_timeout = 12 * 60 * 60;
	p->argon2_t = 2;
	p->argon2_m = 19456;
	p->argon2_p = 1;
	p->throttle_base_ms = 250;
	p->throttle_max_ms = 30000;
	p->default_group = "users";
	p->totp_issuer = "vdi";
}

const char *broker_login_status_name(enum broker_login_status st)
{
	switch (st) {
	case BROKER_LOGIN_OK:
		return "ok";
	case BROKER_LOGIN_BAD_CREDENTIALS:
		return "bad_credentials";
	case BROKER_LOGIN_LOCKED:
		return "locked";
	case BROKER_LOGIN_TOTP_REQUIRED:
		return "totp_required";
	case BROKER_LOGIN_TOTP_BAD:
		return "totp_bad";
	case BROKER_LOGIN_THROTTLED:
		return "throttled";
	}
	return "?";
}

static int64_t real_clock(void *ctx)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t broker_auth_now_ms(struct broker_auth *a)
{
	return a->p.clock(a->p.clock_ctx);
}

int64_t broker_auth_now(struct broker_auth *a)
{
	int64_t ms = broker_auth_now_ms(a);

	return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
}

static int copy_name(char *dst, size_t size, const char *src)
{
	if (!src || !*src) {
		dst[0] = '\0';
		return 0;
	}
	if (!broker_name_valid(src) || strlen(src) >= size)
		return -EINVAL;
	strcpy(dst, src);
	return 0;
}

int broker_auth_hash_password(struct broker_auth *a, const char *password, char *out,
                              size_t out_size)
{
	uint8_t salt[BROKER_ARGON2_SALT_LEN];
	size_t len;
	int rc;

	if (!password || (len = strnlen(password, BROKER_PASSWORD_MAX + 1)) > BROKER_PASSWORD_MAX)
		return -EINVAL;
	if (out_size < argon2_encodedlen(a->p.argon2_t, a->p.argon2_m, a->p.argon2_p, sizeof(salt),
	                                 BROKER_ARGON2_HASH_LEN, Argon2_id))
		return -ENOSPC;
	if (RAND_bytes(salt, sizeof(salt)) != 1)
		return -EIO;
	rc = argon2id_hash_encoded(a->p.argon2_t, a->p.argon2_m, a->p.argon2_p, password, len, salt,
	                           sizeof(salt), BROKER_ARGON2_HASH_LEN, out, out_size);
	if (rc != ARGON2_OK) {
		log_debug("auth: argon2 hashing failed: %s", argon2_error_message(rc));
		return rc == ARGON2_MEMORY_ALLOCATION_ERROR ? -ENOMEM : -EIO;
	}
	return 0;
}

int broker_auth_verify_password(struct broker_auth *a, const char *encoded, const char *password)
{
	size_t len;
	int rc;

	if (!encoded || strncmp(encoded, ARGON2ID_PREFIX, strlen(ARGON2ID_PREFIX)) != 0)
		return -EINVAL;
	a->stats.hash_verifies++;
	if (!password || (len = strnlen(password, BROKER_PASSWORD_MAX + 1)) > BROKER_PASSWORD_MAX) {
		/* Too long to be anyone's: spend the same time, then refuse. */
		argon2id_verify(a->dummy_hash, "", 0);
		return -EACCES;
	}
	/* argon2_verify recomputes the hash and compares it in constant time. */
	rc = argon2id_verify(encoded, password, len);
	if (rc == ARGON2_OK)
		return 0;
	if (rc == ARGON2_VERIFY_MISMATCH)
		return -EACCES;
	log_debug("auth: argon2 verification failed: %s", argon2_error_message(rc));
	return -EINVAL;
}

int broker_auth_password_policy(const char *password, char *why, size_t why_size)
{
	size_t n;

	if (!password) {
		snprintf(why, why_size, "no password");
		return -EINVAL;
	}
	n = strnlen(password, BROKER_PASSWORD_MAX + 1);
	if (n < BROKER_PASSWORD_MIN || n > BROKER_PASSWORD_MAX) {
		snprintf(why, why_size, "a password must be %d to %d characters long",
		         BROKER_PASSWORD_MIN, BROKER_PASSWORD_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if ((unsigned char)password[i] < 0x20 || password[i] == 0x7f) {
			snprintf(why, why_size, "a password may not contain control characters");
			return -EINVAL;
		}
	}
	return 0;
}

int broker_auth_new(struct broker_store *store, const struct broker_auth_params *p,
                    struct broker_auth **ret)
{
	struct broker_auth *a;
	uint8_t junk[32];
	char pw[65];
	int r;

	if (!store || p->lockout_failures < 1 || p->argon2_t < 1 ||
	    p->argon2_t > BROKER_ARGON2_T_MAX || p->argon2_p < 1 ||
	    p->argon2_p > BROKER_ARGON2_P_MAX || p->argon2_m < BROKER_ARGON2_M_MIN ||
	    p->argon2_m > BROKER_ARGON2_M_MAX || p->argon2_m < 8 * p->argon2_p ||
	    p->idle_timeout < 1 || p->absolute_timeout < 1)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->store = store;
	a->p = *p;
	if (!a->p.clock)
		a->p.clock = real_clock;
	r = copy_name(a->default_group, sizeof(a->default_group), p->default_group);
	if (r < 0)
		goto out_free;
	/* Service names are file names in /etc/pam.d: the same alphabet as ours. */
	r = copy_name(a->pam_service, sizeof(a->pam_service), p->pam_service);
	if (r < 0)
		goto out_free;
	if (p->totp_issuer && strlen(p->totp_issuer) < sizeof(a->totp_issuer))
		strcpy(a->totp_issuer, p->totp_issuer);
	else
		strcpy(a->totp_issuer, "vdi");
	a->p.pam_service = a->pam_service;
	a->p.default_group = a->default_group;
	a->p.totp_issuer = a->totp_issuer;
	if (a->pam_service[0]) {
		a->external = broker_pam_check;
		a->external_ctx = a->pam_service;
	}
	if (p->throttle) {
		a->throttle = p->throttle;
	} else {
		r = broker_throttle_new(p->throttle_base_ms, p->throttle_max_ms, 0, &a->throttle);
		if (r < 0)
			goto out_free;
		a->own_throttle = true;
	}
	snprintf(a->params_prefix, sizeof(a->params_prefix), ARGON2ID_PREFIX "v=%d$m=%u,t=%u,p=%u$",
	         ARGON2_VERSION_NUMBER, p->argon2_m, p->argon2_t, p->argon2_p);
	if (RAND_bytes(junk, sizeof(junk)) != 1) {
		r = -EIO;
		goto out_free;
	}
	proto_b64url_encode(junk, sizeof(junk), pw, sizeof(pw));
	r = broker_auth_hash_password(a, pw, a->dummy_hash, sizeof(a->dummy_hash));
	OPENSSL_cleanse(pw, sizeof(pw));
	if (r < 0)
		goto out_free;
	*ret = a;
	return 0;

out_free:
	broker_auth_free(a);
	return r;
}

void broker_auth_free(struct broker_auth *a)
{
	if (!a)
		return;
	if (a->own_throttle)
		broker_throttle_free(a->throttle);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

void broker_auth_set_external(struct broker_auth *a, broker_external_fn fn, void *ctx)
{
	a->external = fn;
	a->external_ctx = ctx;
}

void broker_auth_get_stats(struct broker_auth *a, struct broker_auth_stats *ret)
{
	*ret = a->stats;
}

int64_t broker_auth_source_delay_ms(struct broker_auth *a, const char *source)
{
	return broker_throttle_delay_ms(a->throttle, source, broker_auth_now_ms(a));
}

/* A client address as stored: at most BROKER_SOURCE_MAX bytes, control characters replaced. */
static void clean_source(char dst[BROKER_SOURCE_MAX + 1], const char *src)
{
	size_t n = src ? strnlen(src, BROKER_SOURCE_MAX) : 0;

	for (size_t i = 0; i < n; i++)
		dst[i] = ((unsigned char)src[i] < 0x20 || src[i] == 0x7f) ? '?' : src[i];
	dst[n] = '\0';
}

void broker_auth_audit(struct broker_auth *a, const char *event, const char *user,
                       const char *source, const char *vm, const char *detail_json)
{
	struct broker_audit rec = { .time = broker_auth_now(a) };
	int r;

	snprintf(rec.event, sizeof(rec.event), "%s", event);
	if (user && broker_name_valid(user))
		strcpy(rec.user, user);
	clean_source(rec.source, source);
	if (vm && broker_name_valid(vm))
		strcpy(rec.vm, vm);
	if (detail_json)
		snprintf(rec.detail, sizeof(rec.detail), "%s", detail_json);
	r = broker_store_audit_add(a->store, &rec);
	if (r < 0)
		log_warn("audit: cannot record %s user=%s: %s", rec.event, rec.user, strerror(-r));
}

static void audit_login(struct broker_auth *a, const char *user, const char *source,
                        enum broker_login_status st, const char *extra)
{
	char detail[160];

	snprintf(detail, sizeof(detail), "{\"result\":\"%s\"%s%s}", broker_login_status_name(st),
	         extra ? "," : "", extra ? extra : "");
	broker_auth_audit(a, "login", user, source, NULL, detail);
}

/* The user as handed back to callers: no secrets. */
static void public_user(struct broker_user *dst, const struct broker_user *src)
{
	*dst = *src;
	memset(dst->password_hash, 0, sizeof(dst->password_hash));
	memset(dst->totp_secret, 0, sizeof(dst->totp_secret));
	if (src->totp_secret[0])
		strcpy(dst->totp_secret, "*");
}

static bool is_argon2id(const char *hash)
{
	return strncmp(hash, ARGON2ID_PREFIX, strlen(ARGON2ID_PREFIX)) == 0;
}

/* Count a failure against @u (NULL: unknown user) and @source. */
static int login_failed(struct broker_auth *a, struct broker_user *u, const char *source,
                        enum broker_login_status st, int64_t now, int64_t now_ms)
{
	struct broker_user after;
	int r;

	a->stats.logins_failed++;
	broker_throttle_failure(a->throttle, source, now_ms);
	if (!u) {
		audit_login(a, NULL, source, st, "\"unknown_user\":true");
		return (int)st;
	}
	r = broker_store_user_login_failed(a->store, u->id, now, (int)a->p.lockout_failures,
	                                   a->p.lockout_seconds, &after);
	audit_login(a, u->name, source, st, NULL);
	if (r < 0)
		return r;
	if (after.locked_until > now && after.locked_until != u->locked_until) {
		char detail[96];

		snprintf(detail, sizeof(detail), "{\"until\":%lld,\"failures\":%u}",
		         (long long)after.locked_until, a->p.lockout_failures);
		broker_auth_audit(a, "user.locked", u->name, source, NULL, detail);
		log_info("auth: user=%s locked for %u s after %u failed logins", u->name,
		         a->p.lockout_seconds, a->p.lockout_failures);
	}
	return (int)st;
}

/* A first good PAM login: make the local user. */
static int add_external_user(struct broker_auth *a, const char *name, const char *source,
                             struct broker_user *ret)
{
	struct broker_user u = { .role = BROKER_ROLE_USER, .created = broker_auth_now(a) };
	bool own_tx;
	int r;

	strcpy(u.name, name);
	strcpy(u.password_hash, MARKER_PAM);
	r = broker_store_begin(a->store);
	if (r < 0 && r != -EALREADY)
		return r;
	own_tx = r == 0;
	r = broker_store_user_add(a->store, &u);
	if (r == 0 && a->default_group[0])
		r = broker_store_user_group_add(a->store, u.id, a->default_group);
	if (own_tx)
		r = r == 0 ? broker_store_commit(a->store) : (broker_store_rollback(a->store), r);
	if (r < 0)
		return r;
	broker_auth_audit(a, "user.add", name, source, NULL, "{\"via\":\"pam\",\"role\":\"user\"}");
	*ret = u;
	return 0;
}

static int new_session(struct broker_auth *a, const struct broker_user *u, const char *source,
                       int64_t now, struct broker_login *ret)
{
	uint8_t raw[BROKER_TOKEN_BYTES];
	struct broker_session s = {
		.user_id = u->id,
		.created = now,
		.last_seen = now,
		.expires = now + a->p.absolute_timeout,
	};
	int r;

	clean_source(s.source, source);
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -EIO;
	SHA256(raw, sizeof(raw), s.token_hash);
	r = proto_b64url_encode(raw, sizeof(raw), ret->token, sizeof(ret->token));
	OPENSSL_cleanse(raw, sizeof(raw));
	if (r < 0)
		return r;
	r = broker_store_session_add(a->store, &s);
	if (r < 0) {
		OPENSSL_cleanse(ret->token, sizeof(ret->token));
		return r;
	}
	ret->session = s;
	return 0;
}

int broker_auth_login(struct broker_auth *a, const char *name, const char *password,
                      const char *totp_code, const char *source, struct broker_login *ret)
{
	int64_t now_ms = broker_auth_now_ms(a), now = broker_auth_now(a), delay;
	struct broker_user u;
	bool found = false, good = false;
	int r;

	memset(ret, 0, sizeof(*ret));
	delay = broker_throttle_delay_ms(a->throttle, source, now_ms);
	if (delay > 0) {
		a->stats.logins_failed++;
		ret->retry_after_ms = delay;
		log_debug("auth: source=%s throttled for %lld ms", source ? source : "",
		          (long long)delay);
		return BROKER_LOGIN_THROTTLED;
	}
	if (broker_name_valid(name)) {
		r = broker_store_user_get_by_name(a->store, name, &u);
		if (r < 0 && r != -ENOENT)
			return r;
		found = r == 0;
	}

	if (found && u.locked_until > now) {
		/* Same work as a password check, and no hint whether it was right. */
		broker_auth_verify_password(a, a->dummy_hash, "");
		public_user(&ret->user, &u);
		ret->retry_after_ms = u.locked_until * 1000 - now_ms;
		a->stats.logins_failed++;
		broker_throttle_failure(a->throttle, source, now_ms);
		audit_login(a, u.name, source, BROKER_LOGIN_LOCKED, NULL);
		return BROKER_LOGIN_LOCKED;
	}

	if (found && is_argon2id(u.password_hash)) {
		good = broker_auth_verify_password(a, u.password_hash, password) == 0;
	} else if (a->external && broker_name_valid(name) && password &&
	           strnlen(password, BROKER_PASSWORD_MAX + 1) <= BROKER_PASSWORD_MAX &&
	           (!found || strcmp(u.password_hash, MARKER_PAM) == 0)) {
		a->stats.external_checks++;
		good = a->external(a->external_ctx, name, password) == 0;
		if (good && !found) {
			r = add_external_user(a, name, source, &u);
			if (r < 0)
				return r;
			found = true;
		}
	} else {
		/* Unknown name, or an account without a password: the same work, then no. */
		broker_auth_verify_password(a, a->dummy_hash, password ? password : "");
	}
	if (!good)
		return login_failed(a, found ? &u : NULL, source, BROKER_LOGIN_BAD_CREDENTIALS, now,
		                    now_ms);

	if (u.totp_secret[0]) {
		int64_t step = 0;

		if (!totp_code || !*totp_code) {
			public_user(&ret->user, &u);
			audit_login(a, u.name, source, BROKER_LOGIN_TOTP_REQUIRED, NULL);
			return BROKER_LOGIN_TOTP_REQUIRED;
		}
		r = broker_totp_verify(u.totp_secret, totp_code, now, u.totp_last_step, &step);
		if (r == 0) {
			r = broker_store_user_use_totp_step(a->store, u.id, step);
			if (r < 0 && r != -EALREADY)
				return r;
		}
		if (r < 0) {
			public_user(&ret->user, &u);
			return login_failed(a, &u, source, BROKER_LOGIN_TOTP_BAD, now, now_ms);
		}
	}

	if (u.failed_count || u.locked_until) {
		r = broker_store_user_login_ok(a->store, u.id);
		if (r < 0)
			return r;
		u.failed_count = 0;
		u.locked_until = 0;
	}
	/* Parameters changed since this hash was made: make a new one now we have the password. */
	if (is_argon2id(u.password_hash) &&
	    strncmp(u.password_hash, a->params_prefix, strlen(a->params_prefix)) != 0) {
		char hash[BROKER_HASH_MAX + 1];

		if (broker_auth_hash_password(a, password, hash, sizeof(hash)) == 0 &&
		    broker_store_user_set_password(a->store, u.id, hash) == 0)
			log_info("auth: user=%s password rehashed with new parameters", u.name);
	}
	r = new_session(a, &u, source, now, ret);
	if (r < 0)
		return r;
	public_user(&ret->user, &u);
	broker_throttle_success(a->throttle, source);
	a->stats.logins_ok++;
	{
		char extra[48];

		snprintf(extra, sizeof(extra), "\"session\":%lld", (long long)ret->session.id);
		audit_login(a, u.name, source, BROKER_LOGIN_OK, extra);
	}
	return BROKER_LOGIN_OK;
}

/* The session of @token, looked up by its hash; -EKEYREJECTED when there is none. */
static int find_session(struct broker_auth *a, const char *token, struct broker_session *ret)
{
	uint8_t raw[BROKER_TOKEN_BYTES + 1], hash[BROKER_TOKEN_HASH_LEN];
	size_t len = 0;
	int r;

	if (!token || strnlen(token, BROKER_TOKEN_TEXT_LEN + 1) != BROKER_TOKEN_TEXT_LEN ||
	    proto_b64url_decode(token, BROKER_TOKEN_TEXT_LEN, raw, sizeof(raw), &len) < 0 ||
	    len != BROKER_TOKEN_BYTES)
		return -EKEYREJECTED;
	SHA256(raw, BROKER_TOKEN_BYTES, hash);
	OPENSSL_cleanse(raw, sizeof(raw));
	/*
	 * The lookup by hash may take time that depends on the hash, which
	 * tells an attacker nothing about any token: finding a token for a
	 * given hash prefix is a SHA-256 preimage.
	 */
	r = broker_store_session_get_by_hash(a->store, hash, ret);
	if (r == -ENOENT)
		return -EKEYREJECTED;
	return r;
}

bool broker_auth_session_live(struct broker_auth *a, const struct broker_session *s)
{
	int64_t now = broker_auth_now(a);

	return !s->revoked && now < s->expires && now < s->last_seen + a->p.idle_timeout;
}

int broker_auth_session_check(struct broker_auth *a, const char *token,
                              struct broker_session *ret_session, struct broker_user *ret_user)
{
	struct broker_session s;
	struct broker_user u;
	int64_t now = broker_auth_now(a);
	int r;

	r = find_session(a, token, &s);
	if (r < 0)
		return r;
	if (s.revoked)
		return -EKEYREJECTED;
	if (!broker_auth_session_live(a, &s))
		return -EKEYEXPIRED;
	r = broker_store_user_get(a->store, s.user_id, &u);
	if (r == -ENOENT)
		return -EKEYREJECTED;
	if (r < 0)
		return r;
	if (now - s.last_seen >= BROKER_SESSION_TOUCH_S) {
		r = broker_store_session_touch(a->store, s.id, now);
		if (r < 0)
			return r;
		s.last_seen = now;
	}
	if (ret_session)
		*ret_session = s;
	if (ret_user)
		public_user(ret_user, &u);
	return 0;
}

int broker_auth_logout(struct broker_auth *a, const char *token, const char *source)
{
	struct broker_session s;
	struct broker_user u;
	char detail[48];
	int r;

	r = find_session(a, token, &s);
	if (r < 0)
		return r;
	if (s.revoked)
		return -EKEYREJECTED;
	r = broker_store_session_revoke(a->store, s.id);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "{\"session\":%lld}", (long long)s.id);
	broker_auth_audit(a, "logout",
	                  broker_store_user_get(a->store, s.user_id, &u) == 0 ? u.name : NULL,
	                  source, NULL, detail);
	return 0;
}

int broker_auth_user_add(struct broker_auth *a, const char *name, const char *password,
                         enum broker_role role, const char *const *groups, size_t n_groups,
                         struct broker_user *ret)
{
	struct broker_user u = { .role = role, .created = broker_auth_now(a) };
	bool own_tx;
	int r;

	if (!broker_name_valid(name) || (role != BROKER_ROLE_USER && role != BROKER_ROLE_ADMIN))
		return -EINVAL;
	for (size_t i = 0; i < n_groups; i++)
		if (!broker_name_valid(groups[i]))
			return -EINVAL;
	strcpy(u.name, name);
	if (password) {
		char why[128];

		if (broker_auth_password_policy(password, why, sizeof(why)) < 0)
			return -EINVAL;
		/* Hash before taking the write lock: it is the slow part. */
		r = broker_auth_hash_password(a, password, u.password_hash,
		                              sizeof(u.password_hash));
		if (r < 0)
			return r;
	} else {
		strcpy(u.password_hash, MARKER_NONE);
	}
	r = broker_store_begin(a->store);
	if (r < 0 && r != -EALREADY)
		return r;
	own_tx = r == 0;
	r = broker_store_user_add(a->store, &u);
	for (size_t i = 0; r == 0 && i < n_groups; i++)
		r = broker_store_user_group_add(a->store, u.id, groups[i]);
	if (r == 0 && n_groups == 0 && a->default_group[0])
		r = broker_store_user_group_add(a->store, u.id, a->default_group);
	if (own_tx)
		r = r == 0 ? broker_store_commit(a->store) : (broker_store_rollback(a->store), r);
	if (r < 0)
		return r;
	if (ret)
		public_user(ret, &u);
	return 0;
}

int broker_auth_set_password(struct broker_auth *a, int64_t user_id, const char *password)
{
	char hash[BROKER_HASH_MAX + 1], why[128];
	bool own_tx;
	int r;

	if (broker_auth_password_policy(password, why, sizeof(why)) < 0)
		return -EINVAL;
	r = broker_auth_hash_password(a, password, hash, sizeof(hash));
	if (r < 0)
		return r;
	r = broker_store_begin(a->store);
	if (r < 0 && r != -EALREADY)
		return r;
	own_tx = r == 0;
	r = broker_store_user_set_password(a->store, user_id, hash);
	if (r == 0)
		r = broker_store_user_login_ok(a->store, user_id);
	if (r == 0)
		r = broker_store_session_revoke_user(a->store, user_id);
	if (own_tx)
		r = r == 0 ? broker_store_commit(a->store) : (broker_store_rollback(a->store), r);
	OPENSSL_cleanse(hash, sizeof(hash));
	return r;
}

int broker_auth_totp_new(struct broker_auth *a, const char *name, char *secret, size_t secret_size,
                         char *uri, size_t uri_size)
{
	int r;

	if (!broker_name_valid(name))
		return -EINVAL;
	r = broker_totp_new_secret(secret, secret_size);
	if (r < 0)
		return r;
	return broker_totp_uri(a->totp_issuer, name, secret, uri, uri_size);
}

int broker_auth_totp_enrol(struct broker_auth *a, int64_t user_id, const char *secret)
{
	return broker_store_user_set_totp(a->store, user_id, secret);
}

int broker_auth_totp_confirm(struct broker_auth *a, int64_t user_id, const char *secret,
                             const char *code)
{
	int64_t step = 0;
	bool own_tx;
	int r;

	r = broker_totp_verify(secret, code, broker_auth_now(a), 0, &step);
	if (r == -EALREADY)
		r = -EACCES;
	if (r < 0)
		return r;
	r = broker_store_begin(a->store);
	if (r < 0 && r != -EALREADY)
		return r;
	own_tx = r == 0;
	r = broker_store_user_set_totp(a->store, user_id, secret);
	/* The code that proved enrolment may not also log in. */
	if (r == 0)
		r = broker_store_user_use_totp_step(a->store, user_id, step);
	if (own_tx)
		r = r == 0 ? broker_store_commit(a->store) : (broker_store_rollback(a->store), r);
	return r;
}
