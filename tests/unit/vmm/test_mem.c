// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>

#include "vmm/mem.h"

START_TEST(bounds)
{
	struct vmm_mem mem;
	uint8_t b[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	ck_assert_int_eq(vmm_mem_init(&mem, 16ULL << 20), 0);
	ck_assert_ptr_nonnull(vmm_mem_ptr(&mem, 0, 16ULL << 20));
	ck_assert_ptr_null(vmm_mem_ptr(&mem, 0, (16ULL << 20) + 1));
	ck_assert_ptr_null(vmm_mem_ptr(&mem, (16ULL << 20) - 4, 8));
	ck_assert_ptr_null(vmm_mem_ptr(&mem, 16ULL << 20, 0));
	/* gpa + len wrapping around must not look like a small range. */
	ck_assert_ptr_null(vmm_mem_ptr(&mem, 0x1000, UINT64_MAX));
	ck_assert_ptr_null(vmm_mem_ptr(&mem, UINT64_MAX, 2));
	ck_assert_int_eq(vmm_mem_write(&mem, 0x1000, b, sizeof(b)), 0);
	ck_assert_int_eq(vmm_mem_write(&mem, (16ULL << 20) - 7, b, sizeof(b)), -EFAULT);
	b[0] = 0;
	ck_assert_int_eq(vmm_mem_read(&mem, 0x1000, b, sizeof(b)), 0);
	ck_assert_int_eq(b[0], 1);
	vmm_mem_exit(&mem);
}
END_TEST

START_TEST(split_around_pci_hole)
{
	struct vmm_mem mem;
	uint64_t size = VMM_MEM_HOLE_START + (64ULL << 20);

	ck_assert_int_eq(vmm_mem_init(&mem, size), 0);
	ck_assert_uint_eq(mem.nr_regions, 2);
	ck_assert_uint_eq(mem.ram_size, size);
	ck_assert_ptr_null(vmm_mem_ptr(&mem, VMM_MEM_HOLE_START, 1));
	ck_assert_ptr_nonnull(vmm_mem_ptr(&mem, VMM_MEM_HIGH_START, 64ULL << 20));
	/* A range spanning two regions is refused even though both ends are RAM. */
	ck_assert_ptr_null(vmm_mem_ptr(&mem, VMM_MEM_HOLE_START - 4, VMM_MEM_HIGH_START));
	vmm_mem_exit(&mem);
}
END_TEST

START_TEST(sizes)
{
	uint64_t v;

	ck_assert_int_eq(vmm_parse_size("256M", &v), 0);
	ck_assert_uint_eq(v, 256ULL << 20);
	ck_assert_int_eq(vmm_parse_size("2G", &v), 0);
	ck_assert_uint_eq(v, 2ULL << 30);
	ck_assert_int_eq(vmm_parse_size("512MiB", &v), 0);
	ck_assert_uint_eq(v, 512ULL << 20);
	ck_assert_int_eq(vmm_parse_size("4096", &v), 0);
	ck_assert_uint_eq(v, 4096);
	ck_assert_int_eq(vmm_parse_size("12X", &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_size("-1M", &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_size("", &v), -EINVAL);
	ck_assert_int_eq(vmm_parse_size("99999999999999999999G", &v), -ERANGE);
	ck_assert_int_eq(vmm_parse_size("17179869184G", &v), -ERANGE);
}
END_TEST

START_TEST(refuses_tiny)
{
	struct vmm_mem mem;

	ck_assert_int_eq(vmm_mem_init(&mem, 4096), -EINVAL);
	ck_assert_int_eq(vmm_mem_init(&mem, (16ULL << 20) + 1), -EINVAL);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_mem");
	TCase *tc = tcase_create("mem");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, bounds);
	tcase_add_test(tc, split_around_pci_hole);
	tcase_add_test(tc, sizes);
	tcase_add_test(tc, refuses_tiny);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
