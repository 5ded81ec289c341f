// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/control-cmds.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>

#include "proto/control.h"
#include "proto/keymap.h"
#include "proto/log.h"
#include "vmm/display.h"
#include "vmm/machine-priv.h"

#define SEND_KEY_MAX 16
#define TICKET_TTL_MAX (24 * 3600)
#define VNC_SECRET_MAX 8    /* VNC authentication uses 8 bytes of DES key */
#define SPICE_SECRET_MAX 60 /* spice-server's ticket limit (SPICE_MAX_PASSWORD_LENGTH) */

static void set_error(struct vmm_cmd_result *res, const char *cls, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static void set_error(struct vmm_cmd_result *res, const char *cls, const char *fmt, ...)
{
	va_list ap;

	json_decref(res->ok);
	res->ok = NULL;
	res->err_class = cls;
	va_start(ap, fmt);
	vsnprintf(res->err_desc, sizeof(res->err_desc), fmt, ap);
	va_end(ap);
}

/* Refuse arguments the command does not know: a typo must not pass silently. */
static bool only_args(json_t *args, const char *const *known, struct vmm_cmd_result *res)
{
	const char *key;
	json_t *v;

	json_object_foreach (args, key, v) {
		bool ok = false;

		for (unsigned int i = 0; known && known[i]; i++)
			ok |= strcmp(key, known[i]) == 0;
		if (!ok) {
			set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT, "unknown argument '%s'",
			          key);
			return false;
		}
	}
	return true;
}

static void cmd_query_status(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	if (!only_args(args, NULL, res))
		return;
	res->ok = json_pack("{s:s, s:s, s:f, s:i, s:I, s:I, s:o}", "name", m->cfg.name, "status",
	                    vmm_machine_state_name(m), "uptime", vmm_machine_uptime(m), "vcpus",
	                    (int)m->cfg.cpus, "memory", (json_int_t)m->cfg.mem_size, "boots",
	                    (json_int_t)m->boots, "displays", vmm_display_describe(m->display));
}

static void cmd_query_displays(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	if (!only_args(args, NULL, res))
		return;
	res->ok = vmm_display_describe(m->display);
}

static void cmd_stop(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	if (!only_args(args, NULL, res))
		return;
	if (vmm_machine_pause(m) < 0)
		set_error(res, PROTO_CTL_ERR_FAILED, "the guest is %s", vmm_machine_state_name(m));
	else
		res->ok = json_object();
}

static void cmd_cont(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	if (!only_args(args, NULL, res))
		return;
	if (vmm_machine_resume(m) < 0)
		set_error(res, PROTO_CTL_ERR_FAILED, "the guest is %s", vmm_machine_state_name(m));
	else
		res->ok = json_object();
}

static void cmd_reset(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	int r;

	if (!only_args(args, NULL, res))
		return;
	r = vmm_machine_reset(m, "control");
	if (r < 0)
		set_error(res, PROTO_CTL_ERR_FAILED, "reset failed: %s", strerror(-r));
	else
		res->ok = json_object();
}

static void cmd_quit(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	if (!only_args(args, NULL, res))
		return;
	res->ok = json_object();
	res->quit = true;
}

static void cmd_screendump(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	static const char *const known[] = { "path", NULL };
	json_t *path = json_object_get(args, "path");
	unsigned int w, h;
	int r;

	if (!only_args(args, known, res))
		return;
	if (!json_is_string(path) || json_string_length(path) == 0 ||
	    json_string_length(path) > 4000 || json_string_value(path)[0] != '/' ||
	    strlen(json_string_value(path)) != json_string_length(path)) {
		set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT,
		          "'path' must be an absolute file name");
		return;
	}
	r = vmm_machine_screendump(m, json_string_value(path), &w, &h);
	if (r == -ENODATA)
		set_error(res, PROTO_CTL_ERR_FAILED, "the guest has not set a display mode");
	else if (r < 0)
		set_error(res, PROTO_CTL_ERR_FAILED, "cannot write %s: %s", json_string_value(path),
		          strerror(-r));
	else
		res->ok = json_pack("{s:i, s:i}", "width", (int)w, "height", (int)h);
}

static const struct proto_key *key_arg(json_t *v)
{
	if (json_is_string(v))
		return proto_key_by_name(json_string_value(v));
	if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 0x300)
		return proto_key_by_evdev((unsigned int)json_integer_value(v));
	return NULL;
}

static void cmd_send_key(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	static const char *const known[] = { "keys", "down", NULL };
	const struct proto_key *keys[SEND_KEY_MAX];
	json_t *list = json_object_get(args, "keys");
	json_t *down = json_object_get(args, "down");
	size_t n, i;

	if (!only_args(args, known, res))
		return;
	if (!json_is_array(list) || json_array_size(list) == 0 ||
	    json_array_size(list) > SEND_KEY_MAX) {
		set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT,
		          "'keys' must be a list of 1 to %d key names", SEND_KEY_MAX);
		return;
	}
	if (down && !json_is_boolean(down)) {
		set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT, "'down' must be true or false");
		return;
	}
	n = json_array_size(list);
	/* Check every key before sending any, so a bad list changes nothing. */
	for (i = 0; i < n; i++) {
		keys[i] = key_arg(json_array_get(list, i));
		if (!keys[i]) {
			char *s = json_dumps(json_array_get(list, i), JSON_ENCODE_ANY);

			set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT, "unknown key %.64s",
			          s ? s : "?");
			free(s);
			return;
		}
	}
	/* Without 'down': press all in order, release in reverse, like a chord. */
	if (!down || json_is_true(down))
		for (i = 0; i < n; i++)
			vmm_machine_key(m, keys[i]->evdev, true);
	if (!down || json_is_false(down))
		for (i = n; i-- > 0;)
			vmm_machine_key(m, keys[i]->evdev, false);
	res->ok = json_object();
}

