// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The browser console gateway; see gateway.h for what it checks and the
 * authentication relay.
 *
 * Each tunnel has two libwebsockets connections: the browser's WebSocket
 * (protocol "vdi-console") and a raw TCP client to the VM's VNC server
 * (protocol "vdi-console-vnc"), both pointing at one struct tunnel through
 * their opaque user data. The tunnel is freed when both are closed.
 * Bytes wait in two buffers, one per direction, written one chunk per
 * WRITEABLE callback.
 */
/* VNC authentication is single DES (openssl/des.h): no way around it. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "broker/gateway.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <jansson.h>
#include <libwebsockets.h>
#include <openssl/crypto.h>
#include <openssl/des.h>
#include <openssl/rand.h>

#include "proto/log.h"
#include "proto/ticket.h"

#define WRITE_MAX (16 * 1024) /* bytes per write to either side */
#define RX_CHUNK 4096         /* largest piece libwebsockets hands us at once */
#define CTL_TIMEOUT_MS 3000   /* the direct set-ticket fallback */
#define TICKET_ARG_MAX (PROTO_TICKET_MAX_LEN + 16)
#define RFB_VERSION "RFB 003.008\n"

enum {
	SV_VERSION,
	SV_TYPES_N,
	SV_TYPES,
	SV_CHALLENGE,
	SV_RESULT,
	SV_FAIL_LEN,
	SV_FAIL_TEXT,
	SV_DONE
};
enum {
	CL_VERSION,
	CL_CHOICE,
	CL_WAIT,
	CL_DONE
};

struct tunnel {
	struct broker_gateway *gw;
	struct tunnel *prev, *next;
	struct lws *ws, *vnc;
	struct broker_gw_rfb rfb;
	struct broker_gw_buf to_vm, to_browser;
	char user[PROTO_TICKET_USER_MAX + 1];
	char vm[PROTO_TICKET_VM_MAX + 1];
	char source[64];
	int64_t opened_ms, last_ms;
	uint64_t bytes_to_vm, bytes_to_browser;
	size_t msg_len;  /* of the browser's message being received */
	bool ws_paused;  /* not reading the browser: to_vm is full */
	bool vnc_paused; /* not reading the VM: to_browser is full */
	bool vnc_connected;
	bool vm_waiting; /* for another tunnel to the same VM to authenticate */
	bool vm_authing; /* secret set, VNC authentication not done yet */
	bool closing;    /* close the browser's side once to_browser is written */
	uint16_t close_status;
	char reason[96];
};

/* What the upgrade's checks found, kept until ESTABLISHED. */
struct pss {
	struct proto_ticket ticket;
	char source[64];
	bool ok;
};

struct broker_gateway {
	struct broker_store *store;
	struct broker_auth *auth;
	uint8_t key[PROTO_TICKET_KEY_MAX];
	size_t key_len;
	char *origins[BROKER_GW_ORIGINS_MAX];
	size_t n_origins;
	unsigned int handshake_timeout, idle_timeout, max_tunnels, max_per_user;
	size_t frame_max;
	broker_gw_set_ticket_fn set_ticket;
	void *opaque;
	struct broker_http *http;
	struct lws_protocols protocols[3];
	struct proto_nonce_cache nonces;
	struct tunnel *tunnels;
	size_t n_tunnels;
	guint timer;
	unsigned char scratch[LWS_PRE + WRITE_MAX]; /* one thread: one write at a time */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- buffers ---- */

int broker_gw_buf_put(struct broker_gw_buf *b, const void *data, size_t n)
{
	if (!n)
		return 0;
	if (b->len + n > BROKER_GW_BUF_MAX)
		return -ENOBUFS;
	if (b->off + b->len + n > b->cap) {
		if (b->off) { /* slide down before growing */
			memmove(b->data, b->data + b->off, b->len);
			b->off = 0;
		}
		if (b->len + n > b->cap) {
			size_t cap = b->cap ? b->cap : 4096;
			uint8_t *d;

			while (cap < b->len + n)
				cap *= 2;
			d = realloc(b->data, cap);
			if (!d)
				return -ENOMEM;
			b->data = d;
			b->cap = cap;
		}
	}
	memcpy(b->data + b->off + b->len, data, n);
	b->len += n;
	return 0;
}

void broker_gw_buf_consume(struct broker_gw_buf *b, size_t n)
{
	if (n >= b->len) {
		b->off = b->len = 0;
		/* An idle tunnel keeps no big buffer around. */
		if (b->cap > 2 * BROKER_GW_HIGH_WATER) {
			free(b->data);
			b->data = NULL;
			b->cap = 0;
		}
		return;
	}
	b->off += n;
	b->len -= n;
}

void broker_gw_buf_free(struct broker_gw_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* ---- the RFB security relay ---- */

int broker_gw_vnc_response(const char *secret, const uint8_t challenge[16], uint8_t out[16])
{
	DES_cblock key;
	DES_key_schedule ks;
	size_t n = strlen(secret);

	memset(key, 0, sizeof(key));
	for (size_t i = 0; i < 8 && i < n; i++) {
		uint8_t c = (uint8_t)secret[i], r = 0;

		for (int bit = 0; bit < 8; bit++) /* VNC's quirk: each key byte bit-reversed */
			if (c & (1u << bit))
				r |= (uint8_t)(0x80u >> bit);
		key[i] = r;
	}
	DES_set_key_unchecked(&key, &ks);
	DES_ecb_encrypt((const_DES_cblock *)challenge, (DES_cblock *)out, &ks, DES_ENCRYPT);
	DES_ecb_encrypt((const_DES_cblock *)(challenge + 8), (DES_cblock *)(out + 8), &ks,
	                DES_ENCRYPT);
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(&ks, sizeof(ks));
	return 0;
}

int broker_gw_rfb_init(struct broker_gw_rfb *r, const char *secret,
                       struct broker_gw_buf *to_browser)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->secret, sizeof(r->secret), "%s", secret);
	r->sv = SV_VERSION;
	r->sneed = 12;
	r->cl = CL_VERSION;
	r->cneed = 12;
	return broker_gw_buf_put(to_browser, RFB_VERSION, 12);
}

