// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/setup.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "proto/log.h"

int broker_setup_data_dir(const struct broker_config *cfg, char *err, size_t err_size)
{
	char path[BROKER_PATH_MAX + 1];
	struct stat st;

	snprintf(path, sizeof(path), "%s", cfg->data_dir);
	/* mkdir -p: each prefix in turn, then the whole path. */
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int r = -errno;

			snprintf(err, err_size, "%s: %s", path, strerror(-r));
			return r;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		int r = -errno;

		snprintf(err, err_size, "%s: %s", path, strerror(-r));
		return r;
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(err, err_size, "%s: not a directory", path);
		return -ENOTDIR;
	}
	return 0;
}

int broker_setup_open_store(const struct broker_config *cfg, struct broker_store **ret, char *err,
                            size_t err_size)
{
	char path[BROKER_PATH_MAX + 1];

	if (strstr(cfg->database, "://") || strncmp(cfg->database, "sqlite:", 7) == 0)
		return broker_store_open(cfg->database, ret, err, err_size);
	if (broker_config_data_path(cfg, cfg->database, path, sizeof(path)) < 0) {
		snprintf(err, err_size, "%s/%s: path too long", cfg->data_dir, cfg->database);
		return -ENAMETOOLONG;
	}
	return broker_store_open(path, ret, err, err_size);
}

void broker_setup_auth_params(const struct broker_config *cfg, struct broker_auth_params *ret)
{
	struct broker_auth_params p;

	broker_auth_params_defaults(&p);
	p.lockout_failures = cfg->lockout_failures;
	p.lockout_seconds = cfg->lockout_duration;
	p.idle_timeout = cfg->idle_timeout;
	p.absolute_timeout = cfg->absolute_timeout;
	p.argon2_t = cfg->argon2_iterations;
	p.argon2_m = cfg->argon2_memory;
	p.argon2_p = cfg->argon2_parallelism;
	p.throttle_base_ms = cfg->throttle_base_ms;
	p.throttle_max_ms = cfg->throttle_max_ms;
	p.pam_service = cfg->pam_service;
	p.default_group = cfg->default_group;
	p.totp_issuer = cfg->totp_issuer;
	*ret = p;
}

static int add_pool(const struct broker_config_pool *cp, struct broker_store *s, int64_t now,
                    char *err, size_t err_size)
{
	struct broker_pool p = cp->pool;
	int r;

	p.created = now;
	r = broker_store_begin(s);
	if (r < 0)
		goto out_err;
	r = broker_store_pool_add(s, &p);
	for (size_t i = 0; r == 0 && i < cp->nr_entitle; i++) {
		r = broker_store_pool_entitle(s, p.id, &cp->entitle[i]);
		if (r == -ENOENT && cp->entitle[i].kind == BROKER_ENT_USER) {
			log_warn("pool=%s: no user '%s' to entitle; skipped", p.name,
			         cp->entitle[i].name);
			r = 0;
		}
	}
	if (r < 0) {
		broker_store_rollback(s);
		goto out_err;
	}
	r = broker_store_commit(s);
	if (r < 0)
		goto out_err;
	log_info("pool=%s created from the configuration", p.name);
	return 0;

out_err:
	snprintf(err, err_size, "pool %s: %s", p.name,
	         broker_store_errmsg(s)[0] ? broker_store_errmsg(s) : strerror(-r));
	return r;
}

int broker_setup_pools(const struct broker_config *cfg, struct broker_store *s, int64_t now,
                       char *err, size_t err_size)
{
	int created = 0;

	for (size_t i = 0; i < cfg->nr_pools; i++) {
		struct broker_pool existing;
		int r = broker_store_pool_get_by_name(s, cfg->pools[i].pool.name, &existing);

		if (r == 0)
			continue;
		if (r == -ENOENT)
			r = add_pool(&cfg->pools[i], s, now, err, err_size);
		else
			snprintf(err, err_size, "pool %s: %s", cfg->pools[i].pool.name,
			         broker_store_errmsg(s));
		if (r < 0)
			return r;
		created++;
	}
	return created;
}

int broker_random_password(char *out, size_t out_size, size_t len)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	const size_t n = sizeof(alphabet) - 1;
	/* Bytes at or above this are dropped so every character is equally likely. */
	const unsigned int limit = 256 - 256 % n;
	size_t i = 0;

	if (out_size < len + 1)
		return -ENOSPC;
	while (i < len) {
		uint8_t buf[32];

		if (RAND_bytes(buf, sizeof(buf)) != 1)
			return -EIO;
		for (size_t j = 0; j < sizeof(buf) && i < len; j++)
			if (buf[j] < limit)
				out[i++] = alphabet[buf[j] % n];
		OPENSSL_cleanse(buf, sizeof(buf));
	}
	out[len] = '\0';
	return 0;
}

int broker_setup_first_admin(struct broker_auth *a, struct broker_store *s, char *password,
                             size_t size)
{
	size_t admins = 0;
	int r;

	r = broker_store_user_count(s, BROKER_ROLE_ADMIN, &admins);
	if (r < 0)
		return r;
	if (admins > 0)
		return 0;
	r = broker_random_password(password, size, BROKER_RANDOM_PASSWORD_LEN);
	if (r < 0)
		return r;
	r = broker_auth_user_add(a, BROKER_FIRST_ADMIN, password, BROKER_ROLE_ADMIN, NULL, 0, NULL);
	if (r < 0) {
		OPENSSL_cleanse(password, size);
		return r;
	}
	broker_auth_audit(a, "user.add", BROKER_FIRST_ADMIN, "first-start", NULL,
	                  "{\"role\":\"admin\",\"via\":\"first-start\"}");
	return 1;
}
