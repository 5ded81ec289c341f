// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/devices/uart.h"

#define COM1 0x3f8
#define GSI 4

#define THR 0
#define RBR 0
#define DLL 0
#define IER 1
#define DLM 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

struct fixture {
	struct vmm_bus bus;
	struct vmm_irq_chip chip;
	struct vmm_uart *u;
	int level;
	int rises;
	uint8_t tx[8192];
	size_t tx_len;
	int tx_calls;
};

static void set_level(void *opaque, unsigned int gsi, int level)
{
	struct fixture *f = opaque;

	ck_assert_uint_eq(gsi, GSI);
	if (level && !f->level)
		f->rises++;
	f->level = level;
}

static void tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct fixture *f = opaque;

	ck_assert_uint_le(f->tx_len + len, sizeof(f->tx));
	memcpy(f->tx + f->tx_len, buf, len);
	f->tx_len += len;
	f->tx_calls++;
}

static struct fixture *setup(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	ck_assert_ptr_nonnull(f);
	vmm_bus_init(&f->bus, "t");
	f->chip = (struct vmm_irq_chip){ set_level, f };
	ck_assert_int_eq(
	        vmm_uart_new(&f->bus, COM1, (struct vmm_irq_line){ &f->chip, GSI }, tx, f, &f->u),
	        0);
	return f;
}

static void teardown(struct fixture *f)
{
	vmm_uart_free(f->u);
	vmm_bus_exit(&f->bus);
	free(f);
}

static uint8_t in(struct fixture *f, unsigned int reg)
{
	uint8_t v = 0;

	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, COM1 + reg, &v, 1, false), 0);
	return v;
}

static void out(struct fixture *f, unsigned int reg, uint8_t v)
{
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, COM1 + reg, &v, 1, true), 0);
}

/* What the reference guest and Linux do: 8N1, FIFOs on with trigger @fcr, OUT2. */
static void init_port(struct fixture *f, uint8_t fcr)
{
	out(f, IER, 0);
	out(f, LCR, 0x80);
	out(f, DLL, 1);
	out(f, DLM, 0);
	out(f, LCR, 0x03);
	out(f, FCR, fcr);
	out(f, MCR, 0x0b);
}

START_TEST(transmit)
{
	struct fixture *f = setup();

	init_port(f, 0xc7);
	ck_assert_uint_eq(in(f, LSR), 0x60);
	out(f, THR, 'h');
	out(f, THR, 'i');
	ck_assert_uint_eq(f->tx_len, 2);
	ck_assert_int_eq(memcmp(f->tx, "hi", 2), 0);
	/* Nothing is held back: one call per byte. */
	ck_assert_int_eq(f->tx_calls, 2);
	ck_assert_uint_eq(in(f, LSR) & 0x60, 0x60);
	/* Without a callback output is dropped; no crash. */
	ck_assert_int_eq(f->level, 0);
	teardown(f);
}
END_TEST

START_TEST(receive_fifo_and_interrupt)
{
	struct fixture *f = setup();

	init_port(f, 0xc7); /* trigger level 14 */
	ck_assert_uint_eq(in(f, IIR), 0xc1);
	out(f, IER, 0x01);
	ck_assert_int_eq(f->level, 0);
	ck_assert_uint_eq(vmm_uart_receive(f->u, (const uint8_t *)"hello", 5), 5);
	ck_assert_int_eq(f->level, 1);
	ck_assert_uint_eq(in(f, LSR), 0x61);
	/* Below the trigger level: a character timeout, with the FIFO bits set. */
	ck_assert_uint_eq(in(f, IIR), 0xcc);
	for (const char *p = "hello"; *p; p++)
		ck_assert_uint_eq(in(f, RBR), (uint8_t)*p);
	ck_assert_uint_eq(in(f, LSR), 0x60);
	ck_assert_uint_eq(in(f, IIR), 0xc1);
	ck_assert_int_eq(f->level, 0);

	/* 20 bytes: the FIFO fills (at or above the trigger: RDA), the rest waits behind it. */
	ck_assert_uint_eq(vmm_uart_receive(f->u, (const uint8_t *)"abcdefghijklmnopqrst", 20), 20);
	ck_assert_uint_eq(in(f, IIR), 0xc4);
	for (const char *p = "abcdefghijklmnopqrst"; *p; p++) {
		ck_assert_uint_eq(in(f, LSR) & 0x01, 0x01);
		ck_assert_uint_eq(in(f, RBR), (uint8_t)*p);
	}
	ck_assert_uint_eq(in(f, LSR) & 0x01, 0);
	ck_assert_int_eq(f->level, 0);

	/* Trigger level 1: one byte is enough for RDA. */
	out(f, FCR, 0x01);
	vmm_uart_receive(f->u, (const uint8_t *)"x", 1);
	ck_assert_uint_eq(in(f, IIR), 0xc4);
	/* Clearing the RX FIFO drops what it holds. */
	out(f, FCR, 0x03);
	ck_assert_uint_eq(in(f, LSR) & 0x01, 0);
	ck_assert_uint_eq(in(f, IIR), 0xc1);
	teardown(f);
}
END_TEST

