// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for console tickets, two ways:
 *
 *  1. the input as a ticket string, verified with a fixed key: anything but
 *     a clean error is a bug (a forged MAC is not expected to be found);
 *  2. the input as a payload, signed with that key, then verified: this
 *     reaches the field parser behind the MAC. A signed payload must never
 *     come back as a MAC failure.
 *
 * Whatever verifies must re-issue to a ticket of the same length that
 * verifies to the same fields (with a fresh nonce).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "proto/b64url.h"
#include "proto/ticket.h"

#define NOW 1800000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t key[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz";

static void check_reissue(const struct proto_ticket *t, size_t len)
{
	struct proto_ticket copy = *t, back;
	char s[PROTO_TICKET_MAX_LEN + 1];

	if (proto_ticket_issue(&copy, key, sizeof(key), s, sizeof(s)) != 0)
		abort();
	if (strlen(s) != len)
		abort();
	if (proto_ticket_verify(s, key, sizeof(key), NOW, &back) != 0)
		abort();
	if (strcmp(back.vm, t->vm) || strcmp(back.user, t->user) ||
	    back.protocols != t->protocols || back.expires != t->expires ||
	    memcmp(back.nonce, copy.nonce, sizeof(back.nonce)))
		abort();
}

static void as_string(const uint8_t *data, size_t size)
{
	char s[PROTO_TICKET_MAX_LEN + 2];
	struct proto_ticket t;
	int r;

	/* Longer inputs only need to show one character too many. */
	if (size > sizeof(s) - 1)
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	r = proto_ticket_verify(s, key, sizeof(key), NOW, &t);
	if (r == 0)
		check_reissue(&t, strlen(s));
	else if (r != PROTO_TICKET_EPARSE && r != PROTO_TICKET_EMAC && r != PROTO_TICKET_EEXPIRED)
		abort();
}

static void as_payload(const uint8_t *data, size_t size)
{
	char s[PROTO_TICKET_MAX_LEN + 1];
	uint8_t mac[32];
	unsigned int mac_len = sizeof(mac);
	struct proto_ticket t;
	size_t len;
	int r;

	/* 3 + 4 * 160 / 3 + 1 + 43 stays under the maximum length. */
	if (size > 160)
		return;
	memcpy(s, "v1.", 3);
	if (proto_b64url_encode(data, size, s + 3, sizeof(s) - 3) != 0)
		abort();
	len = strlen(s);
	if (!HMAC(EVP_sha256(), key, sizeof(key), (const uint8_t *)s, len, mac, &mac_len))
		abort();
	s[len++] = '.';
	if (proto_b64url_encode(mac, sizeof(mac), s + len, sizeof(s) - len) != 0)
		abort();

	r = proto_ticket_verify(s, key, sizeof(key), NOW, &t);
	if (r == 0)
		check_reissue(&t, strlen(s));
	else if (r != PROTO_TICKET_EPARSE && r != PROTO_TICKET_EEXPIRED)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	as_string(data, size);
	as_payload(data, size);
	return 0;
}
