/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small numbers the viewer shows and decides with: rates over the last
 * second (frames per second, bytes received per second) and the wait
 * before the next reconnect attempt.
 *
 * Pure functions; any thread (one meter per thread).
 */
#ifndef VDI_VIEWER_METER_H
#define VDI_VIEWER_METER_H

#include <stdbool.h>
#include <stdint.h>

#define VIEWER_METER_WINDOW_MS 1000
#define VIEWER_BACKOFF_FIRST_MS 1000
#define VIEWER_BACKOFF_MAX_MS 30000

/* The rate of change of a growing counter, refreshed once per window. */
struct viewer_meter {
	int64_t since_ms; /* start of the current window */
	uint64_t since_value;
	double rate;  /* per second, over the last full window */
	bool started; /* a first sample was seen */
	bool valid;   /* rate holds a measurement */
};

/* Start over (no rate yet). */
void viewer_meter_reset(struct viewer_meter *m);

/*
 * The counter reads @value at @now_ms. Once a window has passed since the
 * last refresh, the rate becomes the change per second over it. A counter
 * that went backwards (a new connection) starts a new window.
 */
void viewer_meter_feed(struct viewer_meter *m, int64_t now_ms, uint64_t value);

/*
 * Milliseconds to wait before reconnect attempt @attempt (1 for the first):
 * 1 s, doubling, at most 30 s, less up to a fifth picked by @random so that
 * many viewers cut off together do not come back together.
 */
unsigned int viewer_backoff_ms(unsigned int attempt, uint32_t random);

#endif
