// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto/b64url.h"

#include <errno.h>
#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* The 6-bit value of @c, or -1 when @c is not in the url-safe alphabet. */
static int sextet(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

size_t proto_b64url_encoded_len(size_t n)
{
	static const size_t tail[3] = { 0, 2, 3 };

	/* Saturate rather than wrap: no buffer is that large, so encode fails. */
	if (n / 3 > (SIZE_MAX - 3) / 4)
		return SIZE_MAX;
	return n / 3 * 4 + tail[n % 3];
}

int proto_b64url_encode(const void *in, size_t n, char *out, size_t out_size)
{
	const uint8_t *p = in;
	size_t need = proto_b64url_encoded_len(n);
	size_t i, o = 0;

	if (need == SIZE_MAX || out_size < need + 1)
		return -ENOSPC;
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		out[o++] = alphabet[p[i] >> 2];
		out[o++] = alphabet[(p[i] & 3) << 4];
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 8 | p[i + 1];

		out[o++] = alphabet[v >> 10];
		out[o++] = alphabet[(v >> 4) & 63];
		out[o++] = alphabet[(v & 15) << 2];
	}
	out[o] = '\0';
	return 0;
}

int proto_b64url_decode(const char *in, size_t len, void *out, size_t out_size, size_t *ret_len)
{
	uint8_t *q = out;
	size_t n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	uint32_t acc = 0;
	unsigned int bits = 0;
	size_t o = 0;

	/* One leftover character carries only 6 bits: not even one byte. */
	if (len % 4 == 1)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (sextet((unsigned char)in[i]) < 0)
			return -EINVAL;
	if (n > out_size)
		return -ENOSPC;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 6 | (uint32_t)sextet((unsigned char)in[i])) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			q[o++] = (uint8_t)(acc >> bits);
		}
	}
	/* Bits below the last whole byte must be zero, or two strings would decode alike. */
	if (bits && (acc & ((1u << bits) - 1)))
		return -EINVAL;
	*ret_len = o;
	return 0;
}
