/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A non-blocking client for one vdi-vmm control socket (docs/vmm.md): JSON
 * lines framed and parsed with proto/control.h. Requests get increasing
 * ids and their replies are matched back to a callback; events go to the
 * event callback; the end of the connection (EOF, an error, a line longer
 * than PROTO_CTL_MAX_LINE or one that does not decode) is reported by
 * broker_vmmctl_handle() returning < 0.
 *
 * The owner runs the I/O: it polls broker_vmmctl_fd() for
 * broker_vmmctl_poll_events() (POLLIN, plus POLLOUT while output waits),
 * calls broker_vmmctl_handle() with what poll returned, and
 * broker_vmmctl_tick() now and then so that requests time out. Nothing
 * blocks except broker_vmmctl_wait(), which is for callers that need an
 * answer before they return (setting a console ticket).
 *
 * Callbacks run inside handle(), tick(), wait() and free(); they may send
 * new requests on the same client but never free it.
 *
 * Single-threaded: one thread uses a client at a time.
 */
#ifndef VDI_BROKER_VMMCTL_H
#define VDI_BROKER_VMMCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

#include "proto/control.h"

/* A request not answered within this long fails with -ETIMEDOUT. */
#define BROKER_VMMCTL_TIMEOUT_MS 5000
/* Output not yet taken by the peer, at most; more is -ENOBUFS. */
#define BROKER_VMMCTL_OUT_MAX (1u << 20)
/* Requests waiting for replies, at most; more is -ENOBUFS. */
#define BROKER_VMMCTL_PENDING_MAX 256

/*
 * The answer to a request: @err 0 with @msg a PROTO_CTL_REPLY_OK (its body
 * the "ok" object); -EREMOTEIO with @msg a PROTO_CTL_REPLY_ERROR (err_class,
 * err_desc); or, with @msg NULL, -ETIMEDOUT, -ECONNRESET (the connection
 * ended) or -ECANCELED (the client was freed). @msg is borrowed.
 */
typedef void (*broker_vmmctl_reply_fn)(void *opaque, int err, const struct proto_ctl_msg *msg);

/* An event: @name ("guest-reset", "client-connected", ...) and its data object (borrowed). */
typedef void (*broker_vmmctl_event_fn)(void *opaque, const char *name, json_t *data);

struct broker_vmmctl;

/*
 * Connect to the control socket at @path (non-blocking). Returns 0 and the
 * client in *@ret; -ENAMETOOLONG for a path that does not fit a unix
 * socket address; -ENOENT or -ECONNREFUSED when nothing listens there (yet);
 * -EAGAIN when the listener's backlog is full; other -errno. @on_event may
 * be NULL.
 */
int broker_vmmctl_connect(const char *path, broker_vmmctl_event_fn on_event, void *opaque,
                          struct broker_vmmctl **ret);

/* Close the connection; pending requests get -ECANCELED first. NULL is a no-op. */
void broker_vmmctl_free(struct broker_vmmctl *c);

/* The socket, to poll. */
int broker_vmmctl_fd(const struct broker_vmmctl *c);

/* POLLIN, or POLLIN | POLLOUT while output is waiting for the socket. */
short broker_vmmctl_poll_events(const struct broker_vmmctl *c);

/*
 * The pid of the process that listens on the socket (SO_PEERCRED), or -1
 * when unknown. Used to check that a VMM is the process the store names.
 */
pid_t broker_vmmctl_peer_pid(const struct broker_vmmctl *c);

/*
 * Do the I/O @revents (poll bits) allows: write waiting output, read and
 * dispatch every complete line. Returns 0 while the connection is up, or
 * a negative errno once it ended (-ECONNRESET for EOF, -EMSGSIZE or
 * -EPROTO for a bad line, or the socket error); then every pending
 * request has had its callback with -ECONNRESET and the caller frees the
 * client. Idempotent after the end.
 */
int broker_vmmctl_handle(struct broker_vmmctl *c, short revents);

/* Fail requests sent before @now_ms - their timeout with -ETIMEDOUT. @now_ms: CLOCK_MONOTONIC. */
void broker_vmmctl_tick(struct broker_vmmctl *c, int64_t now_ms);

/* True once the connection ended. */
bool broker_vmmctl_closed(const struct broker_vmmctl *c);

/*
 * Send {"id":N,"cmd":@cmd,"args":@args} (@args borrowed, NULL for none).
 * @fn (may be NULL) gets the answer later, never from inside this call.
 * Returns 0 and the id in *@ret_id (may be NULL); -ENOTCONN after the end;
 * -ENOBUFS when too much is waiting; -EINVAL for a bad command name;
 * -ENOMEM.
 */
int broker_vmmctl_request(struct broker_vmmctl *c, const char *cmd, json_t *args,
                          broker_vmmctl_reply_fn fn, void *opaque, int64_t *ret_id);

/* Forget request @id: its callback will not run. No-op when it is not pending. */
void broker_vmmctl_cancel(struct broker_vmmctl *c, int64_t id);

/*
 * Block (poll on this socket only) until request @id has been answered or
 * @timeout_ms passed, dispatching events and other replies meanwhile.
 * Returns 0 when the answer came (its callback ran), -ETIMEDOUT (the
 * request stays pending), or the end of the connection as handle() does.
 */
int broker_vmmctl_wait(struct broker_vmmctl *c, int64_t id, int timeout_ms);

/* Helpers for the commands the broker uses; same returns as broker_vmmctl_request(). */
int broker_vmmctl_query_status(struct broker_vmmctl *c, broker_vmmctl_reply_fn fn, void *opaque,
                               int64_t *ret_id);
int broker_vmmctl_query_displays(struct broker_vmmctl *c, broker_vmmctl_reply_fn fn, void *opaque,
                                 int64_t *ret_id);
int broker_vmmctl_reset(struct broker_vmmctl *c, broker_vmmctl_reply_fn fn, void *opaque,
                        int64_t *ret_id);
int broker_vmmctl_quit(struct broker_vmmctl *c, broker_vmmctl_reply_fn fn, void *opaque,
                       int64_t *ret_id);
/*
 * set-ticket: @protocol "vnc" or "spice", @secret, @expires_in seconds (0:
 * no expiry), @disconnect: drop the clients connected now.
 */
int broker_vmmctl_set_ticket(struct broker_vmmctl *c, const char *protocol, const char *secret,
                             unsigned int expires_in, bool disconnect, broker_vmmctl_reply_fn fn,
                             void *opaque, int64_t *ret_id);

/* What query-displays says about one protocol's server. */
struct broker_vmm_display {
	char host[64]; /* "" when the server is off */
	int port;      /* 0 when unknown or off */
};

/*
 * Read the "servers" of a query-displays (or the "displays" of a
 * query-status) reply @ok into @vnc and @spice. Returns 0, or -EINVAL when
 * the object does not have that shape.
 */
int broker_vmm_parse_displays(json_t *ok, struct broker_vmm_display *vnc,
                              struct broker_vmm_display *spice);

/* Milliseconds on CLOCK_MONOTONIC. */
int64_t broker_monotonic_ms(void);

#endif
