// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto/uri.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_scheme(const char *s)
{
	return strcmp(s, "vnc") == 0 || strcmp(s, "spice") == 0;
}

static bool host_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* A host name or IPv4 address, or (@bracketed) an IPv6 address, of @n bytes. */
static bool valid_host(const char *h, size_t n, bool bracketed)
{
	char buf[INET6_ADDRSTRLEN];
	struct in6_addr a;

	if (n == 0 || n >= sizeof(((struct proto_uri *)0)->host))
		return false;
	if (bracketed) {
		if (n >= sizeof(buf))
			return false;
		memcpy(buf, h, n);
		buf[n] = '\0';
		return inet_pton(AF_INET6, buf, &a) == 1;
	}
	for (size_t i = 0; i < n; i++)
		if (!host_char(h[i]))
			return false;
	return true;
}

/* 1 to 5 decimal digits of at most 65535 into *@ret. */
static bool parse_number(const char *s, size_t n, int *ret)
{
	int v = 0;

	if (n < 1 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	if (v > 65535)
		return false;
	*ret = v;
	return true;
}

static int hex(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode @n bytes of @s into @out (@size with the NUL); no control characters. */
static bool decode_value(const char *s, size_t n, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return false;
			hi = hex(s[i + 1]);
			lo = hex(s[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = (unsigned char)(hi << 4 | lo);
			i += 2;
		}
		if (c < 0x20 || c == 0x7f || o + 1 >= size)
			return false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return true;
}

static int parse_query(const char *q, size_t n, struct proto_uri *u)
{
	bool seen_port = false, seen_tls = false, seen_password = false;
	const char *end = q + n;

	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *pair_end = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(pair_end - q));
		const char *v;
		size_t klen, vlen;

		if (!eq)
			return -EINVAL;
		klen = (size_t)(eq - q);
		v = eq + 1;
		vlen = (size_t)(pair_end - v);
		if (klen == 8 && memcmp(q, "password", 8) == 0 && !seen_password) {
			if (!decode_value(v, vlen, u->password, sizeof(u->password)))
				return -EINVAL;
			seen_password = true;
		} else if (klen == 8 && memcmp(q, "tls-port", 8) == 0 && !seen_tls &&
		           strcmp(u->scheme, "spice") == 0) {
			if (!parse_number(v, vlen, &u->tls_port) || u->tls_port == 0)
				return -EINVAL;
			seen_tls = true;
		} else if (klen == 4 && memcmp(q, "port", 4) == 0 && !seen_port && u->port == -1 &&
		           strcmp(u->scheme, "spice") == 0) {
			if (!parse_number(v, vlen, &u->port) || u->port == 0)
				return -EINVAL;
			seen_port = true;
		} else {
			/* Unknown, repeated, or not for this scheme. */
			return -EINVAL;
		}
		if (!amp)
			break;
		q = amp + 1;
		if (q == end)
			return -EINVAL; /* a trailing '&' */
	}
	return 0;
}

int proto_uri_parse(const char *s, struct proto_uri *ret)
{
	struct proto_uri u = { .port = -1, .tls_port = -1 };
	const char *p, *auth, *auth_end, *host, *host_end, *port = NULL;
	size_t len, slen;
	bool bracketed = false;
	int r;

	if (!s)
		return -EINVAL;
	len = strnlen(s, PROTO_URI_MAX_LEN + 1);
	if (len > PROTO_URI_MAX_LEN)
		return -EINVAL;
	/* Printable ASCII only: anything else must be percent-encoded. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return -EINVAL;
	if (memchr(s, '#', len))
		return -EINVAL;

	p = strstr(s, "://");
	if (!p)
		return -EINVAL;
	slen = (size_t)(p - s);
	if (slen >= sizeof(u.scheme))
		return -EINVAL;
	for (size_t i = 0; i < slen; i++)
		u.scheme[i] = (s[i] >= 'A' && s[i] <= 'Z') ? (char)(s[i] - 'A' + 'a') : s[i];
	if (!is_scheme(u.scheme))
		return -EINVAL;

	auth = p + 3;
	auth_end = auth + strcspn(auth, "/?");
	if (memchr(auth, '@', (size_t)(auth_end - auth)))
		return -EINVAL;
	if (*auth == '[') {
		bracketed = true;
		host = auth + 1;
		host_end = memchr(host, ']', (size_t)(auth_end - host));
		if (!host_end)
			return -EINVAL;
		p = host_end + 1;
	} else {
		host = auth;
		host_end = memchr(host, ':', (size_t)(auth_end - host));
		if (!host_end)
			host_end = auth_end;
		p = host_end;
	}
	if (!valid_host(host, (size_t)(host_end - host), bracketed))
		return -EINVAL;
	memcpy(u.host, host, (size_t)(host_end - host));
	if (p < auth_end) {
		if (*p != ':')
			return -EINVAL;
		port = p + 1;
		if (!parse_number(port, (size_t)(auth_end - port), &u.port))
			return -EINVAL;
	}

	p = auth_end;
	if (*p == '/')
		p++; /* an empty path, as "vnc://host:5900/" */
	if (*p == '?') {
		p++;
		r = parse_query(p, strlen(p), &u);
		if (r < 0)
			return r;
	} else if (*p) {
		return -EINVAL;
	}

	if (strcmp(u.scheme, "vnc") == 0) {
		if (u.port == -1)
			u.port = PROTO_URI_VNC_BASE_PORT;
		else if (u.port < 100)
			u.port += PROTO_URI_VNC_BASE_PORT;
	} else {
		if (u.port == 0 || (u.port == -1 && u.tls_port == -1))
			return -EINVAL;
	}
	*ret = u;
	return 0;
}

static bool unreserved(unsigned char c)
{
	return host_char((char)c) || c == '~';
}

struct out {
	char *buf;
	size_t size, len;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || n >= o->size - o->len) {
		o->full = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void put_int(struct out *o, int v)
{
	char buf[16];

	put(o, buf, (size_t)snprintf(buf, sizeof(buf), "%d", v));
}

static bool valid_port(int v)
{
	return v >= 1 && v <= 65535;
}

int proto_uri_format(const struct proto_uri *u, char *out, size_t size)
{
	static const char digits[] = "0123456789ABCDEF";
	struct out o = { out, size, 0, false };
	size_t host_len = strnlen(u->host, sizeof(u->host));
	size_t pw_len = strnlen(u->password, sizeof(u->password));
	bool v6 = host_len < sizeof(u->host) && memchr(u->host, ':', host_len);
	bool vnc = strcmp(u->scheme, "vnc") == 0;
	char sep = '?';

	if (strnlen(u->scheme, sizeof(u->scheme)) == sizeof(u->scheme) || !is_scheme(u->scheme) ||
	    !valid_host(u->host, host_len, v6) || pw_len == sizeof(u->password))
		return -EINVAL;
	if (vnc && (u->port < 100 || u->port > 65535 || u->tls_port != -1))
		return -EINVAL;
	if (!vnc && ((u->port != -1 && !valid_port(u->port)) ||
	             (u->tls_port != -1 && !valid_port(u->tls_port)) ||
	             (u->port == -1 && u->tls_port == -1)))
		return -EINVAL;
	for (size_t i = 0; i < pw_len; i++)
		if ((unsigned char)u->password[i] < 0x20 || u->password[i] == 0x7f)
			return -EINVAL;
	if (!size)
		return -ENOSPC;

	out[0] = '\0';
	put_str(&o, u->scheme);
	put_str(&o, v6 ? "://[" : "://");
	put(&o, u->host, host_len);
	if (v6)
		put_str(&o, "]");
	if (u->port != -1) {
		put_str(&o, ":");
		put_int(&o, u->port);
	}
	if (u->tls_port != -1) {
		put_str(&o, "?tls-port=");
		put_int(&o, u->tls_port);
		sep = '&';
	}
	if (pw_len) {
		put(&o, &sep, 1);
		put_str(&o, "password=");
		for (size_t i = 0; i < pw_len; i++) {
			unsigned char c = (unsigned char)u->password[i];
			char esc[3] = { '%', digits[c >> 4], digits[c & 15] };

			if (unreserved(c))
				put(&o, (const char *)&c, 1);
			else
				put(&o, esc, 3);
		}
	}
	if (o.full)
		return -ENOSPC;
	return (int)o.len;
}
