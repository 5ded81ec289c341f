// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The REST API; see api.h for the routes. Every request body is JSON, at
 * most BROKER_HTTP_BODY_MAX bytes (the server refuses bigger ones), and is
 * checked completely (types, lengths, unknown keys) before anything
 * changes; a bad one gets 400 with the reason.
 */
#include "broker/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "broker/gateway.h"
#include "proto/log.h"
#include "proto/ticket.h"
#include "proto/vv.h"

#define VNC_SECRET_LEN 8 /* VNC authentication's DES key */
#define SPICE_SECRET_LEN 32
#define LATENCY_BUCKETS 10

/* Allocation latency histogram bounds, seconds (Prometheus "le"). */
static const double latency_le[LATENCY_BUCKETS] = { 0.005, 0.01, 0.025, 0.05, 0.1,
	                                            0.25,  0.5,  1,     2.5,  5 };

struct broker_api {
	const struct broker_config *cfg;
	struct broker_store *store;
	struct broker_auth *auth;
	struct broker_api_desktops desktops;
	uint8_t ticket_key[PROTO_TICKET_KEY_MAX];
	size_t ticket_key_len;
	/* metrics */
	uint64_t requests, connects_ok, connects_failed;
	uint64_t latency_count[LATENCY_BUCKETS + 1];
	double latency_sum;
};

/* ---- small helpers ---- */

static void reply(struct broker_http_response *res, int status, json_t *j)
{
	broker_http_json(res, status, j ? json_dumps(j, JSON_COMPACT) : strdup("{}"));
	json_decref(j);
}

/* The request body as a JSON object with only @known keys, or an error reply. */
static json_t *body_object(const struct broker_http_request *req, struct broker_http_response *res,
                           const char *const *known)
{
	json_error_t e;
	json_t *j;
	const char *key;
	json_t *v;

	if (req->body_len == 0) {
		broker_http_error(res, 400, "bad_request", "a JSON object is required");
		return NULL;
	}
	j = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
	if (!j || !json_is_object(j)) {
		broker_http_error(res, 400, "bad_request", "the body is not a JSON object%s%s",
		                  j ? "" : ": ", j ? "" : e.text);
		json_decref(j);
		return NULL;
	}
	json_object_foreach (j, key, v) {
		size_t i;

		for (i = 0; known[i]; i++)
			if (strcmp(key, known[i]) == 0)
				break;
		if (!known[i]) {
			broker_http_error(res, 400, "bad_request", "unknown key '%.64s'", key);
			json_decref(j);
			return NULL;
		}
	}
	return j;
}

/* A string member of at most @max bytes, or NULL with an error reply (when required). */
static const char *str_member(json_t *j, const char *key, size_t max, bool required,
                              struct broker_http_response *res, bool *bad)
{
	json_t *v = json_object_get(j, key);

	if (!v && !required)
		return NULL;
	if (!json_is_string(v) || json_string_length(v) > max ||
	    strlen(json_string_value(v)) != json_string_length(v)) {
		broker_http_error(res, 400, "bad_request",
		                  "'%s' must be a string of at most %zu bytes", key, max);
		*bad = true;
		return NULL;
	}
	return json_string_value(v);
}

/* Split "/api/v1/a/b/c" after @prefix into up to @max segments. */
static size_t segments(const char *path, const char *prefix, char seg[][BROKER_NAME_MAX + 1],
                       size_t max)
{
	size_t n = 0, plen = strlen(prefix);
	const char *p;

	if (strncmp(path, prefix, plen) != 0)
		return 0;
	p = path + plen;
	while (*p == '/')
		p++;
	while (*p && n < max) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len > BROKER_NAME_MAX)
			return 0;
		memcpy(seg[n], p, len);
		seg[n][len] = '\0';
		n++;
		p += len;
		while (*p == '/')
			p++;
	}
	return *p ? 0 : n;
}

static bool is(const struct broker_http_request *req, const char *method)
{
	return strcmp(req->method, method) == 0;
}

/* The caller's user from the bearer token, or an error reply. */
static bool authenticate(struct broker_api *api, const struct broker_http_request *req,
                         struct broker_http_response *res, struct broker_user *user,
                         struct broker_session *session)
{
	const char *t = req->authorization;
	int r;

	if (strncmp(t, "Bearer ", 7) != 0) {
		broker_http_error(res, 401, "unauthorized", "log in first (Authorization: Bearer)");
		return false;
	}
	r = broker_auth_session_check(api->auth, t + 7, session, user);
	if (r == -EKEYEXPIRED) {
		broker_http_error(res, 401, "unauthorized", "the session expired; log in again");
		return false;
	}
	if (r < 0) {
		broker_http_error(res, 401, "unauthorized", "not logged in");
		return false;
	}
	return true;
}

