// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The gateway's RFB security relay without any I/O: fake VM and browser
 * bytes in, what each side must receive out. Also its buffers and the VNC
 * authentication DES answer against a vector made with openssl(1).
 */
#include <errno.h>
#include <string.h>

#include "broker/gateway.h"
#include "broker_test.h"

#define SECRET "k3Pq9xZa"

struct rig {
	struct broker_gw_rfb r;
	struct broker_gw_buf to_vm, to_browser;
};

static void rig_init(struct rig *g)
{
	memset(g, 0, sizeof(*g));
	ck_assert_int_eq(broker_gw_rfb_init(&g->r, SECRET, &g->to_browser), 0);
}

static void rig_free(struct rig *g)
{
	broker_gw_buf_free(&g->to_vm);
	broker_gw_buf_free(&g->to_browser);
}

/* Take exactly @n bytes equal to @want from @b. */
static void expect(struct broker_gw_buf *b, const void *want, size_t n)
{
	ck_assert_uint_eq(b->len, n);
	ck_assert_mem_eq(b->data + b->off, want, n);
	broker_gw_buf_consume(b, n);
}

static int vm(struct rig *g, const void *in, size_t n)
{
	return broker_gw_rfb_from_vm(&g->r, in, n, &g->to_vm, &g->to_browser);
}

static int browser(struct rig *g, const void *in, size_t n)
{
	return broker_gw_rfb_from_browser(&g->r, in, n, &g->to_vm, &g->to_browser);
}

static const uint8_t challenge[16] = "0123456789abcdef";
static const uint8_t response[16] = { 0xb1, 0x01, 0x3d, 0xaf, 0xfd, 0x9a, 0x50, 0x4c,
	                              0xc4, 0x21, 0xaf, 0xab, 0x06, 0xd8, 0x8d, 0x05 };

START_TEST(vnc_auth_des_vector)
{
	uint8_t out[16];

	ck_assert_int_eq(broker_gw_vnc_response(SECRET, challenge, out), 0);
	ck_assert_mem_eq(out, response, 16);
}
END_TEST

/* The whole handshake, each side's bytes one at a time, interleaved. */
START_TEST(handshake_byte_by_byte)
{
	static const uint8_t types[] = { 2, 2, 1 }, none = 1, zero[4] = { 0 };
	struct rig g;

	rig_init(&g);
	expect(&g.to_browser, "RFB 003.008\n", 12);
	for (int i = 0; i < 12; i++)
		ck_assert_int_eq(vm(&g, "RFB 003.008\n" + i, 1), 1);
	expect(&g.to_vm, "RFB 003.008\n", 12);
	for (int i = 0; i < 12; i++)
		ck_assert_int_eq(browser(&g, "RFB 003.008\n" + i, 1), 1);
	expect(&g.to_browser, "\x01\x01", 2); /* one type: None */
	for (size_t i = 0; i < sizeof(types); i++)
		ck_assert_int_eq(vm(&g, types + i, 1), 1);
	expect(&g.to_vm, "\x02", 1); /* VNC authentication */
	ck_assert_int_eq(browser(&g, &none, 1), 1);
	ck_assert_uint_eq(g.to_browser.len, 0); /* not before the VM said yes */
	for (int i = 0; i < 16; i++)
		ck_assert_int_eq(vm(&g, challenge + i, 1), 1);
	expect(&g.to_vm, response, 16);
	ck_assert(!broker_gw_rfb_done(&g.r));
	ck_assert_int_eq(vm(&g, zero, 4), 4);
	expect(&g.to_browser, zero, 4);
	ck_assert(broker_gw_rfb_done(&g.r));
	/* After the handshake nothing is consumed: the relay takes over. */
	ck_assert_int_eq(browser(&g, "\x01", 1), 0);
	ck_assert_int_eq(vm(&g, "abc", 3), 0);
	rig_free(&g);
}
END_TEST

/* The VM answers first, all at once with a trailing byte; the browser is late. */
START_TEST(handshake_in_bulk_vm_first)
{
	uint8_t bulk[12 + 2 + 16];
	static const uint8_t zero[4] = { 0 };
	struct rig g;

	rig_init(&g);
	broker_gw_buf_consume(&g.to_browser, 12);
	memcpy(bulk, "RFB 003.008\n", 12);
	bulk[12] = 1;
	bulk[13] = 2;
	memcpy(bulk + 14, challenge, 16);
	ck_assert_int_eq(vm(&g, bulk, sizeof(bulk)), (int)sizeof(bulk));
	ck_assert_uint_eq(g.to_vm.len, 12 + 1 + 16);
	ck_assert_mem_eq(g.to_vm.data + g.to_vm.off + 13, response, 16);
	/* Result plus the start of ServerInit: only the result is the handshake's. */
	ck_assert_int_eq(vm(&g, "\0\0\0\0XY", 6), 4);
	ck_assert_uint_eq(g.to_browser.len, 0);
	ck_assert_int_eq(browser(&g, "RFB 003.008\n\x01", 13), 13);
	expect(&g.to_browser, "\x01\x01\0\0\0\0", 6);
	ck_assert(broker_gw_rfb_done(&g.r));
	(void)zero;
	rig_free(&g);
}
END_TEST

