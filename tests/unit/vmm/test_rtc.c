// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/devices/rtc.h"

#define GSI 8
/* 2024-02-29 13:45:56 UTC, a Thursday. */
#define T0 1709214356

#define SEC 0x00
#define SEC_ALARM 0x01
#define MIN 0x02
#define MIN_ALARM 0x03
#define HOUR 0x04
#define HOUR_ALARM 0x05
#define WDAY 0x06
#define MDAY 0x07
#define MON 0x08
#define YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define CENTURY 0x32

struct fixture {
	struct vmm_bus bus;
	struct vmm_irq_chip chip;
	struct vmm_loop *loop;
	struct vmm_rtc *r;
	time_t now;
	int level;
	int rises;
};

static void set_level(void *opaque, unsigned int gsi, int level)
{
	struct fixture *f = opaque;

	ck_assert_uint_eq(gsi, GSI);
	if (level && !__atomic_load_n(&f->level, __ATOMIC_SEQ_CST))
		__atomic_add_fetch(&f->rises, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&f->level, level, __ATOMIC_SEQ_CST);
}

static time_t fake_now(void *opaque)
{
	struct fixture *f = opaque;

	return __atomic_load_n(&f->now, __ATOMIC_SEQ_CST);
}

static void advance(struct fixture *f, time_t secs)
{
	__atomic_add_fetch(&f->now, secs, __ATOMIC_SEQ_CST);
}

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	vmm_bus_init(&f->bus, "t");
	f->chip = (struct vmm_irq_chip){ set_level, f };
	f->loop = vmm_loop_new();
	ck_assert_ptr_nonnull(f->loop);
	f->now = T0;
	ck_assert_int_eq(
	        vmm_rtc_new(&f->bus, f->loop, (struct vmm_irq_line){ &f->chip, GSI }, &f->r), 0);
	vmm_rtc_set_clock(f->r, fake_now, f);
	return f;
}

static void teardown(struct fixture *f)
{
	vmm_rtc_free(f->r);
	vmm_loop_free(f->loop);
	vmm_bus_exit(&f->bus);
	free(f);
}

static uint8_t cmos_read(struct fixture *f, uint8_t reg)
{
	uint8_t v = 0;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x70, &reg, 1, true), 0);
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x71, &v, 1, false), 0);
	return v;
}

static void cmos_write(struct fixture *f, uint8_t reg, uint8_t v)
{
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x70, &reg, 1, true), 0);
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x71, &v, 1, true), 0);
}

/* sec, min, hour, wday, mday, mon, year, century as the registers read. */
static void expect_time(struct fixture *f, const uint8_t want[8])
{
	static const uint8_t regs[8] = { SEC, MIN, HOUR, WDAY, MDAY, MON, YEAR, CENTURY };

	for (int i = 0; i < 8; i++)
		ck_assert_msg(cmos_read(f, regs[i]) == want[i],
		              "register 0x%02x: 0x%02x, want 0x%02x", regs[i],
		              cmos_read(f, regs[i]), want[i]);
}

START_TEST(read_time_bcd)
{
	struct fixture *f = setup();

	ck_assert_uint_eq(cmos_read(f, REG_A), 0x26);
	ck_assert_uint_eq(cmos_read(f, REG_B), 0x02);
	ck_assert_uint_eq(cmos_read(f, REG_D), 0x80);
	expect_time(f, (const uint8_t[]){ 0x56, 0x45, 0x13, 0x05, 0x29, 0x02, 0x24, 0x20 });
	advance(f, 5);
	ck_assert_uint_eq(cmos_read(f, SEC), 0x01);
	ck_assert_uint_eq(cmos_read(f, MIN), 0x46);
	teardown(f);
}
END_TEST

