// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The vmm control client against a fake vmm (a unix socket the test
 * answers by hand): id matching, error replies, events, EOF, bad lines,
 * timeouts, cancel, the blocking wait, the set-ticket arguments and the
 * query-displays parser.
 */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "broker/vmmctl.h"
#include "broker_test.h"

static char dir[64], path[128];
static int lfd = -1, sfd = -1;
static struct broker_vmmctl *c;

struct answer {
	int calls;
	int err;
	char name[64];
	char err_class[64];
};

struct seen {
	int calls;
	char name[64];
	char protocol[16];
};

static void on_reply(void *opaque, int err, const struct proto_ctl_msg *msg)
{
	struct answer *a = opaque;
	const char *name;

	a->calls++;
	a->err = err;
	if (msg && err == 0) {
		name = json_string_value(json_object_get(msg->body, "name"));
		snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	}
	if (msg && err == -EREMOTEIO)
		snprintf(a->err_class, sizeof(a->err_class), "%s", msg->err_class);
}

static void on_event(void *opaque, const char *name, json_t *data)
{
	struct seen *s = opaque;
	const char *p = json_string_value(json_object_get(data, "protocol"));

	s->calls++;
	snprintf(s->name, sizeof(s->name), "%s", name);
	snprintf(s->protocol, sizeof(s->protocol), "%s", p ? p : "");
}

static struct seen seen;

static void setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	bt_tmpdir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	memset(&seen, 0, sizeof(seen));
	ck_assert_int_eq(broker_vmmctl_connect(path, on_event, &seen, &c), 0);
	sfd = accept(lfd, NULL, NULL);
	ck_assert_int_ge(sfd, 0);
}

static void teardown(void)
{
	broker_vmmctl_free(c);
	c = NULL;
	if (sfd >= 0)
		close(sfd);
	close(lfd);
	sfd = lfd = -1;
	bt_rmdir(dir);
}

/* Read one request line on the server side and decode it. */
static void server_read(struct proto_ctl_msg *msg)
{
	char buf[4096];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		ssize_t n = read(sfd, buf + len, 1);

		ck_assert_int_eq(n, 1);
		if (buf[len++] == '\n')
			break;
	}
	ck_assert_int_eq(proto_ctl_decode(buf, len, msg), 0);
	ck_assert_int_eq(msg->kind, PROTO_CTL_REQUEST);
}

static void server_write(const char *s)
{
	ck_assert_int_eq(write(sfd, s, strlen(s)), (ssize_t)strlen(s));
}

/* Let the client handle what arrived (waits up to a second for something). */
static int pump(void)
{
	struct pollfd pfd = { .fd = broker_vmmctl_fd(c), .events = broker_vmmctl_poll_events(c) };

	ck_assert_int_eq(poll(&pfd, 1, 1000), 1);
	return broker_vmmctl_handle(c, pfd.revents);
}

START_TEST(connect_errors)
{
	struct broker_vmmctl *x;
	char longp[200];

	ck_assert_int_eq(broker_vmmctl_connect("/nonexistent/ctl.sock", NULL, NULL, &x), -ENOENT);
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = 0;
	ck_assert_int_eq(broker_vmmctl_connect(longp, NULL, NULL, &x), -ENAMETOOLONG);
	ck_assert_int_eq(broker_vmmctl_peer_pid(c), getpid());
	broker_vmmctl_free(NULL);
}
END_TEST

START_TEST(reply_matching)
{
	struct answer a1 = { 0 }, a2 = { 0 };
	struct proto_ctl_msg m1, m2;
	int64_t id1, id2;
	char line[256];

	ck_assert_int_eq(broker_vmmctl_query_status(c, on_reply, &a1, &id1), 0);
	ck_assert_int_eq(broker_vmmctl_query_displays(c, on_reply, &a2, &id2), 0);
	ck_assert_int_ne(id1, id2);
	server_read(&m1);
	server_read(&m2);
	ck_assert_str_eq(m1.name, "query-status");
	ck_assert_str_eq(m2.name, "query-displays");
	ck_assert_int_eq(m1.id, id1);
	/* Answered out of order: each reaches its own callback. */
	snprintf(line, sizeof(line), "{\"id\":%lld,\"ok\":{\"name\":\"two\"}}\n", (long long)id2);
	server_write(line);
	snprintf(line, sizeof(line), "{\"id\":%lld,\"ok\":{\"name\":\"one\"}}\n", (long long)id1);
	server_write(line);
	while (a1.calls + a2.calls < 2)
		ck_assert_int_eq(pump(), 0);
	ck_assert_int_eq(a1.err, 0);
	ck_assert_str_eq(a1.name, "one");
	ck_assert_str_eq(a2.name, "two");
	/* A reply to nothing pending is dropped quietly. */
	server_write("{\"id\":999,\"ok\":{}}\n");
	ck_assert_int_eq(pump(), 0);
	ck_assert_int_eq(a1.calls, 1);
	proto_ctl_msg_clear(&m1);
	proto_ctl_msg_clear(&m2);
}
END_TEST

