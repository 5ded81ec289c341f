// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/supervisor.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/vmmctl.h"
#include "proto/log.h"

enum phase {
	PH_CONNECT,   /* waiting for the control socket */
	PH_STATUS,    /* query-status sent */
	PH_DISPLAYS,  /* query-displays sent */
	PH_RUNNING,   /* answering, ports known */
	PH_RESETTING, /* reset sent */
	PH_STOPPING,  /* asked to stop, or being killed */
	PH_LOST,      /* control connection gone, process still there */
};

enum {
	W_CTL,
	W_PID
};

struct svm;

struct watch {
	struct svm *vm;
	int kind;
};

struct svm {
	struct broker_supervisor *sup;
	int64_t id;
	char name[BROKER_NAME_MAX + 1];
	char control_path[BROKER_PATH_MAX + 1];
	pid_t pid;
	int pidfd;
	bool child;    /* forked by us, not reaped yet: safe to signal */
	bool adopted;  /* found running at start */
	bool verified; /* it listens on its control socket (SO_PEERCRED) */
	enum phase phase;
	int stop_stage; /* PH_STOPPING: 0 quit sent, 1 SIGTERM sent, 2 SIGKILL sent */
	int64_t deadline_ms;
	int64_t next_ping_ms;
	bool ping_pending;
	struct broker_vmmctl *ctl;
	uint32_t armed; /* epoll events registered for ctl */
	struct watch w_ctl, w_pid;
	bool stop_requested;
	bool failing;       /* being killed because it misbehaved */
	bool want_stop;     /* set in a callback, acted on in step() */
	bool shutdown_seen; /* guest-shutdown event */
	bool was_running;
	bool exited;
	int status;
	bool removed;
	unsigned int boots;
	struct broker_vmm_display vnc, spice;
};

struct qev {
	struct broker_sup_event ev;
	char name[BROKER_NAME_MAX + 1];
	char protocol[16];
	char reason[64];
};

struct broker_supervisor {
	struct broker_store *store;
	char vmm_binary[BROKER_PATH_MAX + 1];
	char vmm_guest[BROKER_PATH_MAX + 1];
	char data_dir[PATH_MAX];
	unsigned int start_timeout_ms, stop_timeout_ms, ping_interval_ms;
	broker_sup_event_fn event;
	void *opaque;
	int epfd;
	struct svm **vms;
	size_t nr_vms, cap_vms;
	struct qev *q;
	size_t nr_q, cap_q;
	bool flushing;
};

const char *broker_sup_event_name(enum broker_sup_event_kind kind)
{
	static const char *const names[] = {
		[BROKER_SUP_RUNNING] = "running",
		[BROKER_SUP_EXITED] = "exited",
		[BROKER_SUP_RESET_DONE] = "reset-done",
		[BROKER_SUP_RESET_FAILED] = "reset-failed",
		[BROKER_SUP_GUEST_RESET] = "guest-reset",
		[BROKER_SUP_GUEST_SHUTDOWN] = "guest-shutdown",
		[BROKER_SUP_CLIENT_CONNECTED] = "client-connected",
		[BROKER_SUP_CLIENT_DISCONNECTED] = "client-disconnected",
	};

	return (unsigned int)kind < sizeof(names) / sizeof(names[0]) ? names[kind] : "?";
}

int broker_vm_name(const char *pool, unsigned int n, char *buf, size_t size)
{
	char suffix[16];
	size_t keep;

	if (!broker_name_valid(pool) || size < BROKER_VMM_NAME_MAX + 1)
		return -EINVAL;
	snprintf(suffix, sizeof(suffix), "-%u", n);
	keep = strlen(pool);
	if (keep > BROKER_VMM_NAME_MAX - strlen(suffix))
		keep = BROKER_VMM_NAME_MAX - strlen(suffix);
	while (keep && (pool[keep - 1] == '-' || pool[keep - 1] == '.'))
		keep--;
	if (!keep)
		snprintf(buf, size, "vm%s", suffix);
	else
		snprintf(buf, size, "%.*s%s", (int)keep, pool, suffix);
	return 0;
}

/* ---- small helpers ---- */

static struct svm *find(const struct broker_supervisor *sup, int64_t id)
{
	for (size_t i = 0; i < sup->nr_vms; i++)
		if (sup->vms[i]->id == id && !sup->vms[i]->removed)
			return sup->vms[i];
	return NULL;
}

static struct qev *queue(struct broker_supervisor *sup, struct svm *v,
                         enum broker_sup_event_kind kind, const char *protocol, const char *reason)
{
	struct qev *e;

	if (sup->nr_q == sup->cap_q) {
		size_t cap = sup->cap_q ? sup->cap_q * 2 : 16;
		struct qev *q = realloc(sup->q, cap * sizeof(*q));

		if (!q) {
			log_err("vm=%s event %s lost: out of memory", v->name,
			        broker_sup_event_name(kind));
			return NULL;
		}
		sup->q = q;
		sup->cap_q = cap;
	}
	e = &sup->q[sup->nr_q++];
	memset(e, 0, sizeof(*e));
	e->ev.kind = kind;
	e->ev.vm_id = v->id;
	e->ev.adopted = v->adopted;
	e->ev.was_running = v->was_running;
	e->ev.status = v->status;
	snprintf(e->name, sizeof(e->name), "%s", v->name);
	snprintf(e->protocol, sizeof(e->protocol), "%s", protocol ? protocol : "");
	snprintf(e->reason, sizeof(e->reason), "%s", reason ? reason : "");
	return e;
}