bool broker_gw_rfb_done(const struct broker_gw_rfb *r)
{
	return r->sv == SV_DONE && r->cl == CL_DONE;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The browser may go on once both it chose None and the VM accepted us. */
static int maybe_result(struct broker_gw_rfb *r, struct broker_gw_buf *to_browser)
{
	static const uint8_t ok[4] = { 0, 0, 0, 0 };

	if (r->sv != SV_DONE || r->cl != CL_WAIT)
		return 0;
	r->cl = CL_DONE;
	return broker_gw_buf_put(to_browser, ok, sizeof(ok));
}

static int fail(struct broker_gw_rfb *r, int err, const char *why)
{
	snprintf(r->error, sizeof(r->error), "%s", why);
	return err;
}

/* One complete step of the VM side (r->sbuf holds r->sneed bytes). */
static int vm_step(struct broker_gw_rfb *r, struct broker_gw_buf *to_vm,
                   struct broker_gw_buf *to_browser)
{
	static const uint8_t vnc_auth = 2;
	uint8_t resp[16];
	uint32_t n;
	int e;

	switch (r->sv) {
	case SV_VERSION:
		if (memcmp(r->sbuf, RFB_VERSION, 12) != 0)
			return fail(r, -EPROTO, "the VM does not speak RFB 3.8");
		r->sv = SV_TYPES_N;
		r->sneed = 1;
		return broker_gw_buf_put(to_vm, RFB_VERSION, 12);
	case SV_TYPES_N:
		if (r->sbuf[0] == 0) { /* refused at once: a reason follows */
			r->sv = SV_FAIL_LEN;
			r->sneed = 4;
		} else {
			r->sv = SV_TYPES;
			r->sneed = r->sbuf[0];
		}
		return 0;
	case SV_TYPES:
		if (!memchr(r->sbuf, vnc_auth, r->sneed))
			return fail(r, -EPROTO, "the VM does not offer VNC authentication");
		r->sv = SV_CHALLENGE;
		r->sneed = 16;
		return broker_gw_buf_put(to_vm, &vnc_auth, 1);
	case SV_CHALLENGE:
		broker_gw_vnc_response(r->secret, r->sbuf, resp);
		OPENSSL_cleanse(r->secret, sizeof(r->secret)); /* used once */
		e = broker_gw_buf_put(to_vm, resp, sizeof(resp));
		r->sv = SV_RESULT;
		r->sneed = 4;
		return e;
	case SV_RESULT:
		if (be32(r->sbuf) == 0) {
			r->sv = SV_DONE;
			r->sneed = 0;
			return maybe_result(r, to_browser);
		}
		r->sv = SV_FAIL_LEN;
		r->sneed = 4;
		return 0;
	case SV_FAIL_LEN:
		n = be32(r->sbuf);
		if (n == 0)
			return fail(r, -EACCES, "the VM refused the connection");
		r->sv = SV_FAIL_TEXT;
		r->sneed = n < sizeof(r->sbuf) - 1 ? n : sizeof(r->sbuf) - 1;
		return 0;
	case SV_FAIL_TEXT: {
		char why[128];
		size_t i, k = 0;

		/* The VM's words, printable ASCII only, for the log. */
		for (i = 0; i < r->sneed && k < 80; i++)
			why[k++] = r->sbuf[i] >= 0x20 && r->sbuf[i] < 0x7f ? (char)r->sbuf[i] : '?';
		why[k] = '\0';
		snprintf(r->error, sizeof(r->error), "the VM refused: %s", why);
		return -EACCES;
	}
	default:
		return -EPROTO;
	}
}

int broker_gw_rfb_from_vm(struct broker_gw_rfb *r, const uint8_t *in, size_t len,
                          struct broker_gw_buf *to_vm, struct broker_gw_buf *to_browser)
{
	size_t used = 0;

	while (used < len && r->sv != SV_DONE) {
		size_t n = r->sneed - r->slen;
		int e;

		if (n > len - used)
			n = len - used;
		memcpy(r->sbuf + r->slen, in + used, n);
		r->slen += n;
		used += n;
		if (r->slen < r->sneed)
			break;
		r->slen = 0;
		e = vm_step(r, to_vm, to_browser);
		if (e < 0)
			return e;
	}
	return (int)used;
}

int broker_gw_rfb_from_browser(struct broker_gw_rfb *r, const uint8_t *in, size_t len,
                               struct broker_gw_buf *to_vm, struct broker_gw_buf *to_browser)
{
	static const uint8_t types[2] = { 1, 1 }; /* one type: None */
	size_t used = 0;

	(void)to_vm;
	while (used < len && r->cl != CL_DONE) {
		size_t n;
		int e;

		if (r->cl == CL_WAIT)
			return fail(r, -EPROTO, "the browser spoke before the security result");
		n = r->cneed - r->clen;
		if (n > len - used)
			n = len - used;
		memcpy(r->cbuf + r->clen, in + used, n);
		r->clen += n;
		used += n;
		if (r->clen < r->cneed)
			break;
		r->clen = 0;
		if (r->cl == CL_VERSION) {
			if (memcmp(r->cbuf, RFB_VERSION, 12) != 0)
				return fail(r, -EPROTO, "the browser does not speak RFB 3.8");
			r->cl = CL_CHOICE;
			r->cneed = 1;
			e = broker_gw_buf_put(to_browser, types, sizeof(types));
		} else { /* CL_CHOICE */
			if (r->cbuf[0] != 1)
				return fail(r, -EPROTO,
				            "the browser chose a security type not offered");
			r->cl = CL_WAIT;
			r->cneed = 0;
			e = maybe_result(r, to_browser);
		}
		if (e < 0)
			return e;
	}
	return (int)used;
}

/* ---- setting the VM's one-time secret ---- */

static int random_secret(char *out, size_t len)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char b[32];

	if (len >= sizeof(b) || RAND_bytes(b, (int)len) != 1)
		return -EIO;
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
	out[len] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

/*
 * Without a set_ticket callback (tests, or before VM supervision is wired):
 * one request on the VM's control socket, waiting up to CTL_TIMEOUT_MS.
 */
static int set_ticket_direct(const struct broker_vm *vm, const char *secret, unsigned int lifetime)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char line[4096];
	size_t got = 0;
	int64_t end = now_ms() + CTL_TIMEOUT_MS;
	json_t *req, *reply;
	char *text;
	int fd, r = -ETIMEDOUT;

	if (!vm->control_path[0] || strlen(vm->control_path) >= sizeof(sun.sun_path))
		return -ENOENT;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", vm->control_path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	req = json_pack("{s:i, s:s, s:{s:s, s:s, s:i}}", "id", 1, "cmd", "set-ticket", "args",
	                "protocol", "vnc", "secret", secret, "expires_in", (int)lifetime);
	text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (!text) {
		close(fd);
		return -ENOMEM;
	}
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text) || write(fd, "\n", 1) != 1)
		r = -EIO;
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	/* Events may come before the reply; read lines until ours. */
	while (r == -ETIMEDOUT && now_ms() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char *nl;
		ssize_t n;

		if (poll(&p, 1, (int)(end - now_ms())) <= 0)
			continue;
		n = read(fd, line + got, sizeof(line) - 1 - got);
		if (n <= 0) {
			r = -ECONNRESET;
			break;
		}
		got += (size_t)n;
		line[got] = '\0';
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			reply = json_loads(line, 0, NULL);
			if (reply && json_integer_value(json_object_get(reply, "id")) == 1)
				r = json_object_get(reply, "ok") ? 0 : -EREMOTEIO;
			json_decref(reply);
			got -= (size_t)(nl + 1 - line);
			memmove(line, nl + 1, got + 1);
			if (r != -ETIMEDOUT)
				break;
		}
		if (got == sizeof(line) - 1)
			r = -EMSGSIZE;
	}
	close(fd);
	return r;
}

