// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-viewer against vdi-vmm's SPICE server, on an Xvfb display: the
 * window shows the primary surface pixel for pixel, keys and clicks go
 * over the inputs channel (client mouse mode), a .vv file with a TLS port,
 * an inline CA and a host subject opens over TLS, also through the HTTP
 * proxy the .vv file names, an untrusted certificate ends the viewer with
 * status 5 and a refused password with status 3.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "proto/vv.h"
#include "test_viewer_util.h"

#define BOOT_TIMEOUT_MS 90000
#define WAIT_MS 30000
#define SECRET "spice-Viewer-4kQ9"

static const char *const small_screen[] = { "--resolution", "800x600", "--vnc", "none", NULL };

static void boot_with(struct vm *vm, const char *name, const char *const *extra)
{
	ck_assert_int_eq(vm_start(vm, name, extra), 0);
	ck_assert_msg(vm_wait_serial(vm, "desktop: ready", 1, BOOT_TIMEOUT_MS) == 0,
	              "the guest did not reach its desktop; serial:\n%s", vm_serial(vm));
}

static void set_ticket(struct vm *vm, const char *secret)
{
	json_decref(vm_ok(vm, "set-ticket",
	                  json_pack("{s:s, s:s, s:i}", "protocol", "spice", "secret", secret,
	                            "expires_in", 120)));
}

static void start_x(struct xvfb *x, struct vm *vm)
{
	char log[400];

	snprintf(log, sizeof(log), "%s/xvfb.log", vm->dir);
	ck_assert_int_eq(xvfb_start(x, 1280, 1024, log), 0);
}

static char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = calloc(1, 65536);

	ck_assert_ptr_nonnull(f);
	buf[fread(buf, 1, 65535, f)] = '\0';
	fclose(f);
	return buf;
}

START_TEST(shows_the_desktop_and_types_and_clicks)
{
	struct vm vm;
	struct xvfb x;
	struct viewer v;
	char shot[400], args[600], title[256], want[64];
	const char *pw;
	int b[4], bx, by;

	boot_with(&vm, "sview1", small_screen);
	start_x(&x, &vm);
	set_ticket(&vm, SECRET);
	pw = write_file(vm.dir, "pw", SECRET "\n");
	/* The password on standard input, as a broker client would hand it over. */
	snprintf(args, sizeof(args), "--password-stdin spice://127.0.0.1:%d < '%s'",
	         vm_display_port(&vm, "spice"), pw);
	viewer_start_sh(&v, &x, vm.dir, "viewer", args);
	viewer_window(&v);
	expect_window_size(&v, 800, 600);
	snprintf(shot, sizeof(shot), "%s/window.png", vm.dir);
	expect_window_equals_screendump(&vm, &v, shot);
	window_name(&v, title, sizeof(title));
	ck_assert_msg(strncmp(title, "sview1", 6) == 0, "window title '%s'", title);

	ck_assert_msg(vm_wait_serial(&vm, "tablet", 1, WAIT_MS) == 0, "no tablet:\n%s",
	              vm_serial(&vm));
	focus(&v);
	type_line(&v, "help");
	ck_assert_msg(vm_wait_serial(&vm, "switch the machine off", 1, WAIT_MS) == 0,
	              "typed keys did not reach the guest:\n%s\nviewer:\n%s", vm_serial(&vm),
	              viewer_log(&v));
	type_line(&v, "echo Hi There!");
	ck_assert_msg(vm_wait_serial(&vm, "Hi There!", 2, WAIT_MS) == 0, "echo not seen:\n%s",
	              vm_serial(&vm));

	ck_assert_int_eq(vm_layout(&vm, "button", b), 0);
	bx = b[0] + b[2] / 2;
	by = b[1] + b[3] / 2;
	click(&v, bx, by);
	ck_assert_msg(vm_wait_serial(&vm, "button: clicked count=1", 1, WAIT_MS) == 0,
	              "the click did not reach the guest:\n%s\nviewer:\n%s", vm_serial(&vm),
	              viewer_log(&v));
	snprintf(want, sizeof(want), "pointer: press button=1 x=%d y=%d", bx, by);
	ck_assert_msg(vm_serial_count(&vm, want) == 1, "expected '%s' in:\n%s", want,
	              vm_serial(&vm));
	expect_window_equals_screendump(&vm, &v, shot);

	/* The guest changes its mode: the window follows. */
	type_line(&v, "mode 640x480");
	ck_assert_int_eq(vm_wait_serial(&vm, "display: mode 640x480", 1, WAIT_MS), 0);
	expect_window_size(&v, 640, 480);
	expect_window_equals_screendump(&vm, &v, shot);

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
	char uri[64], *log;

	boot_with(&vm, "sview2", small_screen);
	start_x(&x, &vm);
	set_ticket(&vm, SECRET);
	snprintf(uri, sizeof(uri), "spice://127.0.0.1:%d", vm_display_port(&vm, "spice"));
	viewer_start(&v, &x, vm.dir, "wrong", (const char *const[]){ uri, NULL },
	             (const char *const[]){ "VDI_PASSWORD=not-" SECRET, NULL });
	ck_assert_int_eq(viewer_wait_exit(&v, WAIT_MS), 3);
	log = viewer_log(&v);
	ck_assert_msg(strstr(log, "refused the password") != NULL, "no clear message:\n%s", log);
	free(log);
	xvfb_stop(&x);
	vm_cleanup(&vm);
}
END_TEST

