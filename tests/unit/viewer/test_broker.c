// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The broker client's pure parts: broker addresses, pinned fingerprints,
 * chunked bodies, the API's error bodies and what people are told about
 * them, the pool and desktop lists, and the .vv answer of connect; and
 * that a call to a broker which never answers ends when its time is up or
 * when it is abandoned, with no callback after viewer_broker_free().
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "viewer/broker.h"
#include "viewer/https.h"

START_TEST(urls)
{
	struct viewer_https_target t;
	char err[256];

	ck_assert_int_eq(
	        viewer_https_parse_url("https://broker.example.org:8443", &t, err, sizeof(err)), 0);
	ck_assert_str_eq(t.host, "broker.example.org");
	ck_assert_int_eq(t.port, 8443);
	ck_assert_int_eq(viewer_https_parse_url("HTTPS://10.0.0.1/", &t, err, sizeof(err)), 0);
	ck_assert_str_eq(t.host, "10.0.0.1");
	ck_assert_int_eq(t.port, 443);
	ck_assert_int_eq(viewer_https_parse_url("https://[::1]:9443", &t, err, sizeof(err)), 0);
	ck_assert_str_eq(t.host, "::1");
	ck_assert_int_eq(t.port, 9443);

	static const char *const bad[] = {
		"http://broker:8443", "broker:8443",     "https://",           "https://:8443",
		"https://b:0",        "https://b:65536", "https://b:80x",      "https://b/api/v1",
		"https://[::1",       "https://b\"x:1",  "https://b:8443?x=1", "",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(viewer_https_parse_url(bad[i], &t, err, sizeof(err)) == -EINVAL,
		              "'%s' accepted", bad[i]);
		ck_assert_msg(err[0], "no reason for '%s'", bad[i]);
	}
}
END_TEST

START_TEST(fingerprints)
{
	static const char colons[] = "CE:B0:13:5D:88:9E:D5:CD:A6:67:9D:56:30:F4:36:2F:23:9E:E1:5D:"
	                             "BC:3E:B8:F7:60:BB:91:7E:1E:DB:DE:3B";
	uint8_t a[VIEWER_FINGERPRINT_LEN], b[VIEWER_FINGERPRINT_LEN];

	ck_assert_int_eq(viewer_https_parse_fingerprint(colons, a), 0);
	ck_assert_uint_eq(a[0], 0xce);
	ck_assert_uint_eq(a[31], 0x3b);
	ck_assert_int_eq(
	        viewer_https_parse_fingerprint(
	                "sha256:ceb0135d889ed5cda6679d5630f4362f239ee15dbc3eb8f760bb917e1edbde3b",
	                b),
	        0);
	ck_assert_mem_eq(a, b, sizeof(a));

	/* Too short, too long, not hex, a colon in the wrong place. */
	ck_assert_int_eq(viewer_https_parse_fingerprint("CE:B0", a), -EINVAL);
	ck_assert_int_eq(viewer_https_parse_fingerprint("", a), -EINVAL);
	ck_assert_int_eq(
	        viewer_https_parse_fingerprint(
	                "ceb0135d889ed5cda6679d5630f4362f239ee15dbc3eb8f760bb917e1edbde3b00", a),
	        -EINVAL);
	ck_assert_int_eq(
	        viewer_https_parse_fingerprint(
	                "zeb0135d889ed5cda6679d5630f4362f239ee15dbc3eb8f760bb917e1edbde3b", a),
	        -EINVAL);
	ck_assert_int_eq(
	        viewer_https_parse_fingerprint(
	                ":ceb0135d889ed5cda6679d5630f4362f239ee15dbc3eb8f760bb917e1edbde3b", a),
	        -EINVAL);
	ck_assert_int_eq(
	        viewer_https_parse_fingerprint(
	                "c:eb0135d889ed5cda6679d5630f4362f239ee15dbc3eb8f760bb917e1edbde3b", a),
	        -EINVAL);
}
END_TEST

