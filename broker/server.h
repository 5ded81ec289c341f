/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The running broker: the store, logins, the HTTPS API and the web pages
 * on one event loop, until SIGTERM or SIGINT.
 */
#ifndef VDI_BROKER_SERVER_H
#define VDI_BROKER_SERVER_H

#include "broker/auth.h"
#include "broker/config.h"
#include "broker/store.h"

/*
 * Serve with @store and @auth (set up by the caller, see setup.h) until a
 * signal asks to stop. Returns an exit status (BROKER_EXIT_*).
 */
int broker_server_run(const struct broker_config *cfg, struct broker_store *store,
                      struct broker_auth *auth);

#endif
