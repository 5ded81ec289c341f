// SPDX-License-Identifier: GPL-2.0-or-later
#include "viewer/meter.h"

#include <string.h>

void viewer_meter_reset(struct viewer_meter *m)
{
	memset(m, 0, sizeof(*m));
}

void viewer_meter_feed(struct viewer_meter *m, int64_t now_ms, uint64_t value)
{
	int64_t dt;

	if (!m->started || value < m->since_value || now_ms < m->since_ms) {
		m->started = true;
		m->since_ms = now_ms;
		m->since_value = value;
		return;
	}
	dt = now_ms - m->since_ms;
	if (dt < VIEWER_METER_WINDOW_MS)
		return;
	m->rate = (double)(value - m->since_value) * 1000.0 / (double)dt;
	m->valid = true;
	m->since_ms = now_ms;
	m->since_value = value;
}

unsigned int viewer_backoff_ms(unsigned int attempt, uint32_t random)
{
	unsigned int ms = VIEWER_BACKOFF_FIRST_MS;

	for (unsigned int i = 1; i < attempt && ms < VIEWER_BACKOFF_MAX_MS; i++)
		ms *= 2;
	if (ms > VIEWER_BACKOFF_MAX_MS)
		ms = VIEWER_BACKOFF_MAX_MS;
	return ms - random % (ms / 5 + 1);
}
