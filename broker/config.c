// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>

#include "proto/log.h"

#ifndef BROKER_DEFAULT_VMM
#define BROKER_DEFAULT_VMM "vdi-vmm"
#endif
#ifndef BROKER_DEFAULT_GUEST
#define BROKER_DEFAULT_GUEST "vdi-guest.elf"
#endif
#ifndef BROKER_DEFAULT_WEB_ROOT
#define BROKER_DEFAULT_WEB_ROOT "assets/web"
#endif

enum opt_type {
	OPT_PATH,    /* non-empty path, no control characters */
	OPT_UINT,    /* decimal in min..max */
	OPT_LISTEN,  /* host:port */
	OPT_LEVEL,   /* log level name */
	OPT_NAME,    /* empty, or a name of broker_name_valid() */
	OPT_LABEL,   /* 1..64 characters, no ':' or control characters */
	OPT_ORIGINS, /* empty, or origins (broker_origin_valid()) separated by spaces */
	OPT_WSS_URL, /* empty, or wss://HOST[:PORT] */
	OPT_PROXY,   /* empty, or an HTTP proxy (proto_vv_proxy_valid()) */
};

struct opt {
	const char *group;
	const char *key;
	enum opt_type type;
	size_t off;  /* of the field in struct broker_config */
	size_t size; /* of a string field */
	const char *def;
	unsigned long min, max;
	const char *unit;
	const char *flag; /* the command-line flag setting it, or NULL */
	const char *help;
};

#define FIELD(f) offsetof(struct broker_config, f), sizeof(((struct broker_config *)0)->f)
#define STR_OPT(g, k, t, f, d, fl, h)                   \
	{                                               \
		g, k, t, FIELD(f), d, 0, 0, NULL, fl, h \
	}
#define UINT_OPT(g, k, f, d, lo, hi, u, h)                      \
	{                                                       \
		g, k, OPT_UINT, FIELD(f), d, lo, hi, u, NULL, h \
	}

static const struct opt opts[] = {
	STR_OPT("broker", "data_dir", OPT_PATH, data_dir, "./var", "--data-dir",
	        "Directory of the broker's state: database, TLS files, VM disks and "
	        "sockets. Relative to the working directory."),
	STR_OPT("broker", "database", OPT_PATH, database, "broker.db", NULL,
	        "The SQLite database, relative to data_dir."),
	STR_OPT("broker", "log_level", OPT_LEVEL, log_level, "info", "--log-level",
	        "Least important messages logged: err, warn, info or debug."),
	STR_OPT("http", "listen", OPT_LISTEN, listen, "127.0.0.1:8443", "--listen",
	        "Address and port of the HTTPS API, web pages and console gateway: "
	        "IPv4:PORT or [IPv6]:PORT."),
	STR_OPT("http", "tls_cert", OPT_PATH, tls_cert, "tls/server-cert.pem", NULL,
	        "TLS certificate chain (PEM), relative to data_dir; made at first start "
	        "when missing."),
	STR_OPT("http", "tls_key", OPT_PATH, tls_key, "tls/server-key.pem", NULL,
	        "TLS private key (PEM), relative to data_dir."),
	STR_OPT("http", "web_root", OPT_PATH, web_root, BROKER_DEFAULT_WEB_ROOT, "--web-root",
	        "Directory of the web login and console pages."),
	UINT_OPT("console", "ticket_lifetime", ticket_lifetime, "30", 5, 600, "s",
	         "How long a console ticket stays valid; each is good for one connection."),
	UINT_OPT("console", "max_tunnels", max_tunnels, "256", 1, 10000, NULL,
	         "Browser console tunnels open at once, overall; more are refused."),
	UINT_OPT("console", "max_tunnels_per_user", max_tunnels_per_user, "4", 1, 1000, NULL,
	         "Browser console tunnels one user may have open at once."),
	STR_OPT("console", "origins", OPT_ORIGINS, origins, "", NULL,
	        "Web origins besides the page's own whose pages may open consoles "
	        "(https://portal.example.org:8443, separated by spaces; at most 8)."),
	STR_OPT("console", "gateway_url", OPT_WSS_URL, gateway_url, "", NULL,
	        "Address of a console gateway running on its own ('vdi-broker gateway'), "
	        "as wss://HOST[:PORT]: browsers are sent there and this broker serves no "
	        "consoles itself. Empty: this broker is the gateway."),
	STR_OPT("console", "spice_proxy", OPT_PROXY, spice_proxy, "", NULL,
	        "HTTP proxy that SPICE clients outside reach the desktops through "
	        "(http[s]://HOST[:PORT], CONNECT), written into the .vv files and connect "
	        "answers for SPICE. Empty: clients connect to the desktops directly."),
	UINT_OPT("session", "idle_timeout", idle_timeout, "1800", 60, 86400, "s",
	         "A login session ends after this long without a request."),
	UINT_OPT("session", "absolute_timeout", absolute_timeout, "43200", 300, 2592000, "s",
	         "A login session ends this long after the login, however busy."),
	UINT_OPT("session", "disconnect_grace", disconnect_grace, "300", 0, 86400, "s",
	         "A desktop stays assigned this long after its user disconnects."),
	UINT_OPT("auth", "lockout_failures", lockout_failures, "5", 1, 100, NULL,
	         "Failed logins in a row (password or TOTP) that lock an account."),
	UINT_OPT("auth", "lockout_duration", lockout_duration, "300", 1, 86400, "s",
	         "How long a locked account stays locked."),
	UINT_OPT("auth", "throttle_base_ms", throttle_base_ms, "250", 0, 10000, "ms",
	         "Wait imposed on a client address after its second failed login in a "
	         "row, doubling with each further failure; 0 turns this off."),
	UINT_OPT("auth", "throttle_max_ms", throttle_max_ms, "30000", 0, 600000, "ms",
	         "The longest wait imposed on a client address."),
	UINT_OPT("auth", "argon2_memory", argon2_memory, "19456", 64, 4194304, "KiB",
	         "Memory cost of argon2id password hashes."),
	UINT_OPT("auth", "argon2_iterations", argon2_iterations, "2", 1, 100, NULL,
	         "Time cost (passes) of argon2id password hashes."),
	UINT_OPT("auth", "argon2_parallelism", argon2_parallelism, "1", 1, 16, NULL,
	         "Lanes (and threads) of argon2id password hashes."),
	STR_OPT("auth", "pam_service", OPT_NAME, pam_service, "", NULL,
	        "PAM service (a file in /etc/pam.d) for users without a local password; "
	        "empty: no PAM."),
	STR_OPT("auth", "default_group", OPT_NAME, default_group, "users", NULL,
	        "Group that new users join when none is given; empty: none."),
	STR_OPT("auth", "totp_issuer", OPT_LABEL, totp_issuer, "vdi", NULL,
	        "Name shown for this service in authenticator apps."),
	STR_OPT("vmm", "binary", OPT_PATH, vmm_binary, BROKER_DEFAULT_VMM, "--vmm",
	        "The vdi-vmm program that runs each desktop."),
	STR_OPT("vmm", "guest", OPT_PATH, vmm_guest, BROKER_DEFAULT_GUEST, "--guest",
	        "The reference guest image, used by pools whose kernel is empty."),
};

