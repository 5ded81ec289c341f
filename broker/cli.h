/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vdi-broker's command line: the server flags, and the admin commands that
 * work directly on the store (the server need not run, and may):
 *
 *   vdi-broker [--config FILE] [--data-dir DIR] ... user add NAME [--admin]
 *       [--group G]... [--password-stdin]
 *   ... user passwd NAME [--password-stdin] | user del NAME | user list
 *   ... user totp NAME [--disable]
 *   ... pool add NAME [pool options] | pool set NAME [pool options]
 *   ... pool del NAME | pool list
 *   ... session list [--all] | session kill ID
 *   ... vm list | vm reset ID|NAME
 *
 * Output is plain text in aligned columns on stdout; errors are one line on
 * stderr. Exit status: 0 done, 1 failed (no such user, store error, bad
 * password), 2 usage error (unknown command or option, bad value).
 */
#ifndef VDI_BROKER_CLI_H
#define VDI_BROKER_CLI_H

#include <stdio.h>

#include "broker/config.h"

#define BROKER_EXIT_OK 0
#define BROKER_EXIT_FAIL 1
#define BROKER_EXIT_USAGE 2

/*
 * Parse the server flags at the front of @argv (stopping at the first
 * word that is not an option) into @cfg, which is initialised here:
 * defaults, then --config FILE, then the other flags. Sets *@ret_cmd to the
 * index of the first command word (argc when none). Returns 0 to go on;
 * 1 when --help, --version or --dump-config printed what was asked
 * (exit 0); or an exit status of BROKER_EXIT_USAGE or BROKER_EXIT_FAIL,
 * negated, after one line on @err. On every return but 0, @cfg is freed.
 */
int broker_cli_parse(int argc, char **argv, struct broker_config *cfg, int *ret_cmd, FILE *out,
                     FILE *err);

/* Print --help. */
void broker_cli_usage(FILE *out);

/*
 * Run the admin command in @argv[0..argc) (argv[0] is "user", "pool",
 * "session" or "vm") against the store of @cfg. Passwords come from @in_fd
 * with --password-stdin, else from the controlling terminal. Returns the
 * exit status.
 */
int broker_cli_run(const struct broker_config *cfg, int argc, char **argv, int in_fd, FILE *out,
                   FILE *err);

#endif
