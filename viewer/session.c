// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/session.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/uri.h"

static int bad(char *err, size_t err_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	if (err && err_size) {
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void viewer_session_init(struct viewer_session *s)
{
	memset(s, 0, sizeof(*s));
	s->port = -1;
	s->tls_port = -1;
}

void viewer_session_clear(struct viewer_session *s)
{
	if (!s)
		return;
	free(s->ca);
	free(s->ca_file);
	explicit_bzero(s->password, sizeof(s->password));
	viewer_session_init(s);
}

int viewer_session_set_password(struct viewer_session *s, const char *password)
{
	size_t n = strlen(password);

	if (n > VIEWER_PASSWORD_MAX)
		return -EINVAL;
	memcpy(s->password, password, n + 1);
	s->has_password = true;
	return 0;
}

int viewer_session_from_uri(struct viewer_session *s, const char *uri, char *err, size_t err_size)
{
	struct proto_uri u;
	struct viewer_session n;

	if (proto_uri_parse(uri, &u) < 0)
		return bad(err, err_size,
		           "'%.80s' is not a vnc://HOST[:PORT] or spice://HOST[:PORT][?tls-port=N] "
		           "URI",
		           uri);
	viewer_session_init(&n);
	n.protocol = strcmp(u.scheme, "spice") == 0 ? VIEWER_PROTO_SPICE : VIEWER_PROTO_VNC;
	snprintf(n.host, sizeof(n.host), "%s", u.host);
	n.port = u.port;
	n.tls_port = n.protocol == VIEWER_PROTO_SPICE ? u.tls_port : -1;
	if (u.password[0] && viewer_session_set_password(&n, u.password) < 0) {
		explicit_bzero(&u, sizeof(u));
		return bad(err, err_size, "the password is longer than %d bytes",
		           VIEWER_PASSWORD_MAX);
	}
	explicit_bzero(&u, sizeof(u));
	viewer_session_clear(s);
	*s = n;
	return 0;
}

static int copy_field(char *dst, size_t size, const char *src, const char *what, char *err,
                      size_t err_size)
{
	if (!src)
		return 0;
	if (strlen(src) >= size)
		return bad(err, err_size, "the .vv file's %s is longer than %zu bytes", what,
		           size - 1);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

int viewer_session_from_vv(struct viewer_session *s, const struct proto_vv *vv, char *err,
                           size_t err_size)
{
	struct viewer_session n;
	int r;

	viewer_session_init(&n);
	n.protocol = strcmp(vv->type, "spice") == 0 ? VIEWER_PROTO_SPICE : VIEWER_PROTO_VNC;
	if (!vv->host || !*vv->host)
		return bad(err, err_size, "the .vv file names no host");
	if ((r = copy_field(n.host, sizeof(n.host), vv->host, "host", err, err_size)) < 0 ||
	    (r = copy_field(n.title, sizeof(n.title), vv->title, "title", err, err_size)) < 0 ||
	    (r = copy_field(n.host_subject, sizeof(n.host_subject), vv->host_subject,
	                    "host-subject", err, err_size)) < 0)
		return r;
	n.port = vv->port;
	if (n.protocol == VIEWER_PROTO_SPICE) {
		n.tls_port = vv->tls_port;
		if (n.port < 0 && n.tls_port < 0)
			return bad(err, err_size, "the .vv file has neither port nor tls-port");
	} else if (n.port < 0) {
		return bad(err, err_size, "the .vv file has no port");
	}
	if (n.protocol == VIEWER_PROTO_SPICE && vv->proxy &&
	    (r = copy_field(n.proxy, sizeof(n.proxy), vv->proxy, "proxy", err, err_size)) < 0)
		return r;
	if (vv->password && viewer_session_set_password(&n, vv->password) < 0)
		return bad(err, err_size, "the .vv file's password is longer than %d bytes",
		           VIEWER_PASSWORD_MAX);
	if (vv->ca && *vv->ca) {
		n.ca = strdup(vv->ca);
		if (!n.ca) {
			explicit_bzero(n.password, sizeof(n.password));
			return -ENOMEM;
		}
	}
	viewer_session_clear(s);
	*s = n;
	return 0;
}

static char *dup_or_null(const char *s, bool *failed)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*failed = true;
	return d;
}

int viewer_session_copy(struct viewer_session *dst, const struct viewer_session *src)
{
	bool failed = false;

	*dst = *src;
	dst->ca = dup_or_null(src->ca, &failed);
	dst->ca_file = dup_or_null(src->ca_file, &failed);
	if (failed) {
		viewer_session_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

char *viewer_session_describe(const struct viewer_session *s, char *out, size_t size)
{
	bool v6 = strchr(s->host, ':') != NULL;
	const char *scheme = s->protocol == VIEWER_PROTO_SPICE ? "spice" : "vnc";
	size_t len;

	len = (size_t)snprintf(out, size, "%s://%s%s%s", scheme, v6 ? "[" : "", s->host,
	                       v6 ? "]" : "");
	if (len < size && s->port > 0)
		len += (size_t)snprintf(out + len, size - len, ":%d", s->port);
	if (len < size && s->protocol == VIEWER_PROTO_SPICE && s->tls_port > 0)
		snprintf(out + len, size - len, "?tls-port=%d", s->tls_port);
	return out;
}

const char *viewer_protocol_name(enum viewer_protocol p)
{
	return p == VIEWER_PROTO_SPICE ? "SPICE" : "VNC";
}
