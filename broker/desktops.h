/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker's desktops at run time: the VM supervisor (supervisor.h) and
 * the pool manager (pools.h) wired together and to the server's loop, and
 * offered to the API as struct broker_api_desktops.
 */
#ifndef VDI_BROKER_DESKTOPS_H
#define VDI_BROKER_DESKTOPS_H

#include "broker/api.h"
#include "broker/config.h"
#include "broker/http.h"
#include "broker/store.h"

struct broker_desktops;

/*
 * Start supervising (adopting the VMMs the store names that still run) and
 * keeping the pools filled, on @http's loop. 0 or -errno.
 */
int broker_desktops_new(const struct broker_config *cfg, struct broker_store *store,
                        struct broker_http *http, struct broker_desktops **ret);

/* Stop watching; running VMMs are left for the next start to adopt. */
void broker_desktops_free(struct broker_desktops *d);

/* The API's view (allocate, set_ticket, release, reset). */
void broker_desktops_api(struct broker_desktops *d, struct broker_api_desktops *ret);

#endif
