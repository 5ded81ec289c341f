// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Desktops through the real broker over HTTPS, with real vdi-vmm processes
 * running the reference guest: connect hands out a secret that works
 * exactly once against the VM's VNC server, a .vv file for remote-viewer,
 * logging a floating desktop off reboots it for the next user, a killed
 * VMM is replaced, a broker restart adopts the running VMMs (same PIDs),
 * and many connects at once all succeed.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rfb/rfbclient.h>

#include "broker_harness.h"
#include "harness.h"

#define WAIT_MS 90000

static struct broker b;

static void quiet(const char *fmt, ...)
{
}

static char *get_password(rfbClient *c)
{
	return strdup(rfbClientGetClientData(c, (void *)get_password));
}

/* Does VNC authentication with @secret succeed on port @port? */
static bool vnc_login(int port, const char *secret)
{
	rfbClient *c = rfbGetClient(8, 3, 4);
	bool ok;

	rfbClientLog = quiet;
	rfbClientErr = quiet;
	free(c->serverHost);
	c->serverHost = strdup("127.0.0.1");
	c->serverPort = port;
	c->GetPassword = get_password;
	rfbClientSetClientData(c, (void *)get_password, (void *)secret);
	ok = rfbInitClient(c, NULL, NULL);
	if (ok) {
		free(c->frameBuffer);
		c->frameBuffer = NULL;
		rfbClientCleanup(c);
	}
	return ok;
}

static void add_user(const char *name, const char *password)
{
	const char *args[] = { "user", "add", name, "--password-stdin", "--group", "users", NULL };
	char input[128];

	snprintf(input, sizeof(input), "%s\n", password);
	ck_assert_int_eq(broker_cli(&b, input, args), 0);
}

/* POST connect; the reply as JSON (owned) and its status. Retries while the desktop starts. */
static json_t *connect_desktop(const char *token, const char *protocol, int *status)
{
	char hdr[256], body[64];
	int64_t end = harness_now_ms() + WAIT_MS;
	json_t *j = NULL;

	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\nContent-Type: application/json\r\n",
	         token);
	snprintf(body, sizeof(body), "{\"protocol\":\"%s\"}", protocol);
	while (harness_now_ms() < end) {
		struct http_reply r;

		ck_assert_int_eq(broker_http(&b, "POST", "/api/v1/pools/demo/connect", hdr, body,
		                             strlen(body), &r),
		                 0);
		*status = r.status;
		json_decref(j);
		j = http_json(&r);
		http_reply_free(&r);
		if (*status != 503)
			break;
		usleep(500000); /* starting, or the pool is still filling */
	}
	return j;
}

/* The admin's view of VM @name: its pid and boots (0 when not found). */
static int vm_info(const char *token, const char *name, int *boots)
{
	char hdr[200];
	struct http_reply r;
	json_t *j, *v;
	size_t i;
	int pid = 0;

	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", token);
	ck_assert_int_eq(broker_http(&b, "GET", "/api/v1/admin/vms", hdr, NULL, 0, &r), 0);
	j = http_json(&r);
	json_array_foreach (json_object_get(j, "vms"), i, v) {
		if (strcmp(json_string_value(json_object_get(v, "vm")), name) == 0 &&
		    strcmp(json_string_value(json_object_get(v, "state")), "running") == 0) {
			pid = (int)json_integer_value(json_object_get(v, "pid"));
			if (boots)
				*boots = (int)json_integer_value(json_object_get(v, "boots"));
		}
	}
	json_decref(j);
	http_reply_free(&r);
	return pid;
}

