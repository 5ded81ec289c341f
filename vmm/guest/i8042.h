/* i8042.h - PS/2 keyboard on the i8042 controller (ports 0x60/0x64, IRQ 1). */
#ifndef GUEST_I8042_H
#define GUEST_I8042_H

#include <stdbool.h>

/*
 * Program the controller (keyboard IRQ on, translation to scan code set 1,
 * aux port off) and take IRQ 1. Returns 0 or -ENODEV.
 */
int i8042_init(void);

/* Decode received scan codes into input_key() calls. Main loop only. */
void i8042_poll(void);

/* True when scan codes are waiting. */
bool i8042_pending(void);

/* Pulse the CPU reset line (command 0xfe). Returns if nothing happened. */
void i8042_reset_cpu(void);

#endif
