/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * .vv files: the connection files remote-viewer (virt-viewer) opens, and
 * that the broker hands out. A key file with one [virt-viewer] group:
 *
 *   [virt-viewer]
 *   type=spice
 *   host=10.0.0.5
 *   port=5901
 *   password=\sone;two#three
 *   ca=-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n
 *   delete-this-file=1
 *
 * Values use GKeyFile's escapes (\s for a leading space, \n, \t, \r, \\),
 * which is how remote-viewer reads them; that is also how the ca key
 * carries a multi-line PEM on one line. Other groups and unknown keys are
 * ignored, as remote-viewer does.
 *
 * Pure functions; any thread.
 */
#ifndef VDI_PROTO_VV_H
#define VDI_PROTO_VV_H

#include <stdbool.h>
#include <stddef.h>

#define PROTO_VV_MAX_SIZE 65536 /* bytes of a file we parse */
#define PROTO_VV_PROXY_MAX 255  /* bytes of a proxy address */

/* Integers -1 and NULL pointers mean "unset": the key is not written. */
struct proto_vv {
	char *type; /* "vnc" or "spice"; required */
	char *host;
	int port;     /* 1..65535 */
	int tls_port; /* 1..65535 (SPICE) */
	char *password;
	char *title;
	int fullscreen;         /* 0 or 1 */
	int delete_this_file;   /* 0 or 1: the viewer deletes the file once read */
	char *ca;               /* PEM text, newlines and all */
	char *host_subject;     /* of the TLS certificate, "C=XX,O=...,CN=..." */
	char *secure_attention; /* hotkeys in SPICE syntax, "ctrl+alt+end" */
	char *release_cursor;
	char *toggle_fullscreen;
	char *proxy; /* SPICE through an HTTP proxy (CONNECT): "http://proxy:3128" */
};

/* Set every field of @vv to unset. */
void proto_vv_init(struct proto_vv *vv);

/*
 * The text of a .vv file for @vv (which this borrows), malloc'd, NUL
 * terminated; NULL with errno set: EINVAL when type is not "vnc" or
 * "spice", an integer is out of range, a string is not UTF-8 or the proxy
 * is not one proto_vv_proxy_valid() takes; ENOMEM.
 */
char *proto_vv_write(const struct proto_vv *vv);

/*
 * Parse @len bytes of @data (no NUL needed) into *@ret, whose strings are
 * malloc'd and released with proto_vv_clear(). Returns 0; -EMSGSIZE when
 * @len is over PROTO_VV_MAX_SIZE; -EINVAL when the data is not a key file,
 * has no [virt-viewer] group, no or an unsupported type, or a known key with
 * a bad value (ports 1..65535, a proxy proto_vv_proxy_valid() refuses);
 * -ENOMEM. An empty proxy is no proxy. On failure @err (if not NULL) holds
 * a one-line reason and *@ret is untouched.
 */
int proto_vv_parse(const char *data, size_t len, struct proto_vv *ret, char *err, size_t err_size);

/*
 * Whether @proxy is an HTTP proxy address as remote-viewer and
 * spice-client-glib take it: [http[s]://][USER[:PASSWORD]@]HOST[:PORT][/],
 * HOST a name, an IPv4 address or an [IPv6] one, PORT 1..65535 (3128 for
 * http, 3129 for https, when left out), at most PROTO_VV_PROXY_MAX bytes.
 * https:// is TLS to the proxy itself.
 */
bool proto_vv_proxy_valid(const char *proxy);

/* Free the strings of a parsed @vv and set it to unset. NULL is a no-op. */
void proto_vv_clear(struct proto_vv *vv);

#endif