/* Deliver queued events; events queued by the callbacks are delivered too. */
static void flush_events(struct broker_supervisor *sup)
{
	if (sup->flushing)
		return;
	sup->flushing = true;
	for (size_t i = 0; i < sup->nr_q; i++) {
		struct qev e = sup->q[i];

		e.ev.vm_name = e.name;
		e.ev.protocol = e.protocol;
		e.ev.reason = e.reason;
		if (sup->event)
			sup->event(sup->opaque, &e.ev);
	}
	sup->nr_q = 0;
	sup->flushing = false;
}

static void audit(struct broker_supervisor *sup, const char *event, int64_t vm_id,
                  const char *vm_name, const char *detail)
{
	struct broker_audit a = { .time = time(NULL) };
	struct broker_vm row;
	struct broker_user u;

	snprintf(a.event, sizeof(a.event), "%s", event);
	snprintf(a.vm, sizeof(a.vm), "%s", vm_name);
	snprintf(a.source, sizeof(a.source), "broker");
	snprintf(a.detail, sizeof(a.detail), "%s", detail ? detail : "");
	if (broker_store_vm_get(sup->store, vm_id, &row) == 0 && row.user_id &&
	    broker_store_user_get(sup->store, row.user_id, &u) == 0)
		snprintf(a.user, sizeof(a.user), "%s", u.name);
	if (broker_store_audit_add(sup->store, &a) < 0)
		log_warn("vm=%s audit %s not recorded: %s", vm_name, event,
		         broker_store_errmsg(sup->store));
}

/* Write what the supervisor knows of @v to its row, with state @st. */
static void row_set(struct broker_supervisor *sup, struct svm *v, enum broker_vm_state st)
{
	struct broker_vm row;
	bool gone = st == BROKER_VM_STOPPED || st == BROKER_VM_FAILED;
	int r;

	r = broker_store_vm_get(sup->store, v->id, &row);
	if (r < 0) {
		log_warn("vm=%s not in the store: %s", v->name, strerror(-r));
		return;
	}
	row.state = st;
	row.pid = gone ? 0 : v->pid;
	snprintf(row.control_path, sizeof(row.control_path), "%s", gone ? "" : v->control_path);
	if (gone) {
		memset(&v->vnc, 0, sizeof(v->vnc));
		memset(&v->spice, 0, sizeof(v->spice));
	}
	snprintf(row.vnc_host, sizeof(row.vnc_host), "%s", v->vnc.host);
	row.vnc_port = v->vnc.port;
	snprintf(row.spice_host, sizeof(row.spice_host), "%s", v->spice.host);
	row.spice_port = v->spice.port;
	if (v->boots)
		row.boots = v->boots;
	r = broker_store_vm_update(sup->store, &row);
	if (r < 0)
		log_warn("vm=%s state %s not recorded: %s", v->name, broker_vm_state_name(st),
		         broker_store_errmsg(sup->store));
}

/* True when /proc says @pid runs with "--control @path" on its command line. */
static bool proc_is_our_vmm(pid_t pid, const char *path)
{
	char file[64], *buf;
	bool found = false;
	ssize_t n;
	int fd;

	snprintf(file, sizeof(file), "/proc/%d/cmdline", (int)pid);
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	buf = malloc(65536);
	if (!buf) {
		close(fd);
		return false;
	}
	n = read(fd, buf, 65535);
	close(fd);
	if (n > 0) {
		buf[n] = 0;
		for (char *a = buf; a < buf + n; a += strlen(a) + 1)
			if (strcmp(a, "--control") == 0 && a + strlen(a) + 1 < buf + n &&
			    strcmp(a + strlen(a) + 1, path) == 0)
				found = true;
	}
	free(buf);
	return found;
}

static void sig(struct svm *v, int signo)
{
	int r = -1;

	if (v->exited)
		return;
	/* Adopted and not answering yet: only a process that is provably our vmm. */
	if (!v->child && !v->verified && v->pid > 0 && proc_is_our_vmm(v->pid, v->control_path))
		v->verified = true;
	if (v->pidfd >= 0 && (v->child || v->verified))
		r = pidfd_send_signal(v->pidfd, signo, NULL, 0);
	else if (v->child)
		r = kill(v->pid, signo);
	if (r < 0 && errno != ESRCH)
		log_warn("vm=%s pid=%d signal %d: %s", v->name, (int)v->pid, signo,
		         strerror(errno));
}

