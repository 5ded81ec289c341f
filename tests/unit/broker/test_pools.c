// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pool logic on a temporary SQLite store, with the process actions faked
 * (no KVM): VM names, spares and size, allocation order and refusals,
 * release of floating and persistent desktops, the disconnect grace, the
 * idle stop, crash replacement, back-off, user resets, CLI requests and
 * the disk copy.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/pools.h"
#include "broker/store.h"
#include "broker_test.h"

static char dir[64], path[128];
static struct broker_store *s;
static struct broker_pools *pools;

static struct fake {
	bool start_running; /* start makes the row running at once */
	int start_err, reset_err;
	int starts, stops, resets;
	int64_t last_reset, last_stop;
	int logoffs;
	char logoff_reason[32];
} fake;

static int fake_start(void *opaque, const struct broker_pool *pool, int64_t vm_id)
{
	struct broker_vm vm;

	if (fake.start_err)
		return fake.start_err;
	ck_assert_int_eq(broker_store_vm_get(s, vm_id, &vm), 0);
	ck_assert_int_eq(vm.pid, 0);
	vm.pid = 10000 + (int)vm_id;
	vm.state = fake.start_running ? BROKER_VM_RUNNING : BROKER_VM_STARTING;
	strcpy(vm.vnc_host, "127.0.0.1");
	vm.vnc_port = 5900 + (int)vm_id;
	ck_assert_int_eq(broker_store_vm_update(s, &vm), 0);
	fake.starts++;
	return 0;
}

/* The process is gone: what the supervisor writes and tells. */
static void fake_exit(int64_t vm_id, bool crashed, int64_t now)
{
	struct broker_sup_event ev = { .kind = BROKER_SUP_EXITED,
		                       .vm_id = vm_id,
		                       .crashed = crashed,
		                       .was_running = true,
		                       .status = -1 };
	struct broker_vm vm;

	ck_assert_int_eq(broker_store_vm_get(s, vm_id, &vm), 0);
	vm.pid = 0;
	vm.state = crashed ? BROKER_VM_FAILED : BROKER_VM_STOPPED;
	vm.vnc_port = 0;
	ck_assert_int_eq(broker_store_vm_update(s, &vm), 0);
	ev.vm_name = vm.name;
	broker_pools_vm_event(pools, &ev, now);
}

static int fake_stop(void *opaque, int64_t vm_id)
{
	fake.stops++;
	fake.last_stop = vm_id;
	fake_exit(vm_id, false, 0);
	return 0;
}

static int fake_reset(void *opaque, int64_t vm_id)
{
	fake.resets++;
	fake.last_reset = vm_id;
	return fake.reset_err;
}

static void fake_logoff(void *opaque, const struct broker_vm *vm, int64_t user_id,
                        const char *reason)
{
	fake.logoffs++;
	snprintf(fake.logoff_reason, sizeof(fake.logoff_reason), "%s", reason);
}

static void setup(void)
{
	struct broker_pools_params p = {
		.disconnect_grace = 300,
		.persistent_idle_stop = 100,
		.ops = { .start = fake_start, .stop = fake_stop, .reset = fake_reset },
		.logoff = fake_logoff,
	};
	char err[256];

	memset(&fake, 0, sizeof(fake));
	fake.start_running = true;
	bt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/broker.db", dir);
	ck_assert_msg(broker_store_open(path, &s, err, sizeof(err)) == 0, "%s", err);
	p.store = s;
	p.data_dir = dir;
	ck_assert_int_eq(broker_pools_new(&p, &pools), 0);
}

static void teardown(void)
{
	broker_pools_free(pools);
	pools = NULL;
	broker_store_close(s);
	s = NULL;
	bt_rmdir(dir);
}

static struct broker_user add_user(const char *name)
{
	struct broker_user u = { .role = BROKER_ROLE_USER, .created = 1000 };

	strcpy(u.name, name);
	strcpy(u.password_hash, "!");
	ck_assert_int_eq(broker_store_user_add(s, &u), 0);
	return u;
}

