// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "vmm/bus.h"

struct rec {
	uint64_t offset;
	uint32_t value;
	unsigned int size;
	bool is_write;
	int calls;
};

static void handler(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct rec *r = opaque;

	r->offset = offset;
	r->size = size;
	r->is_write = is_write;
	r->calls++;
	if (is_write)
		memcpy(&r->value, data, size < 4 ? size : 4);
	else
		memcpy(data, &r->value, size < 4 ? size : 4);
}

START_TEST(dispatch_by_range)
{
	struct vmm_bus bus;
	struct rec a = { .value = 0x11223344 }, b = { 0 };
	uint32_t v = 0;

	vmm_bus_init(&bus, "t");
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_PIO, 0x3f8, 8, handler, &a, "a"), 0);
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_MMIO, 0x3f8, 8, handler, &b, "b"), 0);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x3fa, &v, 2, false), 0);
	ck_assert_uint_eq(a.offset, 2);
	ck_assert_uint_eq(v, 0x3344);
	ck_assert_int_eq(b.calls, 0);
	v = 0xabcd;
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_MMIO, 0x3ff, &v, 1, true), 0);
	ck_assert_uint_eq(b.offset, 7);
	ck_assert_uint_eq(b.value & 0xff, 0xcd);
	vmm_bus_exit(&bus);
}
END_TEST

START_TEST(unknown_reads_all_ones)
{
	struct vmm_bus bus;
	struct rec a = { 0 };
	uint32_t v = 0;

	vmm_bus_init(&bus, "t");
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_PIO, 0x60, 1, handler, &a, "a"), 0);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x61, &v, 4, false), -ENOENT);
	ck_assert_uint_eq(v, 0xffffffff);
	/* Straddling the end of a range is not that device's access. */
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x60, &v, 2, false), -ENOENT);
	ck_assert_int_eq(a.calls, 0);
	/* Many distinct unknown addresses must not grow the log table without bound. */
	for (uint32_t i = 0; i < 10000; i++)
		vmm_bus_access(&bus, VMM_BUS_MMIO, 0x100000ULL + i * 4, &v, 4, false);
	ck_assert_uint_le(bus.nr_logged, VMM_BUS_MAX_LOGGED);
	vmm_bus_exit(&bus);
}
END_TEST

START_TEST(overlap_and_unregister)
{
	struct vmm_bus bus;
	struct rec a = { 0 }, b = { 0 };
	uint32_t v;

	vmm_bus_init(&bus, "t");
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_MMIO, 0x1000, 0x100, handler, &a, "a"), 0);
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_MMIO, 0x10ff, 2, handler, &b, "b"),
	                 -EEXIST);
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_MMIO, 0xfff, 2, handler, &b, "b"), -EEXIST);
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_MMIO, 0x1100, 0x10, handler, &b, "b"), 0);
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_MMIO, UINT64_MAX, 2, handler, &b, "w"),
	                 -EINVAL);
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_MMIO, 0, 0, handler, &b, "e"), -EINVAL);
	ck_assert_int_eq(vmm_bus_unregister(&bus, VMM_BUS_MMIO, 0x1000, &b), -ENOENT);
	ck_assert_int_eq(vmm_bus_unregister(&bus, VMM_BUS_MMIO, 0x1000, &a), 0);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_MMIO, 0x1000, &v, 4, false), -ENOENT);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_MMIO, 0x1104, &v, 4, false), 0);
	ck_assert_int_eq(b.calls, 1);
	vmm_bus_exit(&bus);
}
END_TEST

START_TEST(table_full)
{
	struct vmm_bus bus;
	struct rec a = { 0 };

	vmm_bus_init(&bus, "t");
	for (unsigned int i = 0; i < VMM_BUS_MAX_RANGES; i++)
		ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_PIO, i * 4, 4, handler, &a, "x"),
		                 0);
	ck_assert_int_eq(vmm_bus_register(&bus, VMM_BUS_PIO, 0x8000, 4, handler, &a, "x"), -ENOSPC);
	vmm_bus_exit(&bus);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_bus");
	TCase *tc = tcase_create("bus");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, dispatch_by_range);
	tcase_add_test(tc, unknown_reads_all_ones);
	tcase_add_test(tc, overlap_and_unregister);
	tcase_add_test(tc, table_full);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
