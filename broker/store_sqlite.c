// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The SQLite backend of broker/store.h.
 *
 * One connection per handle, in WAL mode (readers never wait for the
 * writer), foreign keys on, a busy timeout for the write lock, defensive
 * mode (no writes to the schema behind SQLite's back). Every statement is
 * prepared once, on first use, and kept; values are always bound, never
 * formatted into SQL.
 *
 * The schema is versioned: migrations[] is an ordered list of SQL scripts,
 * and schema_version holds how many were applied. Opening applies the
 * missing ones, each in its own IMMEDIATE transaction that re-reads the
 * version first, so two processes opening a fresh file at once do not
 * apply a migration twice. A database newer than this build is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "broker/store-priv.h"
#include "proto/log.h"

#define BUSY_TIMEOUT_MS 5000

static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE users ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" password_hash TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('admin', 'user')),"
	" totp_secret TEXT,"
	" totp_last_step INTEGER NOT NULL DEFAULT 0,"
	" failed_count INTEGER NOT NULL DEFAULT 0,"
	" locked_until INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE groups ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE"
	") STRICT;"
	"CREATE TABLE user_groups ("
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,"
	" PRIMARY KEY (user_id, group_id)"
	") STRICT, WITHOUT ROWID;"
	"CREATE INDEX user_groups_group ON user_groups(group_id);"
	"CREATE TABLE pools ("
	" id INTEGER PRIMARY KEY,"
	" name TEXT NOT NULL UNIQUE,"
	" kernel TEXT NOT NULL DEFAULT '',"
	" initrd TEXT NOT NULL DEFAULT '',"
	" cmdline TEXT NOT NULL DEFAULT '',"
	" disk_template TEXT NOT NULL DEFAULT '',"
	" memory_mib INTEGER NOT NULL,"
	" vcpus INTEGER NOT NULL,"
	" width INTEGER NOT NULL,"
	" height INTEGER NOT NULL,"
	" type TEXT NOT NULL CHECK (type IN ('floating', 'persistent')),"
	" size INTEGER NOT NULL,"
	" spares INTEGER NOT NULL,"
	" max_vms INTEGER NOT NULL,"
	" max_per_user INTEGER NOT NULL,"
	" enabled INTEGER NOT NULL DEFAULT 1,"
	" created INTEGER NOT NULL"
	") STRICT;"
	"CREATE TABLE pool_entitlements ("
	" pool_id INTEGER NOT NULL REFERENCES pools(id) ON DELETE CASCADE,"
	" user_id INTEGER REFERENCES users(id) ON DELETE CASCADE,"
	" group_id INTEGER REFERENCES groups(id) ON DELETE CASCADE,"
	" CHECK ((user_id IS NULL) <> (group_id IS NULL))"
	") STRICT;"
	"CREATE UNIQUE INDEX pool_entitlements_pool_user ON pool_entitlements(pool_id, user_id)"
	" WHERE user_id IS NOT NULL;"
	"CREATE UNIQUE INDEX pool_entitlements_pool_group ON pool_entitlements(pool_id, group_id)"
	" WHERE group_id IS NOT NULL;"
	"CREATE INDEX pool_entitlements_user ON pool_entitlements(user_id);"
	"CREATE INDEX pool_entitlements_group ON pool_entitlements(group_id);"
	"CREATE TABLE vms ("
	" id INTEGER PRIMARY KEY,"
	" pool_id INTEGER NOT NULL REFERENCES pools(id) ON DELETE RESTRICT,"
	" name TEXT NOT NULL UNIQUE,"
	" state TEXT NOT NULL"
	"  CHECK (state IN ('stopped', 'starting', 'running', 'stopping', 'failed')),"
	" pid INTEGER NOT NULL DEFAULT 0,"
	" control_path TEXT NOT NULL DEFAULT '',"
	" vnc_host TEXT NOT NULL DEFAULT '',"
	" vnc_port INTEGER NOT NULL DEFAULT 0,"
	" spice_host TEXT NOT NULL DEFAULT '',"
	" spice_port INTEGER NOT NULL DEFAULT 0,"
	" user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,"
	" disk_path TEXT NOT NULL DEFAULT '',"
	" boots INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL,"
	" last_used INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE INDEX vms_pool ON vms(pool_id);"
	"CREATE INDEX vms_user ON vms(user_id);"
	"CREATE TABLE vm_requests ("
	" id INTEGER PRIMARY KEY,"
	" vm_id INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
	" action TEXT NOT NULL,"
	" requested_by TEXT NOT NULL DEFAULT '',"
	" requested INTEGER NOT NULL,"
	" done INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE INDEX vm_requests_vm ON vm_requests(vm_id);"
	"CREATE INDEX vm_requests_done ON vm_requests(done);"
	"CREATE TABLE sessions ("
	" id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),"
	" created INTEGER NOT NULL,"
	" last_seen INTEGER NOT NULL,"
	" expires INTEGER NOT NULL,"
	" revoked INTEGER NOT NULL DEFAULT 0,"
	" source TEXT NOT NULL DEFAULT ''"
	") STRICT;"
	"CREATE INDEX sessions_user ON sessions(user_id);"
	"CREATE TABLE desktops ("
	" id INTEGER PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" vm_id INTEGER NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
	" session_id INTEGER REFERENCES sessions(id) ON DELETE SET NULL,"
	" protocol TEXT NOT NULL,"
	" started INTEGER NOT NULL,"
	" disconnected INTEGER NOT NULL DEFAULT 0,"
	" ended INTEGER NOT NULL DEFAULT 0,"
	" end_reason TEXT NOT NULL DEFAULT ''"
	") STRICT;"
	"CREATE INDEX desktops_user ON desktops(user_id);"
	"CREATE INDEX desktops_vm ON desktops(vm_id);"
	"CREATE INDEX desktops_session ON desktops(session_id);"
	"CREATE INDEX desktops_ended ON desktops(ended);"
	"CREATE TABLE audit ("
	" id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL,"
	" user_name TEXT NOT NULL DEFAULT '',"
	" source TEXT NOT NULL DEFAULT '',"
	" event TEXT NOT NULL,"
	" vm_name TEXT NOT NULL DEFAULT '',"
	" detail TEXT" /* a JSON object; store.c checks it */
	") STRICT;"
	"CREATE INDEX audit_time ON audit(time);",
};

#define USER_COLS                                                                    \
	"id, name, password_hash, role, coalesce(totp_secret, ''), totp_last_step, " \
	"failed_count, locked_until, created"
#define POOL_COLS                                                                      \
	"id, name, kernel, initrd, cmdline, disk_template, memory_mib, vcpus, width, " \
	"height, type, size, spares, max_vms, max_per_user, enabled, created"
#define VM_COLS                                                                         \
	"id, pool_id, name, state, pid, control_path, vnc_host, vnc_port, spice_host, " \
	"spice_port, coalesce(user_id, 0), disk_path, boots, created, last_used"
#define REQ_COLS "id, vm_id, action, requested_by, requested, done"
#define SESSION_COLS "id, user_id, token_hash, created, last_seen, expires, revoked, source"
#define DESKTOP_COLS                                                                     \
	"id, user_id, vm_id, coalesce(session_id, 0), protocol, started, disconnected, " \
	"ended, end_reason"
#define AUDIT_COLS "id, time, user_name, source, event, vm_name, coalesce(detail, '')"

