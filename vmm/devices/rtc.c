// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/rtc.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"

#define RTC_PORT 0x70
#define RTC_NR_PORTS 2

/* Registers. */
#define REG_SEC 0x00
#define REG_SEC_ALARM 0x01
#define REG_MIN 0x02
#define REG_MIN_ALARM 0x03
#define REG_HOUR 0x04
#define REG_HOUR_ALARM 0x05
#define REG_WDAY 0x06
#define REG_MDAY 0x07
#define REG_MON 0x08
#define REG_YEAR 0x09
#define REG_A 0x0a
#define REG_B 0x0b
#define REG_C 0x0c
#define REG_D 0x0d
#define REG_CENTURY 0x32

#define A_UIP 0x80
#define A_DV_MASK 0x70
#define A_DV_NORMAL 0x20 /* 32.768 kHz time base, running */
#define A_RATE_MASK 0x0f
#define A_DEFAULT 0x26

#define B_SET 0x80
#define B_PIE 0x40
#define B_AIE 0x20
#define B_UIE 0x10
#define B_SQWE 0x08
#define B_BINARY 0x04
#define B_24H 0x02
#define B_DEFAULT B_24H

#define C_IRQF 0x80
#define C_PF 0x40
#define C_AF 0x20
#define C_UF 0x10
#define C_FLAGS (C_PF | C_AF | C_UF)

#define D_VRT 0x80

#define HOUR_PM 0x80
#define ALARM_DONT_CARE 0xc0

#define NS_PER_SEC 1000000000LL
#define SECS_PER_DAY 86400
/* UIP shows this long before each update (MC146818 datasheet: 244 us). */
#define UIP_NS 244000
/* Periodic interrupts faster than this are slowed down to it. */
#define MIN_PERIOD_NS 1000000ULL

/* CMOS RAM bytes the BIOS keeps memory sizes in. */
#define CMOS_BASE_MEM_LO 0x15
#define CMOS_BASE_MEM_HI 0x16
#define CMOS_EXT_MEM_LO 0x17
#define CMOS_EXT_MEM_HI 0x18
#define CMOS_CHECKSUM_HI 0x2e
#define CMOS_CHECKSUM_LO 0x2f
#define CMOS_EXT_MEM2_LO 0x30
#define CMOS_EXT_MEM2_HI 0x31
#define CMOS_MEM_16M_LO 0x34
#define CMOS_MEM_16M_HI 0x35
#define CMOS_MEM_4G_0 0x5b
#define CMOS_MEM_4G_1 0x5c
#define CMOS_MEM_4G_2 0x5d

struct vmm_rtc {
	pthread_mutex_t lock;
	struct vmm_bus *bus;
	struct vmm_irq_line irq;
	struct vmm_loop_timer *timer; /* NULL without a loop */
	time_t (*now)(void *opaque);  /* NULL: the system clock */
	void *now_opaque;

	uint8_t index;
	/* Registers and RAM; the time registers are meaningful only while frozen. */
	uint8_t cmos[VMM_RTC_NVRAM_SIZE];
	int64_t offset;     /* guest seconds minus host seconds */
	bool frozen;        /* time stopped (SET or divider reset): cmos[] holds it */
	int64_t last_sec;   /* guest second when the flags were last brought up to date */
	uint64_t last_tick; /* periodic period count, likewise */
	bool irq_level;
};

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned int *m, unsigned int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static unsigned int days_in_month(int64_t y, unsigned int m)
{
	static const uint8_t days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return days[m - 1] + (m == 2 && leap);
}

/*
 * Host UTC as seconds and nanoseconds. Guest time is kept apart as
 * seconds (host seconds plus the offset) with the host's sub-second phase:
 * a guest in year 9999 or 0 is further away than 64-bit nanoseconds reach.
 */
static struct timespec host_now(const struct vmm_rtc *r)
{
	struct timespec ts;

