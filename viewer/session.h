/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A session description: which desktop to show and how to get in. It is
 * all a connection needs, whoever made it: the command line (a vnc:// or
 * spice:// URI), a .vv file, or (later) the broker after a kiosk login.
 *
 * Pure functions; any thread. The password is wiped by
 * viewer_session_clear().
 */
#ifndef VDI_VIEWER_SESSION_H
#define VDI_VIEWER_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/vv.h"

#define VIEWER_HOST_MAX 255
#define VIEWER_PASSWORD_MAX 128
#define VIEWER_TITLE_MAX 255
#define VIEWER_SUBJECT_MAX 255

enum viewer_protocol {
	VIEWER_PROTO_VNC,
	VIEWER_PROTO_SPICE,
};

struct viewer_session {
	enum viewer_protocol protocol;
	char host[VIEWER_HOST_MAX + 1];
	int port;     /* 1..65535, or -1 (SPICE with only a TLS port) */
	int tls_port; /* SPICE: 1..65535, or -1 */
	bool has_password;
	char password[VIEWER_PASSWORD_MAX + 1];
	char title[VIEWER_TITLE_MAX + 1]; /* "": the VM's name, as the server says */
	/* SPICE TLS: trusted CAs as PEM text (from a .vv) or a file, and the subject to expect. */
	char *ca;      /* malloc'd, or NULL */
	char *ca_file; /* malloc'd, or NULL */
	char host_subject[VIEWER_SUBJECT_MAX + 1];
	/* SPICE: an HTTP proxy to connect through (CONNECT), "http[s]://HOST:PORT", or "" */
	char proxy[PROTO_VV_PROXY_MAX + 1];
};

/* An empty description (ports -1, no password). */
void viewer_session_init(struct viewer_session *s);

/* Free the strings, wipe the password, and leave @s empty. NULL is a no-op. */
void viewer_session_clear(struct viewer_session *s);

/*
 * Fill *@s from a vnc:// or spice:// @uri (proto/uri.h), including a
 * password in its query. Returns 0, or -EINVAL with a one-line reason in @err.
 * *@s is written only on success (its old strings are freed then).
 */
int viewer_session_from_uri(struct viewer_session *s, const char *uri, char *err, size_t err_size);

/*
 * Fill *@s from a parsed .vv file: type, host, port, tls-port, password,
 * title, ca, host-subject and, for SPICE, proxy (the caller takes the UI
 * keys; remote-viewer too uses a proxy for SPICE only). Returns 0,
 * -EINVAL with a reason in @err (no host, no port, a value too long), or
 * -ENOMEM. *@s is written only on success.
 */
int viewer_session_from_vv(struct viewer_session *s, const struct proto_vv *vv, char *err,
                           size_t err_size);

/* Set the password (at most VIEWER_PASSWORD_MAX bytes); 0 or -EINVAL. */
int viewer_session_set_password(struct viewer_session *s, const char *password);

/* Copy @src into @dst (an empty or cleared description); 0 or -ENOMEM. */
int viewer_session_copy(struct viewer_session *dst, const struct viewer_session *src);

/*
 * Where @s goes, for people and logs, without the password:
 * "vnc://host:5901", "spice://[::1]:5900?tls-port=5901". Returns @out.
 */
char *viewer_session_describe(const struct viewer_session *s, char *out, size_t size);

/* "VNC" or "SPICE". */
const char *viewer_protocol_name(enum viewer_protocol p);

#endif
