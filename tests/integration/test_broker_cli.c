// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-broker as an operator meets it, on a temporary data directory: the
 * first start prints the admin's random password once, the admin commands
 * add, list and delete users and pools, bad arguments and configuration
 * give one line and exit 2, failures exit 1. Needs no KVM.
 */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static char dir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vdi-itest-broker-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct result {
	int status;
	char out[16384];
	char err[4096];
};

/* Drain @fd into @buf until EOF. */
static void slurp(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t r;

	while (len + 1 < size && (r = read(fd, buf + len, size - len - 1)) > 0)
		len += (size_t)r;
	buf[len] = '\0';
}

/*
 * Run vdi-broker with @args (NULL-terminated) and @input on stdin. With
 * @data_dir, "--data-dir DIR/var" goes first.
 */
static void run(struct result *res, const char *input, bool data_dir, const char *const *args)
{
	const char *argv[48];
	char dd[128];
	int in[2], out[2], err[2], n = 0, status;
	pid_t pid;

	argv[n++] = harness_build_path("broker/vdi-broker");
	if (data_dir) {
		snprintf(dd, sizeof(dd), "%s/var", dir);
		argv[n++] = "--data-dir";
		argv[n++] = dd;
	}
	for (int i = 0; args[i] && n < 47; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe(in), 0);
	ck_assert_int_eq(pipe(out), 0);
	ck_assert_int_eq(pipe(err), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(in[1]);
		close(out[0]);
		close(err[0]);
		/* No terminal: --password-stdin is the only way in. */
		setsid();
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (input && write(in[1], input, strlen(input)) < 0)
		ck_abort_msg("cannot write stdin");
	close(in[1]);
	/* Outputs are small; stderr after stdout cannot deadlock at these sizes. */
	slurp(out[0], res->out, sizeof(res->out));
	slurp(err[0], res->err, sizeof(res->err));
	close(out[0]);
	close(err[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#define RUN(res, input, ...)                                       \
	do {                                                       \
		const char *const args_[] = { __VA_ARGS__, NULL }; \
		run((res), (input), true, args_);                  \
	} while (0)

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* The password in the first-start line, or "" when there is none. */
static void first_start_password(const char *out, char *pw, size_t size)
{
	const char *p = strstr(out, "first start: created admin 'admin' with password ");
	size_t n;

	pw[0] = '\0';
	if (!p)
		return;
	p += strlen("first start: created admin 'admin' with password ");
	n = strcspn(p, " ");
	ck_assert_uint_lt(n, size);
	memcpy(pw, p, n);
	pw[n] = '\0';
}

START_TEST(first_start_prints_the_admin_password_once)
{
	struct result r;
	char pw[64], pw2[64];

	RUN(&r, NULL, "--log-level", "warn", "init");
	ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.err);
	ck_assert_int_eq(count(r.out, "first start:"), 1);
	ck_assert_ptr_nonnull(strstr(r.out, " — change it with 'vdi-broker user passwd admin'\n"));
	ck_assert_ptr_nonnull(strstr(r.out, "vdi-broker: initialised "));
	first_start_password(r.out, pw, sizeof(pw));
	ck_assert_uint_ge(strlen(pw), 12);

	RUN(&r, NULL, "--log-level", "warn", "init");
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(count(r.out, "first start:"), 0);
	ck_assert_int_eq(count(r.out, pw), 0);

	RUN(&r, NULL, "user", "list");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "admin  admin"));
	RUN(&r, NULL, "pool", "list");
	ck_assert_ptr_nonnull(strstr(r.out, "demo"));
	ck_assert_ptr_nonnull(strstr(r.out, "group:users"));

	/* Another installation gets another password: there is no default one. */
	teardown();
	setup();
	RUN(&r, NULL, "--log-level", "warn", "init");
	first_start_password(r.out, pw2, sizeof(pw2));
	ck_assert_uint_ge(strlen(pw2), 12);
	ck_assert_str_ne(pw, pw2);
}
END_TEST

START_TEST(an_admin_made_first_means_no_generated_one)
{
	struct result r;

	RUN(&r, "a long password\n", "user", "add", "root", "--admin", "--password-stdin");
	ck_assert_msg(r.status == 0, "%s", r.err);
	RUN(&r, NULL, "--log-level", "warn", "init");
	ck_assert_int_eq(r.status, 0);
	ck_assert_int_eq(count(r.out, "first start:"), 0);
	RUN(&r, NULL, "user", "list");
	ck_assert_int_eq(count(r.out, "\nadmin "), 0);
}
END_TEST

START_TEST(users_are_added_listed_and_deleted)
{
	struct result r;

	RUN(&r, "password one\n", "user", "add", "alice", "--admin", "--password-stdin");
	ck_assert_msg(r.status == 0, "%s", r.err);
	RUN(&r, "password two\n", "user", "add", "bob", "--group", "staff", "--password-stdin");
	ck_assert_msg(r.status == 0, "%s", r.err);
	RUN(&r, NULL, "user", "list");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "NAME "));
	ck_assert_ptr_nonnull(strstr(r.out, "alice  admin  users"));
	ck_assert_ptr_nonnull(strstr(r.out, "bob    user   staff"));
	RUN(&r, "password two\n", "user", "add", "bob", "--password-stdin");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "already exists"));
	RUN(&r, NULL, "user", "del", "bob");
	ck_assert_int_eq(r.status, 0);
	RUN(&r, NULL, "user", "list");
	ck_assert_int_eq(count(r.out, "bob"), 0);
	RUN(&r, NULL, "user", "del", "bob");
	ck_assert_int_eq(r.status, 1);
	RUN(&r, NULL, "user", "del", "alice");
	ck_assert_int_eq(r.status, 1);
	ck_assert_ptr_nonnull(strstr(r.err, "last admin"));
	/* No terminal and no --password-stdin: told how, exit 2. */
	RUN(&r, NULL, "user", "add", "carol");
	ck_assert_int_eq(r.status, 2);
	ck_assert_ptr_nonnull(strstr(r.err, "--password-stdin"));
}
END_TEST

