// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "proto/vv.h"

#define PEM                                                                  \
	"-----BEGIN CERTIFICATE-----\n"                                      \
	"MIIBszCCAVmgAwIBAgIUQ2VydGlmaWNhdGUgZm9yIHRlc3RzMAoGCCqGSM49BAMC\n" \
	"-----END CERTIFICATE-----\n"

static int parse(const char *text, struct proto_vv *vv, char *err, size_t err_size)
{
	return proto_vv_parse(text, strlen(text), vv, err, err_size);
}

static void assert_str_eq_or_null(const char *a, const char *b)
{
	if (!a || !b)
		ck_assert_ptr_eq(a, b);
	else
		ck_assert_str_eq(a, b);
}

static void assert_vv_eq(const struct proto_vv *a, const struct proto_vv *b)
{
	assert_str_eq_or_null(a->type, b->type);
	assert_str_eq_or_null(a->host, b->host);
	ck_assert_int_eq(a->port, b->port);
	ck_assert_int_eq(a->tls_port, b->tls_port);
	assert_str_eq_or_null(a->password, b->password);
	assert_str_eq_or_null(a->title, b->title);
	ck_assert_int_eq(a->fullscreen, b->fullscreen);
	ck_assert_int_eq(a->delete_this_file, b->delete_this_file);
	assert_str_eq_or_null(a->ca, b->ca);
	assert_str_eq_or_null(a->host_subject, b->host_subject);
	assert_str_eq_or_null(a->secure_attention, b->secure_attention);
	assert_str_eq_or_null(a->release_cursor, b->release_cursor);
	assert_str_eq_or_null(a->toggle_fullscreen, b->toggle_fullscreen);
	assert_str_eq_or_null(a->proxy, b->proxy);
}

START_TEST(round_trip_everything)
{
	struct proto_vv vv, got;
	char err[128];
	char *text;

	proto_vv_init(&vv);
	vv.type = "spice";
	vv.host = "desk-3.example.org";
	vv.port = 5901;
	vv.tls_port = 5902;
	vv.password = "  a;b#c=d\ne\\f\tg ü€ ";
	vv.title = "Desk 3 — Zoë";
	vv.fullscreen = 1;
	vv.delete_this_file = 0;
	vv.ca = PEM;
	vv.host_subject = "C=FR, O=Example, CN=desk-3";
	vv.secure_attention = "ctrl+alt+end";
	vv.release_cursor = "shift+f12";
	vv.toggle_fullscreen = "shift+f11";
	vv.proxy = "http://proxy:3128";

	text = proto_vv_write(&vv);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(strncmp(text, "[virt-viewer]\n", 14), 0);
	ck_assert_ptr_nonnull(strstr(text, "\ntype=spice\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nport=5901\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nfullscreen=1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\ndelete-this-file=0\n"));
	/* Leading spaces and newlines escaped as remote-viewer reads them. */
	ck_assert_ptr_nonnull(strstr(text, "\npassword=\\s\\sa;b#c=d\\ne\\\\f"));
	ck_assert_ptr_nonnull(strstr(text, "\nca=-----BEGIN CERTIFICATE-----\\nMIIB"));
	ck_assert_ptr_nonnull(strstr(text, "-----END CERTIFICATE-----\\n\n"));

	ck_assert_int_eq(parse(text, &got, err, sizeof(err)), 0);
	assert_vv_eq(&got, &vv);
	proto_vv_clear(&got);
	ck_assert_ptr_null(got.type);
	ck_assert_int_eq(got.port, -1);
	free(text);
}
END_TEST

START_TEST(round_trip_minimal)
{
	struct proto_vv vv, got;
	char *text;

	proto_vv_init(&vv);
	vv.type = "vnc";
	vv.host = "::1";
	vv.port = 5900;
	text = proto_vv_write(&vv);
	ck_assert_str_eq(text, "[virt-viewer]\ntype=vnc\nhost=::1\nport=5900\n");
	ck_assert_int_eq(parse(text, &got, NULL, 0), 0);
	assert_vv_eq(&got, &vv);
	ck_assert_int_eq(got.tls_port, -1);
	ck_assert_int_eq(got.fullscreen, -1);
	ck_assert_int_eq(got.delete_this_file, -1);
	ck_assert_ptr_null(got.password);
	proto_vv_clear(&got);
	proto_vv_clear(NULL);
	free(text);
}
END_TEST