START_TEST(chunked)
{
	char ok[] = "4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n";
	char cut[] = "4\r\nWiki\r\n6\r\npedia";
	char big[] = "ffffffff\r\nx\r\n0\r\n\r\n";
	char nohex[] = "x\r\n";
	char nolast[] = "4\r\nWiki\r\n";
	long n = viewer_https_dechunk(ok, strlen(ok));

	ck_assert_int_eq(n, 24);
	ck_assert_mem_eq(ok, "Wikipedia in \r\n\r\nchunks.", 24);
	ck_assert_int_eq(viewer_https_dechunk(cut, strlen(cut)), -EPROTO);
	ck_assert_int_eq(viewer_https_dechunk(big, strlen(big)), -EPROTO);
	ck_assert_int_eq(viewer_https_dechunk(nohex, strlen(nohex)), -EPROTO);
	ck_assert_int_eq(viewer_https_dechunk(nolast, strlen(nolast)), -EPROTO);
	ck_assert_int_eq(viewer_https_dechunk(ok, 0), -EPROTO);
}
END_TEST

static struct viewer_broker_result answer(enum viewer_broker_op op, int status, const char *body,
                                          int retry_after)
{
	struct viewer_broker_result r = { .op = op, .status = status, .retry_after = retry_after };

	viewer_broker_parse_error(body, body ? strlen(body) : 0, &r);
	return r;
}

START_TEST(errors_for_people)
{
	struct viewer_broker_result r;
	char out[400];

	r = answer(VIEWER_BROKER_LOGIN, 401,
	           "{\"error\":{\"code\":\"bad_credentials\",\"message\":\"wrong user name or "
	           "password\"}}",
	           -1);
	ck_assert_str_eq(r.code, "bad_credentials");
	ck_assert_str_eq(r.message, "wrong user name or password");
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "Wrong user name or password.");

	r = answer(VIEWER_BROKER_LOGIN, 403, "{\"error\":{\"code\":\"locked\",\"message\":\"x\"}}",
	           300);
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "This account is locked after too many failed sign-ins. Try again in 5 "
	                 "minutes.");
	r = answer(VIEWER_BROKER_LOGIN, 429,
	           "{\"error\":{\"code\":\"throttled\",\"message\":\"\"}}", 4);
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "Too many failed sign-ins from this device. Wait 4 seconds.");
	r = answer(VIEWER_BROKER_LOGIN, 401, "{\"error\":{\"code\":\"totp_required\"}}", -1);
	ck_assert_ptr_nonnull(strstr(viewer_broker_explain(&r, out, sizeof(out)), "authenticator"));
	r = answer(VIEWER_BROKER_CONNECT, 503,
	           "{\"error\":{\"code\":\"unavailable\",\"message\":\"desktops are not "
	           "available\"}}",
	           -1);
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "No desktop is available right now. Please try again later.");
	r = answer(VIEWER_BROKER_CONNECT, 503, "{\"error\":{\"code\":\"pool_full\"}}", -1);
	ck_assert_ptr_nonnull(strstr(viewer_broker_explain(&r, out, sizeof(out)), "in use"));
	r = answer(VIEWER_BROKER_CONNECT, 404, "{\"error\":{\"code\":\"not_found\"}}", -1);
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "That desktop is no longer available to you.");

	/* No answer at all, and a refused certificate. */
	r = (struct viewer_broker_result){ .op = VIEWER_BROKER_LOGIN, .err = -ECONNREFUSED };
	snprintf(r.message, sizeof(r.message), "cannot reach 127.0.0.1 port 1: Connection refused");
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "Cannot reach the broker: cannot reach 127.0.0.1 port 1: Connection "
	                 "refused");
	r.err = -EKEYREJECTED;
	snprintf(r.message, sizeof(r.message), "the broker's certificate is not trusted: x");
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "Certificate refused: the broker's certificate is not trusted: x");

	/* Not the API's error body: still a sentence, with the status. */
	r = answer(VIEWER_BROKER_POOLS, 502, "<html>bad gateway</html>", -1);
	ck_assert_str_eq(r.code, "");
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "The broker could not answer (HTTP 502). Please try again later.");
	/* What comes from the network is cleaned before it is shown. */
	r = answer(VIEWER_BROKER_POOLS, 400,
	           "{\"error\":{\"code\":\"we<ird>\",\"message\":\"two\\nlines\\u0007\"}}", -1);
	ck_assert_str_eq(r.code, "we_ird_");
	ck_assert_str_eq(r.message, "two lines ");
	ck_assert_str_eq(viewer_broker_explain(&r, out, sizeof(out)),
	                 "The broker refused: two lines ");
}
END_TEST

