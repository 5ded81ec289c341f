// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The HTTPS server; see http.h.
 *
 * libwebsockets runs on a GLib main loop (its glib event library), so the
 * broker's own timers and file descriptor watches are ordinary GLib
 * sources on the same thread. Three mounts: /api and /metrics go to the
 * "vdi-http" protocol callback, which collects the request and calls the
 * handler; everything else is served from the web root by libwebsockets.
 */
#include "broker/http.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib.h>
#include <jansson.h>
#include <libwebsockets.h>

#include "proto/log.h"

#define WRITE_CHUNK 16384

struct broker_http {
	struct lws_context *context;
	struct lws_vhost *vhost;
	GMainLoop *loop;
	broker_http_handler handler;
	void *opaque;
	int port;
	GSList *timers; /* struct every *, freed with the server */
	struct lws_http_mount mounts[3];
	struct lws_protocols protocols[2 + BROKER_HTTP_EXTRA_PROTOCOLS_MAX];
	char web_root[1024];
};

/* Per connection (per HTTP/2 stream): the request being read, the response being written. */
struct pss {
	struct broker_http_request req;
	char *body;
	size_t body_len;
	bool too_big;
	bool dispatched; /* answered already (lws may still report an empty body) */
	struct broker_http_response res;
	unsigned char *out; /* LWS_PRE + response body */
	size_t out_len, out_sent;
	bool headers_sent;
};

struct every {
	struct broker_http *h;
	void (*fn)(void *opaque);
	void *opaque;
	guint id;
};

struct broker_http_watch {
	guint id;
	int fd;
	void (*fn)(void *opaque, int fd);
	void *opaque;
};

/* ---- responses ---- */

void broker_http_json(struct broker_http_response *res, int status, char *json)
{
	free(res->body);
	res->status = status;
	res->content_type = "application/json";
	res->body = json;
	res->len = json ? strlen(json) : 0;
}

void broker_http_error(struct broker_http_response *res, int status, const char *code,
                       const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_pack("{s:{s:s, s:s}}", "error", "code", code, "message", msg);
	broker_http_json(res, status, j ? json_dumps(j, JSON_COMPACT) : NULL);
	json_decref(j);
}

/* ---- reading a request ---- */

static void copy_header(struct lws *wsi, enum lws_token_indexes tok, char *buf, size_t size)
{
	buf[0] = '\0';
	if (lws_hdr_total_length(wsi, tok) > 0 && lws_hdr_total_length(wsi, tok) < (int)size)
		lws_hdr_copy(wsi, buf, (int)size, tok);
}

static void read_method(struct lws *wsi, struct broker_http_request *req)
{
	static const struct {
		enum lws_token_indexes tok;
		const char *name;
	} methods[] = {
		{ WSI_TOKEN_GET_URI, "GET" },     { WSI_TOKEN_POST_URI, "POST" },
		{ WSI_TOKEN_PUT_URI, "PUT" },     { WSI_TOKEN_DELETE_URI, "DELETE" },
		{ WSI_TOKEN_PATCH_URI, "PATCH" }, { WSI_TOKEN_OPTIONS_URI, "OPTIONS" },
		{ WSI_TOKEN_HEAD_URI, "HEAD" },
	};

	/* HTTP/2 carries the method in a pseudo-header. */
	copy_header(wsi, WSI_TOKEN_HTTP_COLON_METHOD, req->method, sizeof(req->method));
	if (req->method[0])
		return;
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (lws_hdr_total_length(wsi, methods[i].tok) > 0) {
			snprintf(req->method, sizeof(req->method), "%s", methods[i].name);
			return;
		}
}

/* The request's path (without the query), from whichever header carries it. */
static void read_path(struct lws *wsi, struct broker_http_request *req)
{
	static const enum lws_token_indexes toks[] = {
		WSI_TOKEN_HTTP_COLON_PATH, WSI_TOKEN_GET_URI,    WSI_TOKEN_POST_URI,
		WSI_TOKEN_PUT_URI,         WSI_TOKEN_DELETE_URI, WSI_TOKEN_PATCH_URI,
		WSI_TOKEN_OPTIONS_URI,     WSI_TOKEN_HEAD_URI,
	};
	char *q;

	for (size_t i = 0; i < sizeof(toks) / sizeof(toks[0]); i++) {
		copy_header(wsi, toks[i], req->path, sizeof(req->path));
		if (req->path[0])
			break;
	}
	q = strchr(req->path, '?'); /* HTTP/2's :path keeps the query */
	if (q)
		*q = '\0';
}

