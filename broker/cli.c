// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>
#include <openssl/crypto.h>

#include "broker/auth.h"
#include "broker/setup.h"
#include "broker/totp.h"
#include "proto/log.h"

/* --- global flags --- */

enum {
	G_CONFIG = 0x100,
	G_DATA_DIR,
	G_VMM,
	G_GUEST,
	G_WEB_ROOT,
	G_LISTEN,
	G_LOG_LEVEL,
	G_DUMP_CONFIG,
	G_HELP,
	G_VERSION,
};

static const struct option global_options[] = {
	{ "config", required_argument, NULL, G_CONFIG },
	{ "data-dir", required_argument, NULL, G_DATA_DIR },
	{ "vmm", required_argument, NULL, G_VMM },
	{ "guest", required_argument, NULL, G_GUEST },
	{ "web-root", required_argument, NULL, G_WEB_ROOT },
	{ "listen", required_argument, NULL, G_LISTEN },
	{ "log-level", required_argument, NULL, G_LOG_LEVEL },
	{ "dump-config", no_argument, NULL, G_DUMP_CONFIG },
	{ "help", no_argument, NULL, G_HELP },
	{ "version", no_argument, NULL, G_VERSION },
	{ NULL, 0, NULL, 0 },
};

void broker_cli_usage(FILE *out)
{
	fprintf(out,
	        "Usage: vdi-broker [options]                 run the broker\n"
	        "       vdi-broker [options] COMMAND ...     administer it\n"
	        "\n"
	        "Log people in, keep pools of desktops running on vdi-vmm, and serve the\n"
	        "REST API, the web pages and the browser console over HTTPS.\n"
	        "\n"
	        "Options:\n"
	        "  --config FILE        read the configuration file FILE\n"
	        "  --data-dir DIR       state directory ([broker] data_dir, default ./var)\n"
	        "  --vmm PATH           the vdi-vmm program ([vmm] binary)\n"
	        "  --guest PATH         the reference guest image ([vmm] guest)\n"
	        "  --web-root DIR       web pages ([http] web_root)\n"
	        "  --listen ADDR:PORT   HTTPS address ([http] listen, default 127.0.0.1:8443)\n"
	        "  --log-level LEVEL    err, warn, info or debug ([broker] log_level)\n"
	        "  --dump-config        print the effective configuration and exit\n"
	        "  --help, --version\n"
	        "\n"
	        "Commands (none: run the broker until SIGTERM):\n"
	        "  init                          create the data directory, database, TLS\n"
	        "                                certificate and first admin, then exit\n"
	        "  gateway                       run only the browser console gateway, on\n"
	        "                                this configuration's [http] listen address,\n"
	        "                                with the broker's data directory\n"
	        "  user add NAME [--admin] [--group G]... [--password-stdin]\n"
	        "  user passwd NAME [--password-stdin]\n"
	        "  user del NAME\n"
	        "  user list\n"
	        "  user totp NAME [--disable]    enrol in TOTP, print the otpauth:// URI\n"
	        "  pool add NAME [pool options]\n"
	        "  pool set NAME [pool options] [--unentitle user:NAME|group:NAME]...\n"
	        "  pool del NAME\n"
	        "  pool list\n"
	        "  session list [--all]\n"
	        "  session kill ID\n"
	        "  vm list\n"
	        "  vm reset ID|NAME\n"
	        "\n"
	        "Pool options:\n"
	        "  --kernel FILE --initrd FILE --cmdline TEXT --disk-template FILE\n"
	        "  --memory MiB --vcpus N --resolution WxH --type floating|persistent\n"
	        "  --size N --spares N --max-vms N --max-per-user N\n"
	        "  --entitle user:NAME|group:NAME (repeatable) --enable --disable\n"
	        "\n"
	        "Passwords are asked on the terminal, or read as one line from standard\n"
	        "input with --password-stdin. Exit status: 0 done, 1 failed, 2 usage.\n"
	        "\n");
	broker_config_usage(out);
}

struct flag_value {
	int opt;
	const char *value;
};

int broker_cli_parse(int argc, char **argv, struct broker_config *cfg, int *ret_cmd, FILE *out,
                     FILE *err)
{
	struct flag_value flags[32];
	const char *config = NULL;
	bool dump = false;
	size_t nr_flags = 0;
	char msg[512];
	int opt, r;

	r = broker_config_init(cfg);
	if (r < 0) {
		fprintf(err, "vdi-broker: cannot set up the configuration: %s\n", strerror(-r));
		return -BROKER_EXIT_FAIL;
	}
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:", global_options, NULL)) != -1) {
		switch (opt) {
		case G_CONFIG:
			config = optarg;
			break;
		case G_DUMP_CONFIG:
			dump = true;
			break;
		case G_HELP:
			broker_cli_usage(out);
			broker_config_free(cfg);
			return 1;
		case G_VERSION:
			fprintf(out, "vdi-broker %s\n", VDI_VERSION);
			broker_config_free(cfg);
			return 1;
		case ':':
			fprintf(err, "vdi-broker: %s needs a value (see --help)\n",
			        argv[optind - 1]);
			goto out_usage;
		case '?':
			fprintf(err, "vdi-broker: unknown option '%s' (see --help)\n",
			        argv[optind - 1]);
			goto out_usage;
		default:
			if (nr_flags == sizeof(flags) / sizeof(flags[0])) {
				fprintf(err, "vdi-broker: too many options\n");
				goto out_usage;
			}
			flags[nr_flags++] = (struct flag_value){ opt, optarg };
			break;
		}
	}
	/* The file first, then the flags, whatever their order. */
	if (config) {
		r = broker_config_load(cfg, config, msg, sizeof(msg));
		if (r < 0) {
			fprintf(err, "vdi-broker: %s\n", msg);
			broker_config_free(cfg);
			return r == -EINVAL || r == -EFBIG ? -BROKER_EXIT_USAGE : -BROKER_EXIT_FAIL;
		}
	}
	for (size_t i = 0; i < nr_flags; i++) {
		static const struct {
			int opt;
			const char *flag, *group, *key;
		} map[] = {
			{ G_DATA_DIR, "--data-dir", "broker", "data_dir" },
			{ G_VMM, "--vmm", "vmm", "binary" },
			{ G_GUEST, "--guest", "vmm", "guest" },
			{ G_WEB_ROOT, "--web-root", "http", "web_root" },
			{ G_LISTEN, "--listen", "http", "listen" },
			{ G_LOG_LEVEL, "--log-level", "broker", "log_level" },
		};

		for (size_t m = 0; m < sizeof(map) / sizeof(map[0]); m++) {
			if (map[m].opt != flags[i].opt)
				continue;
			if (broker_config_set(cfg, map[m].group, map[m].key, flags[i].value, msg,
			                      sizeof(msg)) < 0) {
				fprintf(err, "vdi-broker: %s: %s\n", map[m].flag, msg);
				goto out_usage;
			}
		}
	}
	if (dump) {
		broker_config_dump(cfg, out);
		broker_config_free(cfg);
		return 1;
	}
	*ret_cmd = optind;
	return 0;