START_TEST(lists)
{
	char names[3][VIEWER_BROKER_NAME_MAX + 1];
	json_t *j;

	j = json_loads("{\"pools\":[{\"name\":\"demo\",\"enabled\":true},"
	               "{\"name\":\"off\",\"enabled\":false},{\"name\":5},{},"
	               "{\"name\":\"finance\"},{\"name\":\"a\"},{\"name\":\"b\"}]}",
	               0, NULL);
	ck_assert_int_eq(viewer_broker_pool_names(j, names, 3), 3);
	ck_assert_str_eq(names[0], "demo");
	ck_assert_str_eq(names[1], "finance");
	ck_assert_str_eq(names[2], "a");
	json_decref(j);
	j = json_loads("{\"pools\":{}}", 0, NULL);
	ck_assert_int_eq(viewer_broker_pool_names(j, names, 3), -EINVAL);
	ck_assert_int_eq(viewer_broker_pool_names(NULL, names, 3), -EINVAL);
	json_decref(j);

	j = json_loads("{\"desktops\":[{\"vm\":\"demo-1\",\"pool\":\"demo\"},{\"vm\":7}]}", 0,
	               NULL);
	ck_assert_int_eq(viewer_broker_has_desktop(j, "demo-1"), 1);
	ck_assert_int_eq(viewer_broker_has_desktop(j, "demo-2"), 0);
	json_decref(j);
	j = json_loads("[]", 0, NULL);
	ck_assert_int_eq(viewer_broker_has_desktop(j, "demo-1"), -EINVAL);
	json_decref(j);
}
END_TEST

START_TEST(session_from_connect)
{
	static const char vv[] = "[virt-viewer]\ntype=vnc\nhost=127.0.0.1\nport=5901\n"
	                         "password=k3Pq9xZa\ntitle=demo-2\nrelease-cursor=ctrl+alt\n";
	struct viewer_broker_result r = { .op = VIEWER_BROKER_CONNECT, .status = 200 };
	struct viewer_session s;
	char vm[65], err[256];

	viewer_session_init(&s);
	ck_assert_int_eq(viewer_broker_session(&r, &s, vm, sizeof(vm), err, sizeof(err)), -EINVAL);
	r.vv = strdup(vv);
	r.vv_len = strlen(vv);
	ck_assert_int_eq(viewer_broker_session(&r, &s, vm, sizeof(vm), err, sizeof(err)), 0);
	ck_assert_str_eq(vm, "demo-2");
	ck_assert_int_eq(s.protocol, VIEWER_PROTO_VNC);
	ck_assert_str_eq(s.host, "127.0.0.1");
	ck_assert_int_eq(s.port, 5901);
	ck_assert(s.has_password);
	ck_assert_str_eq(s.password, "k3Pq9xZa");
	viewer_session_clear(&s);
	free(r.vv);

	r.vv = strdup("[virt-viewer]\ntype=rdp\nhost=x\nport=1\n");
	r.vv_len = strlen(r.vv);
	ck_assert_int_eq(viewer_broker_session(&r, &s, vm, sizeof(vm), err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "not usable"));
	free(r.vv);
}
END_TEST

