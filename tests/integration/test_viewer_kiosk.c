// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-viewer in broker mode against a real vdi-broker, on an Xvfb display
 * without a window manager (a kiosk's bare X server), typed into with
 * xdotool as a person would:
 *
 *  - a wrong password shows the error on the login screen; a broker whose
 *    certificate does not match the pinned fingerprint is refused with a
 *    clear message; an unreachable broker is said to be one;
 *  - the kiosk flow: sign in, the desktop is shown full screen; its
 *    connection breaks and the viewer comes back with a new ticket from
 *    the broker; the broker disconnects it and the login screen is back;
 *    sign in again, the logout hotkey signs out; sign in again, the idle
 *    timeout signs out.
 *
 * The kiosk flow needs KVM and the broker's VM supervision; while the
 * broker's connect answers 503 it is skipped (exit 77) with the reason.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker_harness.h"
#include "harness.h"
#include "test_viewer_util.h"

#define WAIT_MS 30000
#define DESKTOP_WAIT_MS 90000

/* Colours of the login screen (viewer/login.c): the panel, the error line. */
#define PANEL_RGB 0xf7f8fa
#define ERROR_RGB 0xc62828

/* Written by the kiosk flow when the broker cannot hand out desktops yet. */
static char skip_marker[] = "/tmp/vdi-it-kiosk-skip-XXXXXX";

static const char *url(const struct broker *b)
{
	static char u[64];

	snprintf(u, sizeof(u), "https://127.0.0.1:%d", b->port);
	return u;
}

static void start_x(struct xvfb *x, const char *dir)
{
	char log[400];

	snprintf(log, sizeof(log), "%s/xvfb.log", dir);
	ck_assert_int_eq(xvfb_start(x, 1024, 768, log), 0);
}

/* Wait until the viewer's output has @text at least @count times. */
static bool wait_log(const struct viewer *v, const char *text, int count, int timeout_ms)
{
	int64_t end = harness_now_ms() + timeout_ms;

	do {
		char *log = viewer_log(v);
		int n = 0;

		for (const char *p = log; (p = strstr(p, text)); p++)
			n++;
		free(log);
		if (n >= count)
			return true;
		usleep(100000);
	} while (harness_now_ms() < end);
	return false;
}

#define EXPECT_LOG(v, text, count, ms)                                                            \
	ck_assert_msg(wait_log(v, text, count, ms), "'%s' (x%d) not in the viewer's output:\n%s", \
	              text, count, viewer_log(v))

/* Pixels of exactly @rgb on the whole screen. */
static unsigned long screen_count(const struct xvfb *x, const char *path, uint32_t rgb)
{
	unsigned int w = 0, h = 0;
	uint32_t *px = xvfb_screenshot(x, path, &w, &h);
	int all[4] = { 0, 0, 0, 0 };
	unsigned long n;

	if (!px)
		return 0;
	all[2] = (int)w;
	all[3] = (int)h;
	n = px_count(px, w, all, rgb);
	free(px);
	return n;
}

/* Wait until at least (@more) or fewer than (!@more) @n pixels are @rgb. */
static void expect_pixels(const struct xvfb *x, const struct viewer *v, const char *path,
                          uint32_t rgb, unsigned long n, bool more, const char *what)
{
	int64_t end = harness_now_ms() + WAIT_MS;
	unsigned long got;

	do {
		got = screen_count(x, path, rgb);
		if (more ? got >= n : got < n)
			return;
		usleep(200000);
	} while (harness_now_ms() < end);
	ck_abort_msg("%s: %lu pixels of %06x (see %s)\n%s", what, got, rgb, path, viewer_log(v));
}

static void key(const struct viewer *v, const char *keys)
{
	ck_assert_int_eq(xsh(v->x, NULL, 0, "xdotool key --delay 60 %s", keys), 0);
}

/* Type the user name and the password into the login screen and press Enter after each. */
static void sign_in(const struct viewer *v, const char *user, const char *password)
{
	/* Enter in the user name goes on to the password field. */
	type_line(v, user);
	type_line(v, password);
}

START_TEST(bad_password_and_bad_broker)
{
	struct broker b;
	struct xvfb x;
	struct viewer v;
	char conf[300], shot[400], wrong_fp[100];
	FILE *f;

	/* No pools: the login screen is all this needs (and no KVM). */
	snprintf(conf, sizeof(conf), "/tmp/vdi-it-kiosk-%d.conf", (int)getpid());
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[broker]\nlog_level = info\n", f);
	fclose(f);
	ck_assert_int_eq(broker_start(&b, (const char *const[]){ "--config", conf, NULL }), 0);
	ck_assert_msg(b.fingerprint[0], "the broker printed no fingerprint");
	start_x(&x, b.dir);

	viewer_start(&v, &x, b.dir, "bad-password",
	             (const char *const[]){ "--broker", url(&b), "--fingerprint", b.fingerprint,
	                                    "--kiosk", NULL },
	             NULL);
	viewer_window(&v);
	snprintf(shot, sizeof(shot), "%s/login.png", b.dir);
	/* The login panel, full screen on a bare X server. */
	expect_pixels(&x, &v, shot, PANEL_RGB, 100000, true, "no login panel");
	{
		int w, h;

		window_size(&v, &w, &h);
		ck_assert_msg(w == 1024 && h == 768, "the kiosk window is %dx%d", w, h);
	}
	/* No focus given by anyone: the kiosk takes it itself. */
	sign_in(&v, "admin", "not-the-password");
	EXPECT_LOG(&v, "login: bad_credentials", 1, WAIT_MS);
	snprintf(shot, sizeof(shot), "%s/bad-password.png", b.dir);
	expect_pixels(&x, &v, shot, ERROR_RGB, 30, true, "no error line");
	/* Still there: a kiosk does not end on a wrong password. */
	ck_assert(viewer_running(&v));
	/* The right one goes through (no pool: it says so and stays on the login screen). */
	type_line(&v, b.admin_password);
	EXPECT_LOG(&v, "login: signed in as admin", 1, WAIT_MS);
	EXPECT_LOG(&v, "login: 0 pools", 1, WAIT_MS);
	VIEWER_STOP_CLEANLY(&v);

	/* A broker whose certificate is not the pinned one is refused, and said to be. */
	snprintf(wrong_fp, sizeof(wrong_fp), "%s", b.fingerprint);
	wrong_fp[0] = wrong_fp[0] == 'A' ? 'B' : 'A';
	viewer_start(&v, &x, b.dir, "bad-fingerprint",
	             (const char *const[]){ "--broker", url(&b), "--fingerprint", wrong_fp, NULL },
	             NULL);
	viewer_window(&v);
	focus(&v);
	sign_in(&v, "admin", b.admin_password);
	EXPECT_LOG(&v, "login: certificate_refused", 1, WAIT_MS);
	EXPECT_LOG(&v, "does not have the expected fingerprint", 1, WAIT_MS);
	snprintf(shot, sizeof(shot), "%s/bad-fingerprint.png", b.dir);
	expect_pixels(&x, &v, shot, ERROR_RGB, 30, true, "no error line");
	VIEWER_STOP_CLEANLY(&v);

	/* Its self-signed certificate is not one the system trusts either. */
	viewer_start(&v, &x, b.dir, "untrusted", (const char *const[]){ "--broker", url(&b), NULL },
	             NULL);
	viewer_window(&v);
	focus(&v);
	sign_in(&v, "admin", b.admin_password);
	EXPECT_LOG(&v, "the broker's certificate is not trusted", 1, WAIT_MS);
	VIEWER_STOP_CLEANLY(&v);

	/* With --ca naming it, it is (the address is in its subjectAltName). */
	{
		char ca[400];

		snprintf(ca, sizeof(ca), "%s/tls/server-cert.pem", b.dir);
		viewer_start(&v, &x, b.dir, "ca",
		             (const char *const[]){ "--broker", url(&b), "--ca", ca, NULL }, NULL);
		viewer_window(&v);
		focus(&v);
		sign_in(&v, "admin", b.admin_password);
		EXPECT_LOG(&v, "login: signed in as admin", 1, WAIT_MS);
		/* Closed while signed in: it signs out on the way, so the broker drops the session.
		 */
		VIEWER_STOP_CLEANLY(&v);
		EXPECT_LOG(&v, "broker: logout: ok", 1, 0);
	}

	/* Nobody listening: "cannot reach". */
	ck_assert_int_eq(broker_stop(&b), 0);
	viewer_start(
	        &v, &x, b.dir, "unreachable",
	        (const char *const[]){ "--broker", url(&b), "--fingerprint", b.fingerprint, NULL },
	        NULL);
	viewer_window(&v);
	focus(&v);
	sign_in(&v, "admin", b.admin_password);
	EXPECT_LOG(&v, "login: unreachable", 1, WAIT_MS);
	VIEWER_STOP_CLEANLY(&v);

	xvfb_stop(&x);
	broker_cleanup(&b);
	unlink(conf);
}
END_TEST

/* Kill every process whose command line names @dir (the broker's VMMs run in sessions of their
 * own). */
static void kill_below(const char *dir)
{
	DIR *proc = opendir("/proc");
	struct dirent *de;

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
		if (n > 0 && (buf[n] = 0, strstr(buf, dir)))
			kill(pid, SIGKILL);
	}
	if (proc)
		closedir(proc);
}