/* A CA and a server certificate for 127.0.0.1 in @dir, and a second CA that signed nothing. */
static void make_certs(const char *dir)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd),
	         "(cd '%s' && "
	         "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=vdi-test-ca "
	         "-keyout ca-key.pem -out ca-cert.pem && "
	         "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca "
	         "-keyout other-key.pem -out other-ca.pem && "
	         "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
	         "-keyout server-key.pem -out server.csr && "
	         "printf 'subjectAltName=IP:127.0.0.1\\n' > ext.cnf && "
	         "openssl x509 -req -in server.csr -CA ca-cert.pem -CAkey ca-key.pem "
	         "-CAcreateserial -days 2 -extfile ext.cnf -out server-cert.pem) >/dev/null 2>&1",
	         dir);
	ck_assert_msg(system(cmd) == 0, "openssl could not make certificates");
}

/* ---- an HTTP CONNECT proxy, as squid or tinyproxy would be in front of the desktops ---- */

/* Copy what is readable on @from to @to; false at the end of either. */
static bool relay(int from, int to)
{
	char buf[16384];
	ssize_t n = read(from, buf, sizeof(buf));

	for (ssize_t off = 0; n > 0 && off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w <= 0)
			return false;
		off += w;
	}
	return n > 0;
}

/* One client: its request line into @log, CONNECT to 127.0.0.1 only, then bytes both ways. */
static void proxy_one(int c, const char *log)
{
	char req[2048], host[64];
	size_t n = 0;
	int port, s;
	FILE *f;
	struct sockaddr_in a = { .sin_family = AF_INET };

	while (n < sizeof(req) - 1 && !memmem(req, n, "\r\n\r\n", 4)) {
		ssize_t r = read(c, req + n, sizeof(req) - 1 - n);

		if (r <= 0)
			return;
		n += (size_t)r;
	}
	req[n] = '\0';
	f = fopen(log, "a");
	if (f) {
		fprintf(f, "%.*s\n", (int)strcspn(req, "\r\n"), req);
		fclose(f);
	}
	if (sscanf(req, "CONNECT %63[^:]:%d HTTP/1.", host, &port) != 2 ||
	    strcmp(host, "127.0.0.1") != 0 || port < 1 || port > 65535) {
		dprintf(c, "HTTP/1.1 403 Forbidden\r\n\r\n");
		return;
	}
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons((uint16_t)port);
	s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0) {
		dprintf(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n");
		return;
	}
	dprintf(c, "HTTP/1.1 200 Connection established\r\n\r\n");
	for (;;) {
		struct pollfd p[2] = { { .fd = c, .events = POLLIN },
			               { .fd = s, .events = POLLIN } };

		if (poll(p, 2, -1) < 0 || (p[0].revents && !relay(c, s)) ||
		    (p[1].revents && !relay(s, c)))
			break;
	}
	close(s);
}

/* The proxy on a free port of 127.0.0.1 (*@port), in a process group of its own; its pid. */
static pid_t proxy_start(const char *log, int *port)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0);
	pid_t pid;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_ge(l, 0);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(l, 16), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGCHLD, SIG_IGN); /* no zombies from the connections */
		for (;;) {
			int c = accept(l, NULL, NULL);

			if (c < 0)
				continue;
			if (fork() == 0) {
				close(l);
				proxy_one(c, log);
				_exit(0);
			}
			close(c);
		}
	}
	setpgid(pid, pid);
	close(l);
	return pid;
}