enum st {
	ST_USER_ADD,
	ST_USER_GET,
	ST_USER_GET_NAME,
	ST_USER_ID_NAME,
	ST_USER_LIST,
	ST_USER_COUNT,
	ST_USER_DEL,
	ST_USER_SET_PASSWORD,
	ST_USER_SET_ROLE,
	ST_USER_SET_TOTP,
	ST_USER_TOTP_STEP,
	ST_USER_EXISTS,
	ST_USER_FAILED,
	ST_USER_OK,
	ST_GROUP_ENSURE,
	ST_GROUP_ID,
	ST_GROUP_LIST,
	ST_GROUP_DEL,
	ST_UG_ADD,
	ST_UG_DEL,
	ST_USER_GROUPS,
	ST_POOL_ADD,
	ST_POOL_GET,
	ST_POOL_GET_NAME,
	ST_POOL_LIST,
	ST_POOL_UPDATE,
	ST_POOL_DEL,
	ST_ENT_ADD_USER,
	ST_ENT_ADD_GROUP,
	ST_ENT_DEL_USER,
	ST_ENT_DEL_GROUP,
	ST_ENT_LIST,
	ST_USER_POOLS,
	ST_VM_ADD,
	ST_VM_GET,
	ST_VM_GET_NAME,
	ST_VM_LIST,
	ST_VM_UPDATE,
	ST_VM_DEL,
	ST_VM_ASSIGN,
	ST_VM_EXISTS,
	ST_VM_RELEASE,
	ST_VM_COUNT_USER,
	ST_REQ_ADD,
	ST_REQ_PENDING,
	ST_REQ_DONE,
	ST_SESSION_ADD,
	ST_SESSION_GET,
	ST_SESSION_GET_HASH,
	ST_SESSION_LIST,
	ST_SESSION_TOUCH,
	ST_SESSION_REVOKE,
	ST_SESSION_REVOKE_USER,
	ST_SESSION_PURGE,
	ST_DESKTOP_ADD,
	ST_DESKTOP_GET,
	ST_DESKTOP_UPDATE,
	ST_DESKTOP_LIST_OPEN,
	ST_AUDIT_ADD,
	ST_AUDIT_LIST,
	ST_COUNT,
};

static const char *const st_sql[ST_COUNT] = {
	[ST_USER_ADD] = "INSERT INTO users (name, password_hash, role, totp_secret, created)"
	                " VALUES (?1, ?2, ?3, nullif(?4, ''), ?5)",
	[ST_USER_GET] = "SELECT " USER_COLS " FROM users WHERE id = ?1",
	[ST_USER_GET_NAME] = "SELECT " USER_COLS " FROM users WHERE name = ?1",
	[ST_USER_ID_NAME] = "SELECT id FROM users WHERE name = ?1",
	[ST_USER_LIST] = "SELECT " USER_COLS " FROM users ORDER BY name",
	[ST_USER_COUNT] = "SELECT count(*) FROM users WHERE role = ?1",
	[ST_USER_DEL] = "DELETE FROM users WHERE id = ?1",
	[ST_USER_SET_PASSWORD] = "UPDATE users SET password_hash = ?2 WHERE id = ?1",
	[ST_USER_SET_ROLE] = "UPDATE users SET role = ?2 WHERE id = ?1",
	[ST_USER_SET_TOTP] =
	        "UPDATE users SET totp_secret = nullif(?2, ''), totp_last_step = 0 WHERE id = ?1",
	[ST_USER_TOTP_STEP] = "UPDATE users SET totp_last_step = ?2"
	                      " WHERE id = ?1 AND totp_last_step < ?2",
	[ST_USER_EXISTS] = "SELECT 1 FROM users WHERE id = ?1",
	/* SET expressions all see the old row, so both CASEs test the same count. */
	[ST_USER_FAILED] = "UPDATE users SET"
	                   " locked_until = CASE WHEN failed_count + 1 >= ?3"
	                   "  THEN ?2 + ?4 ELSE locked_until END,"
	                   " failed_count = CASE WHEN failed_count + 1 >= ?3"
	                   "  THEN 0 ELSE failed_count + 1 END"
	                   " WHERE id = ?1 RETURNING " USER_COLS,
	[ST_USER_OK] = "UPDATE users SET failed_count = 0, locked_until = 0 WHERE id = ?1",
	[ST_GROUP_ENSURE] = "INSERT INTO groups (name) VALUES (?1) ON CONFLICT (name) DO NOTHING",
	[ST_GROUP_ID] = "SELECT id FROM groups WHERE name = ?1",
	[ST_GROUP_LIST] = "SELECT id, name FROM groups ORDER BY name",
	[ST_GROUP_DEL] = "DELETE FROM groups WHERE name = ?1",
	[ST_UG_ADD] = "INSERT OR IGNORE INTO user_groups (user_id, group_id) VALUES (?1, ?2)",
	[ST_UG_DEL] = "DELETE FROM user_groups WHERE user_id = ?1"
	              " AND group_id = (SELECT id FROM groups WHERE name = ?2)",
	[ST_USER_GROUPS] = "SELECT g.id, g.name FROM groups g"
	                   " JOIN user_groups ug ON ug.group_id = g.id"
	                   " WHERE ug.user_id = ?1 ORDER BY g.name",
	[ST_POOL_ADD] = "INSERT INTO pools (name, kernel, initrd, cmdline, disk_template,"
	                " memory_mib, vcpus, width, height, type, size, spares, max_vms,"
	                " max_per_user, enabled, created) VALUES"
	                " (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
	[ST_POOL_GET] = "SELECT " POOL_COLS " FROM pools WHERE id = ?1",
	[ST_POOL_GET_NAME] = "SELECT " POOL_COLS " FROM pools WHERE name = ?1",
	[ST_POOL_LIST] = "SELECT " POOL_COLS " FROM pools ORDER BY name",
	[ST_POOL_UPDATE] = "UPDATE pools SET name = ?2, kernel = ?3, initrd = ?4, cmdline = ?5,"
	                   " disk_template = ?6, memory_mib = ?7, vcpus = ?8, width = ?9,"
	                   " height = ?10, type = ?11, size = ?12, spares = ?13, max_vms = ?14,"
	                   " max_per_user = ?15, enabled = ?16 WHERE id = ?1",
	[ST_POOL_DEL] = "DELETE FROM pools WHERE id = ?1",
	[ST_ENT_ADD_USER] = "INSERT OR IGNORE INTO pool_entitlements (pool_id, user_id)"
	                    " VALUES (?1, ?2)",
	[ST_ENT_ADD_GROUP] = "INSERT OR IGNORE INTO pool_entitlements (pool_id, group_id)"
	                     " VALUES (?1, ?2)",
	[ST_ENT_DEL_USER] = "DELETE FROM pool_entitlements WHERE pool_id = ?1"
	                    " AND user_id = (SELECT id FROM users WHERE name = ?2)",
	[ST_ENT_DEL_GROUP] = "DELETE FROM pool_entitlements WHERE pool_id = ?1"
	                     " AND group_id = (SELECT id FROM groups WHERE name = ?2)",
	[ST_ENT_LIST] = "SELECT 0, u.name FROM pool_entitlements e JOIN users u"
	                " ON u.id = e.user_id WHERE e.pool_id = ?1"
	                " UNION ALL SELECT 1, g.name FROM pool_entitlements e JOIN groups g"
	                " ON g.id = e.group_id WHERE e.pool_id = ?1 ORDER BY 1, 2",
	[ST_USER_POOLS] = "SELECT " POOL_COLS " FROM pools p WHERE p.enabled AND EXISTS"
	                  " (SELECT 1 FROM pool_entitlements e WHERE e.pool_id = p.id AND"
	                  " (e.user_id = ?1 OR e.group_id IN"
	                  " (SELECT group_id FROM user_groups WHERE user_id = ?1)))"
	                  " ORDER BY p.name",
	[ST_VM_ADD] = "INSERT INTO vms (pool_id, name, state, pid, control_path, vnc_host,"
	              " vnc_port, spice_host, spice_port, user_id, disk_path, boots, created,"
	              " last_used) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, nullif(?11, 0),"
	              " ?12, ?13, ?14, ?15)",
	[ST_VM_GET] = "SELECT " VM_COLS " FROM vms WHERE id = ?1",
	[ST_VM_GET_NAME] = "SELECT " VM_COLS " FROM vms WHERE name = ?1",
	[ST_VM_LIST] = "SELECT " VM_COLS " FROM vms WHERE ?1 = 0 OR pool_id = ?1 ORDER BY id",
	[ST_VM_UPDATE] = "UPDATE vms SET name = ?3, state = ?4, pid = ?5, control_path = ?6,"
	                 " vnc_host = ?7, vnc_port = ?8, spice_host = ?9, spice_port = ?10,"
	                 " user_id = nullif(?11, 0), disk_path = ?12, boots = ?13,"
	                 " last_used = ?15 WHERE id = ?1",
	[ST_VM_DEL] = "DELETE FROM vms WHERE id = ?1",
	[ST_VM_ASSIGN] = "UPDATE vms SET user_id = ?2, last_used = ?3"
	                 " WHERE id = ?1 AND user_id IS NULL",
	[ST_VM_EXISTS] = "SELECT 1 FROM vms WHERE id = ?1",
	[ST_VM_RELEASE] = "UPDATE vms SET user_id = NULL, last_used = ?2 WHERE id = ?1",
	[ST_VM_COUNT_USER] = "SELECT count(*) FROM vms WHERE pool_id = ?1 AND user_id = ?2",
	[ST_REQ_ADD] = "INSERT INTO vm_requests (vm_id, action, requested_by, requested)"
	               " VALUES (?1, ?2, ?3, ?4)",
	[ST_REQ_PENDING] = "SELECT " REQ_COLS " FROM vm_requests WHERE done = 0 ORDER BY id",
	[ST_REQ_DONE] = "UPDATE vm_requests SET done = CASE WHEN done = 0 THEN ?2 ELSE done END"
	                " WHERE id = ?1",
	[ST_SESSION_ADD] = "INSERT INTO sessions (user_id, token_hash, created, last_seen,"
	                   " expires, revoked, source) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6)",
	[ST_SESSION_GET] = "SELECT " SESSION_COLS " FROM sessions WHERE id = ?1",
	[ST_SESSION_GET_HASH] = "SELECT " SESSION_COLS " FROM sessions WHERE token_hash = ?1",
	[ST_SESSION_LIST] = "SELECT " SESSION_COLS " FROM sessions"
	                    " WHERE ?1 = 0 OR (revoked = 0 AND expires > ?1) ORDER BY id",
	[ST_SESSION_TOUCH] = "UPDATE sessions SET last_seen = max(last_seen, ?2) WHERE id = ?1",
	[ST_SESSION_REVOKE] = "UPDATE sessions SET revoked = 1 WHERE id = ?1",
	[ST_SESSION_REVOKE_USER] = "UPDATE sessions SET revoked = 1 WHERE user_id = ?1",
	[ST_SESSION_PURGE] = "DELETE FROM sessions WHERE expires < ?1"
	                     " OR (revoked <> 0 AND last_seen < ?1)",
	[ST_DESKTOP_ADD] = "INSERT INTO desktops (user_id, vm_id, session_id, protocol, started,"
	                   " disconnected, ended, end_reason)"
	                   " VALUES (?1, ?2, nullif(?3, 0), ?4, ?5, ?6, ?7, ?8)",
	[ST_DESKTOP_GET] = "SELECT " DESKTOP_COLS " FROM desktops WHERE id = ?1",
	[ST_DESKTOP_UPDATE] = "UPDATE desktops SET session_id = nullif(?2, 0),"
	                      " disconnected = ?3, ended = ?4, end_reason = ?5 WHERE id = ?1",
	[ST_DESKTOP_LIST_OPEN] = "SELECT " DESKTOP_COLS " FROM desktops WHERE ended = 0"
	                         " ORDER BY id",
	[ST_AUDIT_ADD] = "INSERT INTO audit (time, user_name, source, event, vm_name, detail)"
	                 " VALUES (?1, ?2, ?3, ?4, ?5, nullif(?6, ''))",
	[ST_AUDIT_LIST] = "SELECT " AUDIT_COLS " FROM audit WHERE id > ?1 ORDER BY id LIMIT ?2",
};

