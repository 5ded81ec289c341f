/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Logging shared by every component: one line per message on stderr,
 *
 *   2026-11-23T10:00:00.123Z vdi-vmm[desk-3] warn: dev=virtio-blk bad descriptor
 *
 * The log_* macros skip evaluating their arguments below the active level,
 * so debug lines cost nothing when debug is off. Library code logs at debug
 * only; programs decide what users see. Callers put context in the message
 * as key=value pairs ("vm=desk-3 dev=uart").
 */
#ifndef VDI_PROTO_LOG_H
#define VDI_PROTO_LOG_H

enum vdi_log_level {
	VDI_LOG_ERR = 0,
	VDI_LOG_WARN = 1,
	VDI_LOG_INFO = 2,
	VDI_LOG_DEBUG = 3,
};

/* The active level; read without locking, set once at start-up. */
extern int vdi_log_level;

/*
 * Set the program's identity (e.g. "vdi-vmm[desk-3]") and level. The
 * environment variable VDI_LOG_LEVEL, when set to a valid name, overrides
 * @level. Call from main() before starting threads; @ident is copied.
 */
void vdi_log_init(const char *ident, int level);

/* Parse "err", "warn", "info" or "debug". Returns the level or -EINVAL. */
int vdi_log_level_parse(const char *name);

/*
 * Write one line at @level. Thread-safe: the line is built in a local
 * buffer and written with one write(2), so lines from threads never mix.
 * Preserves errno.
 */
void vdi_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define vdi_log_at(lvl, ...)                               \
	do {                                               \
		if (vdi_log_level >= (lvl))                \
			vdi_log_write((lvl), __VA_ARGS__); \
	} while (0)

#define log_err(...) vdi_log_at(VDI_LOG_ERR, __VA_ARGS__)
#define log_warn(...) vdi_log_at(VDI_LOG_WARN, __VA_ARGS__)
#define log_info(...) vdi_log_at(VDI_LOG_INFO, __VA_ARGS__)
#define log_debug(...) vdi_log_at(VDI_LOG_DEBUG, __VA_ARGS__)

#endif
