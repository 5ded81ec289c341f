/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The broker's persistent state: users, groups, pools and who is entitled
 * to them, VMs, login sessions, desktop sessions and the audit log.
 *
 * Callers see one opaque handle and the broker_store_* functions below; the
 * backend behind it is chosen by broker_store_open() from the location
 * string and implements struct broker_store_ops (broker/store-priv.h). The
 * SQLite backend (store_sqlite.c) is the only one today; a PostgreSQL one
 * can be added without touching any caller.
 *
 * Conventions, for every function here:
 *  - Return 0 on success and a negative errno on failure:
 *      -EINVAL   an argument out of range (bad name, string too long, ...);
 *      -ENOENT   the row, or a row it refers to, does not exist;
 *      -EEXIST   a unique name is taken;
 *      -EBUSY    the row is still referred to (a pool with VMs), or the
 *                database stayed locked longer than the busy timeout;
 *      -EALREADY a state change that already happened (TOTP step used,
 *                VM already assigned);
 *      -ENOMEM, -ENOSPC, -EIO  resources and everything else.
 *    broker_store_errmsg() has the backend's text of the last failure.
 *  - Records are fixed-size structs owned by the caller; out-parameters
 *    (ret*) are written only on success. Lists are malloc'd arrays the
 *    caller free()s, with their length in *ret_n (the array may be NULL
 *    when *ret_n is 0).
 *  - Times are unix seconds (int64_t). Ids are positive; 0 means "none".
 *  - Every string is length-checked against the maxima below, and names
 *    against broker_name_valid(). No input ever becomes SQL text: the
 *    backend binds every value to a prepared statement.
 *  - A handle is used by one thread at a time. Threads that need the store
 *    concurrently open one handle each (SQLite in WAL mode lets readers and
 *    one writer proceed together, and waits up to the busy timeout for the
 *    write lock).
 */
#ifndef VDI_BROKER_STORE_H
#define VDI_BROKER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BROKER_NAME_MAX 64        /* users, groups, pools, VMs: [A-Za-z0-9._-]{1,64} */
#define BROKER_PATH_MAX 1024      /* file paths: kernel, disks, sockets */
#define BROKER_CMDLINE_MAX 1024   /* a pool's kernel command line */
#define BROKER_HASH_MAX 255       /* an encoded password hash */
#define BROKER_TOTP_SECRET_MAX 64 /* base32 characters */
#define BROKER_SOURCE_MAX 64      /* client address as text */
#define BROKER_HOST_MAX 64        /* display server host */
#define BROKER_EVENT_MAX 64       /* audit event name */
#define BROKER_ACTION_MAX 32      /* VM request action, desktop end reason */
#define BROKER_DETAIL_MAX 4096    /* audit detail, JSON text */
#define BROKER_TOKEN_HASH_LEN 32  /* SHA-256 of a session token */
/* The most rows a list function returns; more is -E2BIG. */
#define BROKER_LIST_MAX 100000

/* True when @s is 1 to BROKER_NAME_MAX characters of [A-Za-z0-9._-]. */
bool broker_name_valid(const char *s);

enum broker_role {
	BROKER_ROLE_USER = 0,
	BROKER_ROLE_ADMIN = 1,
};

/* "user" or "admin". */
const char *broker_role_name(enum broker_role role);

/*
 * A local user. password_hash is an argon2id encoded string (broker/auth.h),
 * or one of the markers "!" (no password: cannot log in with one) and
 * "!pam" (authenticated by PAM, created on first PAM login).
 */
struct broker_user {
	int64_t id;
	char name[BROKER_NAME_MAX + 1];
	char password_hash[BROKER_HASH_MAX + 1];
	enum broker_role role;
	char totp_secret[BROKER_TOTP_SECRET_MAX + 1]; /* base32; "" when not enrolled */
	int64_t totp_last_step;                       /* last TOTP time step accepted */
	int failed_count;                             /* failed logins in a row */
	int64_t locked_until;                         /* 0, or locked while now < this */
	int64_t created;
};