START_TEST(read_time_binary_12h)
{
	struct fixture *f = setup();

	cmos_write(f, REG_B, 0x06); /* binary, 24 h */
	expect_time(f, (const uint8_t[]){ 56, 45, 13, 5, 29, 2, 24, 20 });
	cmos_write(f, REG_B, 0x04); /* binary, 12 h: 1 PM */
	ck_assert_uint_eq(cmos_read(f, HOUR), 0x81);
	cmos_write(f, REG_B, 0x00); /* BCD, 12 h */
	ck_assert_uint_eq(cmos_read(f, HOUR), 0x81);
	advance(f, 11 * 3600); /* 00:45:56 next day: 12 AM */
	ck_assert_uint_eq(cmos_read(f, HOUR), 0x12);
	ck_assert_uint_eq(cmos_read(f, MDAY), 0x01);
	ck_assert_uint_eq(cmos_read(f, MON), 0x03);
	ck_assert_uint_eq(cmos_read(f, WDAY), 0x06);
	teardown(f);
}
END_TEST

START_TEST(guest_sets_time)
{
	struct fixture *f = setup();

	/* As Linux's rtc-cmos does it: SET, divider reset, the fields, then release. */
	cmos_write(f, REG_B, 0x82);
	cmos_write(f, REG_A, 0x70);
	cmos_write(f, SEC, 0x58);
	cmos_write(f, MIN, 0x59);
	cmos_write(f, HOUR, 0x23);
	cmos_write(f, MDAY, 0x31);
	cmos_write(f, MON, 0x12);
	cmos_write(f, YEAR, 0x99);
	cmos_write(f, CENTURY, 0x19);
	/* Stopped: the registers keep what was written. */
	advance(f, 100);
	ck_assert_uint_eq(cmos_read(f, SEC), 0x58);
	cmos_write(f, REG_B, 0x02);
	cmos_write(f, REG_A, 0x26);
	expect_time(f, (const uint8_t[]){ 0x58, 0x59, 0x23, 0x06, 0x31, 0x12, 0x99, 0x19 });
	/* Time goes on from there, into the next century. */
	advance(f, 3);
	expect_time(f, (const uint8_t[]){ 0x01, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
	/* While running, a write sets that field at once and the rest stays. */
	cmos_write(f, MIN, 0x30);
	advance(f, 1);
	expect_time(f, (const uint8_t[]){ 0x02, 0x30, 0x00, 0x07, 0x01, 0x01, 0x00, 0x20 });
	/* Nonsense (month 13) is not taken. */
	cmos_write(f, MON, 0x13);
	ck_assert_uint_eq(cmos_read(f, MON), 0x01);
	/* Binary mode works for setting too. */
	cmos_write(f, REG_B, 0x86);
	cmos_write(f, HOUR, 17);
	cmos_write(f, REG_B, 0x06);
	ck_assert_uint_eq(cmos_read(f, HOUR), 17);
	ck_assert_uint_eq(cmos_read(f, MIN), 30);
	teardown(f);
}
END_TEST

START_TEST(register_c_flags)
{
	struct fixture *f = setup();

	/* The periodic flag runs at the rate A selects (1024 Hz by default), enabled or not. */
	advance(f, 1);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0x50);
	cmos_write(f, REG_A, 0x20); /* rate 0: no periodic flag from here on */
	ck_assert_uint_eq(cmos_read(f, REG_C), 0);
	/* Flags rise whatever the enables; no interrupt without them. */
	advance(f, 1);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0x10);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0);
	ck_assert_int_eq(f->level, 0);
	/* Enabling UIE with UF pending interrupts at once. */
	advance(f, 1);
	cmos_write(f, REG_B, 0x12);
	ck_assert_int_eq(f->level, 1);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0x90);
	ck_assert_int_eq(f->level, 0);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0);
	/* SET drops UIE. */
	cmos_write(f, REG_B, 0x92);
	ck_assert_uint_eq(cmos_read(f, REG_B), 0x82);
	cmos_write(f, REG_B, 0x02);
	/* An alarm two seconds ahead (13:45:59 + 2 = 13:46:01), hours don't care. */
	cmos_write(f, SEC_ALARM, 0x01);
	cmos_write(f, MIN_ALARM, 0x46);
	cmos_write(f, HOUR_ALARM, 0xc0);
	cmos_write(f, REG_B, 0x22);
	cmos_read(f, REG_C);
	advance(f, 1);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0x10);
	ck_assert_int_eq(f->level, 0);
	advance(f, 1);
	ck_assert_int_eq(f->level, 0); /* noticed when read or when the timer runs */
	ck_assert_uint_eq(cmos_read(f, REG_C), 0xb0);
	/* An alarm passed while nobody looked is still reported. */
	advance(f, 3600);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0xb0);
	advance(f, 30);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0x10);
	/* Writing C and D does nothing. */
	cmos_write(f, REG_C, 0xff);
	cmos_write(f, REG_D, 0x00);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0);
	ck_assert_uint_eq(cmos_read(f, REG_D), 0x80);
	teardown(f);
}
END_TEST

