// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto/vv.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#define GROUP "virt-viewer"

enum field_kind {
	FIELD_STRING,
	FIELD_PORT,
	FIELD_FLAG, /* 0 or 1; remote-viewer reads an integer */
};

/* Every key we know, in the order they are written. */
static const struct field {
	const char *key;
	enum field_kind kind;
	size_t offset;
} fields[] = {
	{ "type", FIELD_STRING, offsetof(struct proto_vv, type) },
	{ "host", FIELD_STRING, offsetof(struct proto_vv, host) },
	{ "port", FIELD_PORT, offsetof(struct proto_vv, port) },
	{ "tls-port", FIELD_PORT, offsetof(struct proto_vv, tls_port) },
	{ "password", FIELD_STRING, offsetof(struct proto_vv, password) },
	{ "title", FIELD_STRING, offsetof(struct proto_vv, title) },
	{ "fullscreen", FIELD_FLAG, offsetof(struct proto_vv, fullscreen) },
	{ "delete-this-file", FIELD_FLAG, offsetof(struct proto_vv, delete_this_file) },
	{ "ca", FIELD_STRING, offsetof(struct proto_vv, ca) },
	{ "host-subject", FIELD_STRING, offsetof(struct proto_vv, host_subject) },
	{ "secure-attention", FIELD_STRING, offsetof(struct proto_vv, secure_attention) },
	{ "release-cursor", FIELD_STRING, offsetof(struct proto_vv, release_cursor) },
	{ "toggle-fullscreen", FIELD_STRING, offsetof(struct proto_vv, toggle_fullscreen) },
	{ "proxy", FIELD_STRING, offsetof(struct proto_vv, proxy) },
};

#define NR_FIELDS (sizeof(fields) / sizeof(fields[0]))

static char **str_at(struct proto_vv *vv, const struct field *f)
{
	return (char **)((char *)vv + f->offset);
}

static int *int_at(struct proto_vv *vv, const struct field *f)
{
	return (int *)((char *)vv + f->offset);
}

static bool valid_type(const char *type)
{
	return type && (strcmp(type, "vnc") == 0 || strcmp(type, "spice") == 0);
}

static bool valid_int(enum field_kind kind, int v)
{
	if (v == -1)
		return true;
	if (kind == FIELD_PORT)
		return v >= 1 && v <= 65535;
	return v == 0 || v == 1;
}

void proto_vv_init(struct proto_vv *vv)
{
	memset(vv, 0, sizeof(*vv));
	for (size_t i = 0; i < NR_FIELDS; i++)
		if (fields[i].kind != FIELD_STRING)
			*int_at(vv, &fields[i]) = -1;
}

void proto_vv_clear(struct proto_vv *vv)
{
	if (!vv)
		return;
	for (size_t i = 0; i < NR_FIELDS; i++)
		if (fields[i].kind == FIELD_STRING)
			free(*str_at(vv, &fields[i]));
	proto_vv_init(vv);
}

char *proto_vv_write(const struct proto_vv *vv)
{
	/* The accessors do not write; the cast saves a const twin of each. */
	struct proto_vv *v = (struct proto_vv *)vv;
	GKeyFile *kf;
	gchar *data;
	char *out;

	if (!vv || !valid_type(vv->type) || (vv->proxy && !proto_vv_proxy_valid(vv->proxy))) {
		errno = EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < NR_FIELDS; i++) {
		const struct field *f = &fields[i];
		const char *s = f->kind == FIELD_STRING ? *str_at(v, f) : NULL;

		if ((f->kind != FIELD_STRING && !valid_int(f->kind, *int_at(v, f))) ||
		    (s && !g_utf8_validate(s, -1, NULL))) {
			errno = EINVAL;
			return NULL;
		}
	}

	kf = g_key_file_new();
	for (size_t i = 0; i < NR_FIELDS; i++) {
		const struct field *f = &fields[i];

		/* set_string escapes newlines, so a PEM ca stays on one line. */
		if (f->kind == FIELD_STRING && *str_at(v, f))
			g_key_file_set_string(kf, GROUP, f->key, *str_at(v, f));
		else if (f->kind != FIELD_STRING && *int_at(v, f) != -1)
			g_key_file_set_integer(kf, GROUP, f->key, *int_at(v, f));
	}
	data = g_key_file_to_data(kf, NULL, NULL);
	g_key_file_free(kf);
	out = data ? strdup(data) : NULL;
	g_free(data);
	if (!out)
		errno = ENOMEM;
	return out;
}

static void set_err(char *err, size_t err_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (!err || !err_size)
		return;
	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	/* GLib's messages quote the file: keep ours to one line of valid UTF-8. */
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	for (const gchar *p = err, *bad; !g_utf8_validate(p, -1, &bad); p = bad + 1)
		*(char *)bad = '?';
}

