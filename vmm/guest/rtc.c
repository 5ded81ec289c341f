/* rtc.c - CMOS RTC reading and the update-ended interrupt. */
#include "rtc.h"

#include "arch.h"
#include "irq.h"
#include "lib.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_IRQ 8

#define REG_SEC 0x00
#define REG_MIN 0x02
#define REG_HOUR 0x04
#define REG_DAY 0x07
#define REG_MON 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define B_24H 0x02
#define B_BINARY 0x04
#define B_UIE 0x10
#define B_AIE 0x20
#define B_PIE 0x40
#define C_UF 0x10
#define HOUR_PM 0x80

static volatile unsigned ticks;

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);
	return inb(CMOS_DATA);
}

static void cmos_write(uint8_t reg, uint8_t v)
{
	outb(CMOS_INDEX, reg);
	outb(CMOS_DATA, v);
}

static void rtc_irq(void *arg)
{
	(void)arg;
	/* Reading C acknowledges; until then the RTC raises no new interrupt. */
	if (cmos_read(REG_C) & C_UF)
		ticks++;
}

void rtc_init(void)
{
	uint8_t b = cmos_read(REG_B);

	b |= B_UIE;
	b &= (uint8_t) ~(B_AIE | B_PIE);
	cmos_write(REG_B, b);
	cmos_read(REG_C);
	irq_register(RTC_IRQ, false, rtc_irq, NULL);
}

static void read_raw(uint8_t r[7])
{
	unsigned spins;

	/* During an update (UIP) the registers may be half written. */
	for (spins = 0; spins < 100000 && (cmos_read(REG_A) & A_UIP); spins++)
		;
	r[0] = cmos_read(REG_SEC);
	r[1] = cmos_read(REG_MIN);
	r[2] = cmos_read(REG_HOUR);
	r[3] = cmos_read(REG_DAY);
	r[4] = cmos_read(REG_MON);
	r[5] = cmos_read(REG_YEAR);
	r[6] = cmos_read(REG_CENTURY);
}

static int bcd(uint8_t v)
{
	return (v >> 4) * 10 + (v & 0xf);
}

void rtc_read(struct rtc_time *t)
{
	uint8_t a[7], b[7], regb;
	int i, century;
	bool pm;

	/* Two equal reads in a row cannot straddle an update. */
	read_raw(a);
	for (i = 0; i < 5; i++) {
		read_raw(b);
		if (memcmp(a, b, sizeof(a)) == 0)
			break;
		memcpy(a, b, sizeof(a));
	}
	regb = cmos_read(REG_B);
	pm = a[2] & HOUR_PM;
	a[2] &= (uint8_t)~HOUR_PM;
	if (!(regb & B_BINARY))
		for (i = 0; i < 7; i++)
			a[i] = (uint8_t)bcd(a[i]);
	if (!(regb & B_24H))
		a[2] = (uint8_t)(a[2] % 12 + (pm ? 12 : 0));
	/* Not every RTC model keeps a century; assume this one when it looks wrong. */
	century = a[6] >= 19 && a[6] <= 30 ? a[6] : 20;
	t->sec = a[0];
	t->min = a[1];
	t->hour = a[2];
	t->day = a[3];
	t->mon = a[4];
	t->year = century * 100 + a[5];
}

unsigned rtc_take_ticks(void)
{
	unsigned n;

	irq_disable();
	n = ticks;
	ticks = 0;
	irq_enable();
	return n;
}

bool rtc_pending(void)
{
	return ticks != 0;
}