struct loop_thread {
	pthread_t tid;
	struct vmm_loop *loop;
};

static void *run_loop(void *opaque)
{
	struct loop_thread *lt = opaque;

	vmm_loop_run(lt->loop);
	return NULL;
}

/* Wait for the line to reach @level, up to @ms milliseconds. */
static bool wait_level(struct fixture *f, int level, int ms)
{
	for (int i = 0; i < ms; i++) {
		if (__atomic_load_n(&f->level, __ATOMIC_SEQ_CST) == level)
			return true;
		usleep(1000);
	}
	return __atomic_load_n(&f->level, __ATOMIC_SEQ_CST) == level;
}

START_TEST(update_interrupt_from_timer)
{
	struct fixture *f = setup();
	struct loop_thread lt = { .loop = f->loop };

	ck_assert_int_eq(pthread_create(&lt.tid, NULL, run_loop, &lt), 0);
	cmos_write(f, REG_A, 0x20);
	cmos_write(f, REG_B, 0x12);
	cmos_read(f, REG_C);
	ck_assert_int_eq(f->level, 0);
	/* The next second: the loop's timer raises the line without the guest looking. */
	advance(f, 1);
	ck_assert(wait_level(f, 1, 3000));
	ck_assert_uint_eq(cmos_read(f, REG_C), 0x90);
	ck_assert_int_eq(f->level, 0);
	/* And again a second later. */
	advance(f, 1);
	ck_assert(wait_level(f, 1, 3000));
	ck_assert_int_eq(f->rises, 2);
	/* Interrupts off: the timer stops, the line stays low after C is read. */
	cmos_write(f, REG_B, 0x02);
	cmos_read(f, REG_C);
	advance(f, 1);
	ck_assert(!wait_level(f, 1, 1500));
	vmm_loop_quit(f->loop);
	pthread_join(lt.tid, NULL);
	teardown(f);
}
END_TEST

START_TEST(nvram_and_index)
{
	struct fixture *f = setup();
	uint8_t v = 0;

	for (unsigned int i = 0x0e; i < 0x80; i++)
		if (i != CENTURY)
			cmos_write(f, (uint8_t)i, (uint8_t)(i ^ 0xa5));
	for (unsigned int i = 0x0e; i < 0x80; i++)
		if (i != CENTURY)
			ck_assert_uint_eq(cmos_read(f, (uint8_t)i), i ^ 0xa5);
	/* Bit 7 of the index (NMI disable) selects nothing. */
	ck_assert_uint_eq(cmos_read(f, 0x80 | 0x40), 0x40 ^ 0xa5);
	ck_assert_uint_eq(cmos_read(f, 0x80 | REG_D), 0x80);
	/* The index port is write-only. */
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, 0x70, &v, 1, false), 0);
	ck_assert_uint_eq(v, 0xff);
	/* A's UIP bit is not writable; the divider and rate are. */
	cmos_write(f, REG_A, 0xa6);
	ck_assert_uint_eq(cmos_read(f, REG_A), 0x26);
	teardown(f);
}
END_TEST