static struct broker_pool add_pool(const char *name, enum broker_pool_type type, unsigned int size,
                                   unsigned int spares, unsigned int max_vms)
{
	struct broker_pool p;
	struct broker_entitlement e = { .kind = BROKER_ENT_GROUP };

	broker_pool_defaults(&p, name);
	p.type = type;
	p.size = size;
	p.spares = spares;
	p.max_vms = max_vms;
	p.max_per_user = 1;
	p.created = 1000;
	ck_assert_int_eq(broker_store_pool_add(s, &p), 0);
	strcpy(e.name, "staff");
	ck_assert_int_eq(broker_store_pool_entitle(s, p.id, &e), 0);
	return p;
}

static struct broker_user staff(const char *name)
{
	struct broker_user u = add_user(name);

	ck_assert_int_eq(broker_store_user_group_add(s, u.id, "staff"), 0);
	return u;
}

static size_t count_vms(int64_t pool_id, int64_t *first_free)
{
	struct broker_vm *vms;
	size_t n;

	ck_assert_int_eq(broker_store_vm_list(s, pool_id, &vms, &n), 0);
	if (first_free) {
		*first_free = 0;
		for (size_t i = 0; i < n && !*first_free; i++)
			if (!vms[i].user_id)
				*first_free = vms[i].id;
	}
	free(vms);
	return n;
}

START_TEST(vm_names)
{
	char buf[BROKER_VMM_NAME_MAX + 1];
	const char *long64 = "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcd";

	ck_assert_int_eq(broker_vm_name("demo", 3, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "demo-3");
	ck_assert_int_eq(broker_vm_name(long64, 12345, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(strlen(buf), BROKER_VMM_NAME_MAX);
	ck_assert_str_eq(buf, "abcdefghijabcdefghijabcdef-12345");
	ck_assert_int_eq(broker_vm_name("abcdefghijabcdefghijabcdefghi-xyz", 1, buf, sizeof(buf)),
	                 0);
	ck_assert_str_eq(buf, "abcdefghijabcdefghijabcdefghi-1"); /* no "--" */
	ck_assert_int_eq(broker_vm_name("---", 1, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "vm-1");
	ck_assert_int_eq(broker_vm_name("bad name", 1, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(broker_vm_name("", 1, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(broker_vm_name("demo", 1, buf, 8), -EINVAL);
}
END_TEST

START_TEST(spares_and_size)
{
	struct broker_pool a = add_pool("a", BROKER_POOL_FLOATING, 3, 1, 4);
	struct broker_pool b = add_pool("b", BROKER_POOL_FLOATING, 1, 2, 2);
	struct broker_pool c = add_pool("c", BROKER_POOL_FLOATING, 2, 1, 4);

	c.enabled = false;
	ck_assert_int_eq(broker_store_pool_update(s, &c), 0);
	broker_pools_tick(pools, 1000);
	ck_assert_uint_eq(count_vms(a.id, NULL), 3); /* size */
	ck_assert_uint_eq(count_vms(b.id, NULL), 2); /* spares */
	ck_assert_uint_eq(count_vms(c.id, NULL), 0); /* disabled */
	ck_assert_int_eq(fake.starts, 5);
	broker_pools_tick(pools, 1001);
	ck_assert_int_eq(fake.starts, 5);
	/* Starting VMs count as spares on their way. */
	fake.start_running = false;
	broker_pools_tick(pools, 1002);
	ck_assert_int_eq(fake.starts, 5);
}
END_TEST

START_TEST(allocate_spare_then_same)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 1, 1, 4);
	struct broker_user alice = staff("alice");
	struct broker_vm vm, again;
	char why[128];

	broker_pools_tick(pools, 1000);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1001, &vm, why, sizeof(why)), 0);
	ck_assert_int_eq(vm.user_id, alice.id);
	ck_assert_int_eq(vm.state, BROKER_VM_RUNNING);
	ck_assert_int_gt(vm.vnc_port, 0);
	ck_assert_str_eq(vm.name, "demo-1");
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1002, &again, why, sizeof(why)),
	                 0);
	ck_assert_int_eq(again.id, vm.id);
	/* The spare was used: the next tick boots another. */
	broker_pools_tick(pools, 1003);
	ck_assert_uint_eq(count_vms(p.id, NULL), 2);
}
END_TEST

START_TEST(refusals)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 1, 1, 1);
	struct broker_user alice = staff("alice"), bob = staff("bob"), eve = add_user("eve");
	struct broker_vm vm;
	char why[128] = "";

	broker_pools_tick(pools, 1000);
	ck_assert_int_eq(broker_pools_allocate(pools, &eve, &p, 1001, &vm, why, sizeof(why)),
	                 -EACCES);
	ck_assert_ptr_nonnull(strstr(why, "may not use"));
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1001, &vm, why, sizeof(why)), 0);
	ck_assert_int_eq(broker_pools_allocate(pools, &bob, &p, 1001, &vm, why, sizeof(why)),
	                 -EBUSY);
	ck_assert_ptr_nonnull(strstr(why, "full"));
	p.enabled = false;
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1001, &vm, why, sizeof(why)),
	                 -EACCES);
	ck_assert_ptr_nonnull(strstr(why, "disabled"));
}
END_TEST