static void audit(struct broker_api *api, const char *event, const char *user, const char *source,
                  const char *vm, json_t *detail)
{
	char *d = detail ? json_dumps(detail, JSON_COMPACT) : NULL;

	broker_auth_audit(api->auth, event, user, source, vm, d);
	free(d);
	json_decref(detail);
}

/* ---- login ---- */

static void do_login(struct broker_api *api, const struct broker_http_request *req,
                     struct broker_http_response *res)
{
	static const char *const known[] = { "user", "password", "totp", NULL };
	struct broker_login login;
	const char *user, *password, *totp;
	bool bad = false;
	int64_t wait = broker_auth_source_delay_ms(api->auth, req->source);
	json_t *j;
	int r;

	if (wait > 0) {
		res->retry_after = (unsigned int)((wait + 999) / 1000);
		broker_http_error(res, 429, "throttled",
		                  "too many failed logins from this address; wait %u s",
		                  res->retry_after);
		return;
	}
	j = body_object(req, res, known);
	if (!j)
		return;
	user = str_member(j, "user", BROKER_NAME_MAX, true, res, &bad);
	password = bad ? NULL : str_member(j, "password", BROKER_PASSWORD_MAX, true, res, &bad);
	totp = bad ? NULL : str_member(j, "totp", 16, false, res, &bad);
	if (bad) {
		json_decref(j);
		return;
	}
	r = broker_auth_login(api->auth, user, password, totp, req->source, &login);
	json_decref(j);
	if (r < 0) {
		broker_http_error(res, 500, "internal", "the login could not be checked");
		return;
	}
	switch (r) {
	case BROKER_LOGIN_OK:
		reply(res, 200,
		      json_pack("{s:s, s:s, s:s, s:I}", "token", login.token, "user",
		                login.user.name, "role", broker_role_name(login.user.role),
		                "expires", (json_int_t)login.session.expires));
		break;
	case BROKER_LOGIN_TOTP_REQUIRED:
		broker_http_error(res, 401, "totp_required",
		                  "enter the code from your authenticator");
		break;
	case BROKER_LOGIN_TOTP_BAD:
		broker_http_error(res, 401, "totp_bad", "that code is not valid");
		break;
	case BROKER_LOGIN_LOCKED:
		res->retry_after = (unsigned int)((login.retry_after_ms + 999) / 1000);
		broker_http_error(res, 403, "locked",
		                  "the account is locked after too many failed logins; try again "
		                  "in %u s",
		                  res->retry_after);
		break;
	case BROKER_LOGIN_THROTTLED:
		res->retry_after = (unsigned int)((login.retry_after_ms + 999) / 1000);
		broker_http_error(res, 429, "throttled", "too many failed logins; wait %u s",
		                  res->retry_after);
		break;
	default:
		broker_http_error(res, 401, "bad_credentials", "wrong user name or password");
		break;
	}
	OPENSSL_cleanse(&login, sizeof(login));
}

static void do_logout(struct broker_api *api, const struct broker_http_request *req,
                      struct broker_http_response *res)
{
	if (strncmp(req->authorization, "Bearer ", 7) != 0 ||
	    broker_auth_logout(api->auth, req->authorization + 7, req->source) < 0) {
		broker_http_error(res, 401, "unauthorized", "not logged in");
		return;
	}
	reply(res, 200, json_object());
}

/* ---- the user's view ---- */

static json_t *pool_json(const struct broker_pool *p)
{
	return json_pack("{s:s, s:s, s:i, s:i, s:b}", "name", p->name, "type",
	                 broker_pool_type_name(p->type), "width", (int)p->width, "height",
	                 (int)p->height, "enabled", p->enabled);
}

static void do_pools(struct broker_api *api, const struct broker_user *u,
                     struct broker_http_response *res)
{
	struct broker_pool *pools = NULL;
	size_t n = 0;
	json_t *list;

	if (broker_store_user_pools(api->store, u->id, &pools, &n) < 0) {
		broker_http_error(res, 500, "internal", "cannot list pools");
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, pool_json(&pools[i]));
	free(pools);
	reply(res, 200, json_pack("{s:o}", "pools", list));
}

static json_t *vm_json(struct broker_api *api, const struct broker_vm *vm)
{
	struct broker_pool pool;
	const char *pname = "";

	if (broker_store_pool_get(api->store, vm->pool_id, &pool) == 0)
		pname = pool.name;
	return json_pack("{s:s, s:s, s:s, s:i}", "vm", vm->name, "pool", pname, "state",
	                 broker_vm_state_name(vm->state), "boots", (int)vm->boots);
}

