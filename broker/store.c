// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The storage interface: argument checks shared by every backend, then a
 * call through the backend's ops table.
 */
#include "broker/store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "broker/store-priv.h"

/* A NUL-terminated string of at most @max bytes inside an array of @max + 1. */
#define FIELD_OK(f) (strnlen((f), sizeof(f)) < sizeof(f))

bool broker_name_valid(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, BROKER_NAME_MAX + 1);
	if (n < 1 || n > BROKER_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* At most @max bytes, none of them control characters. */
static bool text_ok(const char *s, size_t max)
{
	size_t n;

	if (!s)
		return false;
	n = strnlen(s, max + 1);
	if (n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

static bool base32_ok(const char *s)
{
	if (!text_ok(s, BROKER_TOTP_SECRET_MAX))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= '2' && *s <= '7')))
			return false;
	return true;
}

const char *broker_role_name(enum broker_role role)
{
	return role == BROKER_ROLE_ADMIN ? "admin" : "user";
}

const char *broker_pool_type_name(enum broker_pool_type type)
{
	return type == BROKER_POOL_PERSISTENT ? "persistent" : "floating";
}

const char *broker_vm_state_name(enum broker_vm_state state)
{
	switch (state) {
	case BROKER_VM_STOPPED:
		return "stopped";
	case BROKER_VM_STARTING:
		return "starting";
	case BROKER_VM_RUNNING:
		return "running";
	case BROKER_VM_STOPPING:
		return "stopping";
	case BROKER_VM_FAILED:
		return "failed";
	}
	return "?";
}