struct sq {
	struct broker_store base;
	sqlite3 *db;
	const char *const *migrations;
	size_t nr_migrations;
	sqlite3_stmt *st[ST_COUNT];
	char errmsg[256];
};

static struct sq *to_sq(struct broker_store *s)
{
	return (struct sq *)s;
}

static void set_errmsg(struct sq *q, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void set_errmsg(struct sq *q, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(q->errmsg, sizeof(q->errmsg), fmt, ap);
	va_end(ap);
}

/* Map a SQLite result code to -errno and remember the message. */
static int sq_err(struct sq *q, int rc)
{
	set_errmsg(q, "%s", sqlite3_errmsg(q->db));
	log_debug("store: sqlite error %d: %s", rc, q->errmsg);
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return -ENOENT;
	case SQLITE_CONSTRAINT_TRIGGER:
		/* How SQLite reports ON DELETE RESTRICT: the row is still referred to. */
		return -EBUSY;
	case SQLITE_CONSTRAINT_CHECK:
	case SQLITE_CONSTRAINT_NOTNULL:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return -EINVAL;
	}
	switch (rc & 0xff) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
	case SQLITE_PERM:
	case SQLITE_CANTOPEN:
		return -EACCES;
	default:
		return -EIO;
	}
}

static sqlite3_stmt *stmt(struct sq *q, enum st id)
{
	int rc;

	if (!q->st[id]) {
		rc = sqlite3_prepare_v3(q->db, st_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
		                        &q->st[id], NULL);
		if (rc != SQLITE_OK) {
			sq_err(q, rc);
			log_debug("store: cannot prepare statement %d: %s", (int)id, q->errmsg);
			q->st[id] = NULL;
		}
	}
	return q->st[id];
}

static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Bind helpers: return the SQLite code; stop at the first failure. */
static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

static int bind_int(sqlite3_stmt *st, int i, int64_t v)
{
	return sqlite3_bind_int64(st, i, v);
}

/* Copy column @i into @dst of @size bytes; -EIO when it does not fit (a corrupt row). */
static int col_text(struct sq *q, sqlite3_stmt *st, int i, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);

	if (!t) {
		dst[0] = '\0';
		return 0;
	}
	if ((size_t)n >= size || memchr(t, '\0', (size_t)n)) {
		set_errmsg(q, "column %d of a row is too long (%d bytes)", i, n);
		return -EIO;
	}
	memcpy(dst, t, (size_t)n);
	dst[n] = '\0';
	return 0;
}

/* Step a statement that returns no rows. */
static int exec_st(struct sq *q, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return sq_err(q, rc);
	return 0;
}

/* Run a statement by id with no rows; bind with @bind(st, ctx). Sets *@changes. */
static int run(struct sq *q, enum st id, int (*bind)(sqlite3_stmt *st, const void *ctx),
               const void *ctx, int *changes)
{
	sqlite3_stmt *st = stmt(q, id);
	int r;

	if (!st)
		return -EIO;
	r = bind(st, ctx) == SQLITE_OK ? exec_st(q, st) : sq_err(q, sqlite3_errcode(q->db));
	if (r == 0 && changes)
		*changes = sqlite3_changes(q->db);
	done(st);
	return r;
}

static int exec_sql(struct sq *q, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(q->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		int r = sq_err(q, sqlite3_extended_errcode(q->db));

		set_errmsg(q, "%s", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return r;
	}
	return 0;
}

/*
 * Several statements as one: a transaction when the caller has none, a
 * savepoint inside the caller's, so a failure leaves nothing half done.
 */
static int tx_enter(struct sq *q)
{
	return exec_sql(q, sqlite3_get_autocommit(q->db) ? "BEGIN IMMEDIATE" : "SAVEPOINT inner");
}

static int tx_leave(struct sq *q, int r, bool outer)
{
	char msg[sizeof(q->errmsg)];

	if (r == 0)
		return exec_sql(q, outer ? "COMMIT" : "RELEASE inner");
	memcpy(msg, q->errmsg, sizeof(msg));
	exec_sql(q, outer ? "ROLLBACK" : "ROLLBACK TO inner; RELEASE inner");
	memcpy(q->errmsg, msg, sizeof(msg));
	return r;
}

/*
 * Collect every row of @st (bound, not yet stepped) into a malloc'd array of
 * @elem-byte records filled by @row.
 */
static int collect(struct sq *q, sqlite3_stmt *st, size_t elem,
                   int (*row)(struct sq *q, sqlite3_stmt *st, void *rec), void **ret, size_t *ret_n)
{
	char *arr = NULL;
	size_t n = 0, cap = 0;
	int rc, r = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char *p;

			if (n >= BROKER_LIST_MAX) {
				set_errmsg(q, "more than %d rows", BROKER_LIST_MAX);
				r = -E2BIG;
				break;
			}
			p = realloc(arr, ncap * elem);
			if (!p) {
				r = -ENOMEM;
				break;
			}
			arr = p;
			cap = ncap;
		}
		memset(arr + n * elem, 0, elem);
		r = row(q, st, arr + n * elem);
		if (r < 0)
			break;
		n++;
	}
	if (r == 0 && rc != SQLITE_DONE)
		r = sq_err(q, rc);
	done(st);
	if (r < 0) {
		free(arr);
		return r;
	}
	*ret = arr;
	*ret_n = n;
	return 0;
}

