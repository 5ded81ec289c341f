// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The store on a temporary SQLite file: migrations (fresh, reopened, newer,
 * failing), every record type's CRUD, the atomic operations, cascades and
 * argument checks.
 */
#include <check.h>
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "broker/store-priv.h"
#include "broker/store.h"
#include "broker_test.h"

static char dir[64], path[128];
static struct broker_store *s;

static void setup(void)
{
	char err[256];

	bt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/broker.db", dir);
	ck_assert_msg(broker_store_open(path, &s, err, sizeof(err)) == 0, "%s", err);
}

static void teardown(void)
{
	broker_store_close(s);
	s = NULL;
	bt_rmdir(dir);
}

static int64_t add_user(const char *name, enum broker_role role)
{
	struct broker_user u = { .role = role, .created = 1000 };

	strcpy(u.name, name);
	strcpy(u.password_hash, "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA");
	ck_assert_int_eq(broker_store_user_add(s, &u), 0);
	ck_assert_int_gt(u.id, 0);
	return u.id;
}

static int64_t add_pool(const char *name)
{
	struct broker_pool p;

	broker_pool_defaults(&p, name);
	p.created = 1000;
	ck_assert_int_eq(broker_store_pool_add(s, &p), 0);
	return p.id;
}

static int64_t add_vm(int64_t pool, const char *name)
{
	struct broker_vm vm = { .pool_id = pool, .state = BROKER_VM_STOPPED, .created = 1000 };

	strcpy(vm.name, name);
	ck_assert_int_eq(broker_store_vm_add(s, &vm), 0);
	return vm.id;
}

/* Run @sql on the file with a connection of its own; returns the first column as int. */
static long long raw_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void raw_exec(const char *sql)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