static void proxy_stop(pid_t pid)
{
	kill(-pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* A .vv file for the TLS port of @vm trusting @ca_pem, through @proxy (or NULL); its path. */
static const char *tls_vv(struct vm *vm, const char *name, int tls_port, const char *ca_pem,
                          const char *proxy)
{
	struct proto_vv vv;
	char *text;
	const char *path;

	proto_vv_init(&vv);
	vv.type = "spice";
	vv.host = "127.0.0.1";
	vv.tls_port = tls_port;
	vv.password = SECRET;
	vv.title = "Secure desk";
	vv.ca = (char *)ca_pem;
	vv.host_subject = "CN=127.0.0.1";
	vv.proxy = (char *)proxy;
	text = proto_vv_write(&vv);
	ck_assert_ptr_nonnull(text);
	path = write_file(vm->dir, name, text);
	free(text);
	return path;
}

START_TEST(tls_from_a_vv_file)
{
	struct vm vm;
	struct xvfb x;
	struct viewer v;
	char certs[] = "/tmp/vdi-it-sview-tls-XXXXXX", path[512], shot[400], title[256];
	const char *extra[] = {
		"--resolution",    "800x600", "--vnc", "none", "--spice-tls-port", "0",
		"--spice-tls-dir", certs,     NULL
	};
	char *ca, *other, *log;
	json_t *d, *srv;
	int tls_port = -1;
	size_t i;

	ck_assert_ptr_nonnull(mkdtemp(certs));
	make_certs(certs);
	boot_with(&vm, "sview3", extra);
	start_x(&x, &vm);
	d = vm_ok(&vm, "query-displays", NULL);
	json_array_foreach (json_object_get(d, "servers"), i, srv)
		if (strcmp(json_string_value(json_object_get(srv, "protocol")), "spice") == 0)
			tls_port = (int)json_integer_value(json_object_get(srv, "tls-port"));
	json_decref(d);
	ck_assert_int_gt(tls_port, 0);
	snprintf(path, sizeof(path), "%s/ca-cert.pem", certs);
	ca = read_text(path);
	snprintf(path, sizeof(path), "%s/other-ca.pem", certs);
	other = read_text(path);

	/* A CA that did not sign the server's certificate: not trusted, status 5. */
	set_ticket(&vm, SECRET);
	viewer_start(&v, &x, vm.dir, "untrusted",
	             (const char *const[]){ tls_vv(&vm, "other.vv", tls_port, other, NULL), NULL },
	             NULL);
	ck_assert_int_eq(viewer_wait_exit(&v, WAIT_MS), 5);
	log = viewer_log(&v);
	ck_assert_msg(strstr(log, "not trusted") != NULL, "no clear message:\n%s", log);
	free(log);

	/* The right CA, inline in the .vv file, and the subject it names. */
	set_ticket(&vm, SECRET);
	viewer_start(&v, &x, vm.dir, "viewer",
	             (const char *const[]){ tls_vv(&vm, "desk.vv", tls_port, ca, NULL), NULL },
	             NULL);
	viewer_window(&v);
	expect_window_size(&v, 800, 600);
	snprintf(shot, sizeof(shot), "%s/window.png", vm.dir);
	expect_window_equals_screendump(&vm, &v, shot);
	window_name(&v, title, sizeof(title));
	ck_assert_msg(strncmp(title, "Secure desk", 11) == 0, "window title '%s'", title);
	VIEWER_STOP_CLEANLY(&v);

	/* The same through the HTTP proxy the .vv file names: every channel is CONNECTed there. */
	{
		char proxy_log[400], proxy[64], want[64], *seen;
		int proxy_port;
		pid_t pp;

		snprintf(proxy_log, sizeof(proxy_log), "%s/proxy.log", vm.dir);
		pp = proxy_start(proxy_log, &proxy_port);
		snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", proxy_port);
		set_ticket(&vm, SECRET);
		viewer_start(&v, &x, vm.dir, "proxied",
		             (const char *const[]){ tls_vv(&vm, "proxied.vv", tls_port, ca, proxy),
		                                    NULL },
		             NULL);
		viewer_window(&v);
		expect_window_equals_screendump(&vm, &v, shot);
		VIEWER_STOP_CLEANLY(&v);
		proxy_stop(pp);
		seen = read_text(proxy_log);
		snprintf(want, sizeof(want), "CONNECT 127.0.0.1:%d HTTP/1.", tls_port);
		ck_assert_msg(strstr(seen, want), "the proxy saw no '%s':\n%s", want, seen);
		free(seen);
	}

	free(ca);
	free(other);
	xvfb_stop(&x);
	vm_cleanup(&vm);
	snprintf(path, sizeof(path), "rm -rf '%s'", certs);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_spice");
	TCase *tc = tcase_create("spice");

	harness_require_kvm();
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, shows_the_desktop_and_types_and_clicks);
	tcase_add_test(tc, refused_password_exits_3);
	tcase_add_test(tc, tls_from_a_vv_file);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