#define NR_OPTS (sizeof(opts) / sizeof(opts[0]))

static const char *const fixed_groups[] = { "broker", "http", "console", "session", "auth", "vmm" };

static const struct {
	const char *key;
	const char *help;
} pool_keys[] = {
	{ "kernel", "Guest image: PVH ELF or Linux bzImage; empty: the reference guest." },
	{ "initrd", "Initial ramdisk; empty: none." },
	{ "cmdline", "Kernel command line." },
	{ "disk_template", "Raw disk image each VM's disk is copied from; empty: no disk." },
	{ "memory", "Guest RAM in MiB, 16..65536." },
	{ "vcpus", "Virtual CPUs, 1..64." },
	{ "resolution", "Preferred display mode WxH, 320x200..1920x1080." },
	{ "type", "floating (any free desktop, reset when given back) or persistent "
	          "(one desktop per user, kept with its disk)." },
	{ "size", "Desktops kept provisioned, assigned or not; at most max_vms." },
	{ "spares", "Unassigned desktops kept running, ready to hand out; at most max_vms." },
	{ "max_vms", "Never more VMs in this pool than this, 1..1000." },
	{ "max_per_user", "Desktops one user may hold at once, 1..max_vms." },
	{ "enabled", "true or false; a disabled pool hands out nothing." },
	{ "entitle", "Who may use it: user:NAME and group:NAME, separated by ';'." },
};

