/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The REST API (version 1) and /metrics, as one HTTP handler.
 *
 *   POST /api/v1/login           {"user","password","totp"?} -> {"token","user","role","expires"}
 *   POST /api/v1/logout          (bearer)
 *   GET  /api/v1/me              who the token belongs to
 *   GET  /api/v1/pools           pools the user is entitled to
 *   GET  /api/v1/desktops        the user's desktops
 *   POST /api/v1/pools/NAME/connect {"protocol":"vnc"|"spice"|"web"}
 *        -> {"vm","protocol","host","port","password","expires"} (or "ticket"
 *        for web); with Accept: application/x-virt-viewer a .vv file
 *   POST /api/v1/desktops/VM/disconnect, /api/v1/desktops/VM/reset
 *   Admin (role admin): GET /api/v1/admin/{users,pools,sessions,vms,audit},
 *   POST /api/v1/admin/users {"name","password","role"?,"groups"?},
 *   POST /api/v1/admin/users/NAME/delete, POST /api/v1/admin/sessions/ID/kill
 *   GET  /metrics                Prometheus text format
 *
 * Errors are {"error":{"code":"...","message":"..."}} with stable codes:
 * bad_request, unauthorized, bad_credentials, totp_required, totp_bad,
 * locked, throttled, forbidden, not_found, method_not_allowed, too_large,
 * pool_full, quota, unavailable, internal.
 */
#ifndef VDI_BROKER_API_H
#define VDI_BROKER_API_H

#include <stdint.h>

#include "broker/auth.h"
#include "broker/config.h"
#include "broker/http.h"
#include "broker/store.h"

/* What the API needs from the VM side (pools and supervision). */
struct broker_api_desktops {
	/*
	 * The user's desktop in @pool: theirs already, a free one, or a new
	 * one. 0 and the VM in *@ret (running, display ports known), or
	 * -EBUSY (none free, pool full), -EDQUOT (the user's limit),
	 * -EAGAIN (one is starting: try again shortly), other -errno.
	 */
	int (*allocate)(void *opaque, const struct broker_user *u, const struct broker_pool *pool,
	                struct broker_vm *ret);
	/* Set a one-time secret for @protocol ("vnc", "spice") on @vm's display server. */
	int (*set_ticket)(void *opaque, const struct broker_vm *vm, const char *protocol,
	                  const char *secret, unsigned int lifetime);
	/* The user ends (logs off) their desktop; floating pools reset it. */
	int (*release)(void *opaque, const struct broker_vm *vm, const char *reason);
	/* Reboot the desktop. */
	int (*reset)(void *opaque, const struct broker_vm *vm);
	void *opaque;
};

struct broker_api;

/* Key of the gateway's tickets (32..64 bytes), kept by the caller. */
int broker_api_new(const struct broker_config *cfg, struct broker_store *store,
                   struct broker_auth *auth, const struct broker_api_desktops *desktops,
                   const uint8_t *ticket_key, size_t ticket_key_len, struct broker_api **ret);
void broker_api_free(struct broker_api *api);

/* Offer desktops (once the VM side runs); before this, connect answers 503. */
void broker_api_set_desktops(struct broker_api *api, const struct broker_api_desktops *desktops);

/* The broker_http_handler. */
void broker_api_handle(void *opaque, const struct broker_http_request *req,
                       struct broker_http_response *res);

#endif