START_TEST(quota_while_stopping)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 1, 1, 4);
	struct broker_user alice = staff("alice");
	struct broker_vm vm, row;
	char why[128];

	broker_pools_tick(pools, 1000);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1001, &vm, why, sizeof(why)), 0);
	/* Half-dead (control socket lost, process not gone): never handed out again. */
	ck_assert_int_eq(broker_store_vm_get(s, vm.id, &row), 0);
	row.state = BROKER_VM_STOPPING;
	ck_assert_int_eq(broker_store_vm_update(s, &row), 0);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1002, &vm, why, sizeof(why)),
	                 -EDQUOT);
}
END_TEST

START_TEST(starting_is_reserved)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 0, 0, 2);
	struct broker_user alice = staff("alice"), bob = staff("bob");
	struct broker_vm vm, row;
	int64_t id;
	char why[128];

	fake.start_running = false;
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1000, &vm, why, sizeof(why)),
	                 -EAGAIN);
	ck_assert_uint_eq(count_vms(p.id, &id), 1);
	ck_assert_int_eq(id, 0); /* reserved for alice */
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1000, &vm, why, sizeof(why)),
	                 -EAGAIN);
	ck_assert_uint_eq(count_vms(p.id, NULL), 1);
	/* Bob gets one of his own, then the pool is full. */
	ck_assert_int_eq(broker_pools_allocate(pools, &bob, &p, 1000, &vm, why, sizeof(why)),
	                 -EAGAIN);
	ck_assert_uint_eq(count_vms(p.id, NULL), 2);
	/* Running now: alice gets hers. */
	ck_assert_int_eq(broker_store_vm_get_by_name(s, "demo-1", &row), 0);
	row.state = BROKER_VM_RUNNING;
	ck_assert_int_eq(broker_store_vm_update(s, &row), 0);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1001, &vm, why, sizeof(why)), 0);
	ck_assert_str_eq(vm.name, "demo-1");
}
END_TEST

START_TEST(release_floating_resets)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 1, 1, 4);
	struct broker_user alice = staff("alice");
	struct broker_vm vm, row;
	char why[128];

	broker_pools_tick(pools, 1000);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1001, &vm, why, sizeof(why)), 0);
	ck_assert_int_eq(broker_pools_release(pools, vm.id, "logout", 1002), 0);
	ck_assert_int_eq(fake.resets, 1);
	ck_assert_int_eq(fake.last_reset, vm.id);
	ck_assert_int_eq(fake.logoffs, 1);
	ck_assert_str_eq(fake.logoff_reason, "logout");
	ck_assert_int_eq(broker_store_vm_get(s, vm.id, &row), 0);
	ck_assert_int_eq(row.user_id, 0);
	/* Releasing a free VM does nothing. */
	ck_assert_int_eq(broker_pools_release(pools, vm.id, "logout", 1003), 0);
	ck_assert_int_eq(fake.resets, 1);

	/* A failing reset replaces the VM instead. */
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1004, &vm, why, sizeof(why)), 0);
	fake.reset_err = -EBUSY;
	ck_assert_int_eq(broker_pools_release(pools, vm.id, "logout", 1005), 0);
	ck_assert_int_eq(fake.stops, 1);
	ck_assert_int_eq(fake.starts, 1);
	broker_pools_tick(pools, 1006);
	ck_assert_int_eq(fake.starts, 2); /* the replacement */
	ck_assert_uint_eq(count_vms(p.id, NULL), 1);
}
END_TEST