static int fail(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (buf && size) {
		va_start(ap, fmt);
		vsnprintf(buf, size, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool no_controls(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int broker_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9' || strlen(s) > 20)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int broker_parse_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; s && i < 4; i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int broker_parse_resolution(const char *s, unsigned int *ret_w, unsigned int *ret_h)
{
	unsigned long w, h;
	char buf[16], *x;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	x = strchr(buf, 'x');
	if (!x)
		return -EINVAL;
	*x = '\0';
	if (broker_parse_uint(buf, BROKER_POOL_WIDTH_MIN, BROKER_POOL_WIDTH_MAX, &w) < 0 ||
	    broker_parse_uint(x + 1, BROKER_POOL_HEIGHT_MIN, BROKER_POOL_HEIGHT_MAX, &h) < 0)
		return -EINVAL;
	*ret_w = (unsigned int)w;
	*ret_h = (unsigned int)h;
	return 0;
}

int broker_parse_pool_type(const char *s, enum broker_pool_type *ret)
{
	if (s && strcmp(s, "floating") == 0)
		*ret = BROKER_POOL_FLOATING;
	else if (s && strcmp(s, "persistent") == 0)
		*ret = BROKER_POOL_PERSISTENT;
	else
		return -EINVAL;
	return 0;
}

int broker_parse_entitlement(const char *s, struct broker_entitlement *ret)
{
	struct broker_entitlement e = { 0 };
	const char *name;

	if (!s)
		return -EINVAL;
	if (strncmp(s, "user:", 5) == 0) {
		e.kind = BROKER_ENT_USER;
		name = s + 5;
	} else if (strncmp(s, "group:", 6) == 0) {
		e.kind = BROKER_ENT_GROUP;
		name = s + 6;
	} else {
		return -EINVAL;
	}
	if (!broker_name_valid(name))
		return -EINVAL;
	strcpy(e.name, name);
	*ret = e;
	return 0;
}

int broker_parse_listen(const char *s, char *host, size_t host_size, int *ret_port)
{
	char h[BROKER_HOST_MAX + 1];
	const char *colon;
	unsigned long port;
	struct in6_addr a6;
	struct in_addr a4;
	size_t n;

	if (!s || strlen(s) > BROKER_LISTEN_MAX)
		return -EINVAL;
	colon = strrchr(s, ':');
	if (!colon || broker_parse_uint(colon + 1, 0, 65535, &port) < 0)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
		if (n == 0 || n >= sizeof(h))
			return -EINVAL;
		memcpy(h, s, n);
		h[n] = '\0';
		if (inet_pton(AF_INET6, h, &a6) != 1)
			return -EINVAL;
	} else {
		if (n == 0 || n >= sizeof(h))
			return -EINVAL;
		memcpy(h, s, n);
		h[n] = '\0';
		if (inet_pton(AF_INET, h, &a4) != 1)
			return -EINVAL;
	}
	if (n >= host_size)
		return -EINVAL;
	strcpy(host, h);
	*ret_port = (int)port;
	return 0;
}

bool broker_origin_valid(const char *s, size_t len, const char *scheme)
{
	size_t n = strlen(scheme), host_len;
	const char *host, *end = s + len, *port = NULL;

	if (len > BROKER_ORIGIN_MAX)
		return false;
	if (len > n + 3 && strncmp(s, scheme, n) == 0 && strncmp(s + n, "://", 3) == 0)
		host = s + n + 3;
	else if (strcmp(scheme, "https") == 0 && len > 7 && strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else
		return false;
	if (*host == '[') { /* [IPv6] */
		const char *close = memchr(host, ']', (size_t)(end - host));
		char a[64];
		struct in6_addr a6;

		if (!close || (size_t)(close - host - 1) >= sizeof(a))
			return false;
		memcpy(a, host + 1, (size_t)(close - host - 1));
		a[close - host - 1] = '\0';
		if (inet_pton(AF_INET6, a, &a6) != 1)
			return false;
		if (close + 1 < end && close[1] != ':')
			return false;
		port = close + 1 < end ? close + 1 : NULL;
	} else {
		port = memchr(host, ':', (size_t)(end - host));
		host_len = (size_t)((port ? port : end) - host);
		if (host_len == 0 || host[0] == '.' || host[0] == '-')
			return false;
		for (size_t i = 0; i < host_len; i++)
			if (!g_ascii_isalnum(host[i]) && host[i] != '.' && host[i] != '-')
				return false;
	}
	if (port) {
		char digits[8];
		unsigned long v;
		size_t d = (size_t)(end - port - 1);

		if (d == 0 || d >= sizeof(digits))
			return false;
		memcpy(digits, port + 1, d);
		digits[d] = '\0';
		if (broker_parse_uint(digits, 1, 65535, &v) < 0)
			return false;
	}
	return true;
}

static const char *level_name(int level)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	return level >= 0 && level <= 3 ? names[level] : "info";
}

/* Set option @o of @cfg from @value; on failure @why says why (without the key). */
static int opt_set(struct broker_config *cfg, const struct opt *o, const char *value, char *why,
                   size_t why_size)
{
	char *field = (char *)cfg + o->off;
	unsigned long v;
	size_t n = strlen(value);

	switch (o->type) {
	case OPT_PATH:
		if (n == 0)
			return fail(why, why_size, "must not be empty");
		if (n >= o->size || !no_controls(value))
			return fail(why, why_size, "must be a path of at most %zu characters",
			            o->size - 1);
		strcpy(field, value);
		return 0;
	case OPT_UINT:
		if (broker_parse_uint(value, o->min, o->max, &v) < 0)
			return fail(why, why_size, "'%.40s' is not a whole number in %lu..%lu%s%s",
			            value, o->min, o->max, o->unit ? " " : "",
			            o->unit ? o->unit : "");
		*(unsigned int *)(void *)field = (unsigned int)v;
		return 0;
	case OPT_LISTEN:
		if (n >= o->size ||
		    broker_parse_listen(value, cfg->listen_host, sizeof(cfg->listen_host),
		                        &cfg->listen_port) < 0)
			return fail(why, why_size,
			            "'%.80s' is not IPv4:PORT or [IPv6]:PORT (port 0..65535, 0 for "
			            "any free one)",
			            value);
		strcpy(field, value);
		return 0;
	case OPT_LEVEL: {
		int level = vdi_log_level_parse(value);

		if (level < 0)
			return fail(why, why_size, "'%.40s' is not one of err, warn, info, debug",
			            value);
		*(int *)(void *)field = level;
		return 0;
	}
	case OPT_NAME:
		if (n && !broker_name_valid(value))
			return fail(why, why_size,
			            "'%.80s' must be empty or 1-%d characters of A-Z a-z 0-9 . _ -",
			            value, BROKER_NAME_MAX);
		strcpy(field, value);
		return 0;
	case OPT_ORIGINS: {
		size_t count = 0;

		for (const char *p = value; *p;) {
			size_t len = strcspn(p, " ");

			if (len &&
			    (++count > BROKER_ORIGINS_MAX || !broker_origin_valid(p, len, "https")))
				return fail(why, why_size,
				            "must be at most %d origins such as "
				            "https://portal.example.org:8443, "
				            "separated by spaces ('%.*s' is not one)",
				            BROKER_ORIGINS_MAX, (int)(len > 80 ? 80 : len), p);
			p += len;
			while (*p == ' ')
				p++;
		}
		if (n >= o->size)
			return fail(why, why_size, "is too long");
		strcpy(field, value);
		return 0;
	}
	case OPT_WSS_URL:
		if (n && !broker_origin_valid(value, n, "wss"))
			return fail(why, why_size,
			            "'%.80s' must be empty or wss://HOST[:PORT], without a path",
			            value);
		strcpy(field, value);
		return 0;
	case OPT_PROXY:
		if (n && !proto_vv_proxy_valid(value))
			return fail(
			        why, why_size,
			        "'%.80s' must be empty or http[s]://HOST[:PORT] of an HTTP proxy",
			        value);
		strcpy(field, value);
		return 0;
	case OPT_LABEL:
		if (n == 0 || n >= o->size || strchr(value, ':') || !no_controls(value))
			return fail(why, why_size, "must be 1-%zu characters, without ':'",
			            o->size - 1);
		strcpy(field, value);
		return 0;
	}
	return -EINVAL;
}

static const struct opt *opt_find(const char *group, const char *key)
{
	for (size_t i = 0; i < NR_OPTS; i++)
		if (strcmp(opts[i].group, group) == 0 && strcmp(opts[i].key, key) == 0)
			return &opts[i];
	return NULL;
}

int broker_config_set(struct broker_config *cfg, const char *group, const char *key,
                      const char *value, char *why, size_t why_size)
{
	const struct opt *o = opt_find(group, key);

	if (!o) {
		fail(why, why_size, "unknown key [%s] %s", group, key);
		return -ENOENT;
	}
	return opt_set(cfg, o, value, why, why_size);
}

static void demo_pool(struct broker_config_pool *p)
{
	memset(p, 0, sizeof(*p));
	broker_pool_defaults(&p->pool, "demo");
	p->pool.memory_mib = 128;
	p->pool.vcpus = 1;
	p->pool.width = 1024;
	p->pool.height = 768;
	p->pool.type = BROKER_POOL_FLOATING;
	p->pool.size = 2;
	p->pool.spares = 1;
	p->pool.max_vms = 4;
	p->pool.max_per_user = 1;
	p->entitle[0].kind = BROKER_ENT_GROUP;
	strcpy(p->entitle[0].name, "users");
	p->nr_entitle = 1;
}

int broker_config_init(struct broker_config *cfg)
{
	char why[256];

	memset(cfg, 0, sizeof(*cfg));
	for (size_t i = 0; i < NR_OPTS; i++) {
		/* The defaults go through the same checks as any value. */
		if (opt_set(cfg, &opts[i], opts[i].def, why, sizeof(why)) < 0) {
			log_err("config: default of [%s] %s: %s", opts[i].group, opts[i].key, why);
			return -EINVAL;
		}
	}
	cfg->pools = calloc(1, sizeof(*cfg->pools));
	if (!cfg->pools)
		return -ENOMEM;
	demo_pool(&cfg->pools[0]);
	cfg->nr_pools = 1;
	return 0;
}

void broker_config_free(struct broker_config *cfg)
{
	free(cfg->pools);
	cfg->pools = NULL;
	cfg->nr_pools = 0;
}

int broker_config_pool_set(struct broker_config_pool *p, const char *key, const char *value,
                           char *why, size_t why_size)
{
	struct broker_pool *pool = &p->pool;
	unsigned long v;
	size_t n = strlen(value);

	if (strcmp(key, "kernel") == 0 || strcmp(key, "initrd") == 0 ||
	    strcmp(key, "disk_template") == 0) {
		char *dst = key[0] == 'k'   ? pool->kernel
		            : key[0] == 'i' ? pool->initrd
		                            : pool->disk_template;

		if (n > BROKER_PATH_MAX || !no_controls(value))
			return fail(why, why_size, "must be a path of at most %d characters",
			            BROKER_PATH_MAX);
		strcpy(dst, value);
	} else if (strcmp(key, "cmdline") == 0) {
		if (n > BROKER_CMDLINE_MAX || !no_controls(value))
			return fail(why, why_size, "must be at most %d characters",
			            BROKER_CMDLINE_MAX);
		strcpy(pool->cmdline, value);
	} else if (strcmp(key, "memory") == 0) {
		if (broker_parse_uint(value, BROKER_POOL_MEMORY_MIN, BROKER_POOL_MEMORY_MAX, &v) <
		    0)
			return fail(why, why_size, "'%.40s' is not a whole number in %d..%d MiB",
			            value, BROKER_POOL_MEMORY_MIN, BROKER_POOL_MEMORY_MAX);
		pool->memory_mib = (unsigned int)v;
	} else if (strcmp(key, "vcpus") == 0) {
		if (broker_parse_uint(value, 1, BROKER_POOL_VCPUS_MAX, &v) < 0)
			return fail(why, why_size, "'%.40s' is not a whole number in 1..%d", value,
			            BROKER_POOL_VCPUS_MAX);
		pool->vcpus = (unsigned int)v;
	} else if (strcmp(key, "resolution") == 0) {
		if (broker_parse_resolution(value, &pool->width, &pool->height) < 0)
			return fail(why, why_size, "'%.40s' is not WxH within %dx%d..%dx%d", value,
			            BROKER_POOL_WIDTH_MIN, BROKER_POOL_HEIGHT_MIN,
			            BROKER_POOL_WIDTH_MAX, BROKER_POOL_HEIGHT_MAX);
	} else if (strcmp(key, "type") == 0) {
		if (broker_parse_pool_type(value, &pool->type) < 0)
			return fail(why, why_size, "'%.40s' is not floating or persistent", value);
	} else if (strcmp(key, "size") == 0 || strcmp(key, "spares") == 0 ||
	           strcmp(key, "max_vms") == 0 || strcmp(key, "max_per_user") == 0) {
		unsigned long lo = key[0] == 'm' ? 1 : 0;

		if (broker_parse_uint(value, lo, BROKER_POOL_VMS_MAX, &v) < 0)
			return fail(why, why_size, "'%.40s' is not a whole number in %lu..%d",
			            value, lo, BROKER_POOL_VMS_MAX);
		if (key[1] == 'i')
			pool->size = (unsigned int)v;
		else if (key[1] == 'p')
			pool->spares = (unsigned int)v;
		else if (strcmp(key, "max_vms") == 0)
			pool->max_vms = (unsigned int)v;
		else
			pool->max_per_user = (unsigned int)v;
	} else if (strcmp(key, "enabled") == 0) {
		if (broker_parse_bool(value, &pool->enabled) < 0)
			return fail(why, why_size, "'%.40s' is not true or false", value);
	} else if (strcmp(key, "entitle") == 0) {
		struct broker_entitlement ents[BROKER_CONFIG_ENTITLE_MAX];
		size_t nr = 0;
		gchar **items = g_strsplit(value, ";", -1);

		for (gchar **it = items; *it; it++) {
			char *item = g_strstrip(*it);

			if (!*item)
				continue;
			if (nr == BROKER_CONFIG_ENTITLE_MAX) {
				g_strfreev(items);
				return fail(why, why_size, "more than %d entries",
				            BROKER_CONFIG_ENTITLE_MAX);
			}
			if (broker_parse_entitlement(item, &ents[nr]) < 0) {
				fail(why, why_size, "'%.80s' is not user:NAME or group:NAME", item);
				g_strfreev(items);
				return -EINVAL;
			}
			nr++;
		}
		g_strfreev(items);
		memcpy(p->entitle, ents, nr * sizeof(ents[0]));
		p->nr_entitle = nr;
	} else {
		fail(why, why_size, "unknown key");
		return -ENOENT;
	}
	return 0;
}

static bool is_fixed_group(const char *g)
{
	for (size_t i = 0; i < sizeof(fixed_groups) / sizeof(fixed_groups[0]); i++)
		if (strcmp(g, fixed_groups[i]) == 0)
			return true;
	return false;
}

/* Read at most BROKER_CONFIG_FILE_MAX bytes of @path. */
static int read_file(const char *path, char **ret, size_t *ret_len, char *err, size_t err_size)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	char *buf;
	size_t n;
	int r;

	if (!f) {
		r = -errno;
		snprintf(err, err_size, "%s: %s", path, strerror(-r));
		return r;
	}
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		snprintf(err, err_size, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (st.st_size > BROKER_CONFIG_FILE_MAX) {
		fclose(f);
		snprintf(err, err_size, "%s: larger than %d bytes", path, BROKER_CONFIG_FILE_MAX);
		return -EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		fclose(f);
		snprintf(err, err_size, "%s: out of memory", path);
		return -ENOMEM;
	}
	n = fread(buf, 1, (size_t)st.st_size, f);
	r = ferror(f) ? -EIO : 0;
	fclose(f);
	if (r < 0) {
		free(buf);
		snprintf(err, err_size, "%s: read error", path);
		return r;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		free(buf);
		snprintf(err, err_size, "%s: contains a NUL byte", path);
		return -EINVAL;
	}
	*ret = buf;
	*ret_len = n;
	return 0;
}

static int load_pool(struct broker_config_pool *p, GKeyFile *kf, const char *group,
                     const char *path, char *err, size_t err_size)
{
	const char *name = group + 5;
	gchar **keys;
	char why[256];
	int r = 0;

	if (!broker_name_valid(name))
		return fail(err, err_size,
		            "%s: [%.80s]: pool name must be 1-%d characters of "
		            "A-Z a-z 0-9 . _ -",
		            path, group, BROKER_NAME_MAX);
	memset(p, 0, sizeof(*p));
	broker_pool_defaults(&p->pool, name);
	keys = g_key_file_get_keys(kf, group, NULL, NULL);
	for (gchar **k = keys; k && *k && r == 0; k++) {
		GError *gerr = NULL;
		gchar *value = g_key_file_get_string(kf, group, *k, &gerr);

		if (!value) {
			r = fail(err, err_size, "%s: [%s] %.80s: %s", path, group, *k,
			         gerr->message);
			g_error_free(gerr);
			break;
		}
		if (broker_config_pool_set(p, *k, value, why, sizeof(why)) < 0)
			r = fail(err, err_size, "%s: [%s] %.80s: %s", path, group, *k, why);
		g_free(value);
	}
	g_strfreev(keys);
	if (r == 0 && broker_pool_check(&p->pool, why, sizeof(why)) < 0)
		r = fail(err, err_size, "%s: [%s] %s", path, group, why);
	return r;
}

int broker_config_load(struct broker_config *cfg, const char *path, char *err, size_t err_size)
{
	struct broker_config tmp = *cfg;
	GKeyFile *kf = g_key_file_new();
	GError *gerr = NULL;
	gchar **groups = NULL;
	char *data = NULL, why[256];
	size_t len = 0, nr_groups = 0;
	int r;

	tmp.pools = NULL;
	tmp.nr_pools = 0;
	if (!path || !*path || strlen(path) > BROKER_PATH_MAX) {
		r = fail(err, err_size, "config file path must be 1-%d characters",
		         BROKER_PATH_MAX);
		goto out;
	}
	r = read_file(path, &data, &len, err, err_size);
	if (r < 0)
		goto out;
	/* Keep "key[locale]" entries, which GLib would otherwise drop silently: they are errors. */
	if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_KEEP_TRANSLATIONS, &gerr)) {
		r = fail(err, err_size, "%s: %s", path, gerr->message);
		g_error_free(gerr);
		goto out;
	}
	groups = g_key_file_get_groups(kf, &nr_groups);
	for (size_t i = 0; i < nr_groups; i++)
		if (strncmp(groups[i], "pool ", 5) == 0)
			tmp.nr_pools++;
	if (tmp.nr_pools > BROKER_CONFIG_POOLS_MAX) {
		r = fail(err, err_size, "%s: more than %d pools", path, BROKER_CONFIG_POOLS_MAX);
		goto out;
	}
	if (tmp.nr_pools) {
		tmp.pools = calloc(tmp.nr_pools, sizeof(*tmp.pools));
		if (!tmp.pools) {
			r = fail(err, err_size, "%s: out of memory", path);
			goto out;
		}
	}
	tmp.nr_pools = 0;
	for (size_t i = 0; i < nr_groups; i++) {
		const char *g = groups[i];
		gchar **keys;

		if (strncmp(g, "pool ", 5) == 0) {
			r = load_pool(&tmp.pools[tmp.nr_pools], kf, g, path, err, err_size);
			if (r < 0)
				goto out;
			tmp.nr_pools++;
			continue;
		}
		if (!is_fixed_group(g)) {
			r = fail(err, err_size, "%s: [%.80s]: unknown group", path, g);
			goto out;
		}
		keys = g_key_file_get_keys(kf, g, NULL, NULL);
		for (gchar **k = keys; k && *k; k++) {
			const struct opt *o = opt_find(g, *k);
			gchar *value;

			if (!o) {
				r = fail(err, err_size, "%s: [%s] %.80s: unknown key", path, g, *k);
				break;
			}
			value = g_key_file_get_string(kf, g, *k, &gerr);
			if (!value) {
				r = fail(err, err_size, "%s: [%s] %s: %s", path, g, *k,
				         gerr->message);
				g_clear_error(&gerr);
				break;
			}
			r = opt_set(&tmp, o, value, why, sizeof(why));
			g_free(value);
			if (r < 0) {
				fail(err, err_size, "%s: [%s] %s: %s", path, g, *k, why);
				break;
			}
		}
		g_strfreev(keys);
		if (r < 0)
			goto out;
	}
	if (tmp.throttle_max_ms < tmp.throttle_base_ms) {
		r = fail(err, err_size,
		         "%s: [auth] throttle_max_ms: %u is less than throttle_base_ms (%u)", path,
		         tmp.throttle_max_ms, tmp.throttle_base_ms);
		goto out;
	}
	if (tmp.argon2_memory < 8 * tmp.argon2_parallelism) {
		r = fail(err, err_size,
		         "%s: [auth] argon2_memory: must be at least 8 KiB per lane (%u)", path,
		         8 * tmp.argon2_parallelism);
		goto out;
	}
	snprintf(tmp.file, sizeof(tmp.file), "%s", path);
	free(cfg->pools);
	*cfg = tmp;
	tmp.pools = NULL;
	r = 0;
out:
	free(tmp.pools);
	g_strfreev(groups);
	free(data);
	g_key_file_free(kf);
	return r;
}

/* Write @s as a key file value: backslashes and spaces at either end escaped. */
static void put_value(FILE *out, const char *s)
{
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\\')
			fputs("\\\\", out);
		else if (s[i] == ' ' && (i == 0 || i == n - 1))
			fputs("\\s", out);
		else
			fputc(s[i], out);
	}
}