static void do_desktops(struct broker_api *api, const struct broker_user *u,
                        struct broker_http_response *res)
{
	struct broker_vm *vms = NULL;
	size_t n = 0;
	json_t *list;

	if (broker_store_vm_list(api->store, 0, &vms, &n) < 0) {
		broker_http_error(res, 500, "internal", "cannot list desktops");
		return;
	}
	list = json_array();
	for (size_t i = 0; i < n; i++)
		if (vms[i].user_id == u->id)
			json_array_append_new(list, vm_json(api, &vms[i]));
	free(vms);
	reply(res, 200, json_pack("{s:o}", "desktops", list));
}

/* The user's entitled, enabled pool called @name, or an error reply. */
static bool entitled_pool(struct broker_api *api, const struct broker_user *u, const char *name,
                          struct broker_pool *ret, struct broker_http_response *res)
{
	struct broker_pool *pools = NULL;
	size_t n = 0;
	bool found = false;

	if (broker_store_user_pools(api->store, u->id, &pools, &n) < 0) {
		broker_http_error(res, 500, "internal", "cannot list pools");
		return false;
	}
	for (size_t i = 0; i < n && !found; i++)
		if (strcmp(pools[i].name, name) == 0) {
			*ret = pools[i];
			found = true;
		}
	free(pools);
	if (!found)
		/* The same answer for "no such pool" and "not yours": names are not disclosed. */
		broker_http_error(res, 404, "not_found", "no pool '%s' for you", name);
	return found;
}

static int random_secret(char *out, size_t len)
{
	static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
	unsigned char b[64];

	if (len >= sizeof(b) || RAND_bytes(b, (int)len) != 1)
		return -EIO;
	for (size_t i = 0; i < len; i++)
		out[i] = alphabet[b[i] % (sizeof(alphabet) - 1)];
	out[len] = '\0';
	OPENSSL_cleanse(b, sizeof(b));
	return 0;
}

