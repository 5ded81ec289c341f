// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the control protocol, three ways:
 *
 *  1. the input as one line, and as a byte stream cut by a line buffer in
 *     chunks whose sizes come from the input itself;
 *  2. the input spliced into a message template, so that the fuzzer gets
 *     past the JSON syntax (jansson is not instrumented, so it gives the
 *     fuzzer no coverage to climb on);
 *  3. a message built from the input with the jansson API and encoded.
 *
 * Every message that decodes must encode again, and decode from that to
 * the same message: same kind, id, name, body and error strings. Every
 * message the encoders accept must decode.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/control.h"

#define STREAM_MAX_LINE 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *encode(const struct proto_ctl_msg *m)
{
	switch (m->kind) {
	case PROTO_CTL_REQUEST:
		return proto_ctl_encode_request(m->id, m->name, m->body);
	case PROTO_CTL_REPLY_OK:
		return proto_ctl_encode_ok(m->id, m->body);
	case PROTO_CTL_REPLY_ERROR:
		return proto_ctl_encode_error(m->id, m->err_class, m->err_desc);
	case PROTO_CTL_EVENT:
		return proto_ctl_encode_event(m->name, m->body);
	}
	abort();
}

static void check_round_trip(const struct proto_ctl_msg *m)
{
	struct proto_ctl_msg back;
	char *line = encode(m);
	size_t len;
	int r;

	if (!line) {
		if (errno == ENOMEM)
			return;
		abort();
	}
	len = strlen(line);
	if (len < 2 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		abort();
	r = proto_ctl_decode(line, len, &back);
	/* Compact JSON is not always shorter: 1e9 comes back as 1000000000.0. */
	if (r == -EMSGSIZE && len - 1 > PROTO_CTL_MAX_LINE)
		goto out_free;
	if (r != 0)
		abort();
	if (back.kind != m->kind || back.id != m->id)
		abort();
	if ((m->name || back.name) && (!m->name || !back.name || strcmp(m->name, back.name)))
		abort();
	if ((m->body || back.body) && (!m->body || !back.body || !json_equal(m->body, back.body)))
		abort();
	if (strcmp(back.err_class, m->err_class) || strcmp(back.err_desc, m->err_desc))
		abort();
	proto_ctl_msg_clear(&back);
out_free:
	free(line);
}

static void decode_line(const char *line, size_t len)
{
	struct proto_ctl_msg m;
	int r = proto_ctl_decode(line, len, &m);

	if (r == 0) {
		check_round_trip(&m);
		proto_ctl_msg_clear(&m);
		return;
	}
	if (r != -EINVAL && r != -EMSGSIZE && r != -ENOMEM)
		abort();
	/* Failures leave a reason and nothing to free. */
	if (m.name || m.body || !m.err_desc[0])
		abort();
}

static void stream(const uint8_t *data, size_t size)
{
	struct proto_linebuf lb;
	size_t off = 0, chunk = size ? (size_t)data[0] % 64 + 1 : 1;

	if (proto_linebuf_init(&lb, STREAM_MAX_LINE) != 0)
		return;
	while (off < size) {
		size_t n = size - off < chunk ? size - off : chunk;
		const char *line;
		size_t len;
		int r;

		r = proto_linebuf_append(&lb, data + off, n);
		if (r == -EMSGSIZE)
			break; /* where a server hangs up */
		if (r != 0)
			abort();
		while ((r = proto_linebuf_next(&lb, &line, &len)) == 1) {
			if (len > STREAM_MAX_LINE || line[len] != '\0' || memchr(line, '\n', len))
				abort();
			decode_line(line, len);
		}
		if (r != 0)
			abort();
		off += n;
		chunk = chunk * 3 % 97 + 1;
	}
	proto_linebuf_free(&lb);
}

/* The input goes between the two halves. */
static const char *const templates[][2] = {
	{ "{\"id\":1,\"cmd\":\"send-key\",\"args\":", "}" },
	{ "{\"id\":", ",\"cmd\":\"stop\"}" },
	{ "{\"id\":1,\"cmd\":", "}" },
	{ "{\"id\":1,\"ok\":", "}" },
	{ "{\"id\":", ",\"error\":{\"class\":\"Failed\",\"desc\":\"x\"}}" },
	{ "{\"id\":1,\"error\":{\"class\":", "}}" },
	{ "{\"id\":null,\"error\":{\"class\":\"C\",\"desc\":\"", "\"}}" },
	{ "{\"event\":", "}" },
	{ "{\"event\":\"stop\",\"data\":{", "}}" },
	{ "{\"id\":1,\"cmd\":\"stop\",", "}" },
};

#define NR_TEMPLATES (sizeof(templates) / sizeof(templates[0]))

static void templated(const uint8_t *data, size_t size)
{
	const char *head, *tail;
	size_t hl, tl;
	char *line;

	if (!size)
		return;
	head = templates[data[0] % NR_TEMPLATES][0];
	tail = templates[data[0] % NR_TEMPLATES][1];
	hl = strlen(head);
	tl = strlen(tail);
	line = malloc(hl + size - 1 + tl);
	if (!line)
		return;
	memcpy(line, head, hl);
	memcpy(line + hl, data + 1, size - 1);
	memcpy(line + hl + size - 1, tail, tl);
	decode_line(line, hl + size - 1 + tl);
	free(line);
}

struct bytes {
	const uint8_t *p;
	size_t left;
};

static uint8_t take(struct bytes *b)
{
	if (!b->left)
		return 0;
	b->left--;
	return *b->p++;
}

static uint64_t take64(struct bytes *b)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | take(b);
	return v;
}

