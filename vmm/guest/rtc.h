/* rtc.h - MC146818 CMOS clock (ports 0x70/0x71): time of day and a 1 Hz tick. */
#ifndef GUEST_RTC_H
#define GUEST_RTC_H

#include <stdbool.h>

struct rtc_time {
	int year, mon, day;
	int hour, min, sec;
};

/* Turn on the update-ended interrupt: one IRQ 8 per second. */
void rtc_init(void);

/* Read the date and time, consistent across an update, in 24-hour binary form. */
void rtc_read(struct rtc_time *t);

/* Returns and clears the number of ticks since the last call. */
unsigned rtc_take_ticks(void);

/* True when a tick is waiting. */
bool rtc_pending(void);

#endif