static void note_latency(struct broker_api *api, double secs)
{
	size_t i;

	for (i = 0; i < LATENCY_BUCKETS && secs > latency_le[i]; i++)
		;
	api->latency_count[i]++;
	api->latency_sum += secs;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A .vv file remote-viewer opens directly. */
static void reply_vv(struct broker_http_response *res, const struct broker_vm *vm,
                     const char *protocol, const char *host, int port, const char *secret,
                     const char *proxy)
{
	struct proto_vv vv;
	char *text;

	proto_vv_init(&vv);
	vv.type = (char *)protocol;
	vv.host = (char *)host;
	vv.port = port;
	vv.password = (char *)secret;
	vv.title = (char *)vm->name;
	vv.delete_this_file = 1;
	vv.release_cursor = (char *)"ctrl+alt";
	vv.secure_attention = (char *)"ctrl+alt+end";
	vv.toggle_fullscreen = (char *)"shift+f11";
	vv.proxy = (char *)proxy;
	text = proto_vv_write(&vv);
	if (!text) {
		broker_http_error(res, 500, "internal", "cannot write the .vv file");
		return;
	}
	free(res->body);
	res->status = 200;
	res->content_type = "application/x-virt-viewer";
	res->body = text;
	res->len = strlen(text);
	snprintf(res->disposition, sizeof(res->disposition), "attachment; filename=\"%s.vv\"",
	         vm->name);
}

static void do_connect(struct broker_api *api, const struct broker_http_request *req,
                       const struct broker_user *u, const char *pool_name,
                       struct broker_http_response *res)
{
	static const char *const known[] = { "protocol", NULL };
	struct broker_pool pool;
	struct broker_vm vm;
	const char *protocol;
	bool bad = false, want_vv = strstr(req->accept, "application/x-virt-viewer") != NULL;
	char secret[SPICE_SECRET_LEN + 1];
	double t0 = now_s();
	json_t *j;
	int r;

	j = body_object(req, res, known);
	if (!j)
		return;
	protocol = str_member(j, "protocol", 8, true, res, &bad);
	if (!bad && strcmp(protocol, "vnc") != 0 && strcmp(protocol, "spice") != 0 &&
	    strcmp(protocol, "web") != 0) {
		broker_http_error(res, 400, "bad_request", "'protocol' must be vnc, spice or web");
		bad = true;
	}
	if (!bad && want_vv && strcmp(protocol, "web") == 0) {
		broker_http_error(res, 400, "bad_request", "a .vv file is for vnc or spice");
		bad = true;
	}
	if (bad || !entitled_pool(api, u, pool_name, &pool, res)) {
		json_decref(j);
		return;
	}
	if (!api->desktops.allocate) {
		broker_http_error(res, 503, "unavailable", "desktops are not available");
		json_decref(j);
		return;
	}
	r = api->desktops.allocate(api->desktops.opaque, u, &pool, &vm);
	if (r < 0) {
		api->connects_failed++;
		if (r == -EBUSY)
			broker_http_error(res, 503, "pool_full", "no desktop is free in '%s'",
			                  pool.name);
		else if (r == -EDQUOT)
			broker_http_error(res, 403, "quota",
			                  "you already have the desktops you may");
		else if (r == -EAGAIN) {
			res->retry_after = 2;
			broker_http_error(res, 503, "unavailable", "your desktop is starting");
		} else
			broker_http_error(res, 503, "unavailable", "cannot provide a desktop: %s",
			                  strerror(-r));
		audit(api, "connect.failed", u->name, req->source, NULL,
		      json_pack("{s:s, s:s}", "pool", pool.name, "reason", strerror(-r)));
		json_decref(j);
		return;
	}
	if (strcmp(protocol, "web") == 0) {
		struct proto_ticket t = { .protocols = PROTO_TICKET_WS | PROTO_TICKET_VNC };
		char ticket[PROTO_TICKET_MAX_LEN + 1];

		snprintf(t.vm, sizeof(t.vm), "%s", vm.name);
		snprintf(t.user, sizeof(t.user), "%s", u->name);
		t.expires = (int64_t)time(NULL) + api->cfg->ticket_lifetime;
		if (proto_ticket_issue(&t, api->ticket_key, api->ticket_key_len, ticket,
		                       sizeof(ticket)) < 0) {
			broker_http_error(res, 500, "internal", "cannot issue a ticket");
		} else {
			json_t *ok =
			        json_pack("{s:s, s:s, s:s, s:I}", "vm", vm.name, "protocol", "web",
			                  "ticket", ticket, "expires", (json_int_t)t.expires);

			/* A gateway on its own: where the browser opens the console. */
			if (ok && api->cfg->gateway_url[0]) {
				char url[BROKER_ORIGIN_MAX + sizeof(BROKER_GW_PATH)];

				snprintf(url, sizeof(url), "%s%s", api->cfg->gateway_url,
				         BROKER_GW_PATH);
				json_object_set_new(ok, "url", json_string(url));
			}
			reply(res, 200, ok);
			api->connects_ok++;
			note_latency(api, now_s() - t0);
			audit(api, "connect", u->name, req->source, vm.name,
			      json_pack("{s:s}", "protocol", "web"));
		}
		json_decref(j);
		return;
	}
	{
		bool vnc = strcmp(protocol, "vnc") == 0;
		const char *host = vnc ? vm.vnc_host : vm.spice_host;
		int port = vnc ? vm.vnc_port : vm.spice_port;
		int64_t expires = (int64_t)time(NULL) + api->cfg->ticket_lifetime;
		/* SPICE clients outside reach the desktops through this HTTP proxy. */
		const char *proxy = !vnc && api->cfg->spice_proxy[0] ? api->cfg->spice_proxy : NULL;

		if (!port) {
			broker_http_error(res, 503, "unavailable", "the desktop has no %s server",
			                  protocol);
			json_decref(j);
			return;
		}
		if (random_secret(secret, vnc ? VNC_SECRET_LEN : SPICE_SECRET_LEN) < 0 ||
		    api->desktops.set_ticket(api->desktops.opaque, &vm, protocol, secret,
		                             api->cfg->ticket_lifetime) < 0) {
			broker_http_error(res, 503, "unavailable",
			                  "the desktop did not take a ticket");
			json_decref(j);
			return;
		}
		if (want_vv) {
			reply_vv(res, &vm, protocol, host, port, secret, proxy);
		} else {
			json_t *ok = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I}", "vm", vm.name,
			                       "protocol", protocol, "host", host, "port", port,
			                       "password", secret, "expires", (json_int_t)expires);

			if (ok && proxy)
				json_object_set_new(ok, "proxy", json_string(proxy));
			reply(res, 200, ok);
		}
		OPENSSL_cleanse(secret, sizeof(secret));
		api->connects_ok++;
		note_latency(api, now_s() - t0);
		audit(api, "connect", u->name, req->source, vm.name,
		      json_pack("{s:s}", "protocol", protocol));
	}
	json_decref(j);
}

/* /api/v1/desktops/VM/{disconnect,reset}: only the user's own desktop. */
static void do_desktop_action(struct broker_api *api, const struct broker_http_request *req,
                              const struct broker_user *u, const char *vm_name, const char *action,
                              struct broker_http_response *res)
{
	struct broker_vm vm;
	int r;

