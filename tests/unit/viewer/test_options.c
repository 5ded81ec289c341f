// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The command line: URIs, .vv files (from a file or standard input), the
 * password sources and their order, and one clear error for bad input.
 * Every case runs in its own process (fork mode), so changing the
 * environment or standard input stays local.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input-event-codes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "viewer/keymap.h"
#include "viewer/options.h"

static char dir[] = "/tmp/vdi-viewer-options-XXXXXX";

static void setup(void)
{
	ck_assert_ptr_nonnull(mkdtemp(dir));
	unsetenv("VDI_PASSWORD");
}

static void teardown(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		(void)0;
}

/* Write @text to a file named @name in the test's directory; its path (static). */
static const char *file(const char *name, const char *text)
{
	static char path[4][300];
	static int next;
	char *p = path[next++ % 4];
	FILE *f;

	snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
	f = fopen(p, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

/* Make @text standard input. */
static void stdin_from(const char *text)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	ck_assert_int_eq(dup2(p[0], STDIN_FILENO), STDIN_FILENO);
	close(p[0]);
}

/* Parse the NULL-terminated arguments after the program name; the result. */
static int parse(struct viewer_options *o, char *err, size_t size, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "vdi-viewer";
	va_start(ap, size);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	err[0] = '\0';
	return viewer_options_parse(o, argc, argv, err, size);
}

#define PARSE_OK(o, ...)                                              \
	do {                                                          \
		char e_[512];                                         \
		int r_ = parse(o, e_, sizeof(e_), __VA_ARGS__, NULL); \
		ck_assert_msg(r_ == 0, "refused (%d): %s", r_, e_);   \
	} while (0)

/* The arguments are refused with a message containing @want. */
#define PARSE_BAD(want, ...)                                                                  \
	do {                                                                                  \
		struct viewer_options o_;                                                     \
		char e_[512];                                                                 \
		int r_ = parse(&o_, e_, sizeof(e_), __VA_ARGS__, NULL);                       \
		ck_assert_msg(r_ == -EINVAL, "accepted (%d)", r_);                            \
		ck_assert_msg(strstr(e_, want) != NULL, "message '%s' lacks '%s'", e_, want); \
		ck_assert_msg(strchr(e_, '\n') == NULL, "message '%s' is not one line", e_);  \
	} while (0)

START_TEST(uri_and_defaults)
{
	struct viewer_options o;

	PARSE_OK(&o, "vnc://127.0.0.1:5901");
	ck_assert_int_eq(o.session.protocol, VIEWER_PROTO_VNC);
	ck_assert_str_eq(o.session.host, "127.0.0.1");
	ck_assert_int_eq(o.session.port, 5901);
	ck_assert(!o.session.has_password);
	ck_assert(!o.ui.fullscreen);
	ck_assert(o.ui.resize_guest);
	ck_assert(o.ui.grab_keyboard);
	ck_assert(!o.ui.overlay);
	ck_assert_int_eq(o.ui.retries, 10);
	ck_assert_int_eq(o.ui.quality, VIEWER_QUALITY_AUTO);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_RELEASE_CURSOR].mods,
	                  VIEWER_MOD_CTRL | VIEWER_MOD_ALT);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_RELEASE_CURSOR].evdev, 0);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_SECURE_ATTENTION].evdev, KEY_END);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_TOGGLE_FULLSCREEN].evdev, KEY_F11);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_OVERLAY].evdev, KEY_F12);
	ck_assert_ptr_null(o.vv_path);
	viewer_options_clear(&o);

	PARSE_OK(&o, "--fullscreen", "--title", "Finance desk", "--no-resize-guest", "--no-grab",
	         "--quality", "3", "--retries", "0", "--overlay", "--log-level", "debug",
	         "spice://desk.example.org:5900?tls-port=5901", "--spice-host-subject", "CN=desk");
	ck_assert_int_eq(o.session.protocol, VIEWER_PROTO_SPICE);
	ck_assert_int_eq(o.session.tls_port, 5901);
	ck_assert_str_eq(o.session.title, "Finance desk");
	ck_assert_str_eq(o.session.host_subject, "CN=desk");
	ck_assert(o.ui.fullscreen);
	ck_assert(!o.ui.resize_guest);
	ck_assert(!o.ui.grab_keyboard);
	ck_assert(o.ui.overlay);
	ck_assert_int_eq(o.ui.quality, 3);
	ck_assert_int_eq(o.ui.retries, 0);
	viewer_options_clear(&o);

	PARSE_OK(&o, "-f", "--quality", "lossless", "vnc://h:1");
	ck_assert(o.ui.fullscreen);
	ck_assert_int_eq(o.ui.quality, VIEWER_QUALITY_LOSSLESS);
	ck_assert_int_eq(o.session.port, 5901);
	viewer_options_clear(&o);
}
END_TEST