/* Keep the epoll registration of @v's control socket in line with what it waits for. */
static void arm(struct broker_supervisor *sup, struct svm *v)
{
	struct epoll_event ev = { .data.ptr = &v->w_ctl };
	short want;

	if (!v->ctl)
		return;
	want = broker_vmmctl_poll_events(v->ctl);
	ev.events = EPOLLIN | ((want & POLLOUT) ? EPOLLOUT : 0);
	if (ev.events == v->armed)
		return;
	if (epoll_ctl(sup->epfd, v->armed ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, broker_vmmctl_fd(v->ctl),
	              &ev) < 0) {
		log_warn("vm=%s epoll: %s", v->name, strerror(errno));
		return;
	}
	v->armed = ev.events;
}

static void drop_ctl(struct broker_supervisor *sup, struct svm *v)
{
	if (!v->ctl)
		return;
	if (v->armed)
		epoll_ctl(sup->epfd, EPOLL_CTL_DEL, broker_vmmctl_fd(v->ctl), NULL);
	v->armed = 0;
	broker_vmmctl_free(v->ctl);
	v->ctl = NULL;
}

static struct svm *svm_new(struct broker_supervisor *sup, const struct broker_vm *row)
{
	struct svm *v;

	if (sup->nr_vms == sup->cap_vms) {
		size_t cap = sup->cap_vms ? sup->cap_vms * 2 : 16;
		struct svm **a = realloc(sup->vms, cap * sizeof(*a));

		if (!a)
			return NULL;
		sup->vms = a;
		sup->cap_vms = cap;
	}
	v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->sup = sup;
	v->id = row->id;
	snprintf(v->name, sizeof(v->name), "%s", row->name);
	v->pidfd = -1;
	v->status = -1;
	v->w_ctl = (struct watch){ v, W_CTL };
	v->w_pid = (struct watch){ v, W_PID };
	sup->vms[sup->nr_vms++] = v;
	return v;
}

static void watch_pidfd(struct broker_supervisor *sup, struct svm *v)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &v->w_pid };

	v->pidfd = pidfd_open(v->pid, 0);
	if (v->pidfd < 0) {
		if (errno == ESRCH)
			v->exited = true;
		else
			log_warn("vm=%s pidfd_open: %s (exits seen at the next tick)", v->name,
			         strerror(errno));
		return;
	}
	fcntl(v->pidfd, F_SETFD, FD_CLOEXEC);
	if (epoll_ctl(sup->epfd, EPOLL_CTL_ADD, v->pidfd, &ev) < 0)
		log_warn("vm=%s epoll pidfd: %s", v->name, strerror(errno));
}

static void svm_free(struct broker_supervisor *sup, struct svm *v)
{
	drop_ctl(sup, v);
	if (v->pidfd >= 0) {
		epoll_ctl(sup->epfd, EPOLL_CTL_DEL, v->pidfd, NULL);
		close(v->pidfd);
	}
	free(v);
}

/* Free the VMs that are done; never while a callback of theirs may run. */
static void reap(struct broker_supervisor *sup)
{
	size_t j = 0;

	for (size_t i = 0; i < sup->nr_vms; i++) {
		if (sup->vms[i]->removed)
			svm_free(sup, sup->vms[i]);
		else
			sup->vms[j++] = sup->vms[i];
	}
	sup->nr_vms = j;
}

/* Has @v's process exited? Reaps it when it is our child. */
static bool check_exit(struct svm *v)
{
	struct pollfd pfd;
	int st;
	pid_t r;

	if (v->exited)
		return true;
	r = waitpid(v->pid, &st, WNOHANG);
	if (r == v->pid) {
		v->status = st;
		v->child = false;
		return true;
	}
	if (r == 0) {
		v->child = true; /* ours after all (adopted by the same process) */
		return false;
	}
	v->child = false;
	if (v->pidfd >= 0) {
		pfd = (struct pollfd){ .fd = v->pidfd, .events = POLLIN };
		return poll(&pfd, 1, 0) == 1;
	}
	return kill(v->pid, 0) < 0 && errno == ESRCH;
}

/* The process is gone: record it, tell the pools, forget it. */
static void finish(struct broker_supervisor *sup, struct svm *v)
{
	bool crashed;
	char detail[160];
	struct qev *e;

	if (v->failing)
		crashed = true;
	else if (v->stop_requested)
		crashed = false;
	else if (v->status != -1)
		crashed = !(WIFEXITED(v->status) && WEXITSTATUS(v->status) == 0);
	else
		crashed = !v->shutdown_seen;
	drop_ctl(sup, v);
	row_set(sup, v, crashed ? BROKER_VM_FAILED : BROKER_VM_STOPPED);
	if (v->status == -1)
		snprintf(detail, sizeof(detail), "{\"pid\":%d,\"was_running\":%s}", (int)v->pid,
		         v->was_running ? "true" : "false");
	else if (WIFSIGNALED(v->status))
		snprintf(detail, sizeof(detail), "{\"pid\":%d,\"signal\":%d,\"was_running\":%s}",
		         (int)v->pid, WTERMSIG(v->status), v->was_running ? "true" : "false");
	else
		snprintf(detail, sizeof(detail), "{\"pid\":%d,\"exit\":%d,\"was_running\":%s}",
		         (int)v->pid, WEXITSTATUS(v->status), v->was_running ? "true" : "false");
	if (crashed) {
		log_warn("vm=%s pid=%d crashed or failed %s", v->name, (int)v->pid, detail);
		audit(sup, "vm.crash", v->id, v->name, detail);
	} else {
		log_info("vm=%s pid=%d stopped", v->name, (int)v->pid);
	}
	e = queue(sup, v, BROKER_SUP_EXITED, NULL, NULL);
	if (e)
		e->ev.crashed = crashed;
	v->removed = true;
}