out_usage:
	broker_config_free(cfg);
	return -BROKER_EXIT_USAGE;
}

/* --- output --- */

struct table {
	size_t cols;
	GPtrArray *cells; /* rows * cols strings, the header first */
};

static void table_init(struct table *t, size_t cols, const char *const *head)
{
	t->cols = cols;
	t->cells = g_ptr_array_new_with_free_func(g_free);
	for (size_t i = 0; i < cols; i++)
		g_ptr_array_add(t->cells, g_strdup(head[i]));
}

static void table_row(struct table *t, ...)
{
	va_list ap;

	va_start(ap, t);
	for (size_t i = 0; i < t->cols; i++) {
		const char *s = va_arg(ap, const char *);

		g_ptr_array_add(t->cells, g_strdup(s && *s ? s : "-"));
	}
	va_end(ap);
}

static void table_print(struct table *t, FILE *out)
{
	size_t rows = t->cells->len / t->cols, width[16] = { 0 };

	for (size_t r = 0; r < rows; r++)
		for (size_t c = 0; c < t->cols && c < 16; c++) {
			size_t n = strlen(g_ptr_array_index(t->cells, r * t->cols + c));

			if (n > width[c])
				width[c] = n;
		}
	for (size_t r = 0; r < rows; r++) {
		for (size_t c = 0; c < t->cols; c++) {
			const char *s = g_ptr_array_index(t->cells, r * t->cols + c);

			if (c + 1 < t->cols)
				fprintf(out, "%-*s  ", (int)width[c], s);
			else
				fprintf(out, "%s\n", s);
		}
	}
	g_ptr_array_free(t->cells, TRUE);
}

static const char *fmt_time(int64_t t, char *buf, size_t size)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0 || !localtime_r(&tt, &tm) || !strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(buf, size, "-");
	return buf;
}

/* --- command context --- */

struct cli {
	const struct broker_config *cfg;
	const char *cmd; /* "user add" */
	FILE *out, *err;
	int in_fd;
	struct broker_store *store;
	struct broker_auth *auth;
};

