// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/control.h"

static int decode(const char *line, struct proto_ctl_msg *msg)
{
	return proto_ctl_decode(line, strlen(line), msg);
}

/* Decode @line, expecting failure @err; the message must be left empty. */
static void refuse(const char *line, int err)
{
	struct proto_ctl_msg msg;

	memset(&msg, 0x5a, sizeof(msg));
	ck_assert_msg(decode(line, &msg) == err, "accepted or misjudged: %s", line);
	ck_assert_ptr_null(msg.name);
	ck_assert_ptr_null(msg.body);
	ck_assert_msg(msg.err_desc[0], "no reason for: %s", line);
	ck_assert_uint_lt(strlen(msg.err_desc), sizeof(msg.err_desc));
}

static void assert_one_line(const char *line)
{
	size_t len = strlen(line);

	ck_assert_uint_gt(len, 1);
	ck_assert_int_eq(line[len - 1], '\n');
	ck_assert_ptr_eq(strchr(line, '\n'), line + len - 1);
}

START_TEST(request_round_trip)
{
	json_t *args = json_pack("{s:s, s:[i,i], s:{s:b}}", "key", "ctrl-alt-del", "xy", 1, 2,
	                         "opts", "down", 1);
	struct proto_ctl_msg msg;
	char *line;

	line = proto_ctl_encode_request(42, "send-key", args);
	ck_assert_ptr_nonnull(line);
	assert_one_line(line);
	ck_assert_int_eq(decode(line, &msg), 0);
	ck_assert_int_eq(msg.kind, PROTO_CTL_REQUEST);
	ck_assert_int_eq(msg.id, 42);
	ck_assert_str_eq(msg.name, "send-key");
	ck_assert(json_equal(msg.body, args));
	proto_ctl_msg_clear(&msg);
	ck_assert_ptr_null(msg.name);
	free(line);
	/* Borrowed: still ours. */
	ck_assert_int_eq(args->refcount, 1);
	json_decref(args);

	line = proto_ctl_encode_request(0, "query-status", NULL);
	ck_assert_str_eq(line, "{\"id\":0,\"cmd\":\"query-status\"}\n");
	ck_assert_int_eq(decode(line, &msg), 0);
	ck_assert(json_is_object(msg.body));
	ck_assert_uint_eq(json_object_size(msg.body), 0);
	proto_ctl_msg_clear(&msg);
	free(line);
}
END_TEST

START_TEST(ok_round_trip)
{
	json_t *ok = json_pack("{s:s, s:f, s:n}", "status", "running", "uptime", 1.5, "x");
	struct proto_ctl_msg msg;
	char *line;

	line = proto_ctl_encode_ok((1LL << 53), ok);
	assert_one_line(line);
	ck_assert_int_eq(decode(line, &msg), 0);
	ck_assert_int_eq(msg.kind, PROTO_CTL_REPLY_OK);
	ck_assert_int_eq(msg.id, 1LL << 53);
	ck_assert_ptr_null(msg.name);
	ck_assert(json_equal(msg.body, ok));
	proto_ctl_msg_clear(&msg);
	free(line);
	json_decref(ok);

	line = proto_ctl_encode_ok(3, NULL);
	ck_assert_str_eq(line, "{\"id\":3,\"ok\":{}}\n");
	free(line);
}
END_TEST

START_TEST(error_round_trip)
{
	struct proto_ctl_msg msg;
	char *line;

	line = proto_ctl_encode_error(9, PROTO_CTL_ERR_UNKNOWN_COMMAND, "unknown command 'x'");
	ck_assert_str_eq(line, "{\"id\":9,\"error\":{\"class\":\"UnknownCommand\","
	                       "\"desc\":\"unknown command 'x'\"}}\n");
	ck_assert_int_eq(decode(line, &msg), 0);
	ck_assert_int_eq(msg.kind, PROTO_CTL_REPLY_ERROR);
	ck_assert_int_eq(msg.id, 9);
	ck_assert_str_eq(msg.err_class, "UnknownCommand");
	ck_assert_str_eq(msg.err_desc, "unknown command 'x'");
	ck_assert_ptr_null(msg.body);
	proto_ctl_msg_clear(&msg);
	free(line);

	line = proto_ctl_encode_error(-1, PROTO_CTL_ERR_BAD_REQUEST, "line too long");
	ck_assert_ptr_nonnull(strstr(line, "\"id\":null"));
	ck_assert_int_eq(decode(line, &msg), 0);
	ck_assert_int_eq(msg.id, -1);
	ck_assert_str_eq(msg.err_class, "BadRequest");
	proto_ctl_msg_clear(&msg);
	free(line);

	/* What vdi-vmm says to one client too many: no id at all. */
	ck_assert_int_eq(decode("{\"error\":{\"class\":\"busy\",\"desc\":\"too many\"}}", &msg), 0);
	ck_assert_int_eq(msg.id, -1);
	ck_assert_str_eq(msg.err_class, "busy");
	proto_ctl_msg_clear(&msg);

	line = proto_ctl_encode_error(1, NULL, NULL);
	ck_assert_int_eq(decode(line, &msg), 0);
	ck_assert_str_eq(msg.err_class, PROTO_CTL_ERR_FAILED);
	ck_assert_str_eq(msg.err_desc, "");
	free(line);
}
END_TEST

