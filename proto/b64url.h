/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Base64url (RFC 4648 section 5) without padding, the alphabet of console
 * tickets. The decoder is strict so that every byte string has exactly one
 * text form: no '=', no '+' or '/', no whitespace, no impossible lengths and
 * no stray bits in the last character. A ticket that was altered in any way
 * therefore never decodes to the same bytes.
 *
 * Pure functions; any thread.
 */
#ifndef VDI_PROTO_B64URL_H
#define VDI_PROTO_B64URL_H

#include <stddef.h>

/* Characters that encoding @n bytes produces, without the NUL terminator. */
size_t proto_b64url_encoded_len(size_t n);

/*
 * Encode @n bytes of @in into @out as a NUL-terminated string. Returns 0, or
 * -ENOSPC when @out_size is less than proto_b64url_encoded_len(@n) + 1 (then
 * @out is untouched).
 */
int proto_b64url_encode(const void *in, size_t n, char *out, size_t out_size);

/*
 * Decode @len characters of @in (no NUL needed) into @out and set *@ret_len
 * to the number of bytes. Returns 0; -EINVAL for anything but canonical
 * unpadded base64url; -ENOSPC when the result would not fit in @out_size
 * bytes. @out and *@ret_len may be clobbered on failure.
 */
int proto_b64url_decode(const char *in, size_t len, void *out, size_t out_size, size_t *ret_len);

#endif