static int failf(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int failf(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "vdi-broker: %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	return BROKER_EXIT_FAIL;
}

static int usagef(struct cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usagef(struct cli *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "vdi-broker: %s: ", c->cmd);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fprintf(c->err, " (see --help)\n");
	return BROKER_EXIT_USAGE;
}

/* A store failure as one line: the backend's words when it has some. */
static int store_fail(struct cli *c, const char *what, int r)
{
	const char *msg = broker_store_errmsg(c->store);

	return failf(c, "%s: %s", what, msg && *msg ? msg : strerror(-r));
}

static int open_store(struct cli *c)
{
	char err[512];
	int r;

	r = broker_setup_data_dir(c->cfg, err, sizeof(err));
	if (r == 0)
		r = broker_setup_open_store(c->cfg, &c->store, err, sizeof(err));
	if (r < 0)
		return failf(c, "%s", err);
	return 0;
}

static int open_auth(struct cli *c)
{
	struct broker_auth_params p;
	int r;

	broker_setup_auth_params(c->cfg, &p);
	r = broker_auth_new(c->store, &p, &c->auth);
	if (r < 0)
		return failf(c, "cannot set up password hashing: %s", strerror(-r));
	return 0;
}

static void cli_audit(struct cli *c, const char *event, const char *user, const char *vm,
                      const char *detail)
{
	if (c->auth)
		broker_auth_audit(c->auth, event, user, "cli", vm, detail);
}

/*
 * Parse the options of a subcommand. Positional words go to @pos (at most
 * @max_pos). Returns 0 or an exit status, having printed why.
 */
typedef int (*opt_fn)(struct cli *c, int opt, const char *arg, void *ctx);

static int parse_args(struct cli *c, int argc, char **argv, const struct option *options, opt_fn fn,
                      void *ctx, const char **pos, int max_pos, int min_pos)
{
	int opt, n = 0, r;

	optind = 0;
	opterr = 0;
	/* "-" first: positional words come back as option 1, in order. */
	while ((opt = getopt_long(argc, argv, "-:", options, NULL)) != -1) {
		if (opt == 1) {
			if (n == max_pos)
				return usagef(c, "unexpected '%.80s'", optarg);
			pos[n++] = optarg;
			continue;
		}
		if (opt == ':')
			return usagef(c, "%s needs a value", argv[optind - 1]);
		if (opt == '?')
			return usagef(c, "unknown option '%.80s'", argv[optind - 1]);
		r = fn(c, opt, optarg, ctx);
		if (r)
			return r;
	}
	if (n < min_pos)
		return usagef(c, "missing %s", min_pos - n > 1 ? "arguments" : "argument");
	return 0;
}

static int no_opts(struct cli *c, int opt, const char *arg, void *ctx)
{
	return usagef(c, "unknown option");
}

static const struct option no_options[] = { { NULL, 0, NULL, 0 } };

static int check_name(struct cli *c, const char *what, const char *name)
{
	if (!broker_name_valid(name))
		return usagef(c, "%s '%.80s' must be 1-%d characters of A-Z a-z 0-9 . _ -", what,
		              name, BROKER_NAME_MAX);
	return 0;
}

/* --- passwords --- */

/* Read one line of at most BROKER_PASSWORD_MAX bytes from @fd, without the newline. */
static int read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	bool too_long = false;

	for (;;) {
		char ch;
		ssize_t r = read(fd, &ch, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 || ch == '\n')
			break;
		if (n + 1 < size)
			buf[n++] = ch;
		else
			too_long = true;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return too_long ? -E2BIG : 0;
}

static int ask_tty(int tty, const char *prompt, char *buf, size_t size)
{
	struct termios old, quiet;
	int r;

	if (write(tty, prompt, strlen(prompt)) < 0)
		return -errno;
	if (tcgetattr(tty, &old) < 0)
		return -errno;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0)
		return -errno;
	r = read_line(tty, buf, size);
	tcsetattr(tty, TCSAFLUSH, &old);
	return r;
}

/* The new password for @name, from stdin or asked twice on the terminal. */
static int get_password(struct cli *c, const char *name, bool from_stdin, char *pw, size_t size)
{
	char again[BROKER_PASSWORD_MAX + 2], prompt[128], why[128];
	int tty, r;

	if (from_stdin) {
		r = read_line(c->in_fd, pw, size);
		if (r == -E2BIG)
			return failf(c, "password longer than %d bytes", BROKER_PASSWORD_MAX);
		if (r < 0)
			return failf(c, "cannot read the password: %s", strerror(-r));
	} else {
		tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (tty < 0)
			return usagef(c,
			              "no terminal to ask for the password; use --password-stdin");
		snprintf(prompt, sizeof(prompt), "New password for %s: ", name);
		r = ask_tty(tty, prompt, pw, size);
		if (r == 0)
			r = ask_tty(tty, "Again: ", again, sizeof(again));
		close(tty);
		if (r == -E2BIG)
			return failf(c, "password longer than %d bytes", BROKER_PASSWORD_MAX);
		if (r < 0)
			return failf(c, "cannot read the password: %s", strerror(-r));
		r = strcmp(pw, again) == 0;
		OPENSSL_cleanse(again, sizeof(again));
		if (!r)
			return failf(c, "the passwords differ");
	}
	if (broker_auth_password_policy(pw, why, sizeof(why)) < 0)
		return failf(c, "%s", why);
	return 0;
}

/* --- user --- */

struct user_opts {
	bool admin, password_stdin, disable;
	const char *groups[16];
	size_t nr_groups;
};

enum {
	U_ADMIN = 0x200,
	U_GROUP,
	U_PASSWORD_STDIN,
	U_DISABLE
};

static int user_opt(struct cli *c, int opt, const char *arg, void *ctx)
{
	struct user_opts *o = ctx;

	switch (opt) {
	case U_ADMIN:
		o->admin = true;
		return 0;
	case U_PASSWORD_STDIN:
		o->password_stdin = true;
		return 0;
	case U_DISABLE:
		o->disable = true;
		return 0;
	case U_GROUP:
		if (check_name(c, "group", arg))
			return BROKER_EXIT_USAGE;
		if (o->nr_groups == sizeof(o->groups) / sizeof(o->groups[0]))
			return usagef(c, "more than %zu --group", o->nr_groups);
		o->groups[o->nr_groups++] = arg;
		return 0;
	}
	return usagef(c, "unknown option");
}

static int get_user(struct cli *c, const char *name, struct broker_user *u)
{
	int r = broker_store_user_get_by_name(c->store, name, u);

	if (r == -ENOENT)
		return failf(c, "no user '%s'", name);
	if (r < 0)
		return store_fail(c, name, r);
	return 0;
}

