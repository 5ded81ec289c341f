/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * VMM supervision: the broker's vdi-vmm processes, one per VM row of the
 * store.
 *
 * Starting a VM forks and execs
 *
 *   vdi-vmm --name N --memory M --cpus C --kernel K [--initrd I]
 *           [--cmdline "name=N ..."] [--disk D] --resolution WxH
 *           --control DATA/run/N.sock --serial file:DATA/log/N.serial
 *           --vnc 127.0.0.1:0 --spice 127.0.0.1:0
 *
 * in a session (and process group) of its own, so that a terminal hangup
 * or a signal to the broker's group does not reach it, with stdout and
 * stderr appended to DATA/log/N.log. The supervisor connects to the control
 * socket, checks with query-status that the process listening there is the
 * one it started (SO_PEERCRED) under the expected name, and learns the
 * display ports with query-displays; only then is the VM "running". The
 * guest is not consulted: a VM whose vmm answers is running.
 *
 * Store states it writes: starting (process started, or being adopted or
 * reset), running, stopping (asked to stop, or its control connection was
 * lost and the process has not gone yet: never handed out), stopped (the
 * process exited cleanly: quit, guest power-off) and failed (crashed,
 * killed, did not come up in time). pid, control_path and the display
 * addresses are written with them; a VM without a process has pid 0.
 *
 * A running VMM is asked query-status every BROKER_SUP_PING_MS; one that
 * does not answer within BROKER_VMMCTL_TIMEOUT_MS is hung: it is marked
 * stopping (so it is not handed out), killed, and reported as crashed.
 *
 * Exits are seen through a pidfd per process (readable when it exits;
 * works for adopted processes that are not our children) and the control
 * socket's EOF; children are reaped with waitpid(pid), never waitpid(-1).
 * A crash is logged at warn and audited as "vm.crash". What happens next
 * (replace, restart) is the pools' policy (broker/pools.h), told through
 * the event callback.
 *
 * On start (broker_supervisor_new) every VM row with a pid and a control
 * socket is adopted if that process is alive and answers query-status
 * with the VM's name from the stored pid: same process, no restart. A VM
 * that does not is cleaned up: killed when it is alive and really our vmm
 * (its command line names its control socket), then marked stopped.
 * broker_supervisor_free() leaves the VMMs running for the next broker to
 * adopt; broker_supervisor_stop_all() is what stops them.
 *
 * Event loop: the supervisor has one epoll fd (broker_supervisor_fd) to
 * poll for POLLIN, then call broker_supervisor_dispatch(); and
 * broker_supervisor_tick() about every 250 ms (connects to starting VMs,
 * deadlines, timeouts). No threads; one thread uses it. The event callback
 * runs only at the end of dispatch() and tick(), when the supervisor is
 * consistent, and may call any supervisor function but _free().
 */
#ifndef VDI_BROKER_SUPERVISOR_H
#define VDI_BROKER_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "broker/store.h"

#define BROKER_VMM_NAME_MAX 32 /* what vdi-vmm accepts as --name */
/* Default deadlines, milliseconds. */
#define BROKER_SUP_START_TIMEOUT_MS 20000 /* started to running */
#define BROKER_SUP_ADOPT_TIMEOUT_MS 5000  /* an adopted VMM must answer within */
#define BROKER_SUP_STOP_TIMEOUT_MS 5000   /* quit, then SIGTERM, then as long again SIGKILL */
#define BROKER_SUP_LOST_GRACE_MS 3000     /* control socket gone, process still there: kill */
#define BROKER_SUP_PING_MS 10000          /* query-status to each running VMM this often */

enum broker_sup_event_kind {
	BROKER_SUP_RUNNING,        /* started or adopted, display ports known */
	BROKER_SUP_EXITED,         /* the process is gone; row stopped or failed, pid 0 */
	BROKER_SUP_RESET_DONE,     /* broker_supervisor_reset() done: running again */
	BROKER_SUP_RESET_FAILED,   /* it failed: the VM is being stopped */
	BROKER_SUP_GUEST_RESET,    /* the guest rebooted (vmm event guest-reset) */
	BROKER_SUP_GUEST_SHUTDOWN, /* the guest powered off; EXITED follows */
	BROKER_SUP_CLIENT_CONNECTED,
	BROKER_SUP_CLIENT_DISCONNECTED,
};

/* "running", "exited", ... for logs. */
const char *broker_sup_event_name(enum broker_sup_event_kind kind);

struct broker_sup_event {
	enum broker_sup_event_kind kind;
	int64_t vm_id;
	const char *vm_name;
	bool adopted;         /* RUNNING: an already running VMM was taken over */
	bool crashed;         /* EXITED: not asked for and not a guest power-off */
	bool was_running;     /* EXITED: it had reached running */
	int status;           /* EXITED: wait status, or -1 when unknown (not our child) */
	const char *protocol; /* CLIENT_*: "vnc", "spice" */
	const char *reason;   /* GUEST_RESET, GUEST_SHUTDOWN: the vmm's reason */
};

