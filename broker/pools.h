/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pools of desktops: keeping each pool provisioned, handing desktops out,
 * taking them back.
 *
 * Provisioning (broker_pools_tick): each enabled pool keeps `spares`
 * unassigned VMs running or starting and at least `size` VMs in all,
 * never more than `max_vms`. A pool whose VMs fail to come up backs off
 * (2, 4, ... up to 60 s between attempts) instead of looping.
 *
 * Allocation (broker_pools_allocate): the user's VM in that pool if they
 * have one (persistent pools: always the same VM, with its private copy
 * of the disk template); else a free running spare, assigned atomically
 * (broker_store_vm_assign); else a starting spare, or a new VM when the
 * pool is under max_vms, reserved for the user (-EAGAIN: ask again); else
 * -EBUSY. A VM is handed out only when its row says running, which the
 * supervisor writes only when its vmm answers: a VM whose process died or
 * lost its control socket is never given to anyone.
 *
 * Disks: a pool with a disk_template gives each VM its own copy,
 * DATA/disks/NAME.img, made when the VM is created (reflink when the file
 * system can, else copy_file_range). In a persistent pool that copy
 * becomes the user's when the VM is assigned, and is kept across sessions
 * and restarts; in a floating pool it is thrown away with the VM.
 *
 * Taking back (broker_pools_release, the disconnect grace): a floating VM
 * is freed and its guest reset (control "reset"; the guest reboots to a
 * clean state) and becomes a spare again; when it has a disk, or the reset
 * fails, it is stopped and replaced by a new one with a fresh copy. A
 * persistent VM stays assigned to its user; once nobody has been connected
 * for disconnect_grace + persistent_idle_stop seconds it is stopped, and
 * started again at the next allocation.
 *
 * Disconnect grace: an assigned VM with no console client (the vmm's
 * client-connected and client-disconnected events) for disconnect_grace
 * seconds is logged off (released with reason "disconnect"). The clock
 * starts when the VM is assigned, so a desktop handed out but never
 * connected to is not held forever; after a broker restart it starts
 * again.
 *
 * Crashes: a floating VM that exits unasked is deleted and replaced by
 * the next tick (its user, if any, is logged off with reason "crash"); a
 * persistent one stays assigned, stopped, and is restarted at the next
 * allocation.
 *
 * The actions on processes go through struct broker_pools_ops, which the
 * supervisor implements (broker_pools_use_supervisor) and tests fake.
 * Times are unix seconds. Single-threaded, like the supervisor.
 */
#ifndef VDI_BROKER_POOLS_H
#define VDI_BROKER_POOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/store.h"
#include "broker/supervisor.h"

/* Longest wait between attempts to start VMs of a pool that keeps failing. */
#define BROKER_POOLS_BACKOFF_MAX 60

struct broker_pools_ops {
	/* Start the process of VM row @vm_id (stopped, no pid) of @pool. 0 or -errno. */
	int (*start)(void *opaque, const struct broker_pool *pool, int64_t vm_id);
	/* Stop it (asynchronously: the row goes stopped and vm_event EXITED follows). */
	int (*stop)(void *opaque, int64_t vm_id);
	/* Reboot its guest; RESET_DONE or RESET_FAILED follows. -EBUSY when not running. */
	int (*reset)(void *opaque, int64_t vm_id);
	void *opaque;
};

/*
 * @user_id's desktop on @vm was logged off for @reason ("logout",
 * "disconnect", "crash", ...), so the caller can close its desktop session
 * records.
 */
typedef void (*broker_pools_logoff_fn)(void *opaque, const struct broker_vm *vm, int64_t user_id,
                                       const char *reason);

struct broker_pools_params {
	struct broker_store *store;        /* not owned */
	const char *data_dir;              /* disks/ is made below it */
	unsigned int disconnect_grace;     /* seconds ([session] disconnect_grace) */
	unsigned int persistent_idle_stop; /* seconds after the grace; 0: never stop */
	struct broker_pools_ops ops;
	broker_pools_logoff_fn logoff; /* may be NULL */
	void *logoff_opaque;
};

struct broker_pools;

/* 0, -ENOENT (no data_dir), -EINVAL, -ENOMEM. */
int broker_pools_new(const struct broker_pools_params *p, struct broker_pools **ret);

/* NULL is a no-op. VMs are left as they are. */
void broker_pools_free(struct broker_pools *pools);

/* Set @ops to act through the supervisor @sup. */
void broker_pools_use_supervisor(struct broker_pools_ops *ops, struct broker_supervisor *sup);

/*
 * A broker_sup_event_fn: pass it with the pools as opaque to
 * broker_supervisor_set_event(). Calls broker_pools_vm_event() at the
 * current time.
 */
void broker_pools_on_supervisor_event(void *pools, const struct broker_sup_event *ev);

/* What the supervisor saw happen to a VM, at @now. */
void broker_pools_vm_event(struct broker_pools *pools, const struct broker_sup_event *ev,
                           int64_t now);

/*
 * A desktop in @pool for user @u at @now (see above). Returns 0 with the
 * VM (running, assigned to @u, display ports known) in *@ret; or, with a
 * one-line reason in @why (may be NULL):
 *   -EAGAIN  a VM is starting for the user: ask again in a moment;
 *   -EACCES  the user is not entitled to the pool, or it is disabled;
 *   -EBUSY   the pool is at max_vms with nothing free;
 *   -EDQUOT  the user holds max_per_user VMs of the pool, none usable
 *            (being stopped);
 *   other -errno from the store or from starting a VM.
 */
int broker_pools_allocate(struct broker_pools *pools, const struct broker_user *u,
                          const struct broker_pool *pool, int64_t now, struct broker_vm *ret,
                          char *why, size_t why_size);

/*
 * Log the desktop on VM @vm_id off (logout, the disconnect grace, an
 * admin), for @reason: floating VMs are freed and reset (or replaced);
 * persistent ones stay with their user. 0 (also when it was free), -ENOENT.
 */
int broker_pools_release(struct broker_pools *pools, int64_t vm_id, const char *reason,
                         int64_t now);

/*
 * User @user_id reboots their own desktop @vm_id: 0, -EPERM when it is
 * not theirs, -ENOENT, -EBUSY when it is not running.
 */
int broker_pools_reset(struct broker_pools *pools, int64_t user_id, int64_t vm_id);

/*
 * A console client connected to or disconnected from VM @vm_id at @now
 * (done by broker_pools_vm_event for the vmm's client-connected and
 * client-disconnected events, which also cover the web gateway's tunnels,
 * since those are VNC clients of the vmm; call it only for clients the
 * vmm does not see). The grace period starts when the last one leaves.
 */
void broker_pools_client(struct broker_pools *pools, int64_t vm_id, bool connected, int64_t now);

/*
 * Periodic work at @now: pending `vdi-broker vm reset` requests, cleaning
 * up VMs whose process is gone, disconnect grace and idle stops, spares.
 * Call about every 250 ms (one second is precise enough).
 */
void broker_pools_tick(struct broker_pools *pools, int64_t now);

/*
 * Copy @src to a new file @dst (mode 0600) through a temporary name:
 * reflink where the file system can, else copy_file_range, else
 * read/write. 0 or -errno; nothing is left at @dst on failure.
 */
int broker_copy_file(const char *src, const char *dst);

#endif