START_TEST(fresh_file_is_migrated_private_and_wal)
{
	struct stat st;
	int v = -1;
	sqlite3 *db;
	sqlite3_stmt *q;

	ck_assert_int_eq(broker_store_schema_version(s, &v), 0);
	ck_assert_int_eq(v, broker_store_schema_latest(s));
	ck_assert_int_ge(v, 1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(q), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	sqlite3_close(db);
}
END_TEST

START_TEST(reopen_keeps_data_and_version)
{
	struct broker_user u;
	char err[256];
	int v = -1;

	add_user("alice", BROKER_ROLE_ADMIN);
	broker_store_close(s);
	ck_assert_int_eq(broker_store_open(path, &s, err, sizeof(err)), 0);
	ck_assert_int_eq(broker_store_schema_version(s, &v), 0);
	ck_assert_int_eq(v, broker_store_schema_latest(s));
	ck_assert_int_eq(broker_store_user_get_by_name(s, "alice", &u), 0);
	ck_assert_int_eq(u.role, BROKER_ROLE_ADMIN);
	/* And the sqlite: prefix names the same file. */
	broker_store_close(s);
	{
		char loc[160];

		snprintf(loc, sizeof(loc), "sqlite:%s", path);
		ck_assert_int_eq(broker_store_open(loc, &s, err, sizeof(err)), 0);
	}
	ck_assert_int_eq(broker_store_user_get_by_name(s, "alice", &u), 0);
}
END_TEST

START_TEST(newer_schema_is_refused)
{
	char err[256] = "", sql[64];

	broker_store_close(s);
	s = NULL;
	snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %d", 999);
	raw_exec(sql);
	ck_assert_int_eq(broker_store_open(path, &s, err, sizeof(err)), -EPROTO);
	ck_assert_ptr_null(s);
	ck_assert_ptr_nonnull(strstr(err, "newer"));
}
END_TEST

START_TEST(migrations_apply_in_order_and_atomically)
{
	static const char *const two[] = {
		"CREATE TABLE a (x INTEGER);",
		"CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);",
	};
	static const char *const bad[] = {
		"CREATE TABLE a (x INTEGER);",
		"CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);",
		"CREATE TABLE c (z INTEGER); INSERT INTO a VALUES (2); SELECT no_such_function();",
	};
	static const char *const three[] = {
		"CREATE TABLE a (x INTEGER);",
		"CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1);",
		"CREATE TABLE c (z INTEGER); INSERT INTO a VALUES (3);",
	};
	struct broker_store *m = NULL;
	char err[256] = "";
	int v = -1;

	broker_store_close(s);
	s = NULL;
	snprintf(path, sizeof(path), "%s/m.db", dir);
	ck_assert_int_eq(broker_store_sqlite_open_migrations(path, two, 2, &m, err, sizeof(err)),
	                 0);
	ck_assert_int_eq(broker_store_schema_version(m, &v), 0);
	ck_assert_int_eq(v, 2);
	broker_store_close(m);
	/* Reopening applies nothing twice. */
	ck_assert_int_eq(broker_store_sqlite_open_migrations(path, two, 2, &m, err, sizeof(err)),
	                 0);
	broker_store_close(m);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM a"), 1);

	/* A failing migration leaves no trace and names itself. */
	ck_assert_int_lt(broker_store_sqlite_open_migrations(path, bad, 3, &m, err, sizeof(err)),
	                 0);
	ck_assert_ptr_nonnull(strstr(err, "migration 3"));
	ck_assert_int_eq(raw_int("SELECT version FROM schema_version"), 2);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM sqlite_master WHERE name = 'c'"), 0);
	ck_assert_int_eq(raw_int("SELECT count(*) FROM a"), 1);

	ck_assert_int_eq(broker_store_sqlite_open_migrations(path, three, 3, &m, err, sizeof(err)),
	                 0);
	ck_assert_int_eq(broker_store_schema_version(m, &v), 0);
	ck_assert_int_eq(v, 3);
	broker_store_close(m);
	ck_assert_int_eq(raw_int("SELECT max(x) FROM a"), 3);
}
END_TEST

START_TEST(bad_locations)
{
	struct broker_store *x = NULL;
	char err[256] = "", junk[160];
	FILE *f;

	ck_assert_int_eq(broker_store_open("postgresql://db/vdi", &x, err, sizeof(err)),
	                 -EPROTONOSUPPORT);
	ck_assert_ptr_nonnull(strstr(err, "postgresql"));
	ck_assert_int_eq(broker_store_open("", &x, err, sizeof(err)), -EINVAL);
	ck_assert_int_lt(broker_store_open("/nonexistent-dir/x.db", &x, err, sizeof(err)), 0);
	snprintf(junk, sizeof(junk), "%s/junk.db", dir);
	f = fopen(junk, "w");
	fputs("this is not a database, not at all, no sqlite header here......\n", f);
	fclose(f);
	ck_assert_int_lt(broker_store_open(junk, &x, err, sizeof(err)), 0);
	ck_assert_ptr_null(x);
	ck_assert_ptr_nonnull(strstr(err, "junk.db"));
}
END_TEST

START_TEST(names)
{
	char n64[65], n65[66];

	memset(n64, 'a', 64);
	n64[64] = '\0';
	memset(n65, 'a', 65);
	n65[65] = '\0';
	ck_assert(broker_name_valid("a"));
	ck_assert(broker_name_valid("Desk-3_x.y"));
	ck_assert(broker_name_valid(n64));
	ck_assert(!broker_name_valid(n65));
	ck_assert(!broker_name_valid(""));
	ck_assert(!broker_name_valid(NULL));
	ck_assert(!broker_name_valid("a b"));
	ck_assert(!broker_name_valid("a/b"));
	ck_assert(!broker_name_valid("x'; DROP TABLE users; --"));
	ck_assert(!broker_name_valid("\xc3\xa9"));
}
END_TEST

START_TEST(user_crud)
{
	struct broker_user u = { .role = BROKER_ROLE_USER }, got, *list = NULL;
	size_t n = 0;
	int64_t bob;

	bob = add_user("bob", BROKER_ROLE_USER);
	add_user("alice", BROKER_ROLE_ADMIN);
	strcpy(u.name, "bob");
	strcpy(u.password_hash, "x");
	ck_assert_int_eq(broker_store_user_add(s, &u), -EEXIST);
	strcpy(u.name, "bad name");
	ck_assert_int_eq(broker_store_user_add(s, &u), -EINVAL);
	strcpy(u.name, "carol");
	u.password_hash[0] = '\0';
	ck_assert_int_eq(broker_store_user_add(s, &u), -EINVAL);
	strcpy(u.password_hash, "x");
	strcpy(u.totp_secret, "not base32!");
	ck_assert_int_eq(broker_store_user_add(s, &u), -EINVAL);

	ck_assert_int_eq(broker_store_user_get(s, bob, &got), 0);
	ck_assert_str_eq(got.name, "bob");
	ck_assert_int_eq(got.created, 1000);
	ck_assert_str_eq(got.totp_secret, "");
	ck_assert_int_eq(broker_store_user_get_by_name(s, "nobody", &got), -ENOENT);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "no body", &got), -EINVAL);
	ck_assert_int_eq(broker_store_user_get(s, 9999, &got), -ENOENT);

	ck_assert_int_eq(broker_store_user_list(s, &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].name, "alice");
	ck_assert_str_eq(list[1].name, "bob");
	free(list);
	ck_assert_int_eq(broker_store_user_count(s, BROKER_ROLE_ADMIN, &n), 0);
	ck_assert_uint_eq(n, 1);

	ck_assert_int_eq(broker_store_user_set_password(s, bob, "$argon2id$new"), 0);
	ck_assert_int_eq(broker_store_user_set_role(s, bob, BROKER_ROLE_ADMIN), 0);
	ck_assert_int_eq(broker_store_user_get(s, bob, &got), 0);
	ck_assert_str_eq(got.password_hash, "$argon2id$new");
	ck_assert_int_eq(got.role, BROKER_ROLE_ADMIN);
	ck_assert_int_eq(broker_store_user_set_password(s, 9999, "x"), -ENOENT);
	ck_assert_int_eq(broker_store_user_set_password(s, bob, "a b"), -EINVAL);

	ck_assert_int_eq(broker_store_user_del(s, bob), 0);
	ck_assert_int_eq(broker_store_user_del(s, bob), -ENOENT);
	ck_assert_int_eq(broker_store_user_get(s, bob, &got), -ENOENT);
}
END_TEST

