// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The command line in-process: global flags and their order, every admin
 * command's success, failure (exit 1) and usage error (exit 2), one-line
 * errors, aligned output, and that a failed command changes nothing.
 */
#include <check.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/auth.h"
#include "broker/cli.h"
#include "broker/setup.h"
#include "broker_test.h"

static char dir[64], data[128];
static struct broker_config cfg;
static char out[65536], err[4096];

static void setup(void)
{
	char why[256];

	bt_tmpdir(dir, sizeof(dir));
	snprintf(data, sizeof(data), "%s/var", dir);
	ck_assert_int_eq(broker_config_init(&cfg), 0);
	ck_assert_int_eq(broker_config_set(&cfg, "broker", "data_dir", data, why, sizeof(why)), 0);
	ck_assert_int_eq(broker_config_set(&cfg, "auth", "argon2_memory", "64", why, sizeof(why)),
	                 0);
	ck_assert_int_eq(
	        broker_config_set(&cfg, "auth", "argon2_iterations", "1", why, sizeof(why)), 0);
}

static void teardown(void)
{
	broker_config_free(&cfg);
	bt_rmdir(dir);
}

/* Run one command (NULL-terminated words) with @input on stdin; its exit status. */
static int run(const char *input, ...)
{
	char *argv[32], *obuf = NULL, *ebuf = NULL;
	size_t olen = 0, elen = 0;
	int argc = 0, fds[2], r;
	FILE *o, *e;
	va_list ap;

	va_start(ap, input);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	ck_assert_int_eq(pipe(fds), 0);
	if (input)
		ck_assert_int_eq(write(fds[1], input, strlen(input)), (ssize_t)strlen(input));
	close(fds[1]);
	o = open_memstream(&obuf, &olen);
	e = open_memstream(&ebuf, &elen);
	r = broker_cli_run(&cfg, argc, argv, fds[0], o, e);
	fclose(o);
	fclose(e);
	close(fds[0]);
	snprintf(out, sizeof(out), "%s", obuf);
	snprintf(err, sizeof(err), "%s", ebuf);
	free(obuf);
	free(ebuf);
	return r;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Exit 2 with one line that names the command. */
static void usage_error(int r, const char *expect)
{
	ck_assert_msg(r == BROKER_EXIT_USAGE, "exit %d, stderr: %s", r, err);
	ck_assert_msg(lines(err) == 1, "not one line: %s", err);
	ck_assert_msg(strstr(err, expect) != NULL, "'%s' not in: %s", expect, err);
}

static void failure(int r, const char *expect)
{
	ck_assert_msg(r == BROKER_EXIT_FAIL, "exit %d, stderr: %s", r, err);
	ck_assert_msg(lines(err) == 1, "not one line: %s", err);
	ck_assert_msg(strstr(err, expect) != NULL, "'%s' not in: %s", expect, err);
}

START_TEST(global_flags)
{
	char *argv[8], *obuf = NULL, *ebuf = NULL, conf[128];
	struct broker_config c;
	size_t olen, elen;
	int cmd = -1;
	FILE *o, *e, *f;

	o = open_memstream(&obuf, &olen);
	e = open_memstream(&ebuf, &elen);
	argv[0] = "vdi-broker";
	argv[1] = "--help";
	ck_assert_int_eq(broker_cli_parse(2, argv, &c, &cmd, o, e), 1);
	argv[1] = "--version";
	ck_assert_int_eq(broker_cli_parse(2, argv, &c, &cmd, o, e), 1);
	argv[1] = "--dump-config";
	ck_assert_int_eq(broker_cli_parse(2, argv, &c, &cmd, o, e), 1);
	argv[1] = "--bogus";
	ck_assert_int_eq(broker_cli_parse(2, argv, &c, &cmd, o, e), -BROKER_EXIT_USAGE);
	argv[1] = "--data-dir";
	ck_assert_int_eq(broker_cli_parse(2, argv, &c, &cmd, o, e), -BROKER_EXIT_USAGE);
	argv[1] = "--log-level";
	argv[2] = "loud";
	ck_assert_int_eq(broker_cli_parse(3, argv, &c, &cmd, o, e), -BROKER_EXIT_USAGE);
	argv[1] = "--config";
	argv[2] = "/nonexistent.conf";
	ck_assert_int_eq(broker_cli_parse(3, argv, &c, &cmd, o, e), -BROKER_EXIT_FAIL);
	fclose(o);
	fclose(e);
	ck_assert_ptr_nonnull(strstr(obuf, "user add NAME"));
	ck_assert_ptr_nonnull(strstr(obuf, "vdi-broker " VDI_VERSION));
	ck_assert_ptr_nonnull(strstr(obuf, "[pool demo]"));
	ck_assert_ptr_nonnull(strstr(ebuf, "unknown option '--bogus'"));
	ck_assert_ptr_nonnull(strstr(ebuf, "--data-dir needs a value"));
	ck_assert_ptr_nonnull(strstr(ebuf, "--log-level: 'loud'"));
	free(obuf);
	free(ebuf);

	/* The file first, then the flags, whatever their order; the command follows. */
	snprintf(conf, sizeof(conf), "%s/b.conf", dir);
	f = fopen(conf, "w");
	fputs("[broker]\ndata_dir = /from/file\n[vmm]\nguest = /file.elf\n", f);
	fclose(f);
	argv[1] = "--data-dir";
	argv[2] = "/from/flag";
	argv[3] = "--config";
	argv[4] = conf;
	argv[5] = "user";
	argv[6] = "list";
	argv[7] = NULL;
	ck_assert_int_eq(broker_cli_parse(7, argv, &c, &cmd, stdout, stderr), 0);
	ck_assert_str_eq(c.data_dir, "/from/flag");
	ck_assert_str_eq(c.vmm_guest, "/file.elf");
	ck_assert_int_eq(cmd, 5);
	broker_config_free(&c);
	/* No command: the server. */
	argv[1] = "--vmm";
	argv[2] = "/x/vdi-vmm";
	ck_assert_int_eq(broker_cli_parse(3, argv, &c, &cmd, stdout, stderr), 0);
	ck_assert_int_eq(cmd, 3);
	ck_assert_str_eq(c.vmm_binary, "/x/vdi-vmm");
	broker_config_free(&c);
}
END_TEST

START_TEST(users)
{
	const char *row;

	ck_assert_int_eq(
	        run("password one\n", "user", "add", "alice", "--admin", "--password-stdin", NULL),
	        0);
	ck_assert_str_eq(out, "added admin 'alice'\n");
	ck_assert_int_eq(run("password two", "user", "add", "--password-stdin", "bob", "--group",
	                     "staff", "--group", "ops", NULL),
	                 0);
	failure(run("password two\n", "user", "add", "bob", "--password-stdin", NULL),
	        "user 'bob' already exists");
	failure(run("short\n", "user", "add", "carol", "--password-stdin", NULL), "8 to 1024");
	usage_error(run(NULL, "user", "add", "bad name", NULL), "user add: user name 'bad name'");
	usage_error(run(NULL, "user", "add", NULL), "missing argument");
	usage_error(run(NULL, "user", "add", "a", "b", NULL), "unexpected 'b'");
	usage_error(run(NULL, "user", "add", "carol", "--root", NULL), "unknown option '--root'");
	usage_error(run(NULL, "user", "add", "carol", "--group", NULL), "--group needs a value");
	usage_error(run(NULL, "user", "add", "carol", "--group", "a b", NULL), "group 'a b'");
	/* No terminal to ask on (the test has none) and no --password-stdin. */
	if (access("/dev/tty", R_OK | W_OK) != 0 || isatty(STDIN_FILENO) == 0)
		usage_error(run(NULL, "user", "add", "carol", NULL), "--password-stdin");

	ck_assert_int_eq(run(NULL, "user", "list", NULL), 0);
	ck_assert_int_eq(lines(out), 3);
	ck_assert(strncmp(out, "NAME ", 5) == 0);
	row = strstr(out, "\nbob ");
	ck_assert_ptr_nonnull(row);
	/* Aligned: each row's role starts under ROLE. */
	ck_assert_int_eq(strstr(out, "ROLE") - out, strstr(row + 1, "user") - (row + 1));
	ck_assert_ptr_nonnull(strstr(row, "ops,staff"));
	ck_assert_ptr_nonnull(strstr(out, "alice  admin  users"));

	ck_assert_int_eq(run("new password\n", "user", "passwd", "bob", "--password-stdin", NULL),
	                 0);
	failure(run("new password\n", "user", "passwd", "nobody", "--password-stdin", NULL),
	        "no user 'nobody'");
	ck_assert_int_eq(run(NULL, "user", "totp", "bob", NULL), 0);
	ck_assert(strncmp(out, "otpauth://totp/vdi:bob?secret=", 30) == 0);
	ck_assert_int_eq(run(NULL, "user", "list", NULL), 0);
	ck_assert_ptr_nonnull(strstr(strstr(out, "\nbob "), "yes"));
	ck_assert_int_eq(run(NULL, "user", "totp", "bob", "--disable", NULL), 0);

	failure(run(NULL, "user", "del", "alice", NULL), "last admin");
	ck_assert_int_eq(run(NULL, "user", "del", "bob", NULL), 0);
	failure(run(NULL, "user", "del", "bob", NULL), "no user 'bob'");
	ck_assert_int_eq(run(NULL, "user", "list", NULL), 0);
	ck_assert_int_eq(lines(out), 2);
}
END_TEST

START_TEST(pools)
{
	ck_assert_int_eq(run("password one\n", "user", "add", "bob", "--password-stdin", NULL), 0);
	ck_assert_int_eq(run(NULL, "pool", "add", "win", "--kernel", "/img/bzImage", "--memory",
	                     "2G", "--vcpus", "2", "--resolution", "1280x800", "--type",
	                     "persistent", "--size", "0", "--spares", "0", "--max-vms", "10",
	                     "--max-per-user", "2", "--entitle", "user:bob", "--entitle",
	                     "group:staff", "--cmdline", "console=ttyS0 quiet", NULL),
	                 0);
	ck_assert_str_eq(out, "added pool 'win'\n");
	ck_assert_int_eq(run(NULL, "pool", "list", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "persistent"));
	ck_assert_ptr_nonnull(strstr(out, "2048M"));
	ck_assert_ptr_nonnull(strstr(out, "1280x800"));
	ck_assert_ptr_nonnull(strstr(out, "user:bob,group:staff"));

	failure(run(NULL, "pool", "add", "win", NULL), "pool 'win' already exists");
	usage_error(run(NULL, "pool", "add", "p", "--memory", "8", NULL), "--memory:");
	usage_error(run(NULL, "pool", "add", "p", "--memory", "65G", NULL), "--memory:");
	usage_error(run(NULL, "pool", "add", "p", "--resolution", "big", NULL), "--resolution:");
	usage_error(run(NULL, "pool", "add", "p", "--type", "shared", NULL), "--type:");
	usage_error(run(NULL, "pool", "add", "p", "--size", "9", NULL), "size: 9 is more than");
	usage_error(run(NULL, "pool", "add", "p", "--entitle", "bob", NULL), "--entitle:");
	usage_error(run(NULL, "pool", "add", "p", "--unentitle", "user:bob", NULL),
	            "--unentitle only goes with pool set");
	usage_error(run(NULL, "pool", "add", "p q", NULL), "pool name");
	/* A failed entitlement undoes the whole command. */
	failure(run(NULL, "pool", "add", "p", "--entitle", "user:ghost", NULL), "no user:ghost");
	failure(run(NULL, "pool", "del", "p", NULL), "no pool 'p'");

	ck_assert_int_eq(run(NULL, "pool", "set", "win", "--unentitle", "user:bob", "--disable",
	                     "--memory", "512", NULL),
	                 0);
	ck_assert_int_eq(run(NULL, "pool", "list", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "512M"));
	ck_assert_ptr_null(strstr(out, "user:bob"));
	ck_assert_ptr_nonnull(strstr(out, " no "));
	/* Unchanged fields keep their values. */
	ck_assert_ptr_nonnull(strstr(out, "1280x800"));
	failure(run(NULL, "pool", "set", "win", "--unentitle", "user:bob", NULL),
	        "user:bob is not entitled");
	failure(run(NULL, "pool", "set", "nope", "--size", "1", NULL), "no pool 'nope'");
	usage_error(run(NULL, "pool", "set", "win", "--max-vms", "1", NULL), "max_vms (1)");
	ck_assert_int_eq(run(NULL, "pool", "del", "win", NULL), 0);
	ck_assert_int_eq(run(NULL, "pool", "list", NULL), 0);
	ck_assert_int_eq(lines(out), 1);
}
END_TEST

START_TEST(sessions_and_vms)
{
	struct broker_store *s;
	struct broker_auth *a;
	struct broker_auth_params p;
	struct broker_login l;
	struct broker_pool pool;
	struct broker_vm vm = {
		.state = BROKER_VM_RUNNING, .pid = 77, .vnc_port = 5900, .created = 1
	};
	char e[256], id[32];

	ck_assert_int_eq(run("password one\n", "user", "add", "bob", "--password-stdin", NULL), 0);
	ck_assert_int_eq(broker_setup_open_store(&cfg, &s, e, sizeof(e)), 0);
	broker_setup_auth_params(&cfg, &p);
	ck_assert_int_eq(broker_auth_new(s, &p, &a), 0);
	ck_assert_int_eq(broker_auth_login(a, "bob", "password one", NULL, "203.0.113.9", &l),
	                 BROKER_LOGIN_OK);
	broker_pool_defaults(&pool, "demo");
	ck_assert_int_eq(broker_store_pool_add(s, &pool), 0);
	vm.pool_id = pool.id;
	strcpy(vm.name, "demo-1");
	strcpy(vm.vnc_host, "127.0.0.1");
	ck_assert_int_eq(broker_store_vm_add(s, &vm), 0);

	ck_assert_int_eq(run(NULL, "session", "list", NULL), 0);
	ck_assert_int_eq(lines(out), 2);
	ck_assert_ptr_nonnull(strstr(out, "bob"));
	ck_assert_ptr_nonnull(strstr(out, "203.0.113.9"));
	ck_assert_ptr_nonnull(strstr(out, "active"));
	snprintf(id, sizeof(id), "%lld", (long long)l.session.id);
	ck_assert_int_eq(run(NULL, "session", "kill", id, NULL), 0);
	ck_assert_int_eq(broker_auth_session_check(a, l.token, NULL, NULL), -EKEYREJECTED);
	ck_assert_int_eq(run(NULL, "session", "list", NULL), 0);
	ck_assert_int_eq(lines(out), 1);
	ck_assert_int_eq(run(NULL, "session", "list", "--all", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "revoked"));
	failure(run(NULL, "session", "kill", "999", NULL), "no session 999");
	usage_error(run(NULL, "session", "kill", "abc", NULL), "not a session ID");
	usage_error(run(NULL, "session", "kill", "-1", NULL), "unknown option");

	ck_assert_int_eq(run(NULL, "vm", "list", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "demo-1"));
	ck_assert_ptr_nonnull(strstr(out, "running"));
	ck_assert_ptr_nonnull(strstr(out, "127.0.0.1:5900"));
	ck_assert_int_eq(run(NULL, "vm", "reset", "demo-1", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out, "reset of VM demo-1 requested"));
	snprintf(id, sizeof(id), "%lld", (long long)vm.id);
	ck_assert_int_eq(run(NULL, "vm", "reset", id, NULL), 0);
	failure(run(NULL, "vm", "reset", "demo-9", NULL), "no VM 'demo-9'");
	usage_error(run(NULL, "vm", "reset", "a/b", NULL), "not a VM ID or name");
	{
		struct broker_vm_request *rq = NULL;
		size_t n = 0;

		ck_assert_int_eq(broker_store_vm_request_pending(s, &rq, &n), 0);
		ck_assert_uint_eq(n, 2);
		ck_assert_str_eq(rq[0].action, "reset");
		free(rq);
	}
	/* A pool with VMs stays. */
	failure(run(NULL, "pool", "del", "demo", NULL), "still has VMs");
	broker_auth_free(a);
	broker_store_close(s);
}
END_TEST

START_TEST(unknown_commands)
{
	usage_error(run(NULL, "frobnicate", NULL), "unknown command 'frobnicate'");
	usage_error(run(NULL, "user", NULL), "missing subcommand");
	usage_error(run(NULL, "user", "rename", "a", NULL), "unknown subcommand 'rename'");
	usage_error(run(NULL, "user", "list", "extra", NULL), "unexpected 'extra'");
	usage_error(run(NULL, "vm", "list", "--all", NULL), "unknown option");
}
END_TEST

START_TEST(audit_trail)
{
	struct broker_store *s;
	struct broker_audit *list = NULL;
	char e[256];
	size_t n = 0;
	bool add = false, del = false, pool = false;

	ck_assert_int_eq(run("password one\n", "user", "add", "bob", "--password-stdin", NULL), 0);
	ck_assert_int_eq(run(NULL, "pool", "add", "p", NULL), 0);
	ck_assert_int_eq(run(NULL, "user", "del", "bob", NULL), 0);
	ck_assert_int_eq(broker_setup_open_store(&cfg, &s, e, sizeof(e)), 0);
	ck_assert_int_eq(broker_store_audit_list(s, 0, 100, &list, &n), 0);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(list[i].source, "cli");
		add |= strcmp(list[i].event, "user.add") == 0 && strcmp(list[i].user, "bob") == 0;
		del |= strcmp(list[i].event, "user.del") == 0;
		pool |= strcmp(list[i].event, "pool.add") == 0;
	}
	ck_assert(add && del && pool);
	free(list);
	broker_store_close(s);
}
END_TEST

int main(void)
{
	Suite *su = suite_create("broker_cli");
	TCase *tc = tcase_create("cli");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, global_flags);
	tcase_add_test(tc, users);
	tcase_add_test(tc, pools);
	tcase_add_test(tc, sessions_and_vms);
	tcase_add_test(tc, unknown_commands);
	tcase_add_test(tc, audit_trail);
	suite_add_tcase(su, tc);
	return bt_run(su);
}