static int why(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int why(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (buf && size) {
		va_start(ap, fmt);
		vsnprintf(buf, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

void broker_pool_defaults(struct broker_pool *p, const char *name)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->name, sizeof(p->name), "%s", name ? name : "");
	p->memory_mib = 256;
	p->vcpus = 1;
	p->width = 1024;
	p->height = 768;
	p->type = BROKER_POOL_FLOATING;
	p->size = 1;
	p->spares = 1;
	p->max_vms = 4;
	p->max_per_user = 1;
	p->enabled = true;
}

int broker_pool_check(const struct broker_pool *p, char *w, size_t w_size)
{
	if (!FIELD_OK(p->name) || !broker_name_valid(p->name))
		return why(w, w_size, "name: must be 1-%d characters of A-Z a-z 0-9 . _ -",
		           BROKER_NAME_MAX);
	if (!FIELD_OK(p->kernel) || !text_ok(p->kernel, BROKER_PATH_MAX))
		return why(w, w_size, "kernel: a path of at most %d characters", BROKER_PATH_MAX);
	if (!FIELD_OK(p->initrd) || !text_ok(p->initrd, BROKER_PATH_MAX))
		return why(w, w_size, "initrd: a path of at most %d characters", BROKER_PATH_MAX);
	if (!FIELD_OK(p->cmdline) || !text_ok(p->cmdline, BROKER_CMDLINE_MAX))
		return why(w, w_size, "cmdline: at most %d characters, no control characters",
		           BROKER_CMDLINE_MAX);
	if (!FIELD_OK(p->disk_template) || !text_ok(p->disk_template, BROKER_PATH_MAX))
		return why(w, w_size, "disk_template: a path of at most %d characters",
		           BROKER_PATH_MAX);
	if (p->memory_mib < BROKER_POOL_MEMORY_MIN || p->memory_mib > BROKER_POOL_MEMORY_MAX)
		return why(w, w_size, "memory: %u MiB is not in %d..%d", p->memory_mib,
		           BROKER_POOL_MEMORY_MIN, BROKER_POOL_MEMORY_MAX);
	if (p->vcpus < 1 || p->vcpus > BROKER_POOL_VCPUS_MAX)
		return why(w, w_size, "vcpus: %u is not in 1..%d", p->vcpus, BROKER_POOL_VCPUS_MAX);
	if (p->width < BROKER_POOL_WIDTH_MIN || p->width > BROKER_POOL_WIDTH_MAX ||
	    p->height < BROKER_POOL_HEIGHT_MIN || p->height > BROKER_POOL_HEIGHT_MAX)
		return why(w, w_size, "resolution: %ux%u is not within %dx%d..%dx%d", p->width,
		           p->height, BROKER_POOL_WIDTH_MIN, BROKER_POOL_HEIGHT_MIN,
		           BROKER_POOL_WIDTH_MAX, BROKER_POOL_HEIGHT_MAX);
	if (p->type != BROKER_POOL_FLOATING && p->type != BROKER_POOL_PERSISTENT)
		return why(w, w_size, "type: must be floating or persistent");
	if (p->max_vms < 1 || p->max_vms > BROKER_POOL_VMS_MAX)
		return why(w, w_size, "max_vms: %u is not in 1..%d", p->max_vms,
		           BROKER_POOL_VMS_MAX);
	if (p->size > p->max_vms)
		return why(w, w_size, "size: %u is more than max_vms (%u)", p->size, p->max_vms);
	if (p->spares > p->max_vms)
		return why(w, w_size, "spares: %u is more than max_vms (%u)", p->spares,
		           p->max_vms);
	if (p->max_per_user < 1 || p->max_per_user > p->max_vms)
		return why(w, w_size, "max_per_user: %u is not in 1..max_vms (%u)", p->max_per_user,
		           p->max_vms);
	return 0;
}

static bool entitlement_ok(const struct broker_entitlement *e)
{
	return e && (e->kind == BROKER_ENT_USER || e->kind == BROKER_ENT_GROUP) &&
	       FIELD_OK(e->name) && broker_name_valid(e->name);
}

static bool vm_ok(const struct broker_vm *vm)
{
	return FIELD_OK(vm->name) && broker_name_valid(vm->name) &&
	       vm->state >= BROKER_VM_STOPPED && vm->state <= BROKER_VM_FAILED && vm->pid >= 0 &&
	       FIELD_OK(vm->control_path) && text_ok(vm->control_path, BROKER_PATH_MAX) &&
	       FIELD_OK(vm->vnc_host) && text_ok(vm->vnc_host, BROKER_HOST_MAX) &&
	       FIELD_OK(vm->spice_host) && text_ok(vm->spice_host, BROKER_HOST_MAX) &&
	       vm->vnc_port >= 0 && vm->vnc_port <= 65535 && vm->spice_port >= 0 &&
	       vm->spice_port <= 65535 && vm->user_id >= 0 && FIELD_OK(vm->disk_path) &&
	       text_ok(vm->disk_path, BROKER_PATH_MAX);
}

static bool event_ok(const char *s)
{
	size_t n = strnlen(s, BROKER_EVENT_MAX + 1);

	if (n < 1 || n > BROKER_EVENT_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '.' ||
		      s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

static bool detail_ok(const char *s)
{
	json_t *j;
	bool ok;

	if (strnlen(s, BROKER_DETAIL_MAX + 1) > BROKER_DETAIL_MAX)
		return false;
	if (!*s)
		return true;
	j = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	ok = j && json_is_object(j);
	json_decref(j);
	return ok;
}

int broker_store_open(const char *location, struct broker_store **ret, char *err, size_t err_size)
{
	const char *colon;

	if (!location || !*location || strlen(location) > BROKER_PATH_MAX) {
		snprintf(err, err_size, "store location must be 1-%d characters", BROKER_PATH_MAX);
		return -EINVAL;
	}
	if (strncmp(location, "sqlite:", 7) == 0)
		return broker_store_sqlite_open(location + 7, ret, err, err_size);
	/* "scheme://..." names a backend this build lacks; anything else is a path. */
	colon = strstr(location, "://");
	if (colon) {
		snprintf(err, err_size, "store '%.*s': unsupported backend (only sqlite)",
		         (int)(colon - location), location);
		return -EPROTONOSUPPORT;
	}
	return broker_store_sqlite_open(location, ret, err, err_size);
}

void broker_store_close(struct broker_store *s)
{
	if (s)
		s->ops->close(s);
}

const char *broker_store_errmsg(struct broker_store *s)
{
	return s ? s->ops->errmsg(s) : "";
}

int broker_store_schema_version(struct broker_store *s, int *ret)
{
	return s->ops->schema_version(s, ret);
}

int broker_store_schema_latest(struct broker_store *s)
{
	return s->ops->schema_latest(s);
}

int broker_store_begin(struct broker_store *s)
{
	return s->ops->begin(s);
}

int broker_store_commit(struct broker_store *s)
{
	return s->ops->commit(s);
}

int broker_store_rollback(struct broker_store *s)
{
	return s->ops->rollback(s);
}

/* --- users --- */

static bool hash_ok(const char *h)
{
	return text_ok(h, BROKER_HASH_MAX) && *h && !strchr(h, ' ');
}

int broker_store_user_add(struct broker_store *s, struct broker_user *u)
{
	if (!FIELD_OK(u->name) || !broker_name_valid(u->name) || !FIELD_OK(u->password_hash) ||
	    !hash_ok(u->password_hash) ||
	    (u->role != BROKER_ROLE_USER && u->role != BROKER_ROLE_ADMIN) ||
	    !FIELD_OK(u->totp_secret) || !base32_ok(u->totp_secret))
		return -EINVAL;
	return s->ops->user_add(s, u);
}

int broker_store_user_get(struct broker_store *s, int64_t id, struct broker_user *ret)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->user_get(s, id, ret);
}

int broker_store_user_get_by_name(struct broker_store *s, const char *name, struct broker_user *ret)
{
	if (!broker_name_valid(name))
		return -EINVAL;
	return s->ops->user_get_by_name(s, name, ret);
}

int broker_store_user_list(struct broker_store *s, struct broker_user **ret, size_t *ret_n)
{
	return s->ops->user_list(s, ret, ret_n);
}

int broker_store_user_count(struct broker_store *s, enum broker_role role, size_t *ret)
{
	if (role != BROKER_ROLE_USER && role != BROKER_ROLE_ADMIN)
		return -EINVAL;
	return s->ops->user_count(s, role, ret);
}

int broker_store_user_del(struct broker_store *s, int64_t id)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->user_del(s, id);
}

int broker_store_user_set_password(struct broker_store *s, int64_t id, const char *hash)
{
	if (!hash || !hash_ok(hash))
		return -EINVAL;
	if (id <= 0)
		return -ENOENT;
	return s->ops->user_set_password(s, id, hash);
}

int broker_store_user_set_role(struct broker_store *s, int64_t id, enum broker_role role)
{
	if (role != BROKER_ROLE_USER && role != BROKER_ROLE_ADMIN)
		return -EINVAL;
	if (id <= 0)
		return -ENOENT;
	return s->ops->user_set_role(s, id, role);
}

int broker_store_user_set_totp(struct broker_store *s, int64_t id, const char *secret)
{
	if (!secret)
		secret = "";
	if (!base32_ok(secret))
		return -EINVAL;
	if (id <= 0)
		return -ENOENT;
	return s->ops->user_set_totp(s, id, secret);
}

int broker_store_user_use_totp_step(struct broker_store *s, int64_t id, int64_t step)
{
	if (step <= 0)
		return -EINVAL;
	if (id <= 0)
		return -ENOENT;
	return s->ops->user_use_totp_step(s, id, step);
}

int broker_store_user_login_failed(struct broker_store *s, int64_t id, int64_t now,
                                   int max_failures, int64_t lock_seconds, struct broker_user *ret)
{
	if (max_failures < 1 || lock_seconds < 0)
		return -EINVAL;
	if (id <= 0)
		return -ENOENT;
	return s->ops->user_login_failed(s, id, now, max_failures, lock_seconds, ret);
}

int broker_store_user_login_ok(struct broker_store *s, int64_t id)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->user_login_ok(s, id);
}

/* --- groups --- */

int broker_store_group_ensure(struct broker_store *s, const char *name, int64_t *ret_id)
{
	if (!broker_name_valid(name))
		return -EINVAL;
	return s->ops->group_ensure(s, name, ret_id);
}

int broker_store_group_list(struct broker_store *s, struct broker_group **ret, size_t *ret_n)
{
	return s->ops->group_list(s, ret, ret_n);
}

int broker_store_group_del(struct broker_store *s, const char *name)
{
	if (!broker_name_valid(name))
		return -EINVAL;
	return s->ops->group_del(s, name);
}

int broker_store_user_group_add(struct broker_store *s, int64_t user_id, const char *group)
{
	if (!broker_name_valid(group))
		return -EINVAL;
	if (user_id <= 0)
		return -ENOENT;
	return s->ops->user_group_add(s, user_id, group);
}

int broker_store_user_group_del(struct broker_store *s, int64_t user_id, const char *group)
{
	if (!broker_name_valid(group))
		return -EINVAL;
	if (user_id <= 0)
		return -ENOENT;
	return s->ops->user_group_del(s, user_id, group);
}

int broker_store_user_groups(struct broker_store *s, int64_t user_id, struct broker_group **ret,
                             size_t *ret_n)
{
	if (user_id <= 0)
		return -ENOENT;
	return s->ops->user_groups(s, user_id, ret, ret_n);
}

/* --- pools --- */

int broker_store_pool_add(struct broker_store *s, struct broker_pool *p)
{
	if (broker_pool_check(p, NULL, 0) < 0)
		return -EINVAL;
	return s->ops->pool_add(s, p);
}

int broker_store_pool_get(struct broker_store *s, int64_t id, struct broker_pool *ret)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->pool_get(s, id, ret);
}