START_TEST(no_fifo_mode)
{
	struct fixture *f = setup();

	init_port(f, 0x00);
	out(f, IER, 0x01);
	ck_assert_uint_eq(in(f, IIR), 0x01);
	ck_assert_uint_eq(vmm_uart_receive(f->u, (const uint8_t *)"ab", 2), 2);
	/* One holding register: RDA, no FIFO bits, no timeout indication. */
	ck_assert_uint_eq(in(f, IIR), 0x04);
	ck_assert_uint_eq(in(f, RBR), 'a');
	ck_assert_uint_eq(in(f, IIR), 0x04);
	ck_assert_uint_eq(in(f, RBR), 'b');
	ck_assert_uint_eq(in(f, IIR), 0x01);
	/* An empty RBR reads the last byte again. */
	ck_assert_uint_eq(in(f, RBR), 'b');
	teardown(f);
}
END_TEST

START_TEST(thre_interrupt)
{
	struct fixture *f = setup();

	init_port(f, 0xc7);
	/* Enabling THRI with THR empty interrupts at once (Linux's THRE test relies on it). */
	out(f, IER, 0x02);
	ck_assert_int_eq(f->level, 1);
	ck_assert_uint_eq(in(f, IIR), 0xc2);
	/* Reading IIR acknowledged it. */
	ck_assert_uint_eq(in(f, IIR), 0xc1);
	ck_assert_int_eq(f->level, 0);
	out(f, IER, 0x00);
	out(f, IER, 0x02);
	ck_assert_uint_eq(in(f, IIR), 0xc2);
	/* Each byte sent makes THR empty again. */
	out(f, THR, 'x');
	ck_assert_int_eq(f->level, 1);
	ck_assert_uint_eq(in(f, IIR), 0xc2);
	ck_assert_int_eq(f->level, 0);
	out(f, IER, 0x00);
	ck_assert_int_eq(f->level, 0);
	teardown(f);
}
END_TEST

START_TEST(iir_priority)
{
	struct fixture *f = setup();

	init_port(f, 0xc1); /* trigger 14 */
	/* Loopback, then overrun the FIFO: line status beats data beats THRE. */
	out(f, MCR, 0x10);
	for (int i = 0; i < VMM_UART_FIFO + 1; i++)
		out(f, THR, (uint8_t)('A' + i));
	ck_assert_uint_eq(f->tx_len, 0);
	in(f, MSR); /* drop modem status deltas from entering loopback */
	out(f, IER, 0x0f);
	ck_assert_uint_eq(in(f, IIR), 0xc6);
	ck_assert_int_eq(f->level, 1);
	/* LSR shows and clears the overrun. */
	ck_assert_uint_eq(in(f, LSR), 0x63);
	ck_assert_uint_eq(in(f, LSR), 0x61);
	ck_assert_uint_eq(in(f, IIR), 0xc4);
	for (int i = 0; i < VMM_UART_FIFO; i++)
		ck_assert_uint_eq(in(f, RBR), (uint8_t)('A' + i));
	ck_assert_uint_eq(in(f, IIR), 0xc2);
	ck_assert_uint_eq(in(f, IIR), 0xc1);
	/* Modem status comes last: change an input through loopback. */
	out(f, MCR, 0x12);
	ck_assert_uint_eq(in(f, IIR), 0xc0);
	ck_assert_uint_eq(in(f, MSR), 0x11); /* CTS, delta CTS */
	ck_assert_uint_eq(in(f, IIR), 0xc1);
	ck_assert_int_eq(f->level, 0);
	teardown(f);
}
END_TEST