/* Up to 255 bytes of input as a C string (stops early at a NUL). */
static char *take_str(struct bytes *b, char *buf)
{
	size_t n = take(b);

	if (n > b->left)
		n = b->left;
	memcpy(buf, b->p, n);
	buf[n] = '\0';
	b->p += n;
	b->left -= n;
	return buf;
}

static json_t *gen_value(struct bytes *b, int depth)
{
	char buf[256];
	json_t *v;

	switch (take(b) % (depth < 8 ? 8 : 6)) {
	case 0:
		return json_null();
	case 1:
		return json_boolean(take(b) & 1);
	case 2:
		return json_integer((json_int_t)take64(b));
	case 3: {
		uint64_t bits = take64(b);
		double d;

		memcpy(&d, &bits, sizeof(d));
		return json_real(d); /* NULL for NaN and infinities */
	}
	case 4:
	case 5:
		return json_string(take_str(b, buf)); /* NULL unless UTF-8 */
	case 6:
		v = json_array();
		for (unsigned int n = take(b) % 5; v && n; n--)
			json_array_append_new(v, gen_value(b, depth + 1));
		return v;
	default:
		v = json_object();
		for (unsigned int n = take(b) % 5; v && n; n--) {
			json_t *item = gen_value(b, depth + 1);

			if (item)
				json_object_set_new(v, take_str(b, buf), item);
		}
		return v;
	}
}

static void generated(const uint8_t *data, size_t size)
{
	struct bytes b = { data, size };
	struct proto_ctl_msg m;
	char name[256], cls[256], desc[256];
	unsigned int kind = take(&b) % 4;
	int64_t id = (int64_t)(take64(&b) >> (take(&b) % 12));
	json_t *body = NULL;
	char *line;
	int r;

	if (take(&b) & 1)
		id &= (1LL << 53) - 1;
	take_str(&b, name);
	if (take(&b) & 1)
		body = gen_value(&b, 0);
	switch (kind) {
	case PROTO_CTL_REQUEST:
		line = proto_ctl_encode_request(id, name, body);
		break;
	case PROTO_CTL_REPLY_OK:
		line = proto_ctl_encode_ok(id, body);
		break;
	case PROTO_CTL_REPLY_ERROR:
		line = proto_ctl_encode_error(id, take_str(&b, cls), take_str(&b, desc));
		break;
	default:
		line = proto_ctl_encode_event(name, body);
		break;
	}
	if (!line)
		goto out_body;
	r = proto_ctl_decode(line, strlen(line), &m);
	if (r == -EMSGSIZE && strlen(line) - 1 > PROTO_CTL_MAX_LINE)
		goto out_line;
	if (r != 0 || (unsigned int)m.kind != kind)
		abort();
	if (kind != PROTO_CTL_REPLY_ERROR && (!body || json_is_object(body)) &&
	    !json_equal(m.body, body ? body : m.body))
		abort();
	if (kind == PROTO_CTL_REPLY_ERROR && (!m.err_class[0] || id != m.id))
		abort();
	check_round_trip(&m);
	proto_ctl_msg_clear(&m);
out_line:
	free(line);
out_body:
	json_decref(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode_line((const char *)data, size);
	stream(data, size);
	templated(data, size);
	generated(data, size);
	return 0;
}