START_TEST(memory_size)
{
	struct fixture *f = setup();

	vmm_rtc_set_mem_size(f->r, 3584ULL << 20, 2048ULL << 20);
	ck_assert_uint_eq(cmos_read(f, 0x15) | cmos_read(f, 0x16) << 8, 640);
	ck_assert_uint_eq(cmos_read(f, 0x17) | cmos_read(f, 0x18) << 8, 0xffff);
	ck_assert_uint_eq(cmos_read(f, 0x30) | cmos_read(f, 0x31) << 8, 0xffff);
	ck_assert_uint_eq(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8, (3584 - 16) * 16);
	ck_assert_uint_eq(cmos_read(f, 0x5b), 0x00);
	ck_assert_uint_eq(cmos_read(f, 0x5c), 0x80);
	ck_assert_uint_eq(cmos_read(f, 0x5d), 0x00);
	vmm_rtc_set_mem_size(f->r, 32 << 20, 0);
	ck_assert_uint_eq(cmos_read(f, 0x17) | cmos_read(f, 0x18) << 8, 31 * 1024);
	ck_assert_uint_eq(cmos_read(f, 0x34) | cmos_read(f, 0x35) << 8, 16 * 16);
	ck_assert_uint_eq(cmos_read(f, 0x5b), 0);
	teardown(f);
}
END_TEST

START_TEST(reset_keeps_time_and_ram)
{
	struct fixture *f = setup();

	cmos_write(f, 0x40, 0x77);
	cmos_write(f, REG_B, 0x86);
	cmos_write(f, MIN, 7);
	cmos_write(f, REG_B, 0x76); /* every interrupt on, binary */
	advance(f, 1);
	cmos_read(f, REG_B);
	cmos_write(f, REG_B, 0x76);
	ck_assert_int_eq(f->level, 1);
	vmm_rtc_reset(f->r);
	ck_assert_int_eq(f->level, 0);
	ck_assert_uint_eq(cmos_read(f, REG_B), 0x06);
	ck_assert_uint_eq(cmos_read(f, REG_C), 0);
	ck_assert_uint_eq(cmos_read(f, MIN), 7);
	ck_assert_uint_eq(cmos_read(f, 0x40), 0x77);
	teardown(f);
}
END_TEST

START_TEST(system_clock_and_bad_accesses)
{
	struct vmm_bus bus;
	struct vmm_rtc *r, *r2;
	uint16_t w = 0;
	uint8_t reg = YEAR, v = 0;

	vmm_bus_init(&bus, "t");
	/* No loop, the real clock: the year reads as something this century. */
	ck_assert_int_eq(vmm_rtc_new(&bus, NULL, (struct vmm_irq_line){ NULL, 0 }, &r), 0);
	vmm_bus_access(&bus, VMM_BUS_PIO, 0x70, &reg, 1, true);
	vmm_bus_access(&bus, VMM_BUS_PIO, 0x71, &v, 1, false);
	ck_assert_uint_ge(v, 0x24);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x70, &w, 2, true), 0);
	ck_assert_int_eq(vmm_rtc_new(&bus, NULL, (struct vmm_irq_line){ NULL, 0 }, &r2), -EEXIST);
	vmm_rtc_free(r);
	vmm_rtc_free(NULL);
	vmm_bus_exit(&bus);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_rtc");
	TCase *tc = tcase_create("rtc");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, read_time_bcd);
	tcase_add_test(tc, read_time_binary_12h);
	tcase_add_test(tc, guest_sets_time);
	tcase_add_test(tc, register_c_flags);
	tcase_add_test(tc, update_interrupt_from_timer);
	tcase_add_test(tc, nvram_and_index);
	tcase_add_test(tc, memory_size);
	tcase_add_test(tc, reset_keeps_time_and_ram);
	tcase_add_test(tc, system_clock_and_bad_accesses);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
