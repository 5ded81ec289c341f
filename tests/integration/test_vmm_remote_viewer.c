// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A third-party SPICE client against vdi-vmm: remote-viewer (virt-viewer,
 * from Debian) opens a .vv file with the ticket, under Xvfb, the way the
 * broker's users open the files it hands out. The guest's desktop must
 * appear in a screenshot of the X screen pixel for pixel as screendump
 * shows it, wherever remote-viewer placed it in its window.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "proto/vv.h"

#define BOOT_TIMEOUT_MS 90000
#define WAIT_MS 60000
#define SECRET "rv-Ticket-93kd"

static const char *const small_screen[] = { "--resolution", "800x600", "--vnc", "none", NULL };

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "cannot write %s", path);
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(remote_viewer_shows_the_desktop)
{
	struct vm vm;
	struct xvfb x;
	struct proto_vv vv;
	char vv_path[400], shot[400], xlog[400], rvlog[400], home[400], *text;
	char env_home[450], env_config[450], env_cache[450], env_runtime[450], env_display[40];
	const char *env[] = {
		env_home,    env_config,        env_cache,        env_runtime,
		env_display, "GDK_BACKEND=x11", "NO_AT_BRIDGE=1", "GSETTINGS_BACKEND=memory",
		NULL
	};
	const char *argv[] = { "remote-viewer", vv_path, NULL };
	unsigned int sw = 0, sh = 0, gw = 0, gh = 0, ox = 0, oy = 0;
	unsigned long diff = ~0UL;
	bool found = false;
	int64_t end;
	pid_t rv;
	json_t *ev;
	int port;

	ck_assert_int_eq(vm_start(&vm, "rview1", small_screen), 0);
	ck_assert_msg(vm_wait_serial(&vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not reach its desktop; serial:\n%s", vm_serial(&vm));
	port = vm_display_port(&vm, "spice");
	ck_assert_int_gt(port, 0);
	json_decref(vm_ok(&vm, "set-ticket",
	                  json_pack("{s:s, s:s}", "protocol", "spice", "secret", SECRET)));

	/* The connection file, as the broker writes it. */
	proto_vv_init(&vv);
	vv.type = "spice";
	vv.host = "127.0.0.1";
	vv.port = port;
	vv.password = SECRET;
	vv.title = "rview1";
	text = proto_vv_write(&vv);
	ck_assert_ptr_nonnull(text);
	snprintf(vv_path, sizeof(vv_path), "%s/desktop.vv", vm.dir);
	write_file(vv_path, text);
	free(text);

	snprintf(xlog, sizeof(xlog), "%s/xvfb.log", vm.dir);
	ck_assert_int_eq(xvfb_start(&x, 1280, 1024, xlog), 0);

	/* A private home, so remote-viewer neither reads nor writes the user's settings. */
	snprintf(home, sizeof(home), "%s/home", vm.dir);
	ck_assert_int_eq(mkdir(home, 0700), 0);
	snprintf(env_home, sizeof(env_home), "HOME=%s", home);
	snprintf(env_config, sizeof(env_config), "XDG_CONFIG_HOME=%s/.config", home);
	snprintf(env_cache, sizeof(env_cache), "XDG_CACHE_HOME=%s/.cache", home);
	snprintf(env_runtime, sizeof(env_runtime), "XDG_RUNTIME_DIR=%s", home);
	snprintf(env_display, sizeof(env_display), "DISPLAY=%s", x.name);
	snprintf(rvlog, sizeof(rvlog), "%s/remote-viewer.log", vm.dir);
	rv = harness_spawn(argv, env, rvlog);
	ck_assert_int_gt(rv, 0);

	ev = vm_wait_event(&vm, "client-connected", WAIT_MS);
	ck_assert_msg(ev != NULL, "remote-viewer did not log in; see %s", rvlog);
	ck_assert_str_eq(
	        json_string_value(json_object_get(json_object_get(ev, "data"), "protocol")),
	        "spice");
	json_decref(ev);

	/*
	 * Find the guest's picture in the X screen. The clock in the top bar may
	 * tick between screendump and screenshot: look again until they agree.
	 */
	snprintf(shot, sizeof(shot), "%s/remote-viewer.png", vm.dir);
	end = harness_now_ms() + WAIT_MS;
	while (harness_now_ms() < end) {
		uint32_t *ref = vm_screendump(&vm, &gw, &gh), *scr;

		ck_assert_ptr_nonnull(ref);
		scr = xvfb_screenshot(&x, shot, &sw, &sh);
		ck_assert_msg(scr != NULL, "import could not grab the X screen %s", x.name);
		found = px_find(scr, sw, sh, ref, gw, gh, &ox, &oy, &diff) == 0;
		free(ref);
		free(scr);
		if (found && diff == 0)
			break;
		usleep(300000);
	}
	ck_assert_msg(found, "the %ux%u desktop is nowhere in the %ux%u screenshot %s", gw, gh, sw,
	              sh, shot);
	ck_assert_msg(diff == 0, "the desktop at (%u,%u) of %s differs in %lu pixels", ox, oy, shot,
	              diff);
	printf("remote-viewer shows the %ux%u desktop at (%u,%u) of the X screen: %s\n", gw, gh, ox,
	       oy, shot);

	/* Closing the viewer is a client leaving. */
	harness_stop(rv, 5000);
	ev = vm_wait_event(&vm, "client-disconnected", WAIT_MS);
	ck_assert_msg(ev != NULL, "no client-disconnected after remote-viewer quit");
	json_decref(ev);
	xvfb_stop(&x);
	/* A clean exit: in a sanitizer build, leaks or memory errors would fail it. */
	json_decref(vm_cmd(&vm, "quit", NULL));
	ck_assert_int_eq(vm_wait_exit(&vm, WAIT_MS), 0);
	vm_cleanup(&vm);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_remote_viewer");
	TCase *tc = tcase_create("remote_viewer");

	harness_require_kvm();
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, remote_viewer_shows_the_desktop);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
