// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "vmm/devices/pci.h"

struct fixture {
	struct vmm_bus bus;
	struct vmm_pci_bus pci;
	struct vmm_pci_dev dev;
	int bar_calls;
	uint64_t remapped_old, remapped_new;
	int resets;
};

static void bar_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct fixture *f = opaque;
	uint32_t v = 0xcafe0000u | (uint32_t)offset;

	f->bar_calls++;
	if (!is_write)
		memcpy(data, &v, size);
}

static void remap(void *opaque, uint64_t old_addr, uint64_t new_addr)
{
	struct fixture *f = opaque;

	f->remapped_old = old_addr;
	f->remapped_new = new_addr;
}

static void reset_request(void *opaque)
{
	struct fixture *f = opaque;

	f->resets++;
}

static void setup(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	vmm_bus_init(&f->bus, "t");
	ck_assert_int_eq(vmm_pci_bus_init(&f->pci, &f->bus, NULL), 0);
	f->pci.reset_request = reset_request;
	f->pci.reset_opaque = f;
	vmm_pci_dev_init(&f->dev, "dut", 0x1234, 0x1111, 0x030000, 2, 0x1af4, 0x1100);
	vmm_pci_dev_set_ram_bar(&f->dev, 0, 16 << 20, VMM_PCI_BAR_PREFETCH, remap, f);
	vmm_pci_dev_set_bar(&f->dev, 2, 4096, 0, bar_io, f);
	vmm_pci_dev_set_bar(&f->dev, 4, 1 << 14, VMM_PCI_BAR_MEM64, bar_io, f);
	ck_assert_int_eq(vmm_pci_bus_add(&f->pci, &f->dev, 10), 1);
}

static void teardown(struct fixture *f)
{
	vmm_pci_bus_exit(&f->pci);
	vmm_bus_exit(&f->bus);
}

/* Config read through ports 0xCF8/0xCFC, as a guest does it. */
static uint32_t conf1_read(struct fixture *f, unsigned int slot, unsigned int reg,
                           unsigned int size)
{
	uint32_t addr = 0x80000000u | slot << 11 | (reg & 0xfc), v = 0;

	vmm_bus_access(&f->bus, VMM_BUS_PIO, 0xcf8, &addr, 4, true);
	vmm_bus_access(&f->bus, VMM_BUS_PIO, 0xcfc + (reg & 3), &v, size, false);
	return v;
}

static void conf1_write(struct fixture *f, unsigned int slot, unsigned int reg, unsigned int size,
                        uint32_t v)
{
	uint32_t addr = 0x80000000u | slot << 11 | (reg & 0xfc);

	vmm_bus_access(&f->bus, VMM_BUS_PIO, 0xcf8, &addr, 4, true);
	vmm_bus_access(&f->bus, VMM_BUS_PIO, 0xcfc + (reg & 3), &v, size, true);
}

START_TEST(ids_and_empty_slots)
{
	struct fixture f;

	setup(&f);
	ck_assert_uint_eq(conf1_read(&f, 0, 0, 4), 0x12378086); /* host bridge */
	ck_assert_uint_eq(conf1_read(&f, 1, 0, 4), 0x11111234);
	ck_assert_uint_eq(conf1_read(&f, 1, 2, 2), 0x1111);
	ck_assert_uint_eq(conf1_read(&f, 1, 0x0b, 1), 0x03);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_INTERRUPT_LINE, 1), 10);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_INTERRUPT_PIN, 1), 1);
	ck_assert_uint_eq(conf1_read(&f, 7, 0, 4), 0xffffffff);
	ck_assert_uint_eq(conf1_read(&f, 7, 0, 2), 0xffff);
	teardown(&f);
}
END_TEST

START_TEST(bar_sizing)
{
	struct fixture f;

	setup(&f);
	conf1_write(&f, 1, PCI_BAR0, 4, 0xffffffff);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_BAR0, 4), 0xff000008);
	conf1_write(&f, 1, PCI_BAR0 + 8, 4, 0xffffffff);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_BAR0 + 8, 4), 0xfffff000);
	/* 64-bit BAR: low half reports size and type, high half all ones. */
	conf1_write(&f, 1, PCI_BAR0 + 16, 4, 0xffffffff);
	conf1_write(&f, 1, PCI_BAR0 + 20, 4, 0xffffffff);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_BAR0 + 16, 4), 0xffffc004);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_BAR0 + 20, 4), 0xffffffff);
	/* Unused BARs read 0 whatever is written. */
	conf1_write(&f, 1, PCI_BAR0 + 4, 4, 0xffffffff);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_BAR0 + 4, 4), 0);
	teardown(&f);
}
END_TEST

