// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devices/i8042.h"

#define DATA 0x60
#define STATUS 0x64
#define GSI_KBD 1
#define GSI_AUX 12

#define STS_OBF 0x01
#define STS_SYS 0x04
#define STS_CMD 0x08
#define STS_UNLOCKED 0x10
#define STS_AUXB 0x20

struct fixture {
	struct vmm_bus bus;
	struct vmm_irq_chip chip;
	struct vmm_i8042 *k;
	int level[16];
	int rises[16];
	int resets;
};

static void set_level(void *opaque, unsigned int gsi, int level)
{
	struct fixture *f = opaque;

	ck_assert(gsi == GSI_KBD || gsi == GSI_AUX);
	if (level && !f->level[gsi])
		f->rises[gsi]++;
	f->level[gsi] = level;
}

static void reset_request(void *opaque)
{
	struct fixture *f = opaque;

	f->resets++;
}

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	vmm_bus_init(&f->bus, "t");
	f->chip = (struct vmm_irq_chip){ set_level, f };
	ck_assert_int_eq(vmm_i8042_new(&f->bus, (struct vmm_irq_line){ &f->chip, GSI_KBD },
	                               (struct vmm_irq_line){ &f->chip, GSI_AUX }, reset_request, f,
	                               &f->k),
	                 0);
	return f;
}

static void teardown(struct fixture *f)
{
	vmm_i8042_free(f->k);
	vmm_bus_exit(&f->bus);
	free(f);
}

static uint8_t in(struct fixture *f, uint16_t port)
{
	uint8_t v = 0;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, port, &v, 1, false), 0);
	return v;
}

static void out(struct fixture *f, uint16_t port, uint8_t v)
{
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, port, &v, 1, true), 0);
}

/* The next byte of the output buffer: it must be there. */
static uint8_t next(struct fixture *f)
{
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, STS_OBF);
	return in(f, DATA);
}

static void expect(struct fixture *f, const uint8_t *bytes, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(next(f), bytes[i]);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, 0);
}

static uint8_t command(struct fixture *f, uint8_t cmd)
{
	out(f, STATUS, cmd);
	return next(f);
}

START_TEST(controller_basics)
{
	struct fixture *f = setup();

	/* Nothing to read, system flag set, keyboard not locked. */
	ck_assert_uint_eq(in(f, STATUS), STS_SYS | STS_UNLOCKED);
	ck_assert_uint_eq(command(f, 0xaa), 0x55);
	ck_assert_uint_eq(in(f, STATUS) & STS_CMD, STS_CMD);
	ck_assert_uint_eq(command(f, 0xab), 0x00);
	ck_assert_uint_eq(command(f, 0xa9), 0x00);
	ck_assert_uint_eq(command(f, 0x20), VMM_I8042_DEFAULT_CMD);
	/* Writing the command byte. */
	out(f, STATUS, 0x60);
	out(f, DATA, 0x47);
	ck_assert_uint_eq(in(f, STATUS) & STS_CMD, 0);
	ck_assert_uint_eq(command(f, 0x20), 0x47);
	/* Port enables are command byte bits. */
	out(f, STATUS, 0xa7);
	ck_assert_uint_eq(command(f, 0x20), 0x67);
	out(f, STATUS, 0xa8);
	out(f, STATUS, 0xad);
	ck_assert_uint_eq(command(f, 0x20), 0x57);
	out(f, STATUS, 0xae);
	ck_assert_uint_eq(command(f, 0x20), 0x47);
	/* Output port: reset line high, A20 on. */
	ck_assert_uint_eq(command(f, 0xd0) & 0x03, 0x03);
	/* Unknown commands are ignored; reading an empty buffer repeats the last byte. */
	out(f, STATUS, 0x99);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, 0);
	ck_assert_uint_eq(in(f, DATA), 0x03 | 0xcc);
	ck_assert_int_eq(f->resets, 0);
	teardown(f);
}
END_TEST

