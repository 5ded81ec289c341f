/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The browser console gateway: WebSocket tunnels from noVNC in a browser
 * to a desktop's VNC server, in the broker process, on the same
 * libwebsockets context and TLS port as the API.
 *
 *   wss://BROKER/api/v1/console?ticket=v1.xxx.yyy   subprotocol "vdi-console"
 *
 * Before the upgrade is answered, the gateway checks the Origin (the
 * broker's own origin, i.e. the request's Host, or one of the configured
 * origins), the path, the ticket (MAC, expiry, the "ws" protocol bit, then
 * single use through a nonce cache), that the ticket's VM exists, runs,
 * and is assigned to the ticket's user, and the caps on tunnels (overall
 * and per user). A refused upgrade gets no 101 and nothing reaches a VM.
 * The target host and port come from the VM's row in the store, never
 * from the request.
 *
 * Authentication relay. The VM's VNC server only lets in a client that
 * knows a one-time secret set over its control socket; the browser never
 * learns that secret. For each tunnel the gateway makes a fresh 8-character
 * secret, sets it on the VM (the set_ticket callback, or directly on the
 * VM's control socket when none is given), connects to the VM's VNC port
 * and performs the RFB 3.8 security handshake on both sides itself:
 *
 *   browser <- "RFB 003.008\n"       VM -> "RFB 003.008\n"
 *   browser -> "RFB 003.008\n"       VM <- "RFB 003.008\n"
 *   browser <- [1, None]             VM -> [n, types...]      (must offer 2)
 *   browser -> None                  VM <- VNC authentication
 *                                    VM -> challenge (16 bytes)
 *                                    VM <- DES(challenge, secret)
 *                                    VM -> SecurityResult
 *   browser <- SecurityResult OK     (only once the VM said OK)
 *
 * A VM holds one such secret at a time, so per VM one tunnel at a time is
 * between setting its secret and the VM's SecurityResult; other tunnels to
 * the same VM (a second tab) wait their turn.
 *
 * From then on (ClientInit, ServerInit, everything else) the tunnel is a
 * plain byte relay: binary WebSocket messages one way, TCP the other. The
 * handshake is the small state machine struct broker_gw_rfb below, which
 * has no I/O so unit tests can feed it bytes.
 *
 * Limits: binary frames only (a text frame closes with 1003), messages up
 * to frame_max bytes (more closes with 1009), a handshake deadline, an idle
 * deadline (no byte either way). Back-pressure both ways: when the bytes
 * waiting for one side pass BROKER_GW_HIGH_WATER, the gateway stops reading
 * the other side (libwebsockets rx flow control) until they drop below
 * BROKER_GW_LOW_WATER, so a tunnel's buffers stay around 2 x 20 KiB.
 *
 * Audit: "console.open" and "console.close" (with bytes each way, seconds
 * and the reason) for every tunnel; "console.refused" for a refused
 * upgrade that carried an authentic ticket.
 *
 * Everything runs on the broker's loop thread (the libwebsockets service
 * thread); nothing here takes locks.
 */
#ifndef VDI_BROKER_GATEWAY_H
#define VDI_BROKER_GATEWAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/auth.h"
#include "broker/http.h"
#include "broker/store.h"

#define BROKER_GW_PATH "/api/v1/console"
#define BROKER_GW_PROTOCOL "vdi-console"         /* the WebSocket subprotocol */
#define BROKER_GW_VNC_PROTOCOL "vdi-console-vnc" /* the VM side (raw TCP), internal */

#define BROKER_GW_FRAME_MAX (64 * 1024)  /* default largest message from a browser */
#define BROKER_GW_HANDSHAKE_TIMEOUT 15   /* s: upgrade to RFB security done */
#define BROKER_GW_IDLE_TIMEOUT 3600      /* s without a byte either way */
#define BROKER_GW_MAX_TUNNELS 256        /* open at once, overall */
#define BROKER_GW_MAX_PER_USER 4         /* open at once, per user */
#define BROKER_GW_ORIGINS_MAX 8          /* extra allowed origins */
#define BROKER_GW_HIGH_WATER (16 * 1024) /* bytes waiting: stop reading the source */
#define BROKER_GW_LOW_WATER (4 * 1024)   /* ...until they drop to this */
#define BROKER_GW_BUF_MAX (256 * 1024)   /* never more waiting than this: close */
#define BROKER_GW_VNC_SECRET_LEN 8       /* VNC authentication's DES key */
#define BROKER_GW_VNC_SECRET_LIFETIME 30 /* s the VM accepts the secret */
#define BROKER_GW_NONCES 4096            /* tickets remembered for single use */

/*
 * Set a one-time secret for @protocol ("vnc") on @vm's display server and
 * return 0 once the VM has it, or -errno; -ENOENT (a VM the core does not
 * run) makes the gateway set it over vm->control_path itself. The same
 * signature as broker_api_desktops.set_ticket, so the core can pass that.
 */