struct broker_group {
	int64_t id;
	char name[BROKER_NAME_MAX + 1];
};

enum broker_pool_type {
	BROKER_POOL_FLOATING = 0,   /* any free desktop; reset when given back */
	BROKER_POOL_PERSISTENT = 1, /* one desktop per user, kept with its disk */
};

/* "floating" or "persistent". */
const char *broker_pool_type_name(enum broker_pool_type type);

/*
 * A pool of desktops. An empty kernel means the configured reference guest
 * ([vmm] guest); empty initrd, cmdline and disk_template mean none.
 */
struct broker_pool {
	int64_t id;
	char name[BROKER_NAME_MAX + 1];
	char kernel[BROKER_PATH_MAX + 1];
	char initrd[BROKER_PATH_MAX + 1];
	char cmdline[BROKER_CMDLINE_MAX + 1];
	char disk_template[BROKER_PATH_MAX + 1];
	unsigned int memory_mib; /* BROKER_POOL_MEMORY_MIN..MAX */
	unsigned int vcpus;      /* 1..BROKER_POOL_VCPUS_MAX */
	unsigned int width, height;
	enum broker_pool_type type;
	unsigned int size;         /* desktops kept provisioned, assigned or not */
	unsigned int spares;       /* unassigned desktops kept running and ready */
	unsigned int max_vms;      /* never more VMs than this */
	unsigned int max_per_user; /* desktops one user may hold at once */
	bool enabled;
	int64_t created;
};

#define BROKER_POOL_MEMORY_MIN 16
#define BROKER_POOL_MEMORY_MAX 65536
#define BROKER_POOL_VCPUS_MAX 64
#define BROKER_POOL_WIDTH_MIN 320
#define BROKER_POOL_HEIGHT_MIN 200
#define BROKER_POOL_WIDTH_MAX 1920
#define BROKER_POOL_HEIGHT_MAX 1080
#define BROKER_POOL_VMS_MAX 1000

/*
 * Check a pool's fields (name, lengths, ranges, size <= max_vms,
 * spares <= max_vms, 1 <= max_per_user <= max_vms). Returns 0 or -EINVAL
 * with a one-line reason in @why (may be NULL), naming the field as the
 * configuration file does ("memory", "max_vms", ...).
 */
int broker_pool_check(const struct broker_pool *p, char *why, size_t why_size);

/* Fill @p with the defaults of a new pool named @name (not validated). */
void broker_pool_defaults(struct broker_pool *p, const char *name);

enum broker_entitlement_kind {
	BROKER_ENT_USER = 0,
	BROKER_ENT_GROUP = 1,
};

/* Who may use a pool: a user or a group, by name. */
struct broker_entitlement {
	enum broker_entitlement_kind kind;
	char name[BROKER_NAME_MAX + 1];
};

/*
 * A VM's lifecycle as the supervisor records it. Whether a running VM is a
 * warm spare or in use follows from user_id.
 */
enum broker_vm_state {
	BROKER_VM_STOPPED = 0,
	BROKER_VM_STARTING = 1,
	BROKER_VM_RUNNING = 2,
	BROKER_VM_STOPPING = 3,
	BROKER_VM_FAILED = 4,
};

/* "stopped", "starting", "running", "stopping", "failed". */
const char *broker_vm_state_name(enum broker_vm_state state);

struct broker_vm {
	int64_t id;
	int64_t pool_id;
	char name[BROKER_NAME_MAX + 1];
	enum broker_vm_state state;
	int pid; /* 0 when no process */
	char control_path[BROKER_PATH_MAX + 1];
	char vnc_host[BROKER_HOST_MAX + 1];
	int vnc_port; /* 0 when unknown */
	char spice_host[BROKER_HOST_MAX + 1];
	int spice_port;
	int64_t user_id; /* assigned to, 0 when free */
	char disk_path[BROKER_PATH_MAX + 1];
	unsigned int boots;
	int64_t created;
	int64_t last_used;
};