START_TEST(event_round_trip)
{
	json_t *data = json_pack("{s:s}", "reason", "poweroff");
	struct proto_ctl_msg msg;
	char *line;

	line = proto_ctl_encode_event("guest-shutdown", data);
	ck_assert_str_eq(line,
	                 "{\"event\":\"guest-shutdown\",\"data\":{\"reason\":\"poweroff\"}}\n");
	ck_assert_int_eq(decode(line, &msg), 0);
	ck_assert_int_eq(msg.kind, PROTO_CTL_EVENT);
	ck_assert_int_eq(msg.id, -1);
	ck_assert_str_eq(msg.name, "guest-shutdown");
	ck_assert(json_equal(msg.body, data));
	proto_ctl_msg_clear(&msg);
	free(line);
	json_decref(data);

	ck_assert_int_eq(decode("{\"event\":\"stop\"}", &msg), 0);
	ck_assert(json_is_object(msg.body));
	proto_ctl_msg_clear(&msg);
}
END_TEST

START_TEST(bad_json)
{
	refuse("", -EINVAL);
	refuse("\n", -EINVAL);
	refuse("{", -EINVAL);
	refuse("not json", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\"} {}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",}", -EINVAL);
	refuse("{'id':1}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"st\xffop\"}", -EINVAL);
}
END_TEST

START_TEST(not_an_object)
{
	refuse("[]", -EINVAL);
	refuse("[{\"id\":1,\"cmd\":\"stop\"}]", -EINVAL);
	refuse("42", -EINVAL);
	refuse("\"cmd\"", -EINVAL);
	refuse("null", -EINVAL);
	refuse("true", -EINVAL);
	refuse("{}", -EINVAL);
}
END_TEST

START_TEST(wrong_shape_or_types)
{
	refuse("{\"id\":1,\"cmd\":5}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":null}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",\"args\":[]}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",\"args\":null}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",\"args\":\"x\"}", -EINVAL);
	refuse("{\"cmd\":\"stop\"}", -EINVAL); /* request without id */
	refuse("{\"id\":1,\"ok\":[]}", -EINVAL);
	refuse("{\"id\":1,\"ok\":true}", -EINVAL);
	refuse("{\"ok\":{}}", -EINVAL);
	refuse("{\"id\":1,\"error\":\"bad\"}", -EINVAL);
	refuse("{\"id\":1,\"error\":{\"class\":5,\"desc\":\"d\"}}", -EINVAL);
	refuse("{\"id\":1,\"error\":{\"class\":\"\",\"desc\":\"d\"}}", -EINVAL);
	refuse("{\"id\":1,\"error\":{\"class\":\"C\"}}", -EINVAL);
	refuse("{\"id\":1,\"error\":{\"class\":\"C\",\"desc\":\"d\",\"x\":1}}", -EINVAL);
	refuse("{\"event\":\"stop\",\"data\":[1]}", -EINVAL);
	refuse("{\"event\":7}", -EINVAL);
	/* Two shapes in one. */
	refuse("{\"id\":1,\"cmd\":\"stop\",\"ok\":{}}", -EINVAL);
	refuse("{\"id\":1,\"ok\":{},\"error\":{\"class\":\"C\",\"desc\":\"d\"}}", -EINVAL);
	refuse("{\"event\":\"stop\",\"cmd\":\"stop\"}", -EINVAL);
}
END_TEST

START_TEST(names)
{
	char line[200];
	struct proto_ctl_msg msg;

	refuse("{\"id\":1,\"cmd\":\"\"}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"Stop\"}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"send_key\"}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"send key\"}", -EINVAL);
	refuse("{\"event\":\"STOP\"}", -EINVAL);
	snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%065d\"}", 0);
	refuse(line, -EINVAL);
	snprintf(line, sizeof(line), "{\"id\":1,\"cmd\":\"%064d\"}", 0);
	ck_assert_int_eq(decode(line, &msg), 0);
	proto_ctl_msg_clear(&msg);
}
END_TEST

