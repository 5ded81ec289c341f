// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The broker's supervisor and pools with real vdi-vmm processes and the
 * reference guest: a floating pool fills with warm spares, a desktop is
 * allocated (and gets a console ticket) and released (its guest is reset,
 * and it becomes a spare again), a VMM killed with SIGKILL is noticed,
 * audited and replaced, and a new supervisor on the same store (a broker
 * restart) adopts the running VMMs with the same PIDs.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/pools.h"
#include "broker/store.h"
#include "broker/supervisor.h"
#include "broker/vmmctl.h"
#include "harness.h"

#define SPARES 2

static char base[64]; /* made by main(): every test's directory is below */
static char dir[128];
static struct broker_store *store;
static struct broker_supervisor *sup;
static struct broker_pools *pools;

/* Every pid the store ever named, to kill whatever a failed check leaves behind. */
static pid_t seen_pids[64];
static int nr_seen;

#define EV_MAX 256
static struct broker_sup_event evs[EV_MAX];
static char ev_names[EV_MAX][BROKER_NAME_MAX + 1];
static char ev_reasons[EV_MAX][64];
static int nr_evs;

static void on_event(void *opaque, const struct broker_sup_event *ev)
{
	if (nr_evs < EV_MAX) {
		evs[nr_evs] = *ev;
		snprintf(ev_names[nr_evs], sizeof(ev_names[0]), "%s", ev->vm_name);
		snprintf(ev_reasons[nr_evs], sizeof(ev_reasons[0]), "%s", ev->reason);
		nr_evs++;
	}
	broker_pools_on_supervisor_event(opaque, ev);
}

/* The index of the first event @kind for @vm_id at or after @from, or -1. */
static int find_event(int from, enum broker_sup_event_kind kind, int64_t vm_id)
{
	for (int i = from; i < nr_evs; i++)
		if (evs[i].kind == kind && (!vm_id || evs[i].vm_id == vm_id))
			return i;
	return -1;
}