static void put_comment(FILE *out, const char *text)
{
	/* Wrap at about 76 columns. */
	const char *p = text;

	while (*p) {
		size_t n = strlen(p), cut = n;

		if (n > 74) {
			cut = 74;
			while (cut > 0 && p[cut] != ' ')
				cut--;
			if (cut == 0)
				cut = n;
		}
		fprintf(out, "# %.*s\n", (int)cut, p);
		p += cut;
		while (*p == ' ')
			p++;
	}
}

static void opt_value(const struct broker_config *cfg, const struct opt *o, char *buf, size_t size)
{
	const char *field = (const char *)cfg + o->off;

	switch (o->type) {
	case OPT_UINT:
		snprintf(buf, size, "%u", *(const unsigned int *)(const void *)field);
		break;
	case OPT_LEVEL:
		snprintf(buf, size, "%s", level_name(*(const int *)(const void *)field));
		break;
	default:
		snprintf(buf, size, "%s", field);
		break;
	}
}

void broker_config_dump(const struct broker_config *cfg, FILE *out)
{
	const char *group = NULL;
	char value[BROKER_PATH_MAX + 1];

	fprintf(out, "# vdi-broker configuration: every key, with its help and default.\n");
	fprintf(out, "# Effective values from %s%s.\n",
	        cfg->file[0] ? cfg->file : "the embedded defaults",
	        cfg->file[0] ? ", the defaults and the command line" : " and the command line");
	for (size_t i = 0; i < NR_OPTS; i++) {
		const struct opt *o = &opts[i];
		char note[160];

		if (!group || strcmp(group, o->group) != 0) {
			group = o->group;
			fprintf(out, "\n[%s]\n", group);
		}
		put_comment(out, o->help);
		if (o->type == OPT_UINT)
			snprintf(note, sizeof(note), "Default %s, range %lu..%lu%s%s.", o->def,
			         o->min, o->max, o->unit ? " " : "", o->unit ? o->unit : "");
		else
			snprintf(note, sizeof(note), "Default '%s'%s%s.", o->def,
			         o->flag ? "; command line " : "", o->flag ? o->flag : "");
		put_comment(out, note);
		opt_value(cfg, o, value, sizeof(value));
		fprintf(out, "%s =%s", o->key, value[0] ? " " : "");
		put_value(out, value);
		fputc('\n', out);
	}
	if (!cfg->nr_pools)
		fprintf(out, "\n# No pools. Add them as [pool NAME] groups with the keys:\n");
	for (size_t i = 0; i < cfg->nr_pools; i++) {
		const struct broker_config_pool *cp = &cfg->pools[i];
		const struct broker_pool *p = &cp->pool;

		fprintf(out, "\n[pool %s]\n", p->name);
		for (size_t k = 0; k < sizeof(pool_keys) / sizeof(pool_keys[0]); k++) {
			const char *key = pool_keys[k].key;

			const char *text = strcmp(key, "kernel") == 0          ? p->kernel
			                   : strcmp(key, "initrd") == 0        ? p->initrd
			                   : strcmp(key, "cmdline") == 0       ? p->cmdline
			                   : strcmp(key, "disk_template") == 0 ? p->disk_template
			                                                       : NULL;

			if (i == 0)
				put_comment(out, pool_keys[k].help);
			bool empty = text ? !text[0]
			                  : strcmp(key, "entitle") == 0 && cp->nr_entitle == 0;

			fprintf(out, "%s =%s", key, empty ? "" : " ");
			if (text)
				put_value(out, text);
			else if (strcmp(key, "memory") == 0)
				fprintf(out, "%u", p->memory_mib);
			else if (strcmp(key, "vcpus") == 0)
				fprintf(out, "%u", p->vcpus);
			else if (strcmp(key, "resolution") == 0)
				fprintf(out, "%ux%u", p->width, p->height);
			else if (strcmp(key, "type") == 0)
				fputs(broker_pool_type_name(p->type), out);
			else if (strcmp(key, "size") == 0)
				fprintf(out, "%u", p->size);
			else if (strcmp(key, "spares") == 0)
				fprintf(out, "%u", p->spares);
			else if (strcmp(key, "max_vms") == 0)
				fprintf(out, "%u", p->max_vms);
			else if (strcmp(key, "max_per_user") == 0)
				fprintf(out, "%u", p->max_per_user);
			else if (strcmp(key, "enabled") == 0)
				fputs(p->enabled ? "true" : "false", out);
			else if (strcmp(key, "entitle") == 0)
				for (size_t e = 0; e < cp->nr_entitle; e++)
					fprintf(out, "%s%s:%s", e ? ";" : "",
					        cp->entitle[e].kind == BROKER_ENT_USER ? "user"
					                                               : "group",
					        cp->entitle[e].name);
			fputc('\n', out);
		}
	}
	if (!cfg->nr_pools)
		for (size_t k = 0; k < sizeof(pool_keys) / sizeof(pool_keys[0]); k++)
			fprintf(out, "#   %-14s %s\n", pool_keys[k].key, pool_keys[k].help);
}

