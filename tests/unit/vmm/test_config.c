// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <string.h>

#include "vmm/config.h"

static int parse(struct vmm_config *cfg, char *err, const char *const *args)
{
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"vdi-vmm";
	for (int i = 0; args[i]; i++)
		argv[argc++] = (char *)args[i];
	argv[argc] = NULL;
	return vmm_config_parse(cfg, argc, argv, err, 256);
}

START_TEST(defaults_and_full_line)
{
	struct vmm_config cfg;
	char err[256];
	const char *const min[] = { "--kernel", "k.elf", "--control", "/tmp/c.sock", NULL };
	const char *const full[] = {
		"--name",    "desk-3",           "--memory",    "512M",           "--cpus",
		"2",         "--kernel",         "bzImage",     "--initrd",       "initrd.img",
		"--cmdline", "console=ttyS0",    "--disk",      "/d/disk.img,ro", "--resolution",
		"1280x800",  "--control",        "/tmp/c.sock", "--serial",       "file:/tmp/s",
		"--vnc",     "unix:/tmp/v.sock", "--spice",     "none",           NULL
	};

	ck_assert_int_eq(parse(&cfg, err, min), 0);
	ck_assert_str_eq(cfg.name, "vm");
	ck_assert_uint_eq(cfg.mem_size, 256ULL << 20);
	ck_assert_uint_eq(cfg.cpus, 1);
	ck_assert_uint_eq(cfg.width, 1024);
	ck_assert_int_eq(cfg.serial, VMM_SERIAL_STDIO);
	ck_assert(cfg.vnc.enabled && !cfg.vnc.is_unix && cfg.vnc.port == 0);
	ck_assert_str_eq(cfg.vnc.host, "127.0.0.1");

	ck_assert_int_eq(parse(&cfg, err, full), 0);
	ck_assert_str_eq(cfg.name, "desk-3");
	ck_assert_uint_eq(cfg.mem_size, 512ULL << 20);
	ck_assert_uint_eq(cfg.cpus, 2);
	ck_assert_str_eq(cfg.disk, "/d/disk.img");
	ck_assert(cfg.disk_ro);
	ck_assert_uint_eq(cfg.width, 1280);
	ck_assert_uint_eq(cfg.height, 800);
	ck_assert_int_eq(cfg.serial, VMM_SERIAL_FILE);
	ck_assert_str_eq(cfg.serial_path, "/tmp/s");
	ck_assert(cfg.vnc.is_unix);
	ck_assert_str_eq(cfg.vnc.path, "/tmp/v.sock");
	ck_assert(!cfg.spice.enabled);
}
END_TEST

START_TEST(bad_arguments_have_one_clear_line)
{
	static const struct {
		const char *args[8];
		const char *expect;
	} cases[] = {
		{ { "--control", "/c", NULL }, "--kernel" },
		{ { "--kernel", "k", NULL }, "--control" },
		{ { "--kernel", "k", "--control", "/c", "--memory", "12X", NULL }, "--memory" },
		{ { "--kernel", "k", "--control", "/c", "--memory", "1M", NULL }, "--memory" },
		{ { "--kernel", "k", "--control", "/c", "--cpus", "0", NULL }, "--cpus" },
		{ { "--kernel", "k", "--control", "/c", "--cpus", "65", NULL }, "--cpus" },
		{ { "--kernel", "k", "--control", "/c", "--resolution", "99x99", NULL },
		  "--resolution" },
		{ { "--kernel", "k", "--control", "/c", "--resolution", "1024x768x", NULL },
		  "--resolution" },
		{ { "--kernel", "k", "--control", "/c", "--name", "a b", NULL }, "--name" },
		{ { "--kernel", "k", "--control", "/c", "--serial", "tcp:1", NULL }, "--serial" },
		{ { "--kernel", "k", "--control", "/c", "--vnc", "localhost", NULL }, "--vnc" },
		{ { "--kernel", "k", "--control", "/c", "--disk", "d.img,rx", NULL }, "--disk" },
		{ { "--kernel", "k", "--control", "/c", "--bogus", NULL }, "--bogus" },
		{ { "--kernel", "k", "--control", "/c", "stray", NULL }, "stray" },
		{ { "--kernel", NULL }, "--kernel" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vmm_config cfg;
		char err[256] = "";

		ck_assert_int_eq(parse(&cfg, err, cases[i].args), -EINVAL);
		ck_assert_msg(strstr(err, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err,
		              cases[i].expect);
		ck_assert_ptr_null(strchr(err, '\n'));
	}
}
END_TEST

START_TEST(listen_addresses)
{
	struct vmm_listen l;

	ck_assert_int_eq(vmm_listen_parse("0.0.0.0:5901", &l), 0);
	ck_assert_int_eq(l.port, 5901);
	ck_assert_int_eq(vmm_listen_parse("[::1]:5900", &l), 0);
	ck_assert_str_eq(l.host, "::1");
	ck_assert_int_eq(vmm_listen_parse("none", &l), 0);
	ck_assert(!l.enabled);
	ck_assert_int_eq(vmm_listen_parse("127.0.0.1:65536", &l), -EINVAL);
	ck_assert_int_eq(vmm_listen_parse("example.com:5900", &l), -EINVAL);
	ck_assert_int_eq(vmm_listen_parse("unix:", &l), -EINVAL);
	ck_assert_int_eq(vmm_listen_parse(":5900", &l), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_config");
	TCase *tc = tcase_create("config");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, defaults_and_full_line);
	tcase_add_test(tc, bad_arguments_have_one_clear_line);
	tcase_add_test(tc, listen_addresses);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