START_TEST(assign_then_guest_moves_bar)
{
	struct fixture f;
	uint32_t v;
	uint32_t bar2;

	setup(&f);
	ck_assert_int_eq(vmm_pci_bus_assign(&f.pci, 0xc0000000, 0xfec00000, 0xc000, 0x10000), 0);
	ck_assert_uint_eq(f.remapped_new, 0xc0000000); /* the largest BAR first */
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_COMMAND, 2) & 7, 7);
	bar2 = conf1_read(&f, 1, PCI_BAR0 + 8, 4);
	ck_assert_uint_eq(bar2 & 0xfff, 0);
	ck_assert_int_eq(vmm_bus_access(&f.bus, VMM_BUS_MMIO, bar2 + 8, &v, 4, false), 0);
	ck_assert_uint_eq(v, 0xcafe0008);

	/* Memory decoding off: the BAR disappears and the RAM BAR is unmapped. */
	conf1_write(&f, 1, PCI_COMMAND, 2, 0);
	ck_assert_int_eq(vmm_bus_access(&f.bus, VMM_BUS_MMIO, bar2 + 8, &v, 4, false), -ENOENT);
	ck_assert_uint_eq(f.remapped_new, 0);
	/* Move BAR2 and turn decoding back on. */
	conf1_write(&f, 1, PCI_BAR0 + 8, 4, 0xd0000000);
	conf1_write(&f, 1, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
	ck_assert_int_eq(vmm_bus_access(&f.bus, VMM_BUS_MMIO, 0xd0000010, &v, 4, false), 0);
	ck_assert_uint_eq(v, 0xcafe0010);
	ck_assert_int_eq(vmm_bus_access(&f.bus, VMM_BUS_MMIO, bar2 + 8, &v, 4, false), -ENOENT);
	ck_assert_uint_eq(f.remapped_new, 0xc0000000);
	/* A BAR the guest points over the IOAPIC is not decoded. */
	conf1_write(&f, 1, PCI_BAR0 + 8, 4, 0xfec00000);
	ck_assert_int_eq(vmm_bus_access(&f.bus, VMM_BUS_MMIO, 0xfec00000, &v, 4, false), -ENOENT);
	teardown(&f);
}
END_TEST

START_TEST(capabilities_and_masks)
{
	struct fixture f;
	uint8_t cap[8] = { 0x09, 0, 8, 1, 0xaa, 0xbb, 0xcc, 0xdd };
	uint8_t mask[8] = { 0, 0, 0, 0, 0xff, 0, 0, 0 };
	int off1, off2;

	setup(&f);
	off1 = vmm_pci_dev_add_cap(&f.dev, cap, sizeof(cap), mask);
	off2 = vmm_pci_dev_add_cap(&f.dev, cap, sizeof(cap), NULL);
	ck_assert_int_eq(off1, 0x40);
	ck_assert_int_eq(off2, 0x48);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST,
	                  PCI_STATUS_CAP_LIST);
	ck_assert_uint_eq(conf1_read(&f, 1, PCI_CAPABILITY_LIST, 1), 0x40);
	ck_assert_uint_eq(conf1_read(&f, 1, 0x41, 1), 0x48);
	ck_assert_uint_eq(conf1_read(&f, 1, 0x49, 1), 0);
	conf1_write(&f, 1, 0x44, 4, 0x11223344);
	ck_assert_uint_eq(conf1_read(&f, 1, 0x44, 4), 0xddccbb44);
	/* Read-only header fields stay put. */
	conf1_write(&f, 1, 0, 4, 0);
	ck_assert_uint_eq(conf1_read(&f, 1, 0, 4), 0x11111234);
	for (int i = 0; i < 64; i++)
		vmm_pci_dev_add_cap(&f.dev, cap, sizeof(cap), NULL);
	ck_assert_int_eq(vmm_pci_dev_add_cap(&f.dev, cap, sizeof(cap), NULL), -ENOSPC);
	teardown(&f);
}
END_TEST

START_TEST(disabled_or_other_bus_reads_absent)
{
	struct fixture f;
	uint32_t addr = 0x00000800u, v = 0; /* enable bit clear */

	setup(&f);
	vmm_bus_access(&f.bus, VMM_BUS_PIO, 0xcf8, &addr, 4, true);
	vmm_bus_access(&f.bus, VMM_BUS_PIO, 0xcfc, &v, 4, false);
	ck_assert_uint_eq(v, 0xffffffff);
	addr = 0x80010800u; /* bus 1 */
	vmm_bus_access(&f.bus, VMM_BUS_PIO, 0xcf8, &addr, 4, true);
	vmm_bus_access(&f.bus, VMM_BUS_PIO, 0xcfc, &v, 4, false);
	ck_assert_uint_eq(v, 0xffffffff);
	/* Reading the address register back. */
	vmm_bus_access(&f.bus, VMM_BUS_PIO, 0xcf8, &v, 4, false);
	ck_assert_uint_eq(v, 0x80010800u);
	teardown(&f);
}
END_TEST

START_TEST(reset_control_port)
{
	struct fixture f;
	uint8_t v = 0x02;

	setup(&f);
	vmm_bus_access(&f.bus, VMM_BUS_PIO, 0xcf9, &v, 1, true);
	ck_assert_int_eq(f.resets, 0);
	v = 0x06;
	vmm_bus_access(&f.bus, VMM_BUS_PIO, 0xcf9, &v, 1, true);
	ck_assert_int_eq(f.resets, 1);
	teardown(&f);
}
END_TEST

START_TEST(assign_runs_out_of_space)
{
	struct fixture f;

	setup(&f);
	ck_assert_int_eq(vmm_pci_bus_assign(&f.pci, 0xc0000000, 0xc0800000, 0xc000, 0x10000),
	                 -ENOSPC);
	teardown(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_pci");
	TCase *tc = tcase_create("pci");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, ids_and_empty_slots);
	tcase_add_test(tc, bar_sizing);
	tcase_add_test(tc, assign_then_guest_moves_bar);
	tcase_add_test(tc, capabilities_and_masks);
	tcase_add_test(tc, disabled_or_other_bus_reads_absent);
	tcase_add_test(tc, reset_control_port);
	tcase_add_test(tc, assign_runs_out_of_space);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
