/* serial.c - 8250 UART output and interrupt-driven input. */
#include "serial.h"

#include "arch.h"
#include "irq.h"
#include "lib.h"

#define COM1 0x3f8
#define COM1_IRQ 4
#define UART_DATA 0
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define LCR_DLAB 0x80
#define LCR_8N1 0x03
#define MCR_DTR_RTS_OUT2 0x0b /* OUT2 gates the UART's IRQ line on PCs */
#define IER_RX 0x01
#define TX_SPINS 100000

static bool present;
static bool line_start = true;

/* The terminal's unfinished line, replayed after a log line. */
static char partial[160];
static size_t partial_len;
static bool partial_lost;
static bool replay; /* a log line interrupted the partial line */

static char rx_ring[256];
static volatile uint8_t rx_head, rx_tail;

static void tx(char c)
{
	unsigned spins;

	if (!present)
		return;
	/* Bounded: a wedged UART must not hang the guest. */
	for (spins = 0; spins < TX_SPINS; spins++)
		if (inb(COM1 + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(COM1 + UART_DATA, (uint8_t)c);
}

static void tx_char(char c)
{
	if (c == '\n')
		tx('\r');
	tx(c);
	line_start = c == '\n';
}

void serial_init(void)
{
	/*
	 * An undecoded port reads all ones. The scratch register test is not
	 * used: a minimal 8250 model may not have one.
	 */
	if (inb(COM1 + UART_LSR) == 0xff)
		return;
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_DLAB);
	outb(COM1 + UART_DATA, 1); /* divisor 1: 115200 baud */
	outb(COM1 + UART_IER, 0);
	outb(COM1 + UART_LCR, LCR_8N1);
	outb(COM1 + UART_FCR, 0xc7); /* enable and clear FIFOs, 14-byte trigger */
	outb(COM1 + UART_MCR, MCR_DTR_RTS_OUT2);
	present = true;
}

static void serial_irq(void *arg)
{
	unsigned n;

	(void)arg;
	for (n = 0; n < 64 && (inb(COM1 + UART_LSR) & LSR_DATA_READY); n++) {
		uint8_t c = inb(COM1 + UART_DATA);

		/* On overflow the newest bytes are dropped. */
		if ((uint8_t)(rx_head + 1) != rx_tail) {
			rx_ring[rx_head] = (char)c;
			rx_head++;
		}
	}
}

void serial_enable_rx(void)
{
	if (!present)
		return;
	while (inb(COM1 + UART_LSR) & LSR_DATA_READY)
		inb(COM1 + UART_DATA);
	if (irq_register(COM1_IRQ, false, serial_irq, NULL) == 0)
		outb(COM1 + UART_IER, IER_RX);
}

void serial_term_write(const char *s, size_t n)
{
	size_t i;

	/*
	 * The interrupted line is repeated only when the terminal goes on with
	 * it, so log lines in a row are not separated by stray prompts.
	 */
	if (replay && n) {
		replay = false;
		if (!partial_lost)
			for (i = 0; i < partial_len; i++)
				tx_char(partial[i]);
	}
	for (; n; n--, s++) {
		char c = *s;

		tx_char(c);
		if (c == '\n') {
			partial_len = 0;
			partial_lost = false;
		} else if (c == '\b') {
			if (partial_len)
				partial_len--;
		} else if (partial_len < sizeof(partial)) {
			partial[partial_len++] = c;
		} else {
			partial_lost = true;
		}
	}
}

void serial_log(const char *fmt, ...)
{
	char buf[192];
	va_list ap;
	size_t i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (!line_start)
		tx_char('\n');
	for (i = 0; buf[i]; i++)
		tx_char(buf[i]);
	tx_char('\n');
	if (partial_len)
		replay = true;
}

int serial_getc(void)
{
	char c;

	if (rx_tail == rx_head)
		return -1;
	c = rx_ring[rx_tail];
	barrier();
	rx_tail++;
	return (unsigned char)c;
}

bool serial_pending(void)
{
	return rx_tail != rx_head;
}
