/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small HTTPS client for the broker's REST API: HTTP/1.1 over OpenSSL,
 * one request per connection ("Connection: close"), the reply read to the
 * end (Content-Length, chunked or until EOF), at most VIEWER_HTTPS_REPLY_MAX
 * bytes.
 *
 * The server's certificate is always checked, one of three ways:
 *   - a pinned SHA-256 fingerprint of the leaf certificate (--fingerprint,
 *     what the broker prints at its first start); the chain is not checked;
 *   - the chain against the CA certificates of a PEM file (--ca), with the
 *     host name or address checked against the certificate;
 *   - the chain against the system's CA store, with the host checked.
 * A certificate that passes none is refused (-EKEYREJECTED) with the reason.
 *
 * Blocking; any thread (each call has its own OpenSSL context). The viewer
 * calls it from worker threads (broker.h), never from the main thread, and
 * abandons a call still running when it quits through a cancel descriptor.
 */
#ifndef VDI_VIEWER_HTTPS_H
#define VDI_VIEWER_HTTPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIEWER_HTTPS_REPLY_MAX (1 << 20) /* bytes of a reply we read */
#define VIEWER_HTTPS_HEADERS_MAX 16384   /* bytes of the reply's header */
#define VIEWER_URL_HOST_MAX 255
#define VIEWER_FINGERPRINT_LEN 32 /* SHA-256 */

/* Where the broker is and how its certificate is trusted. */
struct viewer_https_target {
	char host[VIEWER_URL_HOST_MAX + 1]; /* name or address, without brackets */
	int port;
	const char *ca_file; /* PEM, or NULL */
	bool pinned;         /* check the fingerprint below instead of a chain */
	uint8_t fingerprint[VIEWER_FINGERPRINT_LEN];
	int timeout_ms; /* connect, and each read and write; 0: 15 s */
};

struct viewer_https_reply {
	int status;      /* HTTP status */
	int retry_after; /* seconds from Retry-After, or -1 */
	char content_type[128];
	char *body; /* malloc'd, NUL terminated */
	size_t body_len;
};

/*
 * Parse "https://HOST[:PORT][/]" (IPv6 as [::1]; the port defaults to
 * 443) into @t's host and port. 0, or -EINVAL with a reason in @err.
 */
int viewer_https_parse_url(const char *url, struct viewer_https_target *t, char *err,
                           size_t err_size);

/*
 * Read a SHA-256 fingerprint: 64 hex digits, with or without ':' between
 * pairs, any case, optionally after "sha256:" or "SHA256=". 0 or -EINVAL.
 */
int viewer_https_parse_fingerprint(const char *text, uint8_t out[VIEWER_FINGERPRINT_LEN]);

/*
 * Send @method @path to @t with the extra header lines @headers
 * ("Name: value\r\n"..., may be NULL) and @body (may be NULL). Returns 0
 * and the reply in *@ret (free with viewer_https_reply_clear()), or:
 *   -ECONNREFUSED, -EHOSTUNREACH, -ETIMEDOUT, -ENOENT (no such host),
 *   other -errno: the broker could not be reached or the exchange broke;
 *   -EKEYREJECTED: its certificate was refused;
 *   -EPROTO: what came back is not HTTP, or too large;
 *   -ECANCELED: @cancel_fd became readable.
 * A one-line reason is in @err for every failure.
 *
 * @cancel_fd is -1, or a descriptor (an eventfd, a pipe's read end) that
 * abandons the call once it is readable, wherever the call is waiting
 * (only the host name lookup cannot be cut short).
 */
int viewer_https_request(const struct viewer_https_target *t, int cancel_fd, const char *method,
                         const char *path, const char *headers, const char *body, size_t body_len,
                         struct viewer_https_reply *ret, char *err, size_t err_size);

/* Free the body (wiped first: it may hold a token or a ticket). NULL is a no-op. */
void viewer_https_reply_clear(struct viewer_https_reply *r);

/*
 * Decode an HTTP/1.1 chunked body of @len bytes at @buf in place. Returns
 * the decoded length, or -EPROTO when it is malformed or incomplete.
 */
long viewer_https_dechunk(char *buf, size_t len);

#endif