/* Fetch exactly one row of @st into @rec, or -ENOENT. */
static int fetch_one(struct sq *q, sqlite3_stmt *st,
                     int (*row)(struct sq *, sqlite3_stmt *, void *), void *rec)
{
	int rc = sqlite3_step(st), r;

	if (rc == SQLITE_ROW)
		r = row(q, st, rec);
	else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = sq_err(q, rc);
	done(st);
	return r;
}

static int fetch_int(struct sq *q, sqlite3_stmt *st, int64_t *ret)
{
	int rc = sqlite3_step(st), r = 0;

	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	else if (rc == SQLITE_DONE)
		r = -ENOENT;
	else
		r = sq_err(q, rc);
	done(st);
	return r;
}

/* --- rows --- */

static int row_user(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_user *u = rec, tmp = { 0 };
	int r = 0;

	tmp.id = sqlite3_column_int64(st, 0);
	r |= col_text(q, st, 1, tmp.name, sizeof(tmp.name));
	r |= col_text(q, st, 2, tmp.password_hash, sizeof(tmp.password_hash));
	tmp.role = strcmp((const char *)sqlite3_column_text(st, 3), "admin") == 0
	                   ? BROKER_ROLE_ADMIN
	                   : BROKER_ROLE_USER;
	r |= col_text(q, st, 4, tmp.totp_secret, sizeof(tmp.totp_secret));
	tmp.totp_last_step = sqlite3_column_int64(st, 5);
	tmp.failed_count = sqlite3_column_int(st, 6);
	tmp.locked_until = sqlite3_column_int64(st, 7);
	tmp.created = sqlite3_column_int64(st, 8);
	if (r)
		return -EIO;
	*u = tmp;
	return 0;
}

static int row_group(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_group *g = rec;

	g->id = sqlite3_column_int64(st, 0);
	return col_text(q, st, 1, g->name, sizeof(g->name));
}

static int row_pool(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_pool *p = rec;
	int r = 0;

	memset(p, 0, sizeof(*p));
	p->id = sqlite3_column_int64(st, 0);
	r |= col_text(q, st, 1, p->name, sizeof(p->name));
	r |= col_text(q, st, 2, p->kernel, sizeof(p->kernel));
	r |= col_text(q, st, 3, p->initrd, sizeof(p->initrd));
	r |= col_text(q, st, 4, p->cmdline, sizeof(p->cmdline));
	r |= col_text(q, st, 5, p->disk_template, sizeof(p->disk_template));
	p->memory_mib = (unsigned int)sqlite3_column_int(st, 6);
	p->vcpus = (unsigned int)sqlite3_column_int(st, 7);
	p->width = (unsigned int)sqlite3_column_int(st, 8);
	p->height = (unsigned int)sqlite3_column_int(st, 9);
	p->type = strcmp((const char *)sqlite3_column_text(st, 10), "persistent") == 0
	                  ? BROKER_POOL_PERSISTENT
	                  : BROKER_POOL_FLOATING;
	p->size = (unsigned int)sqlite3_column_int(st, 11);
	p->spares = (unsigned int)sqlite3_column_int(st, 12);
	p->max_vms = (unsigned int)sqlite3_column_int(st, 13);
	p->max_per_user = (unsigned int)sqlite3_column_int(st, 14);
	p->enabled = sqlite3_column_int(st, 15) != 0;
	p->created = sqlite3_column_int64(st, 16);
	return r ? -EIO : 0;
}

static int row_entitlement(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_entitlement *e = rec;

	e->kind = sqlite3_column_int(st, 0) ? BROKER_ENT_GROUP : BROKER_ENT_USER;
	return col_text(q, st, 1, e->name, sizeof(e->name));
}

static enum broker_vm_state vm_state_parse(const char *s)
{
	for (int i = BROKER_VM_STOPPED; i <= BROKER_VM_FAILED; i++)
		if (s && strcmp(s, broker_vm_state_name(i)) == 0)
			return i;
	return BROKER_VM_FAILED;
}

static int row_vm(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_vm *vm = rec;
	int r = 0;

	memset(vm, 0, sizeof(*vm));
	vm->id = sqlite3_column_int64(st, 0);
	vm->pool_id = sqlite3_column_int64(st, 1);
	r |= col_text(q, st, 2, vm->name, sizeof(vm->name));
	vm->state = vm_state_parse((const char *)sqlite3_column_text(st, 3));
	vm->pid = sqlite3_column_int(st, 4);
	r |= col_text(q, st, 5, vm->control_path, sizeof(vm->control_path));
	r |= col_text(q, st, 6, vm->vnc_host, sizeof(vm->vnc_host));
	vm->vnc_port = sqlite3_column_int(st, 7);
	r |= col_text(q, st, 8, vm->spice_host, sizeof(vm->spice_host));
	vm->spice_port = sqlite3_column_int(st, 9);
	vm->user_id = sqlite3_column_int64(st, 10);
	r |= col_text(q, st, 11, vm->disk_path, sizeof(vm->disk_path));
	vm->boots = (unsigned int)sqlite3_column_int64(st, 12);
	vm->created = sqlite3_column_int64(st, 13);
	vm->last_used = sqlite3_column_int64(st, 14);
	return r ? -EIO : 0;
}

static int row_request(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_vm_request *rq = rec;
	int r = 0;

	rq->id = sqlite3_column_int64(st, 0);
	rq->vm_id = sqlite3_column_int64(st, 1);
	r |= col_text(q, st, 2, rq->action, sizeof(rq->action));
	r |= col_text(q, st, 3, rq->requested_by, sizeof(rq->requested_by));
	rq->requested = sqlite3_column_int64(st, 4);
	rq->done = sqlite3_column_int64(st, 5);
	return r ? -EIO : 0;
}

static int row_session(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_session *s = rec;

	s->id = sqlite3_column_int64(st, 0);
	s->user_id = sqlite3_column_int64(st, 1);
	if (sqlite3_column_bytes(st, 2) != BROKER_TOKEN_HASH_LEN) {
		set_errmsg(q, "session %lld: bad token hash", (long long)s->id);
		return -EIO;
	}
	memcpy(s->token_hash, sqlite3_column_blob(st, 2), BROKER_TOKEN_HASH_LEN);
	s->created = sqlite3_column_int64(st, 3);
	s->last_seen = sqlite3_column_int64(st, 4);
	s->expires = sqlite3_column_int64(st, 5);
	s->revoked = sqlite3_column_int(st, 6) != 0;
	return col_text(q, st, 7, s->source, sizeof(s->source));
}

static int row_desktop(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_desktop *d = rec;
	int r = 0;

	d->id = sqlite3_column_int64(st, 0);
	d->user_id = sqlite3_column_int64(st, 1);
	d->vm_id = sqlite3_column_int64(st, 2);
	d->session_id = sqlite3_column_int64(st, 3);
	r |= col_text(q, st, 4, d->protocol, sizeof(d->protocol));
	d->started = sqlite3_column_int64(st, 5);
	d->disconnected = sqlite3_column_int64(st, 6);
	d->ended = sqlite3_column_int64(st, 7);
	r |= col_text(q, st, 8, d->end_reason, sizeof(d->end_reason));
	return r ? -EIO : 0;
}

static int row_audit(struct sq *q, sqlite3_stmt *st, void *rec)
{
	struct broker_audit *a = rec;
	int r = 0;

	a->id = sqlite3_column_int64(st, 0);
	a->time = sqlite3_column_int64(st, 1);
	r |= col_text(q, st, 2, a->user, sizeof(a->user));
	r |= col_text(q, st, 3, a->source, sizeof(a->source));
	r |= col_text(q, st, 4, a->event, sizeof(a->event));
	r |= col_text(q, st, 5, a->vm, sizeof(a->vm));
	r |= col_text(q, st, 6, a->detail, sizeof(a->detail));
	return r ? -EIO : 0;
}

/* --- generic getters --- */

static int get_by_id(struct sq *q, enum st id, int64_t key,
                     int (*row)(struct sq *, sqlite3_stmt *, void *), void *rec)
{
	sqlite3_stmt *st = stmt(q, id);

	if (!st)
		return -EIO;
	bind_int(st, 1, key);
	return fetch_one(q, st, row, rec);
}

