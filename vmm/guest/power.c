/* power.c - poweroff and reboot. */
#include "power.h"

#include "arch.h"
#include "i8042.h"
#include "serial.h"

#define PM1A_CNT 0x604
#define SLP_EN_S5 0x2000 /* SLP_EN with SLP_TYP 0, which both machines treat as S5 */
#define RESET_CONTROL 0xcf9
#define RESET_HARD 0x06
#define SETTLE_CYCLES 1000000000ull

/*
 * The monitor acts on the request asynchronously; give it a moment (about
 * a second or less, by the TSC, which costs no exits) before saying it failed.
 */
static void settle(void)
{
	uint32_t lo, hi;
	uint64_t start, now;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	start = ((uint64_t)hi << 32) | lo;
	do {
		__asm__ volatile("pause; rdtsc" : "=a"(lo), "=d"(hi));
		now = ((uint64_t)hi << 32) | lo;
	} while (now - start < SETTLE_CYCLES);
}

void power_off(void)
{
	irq_disable();
	outw(PM1A_CNT, SLP_EN_S5);
	settle();
	serial_log("power: poweroff did not take effect; halted");
	halt_forever();
}

void power_reboot(void)
{
	irq_disable();
	i8042_reset_cpu();
	settle();
	outb(RESET_CONTROL, RESET_HARD);
	settle();
	serial_log("power: reset did not take effect; halted");
	halt_forever();
}