START_TEST(pools_are_added_and_listed)
{
	struct result r;

	RUN(&r, NULL, "pool", "add", "linux", "--kernel", "/boot/vmlinuz", "--memory", "512",
	    "--vcpus", "2", "--resolution", "1280x800", "--type", "persistent", "--size", "1",
	    "--spares", "0", "--max-vms", "8", "--max-per-user", "1", "--entitle", "group:staff");
	ck_assert_msg(r.status == 0, "%s", r.err);
	RUN(&r, NULL, "pool", "list");
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "linux"));
	ck_assert_ptr_nonnull(strstr(r.out, "persistent"));
	ck_assert_ptr_nonnull(strstr(r.out, "512M"));
	ck_assert_ptr_nonnull(strstr(r.out, "/boot/vmlinuz"));
	ck_assert_ptr_nonnull(strstr(r.out, "group:staff"));
	RUN(&r, NULL, "pool", "set", "linux", "--spares", "1");
	ck_assert_int_eq(r.status, 0);
	RUN(&r, NULL, "pool", "del", "linux");
	ck_assert_int_eq(r.status, 0);
	RUN(&r, NULL, "pool", "list");
	ck_assert_int_eq(count(r.out, "linux"), 0);
}
END_TEST

START_TEST(bad_arguments_exit_2_with_one_line)
{
	static const char *const cases[][8] = {
		{ "--bogus", NULL },
		{ "--data-dir", NULL },
		{ "--listen", "localhost", NULL },
		{ "--log-level", "chatty", NULL },
		{ "frobnicate", NULL },
		{ "user", NULL },
		{ "user", "add", NULL },
		{ "user", "add", "bad name", NULL },
		{ "user", "add", "x", "--admin=yes", NULL },
		{ "pool", "add", "p", "--memory", "lots", NULL },
		{ "pool", "add", "p", "--resolution", "99999x1", NULL },
		{ "pool", "add", "p", "--type", "shared", NULL },
		{ "pool", "set", "p", "--entitle", "everyone", NULL },
		{ "session", "kill", "one", NULL },
		{ "vm", "reset", NULL },
	};
	struct result r;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(&r, NULL, true, cases[i]);
		ck_assert_msg(r.status == 2, "case %zu (%s %s): exit %d, stderr: %s", i,
		              cases[i][0], cases[i][1] ? cases[i][1] : "", r.status, r.err);
		ck_assert_msg(count(r.err, "\n") == 1, "case %zu: not one line: %s", i, r.err);
		ck_assert_msg(strncmp(r.err, "vdi-broker: ", 12) == 0, "case %zu: %s", i, r.err);
	}
}
END_TEST

START_TEST(configuration_files)
{
	struct result r, r2;
	char conf[128], conf2[128];
	const char *dump_args[] = { "--dump-config", NULL };
	FILE *f;

	/* --dump-config prints a file that loads back to the same thing. */
	run(&r, NULL, true, dump_args);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_nonnull(strstr(r.out, "[pool demo]"));
	ck_assert_ptr_nonnull(strstr(r.out, "ticket_lifetime = 30"));
	snprintf(conf, sizeof(conf), "%s/dump.conf", dir);
	f = fopen(conf, "w");
	fputs(r.out, f);
	fclose(f);
	{
		const char *args[] = { "--config", conf, "--dump-config", NULL };

		run(&r2, NULL, false, args);
	}
	ck_assert_int_eq(r2.status, 0);
	ck_assert_str_eq(strchr(strchr(r.out, '\n') + 1, '\n'),
	                 strchr(strchr(r2.out, '\n') + 1, '\n'));

	/* A bad value: one line with file, group and key; exit 2. */
	snprintf(conf2, sizeof(conf2), "%s/bad.conf", dir);
	f = fopen(conf2, "w");
	fputs("[session]\nidle_timeout = 10\n", f);
	fclose(f);
	{
		const char *args[] = { "--config", conf2, NULL };

		run(&r, NULL, true, args);
	}
	ck_assert_int_eq(r.status, 2);
	ck_assert_int_eq(count(r.err, "\n"), 1);
	ck_assert_ptr_nonnull(strstr(r.err, "bad.conf: [session] idle_timeout: '10'"));
	/* A missing file is a failure, not a usage error. */
	{
		const char *args[] = { "--config", "/nonexistent/vdi.conf", NULL };

		run(&r, NULL, true, args);
	}
	ck_assert_int_eq(r.status, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("broker_cli");
	TCase *tc = tcase_create("cli");

	if (access(harness_build_path("broker/vdi-broker"), X_OK) != 0) {
		printf("SKIP: %s not built\n", harness_build_path("broker/vdi-broker"));
		return SKIP_EXIT;
	}
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, first_start_prints_the_admin_password_once);
	tcase_add_test(tc, an_admin_made_first_means_no_generated_one);
	tcase_add_test(tc, users_are_added_listed_and_deleted);
	tcase_add_test(tc, pools_are_added_and_listed);
	tcase_add_test(tc, bad_arguments_exit_2_with_one_line);
	tcase_add_test(tc, configuration_files);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