/* ---- tunnels ---- */

static void rxflow(struct lws *wsi, bool enable, bool other)
{
	int f = (enable ? LWS_RXFLOW_REASON_APPLIES_ENABLE : LWS_RXFLOW_REASON_APPLIES_DISABLE) |
	        LWS_RXFLOW_REASON_USER_BOOL;

	/* Changing another connection's state must take effect now. */
	if (other)
		f |= LWS_RXFLOW_REASON_FLAG_PROCESS_NOW;
	lws_rx_flow_control(wsi, f);
}

static void audit(struct broker_gateway *gw, const char *event, const char *user,
                  const char *source, const char *vm, json_t *detail)
{
	char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;

	if (gw->auth)
		broker_auth_audit(gw->auth, event, user, source, vm, d);
	free(d);
	json_decref(detail);
}

static void vm_auth_over(struct tunnel *t);

/* Close the browser's side with @status once what the VM sent is written. */
static void tunnel_close(struct tunnel *t, uint16_t status, const char *reason, bool drop_pending)
{
	if (!t->closing) {
		t->closing = true;
		t->close_status = status;
	}
	if (!t->reason[0]) /* the first cause is the one audited */
		snprintf(t->reason, sizeof(t->reason), "%s", reason);
	if (drop_pending)
		broker_gw_buf_consume(&t->to_browser, t->to_browser.len);
	if (t->ws) {
		lws_callback_on_writable(t->ws);
		/* A stuck peer (an HTTP/2 stream, were h2 offered, would end with its connection).
		 */
		if (lws_get_network_wsi(t->ws) == t->ws)
			lws_set_timeout(t->ws, PENDING_TIMEOUT_USER_OK, 5);
	}
	/*
	 * Nothing more goes to the VM. A connection still being made is left
	 * to finish: RAW_CONNECTED (which refuses it) or CONNECTION_ERROR
	 * follows for sure, where killing it half-way may report nothing.
	 */
	if (t->vnc && t->vnc_connected)
		lws_set_timeout(t->vnc, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
	vm_auth_over(t);
}

/* Unlink, audit and free once neither side is open. */
static void tunnel_maybe_free(struct tunnel *t)
{
	struct broker_gateway *gw = t->gw;

	if (t->ws || t->vnc)
		return;
	if (t->prev)
		t->prev->next = t->next;
	else
		gw->tunnels = t->next;
	if (t->next)
		t->next->prev = t->prev;
	gw->n_tunnels--;
	log_info("console closed: user=%s vm=%s to_vm=%llu to_browser=%llu reason=%s", t->user,
	         t->vm, (unsigned long long)t->bytes_to_vm, (unsigned long long)t->bytes_to_browser,
	         t->reason[0] ? t->reason : "closed");
	audit(gw, "console.close", t->user, t->source, t->vm,
	      json_pack("{s:I, s:I, s:f, s:s}", "bytes_to_vm", (json_int_t)t->bytes_to_vm,
	                "bytes_to_browser", (json_int_t)t->bytes_to_browser, "seconds",
	                (double)(now_ms() - t->opened_ms) / 1000.0, "reason",
	                t->reason[0] ? t->reason : "closed"));
	broker_gw_buf_free(&t->to_vm);
	broker_gw_buf_free(&t->to_browser);
	OPENSSL_cleanse(&t->rfb, sizeof(t->rfb));
	free(t);
}

static void wake(struct tunnel *t)
{
	if (t->ws && t->to_browser.len)
		lws_callback_on_writable(t->ws);
	if (t->vnc && t->vnc_connected && t->to_vm.len)
		lws_callback_on_writable(t->vnc);
}

/* Bytes from the VM: the handshake, then the relay. */
static int from_vm(struct tunnel *t, const uint8_t *in, size_t len)
{
	int used = 0;

	t->last_ms = now_ms();
	if (!broker_gw_rfb_done(&t->rfb) && t->rfb.sv != SV_DONE) {
		used = broker_gw_rfb_from_vm(&t->rfb, in, len, &t->to_vm, &t->to_browser);
		if (used < 0) {
			log_warn("console: user=%s vm=%s: %s", t->user, t->vm,
			         t->rfb.error[0] ? t->rfb.error : "handshake failed");
			tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
			             used == -EACCES ? "the desktop refused the gateway"
			                             : "the desktop's console failed",
			             true);
			return -1;
		}
		if (t->rfb.sv == SV_DONE)
			vm_auth_over(t);
	}
	if ((size_t)used < len &&
	    broker_gw_buf_put(&t->to_browser, in + used, len - (size_t)used) < 0) {
		tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "buffer overflow", true);
		return -1;
	}
	if (t->to_browser.len >= BROKER_GW_HIGH_WATER && !t->vnc_paused) {
		t->vnc_paused = true;
		rxflow(t->vnc, false, false);
	}
	wake(t);
	return 0;
}

