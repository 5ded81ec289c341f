// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * First start: the data directory, the store the configuration names, the
 * configuration's pools created once, and the first admin with a random
 * password.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/setup.h"
#include "broker_test.h"

static char dir[64];
static struct broker_config cfg;
static struct broker_store *s;
static struct broker_auth *a;

static void setup(void)
{
	struct broker_auth_params p;
	char err[256], why[256], data[128];

	bt_tmpdir(dir, sizeof(dir));
	ck_assert_int_eq(broker_config_init(&cfg), 0);
	snprintf(data, sizeof(data), "%s/a/b/var", dir);
	ck_assert_int_eq(broker_config_set(&cfg, "broker", "data_dir", data, why, sizeof(why)), 0);
	ck_assert_int_eq(broker_config_set(&cfg, "auth", "argon2_memory", "64", why, sizeof(why)),
	                 0);
	ck_assert_int_eq(
	        broker_config_set(&cfg, "auth", "argon2_iterations", "1", why, sizeof(why)), 0);
	ck_assert_msg(broker_setup_data_dir(&cfg, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(broker_setup_open_store(&cfg, &s, err, sizeof(err)) == 0, "%s", err);
	broker_setup_auth_params(&cfg, &p);
	ck_assert_int_eq(broker_auth_new(s, &p, &a), 0);
}

static void teardown(void)
{
	broker_auth_free(a);
	broker_store_close(s);
	broker_config_free(&cfg);
	bt_rmdir(dir);
}

START_TEST(data_dir_and_store)
{
	struct broker_config other;
	struct stat st;
	char path[BROKER_PATH_MAX + 16], err[256], why[256];

	ck_assert_int_eq(stat(cfg.data_dir, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/broker.db", cfg.data_dir);
	ck_assert_int_eq(stat(path, &st), 0);
	/* Again: nothing to do. */
	ck_assert_int_eq(broker_setup_data_dir(&cfg, err, sizeof(err)), 0);
	/* A file where the directory should be. */
	ck_assert_int_eq(broker_config_init(&other), 0);
	ck_assert_int_eq(broker_config_set(&other, "broker", "data_dir", path, why, sizeof(why)),
	                 0);
	ck_assert_int_eq(broker_setup_data_dir(&other, err, sizeof(err)), -ENOTDIR);
	ck_assert_ptr_nonnull(strstr(err, "broker.db"));
	broker_config_free(&other);
}
END_TEST

START_TEST(config_pools_are_created_once)
{
	struct broker_pool p;
	struct broker_entitlement *ents = NULL;
	char err[256];
	size_t n;

	ck_assert_int_eq(broker_setup_pools(&cfg, s, 1234, err, sizeof(err)), 1);
	ck_assert_int_eq(broker_store_pool_get_by_name(s, "demo", &p), 0);
	ck_assert_uint_eq(p.memory_mib, 128);
	ck_assert_uint_eq(p.size, 2);
	ck_assert_int_eq(p.created, 1234);
	ck_assert_int_eq(broker_store_pool_entitlements(s, p.id, &ents, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(ents[0].name, "users");
	free(ents);
	/* Changed in the store: a restart keeps the change. */
	p.memory_mib = 512;
	ck_assert_int_eq(broker_store_pool_update(s, &p), 0);
	ck_assert_int_eq(broker_setup_pools(&cfg, s, 1235, err, sizeof(err)), 0);
	ck_assert_int_eq(broker_store_pool_get_by_name(s, "demo", &p), 0);
	ck_assert_uint_eq(p.memory_mib, 512);
	/* An entitlement to a user who does not exist is skipped, not fatal. */
	cfg.pools[0].entitle[1].kind = BROKER_ENT_USER;
	strcpy(cfg.pools[0].entitle[1].name, "ghost");
	cfg.pools[0].nr_entitle = 2;
	strcpy(cfg.pools[0].pool.name, "demo2");
	ck_assert_int_eq(broker_setup_pools(&cfg, s, 1236, err, sizeof(err)), 1);
	ck_assert_int_eq(broker_store_pool_get_by_name(s, "demo2", &p), 0);
	ck_assert_int_eq(broker_store_pool_entitlements(s, p.id, &ents, &n), 0);
	ck_assert_uint_eq(n, 1);
	free(ents);
}
END_TEST

START_TEST(first_admin)
{
	char pw[BROKER_RANDOM_PASSWORD_LEN + 1], pw2[BROKER_RANDOM_PASSWORD_LEN + 1];
	struct broker_login l;
	struct broker_user u;
	struct broker_group *gs = NULL;
	size_t n;

	ck_assert_int_eq(broker_setup_first_admin(a, s, pw, sizeof(pw)), 1);
	ck_assert_uint_eq(strlen(pw), BROKER_RANDOM_PASSWORD_LEN);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "admin", &u), 0);
	ck_assert_int_eq(u.role, BROKER_ROLE_ADMIN);
	ck_assert_int_eq(broker_store_user_groups(s, u.id, &gs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(gs[0].name, "users");
	free(gs);
	ck_assert_int_eq(broker_auth_login(a, "admin", pw, NULL, "local", &l), BROKER_LOGIN_OK);
	/* Only once. */
	ck_assert_int_eq(broker_setup_first_admin(a, s, pw2, sizeof(pw2)), 0);
	ck_assert_int_eq(broker_auth_login(a, "admin", pw, NULL, "local", &l), BROKER_LOGIN_OK);
}
END_TEST

START_TEST(first_admin_respects_existing_accounts)
{
	char pw[BROKER_RANDOM_PASSWORD_LEN + 1];
	struct broker_user u;

	/* An admin made with the CLI first: nothing to do. */
	ck_assert_int_eq(
	        broker_auth_user_add(a, "root", "long enough", BROKER_ROLE_ADMIN, NULL, 0, NULL),
	        0);
	ck_assert_int_eq(broker_setup_first_admin(a, s, pw, sizeof(pw)), 0);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "admin", &u), -ENOENT);
	/* Only users, one of them called admin: refused, not overwritten. */
	ck_assert_int_eq(broker_store_user_get_by_name(s, "root", &u), 0);
	ck_assert_int_eq(broker_store_user_del(s, u.id), 0);
	ck_assert_int_eq(
	        broker_auth_user_add(a, "admin", "long enough", BROKER_ROLE_USER, NULL, 0, NULL),
	        0);
	ck_assert_int_eq(broker_setup_first_admin(a, s, pw, sizeof(pw)), -EEXIST);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "admin", &u), 0);
	ck_assert_int_eq(u.role, BROKER_ROLE_USER);
}
END_TEST

START_TEST(random_passwords)
{
	char a1[40], a2[40];

	ck_assert_int_eq(broker_random_password(a1, sizeof(a1), 16), 0);
	ck_assert_int_eq(broker_random_password(a2, sizeof(a2), 16), 0);
	ck_assert_uint_eq(strlen(a1), 16);
	ck_assert_str_ne(a1, a2);
	ck_assert_uint_eq(strcspn(a1, "0O1lI"), 16);
	ck_assert_int_eq(broker_random_password(a1, 16, 16), -ENOSPC);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("broker_setup");
	TCase *tc = tcase_create("setup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, data_dir_and_store);
	tcase_add_test(tc, config_pools_are_created_once);
	tcase_add_test(tc, first_admin);
	tcase_add_test(tc, first_admin_respects_existing_accounts);
	tcase_add_test(tc, random_passwords);
	suite_add_tcase(su, tc);
	return bt_run(su);
}
