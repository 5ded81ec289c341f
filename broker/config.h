/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vdi-broker's configuration: embedded defaults, then the file given with
 * --config (GLib key file syntax: [group] and key = value lines, # comments),
 * then the command-line flags. One table in config.c describes every key
 * (group, name, type, default, range, help); loading, --dump-config and
 * --help all read it, and docs/broker.md documents the same keys.
 *
 *   group      key                 default                  range / values
 *   [broker]   data_dir            ./var                    path (--data-dir)
 *              database            broker.db                path, relative to data_dir
 *              log_level           info                     err warn info debug (--log-level)
 *   [http]     listen              127.0.0.1:8443           IPv4:PORT or [IPv6]:PORT (--listen)
 *              tls_cert            tls/server-cert.pem      path, relative to data_dir
 *              tls_key             tls/server-key.pem       path, relative to data_dir
 *              web_root            <source>/assets/web      path (--web-root)
 *   [console]  ticket_lifetime     30                       5..600 s
 *              max_tunnels         256                      1..10000
 *              max_tunnels_per_user 4                       1..1000
 *              origins             (empty: the page's own)  up to 8 https://HOST[:PORT], spaces
 *              gateway_url         (empty: this broker)     wss://HOST[:PORT], gateway on its own
 *              spice_proxy         (empty: none)            http[s]://HOST[:PORT], in SPICE .vv
 *   [session]  idle_timeout        1800                     60..86400 s
 *              absolute_timeout    43200                    300..2592000 s
 *              disconnect_grace    300                      0..86400 s
 *   [auth]     lockout_failures    5                        1..100
 *              lockout_duration    300                      1..86400 s
 *              throttle_base_ms    250                      0..10000 (0: off)
 *              throttle_max_ms     30000                    0..600000
 *              argon2_memory       19456                    64..4194304 KiB
 *              argon2_iterations   2                        1..100
 *              argon2_parallelism  1                        1..16
 *              pam_service         (empty: no PAM)          a name in /etc/pam.d
 *              default_group       users                    a group name, or empty
 *              totp_issuer         vdi                      1..64 characters, no ':'
 *   [vmm]      binary              <build>/vmm/vdi-vmm      path (--vmm)
 *              guest               <build>/vmm/guest/vdi-guest.elf   path (--guest)
 *   [pool NAME] kernel, initrd, cmdline, disk_template, memory, vcpus,
 *              resolution, type, size, spares, max_vms, max_per_user,
 *              enabled, entitle (see docs/broker.md)
 *
 * Pools: without --config there is one, "demo" (the reference guest, 128 MiB,
 * 1 vCPU, 1024x768, floating, size 2, 1 spare, at most 4 VMs, 1 per user,
 * for group "users"). A file's [pool NAME] groups replace it. Pools named
 * here are created in the store at start when missing; after that the
 * store (and `vdi-broker pool set`) is where they change.
 *
 * Every value is checked when it is read: a bad one is refused with one
 * line naming the file, group and key ("broker.conf: [auth] lockout_failures:
 * 0 is not in 1..100"). Unknown groups and keys are errors too, so typos do
 * not pass silently.
 *
 * Not thread-safe; build it in main() and read it afterwards.
 */
#ifndef VDI_BROKER_CONFIG_H
#define VDI_BROKER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "broker/store.h"
#include "proto/vv.h"

#define BROKER_CONFIG_FILE_MAX (1 << 20) /* bytes */
#define BROKER_CONFIG_POOLS_MAX 256
#define BROKER_CONFIG_ENTITLE_MAX 64 /* per pool */
#define BROKER_LISTEN_MAX 80
#define BROKER_ORIGIN_MAX 200 /* one origin or gateway URL */
#define BROKER_ORIGINS_MAX 8  /* allowed origins besides the page's own */

struct broker_config_pool {
	struct broker_pool pool;
	struct broker_entitlement entitle[BROKER_CONFIG_ENTITLE_MAX];
	size_t nr_entitle;
};

struct broker_config {
	char file[BROKER_PATH_MAX + 1]; /* "" when only defaults and flags */

	/* [broker] */
	char data_dir[BROKER_PATH_MAX + 1];
	char database[BROKER_PATH_MAX + 1];
	int log_level; /* VDI_LOG_* */
	/* [http] */
	char listen[BROKER_LISTEN_MAX + 1];
	char listen_host[BROKER_HOST_MAX + 1]; /* numeric, without brackets */
	int listen_port;
	char tls_cert[BROKER_PATH_MAX + 1];
	char tls_key[BROKER_PATH_MAX + 1];
	char web_root[BROKER_PATH_MAX + 1];
	/* [console] */
	unsigned int ticket_lifetime;
	unsigned int max_tunnels;
	unsigned int max_tunnels_per_user;
	char origins[BROKER_ORIGINS_MAX * (BROKER_ORIGIN_MAX + 1)]; /* space-separated */
	char gateway_url[BROKER_ORIGIN_MAX + 1];
	char spice_proxy[PROTO_VV_PROXY_MAX + 1]; /* "": none */
	/* [session] */
	unsigned int idle_timeout;
	unsigned int absolute_timeout;
	unsigned int disconnect_grace;
	/* [auth] */
	unsigned int lockout_failures;
	unsigned int lockout_duration;
	unsigned int throttle_base_ms;
	unsigned int throttle_max_ms;
	unsigned int argon2_memory;
	unsigned int argon2_iterations;
	unsigned int argon2_parallelism;
	char pam_service[BROKER_NAME_MAX + 1];
	char default_group[BROKER_NAME_MAX + 1];
	char totp_issuer[BROKER_NAME_MAX + 1];
	/* [vmm] */
	char vmm_binary[BROKER_PATH_MAX + 1];
	char vmm_guest[BROKER_PATH_MAX + 1];

	/* [pool NAME], malloc'd */
	struct broker_config_pool *pools;
	size_t nr_pools;
};

/* Fill @cfg with the embedded defaults, demo pool included. 0 or -ENOMEM. */
int broker_config_init(struct broker_config *cfg);

/* Release the pools; @cfg may be initialised again. */
void broker_config_free(struct broker_config *cfg);

/*
 * Read @path over @cfg: its keys replace the values they name, and its
 * [pool NAME] groups replace the pool list (a file without pools leaves
 * none). Returns 0; -EINVAL with "PATH: [group] key: reason" in @err for
 * a bad value, key, group or syntax; -errno with "PATH: reason" when the
 * file cannot be read. @cfg is unchanged on failure.
 */
int broker_config_load(struct broker_config *cfg, const char *path, char *err, size_t err_size);

/*
 * Set one key as a command-line flag does, from text: 0, or -EINVAL with
 * "reason" in @why (the caller adds which flag), -ENOENT for an unknown key.
 */
int broker_config_set(struct broker_config *cfg, const char *group, const char *key,
                      const char *value, char *why, size_t why_size);

/*
 * Print @cfg in the file format, every key with its help and default as a
 * comment; loading the output gives the same configuration.
 */
void broker_config_dump(const struct broker_config *cfg, FILE *out);

/* The configuration keys, one line each, for --help. */
void broker_config_usage(FILE *out);

/*
 * @rel resolved against the data directory (unchanged when absolute) into
 * @buf. Returns 0 or -ENAMETOOLONG.
 */
int broker_config_data_path(const struct broker_config *cfg, const char *rel, char *buf,
                            size_t size);

/*
 * Parsers shared with the command line. Each returns 0 or -EINVAL and
 * writes its result only on success.
 */
/* "1024x768", within the pool limits of broker/store.h. */
int broker_parse_resolution(const char *s, unsigned int *ret_w, unsigned int *ret_h);
/* "floating" or "persistent". */
int broker_parse_pool_type(const char *s, enum broker_pool_type *ret);
/* "user:NAME" or "group:NAME". */
int broker_parse_entitlement(const char *s, struct broker_entitlement *ret);
/* Decimal @min..@max, nothing else. */
int broker_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret);
/* true/false, yes/no, on/off, 1/0. */
int broker_parse_bool(const char *s, bool *ret);
/* "IPv4:PORT" or "[IPv6]:PORT", port 1..65535; host without brackets. */
int broker_parse_listen(const char *s, char *host, size_t host_size, int *ret_port);

/*
 * Whether the @len bytes at @s are SCHEME://HOST[:PORT] with nothing after
 * (no path, query or user), HOST a DNS name, an IPv4 address or [IPv6],
 * PORT 1..65535; @scheme is "https" or "wss", and "https" also takes "http".
 */
bool broker_origin_valid(const char *s, size_t len, const char *scheme);

/*
 * Set pool key @key of @p from text, as the [pool NAME] groups do:
 * 0, -EINVAL with the reason in @why, -ENOENT for an unknown key.
 * "entitle" is a ';'-separated list replacing the pool's entitlements.
 */
int broker_config_pool_set(struct broker_config_pool *p, const char *key, const char *value,
                           char *why, size_t why_size);

#endif
