// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/uri.h"

static struct proto_uri parse_ok(const char *s)
{
	struct proto_uri u;

	ck_assert_msg(proto_uri_parse(s, &u) == 0, "refused %s", s);
	return u;
}

static void refuse(const char *s)
{
	struct proto_uri u;

	memset(&u, 0x5a, sizeof(u));
	ck_assert_msg(proto_uri_parse(s, &u) == -EINVAL, "accepted %s", s);
	ck_assert_int_eq(u.port, 0x5a5a5a5a); /* untouched */
}

/* Format @u, parse it back and compare; returns the text in a static buffer. */
static const char *round_trip(const struct proto_uri *u)
{
	static char out[2048];
	struct proto_uri back;
	int n;

	n = proto_uri_format(u, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(out), (size_t)n);
	back = parse_ok(out);
	ck_assert_str_eq(back.scheme, u->scheme);
	ck_assert_str_eq(back.host, u->host);
	ck_assert_int_eq(back.port, u->port);
	ck_assert_int_eq(back.tls_port, u->tls_port);
	ck_assert_str_eq(back.password, u->password);
	return out;
}

START_TEST(vnc)
{
	struct proto_uri u = parse_ok("vnc://desk-3.example.org:5901");

	ck_assert_str_eq(u.scheme, "vnc");
	ck_assert_str_eq(u.host, "desk-3.example.org");
	ck_assert_int_eq(u.port, 5901);
	ck_assert_int_eq(u.tls_port, -1);
	ck_assert_str_eq(u.password, "");
	ck_assert_str_eq(round_trip(&u), "vnc://desk-3.example.org:5901");

	u = parse_ok("VNC://10.0.0.5:6000/");
	ck_assert_str_eq(u.scheme, "vnc");
	ck_assert_str_eq(u.host, "10.0.0.5");
	ck_assert_int_eq(u.port, 6000);

	u = parse_ok("vnc://h?password=s%20e%2Fc%3Dret%26+");
	ck_assert_str_eq(u.password, "s e/c=ret&+");
	ck_assert_str_eq(round_trip(&u), "vnc://h:5900?password=s%20e%2Fc%3Dret%26%2B");
}
END_TEST

START_TEST(vnc_display_numbers)
{
	ck_assert_int_eq(parse_ok("vnc://h").port, 5900);
	ck_assert_int_eq(parse_ok("vnc://h:0").port, 5900);
	ck_assert_int_eq(parse_ok("vnc://h:1").port, 5901);
	ck_assert_int_eq(parse_ok("vnc://h:99").port, 5999);
	ck_assert_int_eq(parse_ok("vnc://h:100").port, 100);
	ck_assert_int_eq(parse_ok("vnc://h:5900").port, 5900);
	ck_assert_int_eq(parse_ok("vnc://h:65535").port, 65535);
}
END_TEST

START_TEST(ipv6)
{
	struct proto_uri u = parse_ok("vnc://[::1]:5900");

	ck_assert_str_eq(u.host, "::1");
	ck_assert_int_eq(u.port, 5900);
	ck_assert_str_eq(round_trip(&u), "vnc://[::1]:5900");

	u = parse_ok("spice://[fe80::1:2]?tls-port=5901");
	ck_assert_str_eq(u.host, "fe80::1:2");
	ck_assert_int_eq(u.port, -1);
	ck_assert_int_eq(u.tls_port, 5901);
	ck_assert_str_eq(round_trip(&u), "spice://[fe80::1:2]?tls-port=5901");

	u = parse_ok("vnc://[::ffff:10.0.0.1]");
	ck_assert_str_eq(u.host, "::ffff:10.0.0.1");
	ck_assert_int_eq(u.port, 5900);
}
END_TEST

START_TEST(spice)
{
	struct proto_uri u = parse_ok("spice://host:5900?tls-port=5901&password=x");

	ck_assert_str_eq(u.scheme, "spice");
	ck_assert_str_eq(u.host, "host");
	ck_assert_int_eq(u.port, 5900);
	ck_assert_int_eq(u.tls_port, 5901);
	ck_assert_str_eq(u.password, "x");
	ck_assert_str_eq(round_trip(&u), "spice://host:5900?tls-port=5901&password=x");

	/* No display numbers for SPICE. */
	ck_assert_int_eq(parse_ok("spice://h:1").port, 1);
	u = parse_ok("spice://h?password=%C3%BC&port=5930");
	ck_assert_int_eq(u.port, 5930);
	ck_assert_str_eq(u.password, "\xc3\xbc");
	ck_assert_str_eq(round_trip(&u), "spice://h:5930?password=%C3%BC");
}
END_TEST

