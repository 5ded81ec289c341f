/*
 * serial.h - COM1 (8250/16550 at 0x3f8, IRQ 4), 115200 8N1.
 *
 * Two kinds of output share the port: the terminal's character stream,
 * which may leave a line unfinished (a prompt), and log lines for people
 * and tests ("display: mode 1024x768"). A log line always starts on a
 * fresh line; the interrupted terminal line is repeated when the terminal
 * continues it, so the transcript stays readable and every log line can be
 * matched from its start.
 */
#ifndef GUEST_SERIAL_H
#define GUEST_SERIAL_H

#include <stdbool.h>
#include <stddef.h>

/* Program the UART; output is dropped when there is none. */
void serial_init(void);

/* Take received bytes on IRQ 4 from now on. Needs irq_init() first. */
void serial_enable_rx(void);

/* Terminal output: '\n' goes out as "\r\n". */
void serial_term_write(const char *s, size_t n);

/* One log line, without the trailing newline. Safe in exception context. */
void serial_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Next received byte, or -1 when none is waiting. Main loop only. */
int serial_getc(void);

/* True when received bytes are waiting. */
bool serial_pending(void);

#endif