static int get_by_text(struct sq *q, enum st id, const char *key,
                       int (*row)(struct sq *, sqlite3_stmt *, void *), void *rec)
{
	sqlite3_stmt *st = stmt(q, id);

	if (!st)
		return -EIO;
	bind_text(st, 1, key);
	return fetch_one(q, st, row, rec);
}

static int list_all(struct sq *q, enum st id, size_t elem,
                    int (*row)(struct sq *, sqlite3_stmt *, void *), void **ret, size_t *ret_n)
{
	sqlite3_stmt *st = stmt(q, id);

	if (!st)
		return -EIO;
	return collect(q, st, elem, row, ret, ret_n);
}

static int list_by_id(struct sq *q, enum st id, int64_t key, size_t elem,
                      int (*row)(struct sq *, sqlite3_stmt *, void *), void **ret, size_t *ret_n)
{
	sqlite3_stmt *st = stmt(q, id);

	if (!st)
		return -EIO;
	bind_int(st, 1, key);
	return collect(q, st, elem, row, ret, ret_n);
}

/* Statements keyed by one id: -ENOENT when no row changed. */
static int bind_id(sqlite3_stmt *st, const void *ctx)
{
	return bind_int(st, 1, *(const int64_t *)ctx);
}

static int by_id(struct sq *q, enum st id, int64_t key)
{
	int changes = 0;
	int r = run(q, id, bind_id, &key, &changes);

	if (r == 0 && changes == 0)
		r = -ENOENT;
	return r;
}

struct id_text {
	int64_t id;
	const char *text;
};

static int bind_id_text(sqlite3_stmt *st, const void *ctx)
{
	const struct id_text *a = ctx;
	int rc = bind_int(st, 1, a->id);

	return rc ? rc : bind_text(st, 2, a->text);
}

struct id_int {
	int64_t id;
	int64_t v;
};

static int bind_id_int(sqlite3_stmt *st, const void *ctx)
{
	const struct id_int *a = ctx;
	int rc = bind_int(st, 1, a->id);

	return rc ? rc : bind_int(st, 2, a->v);
}

static int by_id_text(struct sq *q, enum st id, int64_t key, const char *text)
{
	struct id_text a = { key, text };
	int changes = 0;
	int r = run(q, id, bind_id_text, &a, &changes);

	if (r == 0 && changes == 0)
		r = -ENOENT;
	return r;
}

static int by_id_int(struct sq *q, enum st id, int64_t key, int64_t v)
{
	struct id_int a = { key, v };
	int changes = 0;
	int r = run(q, id, bind_id_int, &a, &changes);

	if (r == 0 && changes == 0)
		r = -ENOENT;
	return r;
}

/* --- ops: schema and transactions --- */

static void sq_close(struct broker_store *s)
{
	struct sq *q = to_sq(s);

	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(q->st[i]);
	if (q->db && !sqlite3_get_autocommit(q->db))
		sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close_v2(q->db);
	free(q);
}

static const char *sq_errmsg(struct broker_store *s)
{
	return to_sq(s)->errmsg;
}

static int read_version(struct sq *q, int *ret)
{
	sqlite3_stmt *st;
	int64_t v;
	int rc, r;

	rc = sqlite3_prepare_v2(q->db, "SELECT version FROM schema_version", -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_err(q, rc);
	r = fetch_int(q, st, &v);
	sqlite3_finalize(st);
	if (r == 0)
		*ret = (int)v;
	return r;
}

static int sq_schema_version(struct broker_store *s, int *ret)
{
	return read_version(to_sq(s), ret);
}

static int sq_schema_latest(struct broker_store *s)
{
	return (int)to_sq(s)->nr_migrations;
}

static int sq_begin(struct broker_store *s)
{
	struct sq *q = to_sq(s);

	if (!sqlite3_get_autocommit(q->db))
		return -EALREADY;
	return exec_sql(q, "BEGIN IMMEDIATE");
}

static int sq_commit(struct broker_store *s)
{
	struct sq *q = to_sq(s);

	if (sqlite3_get_autocommit(q->db))
		return -EINVAL;
	return exec_sql(q, "COMMIT");
}

static int sq_rollback(struct broker_store *s)
{
	struct sq *q = to_sq(s);

	if (sqlite3_get_autocommit(q->db))
		return -EINVAL;
	return exec_sql(q, "ROLLBACK");
}

/* --- ops: users --- */

static int sq_user_add(struct broker_store *s, struct broker_user *u)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_USER_ADD);
	int r;

	if (!st)
		return -EIO;
	bind_text(st, 1, u->name);
	bind_text(st, 2, u->password_hash);
	bind_text(st, 3, broker_role_name(u->role));
	bind_text(st, 4, u->totp_secret);
	bind_int(st, 5, u->created);
	r = exec_st(q, st);
	done(st);
	if (r == 0)
		u->id = sqlite3_last_insert_rowid(q->db);
	return r;
}

static int sq_user_get(struct broker_store *s, int64_t id, struct broker_user *ret)
{
	return get_by_id(to_sq(s), ST_USER_GET, id, row_user, ret);
}

static int sq_user_get_by_name(struct broker_store *s, const char *name, struct broker_user *ret)
{
	return get_by_text(to_sq(s), ST_USER_GET_NAME, name, row_user, ret);
}

static int sq_user_list(struct broker_store *s, struct broker_user **ret, size_t *ret_n)
{
	return list_all(to_sq(s), ST_USER_LIST, sizeof(**ret), row_user, (void **)ret, ret_n);
}

static int sq_user_count(struct broker_store *s, enum broker_role role, size_t *ret)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_USER_COUNT);
	int64_t v = 0;
	int r;

	if (!st)
		return -EIO;
	bind_text(st, 1, broker_role_name(role));
	r = fetch_int(q, st, &v);
	if (r == 0)
		*ret = (size_t)v;
	return r;
}

static int sq_user_del(struct broker_store *s, int64_t id)
{
	return by_id(to_sq(s), ST_USER_DEL, id);
}

static int sq_user_set_password(struct broker_store *s, int64_t id, const char *hash)
{
	return by_id_text(to_sq(s), ST_USER_SET_PASSWORD, id, hash);
}

static int sq_user_set_role(struct broker_store *s, int64_t id, enum broker_role role)
{
	return by_id_text(to_sq(s), ST_USER_SET_ROLE, id, broker_role_name(role));
}

static int sq_user_set_totp(struct broker_store *s, int64_t id, const char *secret)
{
	return by_id_text(to_sq(s), ST_USER_SET_TOTP, id, secret);
}

static int exists(struct sq *q, enum st id, int64_t key)
{
	sqlite3_stmt *st = stmt(q, id);
	int64_t v;
	int r;

	if (!st)
		return -EIO;
	bind_int(st, 1, key);
	r = fetch_int(q, st, &v);
	return r == 0 ? 1 : r == -ENOENT ? 0 : r;
}

static int sq_user_use_totp_step(struct broker_store *s, int64_t id, int64_t step)
{
	struct sq *q = to_sq(s);
	struct id_int a = { id, step };
	int changes = 0, r;

	r = run(q, ST_USER_TOTP_STEP, bind_id_int, &a, &changes);
	if (r < 0 || changes)
		return r;
	r = exists(q, ST_USER_EXISTS, id);
	return r < 0 ? r : r ? -EALREADY : -ENOENT;
}

static int sq_user_login_failed(struct broker_store *s, int64_t id, int64_t now, int max_failures,
                                int64_t lock_seconds, struct broker_user *ret)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_USER_FAILED);
	struct broker_user u;
	int r;

	if (!st)
		return -EIO;
	bind_int(st, 1, id);
	bind_int(st, 2, now);
	bind_int(st, 3, max_failures);
	bind_int(st, 4, lock_seconds);
	r = fetch_one(q, st, row_user, &u);
	if (r == 0 && ret)
		*ret = u;
	return r;
}

static int sq_user_login_ok(struct broker_store *s, int64_t id)
{
	return by_id(to_sq(s), ST_USER_OK, id);
}

/* --- ops: groups --- */