/* Read field @f into @vv; 0, -EINVAL or -ENOMEM. */
static int read_field(GKeyFile *kf, const struct field *f, struct proto_vv *vv, char *err,
                      size_t err_size)
{
	GError *gerr = NULL;
	gint64 v;
	gchar *s;

	if (f->kind == FIELD_STRING) {
		s = g_key_file_get_string(kf, GROUP, f->key, &gerr);
		if (!s)
			goto out_invalid;
		*str_at(vv, f) = strdup(s);
		g_free(s);
		return *str_at(vv, f) ? 0 : -ENOMEM;
	}

	v = g_key_file_get_int64(kf, GROUP, f->key, &gerr);
	if (gerr)
		goto out_invalid;
	if (f->kind == FIELD_PORT && (v < 1 || v > 65535)) {
		set_err(err, err_size, "%s: %lld is not a port (1-65535)", f->key, (long long)v);
		return -EINVAL;
	}
	/* remote-viewer takes any non-zero integer as "on". */
	*int_at(vv, f) = f->kind == FIELD_FLAG ? v != 0 : (int)v;
	return 0;

out_invalid:
	set_err(err, err_size, "%s: %s", f->key, gerr ? gerr->message : "unreadable");
	g_clear_error(&gerr);
	return -EINVAL;
}

bool proto_vv_proxy_valid(const char *proxy)
{
	const char *p = proxy, *at;
	size_t n = strlen(proxy);

	if (n == 0 || n > PROTO_VV_PROXY_MAX)
		return false;
	if (g_ascii_strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if (g_ascii_strncasecmp(p, "https://", 8) == 0)
		p += 8;
	else if (strstr(p, "://"))
		return false; /* another scheme: spice-client-glib speaks HTTP CONNECT only */
	at = strchr(p, '@');
	if (at) {
		for (; p < at; p++)
			if (!isalnum((unsigned char)*p) && !strchr("-._~!$&'()*+,;=:%", *p))
				return false;
		p = at + 1;
	}
	if (*p == '[') {
		size_t v6 = strspn(p + 1, "0123456789abcdefABCDEF:.");

		if (v6 < 2 || p[1 + v6] != ']')
			return false;
		p += v6 + 2;
	} else {
		size_t hl = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		                      "0123456789.-_");

		if (hl == 0)
			return false;
		p += hl;
	}
	if (*p == ':') {
		long port = 0;

		if (!isdigit((unsigned char)p[1]))
			return false;
		for (p++; isdigit((unsigned char)*p) && port <= 65535; p++)
			port = port * 10 + (*p - '0');
		if (port < 1 || port > 65535)
			return false;
	}
	if (*p == '/')
		p++;
	return *p == '\0';
}

int proto_vv_parse(const char *data, size_t len, struct proto_vv *ret, char *err, size_t err_size)
{
	struct proto_vv vv;
	GError *gerr = NULL;
	GKeyFile *kf;
	int r = 0;

	proto_vv_init(&vv);
	if (err && err_size)
		err[0] = '\0';
	if (len > PROTO_VV_MAX_SIZE) {
		set_err(err, err_size, "file larger than %d bytes", PROTO_VV_MAX_SIZE);
		return -EMSGSIZE;
	}
	if (!len || !data || memchr(data, '\0', len)) {
		set_err(err, err_size, len ? "NUL byte in the file" : "empty file");
		return -EINVAL;
	}

	kf = g_key_file_new();
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &gerr)) {
		set_err(err, err_size, "not a key file: %s", gerr->message);
		g_clear_error(&gerr);
		r = -EINVAL;
		goto out_free;
	}
	if (!g_key_file_has_group(kf, GROUP)) {
		set_err(err, err_size, "no [" GROUP "] group");
		r = -EINVAL;
		goto out_free;
	}
	for (size_t i = 0; i < NR_FIELDS && r == 0; i++)
		if (g_key_file_has_key(kf, GROUP, fields[i].key, NULL))
			r = read_field(kf, &fields[i], &vv, err, err_size);
	if (r == 0 && !vv.type) {
		set_err(err, err_size, "no type");
		r = -EINVAL;
	} else if (r == 0 && !valid_type(vv.type)) {
		set_err(err, err_size, "type: '%.32s' is neither vnc nor spice", vv.type);
		r = -EINVAL;
	}
	if (r == 0 && vv.proxy && !*vv.proxy) {
		free(vv.proxy); /* "proxy=": none */
		vv.proxy = NULL;
	}
	if (r == 0 && vv.proxy && !proto_vv_proxy_valid(vv.proxy)) {
		set_err(err, err_size, "proxy: '%.64s' is not http[s]://HOST[:PORT]", vv.proxy);
		r = -EINVAL;
	}
	if (r == -ENOMEM)
		set_err(err, err_size, "out of memory");

out_free:
	g_key_file_free(kf);
	if (r < 0)
		proto_vv_clear(&vv);
	else
		*ret = vv;
	return r;
}
