/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running broker: the store, logins, the HTTPS API, the web pages and
 * the console gateway on one event loop, until SIGTERM or SIGINT; or the
 * console gateway alone.
 */
#ifndef VDI_BROKER_SERVER_H
#define VDI_BROKER_SERVER_H

#include "broker/auth.h"
#include "broker/config.h"
#include "broker/store.h"

enum broker_serve {
	/* Everything: the API, the web pages, VM supervision, and the console
	 * gateway unless [console] gateway_url sends browsers elsewhere. */
	BROKER_SERVE_ALL,
	/*
	 * Only the console gateway ("vdi-broker gateway"), for running it as a
	 * process of its own: its own [http] listen address and certificate,
	 * the broker's data directory (store and ticket key) on the same host,
	 * VNC secrets set over the VMs' control sockets. Every other request
	 * gets 404.
	 */
	BROKER_SERVE_GATEWAY,
};

/*
 * Serve @what with @store and @auth (set up by the caller, see setup.h)
 * until a signal asks to stop. Returns an exit status (BROKER_EXIT_*).
 */
int broker_server_run(const struct broker_config *cfg, struct broker_store *store,
                      struct broker_auth *auth, enum broker_serve what);

#endif
