// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/pools.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "proto/log.h"

/* What the pools remember of an assigned VM between ticks. */
struct track {
	int64_t vm_id;
	int clients;        /* console clients connected now */
	int64_t idle_since; /* when the last one left (or the VM was assigned) */
	bool logged_off;    /* persistent: released, kept for its user */
};

struct pool_state {
	int64_t pool_id;
	unsigned int fails; /* VMs in a row that did not come up */
	int64_t retry_at;
};

struct broker_pools {
	struct broker_store *store;
	char disk_dir[PATH_MAX];
	unsigned int grace, idle_stop;
	struct broker_pools_ops ops;
	broker_pools_logoff_fn logoff;
	void *logoff_opaque;
	struct track *tracks;
	size_t nr_tracks, cap_tracks;
	struct pool_state *ps;
	size_t nr_ps, cap_ps;
};

static void say(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void say(char *why, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!why || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(why, size, fmt, ap);
	va_end(ap);
}

/* ---- bookkeeping ---- */

static struct track *track_find(struct broker_pools *pools, int64_t vm_id)
{
	for (size_t i = 0; i < pools->nr_tracks; i++)
		if (pools->tracks[i].vm_id == vm_id)
			return &pools->tracks[i];
	return NULL;
}

/* The VM's record, made (idle since @now) when missing; NULL only without memory. */
static struct track *track_get(struct broker_pools *pools, int64_t vm_id, int64_t now)
{
	struct track *t = track_find(pools, vm_id);

	if (t)
		return t;
	if (pools->nr_tracks == pools->cap_tracks) {
		size_t cap = pools->cap_tracks ? pools->cap_tracks * 2 : 16;
		struct track *a = realloc(pools->tracks, cap * sizeof(*a));

		if (!a)
			return NULL;
		pools->tracks = a;
		pools->cap_tracks = cap;
	}
	t = &pools->tracks[pools->nr_tracks++];
	*t = (struct track){ .vm_id = vm_id, .idle_since = now };
	return t;
}

static void track_drop(struct broker_pools *pools, int64_t vm_id)
{
	struct track *t = track_find(pools, vm_id);

	if (t)
		*t = pools->tracks[--pools->nr_tracks];
}

static struct pool_state *pool_state(struct broker_pools *pools, int64_t pool_id)
{
	static struct pool_state none;

	for (size_t i = 0; i < pools->nr_ps; i++)
		if (pools->ps[i].pool_id == pool_id)
			return &pools->ps[i];
	if (pools->nr_ps == pools->cap_ps) {
		size_t cap = pools->cap_ps ? pools->cap_ps * 2 : 8;
		struct pool_state *a = realloc(pools->ps, cap * sizeof(*a));

		if (!a) {
			none = (struct pool_state){ 0 };
			return &none;
		}
		pools->ps = a;
		pools->cap_ps = cap;
	}
	pools->ps[pools->nr_ps] = (struct pool_state){ .pool_id = pool_id };
	return &pools->ps[pools->nr_ps++];
}

static void audit(struct broker_pools *pools, const char *event, int64_t user_id,
                  const char *vm_name, const char *detail)
{
	struct broker_audit a = { .time = time(NULL) };
	struct broker_user u;

	snprintf(a.event, sizeof(a.event), "%s", event);
	snprintf(a.vm, sizeof(a.vm), "%s", vm_name);
	snprintf(a.source, sizeof(a.source), "broker");
	snprintf(a.detail, sizeof(a.detail), "%s", detail ? detail : "");
	if (user_id && broker_store_user_get(pools->store, user_id, &u) == 0)
		snprintf(a.user, sizeof(a.user), "%s", u.name);
	if (broker_store_audit_add(pools->store, &a) < 0)
		log_warn("vm=%s audit %s not recorded: %s", vm_name, event,
		         broker_store_errmsg(pools->store));
}

/* ---- disks ---- */

int broker_copy_file(const char *src, const char *dst)
{
	char tmp[PATH_MAX];
	struct stat st;
	int in, out, r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", dst) >= sizeof(tmp))
		return -ENAMETOOLONG;
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = S_ISREG(st.st_mode) ? -errno : -EINVAL;
		goto out_in;
	}
	unlink(tmp); /* left over from a crash */
	out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		r = -errno;
		goto out_in;
	}
	if (ioctl(out, FICLONE, in) == 0)
		goto done;
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);

		if (n == 0)
			goto done;
		if (n > 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP) {
			r = -errno;
			goto out_out;
		}
		break;
	}
	/* No kernel copy between these file systems: plain read and write from where it got. */
	for (;;) {
		char buf[65536];
		ssize_t n = read(in, buf, sizeof(buf)), w = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out_out;
		}
		if (n == 0)
			break;
		while (w < n) {
			ssize_t k = write(out, buf + w, (size_t)(n - w));

			if (k < 0 && errno == EINTR)
				continue;
			if (k < 0) {
				r = -errno;
				goto out_out;
			}
			w += k;
		}
	}