int broker_store_pool_get_by_name(struct broker_store *s, const char *name, struct broker_pool *ret)
{
	if (!broker_name_valid(name))
		return -EINVAL;
	return s->ops->pool_get_by_name(s, name, ret);
}

int broker_store_pool_list(struct broker_store *s, struct broker_pool **ret, size_t *ret_n)
{
	return s->ops->pool_list(s, ret, ret_n);
}

int broker_store_pool_update(struct broker_store *s, const struct broker_pool *p)
{
	if (broker_pool_check(p, NULL, 0) < 0)
		return -EINVAL;
	if (p->id <= 0)
		return -ENOENT;
	return s->ops->pool_update(s, p);
}

int broker_store_pool_del(struct broker_store *s, int64_t id)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->pool_del(s, id);
}

int broker_store_pool_entitle(struct broker_store *s, int64_t pool_id,
                              const struct broker_entitlement *e)
{
	if (!entitlement_ok(e))
		return -EINVAL;
	if (pool_id <= 0)
		return -ENOENT;
	return s->ops->pool_entitle(s, pool_id, e);
}

int broker_store_pool_unentitle(struct broker_store *s, int64_t pool_id,
                                const struct broker_entitlement *e)
{
	if (!entitlement_ok(e))
		return -EINVAL;
	if (pool_id <= 0)
		return -ENOENT;
	return s->ops->pool_unentitle(s, pool_id, e);
}