START_TEST(error_reply)
{
	struct answer a = { 0 };
	struct proto_ctl_msg m;
	int64_t id;
	char line[256];

	ck_assert_int_eq(broker_vmmctl_reset(c, on_reply, &a, &id), 0);
	server_read(&m);
	ck_assert_str_eq(m.name, "reset");
	proto_ctl_msg_clear(&m);
	snprintf(line, sizeof(line),
	         "{\"id\":%lld,\"error\":{\"class\":\"Failed\",\"desc\":\"no\"}}\n", (long long)id);
	server_write(line);
	while (!a.calls)
		ck_assert_int_eq(pump(), 0);
	ck_assert_int_eq(a.err, -EREMOTEIO);
	ck_assert_str_eq(a.err_class, "Failed");
}
END_TEST

START_TEST(events)
{
	server_write("{\"event\":\"client-connected\",\"data\":{\"protocol\":\"vnc\","
	             "\"address\":\"127.0.0.1\"}}\n{\"event\":\"guest-reset\",\"data\":{}}\n");
	while (seen.calls < 2)
		ck_assert_int_eq(pump(), 0);
	ck_assert_str_eq(seen.name, "guest-reset");
	ck_assert_str_eq(seen.protocol, "");
}
END_TEST

START_TEST(eof_fails_pending)
{
	struct answer a = { 0 };

	ck_assert_int_eq(broker_vmmctl_quit(c, on_reply, &a, NULL), 0);
	close(sfd);
	sfd = -1;
	ck_assert_int_eq(pump(), -ECONNRESET);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.err, -ECONNRESET);
	ck_assert(broker_vmmctl_closed(c));
	ck_assert_int_eq(broker_vmmctl_query_status(c, on_reply, &a, NULL), -ENOTCONN);
	ck_assert_int_eq(broker_vmmctl_handle(c, POLLIN), -ECONNRESET);
}
END_TEST

START_TEST(bad_line_closes)
{
	struct answer a = { 0 };

	ck_assert_int_eq(broker_vmmctl_query_status(c, on_reply, &a, NULL), 0);
	server_write("{\"id\":1,\"ok\":{},\"extra\":1}\n");
	ck_assert_int_eq(pump(), -EPROTO);
	ck_assert_int_eq(a.err, -ECONNRESET);
}
END_TEST

START_TEST(too_long_line_closes)
{
	size_t n = PROTO_CTL_MAX_LINE + 16;
	char *big = malloc(n);
	int r = 0;

	memset(big, 'x', n);
	/* Written from a child: the socket buffer may not take it all at once. */
	if (fork() == 0) {
		ssize_t k = write(sfd, big, n);

		_exit(k > 0 ? 0 : 1);
	}
	for (int i = 0; i < 100 && r == 0; i++)
		r = pump();
	ck_assert_int_eq(r, -EMSGSIZE);
	free(big);
}
END_TEST

START_TEST(timeout_and_cancel)
{
	struct answer a = { 0 }, b = { 0 };
	struct proto_ctl_msg m;
	int64_t id;
	char line[128];

	ck_assert_int_eq(broker_vmmctl_query_status(c, on_reply, &a, NULL), 0);
	broker_vmmctl_tick(c, broker_monotonic_ms());
	ck_assert_int_eq(a.calls, 0);
	broker_vmmctl_tick(c, broker_monotonic_ms() + BROKER_VMMCTL_TIMEOUT_MS + 1);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.err, -ETIMEDOUT);

	ck_assert_int_eq(broker_vmmctl_query_status(c, on_reply, &b, &id), 0);
	broker_vmmctl_cancel(c, id);
	server_read(&m);
	proto_ctl_msg_clear(&m);
	server_read(&m);
	proto_ctl_msg_clear(&m);
	snprintf(line, sizeof(line), "{\"id\":%lld,\"ok\":{}}\n", (long long)id);
	server_write(line);
	ck_assert_int_eq(pump(), 0);
	ck_assert_int_eq(b.calls, 0);
}
END_TEST

