// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The supervisor without KVM: fake vmm programs (a shell script that exits
 * at once, one that never opens its control socket) and store rows naming
 * processes that are gone or are not ours. Real vdi-vmm processes are in
 * tests/integration/test_broker_supervisor.c.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "broker/store.h"
#include "broker/supervisor.h"
#include "broker/vmmctl.h"
#include "broker_test.h"

static char dir[64], path[128], fake_vmm[128], kernel[128];
static struct broker_store *s;
static struct broker_supervisor *sup;
static struct broker_pool pool;

static struct broker_sup_event last;
static int nr_exited, nr_running;

static void on_event(void *opaque, const struct broker_sup_event *ev)
{
	last = *ev;
	nr_exited += ev->kind == BROKER_SUP_EXITED;
	nr_running += ev->kind == BROKER_SUP_RUNNING;
}

static void write_script(const char *body)
{
	FILE *f = fopen(fake_vmm, "w");

	ck_assert_ptr_nonnull(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	ck_assert_int_eq(chmod(fake_vmm, 0700), 0);
}

static void new_sup(void)
{
	struct broker_supervisor_params p = {
		.store = s,
		.vmm_binary = fake_vmm,
		.vmm_guest = "/nonexistent/guest.elf",
		.data_dir = dir,
		.start_timeout_ms = 500,
		.stop_timeout_ms = 300,
		.event = on_event,
	};

	ck_assert_int_eq(broker_supervisor_new(&p, &sup), 0);
}

static void setup(void)
{
	char err[256];

	bt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/broker.db", dir);
	snprintf(fake_vmm, sizeof(fake_vmm), "%s/fake-vmm", dir);
	snprintf(kernel, sizeof(kernel), "%s/k", dir);
	fclose(fopen(kernel, "w"));
	ck_assert_msg(broker_store_open(path, &s, err, sizeof(err)) == 0, "%s", err);
	broker_pool_defaults(&pool, "demo");
	pool.created = 1;
	ck_assert_int_eq(broker_store_pool_add(s, &pool), 0);
	nr_exited = nr_running = 0;
	memset(&last, 0, sizeof(last));
}

static void teardown(void)
{
	broker_supervisor_free(sup);
	sup = NULL;
	broker_store_close(s);
	s = NULL;
	bt_rmdir(dir);
}

static int64_t add_vm(const char *name, int pid, const char *control)
{
	struct broker_vm vm = { .pool_id = pool.id, .created = 1, .pid = pid };

	strcpy(vm.name, name);
	vm.state = pid ? BROKER_VM_RUNNING : BROKER_VM_STOPPED;
	snprintf(vm.control_path, sizeof(vm.control_path), "%s", control);
	ck_assert_int_eq(broker_store_vm_add(s, &vm), 0);
	return vm.id;
}

/* Run the supervisor until @n EXITED events were seen or @ms passed. */
static void run_until_exited(int n, int ms)
{
	int64_t end = broker_monotonic_ms() + ms;

	while (nr_exited < n && broker_monotonic_ms() < end) {
		struct pollfd pfd = { .fd = broker_supervisor_fd(sup), .events = POLLIN };

		poll(&pfd, 1, 50);
		broker_supervisor_dispatch(sup);
		broker_supervisor_tick(sup, broker_monotonic_ms());
	}
}

static bool audited(const char *event, const char *vm)
{
	struct broker_audit *a;
	size_t n;
	bool found = false;

	ck_assert_int_eq(broker_store_audit_list(s, 0, 100, &a, &n), 0);
	for (size_t i = 0; i < n; i++)
		found |= strcmp(a[i].event, event) == 0 && strcmp(a[i].vm, vm) == 0;
	free(a);
	return found;
}

START_TEST(start_refusals)
{
	struct broker_pool p = pool;
	int64_t id = add_vm("demo-1", 0, "");
	int64_t long_name = add_vm("abcdefghijabcdefghijabcdefghijabc", 0, "");

	new_sup();
	ck_assert_int_eq(broker_supervisor_start(sup, &p, id), -ENOENT); /* no binary yet */
	write_script("exit 0");
	ck_assert_int_eq(broker_supervisor_start(sup, &p, 9999), -ENOENT);
	ck_assert_int_eq(broker_supervisor_start(sup, &p, long_name), -EINVAL);
	ck_assert_int_eq(broker_supervisor_start(sup, &p, id), -ENOENT); /* no guest */
	ck_assert_int_eq(broker_supervisor_stop(sup, id), -ENOENT);
	ck_assert_int_eq(broker_supervisor_reset(sup, id), -ENOENT);
	ck_assert_int_eq(broker_supervisor_set_ticket(sup, id, "vnc", "x", 30, false, 100),
	                 -ENOENT);
	ck_assert(!broker_supervisor_vm_running(sup, id));
}
END_TEST

START_TEST(exits_at_once)
{
	struct broker_vm row;
	int64_t id = add_vm("demo-1", 0, "");

	write_script("echo \"$@\"; exit 3");
	new_sup();
	snprintf(pool.kernel, sizeof(pool.kernel), "%s", kernel);
	ck_assert_int_eq(broker_supervisor_start(sup, &pool, id), 0);
	ck_assert_int_eq(broker_supervisor_start(sup, &pool, id), -EALREADY);
	ck_assert_int_eq(broker_store_vm_get(s, id, &row), 0);
	ck_assert_int_eq(row.state, BROKER_VM_STARTING);
	ck_assert_int_gt(row.pid, 0);
	ck_assert_ptr_nonnull(strstr(row.control_path, "/run/demo-1.sock"));
	run_until_exited(1, 5000);
	ck_assert_int_eq(nr_exited, 1);
	ck_assert(last.crashed);
	ck_assert(!last.was_running);
	ck_assert_int_eq(WEXITSTATUS(last.status), 3);
	ck_assert_int_eq(broker_store_vm_get(s, id, &row), 0);
	ck_assert_int_eq(row.state, BROKER_VM_FAILED);
	ck_assert_int_eq(row.pid, 0);
	ck_assert_str_eq(row.control_path, "");
	ck_assert(audited("vm.crash", "demo-1"));
	ck_assert_uint_eq(broker_supervisor_count(sup), 0);
}
END_TEST

START_TEST(command_line)
{
	char logp[160], buf[2048] = "";
	FILE *f;
	int64_t id = add_vm("demo-1", 0, "");

	write_script("echo \"$@\"; exit 0");
	new_sup();
	snprintf(pool.kernel, sizeof(pool.kernel), "%s", kernel);
	snprintf(pool.cmdline, sizeof(pool.cmdline), "quiet");
	ck_assert_int_eq(broker_supervisor_start(sup, &pool, id), 0);
	run_until_exited(1, 5000);
	ck_assert(!last.crashed); /* exit 0 without being asked: a guest power-off */
	snprintf(logp, sizeof(logp), "%s/log/demo-1.log", dir);
	f = fopen(logp, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_ptr_nonnull(strstr(buf, "--name demo-1 --memory 256M --cpus 1 --kernel "));
	ck_assert_ptr_nonnull(strstr(buf, "/k --cmdline quiet --resolution 1024x768 --control "));
	ck_assert_ptr_nonnull(strstr(buf, "/run/demo-1.sock --serial file:"));
	ck_assert_ptr_nonnull(strstr(buf, "/log/demo-1.serial --vnc 127.0.0.1:0 "
	                                  "--spice 127.0.0.1:0"));
}
END_TEST

START_TEST(start_timeout_kills)
{
	struct broker_vm row;
	int64_t id = add_vm("demo-1", 0, "");
	pid_t pid;

	/* Never opens its control socket, and ignores SIGTERM. */
	write_script("trap '' TERM; while :; do sleep 0.1; done");
	new_sup();
	snprintf(pool.kernel, sizeof(pool.kernel), "%s", kernel);
	ck_assert_int_eq(broker_supervisor_start(sup, &pool, id), 0);
	pid = broker_supervisor_vm_pid(sup, id);
	ck_assert_int_gt(pid, 0);
	run_until_exited(1, 5000);
	ck_assert_int_eq(nr_exited, 1);
	ck_assert(last.crashed);
	ck_assert(WIFSIGNALED(last.status));
	ck_assert_int_eq(WTERMSIG(last.status), SIGKILL);
	ck_assert_int_eq(kill(pid, 0), -1);
	ck_assert_int_eq(broker_store_vm_get(s, id, &row), 0);
	ck_assert_int_eq(row.state, BROKER_VM_FAILED);
}
END_TEST

START_TEST(stop_signals)
{
	int64_t id = add_vm("demo-1", 0, "");

	write_script("while :; do sleep 0.1; done");
	new_sup();
	snprintf(pool.kernel, sizeof(pool.kernel), "%s", kernel);
	ck_assert_int_eq(broker_supervisor_start(sup, &pool, id), 0);
	ck_assert_int_eq(broker_supervisor_stop(sup, id), 0);
	run_until_exited(1, 5000);
	ck_assert_int_eq(nr_exited, 1);
	ck_assert(!last.crashed); /* asked for */
}
END_TEST

/* A live process that is not our child (forked twice, so init adopts it). */
static pid_t foreign_process(void)
{
	int fds[2];
	pid_t pid = -1, mid;

	ck_assert_int_eq(pipe(fds), 0);
	mid = fork();
	if (mid == 0) {
		pid_t g = fork();

		if (g == 0) {
			close(fds[1]);
			alarm(60); /* never outlives the test by long */
			pause();
			_exit(0);
		}
		if (write(fds[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		_exit(0);
	}
	close(fds[1]);
	ck_assert_int_eq(read(fds[0], &pid, sizeof(pid)), (ssize_t)sizeof(pid));
	close(fds[0]);
	waitpid(mid, NULL, 0);
	return pid;
}

START_TEST(adopt_gone_and_foreign)
{
	struct broker_vm row;
	pid_t dead = fork(), other;
	int64_t a, b, c;
	char sock[128];

	if (dead == 0)
		_exit(0);
	waitpid(dead, NULL, 0);
	other = foreign_process();
	snprintf(sock, sizeof(sock), "%s/run/x.sock", dir);
	a = add_vm("demo-1", dead, sock);
	b = add_vm("demo-2", other, sock); /* alive, but not a vmm of ours */
	c = add_vm("demo-3", 0, "");
	ck_assert_int_eq(broker_store_vm_get(s, c, &row), 0);
	row.state = BROKER_VM_STARTING; /* a start the last broker did not finish */
	ck_assert_int_eq(broker_store_vm_update(s, &row), 0);
	write_script("exit 0");
	new_sup();
	ck_assert_int_eq(broker_store_vm_get(s, c, &row), 0);
	ck_assert_int_eq(row.state, BROKER_VM_STOPPED);
	run_until_exited(2, 10000);
	ck_assert_int_eq(nr_exited, 2);
	ck_assert_int_eq(nr_running, 0);
	ck_assert_int_eq(broker_store_vm_get(s, a, &row), 0);
	ck_assert_int_eq(row.pid, 0);
	ck_assert_int_eq(broker_store_vm_get(s, b, &row), 0);
	ck_assert_int_eq(row.pid, 0);
	ck_assert_int_eq(row.state, BROKER_VM_FAILED);
	/* Not ours: forgotten, never signalled. */
	ck_assert_int_eq(kill(other, 0), 0);
	kill(other, SIGKILL);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("broker_supervisor");
	TCase *tc = tcase_create("supervisor");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, start_refusals);
	tcase_add_test(tc, exits_at_once);
	tcase_add_test(tc, command_line);
	tcase_add_test(tc, start_timeout_kills);
	tcase_add_test(tc, stop_signals);
	tcase_add_test(tc, adopt_gone_and_foreign);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return bt_run(suite());
}
