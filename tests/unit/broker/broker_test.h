/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers shared by the broker's unit suites: a temporary directory per
 * test (removed with everything in it), and running a suite.
 */
#ifndef VDI_TESTS_BROKER_TEST_H
#define VDI_TESTS_BROKER_TEST_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int bt_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* A fresh directory under /tmp; its path in @dir (at least 64 bytes). */
static inline void bt_tmpdir(char *dir, size_t size)
{
	snprintf(dir, size, "/tmp/vdi-broker-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static inline void bt_rmdir(const char *dir)
{
	nftw(dir, bt_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static inline int bt_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}

#endif