typedef int (*broker_gw_set_ticket_fn)(void *opaque, const struct broker_vm *vm,
                                       const char *protocol, const char *secret,
                                       unsigned int lifetime);

struct broker_gateway_config {
	struct broker_store *store; /* not owned; VM rows */
	struct broker_auth *auth;   /* not owned; the audit log */
	const uint8_t *ticket_key;  /* 32..64 bytes, copied */
	size_t ticket_key_len;
	/* Allowed origins besides the broker's own ("https://host:port"), or NULL. */
	const char *const *origins;
	unsigned int handshake_timeout; /* s; 0: default */
	unsigned int idle_timeout;      /* s; 0: default */
	size_t frame_max;               /* bytes; 0: default */
	unsigned int max_tunnels;       /* 0: default */
	unsigned int max_per_user;      /* 0: default */
	/* NULL: set the secret directly over the VM's control socket (vm->control_path). */
	broker_gw_set_ticket_fn set_ticket;
	void *opaque;
};

struct broker_gateway;
struct lws_protocols;

/*
 * Make the gateway. Give broker_gateway_protocols() to the HTTPS server
 * (broker_http_config.extra_protocols), then broker_gateway_attach() the
 * server. 0, -EINVAL (bad key or limits) or -ENOMEM.
 */
int broker_gateway_new(const struct broker_gateway_config *cfg, struct broker_gateway **ret);

/* Its libwebsockets protocols: a { NULL } terminated array, valid until freed. */
const struct lws_protocols *broker_gateway_protocols(struct broker_gateway *gw);

/*
 * Use @fn (with @opaque) to set VNC secrets from now on, for a broker core
 * made after the gateway (VM supervision needs the server). NULL: directly
 * over the VM's control socket. Loop thread only.
 */
void broker_gateway_set_ticket(struct broker_gateway *gw, broker_gw_set_ticket_fn fn, void *opaque);

/* The server the protocols run on (for connecting to VMs and the timers). */
void broker_gateway_attach(struct broker_gateway *gw, struct broker_http *http);

/*
 * Free the gateway. Call after broker_http_free(), which closes the
 * tunnels still open (and audits them). NULL is a no-op.
 */
void broker_gateway_free(struct broker_gateway *gw);

/* Tunnels open now. */
size_t broker_gateway_tunnels(const struct broker_gateway *gw);

/* ---- the RFB security relay (no I/O; exposed for unit tests) ---- */

/* Bytes waiting to be written to one side. */
struct broker_gw_buf {
	uint8_t *data;
	size_t off, len, cap; /* the bytes are data[off .. off + len) */
};

/* Append @n bytes; 0, or -ENOBUFS past BROKER_GW_BUF_MAX, or -ENOMEM. */
int broker_gw_buf_put(struct broker_gw_buf *b, const void *data, size_t n);
/* Drop @n bytes from the front. */
void broker_gw_buf_consume(struct broker_gw_buf *b, size_t n);
void broker_gw_buf_free(struct broker_gw_buf *b);

struct broker_gw_rfb {
	int sv, cl;        /* states of the VM side and the browser side */
	uint8_t sbuf[256]; /* what the current VM step has collected */
	size_t slen, sneed;
	uint8_t cbuf[12];
	size_t clen, cneed;
	char secret[BROKER_GW_VNC_SECRET_LEN + 1];
	char error[160]; /* why it failed; never from the browser, sanitised */
};

/*
 * Start: remember @secret (the VM's one-time VNC secret) and queue the
 * server version for the browser in @to_browser. 0 or -ENOMEM.
 */
int broker_gw_rfb_init(struct broker_gw_rfb *r, const char *secret,
                       struct broker_gw_buf *to_browser);

/*
 * Feed @len bytes from the VM. Replies go to @to_vm and @to_browser.
 * Returns how many bytes the handshake used (the rest belong to the relay,
 * once broker_gw_rfb_done()), or -EPROTO (not RFB 3.8 as expected),
 * -EACCES (the VM refused the secret; r->error says why), -ENOMEM.
 */
int broker_gw_rfb_from_vm(struct broker_gw_rfb *r, const uint8_t *in, size_t len,
                          struct broker_gw_buf *to_vm, struct broker_gw_buf *to_browser);

/* Feed @len bytes from the browser; as above (-EPROTO for a bad client). */
int broker_gw_rfb_from_browser(struct broker_gw_rfb *r, const uint8_t *in, size_t len,
                               struct broker_gw_buf *to_vm, struct broker_gw_buf *to_browser);

/* True once both sides are through the security handshake. */
bool broker_gw_rfb_done(const struct broker_gw_rfb *r);

/* VNC authentication's answer: DES-ECB of @challenge under @secret (bit-reversed key bytes). */
int broker_gw_vnc_response(const char *secret, const uint8_t challenge[16], uint8_t out[16]);

#endif
