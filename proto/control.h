/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The vmm control protocol: JSON lines over a unix socket, one message per
 * line, written compactly so a message never contains a newline.
 *
 *   request   {"id":N,"cmd":"name","args":{...}}        args optional
 *   success   {"id":N,"ok":{...}}
 *   failure   {"id":N,"error":{"class":"...","desc":"..."}}
 *   event     {"event":"name","data":{...}}             data optional
 *
 * N is an integer 0..2^53 (exact in every JSON implementation), chosen by
 * the client and echoed in the reply. A failure the server cannot tie to a
 * request (the line did not parse) has "id":null. Command and event names
 * are 1..64 of [a-z0-9-]. The decoder is strict: one of these shapes
 * exactly, no duplicate or unknown keys, at most PROTO_CTL_MAX_LINE bytes,
 * so a bad line is answered with an error instead of guessed at.
 *
 * A stream is cut into lines with struct proto_linebuf, which bounds the
 * memory a peer can make us hold.
 *
 * No state is shared: any thread, one message or buffer per thread at a time.
 */
#ifndef VDI_PROTO_CONTROL_H
#define VDI_PROTO_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PROTO_CTL_MAX_LINE 65536 /* bytes, excluding the newline */
#define PROTO_CTL_NAME_MAX 64
#define PROTO_CTL_ID_MAX (1LL << 53)

/* Error classes of the vmm; peers may send others. */
#define PROTO_CTL_ERR_BAD_REQUEST "BadRequest"
#define PROTO_CTL_ERR_UNKNOWN_COMMAND "UnknownCommand"
#define PROTO_CTL_ERR_INVALID_ARGUMENT "InvalidArgument"
#define PROTO_CTL_ERR_FAILED "Failed"
#define PROTO_CTL_ERR_NOT_FOUND "NotFound"
#define PROTO_CTL_ERR_PERMISSION "PermissionDenied"

enum proto_ctl_kind {
	PROTO_CTL_REQUEST,
	PROTO_CTL_REPLY_OK,
	PROTO_CTL_REPLY_ERROR,
	PROTO_CTL_EVENT,
};

struct proto_ctl_msg {
	enum proto_ctl_kind kind;
	int64_t id;   /* requests and replies; -1 for events and for an error reply without one */
	char *name;   /* request: cmd; event: event name (malloc'd); NULL for replies */
	json_t *body; /* request: args; ok: the ok object; event: data. An object, never NULL
	                 (empty when absent); NULL for REPLY_ERROR */
	char err_class[64];
	char err_desc[256]; /* REPLY_ERROR: the peer's; when decoding fails: why */
};

/*
 * Decode one line of @len bytes (one trailing "\n" or "\r\n" is stripped;
 * no NUL needed) into *@msg, which the call zero-initialises first in every
 * case. Returns 0, then the caller owns msg->name and msg->body and calls
 * proto_ctl_msg_clear(); -EMSGSIZE for a line longer than PROTO_CTL_MAX_LINE;
 * -EINVAL for anything else that is not exactly one of the four shapes;
 * -ENOMEM. On failure msg->err_desc says why, in words fit for an error
 * reply, and nothing needs clearing. The peer's strings are truncated to fit
 * err_class and err_desc, at a UTF-8 character boundary.
 */
int proto_ctl_decode(const char *line, size_t len, struct proto_ctl_msg *msg);

/* Release what a successful decode allocated and zero *@msg. */
void proto_ctl_msg_clear(struct proto_ctl_msg *msg);

/*
 * Encoders: each returns a malloc'd NUL-terminated line ending in "\n", or
 * NULL with errno set: EINVAL for an id outside 0..2^53, a name not 1..64
 * of [a-z0-9-], or a body that is not an object; ENOMEM. JSON arguments are
 * borrowed (the caller keeps its reference); NULL stands for {}. Strings
 * that are not valid UTF-8 have the bad bytes replaced by '?', since an
 * error message often quotes what the peer sent.
 */
char *proto_ctl_encode_request(int64_t id, const char *cmd, json_t *args);
char *proto_ctl_encode_ok(int64_t id, json_t *ok);
/* @id -1 writes "id":null. @cls NULL means PROTO_CTL_ERR_FAILED, @desc NULL "". */
char *proto_ctl_encode_error(int64_t id, const char *cls, const char *desc);
char *proto_ctl_encode_event(const char *name, json_t *data);

/*
 * Cuts a byte stream into lines, holding at most one unfinished line of
 * max_line bytes (plus what one append brought). Fields are private.
 */
struct proto_linebuf {
	char *buf;
	size_t len;   /* bytes held */
	size_t cap;   /* bytes allocated */
	size_t max;   /* longest line, excluding "\n" or "\r\n" */
	size_t start; /* first byte not yet returned */
	size_t scan;  /* where to look for the next "\n" */
	size_t tail;  /* bytes after the last "\n" held */
};

/* Returns 0, -EINVAL when @max_line is 0, or -ENOMEM. */
int proto_linebuf_init(struct proto_linebuf *lb, size_t max_line);

/* Release the buffer; no-op on a zeroed or freed one. */
void proto_linebuf_free(struct proto_linebuf *lb);

/*
 * Add @n bytes read from the stream. Returns 0; -EMSGSIZE when a line in
 * the data, finished or not, is longer than max_line (nothing is added: the
 * caller should answer with an error and close the connection); -ENOMEM.
 * Invalidates the line last returned by proto_linebuf_next().
 */
int proto_linebuf_append(struct proto_linebuf *lb, const void *data, size_t n);

/*
 * Take the next complete line: returns 1 and sets *@line (NUL-terminated,
 * without its "\n" or "\r\n", valid until the next append or free) and
 * *@len; 0 when no complete line is held. Call until it returns 0 after each
 * append, so that memory stays bounded. Never fails.
 */
int proto_linebuf_next(struct proto_linebuf *lb, const char **line, size_t *len);

#endif