void broker_config_usage(FILE *out)
{
	const char *group = NULL;

	fprintf(out, "Configuration keys (--config FILE; --dump-config shows them all):\n");
	for (size_t i = 0; i < NR_OPTS; i++) {
		const struct opt *o = &opts[i];
		char name[48];

		if (!group || strcmp(group, o->group) != 0) {
			group = o->group;
			fprintf(out, "  [%s]\n", group);
		}
		snprintf(name, sizeof(name), "%s%s%s", o->key, o->flag ? ", " : "",
		         o->flag ? o->flag : "");
		fprintf(out, "    %-30s default %s%s%s\n", name, o->def[0] ? o->def : "(empty)",
		        o->unit ? " " : "", o->unit ? o->unit : "");
	}
	fprintf(out, "  [pool NAME]\n");
	for (size_t k = 0; k < sizeof(pool_keys) / sizeof(pool_keys[0]); k++)
		fprintf(out, "    %s\n", pool_keys[k].key);
}

int broker_config_data_path(const struct broker_config *cfg, const char *rel, char *buf,
                            size_t size)
{
	int n;

	if (rel[0] == '/')
		n = snprintf(buf, size, "%s", rel);
	else
		n = snprintf(buf, size, "%s/%s", cfg->data_dir, rel);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}