/* Something asked of a VM outside the running broker (the CLI's vm reset). */
struct broker_vm_request {
	int64_t id;
	int64_t vm_id;
	char action[BROKER_ACTION_MAX + 1]; /* "reset" */
	char requested_by[BROKER_NAME_MAX + 1];
	int64_t requested;
	int64_t done; /* 0 while pending */
};

/* A login session. The token itself is never stored, only its SHA-256. */
struct broker_session {
	int64_t id;
	int64_t user_id;
	uint8_t token_hash[BROKER_TOKEN_HASH_LEN];
	int64_t created;
	int64_t last_seen;
	int64_t expires; /* absolute expiry; the idle one is last_seen + idle timeout */
	bool revoked;
	char source[BROKER_SOURCE_MAX + 1];
};

/* A person connected, or recently connected, to a desktop. */
struct broker_desktop {
	int64_t id;
	int64_t user_id;
	int64_t vm_id;
	int64_t session_id; /* the login session, 0 when gone */
	char protocol[16];  /* "vnc", "spice", "ws" */
	int64_t started;
	int64_t disconnected; /* 0 while connected */
	int64_t ended;        /* 0 while open */
	char end_reason[BROKER_ACTION_MAX + 1];
};

/*
 * One audit record. user and vm are names, kept as text so the record
 * outlives them; detail is "" or a JSON object's text.
 */
struct broker_audit {
	int64_t id;
	int64_t time;
	char user[BROKER_NAME_MAX + 1];
	char source[BROKER_SOURCE_MAX + 1];
	char event[BROKER_EVENT_MAX + 1];
	char vm[BROKER_NAME_MAX + 1];
	char detail[BROKER_DETAIL_MAX + 1];
};

struct broker_store;

/*
 * Open the store at @location and bring its schema up to date, applying
 * each pending migration in its own transaction. @location is a file path
 * or "sqlite:PATH" (the SQLite backend; the file is created with mode 0600
 * when missing). On failure, a one-line reason goes to @err. Returns 0,
 * -EPROTONOSUPPORT for an unknown scheme, -EPROTO when the database comes
 * from a newer broker, or the errors above.
 */
int broker_store_open(const char *location, struct broker_store **ret, char *err, size_t err_size);

/* Close the handle; NULL is a no-op. */
void broker_store_close(struct broker_store *s);

/* The backend's description of the last failure on @s ("" if none); valid until the next call. */
const char *broker_store_errmsg(struct broker_store *s);

/* Schema version of the open database, and the newest this build knows. */
int broker_store_schema_version(struct broker_store *s, int *ret);
int broker_store_schema_latest(struct broker_store *s);

/*
 * Transactions, for callers that need several calls to be atomic (allocating
 * a desktop). Not nestable: begin inside a transaction is -EALREADY. Begin
 * takes the write lock at once, so a transaction never fails half-way on a
 * lock.
 */
int broker_store_begin(struct broker_store *s);
int broker_store_commit(struct broker_store *s);
int broker_store_rollback(struct broker_store *s);

/* --- users ------------------------------------------------------------ */

/*
 * Add @u (name, password_hash, role, created; totp_secret may be ""), and
 * set @u->id. -EEXIST when the name is taken.
 */
int broker_store_user_add(struct broker_store *s, struct broker_user *u);
int broker_store_user_get(struct broker_store *s, int64_t id, struct broker_user *ret);
int broker_store_user_get_by_name(struct broker_store *s, const char *name,
                                  struct broker_user *ret);