START_TEST(write_refuses)
{
	struct proto_vv vv;

	proto_vv_init(&vv);
	errno = 0;
	ck_assert_ptr_null(proto_vv_write(&vv)); /* no type */
	ck_assert_int_eq(errno, EINVAL);
	vv.type = "rdp";
	ck_assert_ptr_null(proto_vv_write(&vv));
	vv.type = "spice";
	vv.port = 0;
	ck_assert_ptr_null(proto_vv_write(&vv));
	vv.port = 65536;
	ck_assert_ptr_null(proto_vv_write(&vv));
	vv.port = -1;
	vv.fullscreen = 2;
	ck_assert_ptr_null(proto_vv_write(&vv));
	vv.fullscreen = -1;
	vv.password = "bad \xff utf-8";
	ck_assert_ptr_null(proto_vv_write(&vv));
	ck_assert_ptr_null(proto_vv_write(NULL));
}
END_TEST

START_TEST(parse_like_remote_viewer)
{
	static const char text[] = "# made by hand\r\n"
	                           "[other]\n"
	                           "type=rdp\n"
	                           "\n"
	                           "[virt-viewer]\r\n"
	                           "type = spice\r\n"
	                           "host=10.0.0.5\n"
	                           "tls-port=5901\n"
	                           "fullscreen=7\n"
	                           "enable-usbredir=1\n"
	                           "username=ignored\n"
	                           "password=\\s;x\n";
	struct proto_vv vv;

	ck_assert_int_eq(parse(text, &vv, NULL, 0), 0);
	ck_assert_str_eq(vv.type, "spice");
	ck_assert_str_eq(vv.host, "10.0.0.5");
	ck_assert_int_eq(vv.port, -1);
	ck_assert_int_eq(vv.tls_port, 5901);
	ck_assert_int_eq(vv.fullscreen, 1);
	ck_assert_str_eq(vv.password, " ;x");
	proto_vv_clear(&vv);
}
END_TEST

/* @text must be refused with @want and a reason containing @why. */
static void refuse(const char *text, size_t len, int want, const char *why)
{
	struct proto_vv vv;
	char err[128];

	memset(&vv, 0x5a, sizeof(vv));
	ck_assert_int_eq(proto_vv_parse(text, len, &vv, err, sizeof(err)), want);
	ck_assert_msg(strstr(err, why), "reason '%s' lacks '%s'", err, why);
	ck_assert_ptr_null(strchr(err, '\n'));
	ck_assert(g_utf8_validate(err, -1, NULL));
	ck_assert_int_eq(vv.port, 0x5a5a5a5a); /* untouched */
}

#define REFUSE(text, want, why) refuse(text, strlen(text), want, why)

START_TEST(parse_refuses)
{
	REFUSE("", -EINVAL, "empty");
	REFUSE("type=spice\nhost=a\n", -EINVAL, "not a key file");
	REFUSE("[virt]\ntype=spice\n", -EINVAL, "no [virt-viewer] group");
	REFUSE("[virt-viewer]\nhost=a\n", -EINVAL, "no type");
	REFUSE("[virt-viewer]\ntype=ovirt\n", -EINVAL, "type");
	REFUSE("[virt-viewer]\ntype=spice\nport=0\n", -EINVAL, "port");
	REFUSE("[virt-viewer]\ntype=spice\nport=65536\n", -EINVAL, "port");
	REFUSE("[virt-viewer]\ntype=spice\nport=-5900\n", -EINVAL, "port");
	REFUSE("[virt-viewer]\ntype=spice\nport=59x\n", -EINVAL, "port");
	REFUSE("[virt-viewer]\ntype=spice\nport=99999999999999999999\n", -EINVAL, "port");
	REFUSE("[virt-viewer]\ntype=spice\ntls-port=\n", -EINVAL, "tls-port");
	REFUSE("[virt-viewer]\ntype=spice\nfullscreen=yes\n", -EINVAL, "fullscreen");
	REFUSE("[virt-viewer]\ntype=spice\npassword=\xff\n", -EINVAL, "password");
	refuse("[virt-viewer]\ntype=spice\0\n", 26, -EINVAL, "NUL");
}
END_TEST