	if (broker_store_vm_get_by_name(api->store, vm_name, &vm) < 0 || vm.user_id != u->id) {
		broker_http_error(res, 404, "not_found", "you have no desktop '%s'", vm_name);
		return;
	}
	if (strcmp(action, "disconnect") == 0)
		r = api->desktops.release ? api->desktops.release(api->desktops.opaque, &vm, "user")
		                          : -ENOSYS;
	else if (strcmp(action, "reset") == 0)
		r = api->desktops.reset ? api->desktops.reset(api->desktops.opaque, &vm) : -ENOSYS;
	else {
		broker_http_error(res, 404, "not_found", "no action '%s'", action);
		return;
	}
	if (r < 0) {
		broker_http_error(res, 503, "unavailable", "could not %s the desktop: %s", action,
		                  strerror(-r));
		return;
	}
	audit(api, strcmp(action, "reset") == 0 ? "desktop.reset" : "desktop.disconnect", u->name,
	      req->source, vm.name, NULL);
	reply(res, 200, json_object());
}

/* ---- admin ---- */

static void admin_users(struct broker_api *api, struct broker_http_response *res)
{
	struct broker_user *users = NULL;
	size_t n = 0;
	json_t *list = json_array();

	if (broker_store_user_list(api->store, &users, &n) < 0) {
		json_decref(list);
		broker_http_error(res, 500, "internal", "cannot list users");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct broker_group *groups = NULL;
		size_t ng = 0;
		json_t *jg = json_array();

		if (broker_store_user_groups(api->store, users[i].id, &groups, &ng) == 0)
			for (size_t k = 0; k < ng; k++)
				json_array_append_new(jg, json_string(groups[k].name));
		free(groups);
		json_array_append_new(
		        list, json_pack("{s:s, s:s, s:o, s:b, s:b}", "name", users[i].name, "role",
		                        broker_role_name(users[i].role), "groups", jg, "totp",
		                        users[i].totp_secret[0] != '\0', "locked",
		                        users[i].locked_until > broker_auth_now(api->auth)));
	}
	OPENSSL_cleanse(users, n * sizeof(*users));
	free(users);
	reply(res, 200, json_pack("{s:o}", "users", list));
}

static void admin_user_add(struct broker_api *api, const struct broker_http_request *req,
                           const struct broker_user *admin, struct broker_http_response *res)
{
	static const char *const known[] = { "name", "password", "role", "groups", NULL };
	const char *groups[16];
	struct broker_user u;
	const char *name, *password, *role;
	enum broker_role rl = BROKER_ROLE_USER;
	bool bad = false;
	size_t ng = 0;
	json_t *j = body_object(req, res, known), *jg, *g;
	char why[160];
	size_t i;
	int r;

	if (!j)
		return;
	name = str_member(j, "name", BROKER_NAME_MAX, true, res, &bad);
	password = bad ? NULL : str_member(j, "password", BROKER_PASSWORD_MAX, true, res, &bad);
	role = bad ? NULL : str_member(j, "role", 8, false, res, &bad);
	if (!bad && role && strcmp(role, "admin") == 0)
		rl = BROKER_ROLE_ADMIN;
	else if (!bad && role && strcmp(role, "user") != 0) {
		broker_http_error(res, 400, "bad_request", "'role' must be admin or user");
		bad = true;
	}
	jg = json_object_get(j, "groups");
	if (!bad && jg) {
		if (!json_is_array(jg) || json_array_size(jg) > 16) {
			broker_http_error(res, 400, "bad_request",
			                  "'groups' must be a list of up to 16 names");
			bad = true;
		}
		json_array_foreach (jg, i, g) {
			if (bad)
				break;
			if (!json_is_string(g) || !broker_name_valid(json_string_value(g))) {
				broker_http_error(res, 400, "bad_request", "bad group name");
				bad = true;
			} else {
				groups[ng++] = json_string_value(g);
			}
		}
	}
	if (!bad && !broker_name_valid(name)) {
		broker_http_error(res, 400, "bad_request",
		                  "user names are 1-64 of A-Z a-z 0-9 . _ -");
		bad = true;
	}
	if (!bad && broker_auth_password_policy(password, why, sizeof(why)) < 0) {
		broker_http_error(res, 400, "bad_request", "%s", why);
		bad = true;
	}
	if (!bad) {
		r = broker_auth_user_add(api->auth, name, password, rl, groups, ng, &u);
		if (r == -EEXIST)
			broker_http_error(res, 409, "conflict", "user '%s' exists", name);
		else if (r < 0)
			broker_http_error(res, 500, "internal", "cannot add the user");
		else {
			audit(api, "user.add", admin->name, req->source, NULL,
			      json_pack("{s:s}", "name", name));
			reply(res, 201,
			      json_pack("{s:s, s:s}", "name", u.name, "role",
			                broker_role_name(u.role)));
			OPENSSL_cleanse(&u, sizeof(u));
		}
	}
	json_decref(j);
}

