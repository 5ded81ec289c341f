// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-vmm's command line as an operator meets it: bad arguments give one
 * clear line and exit 2; a host without /dev/kvm gives a clear message and
 * exit 1. These need no KVM.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* Run vdi-vmm with @args; its exit status and its stderr in @out. */
static int run_vmm(const char *const *args, char *out, size_t out_size, bool without_kvm)
{
	const char *argv[40];
	int pipefd[2], n = 0, status;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	if (without_kvm) {
		/* A private mount namespace where /dev is an empty tmpfs: no /dev/kvm. */
		argv[n++] = "/usr/bin/unshare";
		argv[n++] = "-m";
		argv[n++] = "/bin/sh";
		argv[n++] = "-c";
		argv[n++] = "mount -t tmpfs none /dev && exec \"$0\" \"$@\"";
	}
	argv[n++] = harness_build_path("vmm/vdi-vmm");
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	ck_assert_int_eq(pipe(pipefd), 0);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		dup2(open("/dev/null", O_WRONLY), STDOUT_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	while (len + 1 < out_size && (r = read(pipefd[0], out + len, out_size - len - 1)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(pipefd[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

START_TEST(bad_arguments_exit_2)
{
	static const char *const cases[][12] = {
		{ "--bogus", NULL },
		{ "--control", "/tmp/x.sock", NULL },
		{ "--kernel", "/bin/true", NULL },
		{ "--kernel", "/bin/true", "--control", "/tmp/x.sock", "--memory", "1T", NULL },
		{ "--kernel", "/bin/true", "--control", "/tmp/x.sock", "--memory", "12Q", NULL },
		{ "--kernel", "/bin/true", "--control", "/tmp/x.sock", "--cpus", "0", NULL },
		{ "--kernel", "/bin/true", "--control", "/tmp/x.sock", "--cpus", "999", NULL },
		{ "--kernel", "/bin/true", "--control", "/tmp/x.sock", "--resolution", "10x10",
		  NULL },
		{ "--kernel", "/bin/true", "--control", "/tmp/x.sock", "--resolution", "1024",
		  NULL },
		{ "--kernel", "/bin/true", "--control", "/tmp/x.sock", "--serial", "tcp:1", NULL },
		{ "--kernel", "/bin/true", "--control", "/tmp/x.sock", "--name", "bad name!",
		  NULL },
	};
	char out[4096];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int st = run_vmm(cases[i], out, sizeof(out), false);

		ck_assert_msg(st == 2, "case %zu (%s %s): exit %d, stderr: %s", i, cases[i][0],
		              cases[i][1] ? cases[i][1] : "", st, out);
		ck_assert_msg(count_lines(out) == 1, "case %zu: not one line: %s", i, out);
		ck_assert_msg(strstr(out, "vdi-vmm") != NULL, "case %zu: unclear: %s", i, out);
	}
}
END_TEST

START_TEST(help_exits_0)
{
	const char *argv[] = { harness_build_path("vmm/vdi-vmm"), "--help", NULL };
	pid_t pid;
	int status;

	pid = fork();
	if (pid == 0) {
		dup2(open("/dev/null", O_WRONLY), STDOUT_FILENO);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	waitpid(pid, &status, 0);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(no_kvm_exits_1)
{
	const char *args[] = { "--kernel", harness_build_path("vmm/guest/vdi-guest.elf"),
		               "--control", "/tmp/vdi-it-nokvm.sock", NULL };
	char out[4096];
	int st;

	if (geteuid() != 0 || access("/usr/bin/unshare", X_OK) != 0) {
		printf("SKIP part: hiding /dev/kvm needs root and unshare\n");
		return;
	}
	st = run_vmm(args, out, sizeof(out), true);
	if (st != 1 && strstr(out, "unshare"))
		return; /* no namespaces in this container: nothing to check */
	ck_assert_msg(st == 1, "exit %d, stderr: %s", st, out);
	ck_assert_msg(strstr(out, "/dev/kvm") != NULL, "message does not name /dev/kvm: %s", out);
	ck_assert_msg(count_lines(out) == 1, "not one line: %s", out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_arguments_exit_2);
	tcase_add_test(tc, help_exits_0);
	tcase_add_test(tc, no_kvm_exits_1);
	suite_add_tcase(s, tc);
	return harness_run(s);
}