START_TEST(bad_arguments)
{
	PARSE_BAD("give a vnc://", "--overlay");
	PARSE_BAD("unexpected argument", "vnc://a:5900", "vnc://b:5900");
	PARSE_BAD("not a vnc://", "vnc://");
	PARSE_BAD("not a vnc://", "ftp://host:21");
	PARSE_BAD("visible to every user", "vnc://host:5900?password=secret");
	PARSE_BAD("unknown option", "--frobnicate", "vnc://host:5900");
	PARSE_BAD("unknown option: -x", "-x", "vnc://host:5900");
	PARSE_BAD("--password-file needs a value", "vnc://host:5900", "--password-file");
	PARSE_BAD("--retries", "--retries", "1001", "vnc://host:5900");
	PARSE_BAD("--retries", "--retries", "-1", "vnc://host:5900");
	PARSE_BAD("--quality", "--quality", "10", "vnc://host:5900");
	PARSE_BAD("--log-level", "--log-level", "loud", "vnc://host:5900");
	PARSE_BAD("--hotkeys", "--hotkeys", "release-cursor", "vnc://host:5900");
	PARSE_BAD("--hotkeys", "--hotkeys", "explode=ctrl+e", "vnc://host:5900");
	PARSE_BAD("--hotkeys", "--hotkeys", "overlay=ctrl+nosuch", "vnc://host:5900");
	PARSE_BAD("cannot read", "/nonexistent/desk.vv");
	PARSE_BAD("exclude each other", "--password-stdin", "--password-file", "x", "vnc://h:5900");
	PARSE_BAD("exclude each other", "--password-stdin", "-");
	PARSE_BAD("--password-file: cannot read", "--password-file", "/nonexistent",
	          "vnc://h:5900");
	PARSE_BAD("--spice-ca-file: cannot read", "--spice-ca-file", "/nonexistent",
	          "spice://h:5900");
}
END_TEST