/*
 * A TCP port on 127.0.0.1 that takes connections (the kernel's backlog)
 * but never answers: a TLS handshake with it waits for ever. Its port in @t.
 */
static int silent_listener(struct viewer_https_target *t)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_int_eq(listen(fd, 8), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	memset(t, 0, sizeof(*t));
	snprintf(t->host, sizeof(t->host), "127.0.0.1");
	t->port = ntohs(a.sin_port);
	t->pinned = true; /* no CA store needed: the handshake never gets that far */
	return fd;
}

struct call {
	struct viewer_https_target t;
	int cancel_fd;
	int result;
	char err[200];
};

static gpointer call_run(gpointer data)
{
	struct call *c = data;
	struct viewer_https_reply reply = { 0 };

	c->result = viewer_https_request(&c->t, c->cancel_fd, "GET", "/api/v1/pools", NULL, NULL, 0,
	                                 &reply, c->err, sizeof(c->err));
	viewer_https_reply_clear(&reply);
	return NULL;
}

START_TEST(silent_broker)
{
	struct call c = { .cancel_fd = -1 };
	int lfd = silent_listener(&c.t);
	GThread *th;

	/* Its time is up: -ETIMEDOUT, said so. */
	c.t.timeout_ms = 200;
	call_run(&c);
	ck_assert_int_eq(c.result, -ETIMEDOUT);
	ck_assert_msg(strstr(c.err, "no answer from the broker"), "%s", c.err);

	/* Abandoned mid-handshake (the time allowed is far longer than the test). */
	c.t.timeout_ms = 600000;
	c.cancel_fd = eventfd(0, EFD_CLOEXEC);
	ck_assert_int_ge(c.cancel_fd, 0);
	th = g_thread_new("call", call_run, &c);
	g_usleep(50000);
	ck_assert_int_eq(eventfd_write(c.cancel_fd, 1), 0);
	g_thread_join(th);
	ck_assert_int_eq(c.result, -ECANCELED);
	ck_assert_msg(strstr(c.err, "abandoned"), "%s", c.err);

	/* Already abandoned: it does not start. */
	call_run(&c);
	ck_assert_int_eq(c.result, -ECANCELED);
	close(c.cancel_fd);
	close(lfd);
}
END_TEST

static void count_callback(void *opaque, const struct viewer_broker_result *r)
{
	(void)r;
	(*(int *)opaque)++;
}

START_TEST(free_abandons_calls)
{
	struct viewer_https_target t;
	struct viewer_broker *b;
	int lfd = silent_listener(&t), called = 0;

	t.timeout_ms = 600000;
	ck_assert_int_eq(viewer_broker_new(&t, &b), 0);
	ck_assert_int_gt(viewer_broker_pools(b, count_callback, &called), 0);
	ck_assert_int_gt(viewer_broker_desktops(b, count_callback, &called), 0);
	g_usleep(50000);
	/* It returns with both calls ended: their connections are closed, not left waiting. */
	viewer_broker_free(b, 0);
	for (int i = 0; i < 2; i++) {
		int fd = accept(lfd, NULL, NULL);
		char buf[4096];
		ssize_t n;

		ck_assert_int_ge(fd, 0);
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
			; /* the ClientHello */
		ck_assert_msg(n == 0, "call %d still has its connection open (%s)", i,
		              n < 0 ? strerror(errno) : "");
		close(fd);
	}
	/* And no callback follows. */
	while (g_main_context_iteration(NULL, FALSE))
		;
	ck_assert_int_eq(called, 0);
	close(lfd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_broker");
	TCase *tc = tcase_create("broker");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, urls);
	tcase_add_test(tc, fingerprints);
	tcase_add_test(tc, chunked);
	tcase_add_test(tc, errors_for_people);
	tcase_add_test(tc, lists);
	tcase_add_test(tc, session_from_connect);
	tcase_add_test(tc, silent_broker);
	tcase_add_test(tc, free_abandons_calls);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