static int group_ensure(struct sq *q, const char *name, int64_t *ret_id)
{
	sqlite3_stmt *st = stmt(q, ST_GROUP_ENSURE);
	int64_t id;
	int r;

	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	r = exec_st(q, st);
	done(st);
	if (r < 0)
		return r;
	st = stmt(q, ST_GROUP_ID);
	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	r = fetch_int(q, st, &id);
	if (r == 0 && ret_id)
		*ret_id = id;
	return r;
}

static int sq_group_ensure(struct broker_store *s, const char *name, int64_t *ret_id)
{
	return group_ensure(to_sq(s), name, ret_id);
}

static int sq_group_list(struct broker_store *s, struct broker_group **ret, size_t *ret_n)
{
	return list_all(to_sq(s), ST_GROUP_LIST, sizeof(**ret), row_group, (void **)ret, ret_n);
}

static int sq_group_del(struct broker_store *s, const char *name)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_GROUP_DEL);
	int r;

	if (!st)
		return -EIO;
	bind_text(st, 1, name);
	r = exec_st(q, st);
	if (r == 0 && sqlite3_changes(q->db) == 0)
		r = -ENOENT;
	done(st);
	return r;
}

static int sq_user_group_add(struct broker_store *s, int64_t user_id, const char *group)
{
	struct sq *q = to_sq(s);
	bool outer = sqlite3_get_autocommit(q->db);
	int64_t gid = 0;
	int r;

	r = tx_enter(q);
	if (r < 0)
		return r;
	r = group_ensure(q, group, &gid);
	if (r == 0) {
		struct id_int a = { user_id, gid };

		/* An existing membership is ignored; a missing user fails its foreign key. */
		r = run(q, ST_UG_ADD, bind_id_int, &a, NULL);
	}
	return tx_leave(q, r, outer);
}

static int sq_user_group_del(struct broker_store *s, int64_t user_id, const char *group)
{
	return by_id_text(to_sq(s), ST_UG_DEL, user_id, group);
}

static int sq_user_groups(struct broker_store *s, int64_t user_id, struct broker_group **ret,
                          size_t *ret_n)
{
	return list_by_id(to_sq(s), ST_USER_GROUPS, user_id, sizeof(**ret), row_group, (void **)ret,
	                  ret_n);
}

/* --- ops: pools --- */

static int bind_pool(sqlite3_stmt *st, const void *ctx)
{
	const struct broker_pool *p = ctx;
	int rc = 0;

	rc |= bind_int(st, 1, p->id);
	rc |= bind_text(st, 2, p->name);
	rc |= bind_text(st, 3, p->kernel);
	rc |= bind_text(st, 4, p->initrd);
	rc |= bind_text(st, 5, p->cmdline);
	rc |= bind_text(st, 6, p->disk_template);
	rc |= bind_int(st, 7, p->memory_mib);
	rc |= bind_int(st, 8, p->vcpus);
	rc |= bind_int(st, 9, p->width);
	rc |= bind_int(st, 10, p->height);
	rc |= bind_text(st, 11, broker_pool_type_name(p->type));
	rc |= bind_int(st, 12, p->size);
	rc |= bind_int(st, 13, p->spares);
	rc |= bind_int(st, 14, p->max_vms);
	rc |= bind_int(st, 15, p->max_per_user);
	rc |= bind_int(st, 16, p->enabled);
	/* ?17 only exists in the INSERT. */
	if (sqlite3_bind_parameter_count(st) >= 17)
		rc |= bind_int(st, 17, p->created);
	return rc ? SQLITE_RANGE : SQLITE_OK;
}

static int sq_pool_add(struct broker_store *s, struct broker_pool *p)
{
	struct sq *q = to_sq(s);
	int r = run(q, ST_POOL_ADD, bind_pool, p, NULL);

	if (r == 0)
		p->id = sqlite3_last_insert_rowid(q->db);
	return r;
}

static int sq_pool_get(struct broker_store *s, int64_t id, struct broker_pool *ret)
{
	return get_by_id(to_sq(s), ST_POOL_GET, id, row_pool, ret);
}

static int sq_pool_get_by_name(struct broker_store *s, const char *name, struct broker_pool *ret)
{
	return get_by_text(to_sq(s), ST_POOL_GET_NAME, name, row_pool, ret);
}

static int sq_pool_list(struct broker_store *s, struct broker_pool **ret, size_t *ret_n)
{
	return list_all(to_sq(s), ST_POOL_LIST, sizeof(**ret), row_pool, (void **)ret, ret_n);
}

static int sq_pool_update(struct broker_store *s, const struct broker_pool *p)
{
	int changes = 0;
	int r = run(to_sq(s), ST_POOL_UPDATE, bind_pool, p, &changes);

	return r == 0 && changes == 0 ? -ENOENT : r;
}

static int sq_pool_del(struct broker_store *s, int64_t id)
{
	struct sq *q = to_sq(s);
	int changes = 0;
	int r = run(q, ST_POOL_DEL, bind_id, &id, &changes);

	/* A foreign key failure on delete means VMs still refer to the pool. */
	if (r == -ENOENT || (r == -EBUSY && strstr(q->errmsg, "FOREIGN KEY"))) {
		set_errmsg(q, "the pool still has VMs");
		return -EBUSY;
	}
	return r == 0 && changes == 0 ? -ENOENT : r;
}

static int sq_pool_entitle(struct broker_store *s, int64_t pool_id,
                           const struct broker_entitlement *e)
{
	struct sq *q = to_sq(s);
	bool outer = sqlite3_get_autocommit(q->db);
	sqlite3_stmt *st;
	int64_t ref = 0;
	int r;

	r = tx_enter(q);
	if (r < 0)
		return r;
	if (e->kind == BROKER_ENT_GROUP) {
		r = group_ensure(q, e->name, &ref);
	} else {
		st = stmt(q, ST_USER_ID_NAME);
		r = st ? 0 : -EIO;
		if (st) {
			bind_text(st, 1, e->name);
			r = fetch_int(q, st, &ref);
			if (r == -ENOENT)
				set_errmsg(q, "no user '%s'", e->name);
		}
	}
	if (r == 0) {
		struct id_int a = { pool_id, ref };

		/* Already entitled is ignored; a missing pool fails its foreign key. */
		r = run(q, e->kind == BROKER_ENT_GROUP ? ST_ENT_ADD_GROUP : ST_ENT_ADD_USER,
		        bind_id_int, &a, NULL);
		if (r == -ENOENT)
			set_errmsg(q, "no such pool");
	}
	return tx_leave(q, r, outer);
}

static int sq_pool_unentitle(struct broker_store *s, int64_t pool_id,
                             const struct broker_entitlement *e)
{
	return by_id_text(to_sq(s),
	                  e->kind == BROKER_ENT_GROUP ? ST_ENT_DEL_GROUP : ST_ENT_DEL_USER, pool_id,
	                  e->name);
}

static int sq_pool_entitlements(struct broker_store *s, int64_t pool_id,
                                struct broker_entitlement **ret, size_t *ret_n)
{
	return list_by_id(to_sq(s), ST_ENT_LIST, pool_id, sizeof(**ret), row_entitlement,
	                  (void **)ret, ret_n);
}

static int sq_user_pools(struct broker_store *s, int64_t user_id, struct broker_pool **ret,
                         size_t *ret_n)
{
	return list_by_id(to_sq(s), ST_USER_POOLS, user_id, sizeof(**ret), row_pool, (void **)ret,
	                  ret_n);
}

/* --- ops: VMs --- */

static int bind_vm(sqlite3_stmt *st, const void *ctx)
{
	const struct broker_vm *vm = ctx;
	int rc = 0;

	/* Both statements number the columns alike; the UPDATE leaves ?2 and ?14 unused. */
	rc |= bind_int(st, 1, vm->id);
	rc |= bind_int(st, 2, vm->pool_id);
	rc |= bind_text(st, 3, vm->name);
	rc |= bind_text(st, 4, broker_vm_state_name(vm->state));
	rc |= bind_int(st, 5, vm->pid);
	rc |= bind_text(st, 6, vm->control_path);
	rc |= bind_text(st, 7, vm->vnc_host);
	rc |= bind_int(st, 8, vm->vnc_port);
	rc |= bind_text(st, 9, vm->spice_host);
	rc |= bind_int(st, 10, vm->spice_port);
	rc |= bind_int(st, 11, vm->user_id);
	rc |= bind_text(st, 12, vm->disk_path);
	rc |= bind_int(st, 13, vm->boots);
	rc |= bind_int(st, 14, vm->created);
	rc |= bind_int(st, 15, vm->last_used);
	return rc ? SQLITE_RANGE : SQLITE_OK;
}

