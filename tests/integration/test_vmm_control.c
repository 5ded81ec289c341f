// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket under bad input and many clients: every bad request
 * gets an error reply on a connection that stays usable, an over-long line
 * closes only its own connection, events reach every client, and nothing
 * a client sends disturbs the guest.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"

#define BOOT_TIMEOUT_MS 90000

static const char *const tiny_screen[] = { "--resolution", "640x480", NULL };

/* Send @line (with its newline) and return the reply, which must be an error of @cls. */
static void expect_error(struct vm *vm, const char *line, const char *cls)
{
	json_t *msg, *err;

	ck_assert_int_eq(vm_send_raw(vm, line, strlen(line)), 0);
	do {
		msg = vm_read_msg(vm, 10000);
		ck_assert_msg(msg != NULL, "no reply to %s", line);
	} while (json_object_get(msg, "event") && (json_decref(msg), 1));
	err = json_object_get(msg, "error");
	ck_assert_msg(err != NULL, "no error for %s", line);
	ck_assert_str_eq(json_string_value(json_object_get(err, "class")), cls);
	ck_assert_ptr_nonnull(json_string_value(json_object_get(err, "desc")));
	json_decref(msg);
}

static void still_running(struct vm *vm)
{
	json_t *st = vm_ok(vm, "query-status", NULL);

	ck_assert_str_eq(json_string_value(json_object_get(st, "status")), "running");
	json_decref(st);
}

START_TEST(bad_requests_get_errors)
{
	struct vm vm;

	ck_assert_int_eq(vm_start(&vm, "ctl1", tiny_screen), 0);
	expect_error(&vm, "this is not json\n", "BadRequest");
	expect_error(&vm, "[1,2,3]\n", "BadRequest");
	expect_error(&vm, "{\"id\":1}\n", "BadRequest");
	expect_error(&vm, "{\"id\":\"x\",\"cmd\":\"query-status\"}\n", "BadRequest");
	expect_error(&vm, "{\"id\":2,\"cmd\":\"query-status\",\"args\":[]}\n", "BadRequest");
	expect_error(&vm, "{\"id\":3,\"cmd\":\"no-such-command\"}\n", "UnknownCommand");
	expect_error(&vm, "{\"id\":4,\"cmd\":\"screendump\",\"args\":{\"path\":\"rel.png\"}}\n",
	             "InvalidArgument");
	expect_error(&vm, "{\"id\":5,\"cmd\":\"send-key\",\"args\":{\"keys\":[\"nokey\"]}}\n",
	             "InvalidArgument");
	expect_error(&vm, "{\"id\":6,\"cmd\":\"pointer\",\"args\":{\"x\":-1,\"y\":0}}\n",
	             "InvalidArgument");
	expect_error(&vm,
	             "{\"id\":7,\"cmd\":\"set-ticket\",\"args\":{\"protocol\":\"rdp\",\"secret\":"
	             "\"x\"}}\n",
	             "InvalidArgument");
	expect_error(&vm,
	             "{\"id\":8,\"cmd\":\"set-ticket\",\"args\":{\"protocol\":\"vnc\",\"secret\":"
	             "\"longer-than-8\"}}\n",
	             "InvalidArgument");
	expect_error(&vm, "{\"id\":9,\"cmd\":\"stop\",\"args\":{\"now\":true}}\n",
	             "InvalidArgument");
	/* The same connection still works, and the guest went on booting. */
	still_running(&vm);
	ck_assert_msg(vm_wait_serial(&vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "guest disturbed by bad requests:\n%s", vm_serial(&vm));
	json_decref(vm_ok(&vm, "set-ticket",
	                  json_pack("{s:s, s:s, s:i}", "protocol", "vnc", "secret", "s3cr3t",
	                            "expires_in", 60)));
	vm_cleanup(&vm);
}
END_TEST

START_TEST(long_line_closes_only_its_connection)
{
	struct vm vm;
	size_t n = 70000;
	char *junk = malloc(n);
	int other, r;
	char c;
	struct pollfd pfd;

	ck_assert_int_eq(vm_start(&vm, "ctl2", tiny_screen), 0);
	other = vm_connect(&vm);
	ck_assert_int_ge(other, 0);
	memset(junk, 'x', n);
	vm_send_raw(&vm, junk, n);
	free(junk);
	/* An error line, then end of file on the offending connection. */
	{
		json_t *msg = vm_read_msg(&vm, 10000);

		ck_assert_ptr_nonnull(msg);
		ck_assert_ptr_nonnull(json_object_get(msg, "error"));
		json_decref(msg);
	}
	pfd = (struct pollfd){ .fd = vm.ctl, .events = POLLIN };
	ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
	r = (int)recv(vm.ctl, &c, 1, 0);
	ck_assert_int_le(r, 0);
	/* The other client is unaffected. */
	close(vm.ctl);
	vm.ctl = other;
	vm.len = 0;
	still_running(&vm);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(events_reach_every_client)
{
	struct vm vm, second;
	json_t *ev;

	ck_assert_int_eq(vm_start(&vm, "ctl3", tiny_screen), 0);
	second = vm;
	second.ctl = vm_connect(&vm);
	second.len = 0;
	second.events = json_array();
	second.pid = 0;
	second.dir[0] = '\0';
	ck_assert_int_ge(second.ctl, 0);
	json_decref(vm_ok(&second, "query-status", NULL));
	json_decref(vm_ok(&vm, "reset", NULL));
	ev = vm_wait_event(&second, "guest-reset", 10000);
	ck_assert_ptr_nonnull(ev);
	ck_assert_str_eq(json_string_value(json_object_get(json_object_get(ev, "data"), "reason")),
	                 "control");
	json_decref(ev);
	vm_cleanup(&second);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(many_clients)
{
	struct vm vm;
	int fds[40], opened = 0;

	ck_assert_int_eq(vm_start(&vm, "ctl4", tiny_screen), 0);
	for (int i = 0; i < 40; i++) {
		fds[i] = vm_connect(&vm);
		if (fds[i] >= 0)
			opened++;
	}
	/* Clients over the limit are turned away; the vmm and the first client stay fine. */
	usleep(200000);
	still_running(&vm);
	for (int i = 0; i < 40; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	ck_assert_int_gt(opened, 0);
	still_running(&vm);
	vm_cleanup(&vm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_control");
	TCase *tc = tcase_create("control");

	harness_require_kvm();
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, bad_requests_get_errors);
	tcase_add_test(tc, long_line_closes_only_its_connection);
	tcase_add_test(tc, events_reach_every_client);
	tcase_add_test(tc, many_clients);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
