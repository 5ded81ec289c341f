// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto/ticket.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "proto/b64url.h"

#define TICKET_FORMAT 1
#define MAC_LEN 32
#define MAC_B64_LEN 43   /* proto_b64url_encoded_len(MAC_LEN) */
#define PAYLOAD_FIXED 28 /* everything but the text of vm and user */
#define PAYLOAD_MAX (PAYLOAD_FIXED + PROTO_TICKET_VM_MAX + PROTO_TICKET_USER_MAX)
#define PREFIX "v1."
#define PREFIX_LEN 3

static bool valid_key(const uint8_t *key, size_t key_len)
{
	return key && key_len >= PROTO_TICKET_KEY_MIN && key_len <= PROTO_TICKET_KEY_MAX;
}

static bool valid_vm(const char *vm, size_t len)
{
	if (len < 1 || len > PROTO_TICKET_VM_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = vm[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* UTF-8 with no C0, DEL or C1 control characters (nor NUL). */
static bool valid_user(const char *user, size_t len)
{
	const char *p = user, *end = user + len;

	if (len > PROTO_TICKET_USER_MAX || !g_utf8_validate_len(user, len, NULL))
		return false;
	for (; p < end; p = g_utf8_next_char(p))
		if (g_unichar_iscntrl(g_utf8_get_char(p)))
			return false;
	return true;
}

static bool valid_ticket(const struct proto_ticket *t, size_t *ret_vm_len, size_t *ret_user_len)
{
	size_t vm_len = strnlen(t->vm, sizeof(t->vm));
	size_t user_len = strnlen(t->user, sizeof(t->user));

	if (!t->protocols || (t->protocols & ~PROTO_TICKET_ALL))
		return false;
	if (!valid_vm(t->vm, vm_len) || !valid_user(t->user, user_len))
		return false;
	*ret_vm_len = vm_len;
	*ret_user_len = user_len;
	return true;
}

static int mac(const uint8_t *key, size_t key_len, const char *text, size_t len,
               uint8_t out[MAC_LEN])
{
	unsigned int out_len = MAC_LEN;

	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)text, len, out,
	          &out_len) ||
	    out_len != MAC_LEN)
		return -EIO;
	return 0;
}

int proto_ticket_issue(struct proto_ticket *t, const uint8_t *key, size_t key_len, char *out,
                       size_t out_size)
{
	uint8_t payload[PAYLOAD_MAX], digest[MAC_LEN], nonce[PROTO_TICKET_NONCE_LEN];
	char text[PROTO_TICKET_MAX_LEN + 1];
	size_t vm_len, user_len, n = 0, len;
	uint64_t expires;
	int r;

	if (!t || !out || !valid_key(key, key_len) || !valid_ticket(t, &vm_len, &user_len))
		return -EINVAL;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return -EIO;

	payload[n++] = TICKET_FORMAT;
	payload[n++] = (uint8_t)t->protocols;
	expires = (uint64_t)t->expires;
	for (int i = 7; i >= 0; i--)
		payload[n++] = (uint8_t)(expires >> (8 * i));
	memcpy(payload + n, nonce, sizeof(nonce));
	n += sizeof(nonce);
	payload[n++] = (uint8_t)vm_len;
	memcpy(payload + n, t->vm, vm_len);
	n += vm_len;
	payload[n++] = (uint8_t)user_len;
	memcpy(payload + n, t->user, user_len);
	n += user_len;

	memcpy(text, PREFIX, PREFIX_LEN);
	r = proto_b64url_encode(payload, n, text + PREFIX_LEN, sizeof(text) - PREFIX_LEN);
	if (r < 0)
		return r;
	len = strlen(text);
	r = mac(key, key_len, text, len, digest);
	if (r < 0)
		return r;
	text[len++] = '.';
	r = proto_b64url_encode(digest, sizeof(digest), text + len, sizeof(text) - len);
	if (r < 0)
		return r;
	len += MAC_B64_LEN;
	if (len + 1 > out_size)
		return -ENOSPC;
	memcpy(out, text, len + 1);
	memcpy(t->nonce, nonce, sizeof(nonce));
	return 0;
}

/* Read the fields of an authenticated payload. */
static int parse_payload(const uint8_t *p, size_t n, struct proto_ticket *t)
{
	size_t off = 0, vm_len, user_len;
	uint64_t expires = 0;

	if (n < PAYLOAD_FIXED || p[0] != TICKET_FORMAT)
		return PROTO_TICKET_EPARSE;
	t->protocols = p[1];
	if (!t->protocols || (t->protocols & ~PROTO_TICKET_ALL))
		return PROTO_TICKET_EPARSE;
	for (off = 2; off < 10; off++)
		expires = expires << 8 | p[off];
	t->expires = (int64_t)expires;
	memcpy(t->nonce, p + off, PROTO_TICKET_NONCE_LEN);
	off += PROTO_TICKET_NONCE_LEN;

	vm_len = p[off++];
	if (vm_len > n - off - 1 || !valid_vm((const char *)p + off, vm_len))
		return PROTO_TICKET_EPARSE;
	memcpy(t->vm, p + off, vm_len);
	t->vm[vm_len] = '\0';
	off += vm_len;

	user_len = p[off++];
	if (user_len != n - off || !valid_user((const char *)p + off, user_len))
		return PROTO_TICKET_EPARSE;
	memcpy(t->user, p + off, user_len);
	t->user[user_len] = '\0';
	return 0;
}