static int sq_vm_add(struct broker_store *s, struct broker_vm *vm)
{
	struct sq *q = to_sq(s);
	int r = run(q, ST_VM_ADD, bind_vm, vm, NULL);

	if (r == 0)
		vm->id = sqlite3_last_insert_rowid(q->db);
	return r;
}

static int sq_vm_get(struct broker_store *s, int64_t id, struct broker_vm *ret)
{
	return get_by_id(to_sq(s), ST_VM_GET, id, row_vm, ret);
}

static int sq_vm_get_by_name(struct broker_store *s, const char *name, struct broker_vm *ret)
{
	return get_by_text(to_sq(s), ST_VM_GET_NAME, name, row_vm, ret);
}

static int sq_vm_list(struct broker_store *s, int64_t pool_id, struct broker_vm **ret,
                      size_t *ret_n)
{
	return list_by_id(to_sq(s), ST_VM_LIST, pool_id, sizeof(**ret), row_vm, (void **)ret,
	                  ret_n);
}

static int sq_vm_update(struct broker_store *s, const struct broker_vm *vm)
{
	int changes = 0;
	int r = run(to_sq(s), ST_VM_UPDATE, bind_vm, vm, &changes);

	return r == 0 && changes == 0 ? -ENOENT : r;
}

static int sq_vm_del(struct broker_store *s, int64_t id)
{
	return by_id(to_sq(s), ST_VM_DEL, id);
}

struct assign {
	int64_t vm, user, now;
};

static int bind_assign(sqlite3_stmt *st, const void *ctx)
{
	const struct assign *a = ctx;
	int rc = 0;

	rc |= bind_int(st, 1, a->vm);
	rc |= bind_int(st, 2, a->user);
	rc |= bind_int(st, 3, a->now);
	return rc ? SQLITE_RANGE : SQLITE_OK;
}

static int sq_vm_assign(struct broker_store *s, int64_t vm_id, int64_t user_id, int64_t now)
{
	struct sq *q = to_sq(s);
	struct assign a = { vm_id, user_id, now };
	int changes = 0, r;

	r = run(q, ST_VM_ASSIGN, bind_assign, &a, &changes);
	if (r < 0 || changes)
		return r;
	r = exists(q, ST_VM_EXISTS, vm_id);
	return r < 0 ? r : r ? -EALREADY : -ENOENT;
}

static int sq_vm_release(struct broker_store *s, int64_t vm_id, int64_t now)
{
	return by_id_int(to_sq(s), ST_VM_RELEASE, vm_id, now);
}

static int sq_vm_count_user(struct broker_store *s, int64_t pool_id, int64_t user_id, size_t *ret)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_VM_COUNT_USER);
	int64_t v = 0;
	int r;

	if (!st)
		return -EIO;
	bind_int(st, 1, pool_id);
	bind_int(st, 2, user_id);
	r = fetch_int(q, st, &v);
	if (r == 0)
		*ret = (size_t)v;
	return r;
}

static int sq_vm_request_add(struct broker_store *s, struct broker_vm_request *rq)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_REQ_ADD);
	int r;

	if (!st)
		return -EIO;
	bind_int(st, 1, rq->vm_id);
	bind_text(st, 2, rq->action);
	bind_text(st, 3, rq->requested_by);
	bind_int(st, 4, rq->requested);
	r = exec_st(q, st);
	done(st);
	if (r == 0) {
		rq->id = sqlite3_last_insert_rowid(q->db);
		rq->done = 0;
	}
	return r;
}

static int sq_vm_request_pending(struct broker_store *s, struct broker_vm_request **ret,
                                 size_t *ret_n)
{
	return list_all(to_sq(s), ST_REQ_PENDING, sizeof(**ret), row_request, (void **)ret, ret_n);
}

static int sq_vm_request_done(struct broker_store *s, int64_t id, int64_t now)
{
	return by_id_int(to_sq(s), ST_REQ_DONE, id, now);
}

/* --- ops: sessions --- */

static int sq_session_add(struct broker_store *s, struct broker_session *sess)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_SESSION_ADD);
	int r;

	if (!st)
		return -EIO;
	bind_int(st, 1, sess->user_id);
	sqlite3_bind_blob(st, 2, sess->token_hash, BROKER_TOKEN_HASH_LEN, SQLITE_STATIC);
	bind_int(st, 3, sess->created);
	bind_int(st, 4, sess->last_seen);
	bind_int(st, 5, sess->expires);
	bind_text(st, 6, sess->source);
	r = exec_st(q, st);
	done(st);
	if (r == 0) {
		sess->id = sqlite3_last_insert_rowid(q->db);
		sess->revoked = false;
	}
	return r;
}

static int sq_session_get(struct broker_store *s, int64_t id, struct broker_session *ret)
{
	return get_by_id(to_sq(s), ST_SESSION_GET, id, row_session, ret);
}

static int sq_session_get_by_hash(struct broker_store *s, const uint8_t *hash,
                                  struct broker_session *ret)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_SESSION_GET_HASH);

	if (!st)
		return -EIO;
	sqlite3_bind_blob(st, 1, hash, BROKER_TOKEN_HASH_LEN, SQLITE_STATIC);
	return fetch_one(q, st, row_session, ret);
}

static int sq_session_list(struct broker_store *s, int64_t now, struct broker_session **ret,
                           size_t *ret_n)
{
	return list_by_id(to_sq(s), ST_SESSION_LIST, now, sizeof(**ret), row_session, (void **)ret,
	                  ret_n);
}

static int sq_session_touch(struct broker_store *s, int64_t id, int64_t now)
{
	return by_id_int(to_sq(s), ST_SESSION_TOUCH, id, now);
}

static int sq_session_revoke(struct broker_store *s, int64_t id)
{
	return by_id(to_sq(s), ST_SESSION_REVOKE, id);
}

static int sq_session_revoke_user(struct broker_store *s, int64_t user_id)
{
	int64_t key = user_id;

	return run(to_sq(s), ST_SESSION_REVOKE_USER, bind_id, &key, NULL);
}

static int sq_session_purge(struct broker_store *s, int64_t before, size_t *ret_n)
{
	int changes = 0;
	int r = run(to_sq(s), ST_SESSION_PURGE, bind_id, &before, &changes);

	if (r == 0 && ret_n)
		*ret_n = (size_t)changes;
	return r;
}

/* --- ops: desktop sessions --- */

static int sq_desktop_add(struct broker_store *s, struct broker_desktop *d)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_DESKTOP_ADD);
	int r;

	if (!st)
		return -EIO;
	bind_int(st, 1, d->user_id);
	bind_int(st, 2, d->vm_id);
	bind_int(st, 3, d->session_id);
	bind_text(st, 4, d->protocol);
	bind_int(st, 5, d->started);
	bind_int(st, 6, d->disconnected);
	bind_int(st, 7, d->ended);
	bind_text(st, 8, d->end_reason);
	r = exec_st(q, st);
	done(st);
	if (r == 0)
		d->id = sqlite3_last_insert_rowid(q->db);
	return r;
}

static int sq_desktop_get(struct broker_store *s, int64_t id, struct broker_desktop *ret)
{
	return get_by_id(to_sq(s), ST_DESKTOP_GET, id, row_desktop, ret);
}

static int bind_desktop(sqlite3_stmt *st, const void *ctx)
{
	const struct broker_desktop *d = ctx;
	int rc = 0;

	rc |= bind_int(st, 1, d->id);
	rc |= bind_int(st, 2, d->session_id);
	rc |= bind_int(st, 3, d->disconnected);
	rc |= bind_int(st, 4, d->ended);
	rc |= bind_text(st, 5, d->end_reason);
	return rc ? SQLITE_RANGE : SQLITE_OK;
}

static int sq_desktop_update(struct broker_store *s, const struct broker_desktop *d)
{
	int changes = 0;
	int r = run(to_sq(s), ST_DESKTOP_UPDATE, bind_desktop, d, &changes);

	return r == 0 && changes == 0 ? -ENOENT : r;
}