START_TEST(connect_gives_a_one_time_secret)
{
	const char *t;
	char token[128], vm[80], conf[100];
	FILE *f;
	json_t *j;
	struct http_reply r;
	int st, port;

	/* The demo pool as the broker has it built in, and an HTTP proxy for SPICE. */
	snprintf(conf, sizeof(conf), "/tmp/vdi-it-desktops-%d.conf", (int)getpid());
	f = fopen(conf, "w");
	ck_assert_ptr_nonnull(f);
	fputs("[console]\nspice_proxy = http://proxy.example.org:3128\n"
	      "[pool demo]\nmemory = 128\nvcpus = 1\nresolution = 1024x768\ntype = floating\n"
	      "size = 2\nspares = 1\nmax_vms = 4\nmax_per_user = 1\nentitle = group:users\n",
	      f);
	fclose(f);
	ck_assert_int_eq(broker_start(&b, (const char *const[]){ "--config", conf, NULL }), 0);
	add_user("alice", "alice's password");
	t = broker_login(&b, "alice", "alice's password", &st);
	ck_assert_ptr_nonnull(t);
	snprintf(token, sizeof(token), "%s", t);

	j = connect_desktop(token, "vnc", &st);
	ck_assert_msg(st == 200, "connect answered %d", st);
	ck_assert_ptr_null(json_object_get(j, "proxy")); /* the proxy is for SPICE */
	port = (int)json_integer_value(json_object_get(j, "port"));
	snprintf(vm, sizeof(vm), "%s", json_string_value(json_object_get(j, "vm")));
	ck_assert_int_gt(port, 0);
	ck_assert_int_eq(strlen(json_string_value(json_object_get(j, "password"))), 8);
	/* Exactly once. */
	ck_assert_msg(vnc_login(port, json_string_value(json_object_get(j, "password"))),
	              "the secret from connect was refused");
	ck_assert_msg(!vnc_login(port, json_string_value(json_object_get(j, "password"))),
	              "the secret worked twice");
	json_decref(j);

	/* The same user gets the same desktop again, with a new secret. */
	j = connect_desktop(token, "vnc", &st);
	ck_assert_int_eq(st, 200);
	ck_assert_str_eq(json_string_value(json_object_get(j, "vm")), vm);
	json_decref(j);

	/* A .vv file for remote-viewer. */
	{
		char hdr[300];
		const char *body = "{\"protocol\":\"spice\"}";

		snprintf(hdr, sizeof(hdr),
		         "Authorization: Bearer %s\r\nAccept: application/x-virt-viewer\r\n",
		         token);
		ck_assert_int_eq(broker_http(&b, "POST", "/api/v1/pools/demo/connect", hdr, body,
		                             strlen(body), &r),
		                 0);
		ck_assert_int_eq(r.status, 200);
		ck_assert_str_eq(http_header(&r, "content-type"), "application/x-virt-viewer");
		ck_assert_ptr_nonnull(strstr(r.body, "[virt-viewer]\n"));
		ck_assert_ptr_nonnull(strstr(r.body, "type=spice\n"));
		ck_assert_ptr_nonnull(strstr(r.body, "password="));
		/* The configured proxy, for SPICE clients outside. */
		ck_assert_msg(strstr(r.body, "proxy=http://proxy.example.org:3128\n"), "%s",
		              r.body);
		http_reply_free(&r);
	}
	broker_stop(&b);
	broker_cleanup(&b);
	unlink(conf);
}
END_TEST