/* Bytes from the browser. */
static int from_browser(struct tunnel *t, const uint8_t *in, size_t len)
{
	int used = 0;

	t->last_ms = now_ms();
	if (t->rfb.cl != CL_DONE) {
		used = broker_gw_rfb_from_browser(&t->rfb, in, len, &t->to_vm, &t->to_browser);
		if (used < 0) {
			log_info("console: user=%s vm=%s: %s", t->user, t->vm, t->rfb.error);
			tunnel_close(t, LWS_CLOSE_STATUS_PROTOCOL_ERR, "RFB protocol error", true);
			return -1;
		}
	}
	if ((size_t)used < len && broker_gw_buf_put(&t->to_vm, in + used, len - (size_t)used) < 0) {
		tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "buffer overflow", true);
		return -1;
	}
	if (t->to_vm.len >= BROKER_GW_HIGH_WATER && !t->ws_paused) {
		t->ws_paused = true;
		rxflow(t->ws, false, false);
	}
	wake(t);
	return 0;
}

/* ---- the upgrade's checks ---- */

static void copy_hdr(struct lws *wsi, enum lws_token_indexes tok, char *buf, size_t size)
{
	int n = lws_hdr_total_length(wsi, tok);

	buf[0] = '\0';
	if (n > 0 && n < (int)size)
		lws_hdr_copy(wsi, buf, (int)size, tok);
}

