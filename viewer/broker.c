// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/broker.h"

#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "proto/log.h"
#include "proto/vv.h"

/* One call, from start to its callback. Worker thread until g_idle_add(), then main. */
struct job {
	struct viewer_broker *b;
	GThread *thread; /* joined before the job is freed */
	int id;
	bool cancelled;
	viewer_broker_done_fn fn;
	void *opaque;
	struct viewer_https_target t;
	char method[8];
	char path[200];
	char headers[VIEWER_BROKER_TOKEN_MAX + 200];
	char *body;
	size_t body_len;
	char user[VIEWER_BROKER_NAME_MAX + 1];
	struct viewer_broker_result r;
};

struct viewer_broker {
	struct viewer_https_target t;
	char *ca_file;
	char token[VIEWER_BROKER_TOKEN_MAX + 1];
	char user[VIEWER_BROKER_NAME_MAX + 1];
	GList *jobs; /* started, callback not yet run */
	int next_id;
	int stop_fd; /* eventfd: readable once viewer_broker_free() abandons the calls */
	GMutex lock; /* guards running */
	GCond returned;
	int running; /* calls whose thread has not yet handed its result to the main loop */
};

static const char *const op_names[] = {
	[VIEWER_BROKER_LOGIN] = "login",     [VIEWER_BROKER_LOGOUT] = "logout",
	[VIEWER_BROKER_POOLS] = "pools",     [VIEWER_BROKER_DESKTOPS] = "desktops",
	[VIEWER_BROKER_CONNECT] = "connect",
};

int viewer_broker_new(const struct viewer_https_target *t, struct viewer_broker **ret)
{
	struct viewer_broker *b = calloc(1, sizeof(*b));

	if (!b)
		return -ENOMEM;
	b->t = *t;
	if (t->ca_file) {
		b->ca_file = strdup(t->ca_file);
		if (!b->ca_file) {
			free(b);
			return -ENOMEM;
		}
	}
	b->t.ca_file = b->ca_file;
	b->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->stop_fd < 0) {
		int e = -errno;

		free(b->ca_file);
		free(b);
		return e;
	}
	g_mutex_init(&b->lock);
	g_cond_init(&b->returned);
	*ret = b;
	return 0;
}

/* Wait up to @ms for every call's thread to return; how many have not. */
static int wait_returned(struct viewer_broker *b, int ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;
	int left;

	g_mutex_lock(&b->lock);
	while (b->running > 0 && g_cond_wait_until(&b->returned, &b->lock, deadline))
		;
	left = b->running;
	g_mutex_unlock(&b->lock);
	return left;
}

static void job_free(struct job *j);
static void log_result(const struct job *j);

void viewer_broker_free(struct viewer_broker *b, int logout_ms)
{
	bool logout = false;

	if (!b)
		return;
	for (GList *l = b->jobs; l; l = l->next) {
		struct job *j = l->data;

		j->cancelled = true;
		logout |= j->r.op == VIEWER_BROKER_LOGOUT;
	}
	if (logout && wait_returned(b, logout_ms) > 0)
		log_info("broker: the logout did not finish within %d ms", logout_ms);
	/*
	 * Abandon the rest, and wait for their threads: one still inside
	 * OpenSSL while the process exits would race OpenSSL's own clean-up.
	 */
	if (eventfd_write(b->stop_fd, 1) < 0 || wait_returned(b, VIEWER_BROKER_STOP_MS) > 0) {
		/* Stuck in a host name lookup: leave the client to the process's end. */
		log_warn("broker: a call is still running; leaving it");
		return;
	}
	/* Every thread has queued its job_done(); take those back, with no callback. */
	for (GList *l = b->jobs; l; l = l->next) {
		g_source_remove_by_user_data(l->data);
		log_result(l->data);
		job_free(l->data);
	}
	g_list_free(b->jobs);
	OPENSSL_cleanse(b->token, sizeof(b->token));
	close(b->stop_fd);
	g_mutex_clear(&b->lock);
	g_cond_clear(&b->returned);
	free(b->ca_file);
	free(b);
}

bool viewer_broker_logged_in(const struct viewer_broker *b)
{
	return b->token[0] != '\0';
}

const char *viewer_broker_user(const struct viewer_broker *b)
{
	return b->user;
}

void viewer_broker_forget(struct viewer_broker *b)
{
	OPENSSL_cleanse(b->token, sizeof(b->token));
	b->user[0] = '\0';
}

void viewer_broker_cancel(struct viewer_broker *b, int id)
{
	for (GList *l = b->jobs; l; l = l->next) {
		struct job *j = l->data;

		if (j->id == id)
			j->cancelled = true;
	}
}