START_TEST(disconnect_grace)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 1, 1, 4);
	struct broker_user alice = staff("alice");
	struct broker_vm vm, row;
	char why[128];

	broker_pools_tick(pools, 1000);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1000, &vm, why, sizeof(why)), 0);
	/* Never connected: the grace runs from the allocation. */
	broker_pools_tick(pools, 1299);
	ck_assert_int_eq(fake.resets, 0);
	broker_pools_client(pools, vm.id, true, 1200);
	broker_pools_tick(pools, 5000);
	ck_assert_int_eq(fake.resets, 0);
	broker_pools_client(pools, vm.id, true, 5000); /* a second viewer */
	broker_pools_client(pools, vm.id, false, 5001);
	broker_pools_tick(pools, 6000);
	ck_assert_int_eq(fake.resets, 0);
	broker_pools_client(pools, vm.id, false, 6000);
	broker_pools_tick(pools, 6299);
	ck_assert_int_eq(fake.resets, 0);
	broker_pools_tick(pools, 6300);
	ck_assert_int_eq(fake.resets, 1);
	ck_assert_str_eq(fake.logoff_reason, "disconnect");
	ck_assert_int_eq(broker_store_vm_get(s, vm.id, &row), 0);
	ck_assert_int_eq(row.user_id, 0);
}
END_TEST

START_TEST(crash_replaced)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 1, 1, 4);
	struct broker_user alice = staff("alice");
	struct broker_vm vm, row;
	char why[128];
	int64_t free_id;

	broker_pools_tick(pools, 1000);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1000, &vm, why, sizeof(why)), 0);
	broker_pools_tick(pools, 1001); /* a new spare */
	ck_assert_uint_eq(count_vms(p.id, NULL), 2);
	fake_exit(vm.id, true, 1002);
	/* Until the tick cleans it up, the dead VM is nobody's to use. */
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1002, &row, why, sizeof(why)), 0);
	ck_assert_int_ne(row.id, vm.id);
	ck_assert_str_eq(fake.logoff_reason, "crash");
	ck_assert_int_eq(broker_store_vm_get(s, vm.id, &row), -ENOENT);
	broker_pools_tick(pools, 1003);
	ck_assert_uint_eq(count_vms(p.id, &free_id), 2);
	ck_assert_int_ne(free_id, 0);
}
END_TEST

START_TEST(backoff)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 1, 1, 4);

	fake.start_err = -EIO;
	broker_pools_tick(pools, 1000);
	ck_assert_uint_eq(count_vms(p.id, NULL), 0);
	fake.start_err = 0;
	broker_pools_tick(pools, 1001);
	ck_assert_int_eq(fake.starts, 0);
	broker_pools_tick(pools, 1002);
	ck_assert_int_eq(fake.starts, 1);
}
END_TEST