static int user_add(struct cli *c, int argc, char **argv)
{
	static const struct option o[] = {
		{ "admin", no_argument, NULL, U_ADMIN },
		{ "group", required_argument, NULL, U_GROUP },
		{ "password-stdin", no_argument, NULL, U_PASSWORD_STDIN },
		{ NULL, 0, NULL, 0 },
	};
	struct user_opts uo = { 0 };
	struct broker_user u;
	char pw[BROKER_PASSWORD_MAX + 2];
	const char *name = NULL;
	int r;

	r = parse_args(c, argc, argv, o, user_opt, &uo, &name, 1, 1);
	if (r || (r = check_name(c, "user name", name)))
		return r;
	r = open_store(c);
	if (r)
		return r;
	if (broker_store_user_get_by_name(c->store, name, &u) == 0)
		return failf(c, "user '%s' already exists", name);
	r = get_password(c, name, uo.password_stdin, pw, sizeof(pw));
	if (r)
		return r;
	r = open_auth(c);
	if (r == 0) {
		r = broker_auth_user_add(c->auth, name, pw,
		                         uo.admin ? BROKER_ROLE_ADMIN : BROKER_ROLE_USER, uo.groups,
		                         uo.nr_groups, &u);
		if (r == -EEXIST)
			r = failf(c, "user '%s' already exists", name);
		else if (r < 0)
			r = store_fail(c, name, r);
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	if (r)
		return r;
	cli_audit(c, "user.add", name, NULL,
	          uo.admin ? "{\"role\":\"admin\",\"via\":\"cli\"}"
	                   : "{\"role\":\"user\",\"via\":\"cli\"}");
	fprintf(c->out, "added %s '%s'\n", broker_role_name(u.role), name);
	return 0;
}

static int user_passwd(struct cli *c, int argc, char **argv)
{
	static const struct option o[] = {
		{ "password-stdin", no_argument, NULL, U_PASSWORD_STDIN },
		{ NULL, 0, NULL, 0 },
	};
	struct user_opts uo = { 0 };
	struct broker_user u;
	char pw[BROKER_PASSWORD_MAX + 2];
	const char *name = NULL;
	int r;

	r = parse_args(c, argc, argv, o, user_opt, &uo, &name, 1, 1);
	if (r || (r = check_name(c, "user name", name)) || (r = open_store(c)) ||
	    (r = get_user(c, name, &u)))
		return r;
	r = get_password(c, name, uo.password_stdin, pw, sizeof(pw));
	if (r == 0)
		r = open_auth(c);
	if (r == 0) {
		r = broker_auth_set_password(c->auth, u.id, pw);
		if (r < 0)
			r = store_fail(c, name, r);
	}
	OPENSSL_cleanse(pw, sizeof(pw));
	if (r)
		return r;
	cli_audit(c, "user.passwd", name, NULL, "{\"via\":\"cli\"}");
	fprintf(c->out, "password of '%s' changed; their sessions were ended\n", name);
	return 0;
}

static int user_del(struct cli *c, int argc, char **argv)
{
	struct broker_user u;
	const char *name = NULL;
	size_t admins = 0;
	int r;

	r = parse_args(c, argc, argv, no_options, no_opts, NULL, &name, 1, 1);
	if (r || (r = check_name(c, "user name", name)) || (r = open_store(c)) ||
	    (r = get_user(c, name, &u)))
		return r;
	if (u.role == BROKER_ROLE_ADMIN) {
		r = broker_store_user_count(c->store, BROKER_ROLE_ADMIN, &admins);
		if (r < 0)
			return store_fail(c, name, r);
		if (admins <= 1)
			return failf(c, "'%s' is the last admin; add another one first", name);
	}
	r = broker_store_user_del(c->store, u.id);
	if (r < 0)
		return store_fail(c, name, r);
	if (open_auth(c) == 0)
		cli_audit(c, "user.del", name, NULL, "{\"via\":\"cli\"}");
	fprintf(c->out, "deleted user '%s'\n", name);
	return 0;
}

static int user_list(struct cli *c, int argc, char **argv)
{
	static const char *const head[] = { "NAME", "ROLE", "GROUPS", "TOTP", "LOGIN", "CREATED" };
	struct broker_user *users = NULL;
	struct table t;
	size_t n = 0;
	time_t now = time(NULL);
	int r;

	r = parse_args(c, argc, argv, no_options, no_opts, NULL, NULL, 0, 0);
	if (r || (r = open_store(c)))
		return r;
	r = broker_store_user_list(c->store, &users, &n);
	if (r < 0)
		return store_fail(c, "users", r);
	table_init(&t, 6, head);
	for (size_t i = 0; i < n; i++) {
		const struct broker_user *u = &users[i];
		struct broker_group *groups = NULL;
		size_t ng = 0;
		GString *gs = g_string_new("");
		char login[64], created[32];

		if (broker_store_user_groups(c->store, u->id, &groups, &ng) == 0)
			for (size_t g = 0; g < ng; g++)
				g_string_append_printf(gs, "%s%s", g ? "," : "", groups[g].name);
		free(groups);
		if (u->locked_until > now) {
			char until[32];

			snprintf(login, sizeof(login), "locked until %s",
			         fmt_time(u->locked_until, until, sizeof(until)));
		} else if (strcmp(u->password_hash, "!pam") == 0) {
			snprintf(login, sizeof(login), "pam");
		} else if (u->password_hash[0] == '!') {
			snprintf(login, sizeof(login), "no password");
		} else {
			snprintf(login, sizeof(login), "password");
		}
		table_row(&t, u->name, broker_role_name(u->role), gs->str,
		          u->totp_secret[0] ? "yes" : "no", login,
		          fmt_time(u->created, created, sizeof(created)));
		g_string_free(gs, TRUE);
	}
	OPENSSL_cleanse(users, n * sizeof(*users));
	free(users);
	table_print(&t, c->out);
	return 0;
}

static int user_totp(struct cli *c, int argc, char **argv)
{
	static const struct option o[] = {
		{ "disable", no_argument, NULL, U_DISABLE },
		{ NULL, 0, NULL, 0 },
	};
	struct user_opts uo = { 0 };
	struct broker_user u;
	char secret[BROKER_TOTP_SECRET_MAX + 1], uri[BROKER_TOTP_URI_MAX];
	const char *name = NULL;
	int r;

	r = parse_args(c, argc, argv, o, user_opt, &uo, &name, 1, 1);
	if (r || (r = check_name(c, "user name", name)) || (r = open_store(c)) ||
	    (r = get_user(c, name, &u)) || (r = open_auth(c)))
		return r;
	if (uo.disable) {
		r = broker_auth_totp_enrol(c->auth, u.id, NULL);
		if (r < 0)
			return store_fail(c, name, r);
		cli_audit(c, "user.totp", name, NULL, "{\"enrolled\":false,\"via\":\"cli\"}");
		fprintf(c->out, "TOTP turned off for '%s'\n", name);
		return 0;
	}
	r = broker_auth_totp_new(c->auth, name, secret, sizeof(secret), uri, sizeof(uri));
	if (r < 0)
		return failf(c, "cannot make a secret: %s", strerror(-r));
	r = broker_auth_totp_enrol(c->auth, u.id, secret);
	OPENSSL_cleanse(secret, sizeof(secret));
	if (r < 0)
		return store_fail(c, name, r);
	cli_audit(c, "user.totp", name, NULL, "{\"enrolled\":true,\"via\":\"cli\"}");
	fprintf(c->out, "%s\n", uri);
	fprintf(c->err, "'%s' now needs a code from an authenticator app with this URI at login\n",
	        name);
	OPENSSL_cleanse(uri, sizeof(uri));
	return 0;
}

/* --- pool --- */

enum {
	P_KERNEL = 0x300,
	P_INITRD,
	P_CMDLINE,
	P_DISK_TEMPLATE,
	P_MEMORY,
	P_VCPUS,
	P_RESOLUTION,
	P_TYPE,
	P_SIZE,
	P_SPARES,
	P_MAX_VMS,
	P_MAX_PER_USER,
	P_ENTITLE,
	P_UNENTITLE,
	P_ENABLE,
	P_DISABLE,
};

static const struct option pool_options[] = {
	{ "kernel", required_argument, NULL, P_KERNEL },
	{ "initrd", required_argument, NULL, P_INITRD },
	{ "cmdline", required_argument, NULL, P_CMDLINE },
	{ "disk-template", required_argument, NULL, P_DISK_TEMPLATE },
	{ "memory", required_argument, NULL, P_MEMORY },
	{ "vcpus", required_argument, NULL, P_VCPUS },
	{ "resolution", required_argument, NULL, P_RESOLUTION },
	{ "type", required_argument, NULL, P_TYPE },
	{ "size", required_argument, NULL, P_SIZE },
	{ "spares", required_argument, NULL, P_SPARES },
	{ "max-vms", required_argument, NULL, P_MAX_VMS },
	{ "max-per-user", required_argument, NULL, P_MAX_PER_USER },
	{ "entitle", required_argument, NULL, P_ENTITLE },
	{ "unentitle", required_argument, NULL, P_UNENTITLE },
	{ "enable", no_argument, NULL, P_ENABLE },
	{ "disable", no_argument, NULL, P_DISABLE },
	{ NULL, 0, NULL, 0 },
};

struct pool_opts {
	struct broker_config_pool p; /* the pool with the options applied */
	bool unentitle_allowed;
	struct broker_entitlement add[BROKER_CONFIG_ENTITLE_MAX], del[BROKER_CONFIG_ENTITLE_MAX];
	size_t nr_add, nr_del;
};

static int pool_opt(struct cli *c, int opt, const char *arg, void *ctx)
{
	static const char *const keys[] = {
		[P_KERNEL - P_KERNEL] = "kernel",
		[P_INITRD - P_KERNEL] = "initrd",
		[P_CMDLINE - P_KERNEL] = "cmdline",
		[P_DISK_TEMPLATE - P_KERNEL] = "disk_template",
		[P_MEMORY - P_KERNEL] = "memory",
		[P_VCPUS - P_KERNEL] = "vcpus",
		[P_RESOLUTION - P_KERNEL] = "resolution",
		[P_TYPE - P_KERNEL] = "type",
		[P_SIZE - P_KERNEL] = "size",
		[P_SPARES - P_KERNEL] = "spares",
		[P_MAX_VMS - P_KERNEL] = "max_vms",
		[P_MAX_PER_USER - P_KERNEL] = "max_per_user",
	};
	struct pool_opts *po = ctx;
	char why[256], mem[32];
	struct broker_entitlement e;

	switch (opt) {
	case P_ENABLE:
	case P_DISABLE:
		po->p.pool.enabled = opt == P_ENABLE;
		return 0;
	case P_ENTITLE:
	case P_UNENTITLE:
		if (opt == P_UNENTITLE && !po->unentitle_allowed)
			return usagef(c, "--unentitle only goes with pool set");
		if (broker_parse_entitlement(arg, &e) < 0)
			return usagef(c, "--%s: '%.80s' is not user:NAME or group:NAME",
			              opt == P_ENTITLE ? "entitle" : "unentitle", arg);
		if ((opt == P_ENTITLE ? po->nr_add : po->nr_del) == BROKER_CONFIG_ENTITLE_MAX)
			return usagef(c, "too many --entitle or --unentitle");
		if (opt == P_ENTITLE)
			po->add[po->nr_add++] = e;
		else
			po->del[po->nr_del++] = e;
		return 0;
	case P_MEMORY: {
		/* MiB, optionally written 256M or 2G. */
		size_t n = strlen(arg);
		unsigned long v;

		if (n > 0 && n < sizeof(mem) && (arg[n - 1] == 'M' || arg[n - 1] == 'G')) {
			memcpy(mem, arg, n - 1);
			mem[n - 1] = '\0';
			if (arg[n - 1] == 'G') {
				if (broker_parse_uint(mem, 1, BROKER_POOL_MEMORY_MAX / 1024, &v) <
				    0)
					return usagef(c, "--memory: '%.40s' is not in %dM..%dG",
					              arg, BROKER_POOL_MEMORY_MIN,
					              BROKER_POOL_MEMORY_MAX / 1024);
				snprintf(mem, sizeof(mem), "%lu", v * 1024);
			}
			arg = mem;
		}
		break;
	}
	}
	if (opt < P_KERNEL || opt > P_MAX_PER_USER)
		return usagef(c, "unknown option");
	if (broker_config_pool_set(&po->p, keys[opt - P_KERNEL], arg, why, sizeof(why)) < 0) {
		const struct option *o = &pool_options[opt - P_KERNEL];

		return usagef(c, "--%s: %s", o->name, why);
	}
	return 0;
}

static const char *ent_text(const struct broker_entitlement *e, char *buf, size_t size)
{
	snprintf(buf, size, "%s:%s", e->kind == BROKER_ENT_USER ? "user" : "group", e->name);
	return buf;
}

/* Apply entitlement changes of @po to pool @id; returns 0 or an exit status. */
static int apply_entitlements(struct cli *c, int64_t id, const struct pool_opts *po)
{
	char buf[80];
	int r;

	for (size_t i = 0; i < po->nr_add; i++) {
		r = broker_store_pool_entitle(c->store, id, &po->add[i]);
		if (r == -ENOENT)
			return failf(c, "no %s", ent_text(&po->add[i], buf, sizeof(buf)));
		if (r < 0)
			return store_fail(c, "entitle", r);
	}
	for (size_t i = 0; i < po->nr_del; i++) {
		r = broker_store_pool_unentitle(c->store, id, &po->del[i]);
		if (r == -ENOENT)
			return failf(c, "%s is not entitled",
			             ent_text(&po->del[i], buf, sizeof(buf)));
		if (r < 0)
			return store_fail(c, "unentitle", r);
	}
	return 0;
}

static int pool_add_or_set(struct cli *c, int argc, char **argv, bool add)
{
	struct pool_opts *po = calloc(1, sizeof(*po));
	struct broker_pool existing;
	const char *name = NULL;
	char why[256];
	int r;

	if (!po)
		return failf(c, "out of memory");
	po->unentitle_allowed = !add;
	/*
	 * Options apply over the defaults, or over the pool as stored. A first
	 * pass on a scratch copy finds the name and refuses bad options and
	 * values before the store is touched.
	 */
	broker_pool_defaults(&po->p.pool, "scratch");
	r = parse_args(c, argc, argv, pool_options, pool_opt, po, &name, 1, 1);
	if (r)
		goto out;
	memset(po, 0, sizeof(*po));
	po->unentitle_allowed = !add;
	r = check_name(c, "pool name", name);
	if (r)
		goto out;
	r = open_store(c);
	if (r)
		goto out;
	r = broker_store_pool_get_by_name(c->store, name, &existing);
	if (add && r == 0) {
		r = failf(c, "pool '%s' already exists", name);
		goto out;
	}
	if (!add && r == -ENOENT) {
		r = failf(c, "no pool '%s'", name);
		goto out;
	}
	if (r < 0 && r != -ENOENT) {
		r = store_fail(c, name, r);
		goto out;
	}
	if (add) {
		broker_pool_defaults(&po->p.pool, name);
	} else {
		po->p.pool = existing;
	}
	r = parse_args(c, argc, argv, pool_options, pool_opt, po, &name, 1, 1);
	if (r)
		goto out;
	if (broker_pool_check(&po->p.pool, why, sizeof(why)) < 0) {
		r = usagef(c, "%s", why);
		goto out;
	}
	r = broker_store_begin(c->store);
	if (r < 0) {
		r = store_fail(c, name, r);
		goto out;
	}
	if (add) {
		po->p.pool.created = time(NULL);
		r = broker_store_pool_add(c->store, &po->p.pool);
	} else {
		r = broker_store_pool_update(c->store, &po->p.pool);
	}
	r = r < 0 ? store_fail(c, name, r) : apply_entitlements(c, po->p.pool.id, po);
	if (r) {
		broker_store_rollback(c->store);
		goto out;
	}
	r = broker_store_commit(c->store);
	if (r < 0) {
		r = store_fail(c, name, r);
		goto out;
	}
	if (open_auth(c) == 0) {
		char detail[96];

		snprintf(detail, sizeof(detail), "{\"pool\":\"%s\",\"via\":\"cli\"}", name);
		cli_audit(c, add ? "pool.add" : "pool.set", NULL, NULL, detail);
	}
	fprintf(c->out, "%s pool '%s'\n", add ? "added" : "updated", name);
	r = 0;
out:
	free(po);
	return r;
}

static int pool_add(struct cli *c, int argc, char **argv)
{
	return pool_add_or_set(c, argc, argv, true);
}

static int pool_set(struct cli *c, int argc, char **argv)
{
	return pool_add_or_set(c, argc, argv, false);
}

static int pool_del(struct cli *c, int argc, char **argv)
{
	struct broker_pool p;
	const char *name = NULL;
	int r;

	r = parse_args(c, argc, argv, no_options, no_opts, NULL, &name, 1, 1);
	if (r || (r = check_name(c, "pool name", name)) || (r = open_store(c)))
		return r;
	r = broker_store_pool_get_by_name(c->store, name, &p);
	if (r == -ENOENT)
		return failf(c, "no pool '%s'", name);
	if (r == 0)
		r = broker_store_pool_del(c->store, p.id);
	if (r == -EBUSY)
		return failf(c, "pool '%s' still has VMs", name);
	if (r < 0)
		return store_fail(c, name, r);
	if (open_auth(c) == 0) {
		char detail[96];

		snprintf(detail, sizeof(detail), "{\"pool\":\"%s\",\"via\":\"cli\"}", name);
		cli_audit(c, "pool.del", NULL, NULL, detail);
	}
	fprintf(c->out, "deleted pool '%s'\n", name);
	return 0;
}

static int pool_list(struct cli *c, int argc, char **argv)
{
	static const char *const head[] = { "NAME",   "TYPE",       "ENABLED",  "SIZE",
		                            "SPARES", "MAX-VMS",    "PER-USER", "MEMORY",
		                            "VCPUS",  "RESOLUTION", "KERNEL",   "ENTITLED" };
	struct broker_pool *pools = NULL;
	struct table t;
	size_t n = 0;
	int r;

	r = parse_args(c, argc, argv, no_options, no_opts, NULL, NULL, 0, 0);
	if (r || (r = open_store(c)))
		return r;
	r = broker_store_pool_list(c->store, &pools, &n);
	if (r < 0)
		return store_fail(c, "pools", r);
	table_init(&t, 12, head);
	for (size_t i = 0; i < n; i++) {
		const struct broker_pool *p = &pools[i];
		struct broker_entitlement *ents = NULL;
		size_t ne = 0;
		GString *es = g_string_new("");
		char size[16], spares[16], max[16], per[16], mem[24], cpus[16], res[32], buf[80];

		if (broker_store_pool_entitlements(c->store, p->id, &ents, &ne) == 0)
			for (size_t e = 0; e < ne; e++)
				g_string_append_printf(es, "%s%s", e ? "," : "",
				                       ent_text(&ents[e], buf, sizeof(buf)));
		free(ents);
		snprintf(size, sizeof(size), "%u", p->size);
		snprintf(spares, sizeof(spares), "%u", p->spares);
		snprintf(max, sizeof(max), "%u", p->max_vms);
		snprintf(per, sizeof(per), "%u", p->max_per_user);
		snprintf(mem, sizeof(mem), "%uM", p->memory_mib);
		snprintf(cpus, sizeof(cpus), "%u", p->vcpus);
		snprintf(res, sizeof(res), "%ux%u", p->width, p->height);
		table_row(&t, p->name, broker_pool_type_name(p->type), p->enabled ? "yes" : "no",
		          size, spares, max, per, mem, cpus, res,
		          p->kernel[0] ? p->kernel : "(reference guest)", es->str);
		g_string_free(es, TRUE);
	}
	free(pools);
	table_print(&t, c->out);
	return 0;
}

/* --- session --- */

enum {
	S_ALL = 0x400
};

static int session_opt(struct cli *c, int opt, const char *arg, void *ctx)
{
	*(bool *)ctx = true;
	return 0;
}

static int session_list(struct cli *c, int argc, char **argv)
{
	static const struct option o[] = {
		{ "all", no_argument, NULL, S_ALL },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const head[] = {
		"ID", "USER", "SOURCE", "CREATED", "LAST-SEEN", "STATE"
	};
	struct broker_session *ss = NULL;
	struct table t;
	bool all = false;
	size_t n = 0;
	int r;

	r = parse_args(c, argc, argv, o, session_opt, &all, NULL, 0, 0);
	if (r || (r = open_store(c)) || (r = open_auth(c)))
		return r;
	r = broker_store_session_list(c->store, all ? 0 : broker_auth_now(c->auth), &ss, &n);
	if (r < 0)
		return store_fail(c, "sessions", r);
	table_init(&t, 6, head);
	for (size_t i = 0; i < n; i++) {
		const struct broker_session *s = &ss[i];
		struct broker_user u;
		char id[24], created[32], seen[32];
		bool live = broker_auth_session_live(c->auth, s);

		if (!live && !all)
			continue;
		snprintf(id, sizeof(id), "%lld", (long long)s->id);
		table_row(&t, id,
		          broker_store_user_get(c->store, s->user_id, &u) == 0 ? u.name : "?",
		          s->source, fmt_time(s->created, created, sizeof(created)),
		          fmt_time(s->last_seen, seen, sizeof(seen)),
		          s->revoked ? "revoked"
		          : live     ? "active"
		                     : "expired");
	}
	free(ss);
	table_print(&t, c->out);
	return 0;
}

static int parse_id(const char *s, int64_t *ret)
{
	unsigned long v;

	if (broker_parse_uint(s, 1, INT32_MAX, &v) < 0)
		return -EINVAL;
	*ret = (int64_t)v;
	return 0;
}

static int session_kill(struct cli *c, int argc, char **argv)
{
	const char *arg = NULL;
	struct broker_session s;
	struct broker_user u;
	char detail[64];
	int64_t id;
	int r;

	r = parse_args(c, argc, argv, no_options, no_opts, NULL, &arg, 1, 1);
	if (r)
		return r;
	if (parse_id(arg, &id) < 0)
		return usagef(c, "'%.40s' is not a session ID", arg);
	r = open_store(c);
	if (r)
		return r;
	r = broker_store_session_get(c->store, id, &s);
	if (r == 0)
		r = broker_store_session_revoke(c->store, id);
	if (r == -ENOENT)
		return failf(c, "no session %lld", (long long)id);
	if (r < 0)
		return store_fail(c, arg, r);
	if (open_auth(c) == 0) {
		snprintf(detail, sizeof(detail), "{\"session\":%lld,\"via\":\"cli\"}",
		         (long long)id);
		cli_audit(c, "session.kill",
		          broker_store_user_get(c->store, s.user_id, &u) == 0 ? u.name : NULL, NULL,
		          detail);
	}
	fprintf(c->out, "session %lld revoked\n", (long long)id);
	return 0;
}

/* --- vm --- */

static int vm_list(struct cli *c, int argc, char **argv)
{
	static const char *const head[] = { "ID",   "NAME", "POOL", "STATE",
		                            "USER", "PID",  "VNC",  "SPICE" };
	struct broker_vm *vms = NULL;
	struct table t;
	size_t n = 0;
	int r;

	r = parse_args(c, argc, argv, no_options, no_opts, NULL, NULL, 0, 0);
	if (r || (r = open_store(c)))
		return r;
	r = broker_store_vm_list(c->store, 0, &vms, &n);
	if (r < 0)
		return store_fail(c, "vms", r);
	table_init(&t, 8, head);
	for (size_t i = 0; i < n; i++) {
		const struct broker_vm *vm = &vms[i];
		struct broker_pool p;
		struct broker_user u;
		char id[24], pid[16], vnc[96], spice[96];

		snprintf(id, sizeof(id), "%lld", (long long)vm->id);
		snprintf(pid, sizeof(pid), "%d", vm->pid);
		snprintf(vnc, sizeof(vnc), "%s:%d", vm->vnc_host, vm->vnc_port);
		snprintf(spice, sizeof(spice), "%s:%d", vm->spice_host, vm->spice_port);
		table_row(&t, id, vm->name,
		          broker_store_pool_get(c->store, vm->pool_id, &p) == 0 ? p.name : "?",
		          broker_vm_state_name(vm->state),
		          vm->user_id && broker_store_user_get(c->store, vm->user_id, &u) == 0
		                  ? u.name
		                  : "",
		          vm->pid ? pid : "", vm->vnc_port ? vnc : "", vm->spice_port ? spice : "");
	}
	free(vms);
	table_print(&t, c->out);
	return 0;
}

static int vm_reset(struct cli *c, int argc, char **argv)
{
	struct broker_vm_request rq = { .action = "reset", .requested_by = "cli" };
	struct broker_vm vm;
	const char *arg = NULL;
	int64_t id;
	int r;

	r = parse_args(c, argc, argv, no_options, no_opts, NULL, &arg, 1, 1);
	if (r)
		return r;
	if (parse_id(arg, &id) < 0 && !broker_name_valid(arg))
		return usagef(c, "'%.80s' is not a VM ID or name", arg);
	r = open_store(c);
	if (r)
		return r;
	if (parse_id(arg, &id) == 0)
		r = broker_store_vm_get(c->store, id, &vm);
	else
		r = broker_store_vm_get_by_name(c->store, arg, &vm);
	if (r == -ENOENT)
		return failf(c, "no VM '%s'", arg);
	if (r < 0)
		return store_fail(c, arg, r);
	rq.vm_id = vm.id;
	rq.requested = time(NULL);
	r = broker_store_vm_request_add(c->store, &rq);
	if (r < 0)
		return store_fail(c, arg, r);
	if (open_auth(c) == 0)
		cli_audit(c, "vm.reset", NULL, vm.name, "{\"via\":\"cli\"}");
	fprintf(c->out,
	        "reset of VM %s requested (request %lld); the running broker carries it out\n",
	        vm.name, (long long)rq.id);
	return 0;
}

/* --- dispatch --- */

static const struct {
	const char *noun, *verb;
	int (*fn)(struct cli *c, int argc, char **argv);
} commands[] = {
	{ "user", "add", user_add },         { "user", "passwd", user_passwd },
	{ "user", "del", user_del },         { "user", "list", user_list },
	{ "user", "totp", user_totp },       { "pool", "add", pool_add },
	{ "pool", "set", pool_set },         { "pool", "del", pool_del },
	{ "pool", "list", pool_list },       { "session", "list", session_list },
	{ "session", "kill", session_kill }, { "vm", "list", vm_list },
	{ "vm", "reset", vm_reset },
};

int broker_cli_run(const struct broker_config *cfg, int argc, char **argv, int in_fd, FILE *out,
                   FILE *err)
{
	struct cli c = { .cfg = cfg, .out = out, .err = err, .in_fd = in_fd };
	char cmd[64];
	bool noun_known = false;
	int r;

	if (argc < 1)
		return BROKER_EXIT_USAGE;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].noun) == 0)
			noun_known = true;
	if (!noun_known) {
		fprintf(err, "vdi-broker: unknown command '%.80s' (see --help)\n", argv[0]);
		return BROKER_EXIT_USAGE;
	}
	if (argc < 2) {
		fprintf(err, "vdi-broker: %s: missing subcommand (see --help)\n", argv[0]);
		return BROKER_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].noun) != 0 ||
		    strcmp(argv[1], commands[i].verb) != 0)
			continue;
		snprintf(cmd, sizeof(cmd), "%s %s", commands[i].noun, commands[i].verb);
		c.cmd = cmd;
		/* The verb is argv[0] of the subcommand's own option parsing. */
		r = commands[i].fn(&c, argc - 1, argv + 1);
		broker_auth_free(c.auth);
		broker_store_close(c.store);
		fflush(out);
		return r;
	}
	fprintf(err, "vdi-broker: %s: unknown subcommand '%.80s' (see --help)\n", argv[0], argv[1]);
	return BROKER_EXIT_USAGE;
}
