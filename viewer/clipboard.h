/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Clipboard text between the local desktop (UTF-8, as SDL has it) and VNC
 * cut text, which RFB defines as ISO 8859-1 (Latin-1). libvncclient 0.9.14
 * has no extended (UTF-8) clipboard, so text crosses as Latin-1: characters
 * outside it become '?'. CR LF line ends become LF, as X11 and RFB use.
 *
 * Pure functions; any thread.
 */
#ifndef VDI_VIEWER_CLIPBOARD_H
#define VDI_VIEWER_CLIPBOARD_H

#include <stddef.h>

#define VIEWER_CLIPBOARD_MAX (1u << 20) /* bytes of clipboard text we pass on */

/*
 * Latin-1 @text of @len bytes as NUL-terminated UTF-8 (malloc'd), or NULL
 * when out of memory or over VIEWER_CLIPBOARD_MAX. NUL bytes are dropped.
 */
char *viewer_latin1_to_utf8(const char *text, size_t len);

/*
 * NUL-terminated UTF-8 @text as Latin-1 (malloc'd, NUL-terminated, length
 * in *@ret_len), or NULL when out of memory or over VIEWER_CLIPBOARD_MAX.
 * Characters beyond U+00FF and invalid sequences become '?'.
 */
char *viewer_utf8_to_latin1(const char *text, size_t *ret_len);

#endif