/* Every user, by name. */
int broker_store_user_list(struct broker_store *s, struct broker_user **ret, size_t *ret_n);
int broker_store_user_count(struct broker_store *s, enum broker_role role, size_t *ret);
/* Delete the user with their sessions, desktop sessions and group memberships. */
int broker_store_user_del(struct broker_store *s, int64_t id);
int broker_store_user_set_password(struct broker_store *s, int64_t id, const char *hash);
int broker_store_user_set_role(struct broker_store *s, int64_t id, enum broker_role role);
/* Enrol (@secret base32) or, with "" or NULL, remove TOTP; resets the last step. */
int broker_store_user_set_totp(struct broker_store *s, int64_t id, const char *secret);
/*
 * Accept TOTP time step @step for user @id, atomically: -EALREADY when a
 * step >= @step was accepted before (a code is good once).
 */
int broker_store_user_use_totp_step(struct broker_store *s, int64_t id, int64_t step);
/*
 * Count one failed login at @now: failed_count + 1, and when that reaches
 * @max_failures, lock until @now + @lock_seconds and restart the count.
 * Atomic. Writes the updated counters to *@ret (may be NULL).
 */
int broker_store_user_login_failed(struct broker_store *s, int64_t id, int64_t now,
                                   int max_failures, int64_t lock_seconds, struct broker_user *ret);
/* Clear failed_count and locked_until (after a good login, or by an admin). */
int broker_store_user_login_ok(struct broker_store *s, int64_t id);

/* --- groups ----------------------------------------------------------- */

/* Create group @name if missing; its id to *@ret_id (may be NULL). */
int broker_store_group_ensure(struct broker_store *s, const char *name, int64_t *ret_id);
int broker_store_group_list(struct broker_store *s, struct broker_group **ret, size_t *ret_n);
/* Delete a group; its memberships and entitlements go with it. */
int broker_store_group_del(struct broker_store *s, const char *name);
/* Add user @user_id to group @group (created if missing); no-op if a member. */
int broker_store_user_group_add(struct broker_store *s, int64_t user_id, const char *group);
/* -ENOENT when not a member. */
int broker_store_user_group_del(struct broker_store *s, int64_t user_id, const char *group);
/* The user's groups, by name. */
int broker_store_user_groups(struct broker_store *s, int64_t user_id, struct broker_group **ret,
                             size_t *ret_n);

/* --- pools ------------------------------------------------------------ */

/* Add @p (checked with broker_pool_check()) and set @p->id. */
int broker_store_pool_add(struct broker_store *s, struct broker_pool *p);
int broker_store_pool_get(struct broker_store *s, int64_t id, struct broker_pool *ret);
int broker_store_pool_get_by_name(struct broker_store *s, const char *name,
                                  struct broker_pool *ret);
int broker_store_pool_list(struct broker_store *s, struct broker_pool **ret, size_t *ret_n);
/* Write every field of @p (by id; the name may change). */
int broker_store_pool_update(struct broker_store *s, const struct broker_pool *p);
/* Delete a pool and its entitlements; -EBUSY while it has VMs. */
int broker_store_pool_del(struct broker_store *s, int64_t id);
/*
 * Entitle a user or group to a pool: -ENOENT for an unknown user (a group
 * is created when missing); no-op when already entitled.
 */
int broker_store_pool_entitle(struct broker_store *s, int64_t pool_id,
                              const struct broker_entitlement *e);
/* -ENOENT when @e was not entitled. */
int broker_store_pool_unentitle(struct broker_store *s, int64_t pool_id,
                                const struct broker_entitlement *e);
/* Users first, then groups, each by name. */
int broker_store_pool_entitlements(struct broker_store *s, int64_t pool_id,
                                   struct broker_entitlement **ret, size_t *ret_n);
/*
 * The enabled pools @user_id may use (entitled directly or through a group),
 * by name.
 */
int broker_store_user_pools(struct broker_store *s, int64_t user_id, struct broker_pool **ret,
                            size_t *ret_n);

/* --- VMs -------------------------------------------------------------- */