int broker_store_pool_entitlements(struct broker_store *s, int64_t pool_id,
                                   struct broker_entitlement **ret, size_t *ret_n)
{
	if (pool_id <= 0)
		return -ENOENT;
	return s->ops->pool_entitlements(s, pool_id, ret, ret_n);
}

int broker_store_user_pools(struct broker_store *s, int64_t user_id, struct broker_pool **ret,
                            size_t *ret_n)
{
	if (user_id <= 0)
		return -ENOENT;
	return s->ops->user_pools(s, user_id, ret, ret_n);
}

/* --- VMs --- */

int broker_store_vm_add(struct broker_store *s, struct broker_vm *vm)
{
	if (!vm_ok(vm))
		return -EINVAL;
	if (vm->pool_id <= 0)
		return -ENOENT;
	return s->ops->vm_add(s, vm);
}

int broker_store_vm_get(struct broker_store *s, int64_t id, struct broker_vm *ret)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->vm_get(s, id, ret);
}

int broker_store_vm_get_by_name(struct broker_store *s, const char *name, struct broker_vm *ret)
{
	if (!broker_name_valid(name))
		return -EINVAL;
	return s->ops->vm_get_by_name(s, name, ret);
}

int broker_store_vm_list(struct broker_store *s, int64_t pool_id, struct broker_vm **ret,
                         size_t *ret_n)
{
	if (pool_id < 0)
		return -EINVAL;
	return s->ops->vm_list(s, pool_id, ret, ret_n);
}

int broker_store_vm_update(struct broker_store *s, const struct broker_vm *vm)
{
	if (!vm_ok(vm))
		return -EINVAL;
	if (vm->id <= 0)
		return -ENOENT;
	return s->ops->vm_update(s, vm);
}

int broker_store_vm_del(struct broker_store *s, int64_t id)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->vm_del(s, id);
}

int broker_store_vm_assign(struct broker_store *s, int64_t vm_id, int64_t user_id, int64_t now)
{
	if (vm_id <= 0 || user_id <= 0)
		return -ENOENT;
	return s->ops->vm_assign(s, vm_id, user_id, now);
}

int broker_store_vm_release(struct broker_store *s, int64_t vm_id, int64_t now)
{
	if (vm_id <= 0)
		return -ENOENT;
	return s->ops->vm_release(s, vm_id, now);
}

int broker_store_vm_count_user(struct broker_store *s, int64_t pool_id, int64_t user_id,
                               size_t *ret)
{
	if (pool_id <= 0 || user_id <= 0)
		return -ENOENT;
	return s->ops->vm_count_user(s, pool_id, user_id, ret);
}