START_TEST(vm_refuses_the_secret)
{
	struct rig g;
	uint8_t msg[12 + 2 + 16 + 4 + 4 + 14];

	rig_init(&g);
	memcpy(msg, "RFB 003.008\n", 12);
	msg[12] = 1;
	msg[13] = 2;
	memcpy(msg + 14, challenge, 16);
	memcpy(msg + 30, "\0\0\0\1", 4);
	memcpy(msg + 34, "\0\0\0\x0e", 4);
	memcpy(msg + 38, "bad\x01<b>secret", 14);
	ck_assert_int_eq(vm(&g, msg, sizeof(msg)), -EACCES);
	ck_assert_ptr_nonnull(strstr(g.r.error, "bad?<b>secret")); /* control bytes masked */
	rig_free(&g);
}
END_TEST

START_TEST(vm_without_vnc_auth_or_wrong_version)
{
	struct rig g;

	rig_init(&g);
	ck_assert_int_eq(vm(&g, "RFB 003.008\n\x01\x01", 14), -EPROTO);
	rig_free(&g);
	rig_init(&g);
	ck_assert_int_eq(vm(&g, "RFB 003.003\n", 12), -EPROTO);
	rig_free(&g);
	/* Zero types: the VM refuses with a reason. */
	rig_init(&g);
	ck_assert_int_eq(vm(&g, "RFB 003.008\n\0\0\0\0\x04nope", 21), -EACCES);
	ck_assert_ptr_nonnull(strstr(g.r.error, "nope"));
	rig_free(&g);
}
END_TEST

START_TEST(bad_browsers)
{
	struct rig g;

	rig_init(&g);
	ck_assert_int_eq(browser(&g, "RFB 003.003\n", 12), -EPROTO);
	rig_free(&g);
	rig_init(&g);
	ck_assert_int_eq(browser(&g, "RFB 003.008\n\x02", 13), -EPROTO); /* VNC auth: not offered */
	rig_free(&g);
	/* Talking before the security result (ClientInit early) is refused. */
	rig_init(&g);
	ck_assert_int_eq(browser(&g, "RFB 003.008\n\x01\x01", 14), -EPROTO);
	rig_free(&g);
	rig_init(&g);
	ck_assert_int_eq(browser(&g, "GET / HTTP/1.1\r\n", 16), -EPROTO);
	rig_free(&g);
}
END_TEST

START_TEST(buffers)
{
	struct broker_gw_buf b = { 0 };
	static uint8_t big[BROKER_GW_BUF_MAX];

	ck_assert_int_eq(broker_gw_buf_put(&b, "hello", 5), 0);
	broker_gw_buf_consume(&b, 2);
	ck_assert_int_eq(broker_gw_buf_put(&b, " world", 6), 0);
	ck_assert_uint_eq(b.len, 9);
	ck_assert_mem_eq(b.data + b.off, "llo world", 9);
	ck_assert_int_eq(broker_gw_buf_put(&b, big, sizeof(big)), -ENOBUFS);
	ck_assert_uint_eq(b.len, 9);
	broker_gw_buf_consume(&b, 100);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(broker_gw_buf_put(&b, big, sizeof(big)), 0);
	broker_gw_buf_consume(&b, sizeof(big));
	ck_assert_ptr_null(b.data); /* a drained big buffer is given back */
	broker_gw_buf_free(&b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("broker_gateway");
	TCase *tc = tcase_create("rfb");

	tcase_add_test(tc, vnc_auth_des_vector);
	tcase_add_test(tc, handshake_byte_by_byte);
	tcase_add_test(tc, handshake_in_bulk_vm_first);
	tcase_add_test(tc, vm_refuses_the_secret);
	tcase_add_test(tc, vm_without_vnc_auth_or_wrong_version);
	tcase_add_test(tc, bad_browsers);
	tcase_add_test(tc, buffers);
	suite_add_tcase(s, tc);
	return bt_run(s);
}