START_TEST(output_buffer_writes)
{
	struct fixture *f = setup();

	/* 0xd2: as if from the keyboard, on IRQ 1. */
	out(f, STATUS, 0xd2);
	out(f, DATA, 0x42);
	ck_assert_int_eq(f->level[GSI_KBD], 1);
	ck_assert_uint_eq(in(f, STATUS) & (STS_OBF | STS_AUXB), STS_OBF);
	ck_assert_uint_eq(in(f, DATA), 0x42);
	ck_assert_int_eq(f->level[GSI_KBD], 0);
	/* 0xd3: the aux loopback Linux probes with, on IRQ 12 once enabled. */
	out(f, STATUS, 0xd3);
	out(f, DATA, 0x5a);
	ck_assert_uint_eq(in(f, STATUS) & (STS_OBF | STS_AUXB), STS_OBF | STS_AUXB);
	ck_assert_int_eq(f->level[GSI_AUX], 0);
	ck_assert_uint_eq(in(f, DATA), 0x5a);
	out(f, STATUS, 0x60);
	out(f, DATA, 0x47); /* aux interrupt on */
	out(f, STATUS, 0xd3);
	out(f, DATA, 0xa5);
	ck_assert_int_eq(f->level[GSI_AUX], 1);
	ck_assert_int_eq(f->level[GSI_KBD], 0);
	ck_assert_uint_eq(in(f, DATA), 0xa5);
	ck_assert_int_eq(f->level[GSI_AUX], 0);
	teardown(f);
}
END_TEST

START_TEST(keyboard_commands)
{
	struct fixture *f = setup();
	static const uint8_t reset[] = { 0xfa, 0xaa };
	static const uint8_t id_xlated[] = { 0xfa, 0xab, 0x41 };
	static const uint8_t id_raw[] = { 0xfa, 0xab, 0x83 };
	static const uint8_t ack2[] = { 0xfa, 0xfa };
	static const uint8_t set_xlated[] = { 0xfa, 0xfa, 0x41 };
	static const uint8_t set_raw[] = { 0xfa, 0xfa, 0x02 };
	static const uint8_t echo[] = { 0xee };
	static const uint8_t ack[] = { 0xfa };
	static const uint8_t resend[] = { 0xfe };

	out(f, DATA, 0xff);
	expect(f, reset, sizeof(reset));
	out(f, DATA, 0xf2);
	expect(f, id_xlated, sizeof(id_xlated));
	out(f, DATA, 0xed);
	out(f, DATA, 0x07);
	expect(f, ack2, sizeof(ack2));
	out(f, DATA, 0xf3);
	out(f, DATA, 0x20);
	expect(f, ack2, sizeof(ack2));
	out(f, DATA, 0xf0);
	out(f, DATA, 0x00);
	expect(f, set_xlated, sizeof(set_xlated));
	out(f, DATA, 0xee);
	expect(f, echo, sizeof(echo));
	out(f, DATA, 0xf4);
	expect(f, ack, sizeof(ack));
	out(f, DATA, 0x12); /* not a command */
	expect(f, resend, sizeof(resend));
	out(f, DATA, 0xf0);
	out(f, DATA, 0x03); /* set 3 is not offered */
	expect(f, (const uint8_t[]){ 0xfa, 0xfe }, 2);
	/* Without translation the keyboard's own answers show. */
	out(f, STATUS, 0x60);
	out(f, DATA, 0x05);
	out(f, DATA, 0xf2);
	expect(f, id_raw, sizeof(id_raw));
	out(f, DATA, 0xf0);
	out(f, DATA, 0x00);
	expect(f, set_raw, sizeof(set_raw));
	teardown(f);
}
END_TEST

START_TEST(keys_one_byte_at_a_time)
{
	struct fixture *f = setup();

	vmm_i8042_key(f->k, 0x1e, true);   /* A */
	vmm_i8042_key(f->k, 0xe048, true); /* Up */
	vmm_i8042_key(f->k, 0xe048, false);
	vmm_i8042_key(f->k, 0x1e, false);
	/* One byte in the buffer, one interrupt edge for each. */
	ck_assert_int_eq(f->level[GSI_KBD], 1);
	ck_assert_int_eq(f->rises[GSI_KBD], 1);
	ck_assert_uint_eq(in(f, STATUS) & (STS_OBF | STS_AUXB), STS_OBF);
	ck_assert_uint_eq(in(f, DATA), 0x1e);
	ck_assert_int_eq(f->rises[GSI_KBD], 2);
	ck_assert_uint_eq(in(f, DATA), 0xe0);
	ck_assert_uint_eq(in(f, DATA), 0x48);
	ck_assert_uint_eq(in(f, DATA), 0xe0);
	ck_assert_uint_eq(in(f, DATA), 0xc8);
	ck_assert_int_eq(f->level[GSI_KBD], 1);
	ck_assert_uint_eq(in(f, DATA), 0x9e);
	ck_assert_int_eq(f->level[GSI_KBD], 0);
	ck_assert_int_eq(f->rises[GSI_KBD], 6);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, 0);
	/* Status reads do not consume. */
	vmm_i8042_key(f->k, 0x10, true);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, STS_OBF);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, STS_OBF);
	ck_assert_uint_eq(in(f, DATA), 0x10);
	/* Pause: its E1 sequence on press, nothing on release. */
	vmm_i8042_key(f->k, 0xe046, true);
	vmm_i8042_key(f->k, 0xe046, false);
	expect(f, (const uint8_t[]){ 0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5 }, 6);
	/* Not scan codes: ignored. */
	vmm_i8042_key(f->k, 0, true);
	vmm_i8042_key(f->k, 0x80, true);
	vmm_i8042_key(f->k, 0xe1ff, true);
	vmm_i8042_key(f->k, 0x123456, true);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, 0);
	teardown(f);
}
END_TEST