START_TEST(proxies)
{
	static const char *const good[] = {
		"http://proxy:3128",      "HTTP://proxy.example.org",
		"proxy.example.org:8080", "http://10.0.0.1:3128/",
		"http://[fd00::1]:3128",  "http://alice:s3cr%40t@proxy:3128",
		"https://proxy:3129",
	};
	static const char *const bad[] = {
		"socks5://proxy:1080",
		"ftp://proxy",
		"http://",
		"http://proxy:",
		"http://proxy:0",
		"http://proxy:65536",
		"http://proxy:99999999999999999999",
		"http://proxy:3128/path",
		"http://pro xy:3128",
		"http://[fd00::1",
		"http://[]:3128",
		"http://a b@proxy",
		"http://proxy:3128\nhost=evil",
	};
	struct proto_vv vv;
	char err[200], text[400];

	for (size_t i = 0; i < G_N_ELEMENTS(good); i++)
		ck_assert_msg(proto_vv_proxy_valid(good[i]), "'%s' refused", good[i]);
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++)
		ck_assert_msg(!proto_vv_proxy_valid(bad[i]), "'%s' taken", bad[i]);

	/* In a file: kept when good, the whole file refused when not, none when empty. */
	ck_assert_int_eq(
	        parse("[virt-viewer]\ntype=spice\nproxy=http://gw:3128\n", &vv, err, sizeof(err)),
	        0);
	ck_assert_str_eq(vv.proxy, "http://gw:3128");
	proto_vv_clear(&vv);
	snprintf(text, sizeof(text), "[virt-viewer]\ntype=spice\nproxy=socks5://gw:1080\n");
	REFUSE(text, -EINVAL, "proxy");
	ck_assert_int_eq(parse("[virt-viewer]\ntype=spice\nproxy=\n", &vv, err, sizeof(err)), 0);
	ck_assert_ptr_null(vv.proxy);
	proto_vv_clear(&vv);

	/* Nor is a bad one written. */
	proto_vv_init(&vv);
	vv.type = "spice";
	vv.proxy = "ftp://gw";
	errno = 0;
	ck_assert_ptr_null(proto_vv_write(&vv));
	ck_assert_int_eq(errno, EINVAL);
}
END_TEST

START_TEST(parse_oversized)
{
	size_t len = PROTO_VV_MAX_SIZE + 1;
	char *text = malloc(len);
	struct proto_vv vv;
	size_t n;

	/* A valid file padded with comment lines. */
	memset(text, '#', len);
	n = strlen("[virt-viewer]\ntype=vnc\n");
	memcpy(text, "[virt-viewer]\ntype=vnc\n", n);
	for (size_t i = n + 79; i < len; i += 80)
		text[i] = '\n';
	text[len - 1] = '\n';
	refuse(text, len, -EMSGSIZE, "larger");
	ck_assert_int_eq(proto_vv_parse(text, len - 1, &vv, NULL, 0), 0);
	proto_vv_clear(&vv);
	free(text);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_vv");
	TCase *tc = tcase_create("vv");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, round_trip_everything);
	tcase_add_test(tc, round_trip_minimal);
	tcase_add_test(tc, write_refuses);
	tcase_add_test(tc, parse_like_remote_viewer);
	tcase_add_test(tc, parse_refuses);
	tcase_add_test(tc, proxies);
	tcase_add_test(tc, parse_oversized);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