static void begin_kill(struct broker_supervisor *sup, struct svm *v, int64_t now, const char *why)
{
	log_warn("vm=%s pid=%d %s: stopping it", v->name, (int)v->pid, why);
	v->failing = true;
	drop_ctl(sup, v);
	if (!v->child && !v->verified) {
		if (v->pid > 0 && proc_is_our_vmm(v->pid, v->control_path)) {
			v->verified = true;
		} else {
			/* Not provably ours (the pid may be someone else's now): forget it. */
			v->exited = true;
			return;
		}
	}
	v->phase = PH_STOPPING;
	v->stop_stage = 1;
	v->deadline_ms = now + sup->stop_timeout_ms;
	row_set(sup, v, BROKER_VM_STOPPING);
	sig(v, SIGTERM);
}

static void cb_ignore(void *opaque, int err, const struct proto_ctl_msg *msg)
{
}

static void begin_stop(struct broker_supervisor *sup, struct svm *v, int64_t now)
{
	v->stop_requested = true;
	if (v->phase == PH_STOPPING)
		return;
	v->phase = PH_STOPPING;
	v->deadline_ms = now + sup->stop_timeout_ms;
	row_set(sup, v, BROKER_VM_STOPPING);
	if (v->ctl && broker_vmmctl_quit(v->ctl, cb_ignore, NULL, NULL) == 0) {
		v->stop_stage = 0;
		arm(sup, v);
	} else if (!v->child && !v->verified &&
	           !(v->pid > 0 && proc_is_our_vmm(v->pid, v->control_path))) {
		/* Nothing of ours to stop: the pid is someone else's now. */
		v->exited = true;
	} else {
		v->stop_stage = 1;
		sig(v, SIGTERM);
	}
}

/* ---- control socket callbacks (they only change fields and send requests) ---- */

static void cb_displays(void *opaque, int err, const struct proto_ctl_msg *msg)
{
	struct svm *v = opaque;
	struct broker_supervisor *sup;

	if (err == -ECANCELED || err == -ECONNRESET || v->phase != PH_DISPLAYS)
		return;
	if (err < 0 || broker_vmm_parse_displays(msg->body, &v->vnc, &v->spice) < 0 ||
	    (!v->vnc.port && !v->spice.port)) {
		log_warn("vm=%s query-displays: %s", v->name,
		         err == -EREMOTEIO ? msg->err_desc
		         : err < 0         ? strerror(-err)
		                           : "no display server port");
		v->want_stop = true;
		v->failing = true;
		return;
	}
	sup = v->sup;
	v->phase = PH_RUNNING;
	v->was_running = true;
	v->next_ping_ms = broker_monotonic_ms() + sup->ping_interval_ms;
	row_set(sup, v, BROKER_VM_RUNNING);
	log_info("vm=%s pid=%d %s vnc=%s:%d spice=%s:%d", v->name, (int)v->pid,
	         v->adopted ? "adopted" : "running", v->vnc.host, v->vnc.port, v->spice.host,
	         v->spice.port);
	queue(sup, v, BROKER_SUP_RUNNING, NULL, NULL);
}

static void cb_status(void *opaque, int err, const struct proto_ctl_msg *msg)
{
	struct svm *v = opaque;
	const char *name;
	json_t *boots;

	if (err == -ECANCELED || err == -ECONNRESET || v->phase != PH_STATUS)
		return;
	name = err == 0 ? json_string_value(json_object_get(msg->body, "name")) : NULL;
	if (!name || strcmp(name, v->name) != 0) {
		log_warn("vm=%s query-status: %s", v->name,
		         err == -EREMOTEIO ? msg->err_desc
		         : err < 0         ? strerror(-err)
		                           : "another VM answers on its socket");
		v->want_stop = true;
		v->failing = true;
		return;
	}
	boots = json_object_get(msg->body, "boots");
	if (json_is_integer(boots) && json_integer_value(boots) > 0)
		v->boots = (unsigned int)json_integer_value(boots);
	v->phase = PH_DISPLAYS;
	if (broker_vmmctl_query_displays(v->ctl, cb_displays, v, NULL) < 0) {
		v->want_stop = true;
		v->failing = true;
	}
}

static void cb_ping(void *opaque, int err, const struct proto_ctl_msg *msg)
{
	struct svm *v = opaque;

	if (err == -ECANCELED || err == -ECONNRESET)
		return;
	v->ping_pending = false;
	if (err == -ETIMEDOUT && v->phase == PH_RUNNING) {
		v->want_stop = true;
		v->failing = true;
	}
}

