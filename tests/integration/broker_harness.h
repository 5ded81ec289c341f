/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Driving a real vdi-broker in integration tests: start it on a fresh data
 * directory and a free port, learn the first admin's password from its
 * output, and talk HTTPS to it (HTTP/1.1 over OpenSSL, one request per
 * connection, the broker's self-signed certificate pinned by fingerprint).
 */
#ifndef VDI_TESTS_BROKER_HARNESS_H
#define VDI_TESTS_BROKER_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

struct broker {
	pid_t pid;
	char dir[256]; /* the data directory (removed by broker_cleanup()) */
	char out[320]; /* its stdout and stderr */
	int port;
	char admin_password[64];
	char fingerprint[100]; /* SHA-256 of the TLS certificate it printed */
};

/*
 * Start vdi-broker with a new data directory and the extra arguments
 * @extra (NULL-terminated, may be NULL), wait until it serves. 0 or -errno.
 */
int broker_start(struct broker *b, const char *const *extra);

/* Start it again on the same data directory and port (a restart). */
int broker_restart(struct broker *b, const char *const *extra);

/*
 * Start "vdi-broker ARGS... gateway" (the console gateway on its own) on
 * @b's data directory and any free port, into @g; 0 or -errno. Stop it
 * with broker_stop(@g), then unlink(@g->out).
 */
int broker_start_gateway(struct broker *g, const struct broker *b, const char *const *extra);

/* SIGTERM and wait; the exit status, or -1. */
int broker_stop(struct broker *b);

/* Stop it if running, kill the VMMs it started, remove the data directory. */
void broker_cleanup(struct broker *b);

struct http_reply {
	int status; /* 0 when the request failed */
	char *headers;
	char *body;
	size_t body_len;
};

/*
 * @method @path with @body (may be NULL) and the extra header lines
 * @headers ("Name: value\r\n"..., may be NULL). The certificate must match
 * b->fingerprint. Returns 0 or -errno; free the reply with http_reply_free().
 */
int broker_http(struct broker *b, const char *method, const char *path, const char *headers,
                const char *body, size_t body_len, struct http_reply *ret);
void http_reply_free(struct http_reply *r);

/* The value of header @name in @r (static buffer), or NULL. */
const char *http_header(const struct http_reply *r, const char *name);

/* The reply body as JSON (owned), or NULL. */
json_t *http_json(const struct http_reply *r);

/* POST /api/v1/login; the token (static buffer) or NULL, and the reply's status. */
const char *broker_login(struct broker *b, const char *user, const char *password, int *status);

/* Run @argv as "vdi-broker --data-dir DIR ARGS..." (an admin command); its exit status. */
int broker_cli(struct broker *b, const char *input, const char *const *args);

/* broker_cli() keeping its standard output in @out (NUL-terminated). */
int broker_cli_capture(struct broker *b, const char *input, const char *const *args, char *out,
                       size_t out_size);

#endif
