/* lib.h - the few C library pieces a freestanding guest needs. */
#ifndef GUEST_LIB_H
#define GUEST_LIB_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define EIO 5
#define ENOMEM 12
#define ENODEV 19
#define EINVAL 22
#define ENOSPC 28
#define ENOTSUP 95

/* gcc may emit calls to these four for struct copies and zeroing. */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);

size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);

/*
 * printf subset: %d %i %u %x %X %s %c %p %%, flags '-' and '0', a width,
 * and the l, ll and z length modifiers. Always NUL-terminates when size > 0;
 * returns the length the full output would have had.
 */
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Parse a decimal number at *s, advancing *s past it. Returns false (and
 * leaves *s) when there is no digit or the value exceeds max.
 */
bool parse_u32(const char **s, uint32_t max, uint32_t *ret);

/* Parse "WxH" (the whole string). Returns false on anything else. */
bool parse_size(const char *s, uint32_t *ret_w, uint32_t *ret_h);

/*
 * Pixel fills and copies. Guests on nested KVM retire about 3 million
 * instructions a second, so rows are moved with rep stosq/movsq, which
 * handle eight bytes per step and count as one instruction.
 */
static inline void fill32(uint32_t *dst, uint32_t v, size_t n)
{
	uint64_t q = ((uint64_t)v << 32) | v;
	size_t nq;

	if (((uintptr_t)dst & 7) && n) {
		*dst++ = v;
		n--;
	}
	nq = n / 2;
	__asm__ volatile("rep stosq" : "+D"(dst), "+c"(nq) : "a"(q) : "memory");
	if (n & 1)
		*dst = v;
}

/* Forward copy; dst and src must not overlap within the row. */
static inline void copy32(uint32_t *dst, const uint32_t *src, size_t n)
{
	size_t nq = n / 2;

	__asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(nq) : : "memory");
	if (n & 1)
		*dst = *src;
}

#endif