/* --broker and what goes with it. */
START_TEST(broker_mode)
{
	static const char fp[] =
	        "CE:B0:13:5D:88:9E:D5:CD:A6:67:9D:56:30:F4:36:2F:23:9E:E1:5D:BC:3E:"
	        "B8:F7:60:BB:91:7E:1E:DB:DE:3B";
	struct viewer_options o;
	const char *ca = file("ca.pem", "not read here\n");

	PARSE_OK(&o, "--broker", "https://broker.example.org:8443");
	ck_assert_str_eq(o.broker.url, "https://broker.example.org:8443");
	ck_assert(!o.broker.kiosk);
	ck_assert(!o.ui.fullscreen);
	ck_assert_int_eq(o.broker.protocol, VIEWER_PROTO_VNC);
	ck_assert_int_eq(o.broker.idle_timeout, 0);
	ck_assert_ptr_null(o.broker.ca_file);
	ck_assert_ptr_null(o.broker.fingerprint);
	ck_assert_ptr_nonnull(o.broker.branding);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_LOGOUT].mods,
	                  VIEWER_MOD_CTRL | VIEWER_MOD_ALT | VIEWER_MOD_SHIFT);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_LOGOUT].evdev, KEY_L);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_QUIT].evdev, 0);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_TOGGLE_FULLSCREEN].evdev, KEY_F11);
	viewer_options_clear(&o);

	/* A kiosk: full screen, which it cannot leave, and no quit key unless allowed. */
	PARSE_OK(&o, "--broker", "https://10.0.0.1", "--kiosk", "--fingerprint", fp, "--protocol",
	         "spice", "--idle-timeout", "600", "--branding", "/etc/vdi/kiosk");
	ck_assert(o.broker.kiosk);
	ck_assert(o.ui.fullscreen);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_TOGGLE_FULLSCREEN].evdev, 0);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_QUIT].evdev, 0);
	ck_assert_int_eq(o.broker.protocol, VIEWER_PROTO_SPICE);
	ck_assert_int_eq(o.broker.idle_timeout, 600);
	ck_assert_str_eq(o.broker.fingerprint, fp);
	ck_assert_str_eq(o.broker.branding, "/etc/vdi/kiosk");
	viewer_options_clear(&o);
	ck_assert_ptr_null(o.broker.url);

	PARSE_OK(&o, "--broker", "https://10.0.0.1", "--kiosk", "--allow-quit", "--ca", ca);
	ck_assert(o.broker.allow_quit);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_QUIT].mods, VIEWER_MOD_CTRL | VIEWER_MOD_ALT);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_QUIT].evdev, KEY_Q);
	ck_assert_str_eq(o.broker.ca_file, ca);
	viewer_options_clear(&o);

	/* A quit key given without --allow-quit does not count in a kiosk. */
	PARSE_OK(&o, "--broker", "https://10.0.0.1", "--kiosk", "--hotkeys", "quit=ctrl+alt+x");
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_QUIT].evdev, 0);
	viewer_options_clear(&o);
	PARSE_OK(&o, "--broker", "https://10.0.0.1", "--hotkeys", "quit=ctrl+alt+x,logout=");
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_QUIT].evdev, KEY_X);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_LOGOUT].evdev, 0);
	viewer_options_clear(&o);

	/* The password of a broker user is typed on the login screen, never taken from here. */
	setenv("VDI_PASSWORD", "secret", 1);
	PARSE_OK(&o, "--broker", "https://10.0.0.1");
	ck_assert_ptr_null(getenv("VDI_PASSWORD"));
	ck_assert(!o.session.has_password);
	viewer_options_clear(&o);

	PARSE_BAD("go with --broker", "--kiosk");
	PARSE_BAD("go with --broker", "--idle-timeout", "5", "vnc://h:5900");
	PARSE_BAD("not an https://", "--broker", "http://10.0.0.1");
	PARSE_BAD("without a path", "--broker", "https://10.0.0.1/api");
	PARSE_BAD("unexpected argument with --broker", "--broker", "https://b", "vnc://h:5900");
	PARSE_BAD("exclude each other", "--broker", "https://b", "--ca", ca, "--fingerprint", fp);
	PARSE_BAD("--ca: cannot read", "--broker", "https://b", "--ca", "/nonexistent");
	PARSE_BAD("not a SHA-256", "--broker", "https://b", "--fingerprint", "AB:CD");
	PARSE_BAD("--protocol", "--broker", "https://b", "--protocol", "rdp");
	PARSE_BAD("--idle-timeout", "--broker", "https://b", "--idle-timeout", "soon");
	PARSE_BAD("--idle-timeout", "--broker", "https://b", "--idle-timeout", "86401");
}
END_TEST

START_TEST(help_and_version)
{
	struct viewer_options o;
	char err[64];

	ck_assert_int_eq(parse(&o, err, sizeof(err), "--help", NULL), 1);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "-h", NULL), 1);
	ck_assert_int_eq(parse(&o, err, sizeof(err), "--version", NULL), 1);
}
END_TEST