static void cb_reset(void *opaque, int err, const struct proto_ctl_msg *msg)
{
	struct svm *v = opaque;
	struct broker_supervisor *sup;

	if (err == -ECANCELED || err == -ECONNRESET || v->phase != PH_RESETTING)
		return;
	sup = v->sup;
	if (err < 0) {
		log_warn("vm=%s reset failed: %s", v->name,
		         err == -EREMOTEIO ? msg->err_desc : strerror(-err));
		queue(sup, v, BROKER_SUP_RESET_FAILED, NULL, NULL);
		v->want_stop = true;
		return;
	}
	v->phase = PH_RUNNING;
	row_set(sup, v, BROKER_VM_RUNNING);
	log_info("vm=%s pid=%d reset", v->name, (int)v->pid);
	queue(sup, v, BROKER_SUP_RESET_DONE, NULL, NULL);
}

static void on_event(void *opaque, const char *name, json_t *data)
{
	struct svm *v = opaque;
	struct broker_supervisor *sup = v->sup;
	const char *protocol = json_string_value(json_object_get(data, "protocol"));
	const char *reason = json_string_value(json_object_get(data, "reason"));

	if (strcmp(name, "guest-reset") == 0) {
		v->boots++;
		queue(sup, v, BROKER_SUP_GUEST_RESET, NULL, reason);
	} else if (strcmp(name, "guest-shutdown") == 0) {
		v->shutdown_seen = true;
		queue(sup, v, BROKER_SUP_GUEST_SHUTDOWN, NULL, reason);
	} else if (strcmp(name, "client-connected") == 0) {
		queue(sup, v, BROKER_SUP_CLIENT_CONNECTED, protocol, NULL);
	} else if (strcmp(name, "client-disconnected") == 0) {
		queue(sup, v, BROKER_SUP_CLIENT_DISCONNECTED, protocol, NULL);
	} else {
		log_debug("vm=%s event %s", v->name, name);
	}
}

/* ---- the state machine ---- */

static void try_connect(struct broker_supervisor *sup, struct svm *v)
{
	int r;

	r = broker_vmmctl_connect(v->control_path, on_event, v, &v->ctl);
	if (r < 0) {
		if (r != -ENOENT && r != -ECONNREFUSED && r != -EAGAIN)
			log_debug("vm=%s connect %s: %s", v->name, v->control_path, strerror(-r));
		v->ctl = NULL;
		return;
	}
	if (broker_vmmctl_peer_pid(v->ctl) != v->pid) {
		log_warn("vm=%s pid %d listens on %s, not pid %d", v->name,
		         (int)broker_vmmctl_peer_pid(v->ctl), v->control_path, (int)v->pid);
		drop_ctl(sup, v);
		return;
	}
	v->verified = true;
	v->phase = PH_STATUS;
	arm(sup, v);
	if (broker_vmmctl_query_status(v->ctl, cb_status, v, NULL) < 0) {
		v->want_stop = true;
		v->failing = true;
	}
	arm(sup, v);
}

static void step(struct broker_supervisor *sup, struct svm *v, int64_t now)
{
	if (v->removed)
		return;
	if (check_exit(v)) {
		v->exited = true;
		finish(sup, v);
		return;
	}
	if (v->ctl && broker_vmmctl_closed(v->ctl)) {
		drop_ctl(sup, v);
		if (v->phase != PH_STOPPING && v->phase != PH_LOST && v->phase != PH_CONNECT) {
			log_warn("vm=%s pid=%d control connection lost", v->name, (int)v->pid);
			v->phase = PH_LOST;
			v->deadline_ms = now + BROKER_SUP_LOST_GRACE_MS;
			row_set(sup, v, BROKER_VM_STOPPING);
		}
	}
	if (v->want_stop) {
		v->want_stop = false;
		if (v->failing)
			begin_kill(sup, v, now,
			           v->phase == PH_RUNNING
			                   ? "hung: its control socket does not answer"
			                   : "did not answer as expected");
		else
			begin_stop(sup, v, now);
		if (v->exited) {
			finish(sup, v);
			return;
		}
	}
	switch (v->phase) {
	case PH_CONNECT:
		if (!v->ctl)
			try_connect(sup, v);
		/* fall through */
	case PH_STATUS:
	case PH_DISPLAYS:
		if (now >= v->deadline_ms)
			begin_kill(sup, v, now,
			           v->adopted ? "found running but does not answer"
			                      : "did not come up in time");
		break;
	case PH_RUNNING:
		if (v->ctl && !v->ping_pending && now >= v->next_ping_ms) {
			if (broker_vmmctl_query_status(v->ctl, cb_ping, v, NULL) == 0)
				v->ping_pending = true;
			v->next_ping_ms = now + v->sup->ping_interval_ms;
		}
		break;
	case PH_RESETTING:
		break;
	case PH_STOPPING:
		if (now < v->deadline_ms)
			break;
		if (v->stop_stage == 0) {
			v->stop_stage = 1;
			sig(v, SIGTERM);
		} else if (v->stop_stage == 1) {
			v->stop_stage = 2;
			sig(v, SIGKILL);
		}
		v->deadline_ms = now + sup->stop_timeout_ms;
		break;
	case PH_LOST:
		if (now >= v->deadline_ms)
			begin_kill(sup, v, now, "lost its control socket but is still there");
		break;
	}
	if (v->exited) {
		finish(sup, v);
		return;
	}
	if (v->ctl) {
		broker_vmmctl_tick(v->ctl, now);
		arm(sup, v);
	}
}