START_TEST(ids)
{
	struct proto_ctl_msg msg;

	refuse("{\"id\":-1,\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":1.0,\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":1e3,\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":\"1\",\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":null,\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":9007199254740993,\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":99999999999999999999999,\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":-1,\"error\":{\"class\":\"C\",\"desc\":\"d\"}}", -EINVAL);
	refuse("{\"id\":1,\"event\":\"stop\"}", -EINVAL);
	ck_assert_int_eq(decode("{\"id\":9007199254740992,\"cmd\":\"stop\"}", &msg), 0);
	ck_assert_int_eq(msg.id, 9007199254740992LL);
	proto_ctl_msg_clear(&msg);
	ck_assert_int_eq(decode("{\"cmd\":\"stop\",\"id\":0}", &msg), 0);
	ck_assert_int_eq(msg.id, 0);
	proto_ctl_msg_clear(&msg);
}
END_TEST

START_TEST(duplicate_and_unknown_keys)
{
	refuse("{\"id\":1,\"id\":2,\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",\"cmd\":\"quit\"}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",\"args\":{\"a\":1,\"a\":2}}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",\"extra\":1}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",\"data\":{}}", -EINVAL);
	refuse("{\"id\":1,\"ok\":{},\"args\":{}}", -EINVAL);
	refuse("{\"event\":\"stop\",\"args\":{}}", -EINVAL);
}
END_TEST

/* A valid request padded with spaces to exactly @len bytes. */
static char *padded_request(size_t len)
{
	static const char req[] = "{\"id\":1,\"cmd\":\"stop\"}";
	char *line = malloc(len + 3);

	ck_assert_uint_ge(len, sizeof(req) - 1);
	memset(line, ' ', len);
	memcpy(line, req, sizeof(req) - 1);
	line[len] = '\0';
	return line;
}

START_TEST(line_length)
{
	struct proto_ctl_msg msg;
	char *line = padded_request(PROTO_CTL_MAX_LINE);

	ck_assert_int_eq(proto_ctl_decode(line, PROTO_CTL_MAX_LINE, &msg), 0);
	proto_ctl_msg_clear(&msg);
	/* The newline does not count. */
	memcpy(line + PROTO_CTL_MAX_LINE, "\r\n", 3);
	ck_assert_int_eq(proto_ctl_decode(line, PROTO_CTL_MAX_LINE + 2, &msg), 0);
	proto_ctl_msg_clear(&msg);
	ck_assert_int_eq(proto_ctl_decode(line, PROTO_CTL_MAX_LINE + 1, &msg), -EMSGSIZE);
	ck_assert_ptr_null(msg.name);
	ck_assert_str_eq(msg.err_desc, "line longer than 65536 bytes");
	free(line);

	line = padded_request(PROTO_CTL_MAX_LINE + 1);
	refuse(line, -EMSGSIZE);
	free(line);
}
END_TEST

START_TEST(nul_and_newlines)
{
	static const char nul[] = "{\"id\":1,\"cmd\":\"stop\"}\0";
	static const char inner[] = "{\"id\":1,\0\"cmd\":\"stop\"}";
	struct proto_ctl_msg msg;

	ck_assert_int_eq(proto_ctl_decode(nul, sizeof(nul) - 1, &msg), -EINVAL);
	ck_assert_int_eq(proto_ctl_decode(inner, sizeof(inner) - 1, &msg), -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\",\"args\":{\"s\":\"a\\u0000b\"}}", -EINVAL);
	refuse("{\"id\":1,\n\"cmd\":\"stop\"}", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\"}\n\n", -EINVAL);
	refuse("{\"id\":1,\"cmd\":\"stop\"}\n\r\n", -EINVAL);

	ck_assert_int_eq(decode("{\"id\":1,\"cmd\":\"stop\"}\r\n", &msg), 0);
	ck_assert_str_eq(msg.name, "stop");
	proto_ctl_msg_clear(&msg);
	ck_assert_int_eq(decode("{\"id\":1,\"cmd\":\"stop\"}\n", &msg), 0);
	proto_ctl_msg_clear(&msg);
}
END_TEST

