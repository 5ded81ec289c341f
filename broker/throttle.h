/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Slowing down one client address that keeps failing to log in, whatever
 * names it tries (account lockout covers one name from many addresses).
 *
 * An in-memory table keyed by the client's address as text. The first
 * failure in a row is free; after n failures the address waits
 * base << (n - 2) milliseconds, at most max, counted from its last
 * failure. A good login, or an hour without failures, clears the entry.
 * When the table is full, the entry with the oldest failure is dropped.
 *
 * Thread-safe: every function takes the table's lock, so one table can be
 * shared by threads (and by several struct broker_auth).
 */
#ifndef VDI_BROKER_THROTTLE_H
#define VDI_BROKER_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define BROKER_THROTTLE_FORGET_MS (60LL * 60 * 1000)
#define BROKER_THROTTLE_CAPACITY 8192

struct broker_throttle;

/*
 * A table with delays from @base_ms doubling up to @max_ms (@base_ms 0 turns
 * the slow-down off) and room for @capacity addresses (0: the default).
 * Returns 0 or -ENOMEM/-EINVAL.
 */
int broker_throttle_new(unsigned int base_ms, unsigned int max_ms, size_t capacity,
                        struct broker_throttle **ret);

/* NULL is a no-op. */
void broker_throttle_free(struct broker_throttle *t);

/*
 * Milliseconds @source must still wait at @now_ms (unix milliseconds) before
 * its next login attempt; 0 when it may try now.
 */
int64_t broker_throttle_delay_ms(struct broker_throttle *t, const char *source, int64_t now_ms);

/* Count a failed login from @source at @now_ms. */
void broker_throttle_failure(struct broker_throttle *t, const char *source, int64_t now_ms);

/* A good login from @source: forget its failures. */
void broker_throttle_success(struct broker_throttle *t, const char *source);

/* Addresses in the table (for tests and metrics). */
size_t broker_throttle_size(struct broker_throttle *t);

#endif