/* The name of the desktop @user holds, through the API; "" when none. */
static void user_desktop(struct broker *b, const char *user, const char *password, char *vm,
                         size_t size)
{
	char auth[200];
	const char *token;
	struct http_reply r;
	json_t *j;
	int status;

	vm[0] = '\0';
	token = broker_login(b, user, password, &status);
	ck_assert_msg(token, "login as %s: %d", user, status);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	ck_assert_int_eq(broker_http(b, "GET", "/api/v1/desktops", auth, NULL, 0, &r), 0);
	j = http_json(&r);
	if (json_array_size(json_object_get(j, "desktops")) > 0)
		snprintf(vm, size, "%s",
		         json_string_value(json_object_get(
		                 json_array_get(json_object_get(j, "desktops"), 0), "vm")));
	json_decref(j);
	http_reply_free(&r);
}

/*
 * Drop @vm's console clients through its vdi-vmm control socket (as a
 * network cut would), with a new ticket nobody has.
 */
static void drop_console(struct broker *b, const char *vm)
{
	static const char req[] =
	        "{\"id\":1,\"cmd\":\"set-ticket\",\"args\":{\"protocol\":"
	        "\"vnc\",\"secret\":\"nobody01\",\"connected\":\"disconnect\"}}\n";
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	char reply[512];
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_lt(
	        snprintf(sa.sun_path, sizeof(sa.sun_path), "%.60s/run/%.40s.sock", b->dir, vm),
	        (int)sizeof(sa.sun_path));
	ck_assert_msg(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0, "%s: %s", sa.sun_path,
	              strerror(errno));
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	n = read(fd, reply, sizeof(reply) - 1);
	ck_assert_int_gt(n, 0);
	reply[n] = '\0';
	ck_assert_msg(strstr(reply, "\"ok\""), "set-ticket: %s", reply);
	close(fd);
}