done:
	if (fsync(out) < 0) {
		r = -errno;
		goto out_out;
	}
	if (close(out) < 0) {
		out = -1;
		r = -errno;
		goto out_out;
	}
	out = -1;
	if (rename(tmp, dst) < 0) {
		r = -errno;
		goto out_out;
	}
	close(in);
	return 0;

out_out:
	if (out >= 0)
		close(out);
	unlink(tmp);
out_in:
	close(in);
	return r;
}

/* Delete VM row @vm and its disk. */
static void vm_delete(struct broker_pools *pools, const struct broker_vm *vm)
{
	int r;

	track_drop(pools, vm->id);
	r = broker_store_vm_del(pools->store, vm->id);
	if (r < 0) {
		log_warn("vm=%s not deleted: %s", vm->name, broker_store_errmsg(pools->store));
		return;
	}
	if (vm->disk_path[0] && unlink(vm->disk_path) < 0 && errno != ENOENT)
		log_warn("vm=%s disk %s not removed: %s", vm->name, vm->disk_path, strerror(errno));
	log_debug("vm=%s deleted", vm->name);
}

/* ---- starting VMs ---- */

/* Start VM row @vm of @pool, first copying its disk when it has none yet. */
static int vm_start(struct broker_pools *pools, const struct broker_pool *pool,
                    const struct broker_vm *vm)
{
	int r;

	if (vm->disk_path[0] && access(vm->disk_path, F_OK) < 0) {
		r = broker_copy_file(pool->disk_template, vm->disk_path);
		if (r < 0) {
			log_err("vm=%s disk copy of %s failed: %s", vm->name, pool->disk_template,
			        strerror(-r));
			return r;
		}
	}
	r = pools->ops.start(pools->ops.opaque, pool, vm->id);
	if (r < 0)
		log_err("vm=%s not started: %s", vm->name, strerror(-r));
	return r;
}

/* A new VM row in @pool, started; in *@ret (state as after the start). */
static int vm_create(struct broker_pools *pools, const struct broker_pool *pool, int64_t now,
                     struct broker_vm *ret)
{
	struct broker_vm vm;
	int r = -EEXIST;

	for (unsigned int n = 1; n <= 2 * BROKER_POOL_VMS_MAX && r == -EEXIST; n++) {
		memset(&vm, 0, sizeof(vm));
		vm.pool_id = pool->id;
		vm.state = BROKER_VM_STOPPED;
		vm.created = now;
		vm.last_used = now;
		r = broker_vm_name(pool->name, n, vm.name, sizeof(vm.name));
		if (r < 0)
			return r;
		if (pool->disk_template[0] &&
		    (size_t)snprintf(vm.disk_path, sizeof(vm.disk_path), "%s/%s.img",
		                     pools->disk_dir, vm.name) >= sizeof(vm.disk_path))
			return -ENAMETOOLONG;
		r = broker_store_vm_add(pools->store, &vm);
	}
	if (r < 0)
		return r;
	/* A disk left behind by an earlier VM of this name is not this one's. */
	if (vm.disk_path[0])
		unlink(vm.disk_path);
	r = vm_start(pools, pool, &vm);
	if (r < 0) {
		vm_delete(pools, &vm);
		return r;
	}
	if (broker_store_vm_get(pools->store, vm.id, ret) < 0)
		*ret = vm;
	log_info("vm=%s created in pool %s", vm.name, pool->name);
	return 0;
}

static void backoff(struct broker_pools *pools, int64_t pool_id, int64_t now)
{
	struct pool_state *ps = pool_state(pools, pool_id);
	int64_t wait;

	if (ps->fails < 16)
		ps->fails++;
	wait = (int64_t)1 << ps->fails;
	if (wait > BROKER_POOLS_BACKOFF_MAX)
		wait = BROKER_POOLS_BACKOFF_MAX;
	ps->retry_at = now + wait;
}