static void read_request(struct lws *wsi, struct pss *p)
{
	struct broker_http_request *req = &p->req;
	int n;

	memset(req, 0, sizeof(*req));
	read_method(wsi, req);
	read_path(wsi, req);
	n = lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS);
	if (n > 0 && n < (int)sizeof(req->query))
		lws_hdr_copy(wsi, req->query, sizeof(req->query), WSI_TOKEN_HTTP_URI_ARGS);
	lws_get_peer_simple(wsi, req->source, sizeof(req->source));
	copy_header(wsi, WSI_TOKEN_HTTP_AUTHORIZATION, req->authorization,
	            sizeof(req->authorization));
	copy_header(wsi, WSI_TOKEN_HTTP_ACCEPT, req->accept, sizeof(req->accept));
	copy_header(wsi, WSI_TOKEN_ORIGIN, req->origin, sizeof(req->origin));
	copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_TYPE, req->content_type, sizeof(req->content_type));
}

/* ---- answering ---- */

static int start_response(struct lws *wsi, struct broker_http *h, struct pss *p)
{
	struct broker_http_response *res = &p->res;

	if (!res->status) {
		broker_http_error(res, 500, "internal", "the request could not be handled");
		res->status = 500;
	}
	if (!res->body) {
		res->body = strdup("");
		res->len = 0;
	}
	p->out = malloc(LWS_PRE + res->len + 1);
	if (!p->out)
		return -1;
	memcpy(p->out + LWS_PRE, res->body, res->len);
	p->out_len = res->len;
	p->out_sent = 0;
	lws_callback_on_writable(wsi);
	return 0;
}

static void dispatch(struct lws *wsi, struct broker_http *h, struct pss *p)
{
	if (p->dispatched)
		return;
	p->dispatched = true;
	memset(&p->res, 0, sizeof(p->res));
	if (p->too_big) {
		broker_http_error(&p->res, 413, "too_large",
		                  "request bodies are limited to %d bytes", BROKER_HTTP_BODY_MAX);
	} else {
		p->req.body = p->body ? p->body : "";
		p->req.body_len = p->body_len;
		h->handler(h->opaque, &p->req, &p->res);
	}
	if (start_response(wsi, h, p) < 0)
		lws_wsi_close(wsi, LWS_TO_KILL_ASYNC);
}

static int write_headers(struct lws *wsi, struct pss *p)
{
	unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *q = start,
	                                   *end = buf + sizeof(buf) - 1;
	struct broker_http_response *res = &p->res;

	if (lws_add_http_common_headers(wsi, (unsigned int)res->status, res->content_type, res->len,
	                                &q, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
	                                (const unsigned char *)"no-store", 8, &q, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
	                                (const unsigned char *)"nosniff", 7, &q, end))
		return -1;
	if (res->retry_after) {
		char v[16];
		int n = snprintf(v, sizeof(v), "%u", res->retry_after);

		if (lws_add_http_header_by_name(wsi, (const unsigned char *)"retry-after:",
		                                (const unsigned char *)v, n, &q, end))
			return -1;
	}
	if (res->disposition[0] &&
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"content-disposition:",
	                                (const unsigned char *)res->disposition,
	                                (int)strlen(res->disposition), &q, end))
		return -1;
	if (lws_finalize_write_http_header(wsi, start, &q, end))
		return -1;
	return 0;
}