typedef void (*broker_sup_event_fn)(void *opaque, const struct broker_sup_event *ev);

struct broker_supervisor_params {
	struct broker_store *store;    /* not owned; outlives the supervisor */
	const char *vmm_binary;        /* [vmm] binary */
	const char *vmm_guest;         /* [vmm] guest: pools without a kernel */
	const char *data_dir;          /* run/, log/ go below; made absolute */
	unsigned int start_timeout_ms; /* 0: BROKER_SUP_START_TIMEOUT_MS */
	unsigned int stop_timeout_ms;  /* 0: BROKER_SUP_STOP_TIMEOUT_MS */
	unsigned int ping_interval_ms; /* 0: BROKER_SUP_PING_MS */
	broker_sup_event_fn event;     /* may be NULL */
	void *opaque;
};

struct broker_supervisor;

/*
 * Create the supervisor and start adopting or cleaning up the VMs the
 * store has processes for (see above; done over the next ticks). Returns
 * 0, -ENOENT when data_dir does not exist, -EINVAL, -ENOMEM or store
 * errors.
 */
int broker_supervisor_new(const struct broker_supervisor_params *p, struct broker_supervisor **ret);

/*
 * Close every connection and forget the VMs without stopping them (the
 * next supervisor adopts them). NULL is a no-op.
 */
void broker_supervisor_free(struct broker_supervisor *sup);

/* Change the event callback (for wiring it to the pools after both exist). */
void broker_supervisor_set_event(struct broker_supervisor *sup, broker_sup_event_fn fn,
                                 void *opaque);

/* The fd to poll for POLLIN. */
int broker_supervisor_fd(const struct broker_supervisor *sup);

/* Handle what is ready on the fd (never blocks). */
void broker_supervisor_dispatch(struct broker_supervisor *sup);

/* Periodic work; @now_ms from broker_monotonic_ms() (broker/vmmctl.h). */
void broker_supervisor_tick(struct broker_supervisor *sup, int64_t now_ms);

/*
 * Start a vdi-vmm for VM row @vm_id (stopped or failed, no pid) of @pool,
 * with its disk_path as --disk when set. On return the row is "starting"
 * with the pid; RUNNING or EXITED follows. Returns 0, -EALREADY when it
 * has a process, -EINVAL for a name vdi-vmm refuses, -ENAMETOOLONG when
 * the control socket path is too long, -ENOENT, or the errno of fork or
 * of the log file.
 */
int broker_supervisor_start(struct broker_supervisor *sup, const struct broker_pool *pool,
                            int64_t vm_id);

/*
 * Stop VM @vm_id: quit over the control socket, SIGTERM after
 * stop_timeout_ms, SIGKILL after as long again. The row is "stopping"
 * until EXITED (crashed false). 0, or -ENOENT when it has no process.
 */
int broker_supervisor_stop(struct broker_supervisor *sup, int64_t vm_id);

/*
 * Reboot VM @vm_id's guest (control "reset"): the row is "starting" until
 * the vmm answers, then "running" again with RESET_DONE; if the vmm
 * refuses or does not answer, RESET_FAILED and the VM is stopped.
 * 0, -ENOENT (no such VM process), -EBUSY (not running).
 */
int broker_supervisor_reset(struct broker_supervisor *sup, int64_t vm_id);

/*
 * Set a one-time console secret on VM @vm_id's display server, waiting up
 * to @timeout_ms for the vmm's answer (the only blocking call: the client
 * must not connect before the vmm has the secret). @protocol "vnc" or
 * "spice"; @expires_in seconds. 0; -ENOENT, -EBUSY (not running),
 * -ETIMEDOUT, -EREMOTEIO (the vmm refused: bad protocol or secret),
 * -ECONNRESET.
 */
int broker_supervisor_set_ticket(struct broker_supervisor *sup, int64_t vm_id, const char *protocol,
                                 const char *secret, unsigned int expires_in, bool disconnect,
                                 int timeout_ms);

/* True when VM @vm_id has a process that answers and its ports are known. */
bool broker_supervisor_vm_running(const struct broker_supervisor *sup, int64_t vm_id);

/* The pid of VM @vm_id's process, or 0. */
pid_t broker_supervisor_vm_pid(const struct broker_supervisor *sup, int64_t vm_id);

/* How many VM processes the supervisor tracks. */
size_t broker_supervisor_count(const struct broker_supervisor *sup);

/*
 * Stop every VMM and wait (running dispatch and tick) up to @timeout_ms
 * for them to exit; what remains is killed. For shutting the whole
 * service down, and tests. Returns how many had to be killed.
 */
int broker_supervisor_stop_all(struct broker_supervisor *sup, int timeout_ms);

/*
 * The vdi-vmm name of the @n-th VM of pool @pool: "<pool>-<n>", the pool
 * name cut so that the whole is at most BROKER_VMM_NAME_MAX characters
 * (and never ends in '-' or '.' before the suffix's '-'). Returns 0, or
 * -EINVAL when @pool is not a valid name or @size is too small.
 */
int broker_vm_name(const char *pool, unsigned int n, char *buf, size_t size);

#endif