/* ---- public ---- */

int broker_pools_new(const struct broker_pools_params *p, struct broker_pools **ret)
{
	struct broker_pools *pools;
	char dir[PATH_MAX];

	if (!p->store || !p->data_dir || !p->ops.start || !p->ops.stop || !p->ops.reset)
		return -EINVAL;
	if (!realpath(p->data_dir, dir))
		return -errno;
	pools = calloc(1, sizeof(*pools));
	if (!pools)
		return -ENOMEM;
	if ((size_t)snprintf(pools->disk_dir, sizeof(pools->disk_dir), "%s/disks", dir) >=
	    sizeof(pools->disk_dir)) {
		free(pools);
		return -ENAMETOOLONG;
	}
	if (mkdir(pools->disk_dir, 0700) < 0 && errno != EEXIST) {
		int r = -errno;

		free(pools);
		return r;
	}
	pools->store = p->store;
	pools->grace = p->disconnect_grace;
	pools->idle_stop = p->persistent_idle_stop;
	pools->ops = p->ops;
	pools->logoff = p->logoff;
	pools->logoff_opaque = p->logoff_opaque;
	*ret = pools;
	return 0;
}

void broker_pools_free(struct broker_pools *pools)
{
	if (!pools)
		return;
	free(pools->tracks);
	free(pools->ps);
	free(pools);
}

static int sup_start(void *opaque, const struct broker_pool *pool, int64_t vm_id)
{
	return broker_supervisor_start(opaque, pool, vm_id);
}

static int sup_stop(void *opaque, int64_t vm_id)
{
	return broker_supervisor_stop(opaque, vm_id);
}

static int sup_reset(void *opaque, int64_t vm_id)
{
	return broker_supervisor_reset(opaque, vm_id);
}

void broker_pools_use_supervisor(struct broker_pools_ops *ops, struct broker_supervisor *sup)
{
	ops->start = sup_start;
	ops->stop = sup_stop;
	ops->reset = sup_reset;
	ops->opaque = sup;
}

void broker_pools_on_supervisor_event(void *pools, const struct broker_sup_event *ev)
{
	broker_pools_vm_event(pools, ev, time(NULL));
}

void broker_pools_client(struct broker_pools *pools, int64_t vm_id, bool connected, int64_t now)
{
	struct track *t = track_get(pools, vm_id, now);

	if (!t)
		return;
	if (connected) {
		t->clients++;
		t->logged_off = false;
	} else if (t->clients > 0 && --t->clients == 0) {
		t->idle_since = now;
	}
}

void broker_pools_vm_event(struct broker_pools *pools, const struct broker_sup_event *ev,
                           int64_t now)
{
	struct broker_vm vm;

	switch (ev->kind) {
	case BROKER_SUP_RUNNING:
		if (broker_store_vm_get(pools->store, ev->vm_id, &vm) == 0) {
			pool_state(pools, vm.pool_id)->fails = 0;
			/* Adopted or restarted: nobody is known to be connected. */
			if (vm.user_id) {
				struct track *t = track_get(pools, vm.id, now);

				if (t && ev->adopted) {
					t->clients = 0;
					t->idle_since = now;
				}
			}
		}
		break;
	case BROKER_SUP_EXITED:
		track_drop(pools, ev->vm_id);
		if (!ev->was_running && ev->crashed &&
		    broker_store_vm_get(pools->store, ev->vm_id, &vm) == 0)
			backoff(pools, vm.pool_id, now);
		/* The row is cleaned up (replaced, kept) by the next tick. */
		break;
	case BROKER_SUP_CLIENT_CONNECTED:
		broker_pools_client(pools, ev->vm_id, true, now);
		break;
	case BROKER_SUP_CLIENT_DISCONNECTED:
		broker_pools_client(pools, ev->vm_id, false, now);
		break;
	case BROKER_SUP_RESET_DONE:
	case BROKER_SUP_RESET_FAILED: /* the supervisor stops it; EXITED follows */
	case BROKER_SUP_GUEST_RESET:
	case BROKER_SUP_GUEST_SHUTDOWN:
		break;
	}
}