START_TEST(totp_steps_are_used_once)
{
	int64_t id = add_user("bob", BROKER_ROLE_USER);
	struct broker_user u;

	ck_assert_int_eq(broker_store_user_set_totp(s, id, "JBSWY3DPEHPK3PXP"), 0);
	ck_assert_int_eq(broker_store_user_use_totp_step(s, id, 10), 0);
	ck_assert_int_eq(broker_store_user_use_totp_step(s, id, 10), -EALREADY);
	ck_assert_int_eq(broker_store_user_use_totp_step(s, id, 9), -EALREADY);
	ck_assert_int_eq(broker_store_user_use_totp_step(s, id, 11), 0);
	ck_assert_int_eq(broker_store_user_use_totp_step(s, 9999, 12), -ENOENT);
	ck_assert_int_eq(broker_store_user_get(s, id, &u), 0);
	ck_assert_str_eq(u.totp_secret, "JBSWY3DPEHPK3PXP");
	ck_assert_int_eq(u.totp_last_step, 11);
	/* A new secret starts over; removing it leaves "". */
	ck_assert_int_eq(broker_store_user_set_totp(s, id, "MFRGGZDFMZTWQ2LK"), 0);
	ck_assert_int_eq(broker_store_user_get(s, id, &u), 0);
	ck_assert_int_eq(u.totp_last_step, 0);
	ck_assert_int_eq(broker_store_user_set_totp(s, id, NULL), 0);
	ck_assert_int_eq(broker_store_user_get(s, id, &u), 0);
	ck_assert_str_eq(u.totp_secret, "");
	ck_assert_int_eq(broker_store_user_set_totp(s, id, "lowercase"), -EINVAL);
}
END_TEST

START_TEST(login_failures_lock_and_clear)
{
	int64_t id = add_user("bob", BROKER_ROLE_USER);
	struct broker_user u;

	ck_assert_int_eq(broker_store_user_login_failed(s, id, 5000, 3, 60, &u), 0);
	ck_assert_int_eq(u.failed_count, 1);
	ck_assert_int_eq(u.locked_until, 0);
	ck_assert_int_eq(broker_store_user_login_failed(s, id, 5001, 3, 60, &u), 0);
	ck_assert_int_eq(u.failed_count, 2);
	ck_assert_int_eq(broker_store_user_login_failed(s, id, 5002, 3, 60, &u), 0);
	ck_assert_int_eq(u.failed_count, 0);
	ck_assert_int_eq(u.locked_until, 5062);
	ck_assert_int_eq(broker_store_user_login_failed(s, id, 5003, 3, 60, NULL), 0);
	ck_assert_int_eq(broker_store_user_login_ok(s, id), 0);
	ck_assert_int_eq(broker_store_user_get(s, id, &u), 0);
	ck_assert_int_eq(u.failed_count, 0);
	ck_assert_int_eq(u.locked_until, 0);
	ck_assert_int_eq(broker_store_user_login_failed(s, 9999, 5000, 3, 60, &u), -ENOENT);
	ck_assert_int_eq(broker_store_user_login_failed(s, id, 5000, 0, 60, &u), -EINVAL);
}
END_TEST