static bool origin_ok(struct broker_gateway *gw, struct lws *wsi)
{
	char origin[256], host[256], own[300];

	copy_hdr(wsi, WSI_TOKEN_ORIGIN, origin, sizeof(origin));
	if (!origin[0])
		return false;
	for (size_t i = 0; i < gw->n_origins; i++)
		if (strcmp(origin, gw->origins[i]) == 0)
			return true;
	/* The broker's own origin: the page that opens the socket came from this host. */
	copy_hdr(wsi, WSI_TOKEN_HOST, host, sizeof(host));
	if (!host[0])
		copy_hdr(wsi, WSI_TOKEN_HTTP_COLON_AUTHORITY, host, sizeof(host));
	if (!host[0])
		return false;
	snprintf(own, sizeof(own), "https://%s", host);
	return strcasecmp(origin, own) == 0;
}

static bool path_ok(struct lws *wsi)
{
	char path[BROKER_HTTP_PATH_MAX];
	char *q;

	copy_hdr(wsi, WSI_TOKEN_GET_URI, path, sizeof(path));
	if (!path[0])
		copy_hdr(wsi, WSI_TOKEN_HTTP_COLON_PATH, path, sizeof(path));
	q = strchr(path, '?');
	if (q)
		*q = '\0';
	return strcmp(path, BROKER_GW_PATH) == 0;
}

static size_t user_tunnels(struct broker_gateway *gw, const char *user)
{
	size_t n = 0;

	for (struct tunnel *t = gw->tunnels; t; t = t->next)
		n += strcmp(t->user, user) == 0;
	return n;
}

/* The VM the ticket names, running and assigned to the ticket's user. */
static int ticket_vm(struct broker_gateway *gw, const char *vm_name, const char *user,
                     struct broker_vm *vm)
{
	struct broker_user u;

	if (broker_store_vm_get_by_name(gw->store, vm_name, vm) < 0)
		return -ENOENT;
	if (broker_store_user_get_by_name(gw->store, user, &u) < 0 || vm->user_id != u.id) {
		OPENSSL_cleanse(&u, sizeof(u));
		return -EPERM;
	}
	OPENSSL_cleanse(&u, sizeof(u));
	if (vm->state != BROKER_VM_RUNNING || !vm->vnc_host[0] || vm->vnc_port <= 0)
		return -EAGAIN;
	return 0;
}

/* 0 to accept the upgrade; anything else refuses it (no 101, nothing reaches a VM). */
static int filter(struct broker_gateway *gw, struct lws *wsi, struct pss *p)
{
	char arg[TICKET_ARG_MAX + 8];
	const char *ticket;
	struct broker_vm vm;
	int64_t now = (int64_t)time(NULL);
	int r;

	memset(p, 0, sizeof(*p));
	lws_get_peer_simple(wsi, p->source, sizeof(p->source));
	if (!path_ok(wsi)) {
		log_info("console refused: source=%s: not %s", p->source, BROKER_GW_PATH);
		return -1;
	}
	if (!origin_ok(gw, wsi)) {
		log_warn("console refused: source=%s: origin not allowed", p->source);
		return -1;
	}
	ticket = lws_get_urlarg_by_name(wsi, "ticket=", arg, sizeof(arg));
	if (!ticket || !ticket[0]) {
		log_info("console refused: source=%s: no ticket", p->source);
		return -1;
	}
	r = proto_ticket_verify(ticket, gw->key, gw->key_len, now, &p->ticket);
	if (r < 0) {
		log_warn("console refused: source=%s: %s", p->source, proto_ticket_strerror(r));
		return -1;
	}
	if (!(p->ticket.protocols & PROTO_TICKET_WS)) {
		log_warn("console refused: source=%s: ticket not for the gateway", p->source);
		return -1;
	}
	if (gw->n_tunnels >= gw->max_tunnels ||
	    user_tunnels(gw, p->ticket.user) >= gw->max_per_user) {
		log_warn("console refused: user=%s: too many consoles open", p->ticket.user);
		audit(gw, "console.refused", p->ticket.user, p->source, p->ticket.vm,
		      json_pack("{s:s}", "reason", "too many consoles"));
		return -1;
	}
	/* Single use: from here on this ticket is spent, whatever happens next. */
	r = proto_nonce_cache_use(&gw->nonces, p->ticket.nonce, p->ticket.expires, now);
	if (r < 0) {
		log_warn("console refused: user=%s: ticket %s", p->ticket.user,
		         r == -EALREADY ? "already used" : "cannot be remembered");
		audit(gw, "console.refused", p->ticket.user, p->source, p->ticket.vm,
		      json_pack("{s:s}", "reason",
		                r == -EALREADY ? "ticket reused" : "nonce cache full"));
		return -1;
	}
	r = ticket_vm(gw, p->ticket.vm, p->ticket.user, &vm);
	if (r < 0) {
		log_warn("console refused: user=%s vm=%s: %s", p->ticket.user, p->ticket.vm,
		         r == -ENOENT  ? "no such VM"
		         : r == -EPERM ? "not the user's VM"
		                       : "VM not running");
		audit(gw, "console.refused", p->ticket.user, p->source, p->ticket.vm,
		      json_pack("{s:s}", "reason", r == -EAGAIN ? "not running" : "not yours"));
		return -1;
	}
	p->ok = true;
	return 0;
}

