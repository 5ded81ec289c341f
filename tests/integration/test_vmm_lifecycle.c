// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-vmm's life cycle as the broker drives it: reset from the control
 * socket and from the guest, stop/cont, guest power-off, quit and SIGTERM,
 * each ending the way the broker relies on (exit status, events, the
 * control socket removed).
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define BOOT_TIMEOUT_MS 90000

static const char *const tiny_screen[] = { "--resolution", "640x480", NULL };

static void boot(struct vm *vm, const char *name)
{
	ck_assert_int_eq(vm_start(vm, name, tiny_screen), 0);
	ck_assert_msg(vm_wait_serial(vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not reach its desktop; serial:\n%s", vm_serial(vm));
}

static const char *status_of(struct vm *vm)
{
	static char s[32];
	json_t *st = vm_ok(vm, "query-status", NULL);

	snprintf(s, sizeof(s), "%s", json_string_value(json_object_get(st, "status")));
	json_decref(st);
	return s;
}

START_TEST(reset_from_control)
{
	struct vm vm;
	json_t *ev, *st;

	boot(&vm, "life1");
	json_decref(vm_ok(&vm, "reset", NULL));
	ev = vm_wait_event(&vm, "guest-reset", 5000);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	ck_assert_msg(vm_wait_serial(&vm, "desktop: ready", 2, BOOT_TIMEOUT_MS) == 0,
	              "no second boot:\n%s", vm_serial(&vm));
	ck_assert_int_eq(vm_serial_count(&vm, "booting"), 2);
	st = vm_ok(&vm, "query-status", NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(st, "boots")), 2);
	json_decref(st);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(reboot_from_guest)
{
	struct vm vm;
	json_t *ev;

	boot(&vm, "life2");
	vm_type(&vm, "reboot\n");
	ev = vm_wait_event(&vm, "guest-reset", 30000);
	ck_assert_msg(ev != NULL, "no guest-reset event:\n%s", vm_serial(&vm));
	json_decref(ev);
	ck_assert_msg(vm_wait_serial(&vm, "desktop: ready", 2, BOOT_TIMEOUT_MS) == 0,
	              "no second boot:\n%s", vm_serial(&vm));
	vm_cleanup(&vm);
}
END_TEST

START_TEST(stop_and_cont)
{
	struct vm vm;
	int before;

	boot(&vm, "life3");
	json_decref(vm_ok(&vm, "stop", NULL));
	ck_assert_str_eq(status_of(&vm), "paused");
	/* A paused guest does not run: typed keys are only seen after cont. */
	vm_type(&vm, "echo pq7\n");
	usleep(500000);
	before = vm_serial_count(&vm, "pq7");
	ck_assert_int_eq(before, 0);
	json_decref(vm_ok(&vm, "cont", NULL));
	ck_assert_str_eq(status_of(&vm), "running");
	ck_assert_msg(vm_wait_serial(&vm, "pq7", 2, 30000) == 0,
	              "keys typed while paused were lost:\n%s", vm_serial(&vm));
	vm_cleanup(&vm);
}
END_TEST

START_TEST(poweroff_exits_zero)
{
	struct vm vm;

	boot(&vm, "life4");
	vm_type(&vm, "poweroff\n");
	ck_assert_int_eq(vm_wait_exit(&vm, 30000), 0);
	ck_assert_msg(access(vm.sock, F_OK) != 0, "control socket left behind");
	vm_cleanup(&vm);
}
END_TEST

START_TEST(quit_exits_zero)
{
	struct vm vm;

	boot(&vm, "life5");
	json_decref(vm_ok(&vm, "quit", NULL));
	ck_assert_int_eq(vm_wait_exit(&vm, 10000), 0);
	ck_assert_msg(access(vm.sock, F_OK) != 0, "control socket left behind");
	vm_cleanup(&vm);
}
END_TEST

START_TEST(sigterm_exits_zero)
{
	struct vm vm;

	boot(&vm, "life6");
	kill(vm.pid, SIGTERM);
	ck_assert_int_eq(vm_wait_exit(&vm, 10000), 0);
	ck_assert_msg(access(vm.sock, F_OK) != 0, "control socket left behind");
	vm_cleanup(&vm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_lifecycle");
	TCase *tc = tcase_create("lifecycle");

	harness_require_kvm();
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, reset_from_control);
	tcase_add_test(tc, reboot_from_guest);
	tcase_add_test(tc, stop_and_cont);
	tcase_add_test(tc, poweroff_exits_zero);
	tcase_add_test(tc, quit_exits_zero);
	tcase_add_test(tc, sigterm_exits_zero);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
