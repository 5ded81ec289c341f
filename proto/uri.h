/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vnc:// and spice:// URIs, as remote-viewer and the viewer take them:
 *
 *   vnc://host:5901
 *   vnc://[::1]:5900?password=secret
 *   spice://host:5900?tls-port=5901&password=x%26y
 *   spice://host?tls-port=5901
 *
 * The host is a name or IPv4 address of [A-Za-z0-9._-], or an IPv6
 * address in brackets. Query values are percent-decoded ('+' is a plus,
 * not a space); the keys are password, and for SPICE port and tls-port.
 *
 * A VNC port below 100 is a display number, as vncviewer reads it:
 * vnc://host:1 is port 5901, and vnc://host alone is display 0, port 5900.
 * So a VNC server on a port below 100 cannot be named by a URI.
 * A SPICE URI needs a port, a tls-port or both.
 *
 * Pure functions; any thread.
 */
#ifndef VDI_PROTO_URI_H
#define VDI_PROTO_URI_H

#include <stddef.h>

#define PROTO_URI_MAX_LEN 1024 /* characters of a URI we parse */
#define PROTO_URI_VNC_BASE_PORT 5900

struct proto_uri {
	char scheme[8];     /* "vnc" or "spice" */
	char host[256];     /* without brackets */
	int port;           /* 1..65535, or -1 (SPICE with only a TLS port) */
	int tls_port;       /* 1..65535 or -1; SPICE only */
	char password[129]; /* "" when there is none */
};

/*
 * Parse the NUL-terminated @s into *@ret (written only on success). Returns
 * 0, or -EINVAL for anything else: an unknown scheme, a user part, path or
 * fragment, an empty or bad host, a bad or repeated port, an unknown query
 * key, control characters (raw or percent-encoded), or more than
 * PROTO_URI_MAX_LEN characters.
 */
int proto_uri_parse(const char *s, struct proto_uri *ret);

/*
 * Write @u as a URI that proto_uri_parse() reads back as @u. Returns the
 * length of the NUL-terminated string in @out; -ENOSPC when @size is too
 * small; -EINVAL when @u cannot be written (bad field, or a VNC port below
 * 100, which the URI would read as a display number).
 */
int proto_uri_format(const struct proto_uri *u, char *out, size_t size);

#endif
