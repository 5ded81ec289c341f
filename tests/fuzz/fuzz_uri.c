// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for vnc:// and spice:// URIs. Whatever parses must
 * format, and the formatted URI must parse to the same fields.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[PROTO_URI_MAX_LEN + 2], out[PROTO_URI_MAX_LEN + 1];
	struct proto_uri u, back;
	int n;

	/* Longer inputs only need to show one character too many. */
	if (size > sizeof(s) - 1)
		size = sizeof(s) - 1;
	memcpy(s, data, size);
	s[size] = '\0';
	if (proto_uri_parse(s, &u) != 0)
		return 0;
	n = proto_uri_format(&u, out, sizeof(out));
	if (n <= 0 || (size_t)n != strlen(out))
		abort();
	if (proto_uri_parse(out, &back) != 0)
		abort();
	if (strcmp(u.scheme, back.scheme) || strcmp(u.host, back.host) || u.port != back.port ||
	    u.tls_port != back.tls_port || strcmp(u.password, back.password))
		abort();
	return 0;
}