	if (r->now)
		return (struct timespec){ .tv_sec = r->now(r->now_opaque), .tv_nsec = 0 };
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static int64_t guest_sec(const struct vmm_rtc *r, const struct timespec *host)
{
	return (int64_t)host->tv_sec + r->offset;
}

static bool running(const struct vmm_rtc *r)
{
	return !(r->cmos[REG_B] & B_SET) && (r->cmos[REG_A] & A_DV_MASK) <= A_DV_NORMAL;
}

static uint8_t to_reg(const struct vmm_rtc *r, unsigned int v)
{
	if (r->cmos[REG_B] & B_BINARY)
		return (uint8_t)v;
	return (uint8_t)((v / 10 % 10) << 4 | v % 10);
}

static unsigned int from_reg(const struct vmm_rtc *r, uint8_t b)
{
	if (r->cmos[REG_B] & B_BINARY)
		return b;
	return (b >> 4) * 10 + (b & 0x0f);
}

static uint8_t hour_to_reg(const struct vmm_rtc *r, unsigned int h)
{
	if (r->cmos[REG_B] & B_24H)
		return to_reg(r, h);
	return (uint8_t)(to_reg(r, h % 12 ? h % 12 : 12) | (h >= 12 ? HOUR_PM : 0));
}

static unsigned int hour_from_reg(const struct vmm_rtc *r, uint8_t b)
{
	if (r->cmos[REG_B] & B_24H)
		return from_reg(r, b);
	return from_reg(r, b & (uint8_t)~HOUR_PM) % 12 + (b & HOUR_PM ? 12 : 0);
}

/* The value of time register @reg at guest time @t (seconds). */
static uint8_t time_reg(const struct vmm_rtc *r, unsigned int reg, int64_t t)
{
	int64_t days = floor_div(t, SECS_PER_DAY), sod = floor_mod(t, SECS_PER_DAY), y;
	unsigned int m, d;

	civil_from_days(days, &y, &m, &d);
	switch (reg) {
	case REG_SEC:
		return to_reg(r, (unsigned int)(sod % 60));
	case REG_MIN:
		return to_reg(r, (unsigned int)(sod / 60 % 60));
	case REG_HOUR:
		return hour_to_reg(r, (unsigned int)(sod / 3600));
	case REG_WDAY:
		/* 1970-01-01 was a Thursday; the RTC counts Sunday as 1. */
		return to_reg(r, (unsigned int)floor_mod(days + 4, 7) + 1);
	case REG_MDAY:
		return to_reg(r, d);
	case REG_MON:
		return to_reg(r, m);
	case REG_YEAR:
		return to_reg(r, (unsigned int)floor_mod(y, 100));
	case REG_CENTURY:
		return to_reg(r, (unsigned int)floor_mod(floor_div(y, 100), 100));
	}
	return 0;
}

static bool is_time_reg(unsigned int reg)
{
	return reg == REG_SEC || reg == REG_MIN || reg == REG_HOUR ||
	       (reg >= REG_WDAY && reg <= REG_YEAR) || reg == REG_CENTURY;
}

/* Periodic interrupts per second at rate selection @rate (1..15). */
static uint64_t periodic_hz(unsigned int rate)
{
	/* Rates 1 and 2 repeat rates 8 and 9 on a 32.768 kHz time base. */
	if (rate < 3)
		rate += 7;
	return 32768 >> (rate - 1);
}

/* Periodic ticks since the epoch at @host (wrapping is harmless: only changes count). */
static uint64_t periodic_tick(unsigned int rate, const struct timespec *host)
{
	uint64_t hz = periodic_hz(rate);

	return (uint64_t)host->tv_sec * hz + (uint64_t)host->tv_nsec * hz / NS_PER_SEC;
}

/* Stop the clock: the time registers take the current time. Lock held. */
static void freeze(struct vmm_rtc *r)
{
	static const uint8_t regs[] = { REG_SEC,  REG_MIN, REG_HOUR, REG_WDAY,
		                        REG_MDAY, REG_MON, REG_YEAR, REG_CENTURY };
	struct timespec now;
	int64_t t;

	if (r->frozen)
		return;
	now = host_now(r);
	t = guest_sec(r, &now);
	for (size_t i = 0; i < sizeof(regs); i++)
		r->cmos[regs[i]] = time_reg(r, regs[i], t);
	r->frozen = true;
}

/* Restart the clock from what the time registers say. Lock held. */
static void thaw(struct vmm_rtc *r)
{
	unsigned int sec = from_reg(r, r->cmos[REG_SEC]), min = from_reg(r, r->cmos[REG_MIN]);
	unsigned int hour = hour_from_reg(r, r->cmos[REG_HOUR]);
	unsigned int mday = from_reg(r, r->cmos[REG_MDAY]), mon = from_reg(r, r->cmos[REG_MON]);
	unsigned int year = from_reg(r, r->cmos[REG_YEAR]);
	unsigned int century = from_reg(r, r->cmos[REG_CENTURY]);
	int64_t y = (int64_t)century * 100 + year, t;
	struct timespec now;

	if (!r->frozen || !running(r))
		return;
	r->frozen = false;
	if (sec > 59 || min > 59 || hour > 23 || mon < 1 || mon > 12 || year > 99 || century > 99 ||
	    mday < 1 || mday > days_in_month(y, mon)) {
		/* A real RTC would count on from nonsense; we keep the old time. */
		log_debug("dev=rtc guest set an invalid time, ignored");
		return;
	}
	t = days_from_civil(y, mon, mday) * SECS_PER_DAY + hour * 3600 + min * 60 + sec;
	now = host_now(r);
	r->offset = t - (int64_t)now.tv_sec;
	/* The next update is a second away: no update flag for the new time itself. */
	r->last_sec = t;
}

static bool alarm_field_matches(const struct vmm_rtc *r, uint8_t alarm, unsigned int v, bool hour)
{
	if ((alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE)
		return true;
	return (hour ? hour_from_reg(r, alarm) : from_reg(r, alarm)) == v;
}

static bool alarm_matches(const struct vmm_rtc *r, int64_t t)
{
	int64_t sod = floor_mod(t, SECS_PER_DAY);

	return alarm_field_matches(r, r->cmos[REG_SEC_ALARM], (unsigned int)(sod % 60), false) &&
	       alarm_field_matches(r, r->cmos[REG_MIN_ALARM], (unsigned int)(sod / 60 % 60),
	                           false) &&
	       alarm_field_matches(r, r->cmos[REG_HOUR_ALARM], (unsigned int)(sod / 3600), true);
}

/* Raise the flags of every update, alarm and periodic tick since the last call. Lock held. */
static void update_flags(struct vmm_rtc *r)
{
	unsigned int rate = r->cmos[REG_A] & A_RATE_MASK;
	struct timespec now;
	int64_t sec;

	if (!running(r))
		return;
	now = host_now(r);
	sec = guest_sec(r, &now);
	if (sec > r->last_sec) {
		/* The alarm repeats daily at most: scanning one day is enough. */
		int64_t from = sec - r->last_sec > SECS_PER_DAY ? sec - SECS_PER_DAY : r->last_sec;

		r->cmos[REG_C] |= C_UF;
		for (int64_t t = from + 1; t <= sec; t++) {
			if (alarm_matches(r, t)) {
				r->cmos[REG_C] |= C_AF;
				break;
			}
		}
	}
	/* A host clock stepped back moves the reference back too. */
	r->last_sec = sec;
	if (rate) {
		uint64_t tick = periodic_tick(rate, &now);

		if (tick != r->last_tick)
			r->cmos[REG_C] |= C_PF;
		r->last_tick = tick;
	}
	if (r->cmos[REG_C] & r->cmos[REG_B] & C_FLAGS)
		r->cmos[REG_C] |= C_IRQF;
}

/* Forget elapsed updates, for a clock that was just (re)started. Lock held. */
static void resync(struct vmm_rtc *r)
{
	unsigned int rate = r->cmos[REG_A] & A_RATE_MASK;
	struct timespec now = host_now(r);

	r->last_sec = guest_sec(r, &now);
	r->last_tick = rate ? periodic_tick(rate, &now) : 0;
}

static void update_irq(struct vmm_rtc *r)
{
	bool level = r->cmos[REG_C] & C_IRQF;

	if (level != r->irq_level) {
		r->irq_level = level;
		vmm_irq_set(&r->irq, level);
	}
}

/* Wake up for the next event that could interrupt, if any. Lock held. */
static void arm_timer(struct vmm_rtc *r)
{
	uint8_t b = r->cmos[REG_B];
	unsigned int rate = r->cmos[REG_A] & A_RATE_MASK;
	uint64_t delay = UINT64_MAX;
	struct timespec now;

	if (!r->timer)
		return;
	if (!running(r) || (r->cmos[REG_C] & C_IRQF) ||
	    !(b & (B_UIE | B_AIE | (rate ? B_PIE : 0)))) {
		vmm_loop_timer_disarm(r->timer);
		return;
	}
	/* Guest seconds start when host seconds do: the offset is whole seconds. */
	now = host_now(r);
	if (b & (B_UIE | B_AIE))
		delay = (uint64_t)(NS_PER_SEC - now.tv_nsec);
	if ((b & B_PIE) && rate) {
		uint64_t hz = periodic_hz(rate), ns = (uint64_t)now.tv_nsec;
		/* The first tick of this second after now, in ns into the second. */
		uint64_t next = ((ns * hz / NS_PER_SEC + 1) * NS_PER_SEC + hz - 1) / hz;
		uint64_t d = next - ns;

		if (d < MIN_PERIOD_NS)
			d = MIN_PERIOD_NS;
		if (d < delay)
			delay = d;
	}
	vmm_loop_timer_arm(r->timer, delay);
}

/* After anything that may have changed flags, enables or the clock. Lock held. */
static void refresh(struct vmm_rtc *r)
{
	update_flags(r);
	update_irq(r);
	arm_timer(r);
}

static void rtc_timer(void *opaque)
{
	struct vmm_rtc *r = opaque;

	pthread_mutex_lock(&r->lock);
	refresh(r);
	pthread_mutex_unlock(&r->lock);
}

static uint8_t reg_read(struct vmm_rtc *r, unsigned int reg)
{
	struct timespec now;
	uint8_t v;

	if (is_time_reg(reg) && !r->frozen) {
		now = host_now(r);
		return time_reg(r, reg, guest_sec(r, &now));
	}
	switch (reg) {
	case REG_A:
		v = r->cmos[REG_A] & (uint8_t)~A_UIP;
		now = host_now(r);
		if (running(r) && !r->now && now.tv_nsec >= NS_PER_SEC - UIP_NS)
			v |= A_UIP;
		return v;
	case REG_C:
		update_flags(r);
		v = r->cmos[REG_C];
		r->cmos[REG_C] = 0;
		update_irq(r);
		arm_timer(r);
		return v;
	case REG_D:
		return D_VRT;
	}
	return r->cmos[reg];
}

static void reg_write(struct vmm_rtc *r, unsigned int reg, uint8_t val)
{
	bool was_running = running(r);

	if (is_time_reg(reg)) {
		/* While running, a write sets that field of the current time at once. */
		freeze(r);
		r->cmos[reg] = val;
		thaw(r);
		refresh(r);
		return;
	}
	switch (reg) {
	case REG_A:
	case REG_B:
		/* Flags due under the old settings are raised first. */
		update_flags(r);
		if (reg == REG_A) {
			r->cmos[REG_A] = val & (uint8_t)~A_UIP;
		} else {
			/* Setting SET stops updates, and with them the update interrupt. */
			if (val & B_SET)
				val &= (uint8_t)~B_UIE;
			r->cmos[REG_B] = val;
		}
		if (was_running && !running(r)) {
			freeze(r);
		} else if (!was_running && running(r)) {
			thaw(r);
			resync(r);
		} else if (reg == REG_A) {
			resync(r);
		}
		refresh(r);
		return;
	case REG_C:
	case REG_D:
		return;
	case REG_SEC_ALARM:
	case REG_MIN_ALARM:
	case REG_HOUR_ALARM:
		update_flags(r);
		r->cmos[reg] = val;
		refresh(r);
		return;
	}
	r->cmos[reg] = val;
}

static void rtc_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_rtc *r = opaque;
	uint8_t *p = data;

	if (size != 1 || offset >= RTC_NR_PORTS)
		return;
	pthread_mutex_lock(&r->lock);
	if (offset == 0) {
		/* The index port is write-only; bit 7 gates NMI on a PC, which we do not model. */
		if (is_write)
			r->index = p[0] & 0x7f;
	} else if (is_write) {
		reg_write(r, r->index, p[0]);
	} else {
		p[0] = reg_read(r, r->index);
	}
	pthread_mutex_unlock(&r->lock);
}

int vmm_rtc_new(struct vmm_bus *bus, struct vmm_loop *loop, struct vmm_irq_line irq,
                struct vmm_rtc **ret)
{
	struct vmm_rtc *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	r->bus = bus;
	r->irq = irq;
	r->cmos[REG_A] = A_DEFAULT;
	r->cmos[REG_B] = B_DEFAULT;
	r->cmos[REG_CENTURY] = 0x20;
	resync(r);
	if (loop) {
		r->timer = vmm_loop_timer_new(loop, rtc_timer, r);
		if (!r->timer) {
			err = -ENOMEM;
			goto out_free;
		}
	}
	err = vmm_bus_register(bus, VMM_BUS_PIO, RTC_PORT, RTC_NR_PORTS, rtc_io, r, "rtc");
	if (err < 0)
		goto out_timer;
	*ret = r;
	return 0;

out_timer:
	vmm_loop_timer_free(r->timer);
out_free:
	pthread_mutex_destroy(&r->lock);
	free(r);
	return err;
}

void vmm_rtc_reset(struct vmm_rtc *r)
{
	pthread_mutex_lock(&r->lock);
	r->cmos[REG_B] &= (uint8_t) ~(B_PIE | B_AIE | B_UIE | B_SQWE);
	r->cmos[REG_C] = 0;
	r->index = 0;
	update_irq(r);
	arm_timer(r);
	pthread_mutex_unlock(&r->lock);
}

void vmm_rtc_free(struct vmm_rtc *r)
{
	if (!r)
		return;
	vmm_bus_unregister(r->bus, VMM_BUS_PIO, RTC_PORT, r);
	vmm_loop_timer_free(r->timer);
	if (r->irq_level)
		vmm_irq_set(&r->irq, 0);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void vmm_rtc_set_clock(struct vmm_rtc *r, time_t (*now)(void *), void *opaque)
{
	pthread_mutex_lock(&r->lock);
	r->now = now;
	r->now_opaque = opaque;
	resync(r);
	arm_timer(r);
	pthread_mutex_unlock(&r->lock);
}

static void put16(struct vmm_rtc *r, unsigned int lo, unsigned int hi, uint64_t v)
{
	if (v > 0xffff)
		v = 0xffff;
	r->cmos[lo] = (uint8_t)v;
	r->cmos[hi] = (uint8_t)(v >> 8);
}

void vmm_rtc_set_mem_size(struct vmm_rtc *r, uint64_t ram_below_4g, uint64_t ram_above_4g)
{
	uint64_t ext = ram_below_4g > (1 << 20) ? (ram_below_4g - (1 << 20)) >> 10 : 0;
	uint64_t above16 = ram_below_4g > (16 << 20) ? (ram_below_4g - (16 << 20)) >> 16 : 0;
	uint64_t high = ram_above_4g >> 16;
	unsigned int sum = 0;

	if (high > 0xffffff)
		high = 0xffffff;
	pthread_mutex_lock(&r->lock);
	put16(r, CMOS_BASE_MEM_LO, CMOS_BASE_MEM_HI, 640);
	put16(r, CMOS_EXT_MEM_LO, CMOS_EXT_MEM_HI, ext);
	put16(r, CMOS_EXT_MEM2_LO, CMOS_EXT_MEM2_HI, ext);
	put16(r, CMOS_MEM_16M_LO, CMOS_MEM_16M_HI, above16);
	r->cmos[CMOS_MEM_4G_0] = (uint8_t)high;
	r->cmos[CMOS_MEM_4G_1] = (uint8_t)(high >> 8);
	r->cmos[CMOS_MEM_4G_2] = (uint8_t)(high >> 16);
	/* The AT BIOS checksum over bytes 0x10..0x2d, big-endian. */
	for (unsigned int i = 0x10; i < CMOS_CHECKSUM_HI; i++)
		sum += r->cmos[i];
	r->cmos[CMOS_CHECKSUM_HI] = (uint8_t)(sum >> 8);
	r->cmos[CMOS_CHECKSUM_LO] = (uint8_t)sum;
	pthread_mutex_unlock(&r->lock);
}
