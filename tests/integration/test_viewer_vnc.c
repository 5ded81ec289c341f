// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-viewer against vdi-vmm's VNC server, on an Xvfb display, driven the
 * way a person would: the window must show the guest pixel for pixel at
 * 1:1 (compared with the vmm's screendump), keys typed and clicks made
 * with xdotool must reach the guest, resizing the window must resize the
 * guest, a .vv file must open, a refused password must end the viewer with
 * status 3 and a lost connection must be retried and then given up on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "test_viewer_util.h"

#define BOOT_TIMEOUT_MS 90000
#define WAIT_MS 30000
#define SECRET "vw7Kq2Zp"

static const char *const small_screen[] = { "--resolution", "800x600", "--spice", "none", NULL };

static void boot(struct vm *vm, const char *name)
{
	ck_assert_int_eq(vm_start(vm, name, small_screen), 0);
	ck_assert_msg(vm_wait_serial(vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not reach its desktop; serial:\n%s", vm_serial(vm));
}

static void set_ticket(struct vm *vm, const char *secret, const char *connected)
{
	json_t *args = json_pack("{s:s, s:s}", "protocol", "vnc", "secret", secret);

	if (connected)
		json_object_set_new(args, "connected", json_string(connected));
	json_decref(vm_ok(vm, "set-ticket", args));
}

static void start_x(struct xvfb *x, struct vm *vm)
{
	char log[400];

	snprintf(log, sizeof(log), "%s/xvfb.log", vm->dir);
	ck_assert_int_eq(xvfb_start(x, 1280, 1024, log), 0);
}

static const char *vnc_uri(struct vm *vm)
{
	static char uri[64];

	snprintf(uri, sizeof(uri), "vnc://127.0.0.1:%d", vm_display_port(vm, "vnc"));
	return uri;
}

static void expect_in_log(const struct viewer *v, const char *text)
{
	char *log = viewer_log(v);

	ck_assert_msg(strstr(log, text) != NULL, "'%s' not in the viewer's output:\n%s", text, log);
	free(log);
}

START_TEST(shows_the_desktop_and_types_and_clicks)
{
	struct vm vm;
	struct xvfb x;
	struct viewer v;
	char shot[400], title[256], want[64];
	const char *pw;
	int b[4], bx, by;

	boot(&vm, "vview1");
	start_x(&x, &vm);
	set_ticket(&vm, SECRET, NULL);
	pw = write_file(vm.dir, "pw", SECRET "\n");
	viewer_start(&v, &x, vm.dir, "viewer",
	             (const char *const[]){ "--password-file", pw, vnc_uri(&vm), NULL }, NULL);
	viewer_window(&v);
	/* The window takes the guest's size, and shows it pixel for pixel. */
	expect_window_size(&v, 800, 600);
	snprintf(shot, sizeof(shot), "%s/window.png", vm.dir);
	expect_window_equals_screendump(&vm, &v, shot);
	window_name(&v, title, sizeof(title));
	ck_assert_msg(strncmp(title, "vview1", 6) == 0, "window title '%s'", title);

	/* Keys typed at the window reach the guest's terminal. */
	focus(&v);
	type_line(&v, "help");
	ck_assert_msg(vm_wait_serial(&vm, "switch the machine off", 1, WAIT_MS) == 0,
	              "typed keys did not reach the guest:\n%s\nviewer:\n%s", vm_serial(&vm),
	              viewer_log(&v));
	/* Shifted characters too (scan codes: the guest's layout decides). */
	type_line(&v, "echo Hi There!");
	ck_assert_msg(vm_wait_serial(&vm, "Hi There!", 2, WAIT_MS) == 0, "echo not seen:\n%s",
	              vm_serial(&vm));
	expect_window_equals_screendump(&vm, &v, shot);

	/* A click on the guest's button, at the pixel under the pointer (absolute, 1:1). */
	ck_assert_int_eq(vm_layout(&vm, "button", b), 0);
	bx = b[0] + b[2] / 2;
	by = b[1] + b[3] / 2;
	click(&v, bx, by);
	ck_assert_msg(vm_wait_serial(&vm, "button: clicked count=1", 1, WAIT_MS) == 0,
	              "the click did not reach the guest:\n%s", vm_serial(&vm));
	snprintf(want, sizeof(want), "pointer: press button=1 x=%d y=%d", bx, by);
	ck_assert_msg(vm_serial_count(&vm, want) == 1, "expected '%s' in:\n%s", want,
	              vm_serial(&vm));
	expect_window_equals_screendump(&vm, &v, shot);

	/* Closing ends the viewer normally. */
	VIEWER_STOP_CLEANLY(&v);
	xvfb_stop(&x);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(window_and_guest_resize_each_other)
{
	struct vm vm;
	struct xvfb x;
	struct viewer v;
	char shot[400];

	boot(&vm, "vview2");
	start_x(&x, &vm);
	set_ticket(&vm, SECRET, NULL);
	viewer_start(&v, &x, vm.dir, "viewer", (const char *const[]){ vnc_uri(&vm), NULL },
	             (const char *const[]){ "VDI_PASSWORD=" SECRET, NULL });
	viewer_window(&v);
	expect_window_size(&v, 800, 600);
	snprintf(shot, sizeof(shot), "%s/window.png", vm.dir);

	/* The person makes the window larger: the guest follows (SetDesktopSize, EDID). */
	ck_assert_int_eq(xsh(&x, NULL, 0, "xdotool windowsize %lu 1024 768", v.window), 0);
	ck_assert_msg(vm_wait_serial(&vm, "EDID asks for 1024x768", 1, WAIT_MS) == 0,
	              "the guest was not asked for 1024x768:\n%s\nviewer:\n%s", vm_serial(&vm),
	              viewer_log(&v));
	ck_assert_int_eq(vm_wait_serial(&vm, "display: mode 1024x768", 1, WAIT_MS), 0);
	expect_window_size(&v, 1024, 768);
	expect_window_equals_screendump(&vm, &v, shot);

	/* The guest changes its mode: the window follows. */
	focus(&v);
	type_line(&v, "mode 640x480");
	ck_assert_int_eq(vm_wait_serial(&vm, "display: mode 640x480", 1, WAIT_MS), 0);
	expect_window_size(&v, 640, 480);
	expect_window_equals_screendump(&vm, &v, shot);
	VIEWER_STOP_CLEANLY(&v);
	xvfb_stop(&x);
	vm_cleanup(&vm);
}
END_TEST

/*
 * --no-resize-guest: a wider window keeps the guest's resolution and shows
 * it with bars at the sides, still pixel for pixel at this size, and a
 * click lands on the guest pixel under the pointer.
 */
START_TEST(letterbox_keeps_pixels_and_pointer)
{
	struct vm vm;
	struct xvfb x;
	struct viewer v;
	char shot[400], want[64];
	uint32_t *ref, *px = NULL;
	unsigned int w, h, sw = 0, sh = 0;
	unsigned long diff = ~0UL;
	int64_t end;
	int b[4], bx, by;

	boot(&vm, "vview6");
	start_x(&x, &vm);
	set_ticket(&vm, SECRET, NULL);
	viewer_start(&v, &x, vm.dir, "viewer",
	             (const char *const[]){ "--no-resize-guest", vnc_uri(&vm), NULL },
	             (const char *const[]){ "VDI_PASSWORD=" SECRET, NULL });
	viewer_window(&v);
	expect_window_size(&v, 800, 600);
	ck_assert_int_eq(xsh(&x, NULL, 0, "xdotool windowsize %lu 1000 600", v.window), 0);
	expect_window_size(&v, 1000, 600);
	snprintf(shot, sizeof(shot), "%s/letterbox.png", vm.dir);
	/* 800x600 in 1000x600: at x 100, with 100-pixel bars of the background colour. */
	end = harness_now_ms() + WAIT_MS;
	while (harness_now_ms() < end) {
		ref = vm_screendump(&vm, &w, &h);
		ck_assert_ptr_nonnull(ref);
		free(px);
		px = window_shot(&v, shot, &sw, &sh);
		diff = px && sw == 1000 && sh == 600 ? px_diff_at(px, sw, ref, w, h, 100, 0) : ~0UL;
		free(ref);
		if (diff == 0)
			break;
		usleep(200000);
	}
	ck_assert_msg(diff == 0, "the picture differs in %lu pixels (window %ux%u)", diff, sw, sh);
	for (unsigned int y = 0; y < 600; y += 50) {
		ck_assert_uint_eq(px[y * 1000 + 10], 0x1e1f22);
		ck_assert_uint_eq(px[y * 1000 + 990], 0x1e1f22);
	}
	free(px);
	/* The guest was not asked to change. */
	ck_assert_int_eq(vm_serial_count(&vm, "EDID asks"), 0);

	ck_assert_int_eq(vm_layout(&vm, "button", b), 0);
	bx = b[0] + b[2] / 2;
	by = b[1] + b[3] / 2;
	click(&v, 100 + bx, by);
	ck_assert_msg(vm_wait_serial(&vm, "button: clicked count=1", 1, WAIT_MS) == 0,
	              "the click did not reach the guest:\n%s", vm_serial(&vm));
	snprintf(want, sizeof(want), "pointer: press button=1 x=%d y=%d", bx, by);
	ck_assert_msg(vm_serial_count(&vm, want) == 1, "expected '%s' in:\n%s", want,
	              vm_serial(&vm));
	VIEWER_STOP_CLEANLY(&v);
	xvfb_stop(&x);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(opens_a_vv_file)
{
	struct vm vm;
	struct xvfb x;
	struct viewer v;
	char vv[600], shot[400], title[256];
	const char *path;

	boot(&vm, "vview3");
	start_x(&x, &vm);
	set_ticket(&vm, SECRET, NULL);
	snprintf(vv, sizeof(vv),
	         "[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=%d\npassword=%s\n"
	         "title=Finance desk\ndelete-this-file=1\nsecure-attention=ctrl+alt+end\n",
	         vm_display_port(&vm, "vnc"), SECRET);
	path = write_file(vm.dir, "desk.vv", vv);
	viewer_start(&v, &x, vm.dir, "viewer", (const char *const[]){ path, NULL }, NULL);
	viewer_window(&v);
	expect_window_size(&v, 800, 600);
	snprintf(shot, sizeof(shot), "%s/window.png", vm.dir);
	expect_window_equals_screendump(&vm, &v, shot);
	window_name(&v, title, sizeof(title));
	ck_assert_msg(strncmp(title, "Finance desk", 12) == 0, "window title '%s'", title);
	/* It asked to be deleted once read: the password in it is gone from the disk. */
	ck_assert_int_ne(access(path, F_OK), 0);
	VIEWER_STOP_CLEANLY(&v);

	/* The same from standard input ("-"), the way a broker client may pipe it. */
	set_ticket(&vm, SECRET, NULL);
	path = write_file(vm.dir, "again.vv", vv);
	{
		char args[600];

		snprintf(args, sizeof(args), "--retries 0 - < '%s'", path);
		viewer_start_sh(&v, &x, vm.dir, "stdin", args);
	}
	viewer_window(&v);
	expect_window_size(&v, 800, 600);
	expect_window_equals_screendump(&vm, &v, shot);
	/* From standard input there is no file to delete. */
	ck_assert_int_eq(access(path, F_OK), 0);
	VIEWER_STOP_CLEANLY(&v);
	xvfb_stop(&x);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(refused_password_exits_3)
{
	struct vm vm;
	struct xvfb x;
	struct viewer v;
	const char *pw;
	char *log;

	boot(&vm, "vview4");
	start_x(&x, &vm);
	set_ticket(&vm, SECRET, NULL);
	pw = write_file(vm.dir, "pw", "wrong123\n");
	viewer_start(&v, &x, vm.dir, "wrong",
	             (const char *const[]){ "--password-file", pw, vnc_uri(&vm), NULL }, NULL);
	ck_assert_int_eq(viewer_wait_exit(&v, WAIT_MS), 3);
	log = viewer_log(&v);
	ck_assert_msg(strstr(log, "refused the password") != NULL, "no clear message:\n%s", log);
	free(log);

	/* No password at all, for a server that wants one: also 3, and it says how to give one. */
	sleep(3); /* the server makes this address wait after a failure */
	viewer_start(&v, &x, vm.dir, "none", (const char *const[]){ vnc_uri(&vm), NULL }, NULL);
	ck_assert_int_eq(viewer_wait_exit(&v, WAIT_MS), 3);
	expect_in_log(&v, "--password-file");
	xvfb_stop(&x);
	vm_cleanup(&vm);
}
END_TEST

START_TEST(lost_connection_is_retried)
{
	struct vm vm;
	struct xvfb x;
	struct viewer v;
	char shot[400], title[256];
	json_t *ev;

	boot(&vm, "vview5");
	start_x(&x, &vm);
	set_ticket(&vm, SECRET, NULL);
	viewer_start(&v, &x, vm.dir, "viewer",
	             (const char *const[]){ "--retries", "2", vnc_uri(&vm), NULL },
	             (const char *const[]){ "VDI_PASSWORD=" SECRET, NULL });
	viewer_window(&v);
	ev = vm_wait_event(&vm, "client-connected", WAIT_MS);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	snprintf(shot, sizeof(shot), "%s/window.png", vm.dir);
	expect_window_equals_screendump(&vm, &v, shot);

	/* The broker hands out the same secret again and drops the session: the viewer comes back.
	 */
	set_ticket(&vm, SECRET, "disconnect");
	ev = vm_wait_event(&vm, "client-disconnected", WAIT_MS);
	ck_assert_ptr_nonnull(ev);
	json_decref(ev);
	ev = vm_wait_event(&vm, "client-connected", WAIT_MS);
	ck_assert_msg(ev != NULL, "the viewer did not reconnect:\n%s", viewer_log(&v));
	json_decref(ev);
	expect_window_equals_screendump(&vm, &v, shot);
	expect_in_log(&v, "trying again in");

	/* The desktop goes away: the viewer says so, retries, then gives up with status 4. */
	json_decref(vm_ok(&vm, "quit", NULL));
	ck_assert_int_eq(vm_wait_exit(&vm, WAIT_MS), 0);
	{
		int64_t end = harness_now_ms() + WAIT_MS;

		do {
			window_name(&v, title, sizeof(title));
			if (strstr(title, "(reconnecting)"))
				break;
			usleep(50000);
		} while (harness_now_ms() < end);
		ck_assert_msg(strstr(title, "(reconnecting)") != NULL, "title '%s'", title);
	}
	snprintf(shot, sizeof(shot), "%s/lost.png", vm.dir);
	{
		unsigned int w, h;

		free(window_shot(&v, shot, &w, &h));
	}
	ck_assert_int_eq(viewer_wait_exit(&v, 60000), 4);
	expect_in_log(&v, "gave up after 2 retries");
	xvfb_stop(&x);
	vm_cleanup(&vm);
}
END_TEST

/* Arguments are checked before any window opens: one line, status 2. */
START_TEST(bad_arguments_exit_2)
{
	static const char *const cases[][4] = {
		{ NULL },
		{ "vnc://127.0.0.1:5900?password=visible", NULL },
		{ "--retries", "many", "vnc://127.0.0.1:5900", NULL },
		{ "/nonexistent/file.vv", NULL },
		{ "vnc://127.0.0.1:5900", "spice://127.0.0.1:5900", NULL },
	};
	char dir[] = "/tmp/vdi-it-viewer-args-XXXXXX";
	struct xvfb none = { .name = ":9999" }; /* never reached */
	char out[4096];

	ck_assert_ptr_nonnull(mkdtemp(dir));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct viewer v;
		char *log;
		size_t lines = 0;

		viewer_start(&v, &none, dir, "args", cases[i], NULL);
		ck_assert_int_eq(viewer_wait_exit(&v, 10000), 2);
		log = viewer_log(&v);
		for (char *p = log; *p; p++)
			lines += *p == '\n';
		ck_assert_msg(lines == 1 && strncmp(log, "vdi-viewer: ", 12) == 0,
		              "case %zu: not one clear line:\n%s", i, log);
		free(log);
	}
	/* --help lists the exit codes. */
	ck_assert_int_eq(
	        xsh(&none, out, sizeof(out), "%s --help", harness_build_path("viewer/vdi-viewer")),
	        0);
	ck_assert_ptr_nonnull(strstr(out, "Exit status"));
	ck_assert_ptr_nonnull(strstr(out, "3  the server refused the password"));
	{
		char rm[100];

		snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
		ck_assert_int_eq(system(rm), 0);
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_vnc");
	TCase *tc = tcase_create("vnc");

	harness_require_kvm();
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, shows_the_desktop_and_types_and_clicks);
	tcase_add_test(tc, window_and_guest_resize_each_other);
	tcase_add_test(tc, letterbox_keeps_pixels_and_pointer);
	tcase_add_test(tc, opens_a_vv_file);
	tcase_add_test(tc, refused_password_exits_3);
	tcase_add_test(tc, lost_connection_is_retried);
	tcase_add_test(tc, bad_arguments_exit_2);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
