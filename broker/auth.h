/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may log in, and proof that they did.
 *
 * Passwords are hashed with argon2id (libargon2) into the PHC string
 * format, "$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>", with a 16-byte
 * random salt and a 32-byte hash. The cost parameters come from
 * struct broker_auth_params (defaults: 19 MiB, 2 passes, 1 lane, OWASP's
 * recommended minimum, about 30 ms on the build machines); each hash
 * carries its own, so changing them later only affects new hashes, and a
 * good login with outdated parameters rehashes the password. Verification
 * compares the hashes in constant time (argon2_verify).
 *
 * Login (broker_auth_login) answers OK, BAD_CREDENTIALS, LOCKED,
 * TOTP_REQUIRED, TOTP_BAD or THROTTLED:
 *  - an unknown user and a wrong password both give BAD_CREDENTIALS after
 *    the same work: an unknown name is checked against a dummy hash made
 *    with the same parameters;
 *  - lockout_failures failures in a row (wrong password or wrong TOTP code)
 *    lock the account for lockout_seconds: LOCKED, whatever the password;
 *  - an account enrolled in TOTP needs a code (RFC 6238, 30 s, 6 digits,
 *    one step of skew either way, each step good once): without one the
 *    answer is TOTP_REQUIRED, which is not a failure but does not clear the
 *    count either; a wrong or reused code is TOTP_BAD and a failure;
 *  - a client address that keeps failing is slowed down
 *    (broker/throttle.h): while it must wait, login answers THROTTLED at
 *    once, and broker_auth_source_delay_ms() tells the HTTP layer how long
 *    (for a 429 with Retry-After).
 *
 * Sessions: a good login creates a session and a token of 256 random bits
 * (OpenSSL RAND_bytes), which the client gets as 43 characters of base64url
 * and presents on every request; the store keeps only its SHA-256, so a
 * copy of the database does not let anyone in. A session ends
 * idle_timeout after its last use, absolute_timeout after the login, or at
 * logout (revoked).
 *
 * PAM: with pam_service set, a user without a local password (and a name
 * the broker does not know yet) is checked by PAM; the first good PAM
 * login creates a local user with role "user" in the default group, whose
 * password_hash is the marker "!pam". Lockout and TOTP apply the same.
 *
 * Every login, lock and logout is written to the audit log.
 *
 * One struct broker_auth is used by one thread at a time (it uses one
 * store handle). Threads that log people in concurrently make one each,
 * over their own store handles, sharing one struct broker_throttle.
 */
#ifndef VDI_BROKER_AUTH_H
#define VDI_BROKER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/store.h"
#include "broker/throttle.h"

#define BROKER_PASSWORD_MIN 8    /* for passwords an admin sets */
#define BROKER_PASSWORD_MAX 1024 /* bytes; longer ones never match */
#define BROKER_TOKEN_BYTES 32    /* 256 bits */
#define BROKER_TOKEN_TEXT_LEN 43 /* base64url of 32 bytes, unpadded */
#define BROKER_ARGON2_SALT_LEN 16
#define BROKER_ARGON2_HASH_LEN 32
#define BROKER_ARGON2_M_MIN 64 /* KiB; the bounds of [auth] argon2_memory */
#define BROKER_ARGON2_M_MAX (4u << 20)
#define BROKER_ARGON2_T_MAX 100
#define BROKER_ARGON2_P_MAX 16
/* A session is touched at most this often (seconds): idle expiry is this precise. */
#define BROKER_SESSION_TOUCH_S 1

/* The current time in milliseconds since the epoch; tests inject their own. */
typedef int64_t (*broker_clock_fn)(void *ctx);

/* Checks a password outside the broker (PAM): 0 good, -EACCES bad, other -errno. */
typedef int (*broker_external_fn)(void *ctx, const char *user, const char *password);

struct broker_auth_params {
	unsigned int lockout_failures; /* >= 1 */
	unsigned int lockout_seconds;
	unsigned int idle_timeout;     /* seconds */
	unsigned int absolute_timeout; /* seconds */
	uint32_t argon2_t;             /* passes */
	uint32_t argon2_m;             /* KiB */
	uint32_t argon2_p;             /* lanes and threads */
	unsigned int throttle_base_ms; /* used when throttle is NULL */
	unsigned int throttle_max_ms;
	struct broker_throttle *throttle; /* shared table, or NULL for one of its own */
	const char *pam_service;          /* NULL or "": no PAM */
	const char *default_group;        /* new users join it; NULL or "": none */
	const char *totp_issuer;          /* shown in authenticator apps */
	broker_clock_fn clock;            /* NULL: the real-time clock */
	void *clock_ctx;
};

/* The defaults of the configuration file (docs/broker.md). */
void broker_auth_params_defaults(struct broker_auth_params *p);

enum broker_login_status {
	BROKER_LOGIN_OK = 0,
	BROKER_LOGIN_BAD_CREDENTIALS = 1,
	BROKER_LOGIN_LOCKED = 2,
	BROKER_LOGIN_TOTP_REQUIRED = 3,
	BROKER_LOGIN_TOTP_BAD = 4,
	BROKER_LOGIN_THROTTLED = 5,
};

/* "ok", "bad_credentials", "locked", "totp_required", "totp_bad", "throttled". */
const char *broker_login_status_name(enum broker_login_status st);

struct broker_login {
	struct broker_user user;       /* OK, LOCKED, TOTP_*: who (hash and secret cleared) */
	struct broker_session session; /* OK */
	char token[BROKER_TOKEN_TEXT_LEN + 1]; /* OK: for the client; not kept anywhere */
	int64_t retry_after_ms;                /* LOCKED, THROTTLED: how long to wait */
};

