// SPDX-License-Identifier: GPL-2.0-or-later
#include "broker/throttle.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "broker/store.h"

struct entry {
	unsigned int failures;
	int64_t last_ms;
};

struct broker_throttle {
	pthread_mutex_t lock;
	GHashTable *table; /* source (char *, owned) -> struct entry * (owned) */
	unsigned int base_ms, max_ms;
	size_t capacity;
};

int broker_throttle_new(unsigned int base_ms, unsigned int max_ms, size_t capacity,
                        struct broker_throttle **ret)
{
	struct broker_throttle *t;

	if (max_ms < base_ms)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	t->table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	t->base_ms = base_ms;
	t->max_ms = max_ms;
	t->capacity = capacity ? capacity : BROKER_THROTTLE_CAPACITY;
	*ret = t;
	return 0;
}

void broker_throttle_free(struct broker_throttle *t)
{
	if (!t)
		return;
	g_hash_table_destroy(t->table);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

/* Keys are bounded like every stored source address. */
static void key_of(const char *source, char key[BROKER_SOURCE_MAX + 1])
{
	size_t n = source ? strnlen(source, BROKER_SOURCE_MAX) : 0;

	memcpy(key, source ? source : "", n);
	key[n] = '\0';
}

static int64_t wait_of(const struct broker_throttle *t, const struct entry *e)
{
	uint64_t d;

	if (e->failures < 2 || t->base_ms == 0)
		return 0;
	/* base << (n - 2), without overflowing the shift. */
	d = e->failures - 2 >= 31 ? t->max_ms : (uint64_t)t->base_ms << (e->failures - 2);
	return d > t->max_ms ? t->max_ms : (int64_t)d;
}

static bool forgotten(const struct entry *e, int64_t now_ms)
{
	return now_ms - e->last_ms >= BROKER_THROTTLE_FORGET_MS;
}

int64_t broker_throttle_delay_ms(struct broker_throttle *t, const char *source, int64_t now_ms)
{
	char key[BROKER_SOURCE_MAX + 1];
	struct entry *e;
	int64_t left = 0;

	key_of(source, key);
	pthread_mutex_lock(&t->lock);
	e = g_hash_table_lookup(t->table, key);
	if (e && forgotten(e, now_ms)) {
		g_hash_table_remove(t->table, key);
	} else if (e) {
		left = e->last_ms + wait_of(t, e) - now_ms;
		if (left < 0)
			left = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return left;
}

static gboolean drop_forgotten(gpointer key, gpointer value, gpointer now)
{
	return forgotten(value, *(const int64_t *)now);
}

/* Make room for one entry: drop stale ones, else the one with the oldest failure. */
static void make_room(struct broker_throttle *t, int64_t now_ms)
{
	GHashTableIter it;
	gpointer k, v, oldest = NULL;
	int64_t oldest_ms = INT64_MAX;

	g_hash_table_foreach_remove(t->table, drop_forgotten, &now_ms);
	if (g_hash_table_size(t->table) < t->capacity)
		return;
	g_hash_table_iter_init(&it, t->table);
	while (g_hash_table_iter_next(&it, &k, &v)) {
		if (((struct entry *)v)->last_ms < oldest_ms) {
			oldest_ms = ((struct entry *)v)->last_ms;
			oldest = k;
		}
	}
	if (oldest)
		g_hash_table_remove(t->table, oldest);
}

void broker_throttle_failure(struct broker_throttle *t, const char *source, int64_t now_ms)
{
	char key[BROKER_SOURCE_MAX + 1];
	struct entry *e;

	key_of(source, key);
	pthread_mutex_lock(&t->lock);
	e = g_hash_table_lookup(t->table, key);
	if (e && forgotten(e, now_ms)) {
		e->failures = 0;
	} else if (!e) {
		if (g_hash_table_size(t->table) >= t->capacity)
			make_room(t, now_ms);
		e = g_new0(struct entry, 1);
		g_hash_table_insert(t->table, g_strdup(key), e);
	}
	if (e->failures < 1000)
		e->failures++;
	e->last_ms = now_ms;
	pthread_mutex_unlock(&t->lock);
}

void broker_throttle_success(struct broker_throttle *t, const char *source)
{
	char key[BROKER_SOURCE_MAX + 1];

	key_of(source, key);
	pthread_mutex_lock(&t->lock);
	g_hash_table_remove(t->table, key);
	pthread_mutex_unlock(&t->lock);
}

size_t broker_throttle_size(struct broker_throttle *t)
{
	size_t n;

	pthread_mutex_lock(&t->lock);
	n = g_hash_table_size(t->table);
	pthread_mutex_unlock(&t->lock);
	return n;
}
