// SPDX-License-Identifier: GPL-2.0-or-later
#include "proto/control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINEBUF_INITIAL 1024

/* Length of the valid UTF-8 sequence at @s (at most @n bytes), or 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Copy @src into @dst of @size bytes, cut at a character boundary. */
static void copy_utf8(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src), o = 0;

	while (o < n) {
		size_t l = utf8_seq((const unsigned char *)src + o, n - o);

		if (!l || o + l >= size)
			break;
		o += l;
	}
	memcpy(dst, src, o);
	dst[o] = '\0';
}

static void set_reason(struct proto_ctl_msg *msg, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Explain a decoding failure; what it quotes may be cut mid-character, so recut. */
static void set_reason(struct proto_ctl_msg *msg, const char *fmt, ...)
{
	char buf[sizeof(msg->err_desc)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	copy_utf8(msg->err_desc, sizeof(msg->err_desc), buf);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > PROTO_CTL_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

static bool valid_id(json_t *v, int64_t *ret)
{
	json_int_t i;

	if (!json_is_integer(v))
		return false;
	i = json_integer_value(v);
	if (i < 0 || i > PROTO_CTL_ID_MAX)
		return false;
	*ret = i;
	return true;
}

/* The keys each shape may have; the first is the one that tells the shape. */
static const char *const shape_keys[][3] = {
	[PROTO_CTL_REQUEST] = { "cmd", "id", "args" },
	[PROTO_CTL_REPLY_OK] = { "ok", "id", NULL },
	[PROTO_CTL_REPLY_ERROR] = { "error", "id", NULL },
	[PROTO_CTL_EVENT] = { "event", "data", NULL },
};

static int decode_kind(json_t *root, struct proto_ctl_msg *msg)
{
	const char *key;
	json_t *v;
	int found = -1;

	for (int k = PROTO_CTL_REQUEST; k <= PROTO_CTL_EVENT; k++) {
		if (!json_object_get(root, shape_keys[k][0]))
			continue;
		if (found >= 0) {
			set_reason(msg, "both \"%s\" and \"%s\"", shape_keys[found][0],
			           shape_keys[k][0]);
			return -EINVAL;
		}
		found = k;
	}
	if (found < 0) {
		set_reason(msg, "expected one of \"cmd\", \"ok\", \"error\" or \"event\"");
		return -EINVAL;
	}
	json_object_foreach (root, key, v) {
		unsigned int i;

		for (i = 0; i < 3; i++)
			if (shape_keys[found][i] && strcmp(key, shape_keys[found][i]) == 0)
				break;
		if (i == 3) {
			set_reason(msg, "unknown key \"%.64s\"", key);
			return -EINVAL;
		}
	}
	msg->kind = (enum proto_ctl_kind)found;
	return 0;
}

/* The optional object member @key of @root, as a new reference ({} when absent). */
static int decode_body(json_t *root, const char *key, struct proto_ctl_msg *msg)
{
	json_t *v = json_object_get(root, key);

	if (v && !json_is_object(v)) {
		set_reason(msg, "\"%s\" must be an object", key);
		return -EINVAL;
	}
	msg->body = v ? json_incref(v) : json_object();
	return msg->body ? 0 : -ENOMEM;
}

static int decode_name(json_t *root, const char *key, struct proto_ctl_msg *msg)
{
	json_t *v = json_object_get(root, key);

	if (!json_is_string(v) || !valid_name(json_string_value(v))) {
		set_reason(msg, "\"%s\" must be 1 to %d of a-z, 0-9 and -", key,
		           PROTO_CTL_NAME_MAX);
		return -EINVAL;
	}
	msg->name = strdup(json_string_value(v));
	return msg->name ? 0 : -ENOMEM;
}

static int decode_error(json_t *err, struct proto_ctl_msg *msg)
{
	json_t *cls, *desc;

	if (!json_is_object(err)) {
		set_reason(msg, "\"error\" must be an object");
		return -EINVAL;
	}
	cls = json_object_get(err, "class");
	desc = json_object_get(err, "desc");
	if (!json_is_string(cls) || !json_string_length(cls) || !json_is_string(desc) ||
	    json_object_size(err) != 2) {
		set_reason(msg, "\"error\" must have exactly a non-empty \"class\" and a \"desc\"");
		return -EINVAL;
	}
	/* Jansson allows an escaped NUL only with JSON_ALLOW_NUL, so these are C strings. */
	copy_utf8(msg->err_class, sizeof(msg->err_class), json_string_value(cls));
	copy_utf8(msg->err_desc, sizeof(msg->err_desc), json_string_value(desc));
	return 0;
}

static int decode_root(json_t *root, struct proto_ctl_msg *msg)
{
	json_t *id;
	int r;

	r = decode_kind(root, msg);
	if (r < 0)
		return r;
	id = json_object_get(root, "id");
	msg->id = -1;
	if (msg->kind == PROTO_CTL_REPLY_ERROR && json_is_null(id))
		id = NULL;
	if ((id || msg->kind == PROTO_CTL_REQUEST || msg->kind == PROTO_CTL_REPLY_OK) &&
	    !valid_id(id, &msg->id)) {
		set_reason(msg, "\"id\" must be an integer from 0 to 2^53");
		return -EINVAL;
	}

	switch (msg->kind) {
	case PROTO_CTL_REQUEST:
		r = decode_name(root, "cmd", msg);
		return r < 0 ? r : decode_body(root, "args", msg);
	case PROTO_CTL_REPLY_OK:
		return decode_body(root, "ok", msg);
	case PROTO_CTL_REPLY_ERROR:
		return decode_error(json_object_get(root, "error"), msg);
	case PROTO_CTL_EVENT:
		r = decode_name(root, "event", msg);
		return r < 0 ? r : decode_body(root, "data", msg);
	}
	return -EINVAL;
}

int proto_ctl_decode(const char *line, size_t len, struct proto_ctl_msg *msg)
{
	json_error_t jerr;
	json_t *root;
	int r;

	memset(msg, 0, sizeof(*msg));
	if (len && line[len - 1] == '\n') {
		len--;
		if (len && line[len - 1] == '\r')
			len--;
	}
	if (len > PROTO_CTL_MAX_LINE) {
		set_reason(msg, "line longer than %d bytes", PROTO_CTL_MAX_LINE);
		return -EMSGSIZE;
	}
	if (len && memchr(line, '\0', len)) {
		set_reason(msg, "NUL byte in the line");
		return -EINVAL;
	}
	if (len && memchr(line, '\n', len)) {
		set_reason(msg, "newline inside the message");
		return -EINVAL;
	}
	root = json_loadb(len ? line : "", len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (json_error_code(&jerr) == json_error_out_of_memory) {
			set_reason(msg, "out of memory");
			return -ENOMEM;
		}
		set_reason(msg, "invalid JSON at column %d: %s", jerr.column, jerr.text);
		return -EINVAL;
	}
	if (!json_is_object(root)) {
		set_reason(msg, "expected a JSON object");
		r = -EINVAL;
	} else {
		r = decode_root(root, msg);
	}
	json_decref(root);
	if (r < 0) {
		char why[sizeof(msg->err_desc)];

		/* Failure leaves nothing to clear, and only the reason. */
		memcpy(why, msg->err_desc, sizeof(why));
		free(msg->name);
		json_decref(msg->body);
		memset(msg, 0, sizeof(*msg));
		memcpy(msg->err_desc, why, sizeof(why));
		if (r == -ENOMEM)
			set_reason(msg, "out of memory");
	}
	return r;
}

void proto_ctl_msg_clear(struct proto_ctl_msg *msg)
{
	if (!msg)
		return;
	free(msg->name);
	json_decref(msg->body);
	memset(msg, 0, sizeof(*msg));
}

/* A JSON string of @s with every byte that is not valid UTF-8 replaced by '?'. */
static json_t *text(const char *s)
{
	size_t n = strlen(s);
	json_t *v;
	char *copy;

	v = json_string(s);
	if (v)
		return v;
	copy = malloc(n + 1);
	if (!copy)
		return NULL;
	for (size_t o = 0; o < n;) {
		size_t l = utf8_seq((const unsigned char *)s + o, n - o);

		if (l) {
			memcpy(copy + o, s + o, l);
			o += l;
		} else {
			copy[o++] = '?';
		}
	}
	copy[n] = '\0';
	v = json_string(copy);
	free(copy);
	return v;
}

struct out {
	char *buf;
	size_t len, cap;
	bool nomem;
};

static int out_add(const char *data, size_t n, void *opaque)
{
	struct out *o = opaque;

	/* Room for the data, the newline and the NUL. */
	if (n + 2 > o->cap - o->len) {
		size_t cap = o->cap ? o->cap : 256;
		char *buf;

		while (cap - o->len < n + 2) {
			if (cap > SIZE_MAX / 2)
				goto out_nomem;
			cap *= 2;
		}
		buf = realloc(o->buf, cap);
		if (!buf)
			goto out_nomem;
		o->buf = buf;
		o->cap = cap;
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
	return 0;

out_nomem:
	o->nomem = true;
	return -1;
}

/* Serialise and release @root (NULL: building it ran out of memory) as one line. */
static char *finish(json_t *root)
{
	struct out o = { 0 };
	int r;

	if (!root) {
		errno = ENOMEM;
		return NULL;
	}
	r = json_dump_callback(root, out_add, &o, JSON_COMPACT);
	json_decref(root);
	if (r < 0 || !o.buf) {
		free(o.buf);
		/* Otherwise jansson met a string that was created without a UTF-8 check. */
		errno = o.nomem ? ENOMEM : EINVAL;
		return NULL;
	}
	o.buf[o.len++] = '\n';
	o.buf[o.len] = '\0';
	return o.buf;
}

/* Build {k1: v1, k2: v2}, taking the references; NULL if any is NULL. */
static json_t *pair(const char *k1, json_t *v1, const char *k2, json_t *v2)
{
	json_t *root = json_object();

	if (!root || !v1 || !v2) {
		json_decref(root);
		json_decref(v1);
		json_decref(v2);
		return NULL;
	}
	/* set_new consumes its value even when it fails. */
	if (json_object_set_new(root, k1, v1) < 0) {
		json_decref(v2);
		json_decref(root);
		return NULL;
	}
	if (json_object_set_new(root, k2, v2) < 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static json_t *body_ref(json_t *body)
{
	return body ? json_incref(body) : json_object();
}

static bool encodable_id(int64_t id)
{
	if (id >= 0 && id <= PROTO_CTL_ID_MAX)
		return true;
	errno = EINVAL;
	return false;
}

static bool encodable(const char *name, json_t *body)
{
	if ((name && valid_name(name)) && (!body || json_is_object(body)))
		return true;
	errno = EINVAL;
	return false;
}

char *proto_ctl_encode_request(int64_t id, const char *cmd, json_t *args)
{
	json_t *root;

	if (!encodable_id(id) || !encodable(cmd, args))
		return NULL;
	root = pair("id", json_integer(id), "cmd", json_string(cmd));
	/* No args is the same request as empty args; leave the line short. */
	if (root && args && json_object_size(args) &&
	    json_object_set_new(root, "args", json_incref(args)) < 0) {
		json_decref(root);
		root = NULL;
	}
	return finish(root);
}

char *proto_ctl_encode_ok(int64_t id, json_t *ok)
{
	if (!encodable_id(id) || !encodable("ok", ok))
		return NULL;
	return finish(pair("id", json_integer(id), "ok", body_ref(ok)));
}

char *proto_ctl_encode_error(int64_t id, const char *cls, const char *desc)
{
	json_t *jid;

	if (id != -1 && !encodable_id(id))
		return NULL;
	if (!cls || !*cls)
		cls = PROTO_CTL_ERR_FAILED;
	jid = id == -1 ? json_null() : json_integer(id);
	return finish(
	        pair("id", jid, "error", pair("class", text(cls), "desc", text(desc ? desc : ""))));
}

char *proto_ctl_encode_event(const char *name, json_t *data)
{
	if (!encodable(name, data))
		return NULL;
	return finish(pair("event", json_string(name), "data", body_ref(data)));
}

int proto_linebuf_init(struct proto_linebuf *lb, size_t max_line)
{
	memset(lb, 0, sizeof(*lb));
	if (!max_line)
		return -EINVAL;
	lb->cap = LINEBUF_INITIAL;
	lb->buf = malloc(lb->cap);
	if (!lb->buf)
		return -ENOMEM;
	lb->max = max_line;
	return 0;
}

void proto_linebuf_free(struct proto_linebuf *lb)
{
	if (!lb)
		return;
	free(lb->buf);
	memset(lb, 0, sizeof(*lb));
}

/* A line of @n bytes before its "\n", the last of them @last. */
static bool line_fits(const struct proto_linebuf *lb, size_t n, char last)
{
	return n <= lb->max || (n == lb->max + 1 && last == '\r');
}

int proto_linebuf_append(struct proto_linebuf *lb, const void *data, size_t n)
{
	const char *p = data, *end = p + n, *nl;
	size_t tail = lb->tail;
	char last = lb->tail ? lb->buf[lb->len - 1] : '\0';

	if (!n)
		return 0;
	/* Check first, so that a refused append leaves the buffer as it was. */
	while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
		size_t l = tail + (size_t)(nl - p);

		if (nl > p)
			last = nl[-1];
		if (!line_fits(lb, l, last))
			return -EMSGSIZE;
		tail = 0;
		last = '\0';
		p = nl + 1;
	}
	if (end > p)
		last = end[-1];
	tail += (size_t)(end - p);
	if (!line_fits(lb, tail, last))
		return -EMSGSIZE;

	if (lb->start) {
		memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->scan -= lb->start;
		lb->start = 0;
	}
	if (n > lb->cap - lb->len) {
		size_t cap = lb->cap;
		char *buf;

		while (cap - lb->len < n) {
			if (cap > SIZE_MAX / 2)
				return -ENOMEM;
			cap *= 2;
		}
		buf = realloc(lb->buf, cap);
		if (!buf)
			return -ENOMEM;
		lb->buf = buf;
		lb->cap = cap;
	}
	memcpy(lb->buf + lb->len, data, n);
	lb->len += n;
	lb->tail = tail;
	return 0;
}

int proto_linebuf_next(struct proto_linebuf *lb, const char **line, size_t *len)
{
	char *nl = NULL;
	size_t l;

	if (lb->scan < lb->len)
		nl = memchr(lb->buf + lb->scan, '\n', lb->len - lb->scan);
	if (!nl) {
		lb->scan = lb->len;
		if (lb->start == lb->len)
			lb->start = lb->len = lb->scan = 0;
		return 0;
	}
	l = (size_t)(nl - (lb->buf + lb->start));
	if (l && nl[-1] == '\r')
		l--;
	lb->buf[lb->start + l] = '\0';
	*line = lb->buf + lb->start;
	*len = l;
	lb->start = lb->scan = (size_t)(nl - lb->buf) + 1;
	return 1;
}
