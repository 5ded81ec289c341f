/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Console tickets: the broker's signed permission for one console
 * connection, handed to a browser (for the gateway) or a viewer.
 *
 *   v1.<payload>.<mac>
 *
 * Both parts are unpadded base64url (proto/b64url.h). The MAC is
 * HMAC-SHA256, under a 32 to 64 byte key that only the broker holds, of the
 * ASCII text "v1.<payload>", so the payload is authenticated before a single
 * field of it is read. The payload is binary, big-endian, with no padding:
 *
 *   offset  size  field
 *   0       1     format, always 1
 *   1       1     protocols, PROTO_TICKET_* bits, at least one, no others
 *   2       8     expires, signed unix seconds
 *   10      16    nonce, random
 *   26      1     length of vm, 1..64
 *   27      n     vm, of [A-Za-z0-9._-]
 *   27+n    1     length of user, 0..64
 *   28+n    m     user, UTF-8 without control characters
 *
 * and must end exactly there. With the longest fields the whole ticket is
 * 255 characters.
 *
 * A ticket is valid until @expires; single use is up to the consumer, with a
 * struct proto_nonce_cache keyed on the nonce.
 *
 * Functions take no locks: a nonce cache shared between threads needs the
 * caller's lock; everything else may be called from any thread.
 */
#ifndef VDI_PROTO_TICKET_H
#define VDI_PROTO_TICKET_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#define PROTO_TICKET_VNC 1u
#define PROTO_TICKET_SPICE 2u
#define PROTO_TICKET_WS 4u /* the broker's WebSocket gateway */
#define PROTO_TICKET_ALL (PROTO_TICKET_VNC | PROTO_TICKET_SPICE | PROTO_TICKET_WS)

#define PROTO_TICKET_VM_MAX 64
#define PROTO_TICKET_USER_MAX 64 /* bytes */
#define PROTO_TICKET_NONCE_LEN 16
#define PROTO_TICKET_KEY_MIN 32
#define PROTO_TICKET_KEY_MAX 64
/* Characters of the longest string accepted, excluding the NUL. */
#define PROTO_TICKET_MAX_LEN 512

/* Malformed: bad prefix, base64 or length, truncated, oversized, bad field. */
#define PROTO_TICKET_EPARSE (-EBADMSG)
/* Well formed, but not signed with this key, or altered. */
#define PROTO_TICKET_EMAC (-EKEYREJECTED)
/* Authentic but past its expiry. */
#define PROTO_TICKET_EEXPIRED (-EKEYEXPIRED)

struct proto_ticket {
	char vm[PROTO_TICKET_VM_MAX + 1];
	unsigned int protocols; /* PROTO_TICKET_* */
	char user[PROTO_TICKET_USER_MAX + 1];
	int64_t expires; /* unix seconds; invalid from this second on */
	uint8_t nonce[PROTO_TICKET_NONCE_LEN];
};

/*
 * Sign @t into @out (NUL-terminated; PROTO_TICKET_MAX_LEN + 1 bytes always
 * suffice). A fresh random nonce is generated for every call and written back
 * into @t->nonce, so the caller can remember it. Returns 0; -EINVAL for a
 * field out of range or a key not of 32..64 bytes; -ENOSPC when @out_size is
 * too small; -EIO when the random generator or HMAC fails. On failure @t is
 * unchanged.
 */
int proto_ticket_issue(struct proto_ticket *t, const uint8_t *key, size_t key_len, char *out,
                       size_t out_size);

/*
 * Check the NUL-terminated ticket @s under @key at time @now (unix seconds)
 * and fill *@ret on success. Returns 0, PROTO_TICKET_EPARSE, PROTO_TICKET_EMAC
 * (compared in constant time), PROTO_TICKET_EEXPIRED when @now >= expires,
 * -EINVAL for a key not of 32..64 bytes, or -EIO if HMAC fails. Single use
 * is not checked here: pass the nonce to proto_nonce_cache_use(). *@ret is
 * written only on success.
 */
int proto_ticket_verify(const char *s, const uint8_t *key, size_t key_len, int64_t now,
                        struct proto_ticket *ret);

/* A short static description of a return value of this module, for logs. */
const char *proto_ticket_strerror(int err);

/*
 * Nonces already used, remembered until the ticket they came from expires.
 * Fixed size: when full of unexpired nonces it refuses new ones rather than
 * forget one, which would let that ticket be replayed. Lookups are linear in
 * the capacity, which is fine for the thousands of tickets a broker has out
 * at once.
 */
struct proto_nonce_entry {
	uint8_t nonce[PROTO_TICKET_NONCE_LEN];
	int64_t expires;
};

struct proto_nonce_cache {
	struct proto_nonce_entry *entries;
	size_t nr, capacity;
};

/* Returns 0, -EINVAL for a capacity of 0, or -ENOMEM. */
int proto_nonce_cache_init(struct proto_nonce_cache *c, size_t capacity);

/* Release the entries; the cache may be initialised again. No-op when zeroed. */
void proto_nonce_cache_free(struct proto_nonce_cache *c);

/*
 * Mark @nonce, from a ticket valid until @expires, as used at time @now.
 * Returns 0 the first time; -EALREADY if it was used before; -ENOSPC when
 * every slot holds an unexpired nonce; PROTO_TICKET_EEXPIRED when @now >=
 * @expires (such a ticket needs no remembering: verify refuses it anyway).
 * Expired entries are dropped on the way.
 */
int proto_nonce_cache_use(struct proto_nonce_cache *c, const uint8_t nonce[PROTO_TICKET_NONCE_LEN],
                          int64_t expires, int64_t now);

#endif