static void disconnect(struct broker *b, const char *user, const char *password, const char *vm)
{
	char auth[200], path[200];
	const char *token;
	struct http_reply r;
	int status;

	token = broker_login(b, user, password, &status);
	ck_assert_ptr_nonnull(token);
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s\r\n", token);
	snprintf(path, sizeof(path), "/api/v1/desktops/%s/disconnect", vm);
	ck_assert_int_eq(broker_http(b, "POST", path, auth, NULL, 0, &r), 0);
	ck_assert_msg(r.status == 200, "disconnect: %d %s", r.status, r.body);
	http_reply_free(&r);
}

/* Signed in and the desktop shown; false when the broker has no desktop to give (503). */
static bool desktop_shown(struct xvfb *x, struct viewer *v, const char *shot, int nth)
{
	int64_t end = harness_now_ms() + DESKTOP_WAIT_MS;
	char title[256];

	while (harness_now_ms() < end) {
		if (wait_log(v, "vnc: connected", nth, 200))
			break;
		/* The login screen gave up on connect: "unavailable" without a Retry-After. */
		if (wait_log(v, "login: unavailable", 1, 0))
			return false;
	}
	EXPECT_LOG(v, "vnc: connected", nth, 0);
	/* The guest's picture fills the screen: the login panel is gone. */
	expect_pixels(x, v, shot, PANEL_RGB, 2000, false, "the login panel is still shown");
	window_name(v, title, sizeof(title));
	ck_assert_msg(strncmp(title, "demo-", 5) == 0, "window title '%s'", title);
	return true;
}