START_TEST(refused)
{
	char long_uri[1100];

	refuse("");
	refuse("vnc:");
	refuse("vnc:/h:5900");
	refuse("vnc://");
	refuse("vnc://:5900");
	refuse("rdp://h:3389");
	refuse("http://h");
	refuse("vncx://h");
	refuse("vnc://h:");
	refuse("vnc://h:65536");
	refuse("vnc://h:123456");
	refuse("vnc://h:-1");
	refuse("vnc://h:+1");
	refuse("vnc://h:59a");
	refuse("vnc://h:1:2");
	refuse("vnc://h/path");
	refuse("vnc://h#frag");
	refuse("vnc://user@h");
	refuse("vnc://:pw@h");
	refuse("vnc://h_1%41");
	refuse("vnc://h\x01");
	refuse("vnc://h?password=a\tb");
	refuse("vnc://h?password=a%0Ab");
	refuse("vnc://h?password=a%00b");
	refuse("vnc://h?password=a%7Fb");
	refuse("vnc://h?password=a%");
	refuse("vnc://h?password=a%4");
	refuse("vnc://h?password=a%zz");
	refuse("vnc://h?password=a b");
	refuse("vnc://h?password=\xc3\xbc");
	refuse("vnc://h?password=1&password=2");
	refuse("vnc://h?password");
	refuse("vnc://h?password=x&");
	refuse("vnc://h?&password=x");
	refuse("vnc://h?tls-port=5901"); /* VNC has no TLS port here */
	refuse("vnc://h?user=x");
	refuse("vnc://[::1");
	refuse("vnc://[::1]5900");
	refuse("vnc://[not-v6]:5900");
	refuse("vnc://[]:5900");
	refuse("vnc://::1:5900");
	refuse("spice://h"); /* no port at all */
	refuse("spice://h:0");
	refuse("spice://h?tls-port=0");
	refuse("spice://h?tls-port=65536");
	refuse("spice://h:5900?port=5901"); /* two ports */
	refuse("spice://h?tls-port=1&tls-port=2");
	refuse("spice://h?tls-port=");
	refuse(NULL);

	memset(long_uri, 0, sizeof(long_uri));
	strcpy(long_uri, "vnc://h?password=");
	memset(long_uri + strlen(long_uri), 'a', 128);
	ck_assert_str_eq(parse_ok(long_uri).password + 127, "a");
	strcat(long_uri, "a"); /* 129 bytes */
	refuse(long_uri);

	/* The longest valid URI is far shorter than 1024: past that, refuse unread. */
	memset(long_uri, 0, sizeof(long_uri));
	strcpy(long_uri, "vnc://h?password=");
	memset(long_uri + strlen(long_uri), 'a', 1025 - strlen(long_uri));
	ck_assert_uint_eq(strlen(long_uri), 1025);
	refuse(long_uri);
	memset(long_uri, 0, sizeof(long_uri));
	strcpy(long_uri, "vnc://");
	memset(long_uri + 6, 'a', 256); /* host too long */
	refuse(long_uri);
	long_uri[6 + 255] = '\0';
	ck_assert_uint_eq(strlen(parse_ok(long_uri).host), 255);
}
END_TEST

START_TEST(format_refuses)
{
	struct proto_uri u = { "vnc", "h", 5900, -1, "" };
	char out[64];

	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), 12);
	ck_assert_str_eq(out, "vnc://h:5900");
	ck_assert_int_eq(proto_uri_format(&u, out, 13), 12);
	ck_assert_int_eq(proto_uri_format(&u, out, 12), -ENOSPC);
	ck_assert_int_eq(proto_uri_format(&u, out, 0), -ENOSPC);

	u.port = 22; /* would read back as display 22 */
	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), -EINVAL);
	u.port = 5900;
	u.tls_port = 5901;
	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), -EINVAL);
	u.tls_port = -1;
	strcpy(u.host, "bad host");
	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), -EINVAL);
	strcpy(u.host, "");
	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), -EINVAL);
	strcpy(u.host, "h");
	strcpy(u.password, "a\nb");
	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), -EINVAL);
	strcpy(u.password, "");
	strcpy(u.scheme, "rdp");
	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), -EINVAL);

	u = (struct proto_uri){ "spice", "h", -1, -1, "" };
	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), -EINVAL);
	u.port = 0;
	ck_assert_int_eq(proto_uri_format(&u, out, sizeof(out)), -EINVAL);
	u.port = 22;
	ck_assert_str_eq(round_trip(&u), "spice://h:22");
}
END_TEST

START_TEST(format_every_byte)
{
	struct proto_uri u = { "spice", "desk", 5900, 5901, "" };
	size_t n = 0;

	/* Every byte but the controls survives the percent-encoding. */
	for (unsigned int c = 0x20; c < 0x100 && n < 128; c++)
		if (c != 0x7f)
			u.password[n++] = (char)c;
	round_trip(&u);
	n = 0;
	for (unsigned int c = 0xff; c >= 0x80 && n < 128; c--)
		u.password[n++] = (char)c;
	u.password[n] = '\0';
	round_trip(&u);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("proto_uri");
	TCase *tc = tcase_create("uri");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, vnc);
	tcase_add_test(tc, vnc_display_numbers);
	tcase_add_test(tc, ipv6);
	tcase_add_test(tc, spice);
	tcase_add_test(tc, refused);
	tcase_add_test(tc, format_refuses);
	tcase_add_test(tc, format_every_byte);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