static int on_writeable(struct lws *wsi, struct pss *p)
{
	size_t n;
	bool last;

	if (!p->out)
		return 0;
	if (!p->headers_sent) {
		if (write_headers(wsi, p) < 0)
			return -1;
		p->headers_sent = true;
		lws_callback_on_writable(wsi);
		return 0;
	}
	n = p->out_len - p->out_sent;
	if (n > WRITE_CHUNK)
		n = WRITE_CHUNK;
	last = p->out_sent + n == p->out_len;
	/*
	 * lws_write() may use the LWS_PRE bytes before what it sends: the
	 * buffer's headroom for the first chunk, bytes already sent after.
	 */
	if (lws_write(wsi, p->out + LWS_PRE + p->out_sent, n,
	              last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	p->out_sent += n;
	if (last)
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	lws_callback_on_writable(wsi);
	return 0;
}

static void pss_clear(struct pss *p)
{
	free(p->body);
	free(p->res.body);
	free(p->out);
	memset(p, 0, sizeof(*p));
}

static int callback_http(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
	struct broker_http *h = lws_context_user(lws_get_context(wsi));
	struct pss *p = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		pss_clear(p);
		read_request(wsi, p);
		if (strcmp(p->req.method, "GET") == 0 || strcmp(p->req.method, "HEAD") == 0) {
			dispatch(wsi, h, p);
			return 0;
		}
		/* A body follows: answer when it is complete. Without one, answer now. */
		{
			char cl[24];

			copy_header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH, cl, sizeof(cl));
			if (!cl[0] || strtoull(cl, NULL, 10) == 0)
				dispatch(wsi, h, p);
			else if (strtoull(cl, NULL, 10) > BROKER_HTTP_BODY_MAX)
				p->too_big = true; /* read and dropped, then refused */
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY:
		if (!len || p->dispatched)
			return 0;
		if (p->too_big || p->body_len + len > BROKER_HTTP_BODY_MAX) {
			p->too_big = true;
			return 0;
		}
		{
			char *b = realloc(p->body, p->body_len + len + 1);

			if (!b)
				return -1;
			memcpy(b + p->body_len, in, len);
			p->body = b;
			p->body_len += len;
			p->body[p->body_len] = '\0';
		}
		return 0;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		dispatch(wsi, h, p);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return on_writeable(wsi, p);
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return -1; /* WebSockets only by an extra protocol's name (the gateway) */
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (p)
			pss_clear(p);
		return 0;
	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

/* ---- the loop ---- */

static gboolean every_cb(gpointer data)
{
	struct every *e = data;

	e->fn(e->opaque);
	return G_SOURCE_CONTINUE;
}

int broker_http_every(struct broker_http *h, unsigned int period_ms, void (*fn)(void *opaque),
                      void *opaque)
{
	struct every *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->h = h;
	e->fn = fn;
	e->opaque = opaque;
	e->id = g_timeout_add(period_ms, every_cb, e);
	h->timers = g_slist_prepend(h->timers, e);
	return 0;
}

static gboolean watch_cb(gint fd, GIOCondition cond, gpointer data)
{
	struct broker_http_watch *w = data;

	w->fn(w->opaque, fd);
	return G_SOURCE_CONTINUE;
}

struct broker_http_watch *broker_http_watch(struct broker_http *h, int fd,
                                            void (*fn)(void *opaque, int fd), void *opaque)
{
	struct broker_http_watch *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->fd = fd;
	w->fn = fn;
	w->opaque = opaque;
	w->id = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, watch_cb, w);
	return w;
}

void broker_http_unwatch(struct broker_http_watch *w)
{
	if (!w)
		return;
	g_source_remove(w->id);
	free(w);
}

int broker_http_run(struct broker_http *h)
{
	g_main_loop_run(h->loop);
	return 0;
}

void broker_http_stop(struct broker_http *h)
{
	g_main_loop_quit(h->loop);
}

int broker_http_port(struct broker_http *h)
{
	return h->port;
}

static void lws_log_to_ours(int level, const char *line)
{
	char buf[512];
	size_t n;

	snprintf(buf, sizeof(buf), "%s", line);
	n = strlen(buf);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	if (level & LLL_ERR)
		log_warn("http: %s", buf);
	else
		log_debug("http: %s", buf);
}

int broker_http_new(const struct broker_http_config *cfg, struct broker_http **ret, char *err,
                    size_t err_size)
{
	struct broker_http *h = calloc(1, sizeof(*h));
	struct lws_context_creation_info info;
	void *foreign_loops[1];

	if (!h)
		return -ENOMEM;
	h->handler = cfg->handler;
	h->opaque = cfg->opaque;
	h->loop = g_main_loop_new(NULL, FALSE);
	lws_set_log_level(LLL_ERR | LLL_WARN, lws_log_to_ours);

	h->protocols[0] = (struct lws_protocols){ .name = "vdi-http",
		                                  .callback = callback_http,
		                                  .per_session_data_size = sizeof(struct pss) };
	/* Extra protocols (the console gateway) after ours; the array stays { NULL } terminated. */
	for (size_t i = 0; cfg->extra_protocols && cfg->extra_protocols[i].name &&
	                   i < BROKER_HTTP_EXTRA_PROTOCOLS_MAX;
	     i++)
		h->protocols[1 + i] = cfg->extra_protocols[i];
	/* /api and /metrics: ours. */
	h->mounts[0] = (struct lws_http_mount){ .mountpoint = "/api",
		                                .origin = "vdi-http",
		                                .origin_protocol = LWSMPRO_CALLBACK,
		                                .mountpoint_len = 4,
		                                .mount_next = &h->mounts[1] };
	h->mounts[1] = (struct lws_http_mount){ .mountpoint = "/metrics",
		                                .origin = "vdi-http",
		                                .origin_protocol = LWSMPRO_CALLBACK,
		                                .mountpoint_len = 8 };
	if (cfg->web_root && cfg->web_root[0]) {
		snprintf(h->web_root, sizeof(h->web_root), "%s", cfg->web_root);
		h->mounts[1].mount_next = &h->mounts[2];
		h->mounts[2] = (struct lws_http_mount){ .mountpoint = "/",
			                                .origin = h->web_root,
			                                .def = "index.html",
			                                .origin_protocol = LWSMPRO_FILE,
			                                .mountpoint_len = 1,
			                                .cache_max_age = 300,
			                                .cache_reusable = 1,
			                                .cache_revalidate = 1 };
	}

	memset(&info, 0, sizeof(info));
	info.port = cfg->port; /* 0: any free port */
	info.iface = cfg->host;
	info.protocols = h->protocols;
	info.mounts = &h->mounts[0];
	info.ssl_cert_filepath = cfg->cert_path;
	info.ssl_private_key_filepath = cfg->key_path;
	/*
	 * HTTP/1.1 only. With h2 offered, browsers carry the console's
	 * WebSocket inside the page's HTTP/2 connection (RFC 8441, which
	 * libwebsockets announces and cannot be told not to); libwebsockets
	 * 4.1 then loses 224 bytes for every such upgrade the gateway refuses,
	 * and h2's own flow-control windows sit between the tunnel and its
	 * back-pressure. Over HTTP/1.1 each tunnel is a connection of its own,
	 * as with websockify and Guacamole, and the few small page files lose
	 * nothing that matters.
	 */
	info.alpn = "http/1.1";
	info.user = h;
	info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_GLIB |
	               LWS_SERVER_OPTION_HTTP_HEADERS_SECURITY_BEST_PRACTICES_ENFORCE |
	               LWS_SERVER_OPTION_DISABLE_IPV6;
	if (cfg->host && strchr(cfg->host, ':'))
		info.options &= ~(uint64_t)LWS_SERVER_OPTION_DISABLE_IPV6;
	foreign_loops[0] = h->loop;
	info.foreign_loops = foreign_loops;
	info.timeout_secs = 30;
	/*
	 * The one read buffer of the service thread: the most a raw socket (a
	 * console tunnel's VM side) or a file gives at once. libwebsockets'
	 * 4 KiB default makes a tunnel move a screen update in 4 KiB steps,
	 * each a trip around the loop and a TLS record of its own.
	 */
	info.pt_serv_buf_size = BROKER_HTTP_SERV_BUF;
	h->context = lws_create_context(&info);
	if (!h->context) {
		snprintf(err, err_size,
		         "cannot listen on %s:%d (address in use, or bad TLS files?)", cfg->host,
		         cfg->port);
		broker_http_free(h);
		return -EADDRINUSE;
	}
	h->vhost = lws_get_vhost_by_name(h->context, "default");
	h->port = h->vhost ? lws_get_vhost_listen_port(h->vhost) : cfg->port;
	*ret = h;
	return 0;
}

void broker_http_free(struct broker_http *h)
{
	if (!h)
		return;
	for (GSList *l = h->timers; l; l = l->next) {
		struct every *e = l->data;

		g_source_remove(e->id);
		free(e);
	}
	g_slist_free(h->timers);
	if (h->context)
		lws_context_destroy(h->context);
	if (h->loop)
		g_main_loop_unref(h->loop);
	free(h);
}