START_TEST(interrupt_enable_and_port_disable)
{
	struct fixture *f = setup();

	/* Keyboard interrupt off: data without IRQ. */
	out(f, STATUS, 0x60);
	out(f, DATA, 0x44);
	vmm_i8042_key(f->k, 0x02, true);
	ck_assert_int_eq(f->level[GSI_KBD], 0);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, STS_OBF);
	/* Enabling it with data waiting raises the line. */
	out(f, STATUS, 0x60);
	out(f, DATA, 0x45);
	ck_assert_int_eq(f->level[GSI_KBD], 1);
	ck_assert_uint_eq(in(f, DATA), 0x02);
	/* A disabled keyboard port holds keys back until enabled again. */
	out(f, STATUS, 0xad);
	vmm_i8042_key(f->k, 0x03, true);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, 0);
	ck_assert_uint_eq(command(f, 0x20), 0x55);
	out(f, STATUS, 0xae);
	ck_assert_uint_eq(next(f), 0x03);
	/* A keyboard that does not scan sends nothing. */
	out(f, DATA, 0xf5);
	ck_assert_uint_eq(next(f), 0xfa);
	vmm_i8042_key(f->k, 0x04, true);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, 0);
	out(f, DATA, 0xf4);
	ck_assert_uint_eq(next(f), 0xfa);
	vmm_i8042_key(f->k, 0x04, true);
	ck_assert_uint_eq(next(f), 0x04);
	teardown(f);
}
END_TEST

START_TEST(replies_between_keys)
{
	struct fixture *f = setup();

	vmm_i8042_key(f->k, 0xe046, true); /* Pause: six bytes */
	vmm_i8042_key(f->k, 0x1f, true);
	ck_assert_uint_eq(in(f, DATA), 0xe1);
	/* A command now: its ACK waits for the rest of the key, then jumps the queue. */
	out(f, DATA, 0xf4);
	expect(f, (const uint8_t[]){ 0x1d, 0x45, 0xe1, 0x9d, 0xc5, 0xfa, 0x1f }, 7);
	/* Controller replies come first of all. */
	vmm_i8042_key(f->k, 0x20, true);
	vmm_i8042_key(f->k, 0x21, true);
	out(f, STATUS, 0x20); /* 0x20 is already in the buffer */
	expect(f, (const uint8_t[]){ 0x20, VMM_I8042_DEFAULT_CMD, 0x21 }, 3);
	teardown(f);
}
END_TEST

START_TEST(set2_without_translation)
{
	struct fixture *f = setup();

	out(f, STATUS, 0x60);
	out(f, DATA, 0x05);
	vmm_i8042_key(f->k, 0x1e, true);
	vmm_i8042_key(f->k, 0x1e, false);
	vmm_i8042_key(f->k, 0xe048, false);
	vmm_i8042_key(f->k, 0x3b, true); /* F1 */
	expect(f, (const uint8_t[]){ 0x1c, 0xf0, 0x1c, 0xe0, 0xf0, 0x75, 0x05 }, 7);
	/* Set 1 selected on the keyboard: raw set 1 again. */
	out(f, DATA, 0xf0);
	out(f, DATA, 0x01);
	expect(f, (const uint8_t[]){ 0xfa, 0xfa }, 2);
	vmm_i8042_key(f->k, 0x1e, false);
	expect(f, (const uint8_t[]){ 0x9e }, 1);
	teardown(f);
}
END_TEST

START_TEST(reset_line)
{
	struct fixture *f = setup();

	out(f, STATUS, 0xfe);
	ck_assert_int_eq(f->resets, 1);
	out(f, STATUS, 0xff); /* pulses nothing */
	ck_assert_int_eq(f->resets, 1);
	out(f, STATUS, 0xf0); /* pulses bits 0..3 */
	ck_assert_int_eq(f->resets, 2);
	/* Output port with bit 0 set (A20 games) is harmless; cleared resets. */
	out(f, STATUS, 0xd1);
	out(f, DATA, 0xdf);
	ck_assert_int_eq(f->resets, 2);
	out(f, STATUS, 0xd1);
	out(f, DATA, 0xde);
	ck_assert_int_eq(f->resets, 3);
	teardown(f);
}
END_TEST

