/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker client: the calls of the broker's REST API (docs/broker.md)
 * the kiosk needs, each run on a worker thread of its own (https.h is
 * blocking) and answered on the main thread through GLib's default main
 * context (g_idle_add), so the window never waits for the network.
 *
 * The client holds the login token after a good login and sends it with
 * every later call; logout and a refused token (401) forget it.
 *
 * Main thread only, except the workers, which see only their own copies.
 */
#ifndef VDI_VIEWER_BROKER_H
#define VDI_VIEWER_BROKER_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "viewer/https.h"
#include "viewer/session.h"

#define VIEWER_BROKER_TOKEN_MAX 128
#define VIEWER_BROKER_NAME_MAX 64     /* user, pool and VM names, as the broker has them */
#define VIEWER_BROKER_SECRET_MAX 1024 /* password bytes we send */
#define VIEWER_BROKER_POOLS_MAX 64

enum viewer_broker_op {
	VIEWER_BROKER_LOGIN,
	VIEWER_BROKER_LOGOUT,
	VIEWER_BROKER_POOLS,
	VIEWER_BROKER_DESKTOPS,
	VIEWER_BROKER_CONNECT,
};

/* What a call came back with. */
struct viewer_broker_result {
	enum viewer_broker_op op;
	int err;       /* 0: the broker answered (see status); -errno: it did not (https.h) */
	int status;    /* HTTP status, 0 when err */
	char code[32]; /* the API's error code for a non-2xx answer ("bad_credentials"), or "" */
	char message[320]; /* the broker's message, or why there was no answer */
	int retry_after;   /* seconds, or -1 */
	json_t *json;      /* a 2xx JSON body (the result owns it), or NULL */
	char *vv;          /* CONNECT: the .vv text (the result owns it), or NULL */
	size_t vv_len;
};

/* Called on the main thread with the result, which is freed after the call. */
typedef void (*viewer_broker_done_fn)(void *opaque, const struct viewer_broker_result *r);

struct viewer_broker;

/*
 * A client for the broker at @t (copied; its ca_file too). Returns 0 or
 * -ENOMEM.
 */
int viewer_broker_new(const struct viewer_https_target *t, struct viewer_broker **ret);

/* How long viewer_broker_free() waits for abandoned calls' threads to return. */
#define VIEWER_BROKER_STOP_MS 2000

/*
 * Free the client; no callback is made after this. A logout still running
 * is given up to @logout_ms to reach the broker; every other call is
 * abandoned, and its thread waited for (up to VIEWER_BROKER_STOP_MS), so
 * none is left inside OpenSSL when the process exits. NULL is a no-op.
 */
void viewer_broker_free(struct viewer_broker *b, int logout_ms);

/*
 * Start a call; @fn(@opaque, result) follows on the main thread unless the
 * call is cancelled first. Each returns a call id (> 0) for
 * viewer_broker_cancel(), or -errno when it could not start (then no
 * callback follows).
 *
 * login: POST /api/v1/login {user, password, totp (when not NULL/empty)};
 *        a 200 keeps the token (and the user name) in the client.
 * logout: POST /api/v1/logout; the token is forgotten at once.
 * pools, desktops: GET /api/v1/pools, /api/v1/desktops.
 * connect: POST /api/v1/pools/@pool/connect {"protocol"} asking for a .vv.
 */
int viewer_broker_login(struct viewer_broker *b, const char *user, const char *password,
                        const char *totp, viewer_broker_done_fn fn, void *opaque);
int viewer_broker_logout(struct viewer_broker *b, viewer_broker_done_fn fn, void *opaque);
int viewer_broker_pools(struct viewer_broker *b, viewer_broker_done_fn fn, void *opaque);
int viewer_broker_desktops(struct viewer_broker *b, viewer_broker_done_fn fn, void *opaque);
int viewer_broker_connect(struct viewer_broker *b, const char *pool, enum viewer_protocol protocol,
                          viewer_broker_done_fn fn, void *opaque);

/* Drop call @id's callback (it may already have run: then nothing happens). */
void viewer_broker_cancel(struct viewer_broker *b, int id);

/* Whether a login token is held; the user it is for ("" when none). */
bool viewer_broker_logged_in(const struct viewer_broker *b);
const char *viewer_broker_user(const struct viewer_broker *b);

/* Forget the token without telling the broker. */
void viewer_broker_forget(struct viewer_broker *b);

/*
 * Pure helpers (any thread), unit tested.
 */

/*
 * A sentence for people about a failed call @r (err or a non-2xx status),
 * for the login screen: "Wrong user name or password.", "Cannot reach the
 * broker ...", "No desktop is available right now ...". Returns @out.
 */
const char *viewer_broker_explain(const struct viewer_broker_result *r, char *out, size_t size);

/* Fill @r's code and message from an error body {"error":{"code","message"}} of @len bytes. */
void viewer_broker_parse_error(const char *body, size_t len, struct viewer_broker_result *r);

/*
 * The names of the enabled pools in a GET /api/v1/pools answer @j, at most
 * @max, into @names (each VIEWER_BROKER_NAME_MAX + 1 bytes). Returns how
 * many, or -EINVAL when @j is not such an answer. Bad entries are skipped.
 */
int viewer_broker_pool_names(const json_t *j, char (*names)[VIEWER_BROKER_NAME_MAX + 1], int max);

/*
 * Whether the GET /api/v1/desktops answer @j lists VM @vm. -EINVAL when @j
 * is not such an answer.
 */
int viewer_broker_has_desktop(const json_t *j, const char *vm);

/*
 * A session from a CONNECT result's .vv text: 0, or -EINVAL / -ENOMEM with
 * a reason in @err. The VM's name (the .vv title) goes into @vm.
 */
int viewer_broker_session(const struct viewer_broker_result *r, struct viewer_session *s, char *vm,
                          size_t vm_size, char *err, size_t err_size);

#endif