static void admin_user_del(struct broker_api *api, const struct broker_http_request *req,
                           const struct broker_user *admin, const char *name,
                           struct broker_http_response *res)
{
	struct broker_user u;

	if (broker_store_user_get_by_name(api->store, name, &u) < 0) {
		broker_http_error(res, 404, "not_found", "no user '%s'", name);
		return;
	}
	if (u.id == admin->id) {
		broker_http_error(res, 400, "bad_request", "you cannot delete yourself");
		return;
	}
	broker_store_session_revoke_user(api->store, u.id);
	if (broker_store_user_del(api->store, u.id) < 0) {
		broker_http_error(res, 409, "conflict", "user '%s' still holds desktops", name);
		return;
	}
	audit(api, "user.del", admin->name, req->source, NULL, json_pack("{s:s}", "name", name));
	reply(res, 200, json_object());
}

static void admin_pools(struct broker_api *api, struct broker_http_response *res)
{
	struct broker_pool *pools = NULL;
	size_t n = 0;
	json_t *list = json_array();

	if (broker_store_pool_list(api->store, &pools, &n) < 0) {
		json_decref(list);
		broker_http_error(res, 500, "internal", "cannot list pools");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *p = pool_json(&pools[i]);

		json_object_set_new(p, "size", json_integer(pools[i].size));
		json_object_set_new(p, "spares", json_integer(pools[i].spares));
		json_object_set_new(p, "max_vms", json_integer(pools[i].max_vms));
		json_object_set_new(p, "max_per_user", json_integer(pools[i].max_per_user));
		json_object_set_new(p, "memory_mib", json_integer(pools[i].memory_mib));
		json_object_set_new(p, "vcpus", json_integer(pools[i].vcpus));
		json_array_append_new(list, p);
	}
	free(pools);
	reply(res, 200, json_pack("{s:o}", "pools", list));
}

static void admin_sessions(struct broker_api *api, struct broker_http_response *res)
{
	struct broker_session *s = NULL;
	size_t n = 0;
	json_t *list = json_array();

	if (broker_store_session_list(api->store, broker_auth_now(api->auth), &s, &n) < 0) {
		json_decref(list);
		broker_http_error(res, 500, "internal", "cannot list sessions");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		struct broker_user u;
		const char *name = "?";

		if (broker_store_user_get(api->store, s[i].user_id, &u) == 0)
			name = u.name;
		json_array_append_new(list,
		                      json_pack("{s:I, s:s, s:s, s:I, s:I, s:I}", "id",
		                                (json_int_t)s[i].id, "user", name, "source",
		                                s[i].source, "created", (json_int_t)s[i].created,
		                                "last_seen", (json_int_t)s[i].last_seen, "expires",
		                                (json_int_t)s[i].expires));
	}
	free(s);
	reply(res, 200, json_pack("{s:o}", "sessions", list));
}

static void admin_session_kill(struct broker_api *api, const struct broker_http_request *req,
                               const struct broker_user *admin, const char *id_text,
                               struct broker_http_response *res)
{
	char *end;
	long long id = strtoll(id_text, &end, 10);

	if (*end || id <= 0 || broker_store_session_revoke(api->store, id) < 0) {
		broker_http_error(res, 404, "not_found", "no session '%s'", id_text);
		return;
	}
	audit(api, "session.kill", admin->name, req->source, NULL,
	      json_pack("{s:I}", "session", (json_int_t)id));
	reply(res, 200, json_object());
}

static void admin_vms(struct broker_api *api, struct broker_http_response *res)
{
	struct broker_vm *vms = NULL;
	size_t n = 0;
	json_t *list = json_array();

	if (broker_store_vm_list(api->store, 0, &vms, &n) < 0) {
		json_decref(list);
		broker_http_error(res, 500, "internal", "cannot list VMs");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *v = vm_json(api, &vms[i]);
		struct broker_user u;

		json_object_set_new(v, "pid", json_integer(vms[i].pid));
		json_object_set_new(v, "vnc_port", json_integer(vms[i].vnc_port));
		json_object_set_new(v, "spice_port", json_integer(vms[i].spice_port));
		if (vms[i].user_id && broker_store_user_get(api->store, vms[i].user_id, &u) == 0)
			json_object_set_new(v, "user", json_string(u.name));
		json_array_append_new(list, v);
	}
	free(vms);
	reply(res, 200, json_pack("{s:o}", "vms", list));
}

