/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One-time codes for two-factor login: TOTP (RFC 6238) over HOTP
 * (RFC 4226) with HMAC-SHA1, 30-second steps and 6 digits, the parameters
 * every authenticator app uses; secrets travel as base32 (RFC 4648) inside
 * an otpauth:// URI (the Key Uri Format of Google Authenticator).
 *
 * Pure functions but for broker_totp_new_secret(), which reads OpenSSL's
 * random generator; any thread.
 */
#ifndef VDI_BROKER_TOTP_H
#define VDI_BROKER_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define BROKER_TOTP_PERIOD 30
#define BROKER_TOTP_DIGITS 6
/* Steps either side of now that are accepted, for clock skew. */
#define BROKER_TOTP_WINDOW 1
/* Bytes of a new secret: 160 bits, as RFC 4226 recommends; 32 base32 characters. */
#define BROKER_TOTP_SECRET_BYTES 20
/* The longest secret accepted, in bytes (BROKER_TOTP_SECRET_MAX base32 characters). */
#define BROKER_TOTP_KEY_MAX 40
#define BROKER_TOTP_URI_MAX 512

/*
 * Encode @n bytes as base32 without padding into @out (NUL-terminated).
 * Returns 0 or -ENOSPC.
 */
int broker_base32_encode(const uint8_t *in, size_t n, char *out, size_t out_size);

/*
 * Decode base32 @in (A-Z and 2-7, either case; '=' padding allowed only at
 * the end) into @out. Returns 0 with the length in *@ret_len, -EINVAL for
 * anything else, -ENOSPC when it does not fit.
 */
int broker_base32_decode(const char *in, uint8_t *out, size_t out_size, size_t *ret_len);

/* HOTP value of @counter under @key with @digits (6..8) digits. 0 or -EINVAL/-EIO. */
int broker_hotp(const uint8_t *key, size_t key_len, uint64_t counter, unsigned int digits,
                uint32_t *ret);

/* The time step of @unix_time (floor(t / 30)). */
int64_t broker_totp_step(int64_t unix_time);

/*
 * Check the 6-digit @code against base32 @secret at @now, accepting the
 * steps within BROKER_TOTP_WINDOW of now. Every candidate is computed and
 * compared in constant time. A code is good once: a match on a step not
 * after @last_step (the last one accepted for this user) is refused.
 * Returns 0 and the matching step in *@ret_step; -EACCES for a wrong code;
 * -EALREADY for a code already used; -EINVAL for a malformed code or
 * secret.
 */
int broker_totp_verify(const char *secret, const char *code, int64_t now, int64_t last_step,
                       int64_t *ret_step);

/* A fresh random secret as base32 (at least 33 bytes of @out). 0, -ENOSPC or -EIO. */
int broker_totp_new_secret(char *out, size_t out_size);

/*
 * otpauth://totp/ISSUER:ACCOUNT?secret=...&issuer=ISSUER&algorithm=SHA1&digits=6&period=30
 * with ISSUER and ACCOUNT percent-encoded. Returns 0, -EINVAL or -ENOSPC.
 */
int broker_totp_uri(const char *issuer, const char *account, const char *secret, char *out,
                    size_t out_size);

#endif