START_TEST(logoff_resets_a_floating_desktop)
{
	const char *t;
	char token[128], admin[128], vm[80], hdr[300], path[200];
	struct http_reply r;
	json_t *j;
	int st, boots = 0, boots2 = 0;
	int64_t end;

	ck_assert_int_eq(broker_start(&b, NULL), 0);
	add_user("bob", "bob's password");
	t = broker_login(&b, "admin", b.admin_password, &st);
	snprintf(admin, sizeof(admin), "%s", t);
	t = broker_login(&b, "bob", "bob's password", &st);
	snprintf(token, sizeof(token), "%s", t);
	j = connect_desktop(token, "vnc", &st);
	ck_assert_int_eq(st, 200);
	snprintf(vm, sizeof(vm), "%s", json_string_value(json_object_get(j, "vm")));
	json_decref(j);
	ck_assert_int_gt(vm_info(admin, vm, &boots), 0);

	/* Log off: the desktop is freed and its guest rebooted for the next user. */
	snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s\r\n", token);
	snprintf(path, sizeof(path), "/api/v1/desktops/%s/disconnect", vm);
	ck_assert_int_eq(broker_http(&b, "POST", path, hdr, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 200);
	http_reply_free(&r);
	end = harness_now_ms() + WAIT_MS;
	while (harness_now_ms() < end && !(vm_info(admin, vm, &boots2) && boots2 > boots))
		usleep(200000);
	ck_assert_msg(boots2 > boots, "the guest was not rebooted (boots %d -> %d)", boots, boots2);
	/* No longer bob's. */
	ck_assert_int_eq(broker_http(&b, "POST", path, hdr, NULL, 0, &r), 0);
	ck_assert_int_eq(r.status, 404);
	http_reply_free(&r);
	broker_stop(&b);
	broker_cleanup(&b);
}
END_TEST

START_TEST(killed_vmm_replaced_and_restart_adopts)
{
	const char *t;
	char admin[128], vm[80];
	json_t *j;
	int st, pid, pid2;
	int64_t end;

	ck_assert_int_eq(broker_start(&b, NULL), 0);
	add_user("carol", "carol's password");
	t = broker_login(&b, "admin", b.admin_password, &st);
	snprintf(admin, sizeof(admin), "%s", t);
	t = broker_login(&b, "carol", "carol's password", &st);
	j = connect_desktop(t, "vnc", &st);
	ck_assert_int_eq(st, 200);
	snprintf(vm, sizeof(vm), "%s", json_string_value(json_object_get(j, "vm")));
	json_decref(j);
	pid = vm_info(admin, vm, NULL);
	ck_assert_int_gt(pid, 0);

	/* A broker restart adopts the running VMMs: same PIDs, carol keeps hers. */
	ck_assert_int_eq(broker_stop(&b), 0);
	ck_assert_int_eq(kill(pid, 0), 0);
	ck_assert_int_eq(broker_restart(&b, NULL), 0);
	end = harness_now_ms() + WAIT_MS;
	while (harness_now_ms() < end && vm_info(admin, vm, NULL) == 0)
		usleep(200000);
	ck_assert_int_eq(vm_info(admin, vm, NULL), pid);

	/* A killed VMM is noticed; its desktop is not handed out half dead. */
	kill(pid, SIGKILL);
	end = harness_now_ms() + WAIT_MS;
	pid2 = pid;
	while (harness_now_ms() < end && (pid2 = vm_info(admin, vm, NULL)) == pid)
		usleep(200000);
	ck_assert_int_ne(pid2, pid);
	broker_stop(&b);
	broker_cleanup(&b);
}
END_TEST

struct worker {
	char token[128];
	int ok, failed;
};

static void *connect_worker(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 25; i++) {
		int st;
		json_t *j = connect_desktop(w->token, "vnc", &st);

		if (st == 200 && json_is_string(json_object_get(j, "password")))
			w->ok++;
		else
			w->failed++;
		json_decref(j);
	}
	return NULL;
}

/* 100 connects from four clients at once (two users): all answered. */
START_TEST(parallel_connects)
{
	pthread_t th[4];
	struct worker w[4];
	int ok = 0, failed = 0, st;

	ck_assert_int_eq(broker_start(&b, NULL), 0);
	add_user("dan", "dan's password");
	add_user("eve", "eve's password");
	memset(w, 0, sizeof(w));
	for (int i = 0; i < 4; i++) {
		const char *t = broker_login(&b, i % 2 ? "eve" : "dan",
		                             i % 2 ? "eve's password" : "dan's password", &st);

		ck_assert_ptr_nonnull(t);
		snprintf(w[i].token, sizeof(w[i].token), "%s", t);
	}
	for (int i = 0; i < 4; i++)
		pthread_create(&th[i], NULL, connect_worker, &w[i]);
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += w[i].ok;
		failed += w[i].failed;
	}
	ck_assert_int_eq(failed, 0);
	ck_assert_int_eq(ok, 100);
	broker_stop(&b);
	broker_cleanup(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("broker_desktops");
	TCase *tc = tcase_create("desktops");

	harness_require_kvm();
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, connect_gives_a_one_time_secret);
	tcase_add_test(tc, logoff_resets_a_floating_desktop);
	tcase_add_test(tc, killed_vmm_replaced_and_restart_adopts);
	tcase_add_test(tc, parallel_connects);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