START_TEST(password_sources)
{
	struct viewer_options o;
	const char *pw = file("pw", "from-file\nsecond line ignored\n");
	const char *crlf = file("crlf", "windows\r\n");

	/* A file: its first line. */
	PARSE_OK(&o, "--password-file", pw, "vnc://h:5900");
	ck_assert(o.session.has_password);
	ck_assert_str_eq(o.session.password, "from-file");
	viewer_options_clear(&o);
	PARSE_OK(&o, "--password-file", crlf, "vnc://h:5900");
	ck_assert_str_eq(o.session.password, "windows");
	viewer_options_clear(&o);

	/* The environment, which is then cleared. */
	setenv("VDI_PASSWORD", "from-env", 1);
	PARSE_OK(&o, "vnc://h:5900");
	ck_assert_str_eq(o.session.password, "from-env");
	ck_assert_ptr_null(getenv("VDI_PASSWORD"));
	viewer_options_clear(&o);

	/* An option wins over the environment (which is cleared all the same). */
	setenv("VDI_PASSWORD", "from-env", 1);
	PARSE_OK(&o, "--password-file", pw, "vnc://h:5900");
	ck_assert_str_eq(o.session.password, "from-file");
	ck_assert_ptr_null(getenv("VDI_PASSWORD"));
	viewer_options_clear(&o);

	/* Standard input. */
	stdin_from("from-stdin\n");
	PARSE_OK(&o, "--password-stdin", "spice://h:5900");
	ck_assert_str_eq(o.session.password, "from-stdin");
	viewer_options_clear(&o);
	stdin_from("no-newline");
	PARSE_OK(&o, "--password-stdin", "spice://h:5900");
	ck_assert_str_eq(o.session.password, "no-newline");
	viewer_options_clear(&o);
}
END_TEST

START_TEST(bad_passwords)
{
	char big[300];

	PARSE_BAD("is empty", "--password-file", file("empty", "\n"), "vnc://h:5900");
	PARSE_BAD("is empty", "--password-file", file("nothing", ""), "vnc://h:5900");
	memset(big, 'p', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	PARSE_BAD("longer than 128", "--password-file", file("big", big), "vnc://h:5900");
	{
		/* A NUL byte inside: refused rather than cut. */
		char path[300];
		int fd;

		snprintf(path, sizeof(path), "%s/nul", dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		ck_assert_int_eq(write(fd, "ab\0cd\n", 6), 6);
		close(fd);
		PARSE_BAD("NUL", "--password-file", path, "vnc://h:5900");
	}
	setenv("VDI_PASSWORD", big, 1);
	PARSE_BAD("longer than 128", "vnc://h:5900");
	ck_assert_ptr_null(getenv("VDI_PASSWORD"));
}
END_TEST

static const char vv_text[] = "[virt-viewer]\n"
                              "type=vnc\n"
                              "host=127.0.0.1\n"
                              "port=5905\n"
                              "password=vv-secret\n"
                              "title=Desk from a file\n"
                              "fullscreen=1\n"
                              "delete-this-file=1\n"
                              "secure-attention=ctrl+alt+insert\n"
                              "release-cursor=shift+f12\n"
                              "toggle-fullscreen=\n"
                              "[other]\n"
                              "port=1\n";

START_TEST(vv_file)
{
	struct viewer_options o;
	const char *vv = file("desk.vv", vv_text);
	const char *pw = file("pw", "override\n");

	PARSE_OK(&o, vv);
	ck_assert_int_eq(o.session.protocol, VIEWER_PROTO_VNC);
	ck_assert_str_eq(o.session.host, "127.0.0.1");
	ck_assert_int_eq(o.session.port, 5905);
	ck_assert_str_eq(o.session.password, "vv-secret");
	ck_assert_str_eq(o.session.title, "Desk from a file");
	ck_assert(o.ui.fullscreen);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_SECURE_ATTENTION].evdev, KEY_INSERT);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_RELEASE_CURSOR].mods, VIEWER_MOD_SHIFT);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_RELEASE_CURSOR].evdev, KEY_F12);
	/* An empty hotkey turns it off. */
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_TOGGLE_FULLSCREEN].evdev, 0);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_TOGGLE_FULLSCREEN].mods, 0);
	/* Deleting it is main's job, once everything is read. */
	ck_assert(o.delete_vv);
	ck_assert_str_eq(o.vv_path, vv);
	ck_assert_int_eq(access(vv, F_OK), 0);
	viewer_options_clear(&o);

	/* Options win over the file. */
	PARSE_OK(&o, "--title", "Mine", "--password-file", pw, "--hotkeys",
	         "secure-attention=ctrl+alt+end,toggle-fullscreen=shift+f11", vv);
	ck_assert_str_eq(o.session.title, "Mine");
	ck_assert_str_eq(o.session.password, "override");
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_SECURE_ATTENTION].evdev, KEY_END);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_TOGGLE_FULLSCREEN].evdev, KEY_F11);
	ck_assert_uint_eq(o.ui.hotkeys[VIEWER_HK_TOGGLE_FULLSCREEN].mods, VIEWER_MOD_SHIFT);
	viewer_options_clear(&o);

	/* The environment too wins over the file. */
	setenv("VDI_PASSWORD", "env", 1);
	PARSE_OK(&o, vv);
	ck_assert_str_eq(o.session.password, "env");
	viewer_options_clear(&o);
}
END_TEST