static void job_free(struct job *j)
{
	/*
	 * Its thread has queued job_done() and is on its way out: join it, so
	 * that its thread-local state (OpenSSL's) is gone with it.
	 */
	if (j->thread)
		g_thread_join(j->thread);
	if (j->body) {
		OPENSSL_cleanse(j->body, j->body_len);
		free(j->body);
	}
	OPENSSL_cleanse(j->headers, sizeof(j->headers));
	json_decref(j->r.json);
	if (j->r.vv) {
		OPENSSL_cleanse(j->r.vv, j->r.vv_len);
		free(j->r.vv);
	}
	free(j);
}

/* ---- pure helpers ---- */

void viewer_broker_parse_error(const char *body, size_t len, struct viewer_broker_result *r)
{
	json_t *j = body && len ? json_loadb(body, len, 0, NULL) : NULL;
	json_t *e = json_object_get(j, "error");
	const char *code = json_string_value(json_object_get(e, "code"));
	const char *msg = json_string_value(json_object_get(e, "message"));

	snprintf(r->code, sizeof(r->code), "%s", code ? code : "");
	snprintf(r->message, sizeof(r->message), "%s", msg ? msg : "");
	/* What comes from the network is shown on screen: no control characters. */
	for (char *p = r->message; *p; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	for (char *p = r->code; *p; p++)
		if (!g_ascii_isalnum(*p) && *p != '_')
			*p = '_';
	json_decref(j);
}

static const char *minutes_or_seconds(int s, char *out, size_t size)
{
	if (s >= 90)
		snprintf(out, size, "%d minutes", (s + 59) / 60);
	else if (s > 1)
		snprintf(out, size, "%d seconds", s);
	else
		snprintf(out, size, "a moment");
	return out;
}

const char *viewer_broker_explain(const struct viewer_broker_result *r, char *out, size_t size)
{
	const char *c = r->code;
	char wait[32];

	if (r->err == -EKEYREJECTED)
		snprintf(out, size, "Certificate refused: %s", r->message);
	else if (r->err < 0)
		snprintf(out, size, "Cannot reach the broker: %s", r->message);
	else if (strcmp(c, "bad_credentials") == 0)
		snprintf(out, size, "Wrong user name or password.");
	else if (strcmp(c, "totp_required") == 0)
		snprintf(out, size, "Enter the code from your authenticator app.");
	else if (strcmp(c, "totp_bad") == 0)
		snprintf(out, size, "That code is not valid. Enter the current code.");
	else if (strcmp(c, "locked") == 0)
		snprintf(out, size, "This account is locked after too many failed sign-ins. %s%s.",
		         r->retry_after > 0 ? "Try again in " : "Try again later",
		         r->retry_after > 0 ? minutes_or_seconds(r->retry_after, wait, sizeof(wait))
		                            : "");
	else if (strcmp(c, "throttled") == 0)
		snprintf(out, size, "Too many failed sign-ins from this device. Wait %s.",
		         minutes_or_seconds(r->retry_after, wait, sizeof(wait)));
	else if (strcmp(c, "unauthorized") == 0)
		snprintf(out, size, "Your session has ended. Please sign in again.");
	else if (strcmp(c, "pool_full") == 0)
		snprintf(out, size, "All desktops are in use right now. Please try again later.");
	else if (strcmp(c, "quota") == 0)
		snprintf(out, size, "You already have as many desktops as you may use.");
	else if (strcmp(c, "unavailable") == 0)
		snprintf(out, size, "No desktop is available right now. Please try again later.");
	else if (strcmp(c, "not_found") == 0 && r->op == VIEWER_BROKER_CONNECT)
		snprintf(out, size, "That desktop is no longer available to you.");
	else if (r->status >= 500 || !c[0])
		snprintf(out, size,
		         "The broker could not answer (HTTP %d). Please try again later.",
		         r->status);
	else
		snprintf(out, size, "The broker refused: %s", r->message[0] ? r->message : c);
	return out;
}

int viewer_broker_pool_names(const json_t *j, char (*names)[VIEWER_BROKER_NAME_MAX + 1], int max)
{
	const json_t *list = json_object_get(j, "pools"), *p;
	size_t i;
	int n = 0;

	if (!json_is_array(list))
		return -EINVAL;
	json_array_foreach (list, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		const json_t *en = json_object_get(p, "enabled");

		if (n >= max)
			break;
		if (!name || !*name || strlen(name) > VIEWER_BROKER_NAME_MAX ||
		    (en && !json_is_true(en)))
			continue;
		snprintf(names[n++], VIEWER_BROKER_NAME_MAX + 1, "%s", name);
	}
	return n;
}

int viewer_broker_has_desktop(const json_t *j, const char *vm)
{
	const json_t *list = json_object_get(j, "desktops"), *d;
	size_t i;

	if (!json_is_array(list))
		return -EINVAL;
	json_array_foreach (list, i, d) {
		const char *name = json_string_value(json_object_get(d, "vm"));

		if (name && strcmp(name, vm) == 0)
			return 1;
	}
	return 0;
}

int viewer_broker_session(const struct viewer_broker_result *r, struct viewer_session *s, char *vm,
                          size_t vm_size, char *err, size_t err_size)
{
	struct proto_vv vv;
	char reason[256] = "";
	int ret;

	if (!r->vv) {
		snprintf(err, err_size, "the broker sent no connection file");
		return -EINVAL;
	}
	ret = proto_vv_parse(r->vv, r->vv_len, &vv, reason, sizeof(reason));
	if (ret == -ENOMEM)
		return ret;
	if (ret < 0) {
		snprintf(err, err_size, "the broker's connection file is not usable: %s", reason);
		return -EINVAL;
	}
	ret = viewer_session_from_vv(s, &vv, err, err_size);
	if (ret == 0)
		snprintf(vm, vm_size, "%s", vv.title ? vv.title : "");
	if (vv.password)
		OPENSSL_cleanse(vv.password, strlen(vv.password));
	proto_vv_clear(&vv);
	return ret;
}

/* ---- calls ---- */

static void log_result(const struct job *j)
{
	if (j->r.err)
		log_info("broker: %s: %s", op_names[j->r.op], j->r.message);
	else if (j->r.status >= 300)
		log_info("broker: %s: %s (%d) %s", op_names[j->r.op], j->r.code, j->r.status,
		         j->r.message);
	else
		log_info("broker: %s: ok", op_names[j->r.op]);
}

static gboolean job_done(gpointer data)
{
	struct job *j = data;
	struct viewer_broker *b = j->b;

	b->jobs = g_list_remove(b->jobs, j);
	if (j->r.err == 0 && j->r.status == 401 && j->r.op != VIEWER_BROKER_LOGIN)
		viewer_broker_forget(b); /* the token is no longer good */
	if (!j->cancelled && j->r.op == VIEWER_BROKER_LOGIN && j->r.status == 200) {
		const char *token = json_string_value(json_object_get(j->r.json, "token"));

		if (token && strlen(token) <= VIEWER_BROKER_TOKEN_MAX &&
		    strspn(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
		                  ".~+/=") == strlen(token)) {
			snprintf(b->token, sizeof(b->token), "%s", token);
			snprintf(b->user, sizeof(b->user), "%s", j->user);
		} else {
			j->r.status = 502;
			snprintf(j->r.message, sizeof(j->r.message),
			         "the login answer has no token");
		}
	}
	log_result(j);
	if (!j->cancelled && j->fn)
		j->fn(j->opaque, &j->r);
	job_free(j);
	return G_SOURCE_REMOVE;
}

static gpointer job_run(gpointer data)
{
	struct job *j = data;
	struct viewer_broker *b = j->b;
	struct viewer_https_reply reply = { 0 };
	struct viewer_broker_result *r = &j->r;
	int e;

	e = viewer_https_request(&j->t, j->b->stop_fd, j->method, j->path, j->headers, j->body,
	                         j->body_len, &reply, r->message, sizeof(r->message));
	r->retry_after = -1;
	if (e < 0) {
		r->err = e;
	} else {
		r->status = reply.status;
		r->retry_after = reply.retry_after;
		if (reply.status >= 300) {
			viewer_broker_parse_error(reply.body, reply.body_len, r);
		} else if (strcmp(reply.content_type, "application/x-virt-viewer") == 0) {
			r->vv = reply.body;
			r->vv_len = reply.body_len;
			reply.body = NULL;
		} else {
			r->json = json_loadb(reply.body, reply.body_len, 0, NULL);
			if (!r->json) {
				r->status = 502;
				snprintf(r->message, sizeof(r->message),
				         "the broker's answer is not JSON");
			}
		}
	}
	viewer_https_reply_clear(&reply);
	/*
	 * Queued under the lock, so that viewer_broker_free() finds it queued
	 * once it sees the thread returned. From g_idle_add() on, the main
	 * thread may free @j: only @b is used after it.
	 */
	g_mutex_lock(&b->lock);
	g_idle_add(job_done, j);
	b->running--;
	g_cond_signal(&b->returned);
	g_mutex_unlock(&b->lock);
	return NULL;
}

static int start(struct viewer_broker *b, enum viewer_broker_op op, const char *method,
                 const char *path, json_t *body, bool auth, viewer_broker_done_fn fn, void *opaque,
                 struct job **ret)
{
	struct job *j = calloc(1, sizeof(*j));
	GError *error = NULL;

	if (!j) {
		json_decref(body);
		return -ENOMEM;
	}
	j->b = b;
	j->fn = fn;
	j->opaque = opaque;
	j->t = b->t;
	j->r.op = op;
	snprintf(j->method, sizeof(j->method), "%s", method);
	snprintf(j->path, sizeof(j->path), "%s", path);
	snprintf(j->headers, sizeof(j->headers), "Accept: %s\r\n%s%s%s%s",
	         op == VIEWER_BROKER_CONNECT ? "application/x-virt-viewer" : "application/json",
	         body ? "Content-Type: application/json\r\n" : "",
	         auth ? "Authorization: Bearer " : "", auth ? b->token : "", auth ? "\r\n" : "");
	if (body) {
		j->body = json_dumps(body, JSON_COMPACT);
		json_decref(body);
		if (!j->body) {
			job_free(j);
			return -ENOMEM;
		}
		j->body_len = strlen(j->body);
	}
	if (++b->next_id <= 0)
		b->next_id = 1;
	j->id = b->next_id;
	b->jobs = g_list_prepend(b->jobs, j);
	if (ret)
		*ret = j;
	g_mutex_lock(&b->lock);
	b->running++;
	g_mutex_unlock(&b->lock);
	j->thread = g_thread_try_new("broker-call", job_run, j, &error);
	if (!j->thread) {
		log_warn("cannot start a thread for the broker: %s", error->message);
		g_error_free(error);
		g_mutex_lock(&b->lock);
		b->running--;
		g_mutex_unlock(&b->lock);
		b->jobs = g_list_remove(b->jobs, j);
		job_free(j);
		return -EAGAIN;
	}
	return j->id;
}

int viewer_broker_login(struct viewer_broker *b, const char *user, const char *password,
                        const char *totp, viewer_broker_done_fn fn, void *opaque)
{
	json_t *body;
	struct job *j = NULL;
	int id;

	if (strlen(user) > VIEWER_BROKER_NAME_MAX || strlen(password) > VIEWER_BROKER_SECRET_MAX)
		return -EINVAL;
	viewer_broker_forget(b);
	body = json_pack("{s:s, s:s}", "user", user, "password", password);
	if (!body)
		return -EINVAL; /* not UTF-8 */
	if (totp && *totp)
		json_object_set_new(body, "totp", json_string(totp));
	/*
	 * The password is in the job's copy (wiped when freed), not in the
	 * JSON object: jansson's strings are freed without wiping, so clear it.
	 */
	id = start(b, VIEWER_BROKER_LOGIN, "POST", "/api/v1/login", json_incref(body), false, fn,
	           opaque, &j);
	{
		json_t *pw = json_object_get(body, "password");

		if (pw)
			OPENSSL_cleanse((char *)json_string_value(pw), json_string_length(pw));
	}
	json_decref(body);
	if (id > 0)
		snprintf(j->user, sizeof(j->user), "%s", user);
	return id;
}

int viewer_broker_logout(struct viewer_broker *b, viewer_broker_done_fn fn, void *opaque)
{
	int id;

	if (!b->token[0])
		return -ENOENT;
	id = start(b, VIEWER_BROKER_LOGOUT, "POST", "/api/v1/logout", NULL, true, fn, opaque, NULL);
	viewer_broker_forget(b);
	return id;
}

int viewer_broker_pools(struct viewer_broker *b, viewer_broker_done_fn fn, void *opaque)
{
	return start(b, VIEWER_BROKER_POOLS, "GET", "/api/v1/pools", NULL, true, fn, opaque, NULL);
}

int viewer_broker_desktops(struct viewer_broker *b, viewer_broker_done_fn fn, void *opaque)
{
	return start(b, VIEWER_BROKER_DESKTOPS, "GET", "/api/v1/desktops", NULL, true, fn, opaque,
	             NULL);
}

int viewer_broker_connect(struct viewer_broker *b, const char *pool, enum viewer_protocol protocol,
                          viewer_broker_done_fn fn, void *opaque)
{
	char path[200];

	if (!*pool || strlen(pool) > VIEWER_BROKER_NAME_MAX ||
	    strspn(pool, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
	            strlen(pool))
		return -EINVAL;
	snprintf(path, sizeof(path), "/api/v1/pools/%s/connect", pool);
	return start(
	        b, VIEWER_BROKER_CONNECT, "POST", path,
	        json_pack("{s:s}", "protocol", protocol == VIEWER_PROTO_SPICE ? "spice" : "vnc"),
	        true, fn, opaque, NULL);
}