/*
 * Set a fresh secret on @t's VM and connect to its VNC server. The VM
 * accepts one secret at a time, so per VM only one tunnel is between
 * setting it and being through the VNC authentication; kick() starts
 * the others in turn.
 */
static void start_vm_side(struct tunnel *t)
{
	struct broker_gateway *gw = t->gw;
	struct lws_client_connect_info ci;
	char secret[BROKER_GW_VNC_SECRET_LEN + 1];
	struct broker_vm vm;
	int r;

	t->vm_waiting = false;
	/* Again: the row may have changed since the upgrade's checks. */
	if (ticket_vm(gw, t->vm, t->user, &vm) < 0) {
		tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "desktop unavailable", true);
		return;
	}
	if (random_secret(secret, BROKER_GW_VNC_SECRET_LEN) < 0) {
		tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "internal error", true);
		return;
	}
	snprintf(t->rfb.secret, sizeof(t->rfb.secret), "%s", secret);
	r = -ENOENT;
	if (gw->set_ticket)
		r = gw->set_ticket(gw->opaque, &vm, "vnc", secret, BROKER_GW_VNC_SECRET_LIFETIME);
	/*
	 * No core, or a VM the core does not run (started by hand or by a
	 * test, and written to the store): its row names its control socket.
	 */
	if (r == -ENOENT)
		r = set_ticket_direct(&vm, secret, BROKER_GW_VNC_SECRET_LIFETIME);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (r < 0) {
		log_warn("console: user=%s vm=%s: cannot set the VNC secret: %s", t->user, t->vm,
		         strerror(-r));
		tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "desktop unavailable", true);
		return;
	}
	memset(&ci, 0, sizeof(ci));
	ci.context = lws_get_context(t->ws);
	ci.vhost = lws_get_vhost(t->ws);
	ci.address = vm.vnc_host;
	ci.port = vm.vnc_port;
	ci.host = vm.vnc_host;
	ci.origin = vm.vnc_host;
	ci.method = "RAW";
	ci.local_protocol_name = BROKER_GW_VNC_PROTOCOL;
	ci.opaque_user_data = t;
	ci.pwsi = &t->vnc;
	t->vm_authing = true;
	if (!lws_client_connect_via_info(&ci)) {
		t->vnc = NULL;
		tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "cannot reach the desktop",
		             true);
	}
}

/* Start the VM side of the oldest tunnel waiting for VM @vm, unless one is authenticating. */
static void kick(struct broker_gateway *gw, const char *vm)
{
	for (;;) {
		struct tunnel *next = NULL;

		for (struct tunnel *t = gw->tunnels; t; t = t->next) {
			if (strcmp(t->vm, vm) != 0)
				continue;
			if (t->vm_authing)
				return;
			if (t->vm_waiting && !t->closing && t->ws)
				next = t; /* the list is newest first: keep the last */
		}
		if (!next)
			return;
		start_vm_side(next);
	}
}

/* @t's VM side is through the VNC authentication, or gone: the next may start. */
static void vm_auth_over(struct tunnel *t)
{
	if (!t->vm_authing)
		return;
	t->vm_authing = false;
	kick(t->gw, t->vm);
}

/* The upgrade went through: the tunnel, then its VM side when the VM is free. */
static int established(struct broker_gateway *gw, struct lws *wsi, struct pss *p)
{
	struct tunnel *t;

	if (!p->ok)
		return -1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -1;
	t->gw = gw;
	t->ws = wsi;
	snprintf(t->user, sizeof(t->user), "%s", p->ticket.user);
	snprintf(t->vm, sizeof(t->vm), "%s", p->ticket.vm);
	snprintf(t->source, sizeof(t->source), "%s", p->source);
	t->opened_ms = t->last_ms = now_ms();
	t->next = gw->tunnels;
	if (gw->tunnels)
		gw->tunnels->prev = t;
	gw->tunnels = t;
	gw->n_tunnels++;
	lws_set_opaque_user_data(wsi, t);
	audit(gw, "console.open", t->user, t->source, t->vm, json_pack("{s:s}", "protocol", "ws"));
	log_info("console open: user=%s vm=%s source=%s", t->user, t->vm, t->source);

	if (broker_gw_rfb_init(&t->rfb, "", &t->to_browser) < 0) {
		tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION, "internal error", true);
		return 0;
	}
	t->vm_waiting = true;
	kick(gw, t->vm);
	wake(t);
	return 0;
}

/* ---- libwebsockets callbacks ---- */