int proto_ticket_verify(const char *s, const uint8_t *key, size_t key_len, int64_t now,
                        struct proto_ticket *ret)
{
	uint8_t payload[PAYLOAD_MAX], want[MAC_LEN], got[MAC_LEN];
	struct proto_ticket t = { 0 };
	const char *dot;
	size_t len, n;
	int r;

	if (!valid_key(key, key_len))
		return -EINVAL;
	if (!s)
		return PROTO_TICKET_EPARSE;
	/* Bound the work before looking at anything else. */
	len = strnlen(s, PROTO_TICKET_MAX_LEN + 1);
	if (len > PROTO_TICKET_MAX_LEN || len < PREFIX_LEN || memcmp(s, PREFIX, PREFIX_LEN) != 0)
		return PROTO_TICKET_EPARSE;
	dot = memchr(s + PREFIX_LEN, '.', len - PREFIX_LEN);
	if (!dot || dot == s + PREFIX_LEN)
		return PROTO_TICKET_EPARSE;
	if ((size_t)(s + len - (dot + 1)) != MAC_B64_LEN ||
	    proto_b64url_decode(dot + 1, MAC_B64_LEN, got, sizeof(got), &n) < 0 || n != MAC_LEN)
		return PROTO_TICKET_EPARSE;

	/* Authenticate the text before decoding any of it. */
	r = mac(key, key_len, s, (size_t)(dot - s), want);
	if (r < 0)
		return r;
	if (CRYPTO_memcmp(want, got, MAC_LEN) != 0)
		return PROTO_TICKET_EMAC;

	if (proto_b64url_decode(s + PREFIX_LEN, (size_t)(dot - s) - PREFIX_LEN, payload,
	                        sizeof(payload), &n) < 0)
		return PROTO_TICKET_EPARSE;
	r = parse_payload(payload, n, &t);
	if (r < 0)
		return r;
	if (now >= t.expires)
		return PROTO_TICKET_EEXPIRED;
	*ret = t;
	return 0;
}

const char *proto_ticket_strerror(int err)
{
	switch (err) {
	case 0:
		return "valid";
	case PROTO_TICKET_EPARSE:
		return "malformed ticket";
	case PROTO_TICKET_EMAC:
		return "ticket not signed with this key";
	case PROTO_TICKET_EEXPIRED:
		return "ticket expired";
	case -EALREADY:
		return "ticket already used";
	case -ENOSPC:
		return "no space left (output buffer or nonce cache)";
	case -EINVAL:
		return "invalid ticket field or key";
	case -EIO:
		return "random generator or HMAC failed";
	case -ENOMEM:
		return "out of memory";
	}
	return "unknown ticket error";
}

int proto_nonce_cache_init(struct proto_nonce_cache *c, size_t capacity)
{
	if (!capacity)
		return -EINVAL;
	c->entries = calloc(capacity, sizeof(*c->entries));
	if (!c->entries)
		return -ENOMEM;
	c->nr = 0;
	c->capacity = capacity;
	return 0;
}

void proto_nonce_cache_free(struct proto_nonce_cache *c)
{
	if (!c)
		return;
	free(c->entries);
	c->entries = NULL;
	c->nr = c->capacity = 0;
}

int proto_nonce_cache_use(struct proto_nonce_cache *c, const uint8_t nonce[PROTO_TICKET_NONCE_LEN],
                          int64_t expires, int64_t now)
{
	size_t i = 0;

	if (now >= expires)
		return PROTO_TICKET_EEXPIRED;
	while (i < c->nr) {
		struct proto_nonce_entry *e = &c->entries[i];

		if (now >= e->expires) {
			/* Its ticket can no longer verify: the slot is free. */
			*e = c->entries[--c->nr];
			continue;
		}
		if (memcmp(e->nonce, nonce, PROTO_TICKET_NONCE_LEN) == 0)
			return -EALREADY;
		i++;
	}
	if (c->nr == c->capacity)
		return -ENOSPC;
	memcpy(c->entries[c->nr].nonce, nonce, PROTO_TICKET_NONCE_LEN);
	c->entries[c->nr].expires = expires;
	c->nr++;
	return 0;
}