START_TEST(kiosk_flow)
{
	struct broker b;
	struct xvfb x;
	struct viewer v;
	char shot[400], vm[80];

	ck_assert_int_eq(broker_start(&b, NULL), 0);
	start_x(&x, b.dir);
	viewer_start(&v, &x, b.dir, "kiosk",
	             (const char *const[]){ "--broker", url(&b), "--fingerprint", b.fingerprint,
	                                    "--kiosk", "--idle-timeout", "25", NULL },
	             NULL);
	viewer_window(&v);
	snprintf(shot, sizeof(shot), "%s/kiosk.png", b.dir);
	expect_pixels(&x, &v, shot, PANEL_RGB, 100000, true, "no login panel");

	/* 1. Sign in: the one pool is connected to at once and its desktop shown. */
	sign_in(&v, "admin", b.admin_password);
	if (!desktop_shown(&x, &v, shot, 1)) {
		FILE *f = fopen(skip_marker, "w");

		if (f) {
			fputs("the broker's connect answers 503 (no desktop available): VM "
			      "supervision is not there yet\n",
			      f);
			fclose(f);
		}
		goto out;
	}
	EXPECT_LOG(&v, "login: 1 pool", 1, 0);
	user_desktop(&b, "admin", b.admin_password, vm, sizeof(vm));
	ck_assert_msg(vm[0], "admin has no desktop");

	/*
	 * 2. The connection breaks: the old one-time ticket is no good, so the
	 * viewer asks the broker for a new one and is back on the desktop.
	 */
	drop_console(&b, vm);
	EXPECT_LOG(&v, "kiosk: a new ticket for", 1, WAIT_MS);
	EXPECT_LOG(&v, "vnc: connected", 2, WAIT_MS);
	ck_assert(!wait_log(&v, "kiosk: login screen:", 1, 0));

	/* 3. The broker takes the desktop back: the login screen returns. */
	disconnect(&b, "admin", b.admin_password, vm);
	EXPECT_LOG(&v, "kiosk: login screen: Your desktop was disconnected.", 1, WAIT_MS);
	snprintf(shot, sizeof(shot), "%s/after-disconnect.png", b.dir);
	expect_pixels(&x, &v, shot, PANEL_RGB, 100000, true, "no login panel after disconnect");

	/* 4. Again, with a new ticket; the logout hotkey signs out. */
	sign_in(&v, "admin", b.admin_password);
	snprintf(shot, sizeof(shot), "%s/desktop-2.png", b.dir);
	ck_assert(desktop_shown(&x, &v, shot, 3));
	key(&v, "ctrl+alt+shift+l");
	EXPECT_LOG(&v, "kiosk: login screen: You have signed out.", 1, WAIT_MS);

	/* 5. Again; nobody touches it: the idle timeout signs out. */
	sign_in(&v, "admin", b.admin_password);
	snprintf(shot, sizeof(shot), "%s/desktop-3.png", b.dir);
	ck_assert(desktop_shown(&x, &v, shot, 4));
	EXPECT_LOG(&v, "kiosk: login screen: You were signed out after 25 seconds", 1, 50000);
	snprintf(shot, sizeof(shot), "%s/after-idle.png", b.dir);
	expect_pixels(&x, &v, shot, PANEL_RGB, 100000, true, "no login panel after the timeout");
	ck_assert(viewer_running(&v));

out:
	VIEWER_STOP_CLEANLY(&v);
	xvfb_stop(&x);
	broker_stop(&b);
	kill_below(b.dir);
	broker_cleanup(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_kiosk");
	TCase *tc = tcase_create("kiosk");
	char why[300] = "";
	FILE *f;
	int fd, r;

	fd = mkstemp(skip_marker);
	if (fd >= 0)
		close(fd);
	unlink(skip_marker);
	tcase_set_timeout(tc, 280);
	tcase_add_test(tc, bad_password_and_bad_broker);
	if (access("/dev/kvm", R_OK | W_OK) == 0)
		tcase_add_test(tc, kiosk_flow);
	else
		snprintf(why, sizeof(why),
		         "/dev/kvm is not usable here: the kiosk flow needs KVM\n");
	suite_add_tcase(s, tc);
	r = harness_run(s);
	f = fopen(skip_marker, "r");
	if (f) {
		if (!fgets(why, sizeof(why), f))
			why[0] = '\0';
		fclose(f);
		unlink(skip_marker);
	}
	if (r == 0 && why[0]) {
		printf("SKIP: %s", why);
		return SKIP_EXIT;
	}
	return r;
}
