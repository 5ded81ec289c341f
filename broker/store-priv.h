/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What a storage backend implements. store.c checks every argument (names,
 * lengths, ranges) before calling into a backend, so backends may assume
 * valid input; they map their own errors onto the errno codes of
 * broker/store.h and keep a message for broker_store_errmsg().
 *
 * A backend's handle starts with struct broker_store, which points at its
 * ops table.
 */
#ifndef VDI_BROKER_STORE_PRIV_H
#define VDI_BROKER_STORE_PRIV_H

#include "broker/store.h"

struct broker_store_ops {
	const char *name;
	void (*close)(struct broker_store *s);
	const char *(*errmsg)(struct broker_store *s);
	int (*schema_version)(struct broker_store *s, int *ret);
	int (*schema_latest)(struct broker_store *s);
	int (*begin)(struct broker_store *s);
	int (*commit)(struct broker_store *s);
	int (*rollback)(struct broker_store *s);

	int (*user_add)(struct broker_store *s, struct broker_user *u);
	int (*user_get)(struct broker_store *s, int64_t id, struct broker_user *ret);
	int (*user_get_by_name)(struct broker_store *s, const char *name, struct broker_user *ret);
	int (*user_list)(struct broker_store *s, struct broker_user **ret, size_t *ret_n);
	int (*user_count)(struct broker_store *s, enum broker_role role, size_t *ret);
	int (*user_del)(struct broker_store *s, int64_t id);
	int (*user_set_password)(struct broker_store *s, int64_t id, const char *hash);
	int (*user_set_role)(struct broker_store *s, int64_t id, enum broker_role role);
	int (*user_set_totp)(struct broker_store *s, int64_t id, const char *secret);
	int (*user_use_totp_step)(struct broker_store *s, int64_t id, int64_t step);
	int (*user_login_failed)(struct broker_store *s, int64_t id, int64_t now, int max_failures,
	                         int64_t lock_seconds, struct broker_user *ret);
	int (*user_login_ok)(struct broker_store *s, int64_t id);

	int (*group_ensure)(struct broker_store *s, const char *name, int64_t *ret_id);
	int (*group_list)(struct broker_store *s, struct broker_group **ret, size_t *ret_n);
	int (*group_del)(struct broker_store *s, const char *name);
	int (*user_group_add)(struct broker_store *s, int64_t user_id, const char *group);
	int (*user_group_del)(struct broker_store *s, int64_t user_id, const char *group);
	int (*user_groups)(struct broker_store *s, int64_t user_id, struct broker_group **ret,
	                   size_t *ret_n);

	int (*pool_add)(struct broker_store *s, struct broker_pool *p);
	int (*pool_get)(struct broker_store *s, int64_t id, struct broker_pool *ret);
	int (*pool_get_by_name)(struct broker_store *s, const char *name, struct broker_pool *ret);
	int (*pool_list)(struct broker_store *s, struct broker_pool **ret, size_t *ret_n);
	int (*pool_update)(struct broker_store *s, const struct broker_pool *p);
	int (*pool_del)(struct broker_store *s, int64_t id);
	int (*pool_entitle)(struct broker_store *s, int64_t pool_id,
	                    const struct broker_entitlement *e);
	int (*pool_unentitle)(struct broker_store *s, int64_t pool_id,
	                      const struct broker_entitlement *e);
	int (*pool_entitlements)(struct broker_store *s, int64_t pool_id,
	                         struct broker_entitlement **ret, size_t *ret_n);
	int (*user_pools)(struct broker_store *s, int64_t user_id, struct broker_pool **ret,
	                  size_t *ret_n);

	int (*vm_add)(struct broker_store *s, struct broker_vm *vm);
	int (*vm_get)(struct broker_store *s, int64_t id, struct broker_vm *ret);
	int (*vm_get_by_name)(struct broker_store *s, const char *name, struct broker_vm *ret);
	int (*vm_list)(struct broker_store *s, int64_t pool_id, struct broker_vm **ret,
	               size_t *ret_n);
	int (*vm_update)(struct broker_store *s, const struct broker_vm *vm);
	int (*vm_del)(struct broker_store *s, int64_t id);
	int (*vm_assign)(struct broker_store *s, int64_t vm_id, int64_t user_id, int64_t now);
	int (*vm_release)(struct broker_store *s, int64_t vm_id, int64_t now);
	int (*vm_count_user)(struct broker_store *s, int64_t pool_id, int64_t user_id, size_t *ret);
	int (*vm_request_add)(struct broker_store *s, struct broker_vm_request *r);
	int (*vm_request_pending)(struct broker_store *s, struct broker_vm_request **ret,
	                          size_t *ret_n);
	int (*vm_request_done)(struct broker_store *s, int64_t id, int64_t now);

	int (*session_add)(struct broker_store *s, struct broker_session *sess);
	int (*session_get)(struct broker_store *s, int64_t id, struct broker_session *ret);
	int (*session_get_by_hash)(struct broker_store *s, const uint8_t *hash,
	                           struct broker_session *ret);
	int (*session_list)(struct broker_store *s, int64_t now, struct broker_session **ret,
	                    size_t *ret_n);
	int (*session_touch)(struct broker_store *s, int64_t id, int64_t now);
	int (*session_revoke)(struct broker_store *s, int64_t id);
	int (*session_revoke_user)(struct broker_store *s, int64_t user_id);
	int (*session_purge)(struct broker_store *s, int64_t before, size_t *ret_n);

	int (*desktop_add)(struct broker_store *s, struct broker_desktop *d);
	int (*desktop_get)(struct broker_store *s, int64_t id, struct broker_desktop *ret);
	int (*desktop_update)(struct broker_store *s, const struct broker_desktop *d);
	int (*desktop_list_open)(struct broker_store *s, struct broker_desktop **ret,
	                         size_t *ret_n);

	int (*audit_add)(struct broker_store *s, struct broker_audit *a);
	int (*audit_list)(struct broker_store *s, int64_t after_id, size_t limit,
	                  struct broker_audit **ret, size_t *ret_n);
};

struct broker_store {
	const struct broker_store_ops *ops;
};

/* The SQLite backend: open @path (created 0600 when missing) and migrate. */
int broker_store_sqlite_open(const char *path, struct broker_store **ret, char *err,
                             size_t err_size);

/*
 * The same with a list of @n migrations of one's own instead of the
 * broker's, for testing the migration machinery.
 */
int broker_store_sqlite_open_migrations(const char *path, const char *const *migrations, size_t n,
                                        struct broker_store **ret, char *err, size_t err_size);

#endif
