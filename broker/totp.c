// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/totp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

static const char b32_alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int broker_base32_encode(const uint8_t *in, size_t n, char *out, size_t out_size)
{
	size_t need = (n * 8 + 4) / 5, o = 0;
	uint32_t acc = 0;
	int bits = 0;

	if (out_size < need + 1)
		return -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			out[o++] = b32_alphabet[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[o++] = b32_alphabet[(acc << (5 - bits)) & 31];
	out[o] = '\0';
	return 0;
}

static int b32_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a';
	if (c >= '2' && c <= '7')
		return c - '2' + 26;
	return -1;
}

int broker_base32_decode(const char *in, uint8_t *out, size_t out_size, size_t *ret_len)
{
	size_t len = strlen(in), o = 0;
	uint32_t acc = 0;
	int bits = 0;

	while (len > 0 && in[len - 1] == '=')
		len--;
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int v = b32_value(in[i]);

		if (v < 0)
			return -EINVAL;
		acc = (acc << 5) | (uint32_t)v;
		bits += 5;
		if (bits >= 8) {
			if (o >= out_size)
				return -ENOSPC;
			out[o++] = (uint8_t)(acc >> (bits - 8));
			bits -= 8;
		}
	}
	/* A length no encoder produces (1, 3 or 6 characters past a block). */
	if (bits >= 5)
		return -EINVAL;
	*ret_len = o;
	return 0;
}

int broker_hotp(const uint8_t *key, size_t key_len, uint64_t counter, unsigned int digits,
                uint32_t *ret)
{
	static const uint32_t mod[] = { 1000000, 10000000, 100000000 };
	uint8_t msg[8], mac[EVP_MAX_MD_SIZE];
	unsigned int mac_len = 0;
	uint32_t bin;
	unsigned int off;

	if (digits < 6 || digits > 8 || key_len == 0 || key_len > BROKER_TOTP_KEY_MAX)
		return -EINVAL;
	for (int i = 7; i >= 0; i--) {
		msg[i] = (uint8_t)counter;
		counter >>= 8;
	}
	if (!HMAC(EVP_sha1(), key, (int)key_len, msg, sizeof(msg), mac, &mac_len) || mac_len != 20)
		return -EIO;
	/* RFC 4226 section 5.3, dynamic truncation. */
	off = mac[19] & 0x0f;
	bin = ((uint32_t)(mac[off] & 0x7f) << 24) | ((uint32_t)mac[off + 1] << 16) |
	      ((uint32_t)mac[off + 2] << 8) | mac[off + 3];
	*ret = bin % mod[digits - 6];
	OPENSSL_cleanse(mac, sizeof(mac));
	return 0;
}

int64_t broker_totp_step(int64_t unix_time)
{
	/* Floor division, so times before 1970 do not share step 0. */
	return unix_time >= 0 ? unix_time / BROKER_TOTP_PERIOD
	                      : -((-unix_time + BROKER_TOTP_PERIOD - 1) / BROKER_TOTP_PERIOD);
}

int broker_totp_verify(const char *secret, const char *code, int64_t now, int64_t last_step,
                       int64_t *ret_step)
{
	uint8_t key[BROKER_TOTP_KEY_MAX];
	int64_t step = broker_totp_step(now), found = 0;
	bool matched = false, used = false;
	size_t key_len;
	int r;

	if (!code || strlen(code) != BROKER_TOTP_DIGITS)
		return -EINVAL;
	for (int i = 0; i < BROKER_TOTP_DIGITS; i++)
		if (code[i] < '0' || code[i] > '9')
			return -EINVAL;
	if (!secret || broker_base32_decode(secret, key, sizeof(key), &key_len) < 0)
		return -EINVAL;
	/*
	 * Compute and compare every step of the window, newest last, without
	 * stopping at a match: the time taken does not depend on the code.
	 */
	for (int64_t d = -BROKER_TOTP_WINDOW; d <= BROKER_TOTP_WINDOW; d++) {
		char want[BROKER_TOTP_DIGITS + 1];
		uint32_t v;
		int same;

		if (step + d < 0)
			continue;
		r = broker_hotp(key, key_len, (uint64_t)(step + d), BROKER_TOTP_DIGITS, &v);
		if (r < 0) {
			OPENSSL_cleanse(key, sizeof(key));
			return r;
		}
		snprintf(want, sizeof(want), "%06u", v);
		same = CRYPTO_memcmp(want, code, BROKER_TOTP_DIGITS) == 0;
		OPENSSL_cleanse(want, sizeof(want));
		if (same && step + d > last_step) {
			found = step + d;
			matched = true;
		} else if (same) {
			used = true;
		}
	}
	OPENSSL_cleanse(key, sizeof(key));
	if (matched) {
		*ret_step = found;
		return 0;
	}
	return used ? -EALREADY : -EACCES;
}

int broker_totp_new_secret(char *out, size_t out_size)
{
	uint8_t key[BROKER_TOTP_SECRET_BYTES];
	int r;

	if (RAND_bytes(key, sizeof(key)) != 1)
		return -EIO;
	r = broker_base32_encode(key, sizeof(key), out, out_size);
	OPENSSL_cleanse(key, sizeof(key));
	return r;
}

/* Append @s percent-encoded (RFC 3986 unreserved characters kept). */
static int pct_append(char *out, size_t size, size_t *len, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		            (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~';

		if (*len + (keep ? 1 : 3) >= size)
			return -ENOSPC;
		if (keep) {
			out[(*len)++] = (char)c;
		} else {
			out[(*len)++] = '%';
			out[(*len)++] = hex[c >> 4];
			out[(*len)++] = hex[c & 15];
		}
	}
	out[*len] = '\0';
	return 0;
}

static int raw_append(char *out, size_t size, size_t *len, const char *s)
{
	size_t n = strlen(s);

	if (*len + n >= size)
		return -ENOSPC;
	memcpy(out + *len, s, n + 1);
	*len += n;
	return 0;
}

int broker_totp_uri(const char *issuer, const char *account, const char *secret, char *out,
                    size_t out_size)
{
	uint8_t key[BROKER_TOTP_KEY_MAX];
	size_t len = 0, key_len;
	char tail[64];
	int r = 0;

	if (!issuer || !*issuer || strchr(issuer, ':') || !account || !*account ||
	    strchr(account, ':') || !secret ||
	    broker_base32_decode(secret, key, sizeof(key), &key_len) < 0)
		return -EINVAL;
	OPENSSL_cleanse(key, sizeof(key));
	if (out_size == 0)
		return -ENOSPC;
	out[0] = '\0';
	snprintf(tail, sizeof(tail), "&algorithm=SHA1&digits=%d&period=%d", BROKER_TOTP_DIGITS,
	         BROKER_TOTP_PERIOD);
	r = raw_append(out, out_size, &len, "otpauth://totp/");
	r = r ? r : pct_append(out, out_size, &len, issuer);
	r = r ? r : raw_append(out, out_size, &len, ":");
	r = r ? r : pct_append(out, out_size, &len, account);
	r = r ? r : raw_append(out, out_size, &len, "?secret=");
	r = r ? r : raw_append(out, out_size, &len, secret);
	r = r ? r : raw_append(out, out_size, &len, "&issuer=");
	r = r ? r : pct_append(out, out_size, &len, issuer);
	r = r ? r : raw_append(out, out_size, &len, tail);
	return r;
}