static int write_browser(struct broker_gateway *gw, struct tunnel *t, struct lws *wsi)
{
	size_t n = t->to_browser.len;

	if (n) {
		if (n > WRITE_MAX)
			n = WRITE_MAX;
		memcpy(gw->scratch + LWS_PRE, t->to_browser.data + t->to_browser.off, n);
		if (lws_write(wsi, gw->scratch + LWS_PRE, n, LWS_WRITE_BINARY) < (int)n)
			return -1;
		broker_gw_buf_consume(&t->to_browser, n);
		t->bytes_to_browser += n;
		t->last_ms = now_ms();
		if (t->vnc_paused && t->vnc && t->to_browser.len <= BROKER_GW_LOW_WATER) {
			t->vnc_paused = false;
			rxflow(t->vnc, true, true);
		}
		if (t->to_browser.len || t->closing)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (t->closing) {
		lws_close_reason(wsi, t->close_status, (unsigned char *)t->reason,
		                 strlen(t->reason));
		return -1;
	}
	return 0;
}

static int callback_console(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len)
{
	struct broker_gateway *gw = (struct broker_gateway *)lws_get_protocol(wsi)->user;
	struct tunnel *t = lws_get_opaque_user_data(wsi);
	struct pss *p = user;

	switch (reason) {
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return filter(gw, wsi, p) ? -1 : 0;
	case LWS_CALLBACK_ESTABLISHED:
		return established(gw, wsi, p);
	case LWS_CALLBACK_RECEIVE:
		if (!t || t->closing)
			return 0; /* dropped: the tunnel is going */
		if (!lws_frame_is_binary(wsi)) {
			snprintf(t->reason, sizeof(t->reason), "text frame");
			lws_close_reason(wsi, LWS_CLOSE_STATUS_UNACCEPTABLE_OPCODE,
			                 (unsigned char *)"binary frames only", 18);
			return -1;
		}
		if (lws_is_first_fragment(wsi))
			t->msg_len = 0;
		t->msg_len += len;
		if (t->msg_len + lws_remaining_packet_payload(wsi) > gw->frame_max) {
			snprintf(t->reason, sizeof(t->reason), "message too large");
			lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
			                 (unsigned char *)"message too large", 17);
			return -1;
		}
		from_browser(t, in, len);
		return 0;
	case LWS_CALLBACK_SERVER_WRITEABLE:
		if (!t)
			return 0;
		return write_browser(gw, t, wsi);
	case LWS_CALLBACK_CLOSED:
		if (!t)
			return 0;
		lws_set_opaque_user_data(wsi, NULL);
		t->ws = NULL;
		t->closing = true;
		if (!t->reason[0])
			snprintf(t->reason, sizeof(t->reason), "browser closed");
		if (t->vnc && t->vnc_connected) /* see tunnel_close() */
			lws_set_timeout(t->vnc, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		tunnel_maybe_free(t);
		return 0;
	default:
		break;
	}
	return 0;
}

static int callback_vnc(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                        size_t len)
{
	struct broker_gateway *gw = (struct broker_gateway *)lws_get_protocol(wsi)->user;
	struct tunnel *t = lws_get_opaque_user_data(wsi);

	(void)user;
	switch (reason) {
	case LWS_CALLBACK_RAW_CONNECTED:
		if (!t)
			return -1;
		t->vnc = wsi;
		t->vnc_connected = true;
		if (t->closing || !t->ws)
			return -1; /* RAW_CLOSE follows */
		wake(t);
		return 0;
	case LWS_CALLBACK_RAW_RX:
		if (!t || t->closing)
			return 0;
		return from_vm(t, in, len);
	case LWS_CALLBACK_RAW_WRITEABLE: {
		size_t n;

		if (!t || t->closing)
			return t ? -1 : 0;
		n = t->to_vm.len;
		if (!n)
			return 0;
		if (n > WRITE_MAX)
			n = WRITE_MAX;
		memcpy(gw->scratch + LWS_PRE, t->to_vm.data + t->to_vm.off, n);
		if (lws_write(wsi, gw->scratch + LWS_PRE, n, LWS_WRITE_RAW) < (int)n)
			return -1;
		broker_gw_buf_consume(&t->to_vm, n);
		t->bytes_to_vm += n;
		if (t->ws_paused && t->ws && t->to_vm.len <= BROKER_GW_LOW_WATER) {
			t->ws_paused = false;
			rxflow(t->ws, true, true);
		}
		if (t->to_vm.len)
			lws_callback_on_writable(wsi);
		return 0;
	}
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
	case LWS_CALLBACK_RAW_CLOSE:
		if (!t)
			return 0;
		lws_set_opaque_user_data(wsi, NULL);
		t->vnc = NULL;
		if (!t->ws) /* the browser went first: its reason stands */
			vm_auth_over(t);
		else if (reason == LWS_CALLBACK_CLIENT_CONNECTION_ERROR || !t->vnc_connected)
			tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
			             "cannot reach the desktop", true);
		else if (broker_gw_rfb_done(&t->rfb))
			tunnel_close(t, LWS_CLOSE_STATUS_NORMAL, "the desktop closed the console",
			             false);
		else
			tunnel_close(t, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION,
			             t->rfb.error[0] ? "the desktop refused the gateway"
			                             : "the desktop closed the console",
			             true);
		tunnel_maybe_free(t);
		return 0;
	default:
		break;
	}
	return 0;
}