static void write_file(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void read_file(const char *file, char *buf, size_t size)
{
	int fd = open(file, O_RDONLY);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, size - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = 0;
	close(fd);
}

START_TEST(persistent_keeps_vm_and_disk)
{
	struct broker_pool p;
	struct broker_user alice = staff("alice"), bob = staff("bob");
	struct broker_vm vm, again, row;
	char tmpl[128], why[128], buf[64];

	snprintf(tmpl, sizeof(tmpl), "%s/template.img", dir);
	write_file(tmpl, "clean disk");
	p = add_pool("desk", BROKER_POOL_PERSISTENT, 0, 1, 4);
	snprintf(p.disk_template, sizeof(p.disk_template), "%s", tmpl);
	ck_assert_int_eq(broker_store_pool_update(s, &p), 0);
	broker_pools_tick(pools, 1000);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1000, &vm, why, sizeof(why)), 0);
	ck_assert_ptr_nonnull(strstr(vm.disk_path, "/disks/desk-1.img"));
	read_file(vm.disk_path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "clean disk");
	write_file(vm.disk_path, "alice's files");

	/* Logging off keeps it hers, running. */
	ck_assert_int_eq(broker_pools_release(pools, vm.id, "logout", 1001), 0);
	ck_assert_int_eq(fake.resets + fake.stops, 0);
	ck_assert_int_eq(broker_store_vm_get(s, vm.id, &row), 0);
	ck_assert_int_eq(row.user_id, alice.id);
	ck_assert_int_eq(broker_pools_allocate(pools, &bob, &p, 1001, &again, why, sizeof(why)), 0);
	ck_assert_int_ne(again.id, vm.id);

	/* Idle for grace + idle stop: stopped, still hers. */
	broker_pools_tick(pools, 1001 + 399);
	ck_assert_int_eq(fake.stops, 0);
	broker_pools_tick(pools, 1001 + 400);
	ck_assert_int_eq(fake.stops, 1);
	ck_assert_int_eq(fake.last_stop, vm.id);
	broker_pools_tick(pools, 1402);
	ck_assert_int_eq(broker_store_vm_get(s, vm.id, &row), 0);
	ck_assert_int_eq(row.user_id, alice.id);
	ck_assert_int_eq(row.state, BROKER_VM_STOPPED);

	/* Next login: the same VM, restarted, with her disk. */
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 2000, &again, why, sizeof(why)),
	                 -EAGAIN);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 2001, &again, why, sizeof(why)),
	                 0);
	ck_assert_int_eq(again.id, vm.id);
	read_file(again.disk_path, buf, sizeof(buf));
	ck_assert_str_eq(buf, "alice's files");
}
END_TEST

START_TEST(user_reset_and_requests)
{
	struct broker_pool p = add_pool("demo", BROKER_POOL_FLOATING, 1, 1, 4);
	struct broker_user alice = staff("alice"), bob = staff("bob");
	struct broker_vm_request rq = { .requested = 1000 };
	struct broker_vm_request *pending;
	struct broker_vm vm;
	char why[128];
	size_t n;

	broker_pools_tick(pools, 1000);
	ck_assert_int_eq(broker_pools_allocate(pools, &alice, &p, 1000, &vm, why, sizeof(why)), 0);
	ck_assert_int_eq(broker_pools_reset(pools, bob.id, vm.id), -EPERM);
	ck_assert_int_eq(broker_pools_reset(pools, alice.id, vm.id), 0);
	ck_assert_int_eq(fake.resets, 1);
	ck_assert_int_eq(broker_pools_reset(pools, alice.id, 9999), -ENOENT);

	rq.vm_id = vm.id;
	strcpy(rq.action, "reset");
	strcpy(rq.requested_by, "cli");
	ck_assert_int_eq(broker_store_vm_request_add(s, &rq), 0);
	broker_pools_tick(pools, 1001);
	ck_assert_int_eq(fake.resets, 2);
	ck_assert_int_eq(broker_store_vm_request_pending(s, &pending, &n), 0);
	ck_assert_uint_eq(n, 0);
	free(pending);
}
END_TEST

START_TEST(copy_file)
{
	char src[128], dst[128], buf[64];

	snprintf(src, sizeof(src), "%s/a", dir);
	snprintf(dst, sizeof(dst), "%s/b", dir);
	write_file(src, "hello disk");
	ck_assert_int_eq(broker_copy_file(src, dst), 0);
	read_file(dst, buf, sizeof(buf));
	ck_assert_str_eq(buf, "hello disk");
	ck_assert_int_eq(access(dst, R_OK), 0);
	ck_assert_int_eq(broker_copy_file("/nonexistent", dst), -ENOENT);
	ck_assert_int_eq(broker_copy_file(dir, dst), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *su = suite_create("broker_pools");
	TCase *tc = tcase_create("pools");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, vm_names);
	tcase_add_test(tc, spares_and_size);
	tcase_add_test(tc, allocate_spare_then_same);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, quota_while_stopping);
	tcase_add_test(tc, starting_is_reserved);
	tcase_add_test(tc, release_floating_resets);
	tcase_add_test(tc, disconnect_grace);
	tcase_add_test(tc, crash_replaced);
	tcase_add_test(tc, backoff);
	tcase_add_test(tc, persistent_keeps_vm_and_disk);
	tcase_add_test(tc, user_reset_and_requests);
	tcase_add_test(tc, copy_file);
	suite_add_tcase(su, tc);
	return su;
}

int main(void)
{
	return bt_run(suite());
}
