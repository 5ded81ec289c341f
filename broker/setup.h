/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Start-up steps shared by the server and the admin commands: the data
 * directory, opening the store the configuration names, the pools the
 * configuration declares, and the first admin account.
 *
 * Called from main() before any thread starts.
 */
#ifndef VDI_BROKER_SETUP_H
#define VDI_BROKER_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "broker/auth.h"
#include "broker/config.h"
#include "broker/store.h"

#define BROKER_FIRST_ADMIN "admin"
#define BROKER_RANDOM_PASSWORD_LEN 16

/*
 * Create the data directory, with its parents, mode 0700, when missing.
 * Returns 0 or -errno with "DIR: reason" in @err.
 */
int broker_setup_data_dir(const struct broker_config *cfg, char *err, size_t err_size);

/* Open (creating and migrating) the store of @cfg. 0 or -errno with a reason in @err. */
int broker_setup_open_store(const struct broker_config *cfg, struct broker_store **ret, char *err,
                            size_t err_size);

/* The login parameters of @cfg (strings point into @cfg). */
void broker_setup_auth_params(const struct broker_config *cfg, struct broker_auth_params *ret);

/*
 * Create each pool of @cfg that the store lacks, with its entitlements, at
 * time @now; pools already there are left as they are (the store is where
 * they change once created). An entitlement to a user who does not exist
 * is skipped with a warning. Returns how many pools were created, or
 * -errno with a reason in @err.
 */
int broker_setup_pools(const struct broker_config *cfg, struct broker_store *s, int64_t now,
                       char *err, size_t err_size);

/*
 * First start: when the store has no admin, create user "admin" (role
 * admin, default group) with a random password, written to @password
 * (BROKER_RANDOM_PASSWORD_LEN + 1 bytes) for the caller to show once.
 * Returns 1 when it was created, 0 when an admin exists, -EEXIST when a
 * non-admin user is called "admin", or other -errno.
 */
int broker_setup_first_admin(struct broker_auth *a, struct broker_store *s, char *password,
                             size_t size);

/*
 * @len random characters from an alphabet without look-alikes (no 0/O,
 * 1/l/I), about 5.8 bits each, from OpenSSL's generator. 0, -ENOSPC or -EIO.
 */
int broker_random_password(char *out, size_t out_size, size_t len);

#endif