static void admin_audit(struct broker_api *api, const struct broker_http_request *req,
                        struct broker_http_response *res)
{
	struct broker_audit *a = NULL;
	size_t n = 0;
	long long after = 0;
	json_t *list = json_array();
	const char *q = strstr(req->query, "after=");

	if (q)
		after = strtoll(q + 6, NULL, 10);
	if (after < 0)
		after = 0;
	if (broker_store_audit_list(api->store, after, 500, &a, &n) < 0) {
		json_decref(list);
		broker_http_error(res, 500, "internal", "cannot read the audit log");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_pack("{s:I, s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)a[i].id,
		                      "time", (json_int_t)a[i].time, "event", a[i].event, "user",
		                      a[i].user, "source", a[i].source, "vm", a[i].vm);
		json_t *d = a[i].detail[0] ? json_loads(a[i].detail, 0, NULL) : NULL;

		if (d)
			json_object_set_new(e, "detail", d);
		json_array_append_new(list, e);
	}
	free(a);
	reply(res, 200, json_pack("{s:o}", "events", list));
}

static void do_admin(struct broker_api *api, const struct broker_http_request *req,
                     const struct broker_user *u, char seg[][BROKER_NAME_MAX + 1], size_t n,
                     struct broker_http_response *res)
{
	if (u->role != BROKER_ROLE_ADMIN) {
		broker_http_error(res, 403, "forbidden", "this needs the admin role");
		return;
	}
	if (n == 1 && is(req, "GET")) {
		if (strcmp(seg[0], "users") == 0)
			return admin_users(api, res);
		if (strcmp(seg[0], "pools") == 0)
			return admin_pools(api, res);
		if (strcmp(seg[0], "sessions") == 0)
			return admin_sessions(api, res);
		if (strcmp(seg[0], "vms") == 0)
			return admin_vms(api, res);
		if (strcmp(seg[0], "audit") == 0)
			return admin_audit(api, req, res);
	}
	if (n == 1 && is(req, "POST") && strcmp(seg[0], "users") == 0)
		return admin_user_add(api, req, u, res);
	if (n == 3 && is(req, "POST") && strcmp(seg[0], "users") == 0 &&
	    strcmp(seg[2], "delete") == 0)
		return admin_user_del(api, req, u, seg[1], res);
	if (n == 3 && is(req, "POST") && strcmp(seg[0], "sessions") == 0 &&
	    strcmp(seg[2], "kill") == 0)
		return admin_session_kill(api, req, u, seg[1], res);
	broker_http_error(res, 404, "not_found", "no such admin resource");
}

/* ---- metrics ---- */

