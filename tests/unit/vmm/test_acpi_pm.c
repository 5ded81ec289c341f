// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devices/acpi_pm.h"

struct fixture {
	struct vmm_bus bus;
	struct vmm_acpi_pm *pm;
	int poweroffs, resets;
};

static void on_poweroff(void *opaque)
{
	struct fixture *f = opaque;

	f->poweroffs++;
}

static void on_reset(void *opaque)
{
	struct fixture *f = opaque;

	f->resets++;
}

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct vmm_acpi_pm_ops ops = { on_poweroff, on_reset, NULL };

	ck_assert_ptr_nonnull(f);
	vmm_bus_init(&f->bus, "t");
	ops.opaque = f;
	ck_assert_int_eq(vmm_acpi_pm_new(&f->bus, &ops, &f->pm), 0);
	return f;
}

static void teardown(struct fixture *f)
{
	vmm_acpi_pm_free(f->pm);
	vmm_bus_exit(&f->bus);
	free(f);
}

static void outw(struct fixture *f, uint16_t port, uint16_t v)
{
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, port, &v, 2, true), 0);
}

static uint16_t inw(struct fixture *f, uint16_t port)
{
	uint16_t v = 0;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, port, &v, 2, false), 0);
	return v;
}

static void outb(struct fixture *f, uint16_t port, uint8_t v)
{
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, port, &v, 1, true), 0);
}

static uint8_t inb(struct fixture *f, uint16_t port)
{
	uint8_t v = 0;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, port, &v, 1, false), 0);
	return v;
}

START_TEST(poweroff_s5)
{
	struct fixture *f = setup();

	/* SCI_EN reads set: there is no legacy mode to switch from. */
	ck_assert_uint_eq(inw(f, 0x604), 0x0001);
	/* The reference guest's poweroff: SLP_EN with SLP_TYP 0. */
	outw(f, 0x604, 0x2000);
	ck_assert_int_eq(f->poweroffs, 1);
	/* SLP_EN is write-only. */
	ck_assert_uint_eq(inw(f, 0x604) & 0x2000, 0);
	/* Another sleep type (S3 in QEMU's tables) is ignored. */
	outw(f, 0x604, 0x2000 | 1 << 10);
	ck_assert_int_eq(f->poweroffs, 1);
	ck_assert_uint_eq(inw(f, 0x604), 1 << 10);
	/* Setting SLP_TYP without SLP_EN does nothing. */
	outw(f, 0x604, 0);
	ck_assert_int_eq(f->poweroffs, 1);
	/* Byte writes: the high byte carries SLP_EN and SLP_TYP. */
	outb(f, 0x605, 0x20);
	ck_assert_int_eq(f->poweroffs, 2);
	ck_assert_uint_eq(inb(f, 0x605), 0);
	ck_assert_int_eq(f->resets, 0);
	teardown(f);
}
END_TEST

START_TEST(port92_reset)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(inb(f, 0x92), 0x02);
	outb(f, 0x92, 0x00);
	ck_assert_uint_eq(inb(f, 0x92), 0x00);
	outb(f, 0x92, 0x02);
	ck_assert_uint_eq(inb(f, 0x92), 0x02);
	ck_assert_int_eq(f->resets, 0);
	outb(f, 0x92, 0x03);
	ck_assert_int_eq(f->resets, 1);
	/* The reset bit does not stick: a second request works too. */
	ck_assert_uint_eq(inb(f, 0x92), 0x02);
	outb(f, 0x92, 0x03);
	ck_assert_int_eq(f->resets, 2);
	ck_assert_int_eq(f->poweroffs, 0);
	teardown(f);
}
END_TEST

START_TEST(bad_accesses)
{
	struct fixture *f = setup();
	uint32_t v = 0xffffffffu;
	struct vmm_acpi_pm *pm2;
	struct vmm_acpi_pm_ops none = { 0 };

	/* Wider than the register: not ours. */
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x604, &v, 4, true), -ENOENT);
	ck_assert_int_eq(f->poweroffs, 0);
	v = 0x2020;
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x92, &v, 2, true), -ENOENT);
	ck_assert_int_eq(f->resets, 0);
	ck_assert_int_eq(vmm_acpi_pm_new(&f->bus, &none, &pm2), -EEXIST);
	teardown(f);
}
END_TEST

START_TEST(no_callbacks)
{
	struct vmm_bus bus;
	struct vmm_acpi_pm *pm;
	uint16_t v = 0x2000;
	uint8_t b = 1;

	vmm_bus_init(&bus, "t");
	ck_assert_int_eq(vmm_acpi_pm_new(&bus, NULL, &pm), 0);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x604, &v, 2, true), 0);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x92, &b, 1, true), 0);
	vmm_acpi_pm_free(pm);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x92, &b, 1, true), -ENOENT);
	vmm_acpi_pm_free(NULL);
	vmm_bus_exit(&bus);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_acpi_pm");
	TCase *tc = tcase_create("acpi_pm");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, poweroff_s5);
	tcase_add_test(tc, port92_reset);
	tcase_add_test(tc, bad_accesses);
	tcase_add_test(tc, no_callbacks);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