START_TEST(vv_stdin)
{
	struct viewer_options o;

	stdin_from("[virt-viewer]\ntype=spice\nhost=10.0.0.9\ntls-port=5901\npassword=p\n"
	           "ca=-----BEGIN CERTIFICATE-----\\nMIIB\\n-----END CERTIFICATE-----\\n\n"
	           "host-subject=C=XX,CN=desk\ndelete-this-file=1\n");
	PARSE_OK(&o, "-");
	ck_assert_int_eq(o.session.protocol, VIEWER_PROTO_SPICE);
	ck_assert_str_eq(o.session.host, "10.0.0.9");
	ck_assert_int_eq(o.session.port, -1);
	ck_assert_int_eq(o.session.tls_port, 5901);
	ck_assert_str_eq(o.session.password, "p");
	ck_assert_str_eq(o.session.ca,
	                 "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
	ck_assert_str_eq(o.session.host_subject, "C=XX,CN=desk");
	/* Standard input is not a file to delete. */
	ck_assert(!o.delete_vv);
	ck_assert_ptr_null(o.vv_path);
	viewer_options_clear(&o);
}
END_TEST

START_TEST(vv_ca_file_option)
{
	struct viewer_options o;
	const char *ca = file("ca.pem", "-----BEGIN CERTIFICATE-----\n");
	const char *vv = file("tls.vv", "[virt-viewer]\ntype=spice\nhost=h\ntls-port=5901\n"
	                                "ca=inline\n");

	PARSE_OK(&o, "--spice-ca-file", ca, vv);
	ck_assert_str_eq(o.session.ca_file, ca);
	ck_assert_ptr_null(o.session.ca); /* the option replaces the file's */
	viewer_options_clear(&o);
}
END_TEST

START_TEST(bad_vv)
{
	char big[70000];

	PARSE_BAD("not a usable .vv file", file("a.vv", "just text\n"));
	PARSE_BAD("not a usable .vv file", file("b.vv", "[other]\ntype=vnc\n"));
	PARSE_BAD("not a usable .vv file", file("c.vv", "[virt-viewer]\ntype=rdp\nhost=h\n"));
	PARSE_BAD("not a usable .vv file",
	          file("d.vv", "[virt-viewer]\ntype=vnc\nhost=h\nport=99999\n"));
	PARSE_BAD("no host", file("e.vv", "[virt-viewer]\ntype=vnc\nport=5900\n"));
	PARSE_BAD("no port", file("f.vv", "[virt-viewer]\ntype=vnc\nhost=h\n"));
	PARSE_BAD("neither port nor tls-port", file("g.vv", "[virt-viewer]\ntype=spice\nhost=h\n"));
	memset(big, '#', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	PARSE_BAD("at most 65536 bytes", file("big.vv", big));
	stdin_from("garbage");
	PARSE_BAD("standard input is not a usable .vv file", "-");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_options");
	TCase *tc = tcase_create("options");
	SRunner *sr;
	int failed;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, uri_and_defaults);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, broker_mode);
	tcase_add_test(tc, help_and_version);
	tcase_add_test(tc, password_sources);
	tcase_add_test(tc, bad_passwords);
	tcase_add_test(tc, vv_file);
	tcase_add_test(tc, vv_stdin);
	tcase_add_test(tc, vv_ca_file_option);
	tcase_add_test(tc, bad_vv);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