START_TEST(wait_and_ticket_args)
{
	struct answer a = { 0 };
	struct proto_ctl_msg m;
	int64_t id;
	char line[128];

	ck_assert_int_eq(broker_vmmctl_set_ticket(c, "vnc", "s3cr3t", 30, false, on_reply, &a, &id),
	                 0);
	server_read(&m);
	ck_assert_str_eq(m.name, "set-ticket");
	ck_assert_str_eq(json_string_value(json_object_get(m.body, "protocol")), "vnc");
	ck_assert_str_eq(json_string_value(json_object_get(m.body, "secret")), "s3cr3t");
	ck_assert_int_eq(json_integer_value(json_object_get(m.body, "expires_in")), 30);
	ck_assert_str_eq(json_string_value(json_object_get(m.body, "connected")), "keep");
	proto_ctl_msg_clear(&m);
	/* Nothing answers yet: the wait times out and the request stays pending. */
	ck_assert_int_eq(broker_vmmctl_wait(c, id, 50), -ETIMEDOUT);
	snprintf(line, sizeof(line),
	         "{\"event\":\"display-mode\",\"data\":{}}\n"
	         "{\"id\":%lld,\"ok\":{}}\n",
	         (long long)id);
	server_write(line);
	ck_assert_int_eq(broker_vmmctl_wait(c, id, 1000), 0);
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.err, 0);
	ck_assert_int_eq(seen.calls, 1);
	/* Already answered: returns at once. */
	ck_assert_int_eq(broker_vmmctl_wait(c, id, 1000), 0);
}
END_TEST

START_TEST(free_cancels)
{
	struct answer a = { 0 };

	ck_assert_int_eq(broker_vmmctl_query_status(c, on_reply, &a, NULL), 0);
	broker_vmmctl_free(c);
	c = NULL;
	ck_assert_int_eq(a.calls, 1);
	ck_assert_int_eq(a.err, -ECANCELED);
}
END_TEST

START_TEST(parse_displays)
{
	struct broker_vmm_display vnc, spice;
	json_t *ok = json_loads("{\"mode\":null,\"servers\":["
	                        "{\"protocol\":\"vnc\",\"address\":\"127.0.0.1\",\"port\":5901,"
	                        "\"auth\":true},"
	                        "{\"protocol\":\"spice\",\"address\":\"127.0.0.1\",\"port\":5902,"
	                        "\"auth\":true}]}",
	                        0, NULL);

	ck_assert_ptr_nonnull(ok);
	ck_assert_int_eq(broker_vmm_parse_displays(ok, &vnc, &spice), 0);
	ck_assert_str_eq(vnc.host, "127.0.0.1");
	ck_assert_int_eq(vnc.port, 5901);
	ck_assert_int_eq(spice.port, 5902);
	json_decref(ok);

	ok = json_loads("{\"servers\":[{\"protocol\":\"vnc\",\"address\":\"x\",\"port\":70000}]}",
	                0, NULL);
	ck_assert_int_eq(broker_vmm_parse_displays(ok, &vnc, &spice), 0);
	ck_assert_int_eq(vnc.port, 0);
	ck_assert_str_eq(spice.host, "");
	json_decref(ok);

	ok = json_loads("{\"servers\":{}}", 0, NULL);
	ck_assert_int_eq(broker_vmm_parse_displays(ok, &vnc, &spice), -EINVAL);
	json_decref(ok);
	ok = json_loads("{\"servers\":[{\"protocol\":\"vnc\"}]}", 0, NULL);
	ck_assert_int_eq(broker_vmm_parse_displays(ok, &vnc, &spice), -EINVAL);
	json_decref(ok);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("broker_vmmctl");
	TCase *tc = tcase_create("vmmctl");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, connect_errors);
	tcase_add_test(tc, reply_matching);
	tcase_add_test(tc, error_reply);
	tcase_add_test(tc, events);
	tcase_add_test(tc, eof_fails_pending);
	tcase_add_test(tc, bad_line_closes);
	tcase_add_test(tc, too_long_line_closes);
	tcase_add_test(tc, timeout_and_cancel);
	tcase_add_test(tc, wait_and_ticket_args);
	tcase_add_test(tc, free_cancels);
	tcase_add_test(tc, parse_displays);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return bt_run(suite());
}