/* ---- public ---- */

static int ensure_dir(const char *base, const char *sub)
{
	char path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", base, sub) >= sizeof(path))
		return -ENAMETOOLONG;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void adopt_all(struct broker_supervisor *sup, int64_t now)
{
	struct broker_vm *rows = NULL;
	size_t n = 0;
	int r;

	r = broker_store_vm_list(sup->store, 0, &rows, &n);
	if (r < 0) {
		log_err("cannot list VMs to adopt: %s", broker_store_errmsg(sup->store));
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct broker_vm *row = &rows[i];
		struct svm *v;

		if (row->pid > 0 && row->control_path[0]) {
			v = svm_new(sup, row);
			if (!v) {
				log_err("vm=%s not adopted: out of memory", row->name);
				continue;
			}
			v->pid = row->pid;
			v->adopted = true;
			v->was_running = row->state == BROKER_VM_RUNNING;
			/* The last broker was stopping it: carry on. */
			v->want_stop = row->state == BROKER_VM_STOPPING;
			snprintf(v->control_path, sizeof(v->control_path), "%s", row->control_path);
			v->phase = PH_CONNECT;
			v->deadline_ms = now + BROKER_SUP_ADOPT_TIMEOUT_MS;
			watch_pidfd(sup, v);
			log_info("vm=%s pid=%d found %s: adopting", v->name, (int)v->pid,
			         v->exited ? "gone" : "running");
			if (!v->exited)
				row_set(sup, v, BROKER_VM_STARTING);
		} else if (row->pid ||
		           (row->state != BROKER_VM_STOPPED && row->state != BROKER_VM_FAILED)) {
			row->state = BROKER_VM_STOPPED;
			row->pid = 0;
			row->control_path[0] = 0;
			row->vnc_port = row->spice_port = 0;
			if (broker_store_vm_update(sup->store, row) < 0)
				log_warn("vm=%s: %s", row->name, broker_store_errmsg(sup->store));
		}
	}
	free(rows);
}

int broker_supervisor_new(const struct broker_supervisor_params *p, struct broker_supervisor **ret)
{
	struct broker_supervisor *sup;
	int r;

	if (!p->store || !p->vmm_binary || !p->data_dir)
		return -EINVAL;
	sup = calloc(1, sizeof(*sup));
	if (!sup)
		return -ENOMEM;
	sup->store = p->store;
	if (!realpath(p->data_dir, sup->data_dir)) {
		r = -errno;
		goto out_free;
	}
	if (strlen(p->vmm_binary) >= sizeof(sup->vmm_binary) ||
	    (p->vmm_guest && strlen(p->vmm_guest) >= sizeof(sup->vmm_guest))) {
		r = -ENAMETOOLONG;
		goto out_free;
	}
	strcpy(sup->vmm_binary, p->vmm_binary);
	strcpy(sup->vmm_guest, p->vmm_guest ? p->vmm_guest : "");
	sup->start_timeout_ms =
	        p->start_timeout_ms ? p->start_timeout_ms : BROKER_SUP_START_TIMEOUT_MS;
	sup->stop_timeout_ms = p->stop_timeout_ms ? p->stop_timeout_ms : BROKER_SUP_STOP_TIMEOUT_MS;
	sup->ping_interval_ms = p->ping_interval_ms ? p->ping_interval_ms : BROKER_SUP_PING_MS;
	sup->event = p->event;
	sup->opaque = p->opaque;
	r = ensure_dir(sup->data_dir, "run");
	if (r == 0)
		r = ensure_dir(sup->data_dir, "log");
	if (r < 0)
		goto out_free;
	sup->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (sup->epfd < 0) {
		r = -errno;
		goto out_free;
	}
	adopt_all(sup, broker_monotonic_ms());
	*ret = sup;
	return 0;

out_free:
	free(sup);
	return r;
}

void broker_supervisor_free(struct broker_supervisor *sup)
{
	if (!sup)
		return;
	for (size_t i = 0; i < sup->nr_vms; i++)
		svm_free(sup, sup->vms[i]);
	free(sup->vms);
	free(sup->q);
	close(sup->epfd);
	free(sup);
}

void broker_supervisor_set_event(struct broker_supervisor *sup, broker_sup_event_fn fn,
                                 void *opaque)
{
	sup->event = fn;
	sup->opaque = opaque;
}

int broker_supervisor_fd(const struct broker_supervisor *sup)
{
	return sup->epfd;
}

void broker_supervisor_dispatch(struct broker_supervisor *sup)
{
	struct epoll_event evs[32];
	int64_t now = broker_monotonic_ms();
	int n;

	n = epoll_wait(sup->epfd, evs, 32, 0);
	for (int i = 0; i < n; i++) {
		struct watch *w = evs[i].data.ptr;
		struct svm *v = w->vm;
		short revents = 0;

		if (v->removed)
			continue;
		if (w->kind == W_CTL && v->ctl) {
			if (evs[i].events & EPOLLIN)
				revents |= POLLIN;
			if (evs[i].events & EPOLLOUT)
				revents |= POLLOUT;
			if (evs[i].events & (EPOLLHUP | EPOLLERR))
				revents |= POLLHUP;
			broker_vmmctl_handle(v->ctl, revents);
		}
		step(sup, v, now);
	}
	reap(sup);
	flush_events(sup);
	reap(sup);
}

void broker_supervisor_tick(struct broker_supervisor *sup, int64_t now_ms)
{
	for (size_t i = 0; i < sup->nr_vms; i++)
		step(sup, sup->vms[i], now_ms);
	reap(sup);
	flush_events(sup);
	reap(sup);
}

static int build_cmdline(const struct broker_pool *pool, const char *name, char *buf, size_t size)
{
	int n;

	if (!pool->kernel[0])
		n = snprintf(buf, size, "name=%s%s%s", name, pool->cmdline[0] ? " " : "",
		             pool->cmdline);
	else
		n = snprintf(buf, size, "%s", pool->cmdline);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int broker_supervisor_start(struct broker_supervisor *sup, const struct broker_pool *pool,
                            int64_t vm_id)
{
	char sock[PATH_MAX], serial[PATH_MAX + 8], logp[PATH_MAX], mem[24], cpus[16], res[32];
	char cmdline[BROKER_CMDLINE_MAX + BROKER_NAME_MAX + 16];
	const char *argv[40];
	const char *kernel = pool->kernel[0] ? pool->kernel : sup->vmm_guest;
	struct sockaddr_un sa;
	struct broker_vm row;
	sigset_t all, old;
	struct svm *v;
	int n = 0, logfd, nullfd, r;
	pid_t pid;

	r = broker_store_vm_get(sup->store, vm_id, &row);
	if (r < 0)
		return r;
	if (find(sup, vm_id) || row.pid > 0)
		return -EALREADY;
	if (strlen(row.name) > BROKER_VMM_NAME_MAX || !broker_name_valid(row.name))
		return -EINVAL;
	if (!kernel[0] || access(kernel, R_OK) < 0) {
		log_err("vm=%s kernel %s: %s", row.name, kernel[0] ? kernel : "(none)",
		        kernel[0] ? strerror(errno) : "no guest configured");
		return -ENOENT;
	}
	if ((size_t)snprintf(sock, sizeof(sock), "%s/run/%s.sock", sup->data_dir, row.name) >=
	            sizeof(sa.sun_path) ||
	    strlen(sock) >= BROKER_PATH_MAX)
		return -ENAMETOOLONG;
	if ((size_t)snprintf(serial, sizeof(serial), "file:%s/log/%s.serial", sup->data_dir,
	                     row.name) >= sizeof(serial) ||
	    (size_t)snprintf(logp, sizeof(logp), "%s/log/%s.log", sup->data_dir, row.name) >=
	            sizeof(logp))
		return -ENAMETOOLONG;
	snprintf(mem, sizeof(mem), "%uM", pool->memory_mib);
	snprintf(cpus, sizeof(cpus), "%u", pool->vcpus);
	snprintf(res, sizeof(res), "%ux%u", pool->width, pool->height);
	r = build_cmdline(pool, row.name, cmdline, sizeof(cmdline));
	if (r < 0)
		return r;
	if (access(sup->vmm_binary, X_OK) < 0)
		return -errno;

	argv[n++] = sup->vmm_binary;
	argv[n++] = "--name";
	argv[n++] = row.name;
	argv[n++] = "--memory";
	argv[n++] = mem;
	argv[n++] = "--cpus";
	argv[n++] = cpus;
	argv[n++] = "--kernel";
	argv[n++] = kernel;
	if (pool->initrd[0]) {
		argv[n++] = "--initrd";
		argv[n++] = pool->initrd;
	}
	if (cmdline[0]) {
		argv[n++] = "--cmdline";
		argv[n++] = cmdline;
	}
	if (row.disk_path[0]) {
		argv[n++] = "--disk";
		argv[n++] = row.disk_path;
	}
	argv[n++] = "--resolution";
	argv[n++] = res;
	argv[n++] = "--control";
	argv[n++] = sock;
	argv[n++] = "--serial";
	argv[n++] = serial;
	argv[n++] = "--vnc";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--spice";
	argv[n++] = "127.0.0.1:0";
	argv[n] = NULL;

	logfd = open(logp, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (logfd < 0)
		return -errno;
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (nullfd < 0) {
		r = -errno;
		goto out_log;
	}
	v = svm_new(sup, &row);
	if (!v) {
		r = -ENOMEM;
		goto out_null;
	}
	/*
	 * Signals stay blocked from the fork until the child has reset every
	 * handler: one of ours (or a test runner's) running in the child before
	 * exec could act on the broker's process group.
	 */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		struct sigaction dfl = { .sa_handler = SIG_DFL };
		sigset_t none;

		for (int i = 1; i < NSIG; i++)
			sigaction(i, &dfl, NULL);
		/* Its own session: a hangup or a signal to our group does not reach it. */
		setsid();
		dup2(nullfd, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		closefrom(3);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], (char *const *)argv);
		dprintf(2, "vdi-broker: exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	r = -errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		v->removed = true;
		reap(sup);
		goto out_null;
	}
	close(nullfd);
	close(logfd);
	v->pid = pid;
	v->child = true;
	snprintf(v->control_path, sizeof(v->control_path), "%s", sock);
	v->phase = PH_CONNECT;
	v->deadline_ms = broker_monotonic_ms() + sup->start_timeout_ms;
	watch_pidfd(sup, v);
	row_set(sup, v, BROKER_VM_STARTING);
	log_info("vm=%s pid=%d started (pool %s)", v->name, (int)pid, pool->name);
	return 0;

out_null:
	close(nullfd);
out_log:
	close(logfd);
	return r;
}

int broker_supervisor_stop(struct broker_supervisor *sup, int64_t vm_id)
{
	struct svm *v = find(sup, vm_id);

	if (!v)
		return -ENOENT;
	begin_stop(sup, v, broker_monotonic_ms());
	return 0;
}

int broker_supervisor_reset(struct broker_supervisor *sup, int64_t vm_id)
{
	struct svm *v = find(sup, vm_id);
	int r;

	if (!v)
		return -ENOENT;
	if (v->phase != PH_RUNNING || !v->ctl)
		return -EBUSY;
	r = broker_vmmctl_reset(v->ctl, cb_reset, v, NULL);
	if (r < 0)
		return r;
	v->phase = PH_RESETTING;
	row_set(sup, v, BROKER_VM_STARTING);
	arm(sup, v);
	return 0;
}

struct ticket_wait {
	int err;
	bool done;
};

static void cb_ticket(void *opaque, int err, const struct proto_ctl_msg *msg)
{
	struct ticket_wait *t = opaque;

	if (err == -EREMOTEIO)
		log_warn("set-ticket refused: %s", msg->err_desc);
	t->err = err;
	t->done = true;
}

int broker_supervisor_set_ticket(struct broker_supervisor *sup, int64_t vm_id, const char *protocol,
                                 const char *secret, unsigned int expires_in, bool disconnect,
                                 int timeout_ms)
{
	struct svm *v = find(sup, vm_id);
	struct ticket_wait t = { 0 };
	int64_t id;
	int r;

	if (!v)
		return -ENOENT;
	if (v->phase != PH_RUNNING || !v->ctl)
		return -EBUSY;
	r = broker_vmmctl_set_ticket(v->ctl, protocol, secret, expires_in, disconnect, cb_ticket,
	                             &t, &id);
	if (r < 0)
		return r;
	r = broker_vmmctl_wait(v->ctl, id, timeout_ms);
	if (!t.done) {
		/* The answer may still come: it must not write to this stack frame. */
		if (v->ctl)
			broker_vmmctl_cancel(v->ctl, id);
		return r < 0 ? r : -ETIMEDOUT;
	}
	arm(sup, v);
	return t.err;
}

bool broker_supervisor_vm_running(const struct broker_supervisor *sup, int64_t vm_id)
{
	const struct svm *v = find(sup, vm_id);

	return v && v->phase == PH_RUNNING;
}

pid_t broker_supervisor_vm_pid(const struct broker_supervisor *sup, int64_t vm_id)
{
	const struct svm *v = find(sup, vm_id);

	return v ? v->pid : 0;
}

size_t broker_supervisor_count(const struct broker_supervisor *sup)
{
	size_t n = 0;

	for (size_t i = 0; i < sup->nr_vms; i++)
		n += !sup->vms[i]->removed;
	return n;
}

int broker_supervisor_stop_all(struct broker_supervisor *sup, int timeout_ms)
{
	int64_t deadline = broker_monotonic_ms() + timeout_ms;
	int killed = 0;

	for (size_t i = 0; i < sup->nr_vms; i++)
		if (!sup->vms[i]->removed)
			begin_stop(sup, sup->vms[i], broker_monotonic_ms());
	while (broker_supervisor_count(sup) && broker_monotonic_ms() < deadline) {
		struct pollfd pfd = { .fd = sup->epfd, .events = POLLIN };

		poll(&pfd, 1, 50);
		broker_supervisor_dispatch(sup);
		broker_supervisor_tick(sup, broker_monotonic_ms());
	}
	for (size_t i = 0; i < sup->nr_vms; i++) {
		struct svm *v = sup->vms[i];

		if (v->removed)
			continue;
		killed++;
		sig(v, SIGKILL);
		if (v->child)
			waitpid(v->pid, NULL, 0);
		v->exited = true;
		finish(sup, v);
	}
	reap(sup);
	flush_events(sup);
	reap(sup);
	return killed;
}
