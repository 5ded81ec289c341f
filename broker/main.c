// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-broker: log people in and hand them desktops.
 *
 * Without a command it runs the broker; with "gateway" only the browser
 * console gateway; with another (user, pool, session, vm) it administers
 * the store and exits. Exit status: 0 done, 1 failure,
 * 2 bad arguments or configuration.
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "broker/auth.h"
#include "broker/cli.h"
#include "broker/config.h"
#include "broker/server.h"
#include "broker/setup.h"
#include "broker/store.h"
#include "proto/log.h"

enum start_mode {
	START_INIT,    /* set the store up and exit */
	START_BROKER,  /* set it up and run the broker */
	START_GATEWAY, /* run the console gateway alone on the broker's store */
};

/*
 * Bring the store to what the configuration asks for (a gateway on its own
 * leaves that to the broker), then run until a signal stops it. Returns an
 * exit status.
 */
static int start(const struct broker_config *cfg, enum start_mode mode)
{
	struct broker_store *store = NULL;
	struct broker_auth *auth = NULL;
	struct broker_auth_params p;
	char err[512], password[BROKER_RANDOM_PASSWORD_LEN + 1];
	int r, status = BROKER_EXIT_FAIL;

	r = broker_setup_data_dir(cfg, err, sizeof(err));
	if (r == 0)
		r = broker_setup_open_store(cfg, &store, err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		goto out;
	}
	broker_setup_auth_params(cfg, &p);
	r = broker_auth_new(store, &p, &auth);
	if (r < 0) {
		log_err("cannot set up logins: %s", strerror(-r));
		goto out;
	}
	if (mode == START_GATEWAY) {
		status = broker_server_run(cfg, store, auth, BROKER_SERVE_GATEWAY);
		goto out;
	}
	r = broker_setup_pools(cfg, store, broker_auth_now(auth), err, sizeof(err));
	if (r < 0) {
		log_err("%s", err);
		goto out;
	}
	r = broker_setup_first_admin(auth, store, password, sizeof(password));
	if (r == 1) {
		printf("first start: created admin '%s' with password %s — change it with "
		       "'vdi-broker user passwd %s'\n",
		       BROKER_FIRST_ADMIN, password, BROKER_FIRST_ADMIN);
		fflush(stdout);
		OPENSSL_cleanse(password, sizeof(password));
	} else if (r == -EEXIST) {
		log_warn("no admin user, and a user called '%s' exists: add one with "
		         "'vdi-broker user add NAME --admin'",
		         BROKER_FIRST_ADMIN);
	} else if (r < 0) {
		log_err("cannot create the first admin: %s", broker_store_errmsg(store));
		goto out;
	}
	log_info("store ready: %s/%s", cfg->data_dir, cfg->database);
	status = mode == START_BROKER ? broker_server_run(cfg, store, auth, BROKER_SERVE_ALL)
	                              : BROKER_EXIT_OK;
out:
	broker_auth_free(auth);
	broker_store_close(store);
	return status;
}

int main(int argc, char **argv)
{
	struct broker_config cfg;
	int cmd = 0, r;

	/*
	 * Every password check allocates argon2id's memory (19 MiB by default)
	 * and frees it. glibc would raise its mmap threshold to that size after
	 * the first free and from then on keep the block in the heap, resident
	 * for good; a fixed threshold (which also stops the raising) gives it
	 * back each time. Small allocations (sessions, tunnels) are unaffected.
	 */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	vdi_log_init("vdi-broker", VDI_LOG_INFO);
	r = broker_cli_parse(argc, argv, &cfg, &cmd, stdout, stderr);
	if (r > 0)
		return BROKER_EXIT_OK;
	if (r < 0)
		return -r;
	vdi_log_init("vdi-broker", cfg.log_level);
	if (cmd < argc && strcmp(argv[cmd], "init") == 0 && cmd + 1 == argc) {
		r = start(&cfg, START_INIT);
		if (r == BROKER_EXIT_OK)
			printf("vdi-broker: initialised %s\n", cfg.data_dir);
	} else if (cmd < argc && strcmp(argv[cmd], "gateway") == 0 && cmd + 1 == argc) {
		r = start(&cfg, START_GATEWAY);
	} else if (cmd < argc) {
		r = broker_cli_run(&cfg, argc - cmd, argv + cmd, STDIN_FILENO, stdout, stderr);
	} else {
		r = start(&cfg, START_BROKER);
	}
	broker_config_free(&cfg);
	return r;
}