static int sq_desktop_list_open(struct broker_store *s, struct broker_desktop **ret, size_t *ret_n)
{
	return list_all(to_sq(s), ST_DESKTOP_LIST_OPEN, sizeof(**ret), row_desktop, (void **)ret,
	                ret_n);
}

/* --- ops: audit --- */

static int sq_audit_add(struct broker_store *s, struct broker_audit *a)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_AUDIT_ADD);
	int r;

	if (!st)
		return -EIO;
	bind_int(st, 1, a->time);
	bind_text(st, 2, a->user);
	bind_text(st, 3, a->source);
	bind_text(st, 4, a->event);
	bind_text(st, 5, a->vm);
	bind_text(st, 6, a->detail);
	r = exec_st(q, st);
	done(st);
	if (r == 0)
		a->id = sqlite3_last_insert_rowid(q->db);
	return r;
}

static int sq_audit_list(struct broker_store *s, int64_t after_id, size_t limit,
                         struct broker_audit **ret, size_t *ret_n)
{
	struct sq *q = to_sq(s);
	sqlite3_stmt *st = stmt(q, ST_AUDIT_LIST);

	if (!st)
		return -EIO;
	bind_int(st, 1, after_id);
	bind_int(st, 2, (int64_t)limit);
	return collect(q, st, sizeof(**ret), row_audit, (void **)ret, ret_n);
}

static const struct broker_store_ops sqlite_ops = {
	.name = "sqlite",
	.close = sq_close,
	.errmsg = sq_errmsg,
	.schema_version = sq_schema_version,
	.schema_latest = sq_schema_latest,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.user_add = sq_user_add,
	.user_get = sq_user_get,
	.user_get_by_name = sq_user_get_by_name,
	.user_list = sq_user_list,
	.user_count = sq_user_count,
	.user_del = sq_user_del,
	.user_set_password = sq_user_set_password,
	.user_set_role = sq_user_set_role,
	.user_set_totp = sq_user_set_totp,
	.user_use_totp_step = sq_user_use_totp_step,
	.user_login_failed = sq_user_login_failed,
	.user_login_ok = sq_user_login_ok,
	.group_ensure = sq_group_ensure,
	.group_list = sq_group_list,
	.group_del = sq_group_del,
	.user_group_add = sq_user_group_add,
	.user_group_del = sq_user_group_del,
	.user_groups = sq_user_groups,
	.pool_add = sq_pool_add,
	.pool_get = sq_pool_get,
	.pool_get_by_name = sq_pool_get_by_name,
	.pool_list = sq_pool_list,
	.pool_update = sq_pool_update,
	.pool_del = sq_pool_del,
	.pool_entitle = sq_pool_entitle,
	.pool_unentitle = sq_pool_unentitle,
	.pool_entitlements = sq_pool_entitlements,
	.user_pools = sq_user_pools,
	.vm_add = sq_vm_add,
	.vm_get = sq_vm_get,
	.vm_get_by_name = sq_vm_get_by_name,
	.vm_list = sq_vm_list,
	.vm_update = sq_vm_update,
	.vm_del = sq_vm_del,
	.vm_assign = sq_vm_assign,
	.vm_release = sq_vm_release,
	.vm_count_user = sq_vm_count_user,
	.vm_request_add = sq_vm_request_add,
	.vm_request_pending = sq_vm_request_pending,
	.vm_request_done = sq_vm_request_done,
	.session_add = sq_session_add,
	.session_get = sq_session_get,
	.session_get_by_hash = sq_session_get_by_hash,
	.session_list = sq_session_list,
	.session_touch = sq_session_touch,
	.session_revoke = sq_session_revoke,
	.session_revoke_user = sq_session_revoke_user,
	.session_purge = sq_session_purge,
	.desktop_add = sq_desktop_add,
	.desktop_get = sq_desktop_get,
	.desktop_update = sq_desktop_update,
	.desktop_list_open = sq_desktop_list_open,
	.audit_add = sq_audit_add,
	.audit_list = sq_audit_list,
};

/* --- opening and migrations --- */

/* Run a PRAGMA and check that it reads back as @expect. */
static int pragma(struct sq *q, const char *sql, const char *expect)
{
	sqlite3_stmt *st;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return sq_err(q, rc);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && expect) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		if (!v || strcmp(v, expect) != 0) {
			set_errmsg(q, "%s gave '%s', not '%s'", sql, v ? v : "", expect);
			r = -EIO;
		}
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = sq_err(q, rc);
	}
	sqlite3_finalize(st);
	return r;
}

static int migrate(struct sq *q)
{
	int version = 0, r;

	r = exec_sql(q, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = exec_sql(q, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
	                " STRICT;"
	                "INSERT INTO schema_version (version) SELECT 0"
	                " WHERE NOT EXISTS (SELECT 1 FROM schema_version)");
	if (r == 0)
		r = read_version(q, &version);
	r = tx_leave(q, r, true);
	if (r < 0)
		return r;
	if (version < 0 || (size_t)version > q->nr_migrations) {
		set_errmsg(q, "database schema version %d is newer than this broker's (%zu)",
		           version, q->nr_migrations);
		return -EPROTO;
	}
	for (size_t v = (size_t)version; v < q->nr_migrations; v++) {
		char sql[64];

		r = exec_sql(q, "BEGIN IMMEDIATE");
		if (r < 0)
			return r;
		/* Another process may have applied it meanwhile. */
		r = read_version(q, &version);
		if (r == 0 && (size_t)version > v) {
			tx_leave(q, 0, true);
			continue;
		}
		if (r == 0)
			r = exec_sql(q, q->migrations[v]);
		if (r < 0) {
			char msg[sizeof(q->errmsg)];

			snprintf(msg, sizeof(msg), "%s", q->errmsg);
			set_errmsg(q, "migration %zu: %s", v + 1, msg);
		}
		if (r == 0) {
			snprintf(sql, sizeof(sql), "UPDATE schema_version SET version = %zu",
			         v + 1);
			r = exec_sql(q, sql);
		}
		r = tx_leave(q, r, true);
		if (r < 0)
			return r;
		log_debug("store: applied migration %zu", v + 1);
	}
	return 0;
}

/* Create @path with mode 0600 when missing: it holds password hashes. */
static int create_private(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int broker_store_sqlite_open_migrations(const char *path, const char *const *migs, size_t n,
                                        struct broker_store **ret, char *err, size_t err_size)
{
	struct sq *q;
	int r, rc;

	if (!path || !*path || strlen(path) > BROKER_PATH_MAX) {
		snprintf(err, err_size, "database path must be 1-%d characters", BROKER_PATH_MAX);
		return -EINVAL;
	}
	r = create_private(path);
	if (r < 0) {
		snprintf(err, err_size, "%s: %s", path, strerror(-r));
		return r;
	}
	q = calloc(1, sizeof(*q));
	if (!q) {
		snprintf(err, err_size, "out of memory");
		return -ENOMEM;
	}
	q->base.ops = &sqlite_ops;
	q->migrations = migs;
	q->nr_migrations = n;
	rc = sqlite3_open_v2(path, &q->db,
	                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
	                     NULL);
	if (rc != SQLITE_OK) {
		r = q->db ? sq_err(q, rc) : -ENOMEM;
		goto out_close;
	}
	sqlite3_extended_result_codes(q->db, 1);
	sqlite3_busy_timeout(q->db, BUSY_TIMEOUT_MS);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
	sqlite3_db_config(q->db, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);
	r = pragma(q, "PRAGMA journal_mode = WAL", "wal");
	if (r == 0)
		r = pragma(q, "PRAGMA foreign_keys = ON", NULL);
	if (r == 0)
		r = pragma(q, "PRAGMA foreign_keys", "1");
	if (r == 0)
		r = pragma(q, "PRAGMA synchronous = NORMAL", NULL);
	if (r == 0)
		r = migrate(q);
	if (r < 0)
		goto out_close;
	*ret = &q->base;
	return 0;

out_close:
	snprintf(err, err_size, "%s: %s", path, q->errmsg[0] ? q->errmsg : strerror(-r));
	sq_close(&q->base);
	return r;
}

int broker_store_sqlite_open(const char *path, struct broker_store **ret, char *err,
                             size_t err_size)
{
	return broker_store_sqlite_open_migrations(
	        path, migrations, sizeof(migrations) / sizeof(migrations[0]), ret, err, err_size);
}