struct broker_auth_stats {
	uint64_t hash_verifies; /* argon2 verifications, dummy ones included */
	uint64_t logins_ok;
	uint64_t logins_failed; /* every answer but OK and TOTP_REQUIRED */
	uint64_t external_checks;
};

struct broker_auth;

/*
 * Create the login service over @store (not owned; must outlive it), with
 * a copy of @p (strings copied). Computes the dummy hash, so this takes
 * one hash time. Returns 0, -EINVAL for parameters out of range, -ENOMEM or
 * -EIO.
 */
int broker_auth_new(struct broker_store *store, const struct broker_auth_params *p,
                    struct broker_auth **ret);

/* NULL is a no-op. */
void broker_auth_free(struct broker_auth *a);

/* Now, in unix seconds and milliseconds, by the auth's clock. */
int64_t broker_auth_now(struct broker_auth *a);
int64_t broker_auth_now_ms(struct broker_auth *a);

/*
 * Replace the external password check (PAM by default when pam_service is
 * set); NULL turns it off. For tests and other backends.
 */
void broker_auth_set_external(struct broker_auth *a, broker_external_fn fn, void *ctx);

/*
 * Hash @password (at most BROKER_PASSWORD_MAX bytes) into @out as an argon2id
 * encoded string (BROKER_HASH_MAX + 1 bytes suffice). 0, -EINVAL, -ENOSPC or -EIO.
 */
int broker_auth_hash_password(struct broker_auth *a, const char *password, char *out,
                              size_t out_size);

/* Check @password against @encoded: 0 match, -EACCES mismatch, -EINVAL for a bad hash. */
int broker_auth_verify_password(struct broker_auth *a, const char *encoded, const char *password);

/*
 * Whether @password is acceptable for an admin to set: BROKER_PASSWORD_MIN
 * to BROKER_PASSWORD_MAX bytes, no control characters. 0 or -EINVAL with
 * the reason in @why.
 */
int broker_auth_password_policy(const char *password, char *why, size_t why_size);

/*
 * Log @name in with @password and, if enrolled, @totp_code (NULL or "" when
 * none was given), from client address @source (kept at most
 * BROKER_SOURCE_MAX bytes). Returns a status >= 0 and fills *@ret as
 * described at struct broker_login, or -errno when the store fails.
 */
int broker_auth_login(struct broker_auth *a, const char *name, const char *password,
                      const char *totp_code, const char *source, struct broker_login *ret);

/*
 * The session of bearer token @token: 0 with the session and its user
 * (either out-parameter may be NULL), after noting the use;
 * -EKEYREJECTED for a malformed, unknown or revoked token or a deleted user;
 * -EKEYEXPIRED when it timed out (idle or absolute); other -errno from the
 * store.
 */
int broker_auth_session_check(struct broker_auth *a, const char *token,
                              struct broker_session *ret_session, struct broker_user *ret_user);

/* Whether session @s is usable at the auth's now (not revoked, not expired). */
bool broker_auth_session_live(struct broker_auth *a, const struct broker_session *s);

/* Revoke the session of @token: 0, or -EKEYREJECTED when there is none. */
int broker_auth_logout(struct broker_auth *a, const char *token, const char *source);

/* Milliseconds @source must wait before its next login attempt (0: now). */
int64_t broker_auth_source_delay_ms(struct broker_auth *a, const char *source);

/*
 * Create a local user: @password NULL makes one that cannot log in with a
 * password (marker "!"); otherwise it must pass broker_auth_password_policy().
 * The user joins @groups (@n_groups names), or the default group when
 * @n_groups is 0; all in one transaction. Returns 0 with the user in *@ret
 * (may be NULL), -EINVAL (bad name, password or group), -EEXIST, or store
 * errors.
 */
int broker_auth_user_add(struct broker_auth *a, const char *name, const char *password,
                         enum broker_role role, const char *const *groups, size_t n_groups,
                         struct broker_user *ret);

/*
 * Set user @user_id's password (policy-checked), clear their lockout and
 * revoke their sessions. 0, -EINVAL, -ENOENT or store errors.
 */
int broker_auth_set_password(struct broker_auth *a, int64_t user_id, const char *password);

/*
 * A new TOTP secret (base32, BROKER_TOTP_SECRET_MAX + 1 bytes) and its
 * otpauth:// URI (BROKER_TOTP_URI_MAX bytes) for user @name. Nothing is
 * stored: enrol with broker_auth_totp_enrol(), or _confirm() which first
 * checks a code made from it.
 */
int broker_auth_totp_new(struct broker_auth *a, const char *name, char *secret, size_t secret_size,
                         char *uri, size_t uri_size);

/* Store @secret as user @user_id's TOTP secret (NULL or "": remove it). */
int broker_auth_totp_enrol(struct broker_auth *a, int64_t user_id, const char *secret);

/*
 * Enrol @secret only if @code is good for it now (proof the person's app
 * has it): 0, -EACCES for a wrong code, -EINVAL, or store errors.
 */
int broker_auth_totp_confirm(struct broker_auth *a, int64_t user_id, const char *secret,
                             const char *code);

/*
 * Append an audit record at the auth's now; @detail_json is NULL or a JSON
 * object's text. Failures are logged, not returned: auditing never blocks
 * the action it records.
 */
void broker_auth_audit(struct broker_auth *a, const char *event, const char *user,
                       const char *source, const char *vm, const char *detail_json);

/* Counters since broker_auth_new(). */
void broker_auth_get_stats(struct broker_auth *a, struct broker_auth_stats *ret);

#endif