START_TEST(error_strings_truncated)
{
	char line[1200], cls[200], desc[600];
	struct proto_ctl_msg msg;

	memset(cls, 'C', sizeof(cls) - 1);
	cls[sizeof(cls) - 1] = '\0';
	/* "é" is two bytes: 255 bytes of room would otherwise cut one in half. */
	memcpy(desc, "xx", 2);
	for (size_t i = 2; i + 2 < sizeof(desc); i += 2)
		memcpy(desc + i, "\xc3\xa9", 3);
	snprintf(line, sizeof(line), "{\"id\":1,\"error\":{\"class\":\"%s\",\"desc\":\"%s\"}}", cls,
	         desc);
	ck_assert_int_eq(decode(line, &msg), 0);
	ck_assert_uint_eq(strlen(msg.err_class), 63);
	ck_assert_uint_eq(strlen(msg.err_desc), 254);
	ck_assert_int_eq(strncmp(msg.err_desc, desc, 254), 0);
	proto_ctl_msg_clear(&msg);
}
END_TEST

START_TEST(encoders_refuse)
{
	json_t *arr = json_array();
	char *line;

	errno = 0;
	ck_assert_ptr_null(proto_ctl_encode_request(-1, "stop", NULL));
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_ptr_null(proto_ctl_encode_request((1LL << 53) + 1, "stop", NULL));
	ck_assert_ptr_null(proto_ctl_encode_request(1, "Stop", NULL));
	ck_assert_ptr_null(proto_ctl_encode_request(1, "", NULL));
	ck_assert_ptr_null(proto_ctl_encode_request(1, NULL, NULL));
	ck_assert_ptr_null(proto_ctl_encode_request(1, "stop", arr));
	ck_assert_ptr_null(proto_ctl_encode_ok(-1, NULL));
	ck_assert_ptr_null(proto_ctl_encode_ok(1, arr));
	ck_assert_ptr_null(proto_ctl_encode_error(-2, "C", "d"));
	ck_assert_ptr_null(proto_ctl_encode_event("bad name", NULL));
	ck_assert_ptr_null(proto_ctl_encode_event("stop", arr));
	json_decref(arr);

	/* Invalid UTF-8 in a description (quoting a peer) is patched, not dropped. */
	line = proto_ctl_encode_error(1, "C\xff", "bad \xc3 byte \xe2\x82");
	ck_assert_ptr_nonnull(line);
	ck_assert_str_eq(line,
	                 "{\"id\":1,\"error\":{\"class\":\"C?\",\"desc\":\"bad ? byte ??\"}}\n");
	free(line);
	/* Newlines in strings are escaped, so a message stays on one line. */
	line = proto_ctl_encode_error(1, "C", "two\nlines");
	assert_one_line(line);
	free(line);
}
END_TEST

static void append(struct proto_linebuf *lb, const char *s)
{
	ck_assert_int_eq(proto_linebuf_append(lb, s, strlen(s)), 0);
}

static void expect_line(struct proto_linebuf *lb, const char *want)
{
	const char *line;
	size_t len;

	ck_assert_int_eq(proto_linebuf_next(lb, &line, &len), 1);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(line, want);
}

static void expect_none(struct proto_linebuf *lb)
{
	const char *line;
	size_t len;

	ck_assert_int_eq(proto_linebuf_next(lb, &line, &len), 0);
}

START_TEST(linebuf_split_lines)
{
	static const char text[] = "{\"id\":1,\"cmd\":\"stop\"}\r\n{\"id\":2,\"cmd\":\"cont\"}\n";
	struct proto_linebuf lb;
	const char *line;
	size_t len;
	int got = 0;

	ck_assert_int_eq(proto_linebuf_init(&lb, 64), 0);
	expect_none(&lb);
	for (size_t i = 0; i < sizeof(text) - 1; i++) {
		ck_assert_int_eq(proto_linebuf_append(&lb, text + i, 1), 0);
		while (proto_linebuf_next(&lb, &line, &len) == 1) {
			struct proto_ctl_msg msg;

			ck_assert_int_eq(proto_ctl_decode(line, len, &msg), 0);
			ck_assert_int_eq(msg.id, ++got);
			proto_ctl_msg_clear(&msg);
		}
	}
	ck_assert_int_eq(got, 2);
	append(&lb, "par");
	expect_none(&lb);
	append(&lb, "tial");
	expect_none(&lb);
	append(&lb, "\n\nnext");
	expect_line(&lb, "partial");
	expect_line(&lb, ""); /* an empty line is a line */
	expect_none(&lb);
	append(&lb, "\n");
	expect_line(&lb, "next");
	expect_none(&lb);
	proto_linebuf_free(&lb);
	proto_linebuf_free(&lb);
	proto_linebuf_free(NULL);
}
END_TEST

