/* power.h - switching the machine off and resetting it. */
#ifndef GUEST_POWER_H
#define GUEST_POWER_H

/*
 * ACPI S5 through the PM1a control port (0x604, as on QEMU's PIIX4 and
 * vdi-vmm). Halts for good if the machine did not go off.
 */
__attribute__((noreturn)) void power_off(void);

/* Reset through the i8042, then port 0xcf9. Halts if neither worked. */
__attribute__((noreturn)) void power_reboot(void);

#endif
