/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker's HTTPS server (libwebsockets, HTTP/1.1 and HTTP/2 over TLS):
 * one listening address serves the REST API under /api/, Prometheus
 * metrics at /metrics and the web pages from the web root.
 *
 * The server collects a request (method, path, the few headers the API
 * reads, the source address and a body of at most BROKER_HTTP_BODY_MAX
 * bytes), hands it to the handler and writes the response the handler
 * filled. Everything runs on the thread that calls broker_http_run():
 * handlers, timers and the watches of other file descriptors (the VM
 * supervisor's control sockets) are callbacks of the same loop.
 */
#ifndef VDI_BROKER_HTTP_H
#define VDI_BROKER_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_HTTP_BODY_MAX (64 * 1024) /* request bodies */
#define BROKER_HTTP_PATH_MAX 256
#define BROKER_HTTP_SERV_BUF (16 * 1024) /* one read from a socket or file, at most */

struct broker_http;
struct lws_protocols;

/* Extra libwebsockets protocols a module may run on the server (the console gateway). */
#define BROKER_HTTP_EXTRA_PROTOCOLS_MAX 3

struct broker_http_request {
	char method[8];                   /* "GET", "POST", ... */
	char path[BROKER_HTTP_PATH_MAX];  /* from the mount point on: "/api/v1/login" */
	char query[BROKER_HTTP_PATH_MAX]; /* after '?', or "" */
	char source[64];                  /* the peer's numeric address */
	char authorization[160];          /* "Bearer ...", or "" */
	char accept[160];
	char origin[256];
	char content_type[80];
	const char *body; /* NUL-terminated; may contain NULs before body_len */
	size_t body_len;
};

struct broker_http_response {
	int status;
	const char *content_type; /* static string */
	char *body;               /* malloc'd; the server frees it */
	size_t len;
	unsigned int retry_after; /* seconds; 0: no Retry-After header */
	char disposition[128];    /* Content-Disposition, or "" */
};

/* A request for the API or /metrics; fill @res (status 0 is a 500). */
typedef void (*broker_http_handler)(void *opaque, const struct broker_http_request *req,
                                    struct broker_http_response *res);

struct broker_http_config {
	const char *host; /* numeric listen address */
	int port;         /* 0: any free port (see broker_http_port()) */
	const char *cert_path, *key_path;
	const char *web_root; /* "" or NULL: no web pages */
	broker_http_handler handler;
	void *opaque;
	/*
	 * Up to BROKER_HTTP_EXTRA_PROTOCOLS_MAX more protocols on the same
	 * vhost, { NULL } terminated, or NULL; not copied deeply, so they must
	 * outlive the server. WebSocket upgrades reach them by subprotocol
	 * name (the API's own protocol refuses upgrades).
	 */
	const struct lws_protocols *extra_protocols;
};

/* Listen; 0 or -errno with a reason in @err. */
int broker_http_new(const struct broker_http_config *cfg, struct broker_http **ret, char *err,
                    size_t err_size);
void broker_http_free(struct broker_http *h);

/* The TCP port actually listened on. */
int broker_http_port(struct broker_http *h);

/* Serve until broker_http_stop(); 0 or -errno. */
int broker_http_run(struct broker_http *h);

/* Make broker_http_run() return. Async-signal-safe. */
void broker_http_stop(struct broker_http *h);

/* Call @fn every @period_ms on the server's thread until freed. 0 or -ENOMEM. */
int broker_http_every(struct broker_http *h, unsigned int period_ms, void (*fn)(void *opaque),
                      void *opaque);

/*
 * Watch @fd for input on the server's thread: @fn runs when it is readable
 * or closed. Returns a handle for broker_http_unwatch(), or NULL.
 */
struct broker_http_watch;
struct broker_http_watch *broker_http_watch(struct broker_http *h, int fd,
                                            void (*fn)(void *opaque, int fd), void *opaque);
void broker_http_unwatch(struct broker_http_watch *w);

/* Helpers for handlers. */
void broker_http_json(struct broker_http_response *res, int status, char *json /* malloc'd */);
/* {"error":{"code":@code,"message":@message}} with @status. */
void broker_http_error(struct broker_http_response *res, int status, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