static void note_pids(void)
{
	struct broker_vm *vms;
	size_t n;

	if (broker_store_vm_list(store, 0, &vms, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (int j = 0; j < nr_seen; j++)
			known |= seen_pids[j] == vms[i].pid;
		if (vms[i].pid > 0 && !known && nr_seen < 64)
			seen_pids[nr_seen++] = vms[i].pid;
	}
	free(vms);
}

static void kill_leftovers(void)
{
	for (int i = 0; i < nr_seen; i++)
		if (kill(seen_pids[i], 0) == 0) {
			kill(seen_pids[i], SIGKILL);
			waitpid(seen_pids[i], NULL, 0);
		}
}

static unsigned int stop_timeout_ms, ping_interval_ms; /* 0: the defaults */

static void start_broker(void)
{
	struct broker_supervisor_params sp = {
		.store = store,
		.vmm_binary = harness_build_path("vmm/vdi-vmm"),
		.vmm_guest = harness_build_path("vmm/guest/vdi-guest.elf"),
		.data_dir = dir,
		.stop_timeout_ms = stop_timeout_ms,
		.ping_interval_ms = ping_interval_ms,
	};
	struct broker_pools_params pp = {
		.store = store,
		.data_dir = dir,
		.disconnect_grace = 300,
		.persistent_idle_stop = 0,
	};

	ck_assert_int_eq(broker_supervisor_new(&sp, &sup), 0);
	broker_pools_use_supervisor(&pp.ops, sup);
	ck_assert_int_eq(broker_pools_new(&pp, &pools), 0);
	broker_supervisor_set_event(sup, on_event, pools);
}

static void stop_broker(void)
{
	broker_pools_free(pools);
	pools = NULL;
	broker_supervisor_free(sup);
	sup = NULL;
}

/* Run the loop as the server does: poll, dispatch, tick every 250 ms. */
static void run_for(int ms)
{
	int64_t end = harness_now_ms() + ms;
	static int64_t next_tick;

	while (harness_now_ms() < end) {
		struct pollfd pfd = { .fd = broker_supervisor_fd(sup), .events = POLLIN };
		int64_t left = end - harness_now_ms();

		poll(&pfd, 1, left < 50 ? (int)left : 50);
		broker_supervisor_dispatch(sup);
		if (harness_now_ms() >= next_tick) {
			broker_supervisor_tick(sup, broker_monotonic_ms());
			broker_pools_tick(pools, time(NULL));
			next_tick = harness_now_ms() + 250;
		}
		note_pids();
	}
}

/* Free running VMs of the pool, their ids and pids in @ids / @pids (SPARES + 2 long). */
static int free_running(int64_t pool_id, int64_t *ids, pid_t *pids)
{
	struct broker_vm *vms;
	size_t n;
	int k = 0;

	ck_assert_int_eq(broker_store_vm_list(store, pool_id, &vms, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (!vms[i].user_id && vms[i].state == BROKER_VM_RUNNING && vms[i].vnc_port > 0 &&
		    vms[i].spice_port > 0 && k < SPARES + 2) {
			if (ids)
				ids[k] = vms[i].id;
			if (pids)
				pids[k] = vms[i].pid;
			k++;
		}
	free(vms);
	return k;
}

static bool wait_spares(int64_t pool_id, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;

	while (harness_now_ms() < end) {
		run_for(100);
		if (free_running(pool_id, NULL, NULL) >= SPARES)
			return true;
	}
	return false;
}

static bool wait_event(int from, enum broker_sup_event_kind kind, int64_t vm_id, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;

	while (harness_now_ms() < end) {
		if (find_event(from, kind, vm_id) >= 0)
			return true;
		run_for(50);
	}
	return find_event(from, kind, vm_id) >= 0;
}

static bool audited(const char *event, const char *vm)
{
	struct broker_audit *a;
	size_t n;
	bool found = false;

	ck_assert_int_eq(broker_store_audit_list(store, 0, 1000, &a, &n), 0);
	for (size_t i = 0; i < n; i++)
		found |= strcmp(a[i].event, event) == 0 && strcmp(a[i].vm, vm) == 0;
	free(a);
	return found;
}

static void cleanup(void)
{
	if (sup)
		broker_supervisor_stop_all(sup, 10000);
	stop_broker();
	kill_leftovers();
	broker_store_close(store);
	store = NULL;
	if (dir[0]) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

/* A store in a temporary directory with user alice and pool "demo" for her. */
static void setup_store(struct broker_pool *pool, struct broker_user *alice)
{
	struct broker_entitlement ent = { .kind = BROKER_ENT_USER };
	char err[256];

	snprintf(dir, sizeof(dir), "%s/XXXXXX", base);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	atexit(kill_leftovers);
	snprintf(err, sizeof(err), "%s/broker.db", dir);
	ck_assert_int_eq(broker_store_open(err, &store, err, sizeof(err)), 0);
	*alice = (struct broker_user){ .role = BROKER_ROLE_USER, .created = 1 };
	strcpy(alice->name, "alice");
	strcpy(alice->password_hash, "!");
	ck_assert_int_eq(broker_store_user_add(store, alice), 0);
	broker_pool_defaults(pool, "demo");
	pool->memory_mib = 64;
	pool->size = SPARES;
	pool->spares = SPARES;
	pool->max_vms = SPARES + 2;
	pool->created = time(NULL);
	ck_assert_int_eq(broker_store_pool_add(store, pool), 0);
	strcpy(ent.name, "alice");
	ck_assert_int_eq(broker_store_pool_entitle(store, pool->id, &ent), 0);
}

START_TEST(pool_lifecycle)
{
	struct broker_pool pool;
	struct broker_user alice;
	struct broker_vm vm, row;
	int64_t ids[SPARES + 2], ids2[SPARES + 2];
	pid_t pids[SPARES + 2], pids2[SPARES + 2], victim;
	char why[160], name[BROKER_NAME_MAX + 1];
	int mark, n, r;

	setup_store(&pool, &alice);

	/* 1. Warm spares. */
	start_broker();
	ck_assert_msg(wait_spares(pool.id, 60000), "the pool did not fill with %d spares", SPARES);
	n = free_running(pool.id, ids, pids);
	ck_assert_int_eq(n, SPARES);
	for (int i = 0; i < n; i++)
		ck_assert_int_eq(kill(pids[i], 0), 0);

	/* 2. Allocate: a running spare, which takes a console ticket. */
	r = broker_pools_allocate(pools, &alice, &pool, time(NULL), &vm, why, sizeof(why));
	ck_assert_msg(r == 0, "allocate: %s (%s)", strerror(-r), why);
	ck_assert_int_eq(vm.user_id, alice.id);
	ck_assert_int_gt(vm.vnc_port, 0);
	ck_assert_int_eq(
	        broker_supervisor_set_ticket(sup, vm.id, "vnc", "k3Pq9xZa", 30, false, 2000), 0);
	ck_assert_int_eq(broker_supervisor_set_ticket(sup, vm.id, "bogus", "x", 30, false, 2000),
	                 -EREMOTEIO);

	/* 3. Release: the guest is reset and the VM is a free spare again. */
	mark = nr_evs;
	ck_assert_int_eq(broker_pools_release(pools, vm.id, "logout", time(NULL)), 0);
	ck_assert_msg(wait_event(mark, BROKER_SUP_GUEST_RESET, vm.id, 20000), "no guest-reset");
	ck_assert_str_eq(ev_reasons[find_event(mark, BROKER_SUP_GUEST_RESET, vm.id)], "control");
	ck_assert(wait_event(mark, BROKER_SUP_RESET_DONE, vm.id, 20000));
	run_for(300);
	ck_assert_int_eq(broker_store_vm_get(store, vm.id, &row), 0);
	ck_assert_int_eq(row.user_id, 0);
	ck_assert_int_eq(row.state, BROKER_VM_RUNNING);
	ck_assert_int_eq(row.pid, vm.pid);

	/* 4. SIGKILL a VMM: noticed, audited, replaced; the half-dead one is never handed out. */
	ck_assert(wait_spares(pool.id, 30000));
	n = free_running(pool.id, ids, pids);
	victim = pids[0];
	ck_assert_int_eq(broker_store_vm_get(store, ids[0], &row), 0);
	strcpy(name, row.name);
	mark = nr_evs;
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	ck_assert_msg(wait_event(mark, BROKER_SUP_EXITED, ids[0], 10000),
	              "the kill went unnoticed");
	ck_assert(evs[find_event(mark, BROKER_SUP_EXITED, ids[0])].crashed);
	ck_assert_int_eq(kill(victim, 0), -1); /* reaped */
	ck_assert(audited("vm.crash", name));
	ck_assert_msg(wait_spares(pool.id, 60000), "the crashed VM was not replaced");
	n = free_running(pool.id, ids, pids);
	for (int i = 0; i < n; i++)
		ck_assert_int_ne(pids[i], victim);

	/* 5. Broker restart: a new supervisor adopts the running VMMs, same PIDs. */
	r = broker_pools_allocate(pools, &alice, &pool, time(NULL), &vm, why, sizeof(why));
	ck_assert_msg(r == 0, "allocate: %s (%s)", strerror(-r), why);
	/* Let the pool refill its spares first: a slow machine may still be starting one. */
	ck_assert_msg(wait_spares(pool.id, 60000), "the spares were not refilled");
	n = free_running(pool.id, ids, pids);
	stop_broker();
	mark = nr_evs;
	start_broker();
	ck_assert_int_eq(broker_supervisor_count(sup), (size_t)n + 1);
	ck_assert_msg(wait_spares(pool.id, 20000), "the VMMs were not adopted");
	ck_assert_int_eq(free_running(pool.id, ids2, pids2), n);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(ids2[i], ids[i]);
		ck_assert_int_eq(pids2[i], pids[i]);
		ck_assert_int_eq(broker_supervisor_vm_pid(sup, ids[i]), pids[i]);
	}
	ck_assert(wait_event(mark, BROKER_SUP_RUNNING, vm.id, 10000));
	ck_assert(evs[find_event(mark, BROKER_SUP_RUNNING, vm.id)].adopted);
	ck_assert(find_event(mark, BROKER_SUP_EXITED, 0) < 0);
	/* Alice still has hers, and its control channel works. */
	ck_assert_int_eq(broker_store_vm_get(store, vm.id, &row), 0);
	ck_assert_int_eq(row.user_id, alice.id);
	ck_assert_int_eq(row.pid, vm.pid);
	ck_assert_int_eq(
	        broker_supervisor_set_ticket(sup, vm.id, "spice", "s3cret", 30, false, 2000), 0);

	/* 6. Shut down: every VMM exits when asked. */
	ck_assert_int_eq(broker_supervisor_stop_all(sup, 15000), 0);
	for (int i = 0; i < nr_seen; i++)
		ck_assert_msg(kill(seen_pids[i], 0) < 0, "pid %d still runs", (int)seen_pids[i]);
	cleanup();
}
END_TEST

/*
 * Broker restart with one VMM dead (its row still names it) and one that
 * does not answer (stopped with SIGSTOP): both are cleaned up (the second
 * killed), audited and replaced; nothing is adopted by mistake.
 */
START_TEST(restart_cleans_up)
{
	struct broker_pool pool;
	struct broker_user alice;
	int64_t ids[SPARES + 2], ids2[SPARES + 2];
	pid_t pids[SPARES + 2], pids2[SPARES + 2];
	char names[2][BROKER_NAME_MAX + 1];
	struct broker_vm row;
	int mark, n;

	setup_store(&pool, &alice);
	stop_timeout_ms = 1000;
	start_broker();
	ck_assert_msg(wait_spares(pool.id, 60000), "the pool did not fill");
	n = free_running(pool.id, ids, pids);
	ck_assert_int_eq(n, SPARES);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(broker_store_vm_get(store, ids[i], &row), 0);
		strcpy(names[i], row.name);
	}
	stop_broker();
	ck_assert_int_eq(kill(pids[0], SIGKILL), 0);
	ck_assert_int_eq(kill(pids[1], SIGSTOP), 0);

	mark = nr_evs;
	start_broker();
	ck_assert(wait_event(mark, BROKER_SUP_EXITED, ids[0], 10000));
	ck_assert(evs[find_event(mark, BROKER_SUP_EXITED, ids[0])].crashed);
	ck_assert_msg(wait_event(mark, BROKER_SUP_EXITED, ids[1], 20000),
	              "the unresponsive VMM was not dealt with");
	ck_assert(evs[find_event(mark, BROKER_SUP_EXITED, ids[1])].crashed);
	ck_assert_int_eq(kill(pids[1], 0), -1);
	ck_assert(audited("vm.crash", names[0]));
	ck_assert(audited("vm.crash", names[1]));
	/* (ids may be reused by the replacements, which are not adopted) */
	for (int i = mark; i < nr_evs; i++)
		ck_assert(evs[i].kind != BROKER_SUP_RUNNING || !evs[i].adopted);
	ck_assert_msg(wait_spares(pool.id, 60000), "no replacements");
	n = free_running(pool.id, ids2, pids2);
	for (int i = 0; i < n; i++)
		ck_assert(pids2[i] != pids[0] && pids2[i] != pids[1]);
	ck_assert_int_eq(broker_supervisor_stop_all(sup, 15000), 0);
	cleanup();
}
END_TEST

/*
 * A VMM that hangs (SIGSTOP: its process and socket are there, nothing
 * answers) is found by the periodic query-status, marked stopping at once
 * so nobody gets it, killed and replaced.
 */
START_TEST(hung_vmm_replaced)
{
	struct broker_pool pool;
	struct broker_user alice;
	int64_t ids[SPARES + 2];
	pid_t pids[SPARES + 2];
	struct broker_vm row, vm;
	char why[160];
	int mark, r;

	setup_store(&pool, &alice);
	stop_timeout_ms = 1000;
	ping_interval_ms = 500;
	start_broker();
	ck_assert_msg(wait_spares(pool.id, 60000), "the pool did not fill");
	ck_assert_int_eq(free_running(pool.id, ids, pids), SPARES);
	mark = nr_evs;
	ck_assert_int_eq(kill(pids[0], SIGSTOP), 0);
	ck_assert_msg(wait_event(mark, BROKER_SUP_EXITED, ids[0], 20000),
	              "the hang went unnoticed");
	ck_assert(evs[find_event(mark, BROKER_SUP_EXITED, ids[0])].crashed);
	ck_assert_int_eq(kill(pids[0], 0), -1);
	ck_assert_msg(wait_spares(pool.id, 60000), "not replaced");
	r = broker_pools_allocate(pools, &alice, &pool, time(NULL), &vm, why, sizeof(why));
	ck_assert_msg(r == 0, "allocate: %s (%s)", strerror(-r), why);
	ck_assert_int_ne(vm.pid, pids[0]);
	ck_assert_int_eq(broker_store_vm_get(store, vm.id, &row), 0);
	ck_assert_int_eq(row.state, BROKER_VM_RUNNING);
	ck_assert_int_eq(broker_supervisor_stop_all(sup, 15000), 0);
	cleanup();
}
END_TEST

/*
 * After the suite: kill every process whose command line names @base. The
 * VMMs run in sessions of their own, so a test that failed half-way (its
 * process ended without cleaning up) leaves them to this.
 */
static void kill_below(const char *below)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;
	char cmd[300];

	while (proc && (de = readdir(proc))) {
		char file[64], buf[4096];
		pid_t pid = (pid_t)atoi(de->d_name);
		ssize_t n;
		int fd;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(file, sizeof(file), "/proc/%d/cmdline", (int)pid);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		if (n > 0 && (buf[n] = 0, strstr(buf, below))) {
			fprintf(stderr, "killing leftover pid %d\n", (int)pid);
			kill(pid, SIGKILL);
		}
	}
	if (proc)
		closedir(proc);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", below);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", below);
}

int main(void)
{
	Suite *s = suite_create("broker_supervisor");
	TCase *tc = tcase_create("supervisor");
	int r;

	harness_require_kvm();
	tcase_set_timeout(tc, 280);
	tcase_add_test(tc, pool_lifecycle);
	tcase_add_test(tc, restart_cleans_up);
	tcase_add_test(tc, hung_vmm_replaced);
	suite_add_tcase(s, tc);
	snprintf(base, sizeof(base), "/tmp/vdi-itest-sup-XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	r = harness_run(s);
	kill_below(base);
	return r;
}