START_TEST(dlab_and_scratch)
{
	struct fixture *f = setup();

	out(f, LCR, 0x83);
	out(f, DLL, 0x34);
	out(f, DLM, 0x12);
	ck_assert_uint_eq(in(f, DLL), 0x34);
	ck_assert_uint_eq(in(f, DLM), 0x12);
	/* Divisor writes are not data. */
	ck_assert_uint_eq(f->tx_len, 0);
	out(f, LCR, 0x03);
	ck_assert_uint_eq(in(f, LCR), 0x03);
	ck_assert_uint_eq(in(f, IER), 0x00);
	out(f, IER, 0xff);
	ck_assert_uint_eq(in(f, IER), 0x0f); /* only four enable bits exist */
	out(f, IER, 0);
	out(f, LCR, 0x83);
	ck_assert_uint_eq(in(f, DLL), 0x34);
	out(f, LCR, 0x03);
	out(f, SCR, 0x5a);
	ck_assert_uint_eq(in(f, SCR), 0x5a);
	out(f, SCR, 0xa5);
	ck_assert_uint_eq(in(f, SCR), 0xa5);
	/* LSR and MSR writes are ignored. */
	out(f, LSR, 0x00);
	ck_assert_uint_eq(in(f, LSR), 0x60);
	teardown(f);
}
END_TEST

START_TEST(loopback)
{
	struct fixture *f = setup();

	init_port(f, 0xc7);
	/* A connected modem outside loopback. */
	ck_assert_uint_eq(in(f, MSR) & 0xf0, 0xb0);
	/* Linux's probe: loopback with RTS and OUT2 reads back CTS and DCD. */
	out(f, MCR, 0x10 | 0x0a);
	ck_assert_uint_eq(in(f, MSR) & 0xf0, 0x90);
	out(f, MCR, 0x1f);
	ck_assert_uint_eq(in(f, MSR) & 0xf0, 0xf0);
	/* RI going away is the trailing edge TERI reports. */
	out(f, MCR, 0x1b);
	ck_assert_uint_eq(in(f, MSR), 0xb4);
	ck_assert_uint_eq(in(f, MSR), 0xb0);
	/* Transmitted bytes come back instead of leaving. */
	out(f, THR, 'Q');
	ck_assert_uint_eq(f->tx_len, 0);
	ck_assert_uint_eq(in(f, LSR) & 0x01, 0x01);
	ck_assert_uint_eq(in(f, RBR), 'Q');
	/* The host's bytes wait until loopback ends. */
	ck_assert_uint_eq(vmm_uart_receive(f->u, (const uint8_t *)"z", 1), 1);
	ck_assert_uint_eq(in(f, LSR) & 0x01, 0);
	out(f, MCR, 0x0b);
	ck_assert_uint_eq(in(f, LSR) & 0x01, 0x01);
	ck_assert_uint_eq(in(f, RBR), 'z');
	teardown(f);
}
END_TEST

START_TEST(linux_autoconfig)
{
	struct fixture *f = setup();
	uint8_t iir;

	/* The IER probe. */
	out(f, IER, 0);
	ck_assert_uint_eq(in(f, IER) & 0x0f, 0);
	out(f, IER, 0x0f);
	ck_assert_uint_eq(in(f, IER) & 0x0f, 0x0f);
	out(f, IER, 0);
	/* EFR probe with LCR 0xbf: offset 2 reads IIR, never 0 on a 16550A. */
	out(f, LCR, 0xbf);
	out(f, FCR, 0);
	ck_assert_uint_ne(in(f, IIR), 0);
	out(f, LCR, 0);
	out(f, FCR, 0x01);
	iir = in(f, IIR);
	ck_assert_uint_eq(iir >> 6, 3); /* a 16550A */
	/* No 64-byte FIFO (16750) and no sleep bit (UUE) here. */
	out(f, FCR, 0x21);
	ck_assert_uint_eq(in(f, IIR) & 0x20, 0);
	out(f, IER, 0x40);
	ck_assert_uint_eq(in(f, IER), 0);
	teardown(f);
}
END_TEST