static void do_metrics(struct broker_api *api, struct broker_http_response *res)
{
	static const char *const states[] = { "stopped", "starting", "running", "stopping",
		                              "failed" };
	struct broker_auth_stats st;
	struct broker_session *sessions = NULL;
	struct broker_vm *vms = NULL;
	size_t ns = 0, nv = 0;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	uint64_t cum = 0;

	if (!f) {
		broker_http_error(res, 500, "internal", "out of memory");
		return;
	}
	broker_auth_get_stats(api->auth, &st);
	broker_store_session_list(api->store, broker_auth_now(api->auth), &sessions, &ns);
	broker_store_vm_list(api->store, 0, &vms, &nv);
	fprintf(f,
	        "# HELP vdi_sessions Login sessions that are live.\n# TYPE vdi_sessions gauge\n");
	fprintf(f, "vdi_sessions %zu\n", ns);
	fprintf(f, "# HELP vdi_vms Desktops by state.\n# TYPE vdi_vms gauge\n");
	for (size_t s = 0; s < sizeof(states) / sizeof(states[0]); s++) {
		size_t c = 0;

		for (size_t i = 0; i < nv; i++)
			c += strcmp(broker_vm_state_name(vms[i].state), states[s]) == 0;
		fprintf(f, "vdi_vms{state=\"%s\"} %zu\n", states[s], c);
	}
	fprintf(f, "# HELP vdi_logins_total Login attempts by result.\n# TYPE vdi_logins_total "
	           "counter\n");
	fprintf(f, "vdi_logins_total{result=\"ok\"} %llu\n", (unsigned long long)st.logins_ok);
	fprintf(f, "vdi_logins_total{result=\"failed\"} %llu\n",
	        (unsigned long long)st.logins_failed);
	fprintf(f, "# HELP vdi_connects_total Console connects by result.\n# TYPE "
	           "vdi_connects_total counter\n");
	fprintf(f, "vdi_connects_total{result=\"ok\"} %llu\n",
	        (unsigned long long)api->connects_ok);
	fprintf(f, "vdi_connects_total{result=\"failed\"} %llu\n",
	        (unsigned long long)api->connects_failed);
	fprintf(f, "# HELP vdi_allocation_seconds Time to provide a desktop for a connect.\n# TYPE "
	           "vdi_allocation_seconds histogram\n");
	for (size_t i = 0; i < LATENCY_BUCKETS; i++) {
		cum += api->latency_count[i];
		fprintf(f, "vdi_allocation_seconds_bucket{le=\"%g\"} %llu\n", latency_le[i],
		        (unsigned long long)cum);
	}
	cum += api->latency_count[LATENCY_BUCKETS];
	fprintf(f, "vdi_allocation_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
	fprintf(f, "vdi_allocation_seconds_sum %g\nvdi_allocation_seconds_count %llu\n",
	        api->latency_sum, (unsigned long long)cum);
	fclose(f);
	free(sessions);
	free(vms);
	free(res->body);
	res->status = 200;
	res->content_type = "text/plain; version=0.0.4";
	res->body = buf;
	res->len = len;
}

/* ---- routing ---- */

void broker_api_handle(void *opaque, const struct broker_http_request *req,
                       struct broker_http_response *res)
{
	struct broker_api *api = opaque;
	char seg[4][BROKER_NAME_MAX + 1];
	struct broker_session session;
	struct broker_user u;
	size_t n;

	api->requests++;
	if (strcmp(req->path, "/metrics") == 0) {
		if (!is(req, "GET"))
			return broker_http_error(res, 405, "method_not_allowed", "use GET");
		return do_metrics(api, res);
	}
	if (strcmp(req->path, "/api/v1/login") == 0) {
		if (!is(req, "POST"))
			return broker_http_error(res, 405, "method_not_allowed", "use POST");
		return do_login(api, req, res);
	}
	if (strcmp(req->path, "/api/v1/logout") == 0) {
		if (!is(req, "POST"))
			return broker_http_error(res, 405, "method_not_allowed", "use POST");
		return do_logout(api, req, res);
	}
	if (strncmp(req->path, "/api/v1/", 8) != 0)
		return broker_http_error(res, 404, "not_found", "no such resource");
	if (!authenticate(api, req, res, &u, &session))
		return;
	if (strcmp(req->path, "/api/v1/me") == 0 && is(req, "GET")) {
		reply(res, 200,
		      json_pack("{s:s, s:s}", "user", u.name, "role", broker_role_name(u.role)));
	} else if (strcmp(req->path, "/api/v1/pools") == 0 && is(req, "GET")) {
		do_pools(api, &u, res);
	} else if (strcmp(req->path, "/api/v1/desktops") == 0 && is(req, "GET")) {
		do_desktops(api, &u, res);
	} else if ((n = segments(req->path, "/api/v1/pools", seg, 4)) == 2 &&
	           strcmp(seg[1], "connect") == 0) {
		if (!is(req, "POST"))
			broker_http_error(res, 405, "method_not_allowed", "use POST");
		else
			do_connect(api, req, &u, seg[0], res);
	} else if ((n = segments(req->path, "/api/v1/desktops", seg, 4)) == 2) {
		if (!is(req, "POST"))
			broker_http_error(res, 405, "method_not_allowed", "use POST");
		else
			do_desktop_action(api, req, &u, seg[0], seg[1], res);
	} else if ((n = segments(req->path, "/api/v1/admin", seg, 4)) >= 1) {
		do_admin(api, req, &u, seg, n, res);
	} else {
		broker_http_error(res, 404, "not_found", "no such resource");
	}
	OPENSSL_cleanse(&u, sizeof(u));
}

int broker_api_new(const struct broker_config *cfg, struct broker_store *store,
                   struct broker_auth *auth, const struct broker_api_desktops *desktops,
                   const uint8_t *ticket_key, size_t ticket_key_len, struct broker_api **ret)
{
	struct broker_api *api;

	if (ticket_key_len < PROTO_TICKET_KEY_MIN || ticket_key_len > PROTO_TICKET_KEY_MAX)
		return -EINVAL;
	api = calloc(1, sizeof(*api));
	if (!api)
		return -ENOMEM;
	api->cfg = cfg;
	api->store = store;
	api->auth = auth;
	if (desktops)
		api->desktops = *desktops;
	memcpy(api->ticket_key, ticket_key, ticket_key_len);
	api->ticket_key_len = ticket_key_len;
	*ret = api;
	return 0;
}

void broker_api_set_desktops(struct broker_api *api, const struct broker_api_desktops *desktops)
{
	api->desktops = *desktops;
}

void broker_api_free(struct broker_api *api)
{
	if (!api)
		return;
	OPENSSL_cleanse(api->ticket_key, sizeof(api->ticket_key));
	free(api);
}
