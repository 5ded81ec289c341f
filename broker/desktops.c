// SPDX-License-Identifier: GPL-2.0-or-later
/* Supervisor and pools on the server's loop; see desktops.h. */
#include "broker/desktops.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "broker/pools.h"
#include "broker/supervisor.h"
#include "broker/vmmctl.h"
#include "proto/log.h"

#define TICK_MS 250
#define SET_TICKET_TIMEOUT_MS 2000

struct broker_desktops {
	struct broker_supervisor *sup;
	struct broker_pools *pools;
	struct broker_http_watch *watch;
};

static void on_supervisor_fd(void *opaque, int fd)
{
	struct broker_desktops *d = opaque;

	broker_supervisor_dispatch(d->sup);
}

static void on_tick(void *opaque)
{
	struct broker_desktops *d = opaque;

	broker_supervisor_tick(d->sup, broker_monotonic_ms());
	broker_pools_tick(d->pools, (int64_t)time(NULL));
}

static int api_allocate(void *opaque, const struct broker_user *u, const struct broker_pool *pool,
                        struct broker_vm *ret)
{
	struct broker_desktops *d = opaque;
	char why[256] = "";
	int r = broker_pools_allocate(d->pools, u, pool, (int64_t)time(NULL), ret, why,
	                              sizeof(why));

	if (r < 0 && r != -EAGAIN)
		log_info("user=%s pool=%s no desktop: %s", u->name, pool->name,
		         why[0] ? why : "refused");
	return r;
}

static int api_set_ticket(void *opaque, const struct broker_vm *vm, const char *protocol,
                          const char *secret, unsigned int lifetime)
{
	struct broker_desktops *d = opaque;

	return broker_supervisor_set_ticket(d->sup, vm->id, protocol, secret, lifetime, false,
	                                    SET_TICKET_TIMEOUT_MS);
}

/*
 * The user logs the desktop off: first end its console connections (a
 * throwaway ticket with "disconnect" drops them and leaves no usable
 * secret behind), then hand it back to the pool.
 */
static int api_release(void *opaque, const struct broker_vm *vm, const char *reason)
{
	static const char *const protocols[] = { "vnc", "spice" };
	struct broker_desktops *d = opaque;
	unsigned char raw[12];
	char secret[2 * sizeof(raw) + 1];

	if (RAND_bytes(raw, sizeof(raw)) == 1) {
		for (size_t i = 0; i < sizeof(raw); i++)
			snprintf(secret + 2 * i, 3, "%02x", raw[i]);
		secret[8] = '\0'; /* VNC's limit; still 32 random bits, and never handed out */
		for (size_t i = 0; i < 2; i++)
			if (broker_supervisor_set_ticket(d->sup, vm->id, protocols[i], secret, 1,
			                                 true, SET_TICKET_TIMEOUT_MS) < 0)
				log_debug("vm=%s %s clients not dropped", vm->name, protocols[i]);
		OPENSSL_cleanse(secret, sizeof(secret));
	}
	return broker_pools_release(d->pools, vm->id, reason, (int64_t)time(NULL));
}

static int api_reset(void *opaque, const struct broker_vm *vm)
{
	struct broker_desktops *d = opaque;

	return broker_pools_reset(d->pools, vm->user_id, vm->id);
}

void broker_desktops_api(struct broker_desktops *d, struct broker_api_desktops *ret)
{
	*ret = (struct broker_api_desktops){ .allocate = api_allocate,
		                             .set_ticket = api_set_ticket,
		                             .release = api_release,
		                             .reset = api_reset,
		                             .opaque = d };
}

int broker_desktops_new(const struct broker_config *cfg, struct broker_store *store,
                        struct broker_http *http, struct broker_desktops **ret)
{
	struct broker_desktops *d = calloc(1, sizeof(*d));
	struct broker_supervisor_params sp = { .store = store,
		                               .vmm_binary = cfg->vmm_binary,
		                               .vmm_guest = cfg->vmm_guest,
		                               .data_dir = cfg->data_dir };
	struct broker_pools_params pp = { .store = store,
		                          .data_dir = cfg->data_dir,
		                          .disconnect_grace = cfg->disconnect_grace,
		                          .persistent_idle_stop = cfg->idle_timeout };
	int r;

	if (!d)
		return -ENOMEM;
	r = broker_supervisor_new(&sp, &d->sup);
	if (r < 0)
		goto fail;
	broker_pools_use_supervisor(&pp.ops, d->sup);
	r = broker_pools_new(&pp, &d->pools);
	if (r < 0)
		goto fail;
	broker_supervisor_set_event(d->sup, broker_pools_on_supervisor_event, d->pools);
	d->watch = broker_http_watch(http, broker_supervisor_fd(d->sup), on_supervisor_fd, d);
	if (!d->watch || broker_http_every(http, TICK_MS, on_tick, d) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	*ret = d;
	return 0;
fail:
	broker_desktops_free(d);
	return r;
}

void broker_desktops_free(struct broker_desktops *d)
{
	if (!d)
		return;
	broker_http_unwatch(d->watch);
	broker_pools_free(d->pools);
	broker_supervisor_free(d->sup);
	free(d);
}