int broker_store_vm_request_add(struct broker_store *s, struct broker_vm_request *r)
{
	if (!FIELD_OK(r->action) || !event_ok(r->action) || !FIELD_OK(r->requested_by) ||
	    !text_ok(r->requested_by, BROKER_NAME_MAX))
		return -EINVAL;
	if (r->vm_id <= 0)
		return -ENOENT;
	return s->ops->vm_request_add(s, r);
}

int broker_store_vm_request_pending(struct broker_store *s, struct broker_vm_request **ret,
                                    size_t *ret_n)
{
	return s->ops->vm_request_pending(s, ret, ret_n);
}

int broker_store_vm_request_done(struct broker_store *s, int64_t id, int64_t now)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->vm_request_done(s, id, now);
}

/* --- sessions --- */

int broker_store_session_add(struct broker_store *s, struct broker_session *sess)
{
	if (!FIELD_OK(sess->source) || !text_ok(sess->source, BROKER_SOURCE_MAX) ||
	    sess->expires < sess->created)
		return -EINVAL;
	if (sess->user_id <= 0)
		return -ENOENT;
	return s->ops->session_add(s, sess);
}

int broker_store_session_get(struct broker_store *s, int64_t id, struct broker_session *ret)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->session_get(s, id, ret);
}

int broker_store_session_get_by_hash(struct broker_store *s,
                                     const uint8_t hash[BROKER_TOKEN_HASH_LEN],
                                     struct broker_session *ret)
{
	if (!hash)
		return -EINVAL;
	return s->ops->session_get_by_hash(s, hash, ret);
}

int broker_store_session_list(struct broker_store *s, int64_t now, struct broker_session **ret,
                              size_t *ret_n)
{
	return s->ops->session_list(s, now, ret, ret_n);
}

int broker_store_session_touch(struct broker_store *s, int64_t id, int64_t now)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->session_touch(s, id, now);
}

int broker_store_session_revoke(struct broker_store *s, int64_t id)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->session_revoke(s, id);
}

int broker_store_session_revoke_user(struct broker_store *s, int64_t user_id)
{
	if (user_id <= 0)
		return -ENOENT;
	return s->ops->session_revoke_user(s, user_id);
}

int broker_store_session_purge(struct broker_store *s, int64_t before, size_t *ret_n)
{
	return s->ops->session_purge(s, before, ret_n);
}

/* --- desktop sessions --- */

static bool desktop_ok(const struct broker_desktop *d)
{
	return FIELD_OK(d->protocol) && event_ok(d->protocol) && FIELD_OK(d->end_reason) &&
	       text_ok(d->end_reason, BROKER_ACTION_MAX) && d->session_id >= 0;
}

int broker_store_desktop_add(struct broker_store *s, struct broker_desktop *d)
{
	if (!desktop_ok(d))
		return -EINVAL;
	if (d->user_id <= 0 || d->vm_id <= 0)
		return -ENOENT;
	return s->ops->desktop_add(s, d);
}

int broker_store_desktop_get(struct broker_store *s, int64_t id, struct broker_desktop *ret)
{
	if (id <= 0)
		return -ENOENT;
	return s->ops->desktop_get(s, id, ret);
}

int broker_store_desktop_update(struct broker_store *s, const struct broker_desktop *d)
{
	if (!desktop_ok(d))
		return -EINVAL;
	if (d->id <= 0)
		return -ENOENT;
	return s->ops->desktop_update(s, d);
}

int broker_store_desktop_list_open(struct broker_store *s, struct broker_desktop **ret,
                                   size_t *ret_n)
{
	return s->ops->desktop_list_open(s, ret, ret_n);
}

/* --- audit --- */

int broker_store_audit_add(struct broker_store *s, struct broker_audit *a)
{
	if (!FIELD_OK(a->event) || !event_ok(a->event) || !FIELD_OK(a->user) ||
	    !text_ok(a->user, BROKER_NAME_MAX) || !FIELD_OK(a->source) ||
	    !text_ok(a->source, BROKER_SOURCE_MAX) || !FIELD_OK(a->vm) ||
	    !text_ok(a->vm, BROKER_NAME_MAX) || !FIELD_OK(a->detail) || !detail_ok(a->detail))
		return -EINVAL;
	return s->ops->audit_add(s, a);
}

int broker_store_audit_list(struct broker_store *s, int64_t after_id, size_t limit,
                            struct broker_audit **ret, size_t *ret_n)
{
	if (limit > BROKER_LIST_MAX)
		limit = BROKER_LIST_MAX;
	return s->ops->audit_list(s, after_id, limit, ret, ret_n);
}
