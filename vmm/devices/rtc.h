/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The MC146818 CMOS real-time clock at ports 0x70 (index; bit 7, NMI
 * disable, is ignored) and 0x71 (data).
 *
 * Guest time is host UTC plus an offset in whole seconds that the guest
 * sets by writing the time registers (under register B's SET bit, or while
 * running as QEMU allows). Registers read in BCD or binary and 12 or 24
 * hour format as register B says; byte 0x32 holds the century. Register A
 * shows UIP during the last 244 us before each second, register D always
 * reports valid RAM and time.
 *
 * Register C's flags (update-ended, alarm, periodic) follow guest time
 * whenever they are read, whatever register B enables; the interrupt line
 * is high while an enabled flag is set, until register C is read. A timer
 * on the loop raises it on time; it is armed only while an interrupt is
 * enabled and not already pending. Periodic interrupts come at most once
 * a millisecond (rates above 1024 Hz are slowed down).
 *
 * Bytes 0x0e..0x7f are the 114 bytes of battery-backed RAM; the BIOS's
 * memory size bytes (0x15-0x18, 0x30/0x31, 0x34/0x35, 0x5b-0x5d) are
 * filled by vmm_rtc_set_mem_size(). RAM and time survive vmm_rtc_reset().
 */
#ifndef VDI_VMM_DEVICES_RTC_H
#define VDI_VMM_DEVICES_RTC_H

#include <stdint.h>
#include <time.h>

#include "vmm/bus.h"
#include "vmm/irq.h"
#include "vmm/loop.h"

#define VMM_RTC_NVRAM_SIZE 128

struct vmm_rtc;

/*
 * An RTC on ports 0x70/0x71 of @bus interrupting on @irq, with its timer on
 * @loop (kept; NULL: no timer, interrupts are only noticed when the guest
 * touches the RTC). Returns 0 and the RTC in *@ret, -ENOMEM, or the error
 * of vmm_bus_register(). Before the guest runs.
 */
int vmm_rtc_new(struct vmm_bus *bus, struct vmm_loop *loop, struct vmm_irq_line irq,
                struct vmm_rtc **ret);

/*
 * The RESET pin: interrupt enables and flags cleared; time, format and RAM
 * kept. Any thread.
 */
void vmm_rtc_reset(struct vmm_rtc *r);

/*
 * Unregister and free; NULL is a no-op. The vCPUs and the loop must be
 * stopped (the loop thread could otherwise be running the timer).
 */
void vmm_rtc_free(struct vmm_rtc *r);

/*
 * For tests: read host UTC seconds from @now(@opaque) instead of the system
 * clock (UIP then never shows). NULL restores the system clock. Any thread.
 */
void vmm_rtc_set_clock(struct vmm_rtc *r, time_t (*now)(void *), void *opaque);

/*
 * Fill the CMOS memory size bytes as a PC BIOS does: base memory (640 KiB),
 * extended memory above 1 MiB in KiB and above 16 MiB in 64 KiB units (both
 * capped at 0xffff), memory above 4 GiB in 64 KiB units. Any thread.
 */
void vmm_rtc_set_mem_size(struct vmm_rtc *r, uint64_t ram_below_4g, uint64_t ram_above_4g);

#endif