START_TEST(groups_and_membership)
{
	int64_t bob = add_user("bob", BROKER_ROLE_USER), g1 = 0, g2 = 0;
	struct broker_group *gs = NULL;
	size_t n = 0;

	ck_assert_int_eq(broker_store_group_ensure(s, "staff", &g1), 0);
	ck_assert_int_eq(broker_store_group_ensure(s, "staff", &g2), 0);
	ck_assert_int_eq(g1, g2);
	ck_assert_int_eq(broker_store_group_ensure(s, "bad group", NULL), -EINVAL);
	ck_assert_int_eq(broker_store_user_group_add(s, bob, "users"), 0);
	ck_assert_int_eq(broker_store_user_group_add(s, bob, "users"), 0);
	ck_assert_int_eq(broker_store_user_group_add(s, bob, "staff"), 0);
	ck_assert_int_eq(broker_store_user_group_add(s, 9999, "staff"), -ENOENT);
	ck_assert_int_eq(broker_store_user_groups(s, bob, &gs, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(gs[0].name, "staff");
	ck_assert_str_eq(gs[1].name, "users");
	free(gs);
	ck_assert_int_eq(broker_store_user_group_del(s, bob, "staff"), 0);
	ck_assert_int_eq(broker_store_user_group_del(s, bob, "staff"), -ENOENT);
	ck_assert_int_eq(broker_store_group_del(s, "users"), 0);
	ck_assert_int_eq(broker_store_group_del(s, "users"), -ENOENT);
	ck_assert_int_eq(broker_store_user_groups(s, bob, &gs, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(gs);
	ck_assert_int_eq(broker_store_group_list(s, &gs, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(gs[0].name, "staff");
	free(gs);
}
END_TEST

START_TEST(pool_crud_and_checks)
{
	struct broker_pool p, got, *list = NULL;
	char why[256];
	size_t n;
	int64_t id = add_pool("demo");

	broker_pool_defaults(&p, "demo");
	ck_assert_int_eq(broker_store_pool_add(s, &p), -EEXIST);
	broker_pool_defaults(&p, "big");
	p.memory_mib = 8;
	ck_assert_int_eq(broker_store_pool_add(s, &p), -EINVAL);
	ck_assert_int_eq(broker_pool_check(&p, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "memory"));
	broker_pool_defaults(&p, "big");
	p.size = 5;
	ck_assert_int_eq(broker_pool_check(&p, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "size"));
	broker_pool_defaults(&p, "big");
	p.max_per_user = 0;
	ck_assert_int_eq(broker_pool_check(&p, why, sizeof(why)), -EINVAL);
	broker_pool_defaults(&p, "big");
	p.width = 4000;
	ck_assert_int_eq(broker_pool_check(&p, why, sizeof(why)), -EINVAL);
	broker_pool_defaults(&p, "big");
	strcpy(p.cmdline, "console=ttyS0\n");
	ck_assert_int_eq(broker_pool_check(&p, why, sizeof(why)), -EINVAL);
	broker_pool_defaults(&p, "bad name");
	ck_assert_int_eq(broker_store_pool_add(s, &p), -EINVAL);

	ck_assert_int_eq(broker_store_pool_get(s, id, &got), 0);
	ck_assert_str_eq(got.name, "demo");
	ck_assert_uint_eq(got.memory_mib, 256);
	ck_assert(got.enabled);
	got.memory_mib = 512;
	got.type = BROKER_POOL_PERSISTENT;
	strcpy(got.kernel, "/boot/vmlinuz");
	strcpy(got.cmdline, "console=ttyS0 quiet 'quoted' \"x\"");
	got.enabled = false;
	ck_assert_int_eq(broker_store_pool_update(s, &got), 0);
	ck_assert_int_eq(broker_store_pool_get_by_name(s, "demo", &p), 0);
	ck_assert_uint_eq(p.memory_mib, 512);
	ck_assert_int_eq(p.type, BROKER_POOL_PERSISTENT);
	ck_assert_str_eq(p.kernel, "/boot/vmlinuz");
	ck_assert_str_eq(p.cmdline, "console=ttyS0 quiet 'quoted' \"x\"");
	ck_assert(!p.enabled);
	ck_assert_int_eq(p.created, 1000);
	got.id = 9999;
	ck_assert_int_eq(broker_store_pool_update(s, &got), -ENOENT);

	add_pool("another");
	ck_assert_int_eq(broker_store_pool_list(s, &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].name, "another");
	free(list);
	ck_assert_int_eq(broker_store_pool_del(s, id), 0);
	ck_assert_int_eq(broker_store_pool_del(s, id), -ENOENT);
}
END_TEST

START_TEST(entitlements)
{
	int64_t bob = add_user("bob", BROKER_ROLE_USER), eve = add_user("eve", BROKER_ROLE_USER);
	int64_t p1 = add_pool("p1"), p2 = add_pool("p2"), p3 = add_pool("p3");
	struct broker_entitlement eu = { BROKER_ENT_USER, "bob" },
	                          eg = { BROKER_ENT_GROUP, "staff" };
	struct broker_entitlement nobody = { BROKER_ENT_USER, "nobody" }, *ents = NULL;
	struct broker_pool *pools = NULL, p;
	size_t n;

	ck_assert_int_eq(broker_store_pool_entitle(s, p1, &eu), 0);
	ck_assert_int_eq(broker_store_pool_entitle(s, p1, &eu), 0);
	ck_assert_int_eq(broker_store_pool_entitle(s, p1, &eg), 0);
	ck_assert_int_eq(broker_store_pool_entitle(s, p2, &eg), 0);
	ck_assert_int_eq(broker_store_pool_entitle(s, p1, &nobody), -ENOENT);
	ck_assert_int_eq(broker_store_pool_entitle(s, 9999, &eu), -ENOENT);
	ck_assert_int_eq(broker_store_pool_entitlements(s, p1, &ents, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(ents[0].kind, BROKER_ENT_USER);
	ck_assert_str_eq(ents[0].name, "bob");
	ck_assert_int_eq(ents[1].kind, BROKER_ENT_GROUP);
	ck_assert_str_eq(ents[1].name, "staff");
	free(ents);

	/* bob: p1 directly; eve: p1 and p2 through staff; nobody gets p3. */
	ck_assert_int_eq(broker_store_user_pools(s, bob, &pools, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(pools[0].name, "p1");
	free(pools);
	ck_assert_int_eq(broker_store_user_group_add(s, eve, "staff"), 0);
	ck_assert_int_eq(broker_store_user_pools(s, eve, &pools, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(pools[0].name, "p1");
	ck_assert_str_eq(pools[1].name, "p2");
	free(pools);
	/* A disabled pool is nobody's. */
	ck_assert_int_eq(broker_store_pool_get(s, p2, &p), 0);
	p.enabled = false;
	ck_assert_int_eq(broker_store_pool_update(s, &p), 0);
	ck_assert_int_eq(broker_store_user_pools(s, eve, &pools, &n), 0);
	ck_assert_uint_eq(n, 1);
	free(pools);

	ck_assert_int_eq(broker_store_pool_unentitle(s, p1, &eu), 0);
	ck_assert_int_eq(broker_store_pool_unentitle(s, p1, &eu), -ENOENT);
	ck_assert_int_eq(broker_store_user_pools(s, bob, &pools, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(pools);
	/* Deleting a pool or group takes its entitlements along. */
	ck_assert_int_eq(broker_store_pool_entitle(s, p3, &eu), 0);
	ck_assert_int_eq(broker_store_user_del(s, bob), 0);
	ck_assert_int_eq(broker_store_pool_entitlements(s, p3, &ents, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(ents);
	ck_assert_int_eq(broker_store_group_del(s, "staff"), 0);
	ck_assert_int_eq(broker_store_pool_entitlements(s, p1, &ents, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(ents);
}
END_TEST

START_TEST(vms_and_assignment)
{
	int64_t pool = add_pool("demo"), bob = add_user("bob", BROKER_ROLE_USER);
	int64_t eve = add_user("eve", BROKER_ROLE_USER);
	int64_t v1 = add_vm(pool, "demo-1"), v2 = add_vm(pool, "demo-2");
	struct broker_vm vm, *list = NULL;
	struct broker_pool p;
	size_t n;

	vm = (struct broker_vm){ .pool_id = pool, .created = 1 };
	strcpy(vm.name, "demo-1");
	ck_assert_int_eq(broker_store_vm_add(s, &vm), -EEXIST);
	strcpy(vm.name, "demo-9");
	vm.pool_id = 9999;
	ck_assert_int_eq(broker_store_vm_add(s, &vm), -ENOENT);
	vm.pool_id = pool;
	vm.vnc_port = 70000;
	ck_assert_int_eq(broker_store_vm_add(s, &vm), -EINVAL);

	ck_assert_int_eq(broker_store_vm_get_by_name(s, "demo-1", &vm), 0);
	ck_assert_int_eq(vm.id, v1);
	vm.state = BROKER_VM_RUNNING;
	vm.pid = 4242;
	strcpy(vm.control_path, "/var/vdi/demo-1.sock");
	strcpy(vm.vnc_host, "127.0.0.1");
	vm.vnc_port = 5901;
	strcpy(vm.spice_host, "127.0.0.1");
	vm.spice_port = 5931;
	vm.boots = 3;
	vm.last_used = 2000;
	ck_assert_int_eq(broker_store_vm_update(s, &vm), 0);
	ck_assert_int_eq(broker_store_vm_get(s, v1, &vm), 0);
	ck_assert_int_eq(vm.state, BROKER_VM_RUNNING);
	ck_assert_int_eq(vm.pid, 4242);
	ck_assert_str_eq(vm.control_path, "/var/vdi/demo-1.sock");
	ck_assert_int_eq(vm.vnc_port, 5901);
	ck_assert_int_eq(vm.spice_port, 5931);
	ck_assert_uint_eq(vm.boots, 3);
	ck_assert_int_eq(vm.created, 1000);

	ck_assert_int_eq(broker_store_vm_assign(s, v1, bob, 3000), 0);
	ck_assert_int_eq(broker_store_vm_assign(s, v1, eve, 3001), -EALREADY);
	ck_assert_int_eq(broker_store_vm_assign(s, 9999, eve, 3001), -ENOENT);
	ck_assert_int_eq(broker_store_vm_assign(s, v2, 9999, 3001), -ENOENT);
	ck_assert_int_eq(broker_store_vm_count_user(s, pool, bob, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(broker_store_vm_get(s, v1, &vm), 0);
	ck_assert_int_eq(vm.user_id, bob);
	ck_assert_int_eq(vm.last_used, 3000);
	ck_assert_int_eq(broker_store_vm_release(s, v1, 3100), 0);
	ck_assert_int_eq(broker_store_vm_release(s, v1, 3100), 0);
	ck_assert_int_eq(broker_store_vm_assign(s, v1, eve, 3200), 0);
	/* A deleted user's desktop becomes free. */
	ck_assert_int_eq(broker_store_user_del(s, eve), 0);
	ck_assert_int_eq(broker_store_vm_get(s, v1, &vm), 0);
	ck_assert_int_eq(vm.user_id, 0);

	ck_assert_int_eq(broker_store_vm_list(s, pool, &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(list[0].id, v1);
	free(list);
	ck_assert_int_eq(broker_store_vm_list(s, 9999, &list, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(list);

	/* A pool with VMs cannot go. */
	ck_assert_int_eq(broker_store_pool_del(s, pool), -EBUSY);
	ck_assert_int_eq(broker_store_vm_del(s, v1), 0);
	ck_assert_int_eq(broker_store_vm_del(s, v2), 0);
	ck_assert_int_eq(broker_store_pool_del(s, pool), 0);
	ck_assert_int_eq(broker_store_pool_get(s, pool, &p), -ENOENT);
}
END_TEST

START_TEST(vm_requests)
{
	int64_t vm = add_vm(add_pool("demo"), "demo-1");
	struct broker_vm_request r = { .vm_id = vm,
		                       .action = "reset",
		                       .requested_by = "cli",
		                       .requested = 100 },
	                         *list = NULL;
	size_t n;

	ck_assert_int_eq(broker_store_vm_request_add(s, &r), 0);
	ck_assert_int_gt(r.id, 0);
	ck_assert_int_eq(broker_store_vm_request_pending(s, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].action, "reset");
	ck_assert_int_eq(list[0].vm_id, vm);
	free(list);
	ck_assert_int_eq(broker_store_vm_request_done(s, r.id, 200), 0);
	ck_assert_int_eq(broker_store_vm_request_pending(s, &list, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(list);
	ck_assert_int_eq(broker_store_vm_request_done(s, 9999, 200), -ENOENT);
	r.vm_id = 9999;
	ck_assert_int_eq(broker_store_vm_request_add(s, &r), -ENOENT);
	r.vm_id = vm;
	strcpy(r.action, "Reset!");
	ck_assert_int_eq(broker_store_vm_request_add(s, &r), -EINVAL);
}
END_TEST

START_TEST(sessions)
{
	int64_t bob = add_user("bob", BROKER_ROLE_USER), eve = add_user("eve", BROKER_ROLE_USER);
	struct broker_session a = {
		.user_id = bob, .created = 100, .last_seen = 100, .expires = 1000
	};
	struct broker_session b, c, got, *list = NULL;
	size_t n;

	memset(a.token_hash, 0xaa, sizeof(a.token_hash));
	strcpy(a.source, "192.0.2.1 'quoted' \"x\"");
	b = a;
	memset(b.token_hash, 0xbb, sizeof(b.token_hash));
	b.expires = 150;
	c = a;
	c.user_id = eve;
	memset(c.token_hash, 0xcc, sizeof(c.token_hash));
	ck_assert_int_eq(broker_store_session_add(s, &a), 0);
	ck_assert_int_eq(broker_store_session_add(s, &b), 0);
	ck_assert_int_eq(broker_store_session_add(s, &c), 0);
	ck_assert_int_eq(broker_store_session_add(s, &a), -EEXIST);
	a.user_id = 9999;
	memset(a.token_hash, 0xdd, sizeof(a.token_hash));
	ck_assert_int_eq(broker_store_session_add(s, &a), -ENOENT);
	memset(a.token_hash, 0xaa, sizeof(a.token_hash));

	ck_assert_int_eq(broker_store_session_get_by_hash(s, a.token_hash, &got), 0);
	ck_assert_int_eq(got.user_id, bob);
	ck_assert_str_eq(got.source, "192.0.2.1 'quoted' \"x\"");
	ck_assert(!got.revoked);
	ck_assert_int_eq(broker_store_session_touch(s, got.id, 300), 0);
	ck_assert_int_eq(broker_store_session_touch(s, got.id, 200), 0);
	ck_assert_int_eq(broker_store_session_get(s, got.id, &got), 0);
	ck_assert_int_eq(got.last_seen, 300);

	/* At 200, b has expired. */
	ck_assert_int_eq(broker_store_session_list(s, 200, &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	free(list);
	ck_assert_int_eq(broker_store_session_revoke(s, got.id), 0);
	ck_assert_int_eq(broker_store_session_revoke(s, got.id), 0);
	ck_assert_int_eq(broker_store_session_revoke(s, 9999), -ENOENT);
	ck_assert_int_eq(broker_store_session_list(s, 200, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].user_id, eve);
	free(list);
	ck_assert_int_eq(broker_store_session_list(s, 0, &list, &n), 0);
	ck_assert_uint_eq(n, 3);
	free(list);
	ck_assert_int_eq(broker_store_session_revoke_user(s, eve), 0);
	ck_assert_int_eq(broker_store_session_get(s, c.id, &got), 0);
	ck_assert(got.revoked);

	/* Purge: expired b, and revoked a and c last seen before 400. */
	ck_assert_int_eq(broker_store_session_purge(s, 400, &n), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(broker_store_session_get(s, b.id, &got), -ENOENT);
	/* Deleting a user deletes their sessions. */
	ck_assert_int_eq(broker_store_session_add(s, &b), 0);
	ck_assert_int_eq(broker_store_user_del(s, bob), 0);
	ck_assert_int_eq(broker_store_session_get(s, b.id, &got), -ENOENT);
}
END_TEST

START_TEST(desktops)
{
	int64_t bob = add_user("bob", BROKER_ROLE_USER);
	int64_t vm = add_vm(add_pool("demo"), "demo-1");
	struct broker_session sess = {
		.user_id = bob, .created = 1, .last_seen = 1, .expires = 99
	};
	struct broker_desktop d = { .user_id = bob, .vm_id = vm, .protocol = "vnc", .started = 10 };
	struct broker_desktop got, *list = NULL;
	size_t n;

	ck_assert_int_eq(broker_store_session_add(s, &sess), 0);
	d.session_id = sess.id;
	ck_assert_int_eq(broker_store_desktop_add(s, &d), 0);
	ck_assert_int_eq(broker_store_desktop_list_open(s, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(list[0].session_id, sess.id);
	free(list);
	d.disconnected = 20;
	ck_assert_int_eq(broker_store_desktop_update(s, &d), 0);
	ck_assert_int_eq(broker_store_desktop_get(s, d.id, &got), 0);
	ck_assert_int_eq(got.disconnected, 20);
	ck_assert_str_eq(got.protocol, "vnc");
	/* The login session going away leaves the desktop session, unlinked. */
	ck_assert_int_eq(broker_store_session_purge(s, 1000, &n), 0);
	ck_assert_int_eq(broker_store_desktop_get(s, d.id, &got), 0);
	ck_assert_int_eq(got.session_id, 0);
	got.ended = 30;
	strcpy(got.end_reason, "grace expired");
	ck_assert_int_eq(broker_store_desktop_update(s, &got), 0);
	ck_assert_int_eq(broker_store_desktop_list_open(s, &list, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(list);
	d.vm_id = 9999;
	ck_assert_int_eq(broker_store_desktop_add(s, &d), -ENOENT);
	d.vm_id = vm;
	strcpy(d.protocol, "VNC ");
	ck_assert_int_eq(broker_store_desktop_add(s, &d), -EINVAL);
}
END_TEST

START_TEST(audit)
{
	struct broker_audit a = { .time = 100,
		                  .event = "login",
		                  .user = "bob",
		                  .source = "192.0.2.1" },
	                    *list = NULL;
	int64_t first;
	size_t n;

	strcpy(a.detail, "{\"result\":\"ok\",\"note\":\"it's \\\"quoted\\\"\"}");
	ck_assert_int_eq(broker_store_audit_add(s, &a), 0);
	a.detail[0] = '\0';
	strcpy(a.event, "logout");
	ck_assert_int_eq(broker_store_audit_add(s, &a), 0);
	strcpy(a.detail, "[1,2]");
	ck_assert_int_eq(broker_store_audit_add(s, &a), -EINVAL);
	strcpy(a.detail, "{not json");
	ck_assert_int_eq(broker_store_audit_add(s, &a), -EINVAL);
	a.detail[0] = '\0';
	strcpy(a.event, "");
	ck_assert_int_eq(broker_store_audit_add(s, &a), -EINVAL);
	strcpy(a.event, "Login Now");
	ck_assert_int_eq(broker_store_audit_add(s, &a), -EINVAL);
	strcpy(a.event, "x");
	strcpy(a.source, "a\nb");
	ck_assert_int_eq(broker_store_audit_add(s, &a), -EINVAL);

	ck_assert_int_eq(broker_store_audit_list(s, 0, 10, &list, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(list[0].event, "login");
	ck_assert_str_eq(list[0].detail, "{\"result\":\"ok\",\"note\":\"it's \\\"quoted\\\"\"}");
	ck_assert_str_eq(list[1].detail, "");
	first = list[0].id;
	free(list);
	ck_assert_int_eq(broker_store_audit_list(s, first, 10, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(list[0].event, "logout");
	free(list);
	ck_assert_int_eq(broker_store_audit_list(s, 0, 1, &list, &n), 0);
	ck_assert_uint_eq(n, 1);
	free(list);
}
END_TEST

START_TEST(transactions)
{
	struct broker_user u;
	struct broker_group *gs = NULL;
	size_t n;
	int64_t bob = add_user("bob", BROKER_ROLE_USER);

	ck_assert_int_eq(broker_store_commit(s), -EINVAL);
	ck_assert_int_eq(broker_store_rollback(s), -EINVAL);
	ck_assert_int_eq(broker_store_begin(s), 0);
	ck_assert_int_eq(broker_store_begin(s), -EALREADY);
	add_user("carol", BROKER_ROLE_USER);
	/* A multi-statement operation inside the caller's transaction. */
	ck_assert_int_eq(broker_store_user_group_add(s, bob, "newgroup"), 0);
	ck_assert_int_eq(broker_store_rollback(s), 0);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "carol", &u), -ENOENT);
	ck_assert_int_eq(broker_store_group_list(s, &gs, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(gs);

	ck_assert_int_eq(broker_store_begin(s), 0);
	add_user("carol", BROKER_ROLE_USER);
	/* A failing multi-statement operation undoes only itself. */
	ck_assert_int_eq(broker_store_user_group_add(s, 9999, "ghosts"), -ENOENT);
	ck_assert_int_eq(broker_store_commit(s), 0);
	ck_assert_int_eq(broker_store_user_get_by_name(s, "carol", &u), 0);
	ck_assert_int_eq(broker_store_group_list(s, &gs, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(gs);
}
END_TEST

START_TEST(readers_proceed_while_a_writer_works)
{
	struct broker_store *other = NULL;
	struct broker_user u;
	char err[256];

	add_user("bob", BROKER_ROLE_USER);
	ck_assert_int_eq(broker_store_open(path, &other, err, sizeof(err)), 0);
	ck_assert_int_eq(broker_store_begin(s), 0);
	add_user("carol", BROKER_ROLE_USER);
	/* WAL: the other handle reads the last committed state at once. */
	ck_assert_int_eq(broker_store_user_get_by_name(other, "bob", &u), 0);
	ck_assert_int_eq(broker_store_user_get_by_name(other, "carol", &u), -ENOENT);
	ck_assert_int_eq(broker_store_commit(s), 0);
	ck_assert_int_eq(broker_store_user_get_by_name(other, "carol", &u), 0);
	broker_store_close(other);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("broker_store");
	TCase *tm = tcase_create("migrations");
	TCase *tc = tcase_create("records");

	tcase_add_checked_fixture(tm, setup, teardown);
	tcase_add_test(tm, fresh_file_is_migrated_private_and_wal);
	tcase_add_test(tm, reopen_keeps_data_and_version);
	tcase_add_test(tm, newer_schema_is_refused);
	tcase_add_test(tm, migrations_apply_in_order_and_atomically);
	tcase_add_test(tm, bad_locations);
	suite_add_tcase(su, tm);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, names);
	tcase_add_test(tc, user_crud);
	tcase_add_test(tc, totp_steps_are_used_once);
	tcase_add_test(tc, login_failures_lock_and_clear);
	tcase_add_test(tc, groups_and_membership);
	tcase_add_test(tc, pool_crud_and_checks);
	tcase_add_test(tc, entitlements);
	tcase_add_test(tc, vms_and_assignment);
	tcase_add_test(tc, vm_requests);
	tcase_add_test(tc, sessions);
	tcase_add_test(tc, desktops);
	tcase_add_test(tc, audit);
	tcase_add_test(tc, transactions);
	tcase_add_test(tc, readers_proceed_while_a_writer_works);
	suite_add_tcase(su, tc);
	return bt_run(su);
}
