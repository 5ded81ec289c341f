// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int vdi_log_level = VDI_LOG_INFO;

static char log_ident[64] = "vdi";

static const char *const level_names[] = {
	[VDI_LOG_ERR] = "err",
	[VDI_LOG_WARN] = "warn",
	[VDI_LOG_INFO] = "info",
	[VDI_LOG_DEBUG] = "debug",
};

int vdi_log_level_parse(const char *name)
{
	if (!name)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	if (strcmp(name, "error") == 0)
		return VDI_LOG_ERR;
	if (strcmp(name, "warning") == 0)
		return VDI_LOG_WARN;
	return -EINVAL;
}

void vdi_log_init(const char *ident, int level)
{
	int env;

	if (ident)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	if (level >= VDI_LOG_ERR && level <= VDI_LOG_DEBUG)
		vdi_log_level = level;
	env = vdi_log_level_parse(getenv("VDI_LOG_LEVEL"));
	if (env >= 0)
		vdi_log_level = env;
}

void vdi_log_write(int level, const char *fmt, ...)
{
	int saved_errno = errno;
	char line[2048];
	struct timespec ts;
	struct tm tm;
	size_t n;
	int r;
	va_list ap;

	if (level < VDI_LOG_ERR || level > VDI_LOG_DEBUG)
		level = VDI_LOG_ERR;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s %s: ", ts.tv_nsec / 1000000L,
	             log_ident, level_names[level]);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	va_start(ap, fmt);
	r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (r > 0)
		n += (size_t)r < sizeof(line) - n ? (size_t)r : sizeof(line) - n - 1;
	/* Keep one line per message even when the text was cut. */
	if (n >= sizeof(line) - 1)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	/* A failed log write has nowhere to be reported. */
	if (write(STDERR_FILENO, line, n) < 0)
		(void)0;
	errno = saved_errno;
}