/* Handshake and idle deadlines, once a second. */
static gboolean sweep(gpointer data)
{
	struct broker_gateway *gw = data;
	int64_t now = now_ms();

	for (struct tunnel *t = gw->tunnels; t; t = t->next) {
		if (t->closing || !t->ws)
			continue;
		if (!broker_gw_rfb_done(&t->rfb) &&
		    now - t->opened_ms > (int64_t)gw->handshake_timeout * 1000)
			tunnel_close(t, LWS_CLOSE_STATUS_POLICY_VIOLATION, "handshake timeout",
			             true);
		else if (now - t->last_ms > (int64_t)gw->idle_timeout * 1000)
			tunnel_close(t, LWS_CLOSE_STATUS_GOINGAWAY, "idle timeout", true);
	}
	return G_SOURCE_CONTINUE;
}

/* ---- life cycle ---- */

int broker_gateway_new(const struct broker_gateway_config *cfg, struct broker_gateway **ret)
{
	struct broker_gateway *gw;

	if (!cfg->store || cfg->ticket_key_len < PROTO_TICKET_KEY_MIN ||
	    cfg->ticket_key_len > PROTO_TICKET_KEY_MAX)
		return -EINVAL;
	gw = calloc(1, sizeof(*gw));
	if (!gw)
		return -ENOMEM;
	gw->store = cfg->store;
	gw->auth = cfg->auth;
	memcpy(gw->key, cfg->ticket_key, cfg->ticket_key_len);
	gw->key_len = cfg->ticket_key_len;
	for (size_t i = 0; cfg->origins && cfg->origins[i]; i++) {
		if (gw->n_origins == BROKER_GW_ORIGINS_MAX) {
			broker_gateway_free(gw);
			return -EINVAL;
		}
		gw->origins[gw->n_origins] = strdup(cfg->origins[i]);
		if (!gw->origins[gw->n_origins++]) {
			broker_gateway_free(gw);
			return -ENOMEM;
		}
	}
	gw->handshake_timeout =
	        cfg->handshake_timeout ? cfg->handshake_timeout : BROKER_GW_HANDSHAKE_TIMEOUT;
	gw->idle_timeout = cfg->idle_timeout ? cfg->idle_timeout : BROKER_GW_IDLE_TIMEOUT;
	gw->frame_max = cfg->frame_max ? cfg->frame_max : BROKER_GW_FRAME_MAX;
	gw->max_tunnels = cfg->max_tunnels ? cfg->max_tunnels : BROKER_GW_MAX_TUNNELS;
	gw->max_per_user = cfg->max_per_user ? cfg->max_per_user : BROKER_GW_MAX_PER_USER;
	gw->set_ticket = cfg->set_ticket;
	gw->opaque = cfg->opaque;
	if (proto_nonce_cache_init(&gw->nonces, BROKER_GW_NONCES) < 0) {
		broker_gateway_free(gw);
		return -ENOMEM;
	}
	gw->protocols[0] = (struct lws_protocols){ .name = BROKER_GW_PROTOCOL,
		                                   .callback = callback_console,
		                                   .per_session_data_size = sizeof(struct pss),
		                                   .rx_buffer_size = RX_CHUNK,
		                                   /* a message and its header in one send */
		                                   .tx_packet_size = WRITE_MAX + 16,
		                                   .user = gw };
	gw->protocols[1] = (struct lws_protocols){ .name = BROKER_GW_VNC_PROTOCOL,
		                                   .callback = callback_vnc,
		                                   .tx_packet_size = WRITE_MAX,
		                                   .user = gw };
	*ret = gw;
	return 0;
}

const struct lws_protocols *broker_gateway_protocols(struct broker_gateway *gw)
{
	return gw->protocols;
}

void broker_gateway_set_ticket(struct broker_gateway *gw, broker_gw_set_ticket_fn fn, void *opaque)
{
	gw->set_ticket = fn;
	gw->opaque = opaque;
}

void broker_gateway_attach(struct broker_gateway *gw, struct broker_http *http)
{
	gw->http = http;
	if (!gw->timer)
		gw->timer = g_timeout_add_seconds(1, sweep, gw);
}

size_t broker_gateway_tunnels(const struct broker_gateway *gw)
{
	return gw->n_tunnels;
}

void broker_gateway_free(struct broker_gateway *gw)
{
	if (!gw)
		return;
	if (gw->timer)
		g_source_remove(gw->timer);
	/* Tunnels still here had their connections destroyed without callbacks. */
	while (gw->tunnels) {
		struct tunnel *t = gw->tunnels;

		t->ws = t->vnc = NULL;
		snprintf(t->reason, sizeof(t->reason), "broker stopping");
		tunnel_maybe_free(t);
	}
	for (size_t i = 0; i < gw->n_origins; i++)
		free(gw->origins[i]);
	proto_nonce_cache_free(&gw->nonces);
	OPENSSL_cleanse(gw->key, sizeof(gw->key));
	free(gw);
}
