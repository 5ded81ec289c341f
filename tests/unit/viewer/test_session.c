// SPDX-License-Identifier: GPL-2.0-or-later
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto/vv.h"
#include "viewer/session.h"

START_TEST(from_uri)
{
	struct viewer_session s;
	char err[256], buf[300];

	viewer_session_init(&s);
	ck_assert_int_eq(
	        viewer_session_from_uri(&s, "vnc://desk-3.example.org:5901", err, sizeof(err)), 0);
	ck_assert_int_eq(s.protocol, VIEWER_PROTO_VNC);
	ck_assert_str_eq(s.host, "desk-3.example.org");
	ck_assert_int_eq(s.port, 5901);
	ck_assert_int_eq(s.tls_port, -1);
	ck_assert(!s.has_password);
	ck_assert_str_eq(viewer_session_describe(&s, buf, sizeof(buf)),
	                 "vnc://desk-3.example.org:5901");

	/* A display number, as vncviewer reads it. */
	ck_assert_int_eq(viewer_session_from_uri(&s, "vnc://10.0.0.5:2", err, sizeof(err)), 0);
	ck_assert_int_eq(s.port, 5902);

	ck_assert_int_eq(viewer_session_from_uri(&s,
	                                         "spice://[::1]:5900?tls-port=5901&password=a%26b",
	                                         err, sizeof(err)),
	                 0);
	ck_assert_int_eq(s.protocol, VIEWER_PROTO_SPICE);
	ck_assert_str_eq(s.host, "::1");
	ck_assert_int_eq(s.port, 5900);
	ck_assert_int_eq(s.tls_port, 5901);
	ck_assert(s.has_password);
	ck_assert_str_eq(s.password, "a&b");
	ck_assert_str_eq(viewer_session_describe(&s, buf, sizeof(buf)),
	                 "spice://[::1]:5900?tls-port=5901");

	ck_assert_int_eq(viewer_session_from_uri(&s, "spice://h?tls-port=5901", err, sizeof(err)),
	                 0);
	ck_assert_int_eq(s.port, -1);
	ck_assert_int_eq(s.tls_port, 5901);
	ck_assert(!s.has_password); /* the old one went with the old description */
	ck_assert_str_eq(viewer_session_describe(&s, buf, sizeof(buf)), "spice://h?tls-port=5901");
	viewer_session_clear(&s);
}
END_TEST

START_TEST(from_uri_refuses)
{
	static const char *const bad[] = { "",
		                           "http://host:80",
		                           "vnc://",
		                           "vnc://user@host:5900",
		                           "spice://host",
		                           "vnc://host:70000",
		                           "vnc://ho st:5900",
		                           "spice://host:5900?tls-port=x" };
	struct viewer_session s;
	char err[256];

	viewer_session_init(&s);
	ck_assert_int_eq(viewer_session_from_uri(&s, "vnc://keep:5901", err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(viewer_session_from_uri(&s, bad[i], err, sizeof(err)) == -EINVAL,
		              "accepted '%s'", bad[i]);
		ck_assert_msg(err[0] != '\0', "no reason for '%s'", bad[i]);
		ck_assert_str_eq(s.host, "keep"); /* untouched */
	}
	viewer_session_clear(&s);
}
END_TEST

START_TEST(from_vv)
{
	struct proto_vv vv;
	struct viewer_session s, copy;
	char err[256];

	proto_vv_init(&vv);
	vv.type = "spice";
	vv.host = "10.1.2.3";
	vv.tls_port = 5901;
	vv.password = "s3cret";
	vv.title = "My Desk";
	vv.ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
	vv.host_subject = "C=XX,O=Example,CN=desk";
	vv.proxy = "http://proxy.example.org:3128";
	viewer_session_init(&s);
	ck_assert_int_eq(viewer_session_from_vv(&s, &vv, err, sizeof(err)), 0);
	ck_assert_int_eq(s.protocol, VIEWER_PROTO_SPICE);
	ck_assert_str_eq(s.host, "10.1.2.3");
	ck_assert_int_eq(s.port, -1);
	ck_assert_int_eq(s.tls_port, 5901);
	ck_assert_str_eq(s.password, "s3cret");
	ck_assert_str_eq(s.title, "My Desk");
	ck_assert_str_eq(s.ca, vv.ca);
	ck_assert_str_eq(s.host_subject, "C=XX,O=Example,CN=desk");
	ck_assert_str_eq(s.proxy, "http://proxy.example.org:3128");

	ck_assert_int_eq(viewer_session_copy(&copy, &s), 0);
	ck_assert_ptr_ne(copy.ca, s.ca);
	ck_assert_str_eq(copy.ca, s.ca);
	ck_assert_str_eq(copy.password, "s3cret");
	viewer_session_clear(&copy);
	ck_assert_ptr_null(copy.ca);
	ck_assert(!copy.has_password);
	ck_assert_str_eq(copy.password, "");

	/* Missing pieces. */
	vv.tls_port = -1;
	ck_assert_int_eq(viewer_session_from_vv(&s, &vv, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "port"));
	ck_assert_str_eq(s.host, "10.1.2.3"); /* untouched */
	vv.type = "vnc";
	vv.port = 5900;
	vv.host = NULL;
	ck_assert_int_eq(viewer_session_from_vv(&s, &vv, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "host"));
	vv.host = "h";
	vv.port = -1;
	ck_assert_int_eq(viewer_session_from_vv(&s, &vv, err, sizeof(err)), -EINVAL);
	vv.port = 5900;
	{
		char longpw[VIEWER_PASSWORD_MAX + 2];

		memset(longpw, 'p', sizeof(longpw) - 1);
		longpw[sizeof(longpw) - 1] = '\0';
		vv.password = longpw;
		ck_assert_int_eq(viewer_session_from_vv(&s, &vv, err, sizeof(err)), -EINVAL);
		vv.password = NULL;
	}
	ck_assert_int_eq(viewer_session_from_vv(&s, &vv, err, sizeof(err)), 0);
	ck_assert_int_eq(s.protocol, VIEWER_PROTO_VNC);
	ck_assert(!s.has_password);
	ck_assert_str_eq(s.proxy, ""); /* as remote-viewer: the proxy is for SPICE */
	viewer_session_clear(&s);
	viewer_session_clear(NULL);
}
END_TEST

START_TEST(password)
{
	struct viewer_session s;
	char longpw[VIEWER_PASSWORD_MAX + 2];

	viewer_session_init(&s);
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	ck_assert_int_eq(viewer_session_set_password(&s, longpw), -EINVAL);
	ck_assert(!s.has_password);
	longpw[VIEWER_PASSWORD_MAX] = '\0';
	ck_assert_int_eq(viewer_session_set_password(&s, longpw), 0);
	ck_assert(s.has_password);
	viewer_session_clear(&s);
	for (size_t i = 0; i < sizeof(s.password); i++)
		ck_assert_int_eq(s.password[i], 0);
	ck_assert_str_eq(viewer_protocol_name(VIEWER_PROTO_VNC), "VNC");
	ck_assert_str_eq(viewer_protocol_name(VIEWER_PROTO_SPICE), "SPICE");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("viewer_session");
	TCase *tc = tcase_create("session");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, from_uri);
	tcase_add_test(tc, from_uri_refuses);
	tcase_add_test(tc, from_vv);
	tcase_add_test(tc, password);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