/* Add @vm (pool must exist; name unique) and set @vm->id. */
int broker_store_vm_add(struct broker_store *s, struct broker_vm *vm);
int broker_store_vm_get(struct broker_store *s, int64_t id, struct broker_vm *ret);
int broker_store_vm_get_by_name(struct broker_store *s, const char *name, struct broker_vm *ret);
/* VMs of pool @pool_id, or of every pool when 0; by id. */
int broker_store_vm_list(struct broker_store *s, int64_t pool_id, struct broker_vm **ret,
                         size_t *ret_n);
/* Write every field of @vm but pool_id and created (by id). */
int broker_store_vm_update(struct broker_store *s, const struct broker_vm *vm);
int broker_store_vm_del(struct broker_store *s, int64_t id);
/*
 * Assign free VM @vm_id to @user_id at @now, atomically: -EALREADY when it
 * is already assigned (someone else got it first).
 */
int broker_store_vm_assign(struct broker_store *s, int64_t vm_id, int64_t user_id, int64_t now);
/* Make VM @vm_id free again (no-op when it is). */
int broker_store_vm_release(struct broker_store *s, int64_t vm_id, int64_t now);
/* How many VMs of pool @pool_id are assigned to @user_id. */
int broker_store_vm_count_user(struct broker_store *s, int64_t pool_id, int64_t user_id,
                               size_t *ret);

/* Record a request (@r: vm_id, action, requested_by, requested); sets @r->id. */
int broker_store_vm_request_add(struct broker_store *s, struct broker_vm_request *r);
/* Requests not done yet, oldest first. */
int broker_store_vm_request_pending(struct broker_store *s, struct broker_vm_request **ret,
                                    size_t *ret_n);
int broker_store_vm_request_done(struct broker_store *s, int64_t id, int64_t now);

/* --- login sessions --------------------------------------------------- */

/* Add @sess (user_id, token_hash, created, last_seen, expires, source); sets @sess->id. */
int broker_store_session_add(struct broker_store *s, struct broker_session *sess);
int broker_store_session_get(struct broker_store *s, int64_t id, struct broker_session *ret);
/* Look a session up by the SHA-256 of its token (revoked ones too). */
int broker_store_session_get_by_hash(struct broker_store *s,
                                     const uint8_t hash[BROKER_TOKEN_HASH_LEN],
                                     struct broker_session *ret);
/* Sessions neither revoked nor past @expires at @now, by id (0: every session). */
int broker_store_session_list(struct broker_store *s, int64_t now, struct broker_session **ret,
                              size_t *ret_n);
int broker_store_session_touch(struct broker_store *s, int64_t id, int64_t now);
/* -ENOENT for an unknown id; revoking twice is fine. */
int broker_store_session_revoke(struct broker_store *s, int64_t id);
/* Revoke every session of @user_id. */
int broker_store_session_revoke_user(struct broker_store *s, int64_t user_id);
/* Delete sessions that expired or were revoked before @before; count to *@ret_n. */
int broker_store_session_purge(struct broker_store *s, int64_t before, size_t *ret_n);

/* --- desktop sessions ------------------------------------------------- */

/* Add @d (user_id, vm_id, session_id or 0, protocol, started); sets @d->id. */
int broker_store_desktop_add(struct broker_store *s, struct broker_desktop *d);
int broker_store_desktop_get(struct broker_store *s, int64_t id, struct broker_desktop *ret);
/* Write session_id, disconnected, ended and end_reason of @d (by id). */
int broker_store_desktop_update(struct broker_store *s, const struct broker_desktop *d);
/* Open desktop sessions (ended == 0), by id. */
int broker_store_desktop_list_open(struct broker_store *s, struct broker_desktop **ret,
                                   size_t *ret_n);

/* --- audit ------------------------------------------------------------ */

/* Append @a (time, event required; detail "" or a JSON object); sets @a->id. */
int broker_store_audit_add(struct broker_store *s, struct broker_audit *a);
/* Up to @limit records with id > @after_id, oldest first. */
int broker_store_audit_list(struct broker_store *s, int64_t after_id, size_t limit,
                            struct broker_audit **ret, size_t *ret_n);

#endif