START_TEST(linebuf_many_lines)
{
	struct proto_linebuf lb;
	char *text = malloc(1000 * 8 + 1);
	size_t n = 0;

	for (int i = 0; i < 1000; i++)
		n += (size_t)sprintf(text + n, "%06d\n", i);
	ck_assert_int_eq(proto_linebuf_init(&lb, 16), 0);
	ck_assert_int_eq(proto_linebuf_append(&lb, text, n), 0);
	for (int i = 0; i < 1000; i++) {
		char want[8];

		sprintf(want, "%06d", i);
		expect_line(&lb, want);
	}
	expect_none(&lb);
	proto_linebuf_free(&lb);
	free(text);
}
END_TEST

START_TEST(linebuf_overflow)
{
	struct proto_linebuf lb;
	char big[40];

	ck_assert_int_eq(proto_linebuf_init(&lb, 0), -EINVAL);
	ck_assert_int_eq(proto_linebuf_init(&lb, 8), 0);
	/* Exactly the maximum, with either ending. */
	append(&lb, "12345678\n12345678\r\n1234");
	expect_line(&lb, "12345678");
	expect_line(&lb, "12345678");
	expect_none(&lb);
	append(&lb, "5678");
	append(&lb, "\r");
	/* One more byte and the unfinished line is too long. */
	ck_assert_int_eq(proto_linebuf_append(&lb, "9", 1), -EMSGSIZE);
	/* The refused data was not taken: the line can still end. */
	append(&lb, "\n");
	expect_line(&lb, "12345678");

	/* A finished line over the maximum inside one append. */
	ck_assert_int_eq(proto_linebuf_append(&lb, "ok\n123456789\nok\n", 16), -EMSGSIZE);
	expect_none(&lb);
	append(&lb, "123");
	ck_assert_int_eq(proto_linebuf_append(&lb, "456789\n", 7), -EMSGSIZE);
	memset(big, 'x', sizeof(big));
	ck_assert_int_eq(proto_linebuf_append(&lb, big, sizeof(big)), -EMSGSIZE);
	append(&lb, "\n");
	expect_line(&lb, "123");
	proto_linebuf_free(&lb);
}
END_TEST

START_TEST(linebuf_protocol_max)
{
	struct proto_linebuf lb;
	char *line = padded_request(PROTO_CTL_MAX_LINE);
	const char *got;
	size_t len;

	ck_assert_int_eq(proto_linebuf_init(&lb, PROTO_CTL_MAX_LINE), 0);
	/* As a server reads it: 4 KiB at a time. */
	for (size_t off = 0; off < PROTO_CTL_MAX_LINE; off += 4096) {
		size_t n = PROTO_CTL_MAX_LINE - off < 4096 ? PROTO_CTL_MAX_LINE - off : 4096;

		ck_assert_int_eq(proto_linebuf_append(&lb, line + off, n), 0);
	}
	ck_assert_int_eq(proto_linebuf_next(&lb, &got, &len), 0);
	ck_assert_int_eq(proto_linebuf_append(&lb, "x", 1), -EMSGSIZE);
	ck_assert_int_eq(proto_linebuf_append(&lb, "\n", 1), 0);
	ck_assert_int_eq(proto_linebuf_next(&lb, &got, &len), 1);
	ck_assert_uint_eq(len, PROTO_CTL_MAX_LINE);
	proto_linebuf_free(&lb);
	free(line);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_control");
	TCase *tc = tcase_create("control");
	TCase *tl = tcase_create("linebuf");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, request_round_trip);
	tcase_add_test(tc, ok_round_trip);
	tcase_add_test(tc, error_round_trip);
	tcase_add_test(tc, event_round_trip);
	tcase_add_test(tc, bad_json);
	tcase_add_test(tc, not_an_object);
	tcase_add_test(tc, wrong_shape_or_types);
	tcase_add_test(tc, names);
	tcase_add_test(tc, ids);
	tcase_add_test(tc, duplicate_and_unknown_keys);
	tcase_add_test(tc, line_length);
	tcase_add_test(tc, nul_and_newlines);
	tcase_add_test(tc, error_strings_truncated);
	tcase_add_test(tc, encoders_refuse);
	suite_add_tcase(s, tc);
	tcase_add_test(tl, linebuf_split_lines);
	tcase_add_test(tl, linebuf_many_lines);
	tcase_add_test(tl, linebuf_overflow);
	tcase_add_test(tl, linebuf_protocol_max);
	suite_add_tcase(s, tl);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