START_TEST(overflow_refused)
{
	struct fixture *f = setup();
	static uint8_t big[VMM_UART_RX_BUFFER + 100];
	size_t n;

	init_port(f, 0xc7);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)i;
	n = vmm_uart_receive(f->u, big, sizeof(big));
	ck_assert_uint_eq(n, VMM_UART_RX_BUFFER + VMM_UART_FIFO);
	ck_assert(!vmm_uart_can_receive(f->u));
	ck_assert_uint_eq(vmm_uart_receive(f->u, big + n, sizeof(big) - n), 0);
	/* The guest reads one byte: room for one more, nothing lost or reordered. */
	ck_assert_uint_eq(in(f, RBR), 0);
	ck_assert(vmm_uart_can_receive(f->u));
	ck_assert_uint_eq(vmm_uart_receive(f->u, big + n, sizeof(big) - n), 1);
	for (size_t i = 1; i <= n; i++)
		ck_assert_uint_eq(in(f, RBR), (uint8_t)i);
	ck_assert_uint_eq(in(f, LSR) & 0x03, 0); /* no data, no overrun */
	teardown(f);
}
END_TEST

START_TEST(reset_and_bad_accesses)
{
	struct fixture *f = setup();
	uint32_t v = 0;
	uint16_t w = 0;

	init_port(f, 0xc7);
	out(f, IER, 0x03);
	vmm_uart_receive(f->u, (const uint8_t *)"abc", 3);
	ck_assert_int_eq(f->level, 1);
	vmm_uart_reset(f->u);
	ck_assert_int_eq(f->level, 0);
	ck_assert_uint_eq(in(f, IIR), 0x01);
	ck_assert_uint_eq(in(f, LSR), 0x60);
	ck_assert_uint_eq(in(f, IER), 0);
	ck_assert_uint_eq(in(f, LCR), 0);
	ck_assert(vmm_uart_can_receive(f->u));
	/* A wide access past the last register is not ours; a 16-bit one inside is two bytes. */
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, COM1 + 6, &v, 4, false), -ENOENT);
	w = 0x5a00;
	ck_assert_int_eq(vmm_bus_access(&f->bus, VMM_BUS_PIO, COM1 + 6, &w, 2, true), 0);
	ck_assert_uint_eq(in(f, SCR), 0x5a);
	/* The ports are taken. */
	{
		struct vmm_uart *u2;

		ck_assert_int_eq(vmm_uart_new(&f->bus, COM1, (struct vmm_irq_line){ NULL, 0 }, NULL,
		                              NULL, &u2),
		                 -EEXIST);
	}
	teardown(f);
}
END_TEST

START_TEST(no_tx_callback)
{
	struct vmm_bus bus;
	struct vmm_uart *u;
	uint8_t b = 'x';

	vmm_bus_init(&bus, "t");
	ck_assert_int_eq(
	        vmm_uart_new(&bus, 0x2f8, (struct vmm_irq_line){ NULL, 0 }, NULL, NULL, &u), 0);
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x2f8, &b, 1, true), 0);
	vmm_uart_free(u);
	/* Gone from the bus. */
	ck_assert_int_eq(vmm_bus_access(&bus, VMM_BUS_PIO, 0x2f8 + 5, &b, 1, false), -ENOENT);
	vmm_uart_free(NULL);
	vmm_bus_exit(&bus);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("vmm_uart");
	TCase *tc = tcase_create("uart");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, transmit);
	tcase_add_test(tc, receive_fifo_and_interrupt);
	tcase_add_test(tc, no_fifo_mode);
	tcase_add_test(tc, thre_interrupt);
	tcase_add_test(tc, iir_priority);
	tcase_add_test(tc, dlab_and_scratch);
	tcase_add_test(tc, loopback);
	tcase_add_test(tc, linux_autoconfig);
	tcase_add_test(tc, overflow_refused);
	tcase_add_test(tc, reset_and_bad_accesses);
	tcase_add_test(tc, no_tx_callback);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