static bool int_arg(json_t *args, const char *key, bool required, json_int_t min, json_int_t max,
                    json_int_t *ret, struct vmm_cmd_result *res)
{
	json_t *v = json_object_get(args, key);

	if (!v && !required)
		return true;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT,
		          "'%s' must be an integer from %lld to %lld", key, (long long)min,
		          (long long)max);
		return false;
	}
	*ret = json_integer_value(v);
	return true;
}

static void cmd_pointer(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	static const char *const known[] = { "x", "y", "buttons", "wheel", NULL };
	json_int_t x, y, buttons = 0, wheel = 0;

	if (!only_args(args, known, res) || !int_arg(args, "x", true, 0, 65535, &x, res) ||
	    !int_arg(args, "y", true, 0, 65535, &y, res) ||
	    !int_arg(args, "buttons", false, 0, 7, &buttons, res) ||
	    !int_arg(args, "wheel", false, -16, 16, &wheel, res))
		return;
	vmm_machine_pointer(m, (unsigned int)x, (unsigned int)y, (unsigned int)buttons, (int)wheel);
	res->ok = json_object();
}

static bool printable(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return false;
	return true;
}

static void cmd_set_ticket(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res)
{
	static const char *const known[] = { "protocol", "secret", "expires_in", "connected",
		                             NULL };
	const char *proto = json_string_value(json_object_get(args, "protocol"));
	json_t *secret = json_object_get(args, "secret");
	json_t *connected = json_object_get(args, "connected");
	json_int_t ttl = 0;
	enum vmm_protocol p;
	bool disconnect = false;
	size_t len;
	struct vmm_ticket t;

	if (!only_args(args, known, res))
		return;
	if (proto && strcmp(proto, "vnc") == 0) {
		p = VMM_PROTOCOL_VNC;
	} else if (proto && strcmp(proto, "spice") == 0) {
		p = VMM_PROTOCOL_SPICE;
	} else {
		set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT, "'protocol' must be vnc or spice");
		return;
	}
	len = json_is_string(secret) ? json_string_length(secret) : 0;
	if (!len || len > VMM_TICKET_SECRET_MAX || !printable(json_string_value(secret), len)) {
		set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT,
		          "'secret' must be 1 to %d printable ASCII characters",
		          VMM_TICKET_SECRET_MAX);
		return;
	}
	if (p == VMM_PROTOCOL_VNC && len > VNC_SECRET_MAX) {
		set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT,
		          "VNC authentication uses at most %d characters; a longer secret would "
		          "be cut",
		          VNC_SECRET_MAX);
		return;
	}
	if (p == VMM_PROTOCOL_SPICE && len > SPICE_SECRET_MAX) {
		set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT,
		          "SPICE tickets are at most %d characters", SPICE_SECRET_MAX);
		return;
	}
	if (!int_arg(args, "expires_in", false, 1, TICKET_TTL_MAX, &ttl, res))
		return;
	if (connected) {
		const char *c = json_string_value(connected);

		if (c && strcmp(c, "disconnect") == 0) {
			disconnect = true;
		} else if (!c || strcmp(c, "keep") != 0) {
			set_error(res, PROTO_CTL_ERR_INVALID_ARGUMENT,
			          "'connected' must be keep or disconnect");
			return;
		}
	}
	memset(&t, 0, sizeof(t));
	t.set = true;
	memcpy(t.secret, json_string_value(secret), len);
	t.expires = ttl ? (int64_t)time(NULL) + ttl : 0;
	log_info("vm=%s new %s ticket%s%s", m->cfg.name, p == VMM_PROTOCOL_VNC ? "vnc" : "spice",
	         ttl ? " with an expiry" : "", disconnect ? ", disconnecting its clients" : "");
	vmm_display_ticket_set(m->display, p, &t, disconnect);
	OPENSSL_cleanse(&t, sizeof(t));
	res->ok = json_object();
}

static const struct {
	const char *name;
	void (*fn)(struct vmm_machine *m, json_t *args, struct vmm_cmd_result *res);
} commands[] = {
	{ "query-status", cmd_query_status },
	{ "query-displays", cmd_query_displays },
	{ "stop", cmd_stop },
	{ "cont", cmd_cont },
	{ "reset", cmd_reset },
	{ "quit", cmd_quit },
	{ "screendump", cmd_screendump },
	{ "send-key", cmd_send_key },
	{ "pointer", cmd_pointer },
	{ "set-ticket", cmd_set_ticket },
};

void vmm_control_run(struct vmm_machine *m, const char *cmd, json_t *args,
                     struct vmm_cmd_result *res)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(commands[i].name, cmd) == 0) {
			commands[i].fn(m, args, res);
			if (!res->ok && !res->err_class)
				set_error(res, PROTO_CTL_ERR_FAILED, "out of memory");
			return;
		}
	}
	set_error(res, PROTO_CTL_ERR_UNKNOWN_COMMAND, "unknown command '%.64s'", cmd);
}
