// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for .vv files. The input is parsed as it is, and again
 * as lines of values: the first byte of each line picks the key it is
 * given to, behind a valid start ("[virt-viewer]" and a type). GKeyFile
 * finds keys by hash, so the fuzzer would hardly guess their names itself.
 *
 * Whatever parses must write back, and the written file must parse to the
 * same fields.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int str_differ(const char *a, const char *b)
{
	if (!a || !b)
		return a != b;
	return strcmp(a, b) != 0;
}

static int vv_differ(const struct proto_vv *a, const struct proto_vv *b)
{
	return str_differ(a->type, b->type) || str_differ(a->host, b->host) || a->port != b->port ||
	       a->tls_port != b->tls_port || str_differ(a->password, b->password) ||
	       str_differ(a->title, b->title) || a->fullscreen != b->fullscreen ||
	       a->delete_this_file != b->delete_this_file || str_differ(a->ca, b->ca) ||
	       str_differ(a->host_subject, b->host_subject) ||
	       str_differ(a->secure_attention, b->secure_attention) ||
	       str_differ(a->release_cursor, b->release_cursor) ||
	       str_differ(a->toggle_fullscreen, b->toggle_fullscreen) ||
	       str_differ(a->proxy, b->proxy);
}

static void check(const char *data, size_t size)
{
	struct proto_vv vv, back;
	char err[256];
	char *text;
	int r;

	r = proto_vv_parse(data, size, &vv, err, sizeof(err));
	if (r != 0) {
		if ((r != -EINVAL && r != -EMSGSIZE && r != -ENOMEM) || !err[0])
			abort();
		return;
	}
	text = proto_vv_write(&vv);
	if (!text)
		abort();
	r = proto_vv_parse(text, strlen(text), &back, err, sizeof(err));
	/* Escaping may lengthen a file that was close to the limit. */
	if (r == -EMSGSIZE && strlen(text) > PROTO_VV_MAX_SIZE)
		goto out_free;
	if (r != 0 || vv_differ(&vv, &back))
		abort();
	proto_vv_clear(&back);
out_free:
	free(text);
	proto_vv_clear(&vv);
}

static const char *const keys[] = {
	"type",
	"host",
	"port",
	"tls-port",
	"password",
	"title",
	"fullscreen",
	"delete-this-file",
	"ca",
	"host-subject",
	"secure-attention",
	"release-cursor",
	"toggle-fullscreen",
	"proxy",
	"username",
	"password[fr]",
};

#define NR_KEYS (sizeof(keys) / sizeof(keys[0]))

/* "[virt-viewer]\ntype=spice\n" and "<key>=<rest of line>" for each input line. */
static void check_keyed(const uint8_t *data, size_t size)
{
	static const char head[] = "[virt-viewer]\ntype=spice\n";
	size_t cap = sizeof(head) + size * 20, len = sizeof(head) - 1;
	const uint8_t *p = data, *end = data + size;
	char *buf = malloc(cap);

	if (!buf)
		return;
	memcpy(buf, head, len);
	while (p < end) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *line_end = nl ? nl : end;

		if (line_end > p) {
			const char *key = keys[p[0] % NR_KEYS];
			size_t n = (size_t)(line_end - p - 1);

			memcpy(buf + len, key, strlen(key));
			len += strlen(key);
			buf[len++] = '=';
			memcpy(buf + len, p + 1, n);
			len += n;
			buf[len++] = '\n';
		}
		p = line_end + 1;
	}
	check(buf, len);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check((const char *)data, size);
	check_keyed(data, size);
	return 0;
}