/*
 * VM @vm of @pool has no process: a persistent user's is kept (returns
 * false); any other is deleted, its user logged off (returns true).
 */
static bool drop_gone(struct broker_pools *pools, const struct broker_pool *pool,
                      const struct broker_vm *vm)
{
	const char *reason = vm->state == BROKER_VM_FAILED ? "crash" : "stopped";
	char detail[64];

	if (vm->user_id && pool->type == BROKER_POOL_PERSISTENT)
		return false;
	if (vm->user_id) {
		if (pools->logoff)
			pools->logoff(pools->logoff_opaque, vm, vm->user_id, reason);
		snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}", reason);
		audit(pools, "desktop.logoff", vm->user_id, vm->name, detail);
	}
	vm_delete(pools, vm);
	return true;
}

static bool entitled(struct broker_pools *pools, int64_t user_id, int64_t pool_id)
{
	struct broker_pool *list = NULL;
	size_t n = 0;
	bool ok = false;

	if (broker_store_user_pools(pools->store, user_id, &list, &n) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		ok |= list[i].id == pool_id;
	free(list);
	return ok;
}

/* Assign free VM @vm to @user_id unless they already hold max_per_user; 0, -EALREADY, -EDQUOT. */
static int assign(struct broker_pools *pools, const struct broker_pool *pool,
                  const struct broker_vm *vm, int64_t user_id, int64_t now)
{
	size_t held = 0;
	int r;

	r = broker_store_begin(pools->store);
	if (r < 0)
		return r;
	r = broker_store_vm_count_user(pools->store, pool->id, user_id, &held);
	if (r == 0 && held >= pool->max_per_user)
		r = -EDQUOT;
	if (r == 0)
		r = broker_store_vm_assign(pools->store, vm->id, user_id, now);
	if (r < 0) {
		broker_store_rollback(pools->store);
		return r;
	}
	r = broker_store_commit(pools->store);
	if (r < 0)
		return r;
	track_drop(pools, vm->id);
	track_get(pools, vm->id, now);
	return 0;
}

int broker_pools_allocate(struct broker_pools *pools, const struct broker_user *u,
                          const struct broker_pool *pool, int64_t now, struct broker_vm *ret,
                          char *why, size_t why_size)
{
	struct broker_vm *vms = NULL, *pick = NULL, fresh;
	size_t n = 0, held = 0, total = 0;
	bool mine_busy = false;
	int r;

	if (!pool->enabled) {
		say(why, why_size, "pool %s is disabled", pool->name);
		return -EACCES;
	}
	if (!entitled(pools, u->id, pool->id)) {
		say(why, why_size, "%s may not use pool %s", u->name, pool->name);
		return -EACCES;
	}
	r = broker_store_vm_list(pools->store, pool->id, &vms, &n);
	if (r < 0) {
		say(why, why_size, "store: %s", broker_store_errmsg(pools->store));
		return r;
	}
	total = n;

	/* 1. The user's own. */
	for (size_t i = 0; i < n; i++) {
		struct broker_vm *vm = &vms[i];

		if (vm->user_id != u->id)
			continue;
		/* A floating VM whose process is gone is nobody's any more. */
		if (pool->type == BROKER_POOL_FLOATING && vm->pid == 0 &&
		    (vm->state == BROKER_VM_STOPPED || vm->state == BROKER_VM_FAILED)) {
			drop_gone(pools, pool, vm);
			vm->user_id = 0;
			vm->state = BROKER_VM_STOPPING; /* deleted: not a candidate below */
			total--;
			continue;
		}
		held++;
		if (vm->state == BROKER_VM_RUNNING) {
			struct track *t = track_get(pools, vm->id, now);

			if (t) {
				t->logged_off = false;
				if (!t->clients)
					t->idle_since = now; /* the grace restarts */
			}
			*ret = *vm;
			r = 0;
			goto out;
		}
		if (vm->state == BROKER_VM_STARTING) {
			mine_busy = true;
		} else if (pool->type == BROKER_POOL_PERSISTENT && vm->pid == 0 &&
		           (vm->state == BROKER_VM_STOPPED || vm->state == BROKER_VM_FAILED)) {
			r = vm_start(pools, pool, vm);
			if (r < 0) {
				say(why, why_size, "your desktop %s could not be started: %s",
				    vm->name, strerror(-r));
				goto out;
			}
			mine_busy = true;
		}
	}
	if (mine_busy) {
		say(why, why_size, "your desktop in %s is starting", pool->name);
		r = -EAGAIN;
		goto out;
	}
	if (held >= pool->max_per_user) {
		say(why, why_size, "you hold %zu desktops of pool %s (at most %u), none usable now",
		    held, pool->name, pool->max_per_user);
		r = -EDQUOT;
		goto out;
	}

	/* 2. A free running spare, then 3. a free starting one (reserved, -EAGAIN). */
	for (int want = BROKER_VM_RUNNING; want >= BROKER_VM_STARTING && !pick; want--)
		for (size_t i = 0; i < n; i++) {
			if (vms[i].user_id || (int)vms[i].state != want || !vms[i].pid)
				continue;
			r = assign(pools, pool, &vms[i], u->id, now);
			if (r == -EALREADY)
				continue;
			if (r < 0) {
				say(why, why_size, "%s",
				    r == -EDQUOT ? "desktop limit reached" : "store error");
				goto out;
			}
			pick = &vms[i];
			break;
		}
	if (pick && pick->state == BROKER_VM_RUNNING) {
		r = broker_store_vm_get(pools->store, pick->id, ret);
		if (r == 0)
			log_info("vm=%s assigned to %s", ret->name, u->name);
		goto out;
	}
	if (pick) {
		say(why, why_size, "a desktop in %s is starting for you", pool->name);
		r = -EAGAIN;
		goto out;
	}

	/* 4. A new one. */
	if (total >= pool->max_vms) {
		say(why, why_size, "pool %s is full: %zu of %u desktops in use", pool->name, total,
		    pool->max_vms);
		r = -EBUSY;
		goto out;
	}
	r = vm_create(pools, pool, now, &fresh);
	if (r < 0) {
		backoff(pools, pool->id, now);
		say(why, why_size, "no desktop could be started in %s: %s", pool->name,
		    strerror(-r));
		goto out;
	}
	r = assign(pools, pool, &fresh, u->id, now);
	if (r < 0) {
		say(why, why_size, "store error");
		goto out;
	}
	if (fresh.state == BROKER_VM_RUNNING &&
	    broker_store_vm_get(pools->store, fresh.id, ret) == 0) {
		r = 0;
		goto out;
	}
	say(why, why_size, "a desktop in %s is starting for you", pool->name);
	r = -EAGAIN;
out:
	free(vms);
	return r;
}

int broker_pools_release(struct broker_pools *pools, int64_t vm_id, const char *reason, int64_t now)
{
	struct broker_pool pool;
	struct broker_vm vm;
	char detail[96];
	int r;

	r = broker_store_vm_get(pools->store, vm_id, &vm);
	if (r < 0)
		return r;
	if (!vm.user_id)
		return 0;
	r = broker_store_pool_get(pools->store, vm.pool_id, &pool);
	if (r < 0)
		return r;
	if (pools->logoff)
		pools->logoff(pools->logoff_opaque, &vm, vm.user_id, reason);
	snprintf(detail, sizeof(detail), "{\"reason\":\"%s\"}",
	         strspn(reason, "abcdefghijklmnopqrstuvwxyz-_") == strlen(reason) ? reason : "?");
	audit(pools, "desktop.logoff", vm.user_id, vm.name, detail);
	log_info("vm=%s logged off (%s)", vm.name, reason);
	if (pool.type == BROKER_POOL_PERSISTENT) {
		struct track *t = track_get(pools, vm.id, now);

		if (t) {
			t->logged_off = true;
			if (!t->clients)
				t->idle_since = now;
		}
		return 0;
	}
	track_drop(pools, vm.id);
	r = broker_store_vm_release(pools->store, vm.id, now);
	if (r < 0)
		return r;
	/* A disk keeps what the last user did: only a new VM with a fresh copy is clean. */
	if (!pool.disk_template[0] && vm.state == BROKER_VM_RUNNING &&
	    pools->ops.reset(pools->ops.opaque, vm.id) == 0)
		return 0;
	if (vm.pid && pools->ops.stop(pools->ops.opaque, vm.id) < 0)
		log_warn("vm=%s could not be stopped for replacement", vm.name);
	return 0;
}

int broker_pools_reset(struct broker_pools *pools, int64_t user_id, int64_t vm_id)
{
	struct broker_vm vm;
	int r;

	r = broker_store_vm_get(pools->store, vm_id, &vm);
	if (r < 0)
		return r;
	if (vm.user_id != user_id)
		return -EPERM;
	if (vm.state != BROKER_VM_RUNNING)
		return -EBUSY;
	r = pools->ops.reset(pools->ops.opaque, vm_id);
	if (r == 0)
		audit(pools, "desktop.reset", user_id, vm.name, NULL);
	return r;
}

static void do_requests(struct broker_pools *pools, int64_t now)
{
	struct broker_vm_request *rq = NULL;
	size_t n = 0;

	if (broker_store_vm_request_pending(pools->store, &rq, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct broker_vm vm;
		int r = -EINVAL;

		if (strcmp(rq[i].action, "reset") == 0 &&
		    broker_store_vm_get(pools->store, rq[i].vm_id, &vm) == 0) {
			r = vm.state == BROKER_VM_RUNNING
			            ? pools->ops.reset(pools->ops.opaque, vm.id)
			            : -EBUSY;
			if (r == -EBUSY)
				continue; /* starting: try again at the next tick */
		}
		log_info("request %lld %s vm=%lld by %s: %s", (long long)rq[i].id, rq[i].action,
		         (long long)rq[i].vm_id, rq[i].requested_by, r < 0 ? strerror(-r) : "done");
		broker_store_vm_request_done(pools->store, rq[i].id, now);
	}
	free(rq);
}

static void tend_pool(struct broker_pools *pools, const struct broker_pool *pool, int64_t now)
{
	struct broker_vm *vms = NULL;
	size_t n = 0, total = 0, free_active = 0, want;
	struct pool_state *ps;

	if (broker_store_vm_list(pools->store, pool->id, &vms, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		struct broker_vm *vm = &vms[i];
		bool gone = vm->pid == 0 &&
		            (vm->state == BROKER_VM_STOPPED || vm->state == BROKER_VM_FAILED);
		struct track *t;

		if (gone && drop_gone(pools, pool, vm))
			continue;
		if (gone) {
			total++; /* a persistent user's, kept */
			continue;
		}
		total++;
		if (!vm->user_id) {
			if (vm->state == BROKER_VM_RUNNING || vm->state == BROKER_VM_STARTING)
				free_active++;
			continue;
		}
		if (vm->state != BROKER_VM_RUNNING)
			continue;
		/* Assigned and running: the disconnect grace, then the idle stop. */
		t = track_get(pools, vm->id, now);
		if (!t || t->clients)
			continue;
		if (!t->logged_off && now - t->idle_since >= (int64_t)pools->grace) {
			broker_pools_release(pools, vm->id, "disconnect", now);
			if (pool->type == BROKER_POOL_FLOATING)
				free_active++; /* being reset, or replaced */
		} else if (t->logged_off && pool->type == BROKER_POOL_PERSISTENT &&
		           pools->idle_stop &&
		           now - t->idle_since >= (int64_t)pools->grace + pools->idle_stop) {
			log_info("vm=%s idle: stopping it (kept for its user)", vm->name);
			pools->ops.stop(pools->ops.opaque, vm->id);
		}
	}
	free(vms);

	if (!pool->enabled)
		return;
	ps = pool_state(pools, pool->id);
	if (now < ps->retry_at)
		return;
	want = pool->spares > free_active ? pool->spares - free_active : 0;
	if (pool->size > total && pool->size - total > want)
		want = pool->size - total;
	while (want-- && total < pool->max_vms) {
		struct broker_vm vm;
		int r = vm_create(pools, pool, now, &vm);

		if (r < 0) {
			backoff(pools, pool->id, now);
			log_warn("pool %s: cannot start a VM: %s (next try in %llds)", pool->name,
			         strerror(-r), (long long)(ps->retry_at - now));
			break;
		}
		total++;
	}
}

void broker_pools_tick(struct broker_pools *pools, int64_t now)
{
	struct broker_pool *list = NULL;
	size_t n = 0;

	do_requests(pools, now);
	if (broker_store_pool_list(pools->store, &list, &n) < 0) {
		log_warn("pools: %s", broker_store_errmsg(pools->store));
		return;
	}
	for (size_t i = 0; i < n; i++)
		tend_pool(pools, &list[i], now);
	free(list);
}