START_TEST(full_queue_drops_new_keys)
{
	struct fixture *f = setup();

	/*
	 * Two-byte keys until the queue is full: 128 fit (one byte waits in the
	 * output buffer), the 129th does not and is dropped whole; a one-byte
	 * key still fits the last slot.
	 */
	for (unsigned int i = 0; i < VMM_I8042_KEY_QUEUE / 2 + 1; i++)
		vmm_i8042_key(f->k, 0xe048, i % 2 == 0);
	vmm_i8042_key(f->k, 0x1e, true);
	for (unsigned int n = 0; n < VMM_I8042_KEY_QUEUE; n++)
		ck_assert_uint_eq(next(f), n % 2 ? ((n / 2) % 2 ? 0xc8 : 0x48) : 0xe0);
	expect(f, (const uint8_t[]){ 0x1e }, 1);
	/* Room again. */
	vmm_i8042_key(f->k, 0x1e, false);
	expect(f, (const uint8_t[]){ 0x9e }, 1);
	teardown(f);
}
END_TEST

START_TEST(aux_mouse)
{
	struct fixture *f = setup();

	out(f, STATUS, 0xa8);
	out(f, STATUS, 0xd4);
	out(f, DATA, 0xff);
	ck_assert_uint_eq(in(f, STATUS) & STS_AUXB, STS_AUXB);
	expect(f, (const uint8_t[]){ 0xfa, 0xaa, 0x00 }, 3);
	out(f, STATUS, 0xd4);
	out(f, DATA, 0xf2);
	expect(f, (const uint8_t[]){ 0xfa, 0x00 }, 2);
	out(f, STATUS, 0xd4);
	out(f, DATA, 0xf3);
	out(f, STATUS, 0xd4);
	out(f, DATA, 200);
	out(f, STATUS, 0xd4);
	out(f, DATA, 0xe9);
	expect(f, (const uint8_t[]){ 0xfa, 0xfa, 0xfa, 0x00, 0x02, 200 }, 6);
	out(f, STATUS, 0xd4);
	out(f, DATA, 0xf4);
	expect(f, (const uint8_t[]){ 0xfa }, 1);
	/* A disabled aux port holds mouse bytes. */
	out(f, STATUS, 0xa7);
	out(f, STATUS, 0xd4);
	out(f, DATA, 0xf2);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, 0);
	out(f, STATUS, 0xa8);
	expect(f, (const uint8_t[]){ 0xfa, 0x00 }, 2);
	teardown(f);
}
END_TEST

START_TEST(reset_and_free)
{
	struct fixture *f = setup();
	struct vmm_i8042 *k2;
	uint16_t w = 0;

	out(f, STATUS, 0x60);
	out(f, DATA, 0x00);
	vmm_i8042_key(f->k, 0x1e, true);
	out(f, DATA, 0xf5);
	vmm_i8042_reset(f->k);
	ck_assert_uint_eq(in(f, STATUS) & STS_OBF, 0);
	ck_assert_uint_eq(command(f, 0x20), VMM_I8042_DEFAULT_CMD);
	vmm_i8042_key(f->k, 0x1e, true);
	ck_assert_int_eq(f->level[GSI_KBD], 1);
	ck_assert_uint_eq(in(f, DATA), 0x1e);
	/* Only byte accesses. */
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, DATA, &w, 2, false), -ENOENT);
	ck_assert_int_eq(vmm_i8042_new(&f->bus, (struct vmm_irq_line){ NULL, 0 },
	                               (struct vmm_irq_line){ NULL, 0 }, NULL, NULL, &k2),
	                 -EEXIST);
	vmm_i8042_free(NULL);
	teardown(f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_i8042");
	TCase *tc = tcase_create("i8042");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, controller_basics);
	tcase_add_test(tc, output_buffer_writes);
	tcase_add_test(tc, keyboard_commands);
	tcase_add_test(tc, keys_one_byte_at_a_time);
	tcase_add_test(tc, interrupt_enable_and_port_disable);
	tcase_add_test(tc, replies_between_keys);
	tcase_add_test(tc, set2_without_translation);
	tcase_add_test(tc, reset_line);
	tcase_add_test(tc, full_queue_drops_new_keys);
	tcase_add_test(tc, aux_mouse);
	tcase_add_test(tc, reset_and_free);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
