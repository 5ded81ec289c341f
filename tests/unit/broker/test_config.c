// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The configuration: embedded defaults, a full file, every kind of bad
 * value answered with one line naming file, group and key, --dump-config
 * output that loads back to the same configuration, and the parsers the
 * command line shares.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/config.h"
#include "broker_test.h"
#include "proto/log.h"

static char dir[64], file[128];

static void setup(void)
{
	bt_tmpdir(dir, sizeof(dir));
	snprintf(file, sizeof(file), "%s/broker.conf", dir);
}

static void teardown(void)
{
	bt_rmdir(dir);
}

static void write_file(const char *text)
{
	FILE *f = fopen(file, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* --dump-config of @cfg as a string (malloc'd), without its two header lines. */
static char *dump(const struct broker_config *cfg)
{
	char *buf = NULL, *body;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	broker_config_dump(cfg, f);
	fclose(f);
	body = strchr(strchr(buf, '\n') + 1, '\n') + 1;
	body = strdup(body);
	free(buf);
	return body;
}

START_TEST(embedded_defaults)
{
	struct broker_config cfg;
	const struct broker_config_pool *demo;

	ck_assert_int_eq(broker_config_init(&cfg), 0);
	ck_assert_str_eq(cfg.file, "");
	ck_assert_str_eq(cfg.data_dir, "./var");
	ck_assert_str_eq(cfg.database, "broker.db");
	ck_assert_int_eq(cfg.log_level, VDI_LOG_INFO);
	ck_assert_str_eq(cfg.listen, "127.0.0.1:8443");
	ck_assert_str_eq(cfg.listen_host, "127.0.0.1");
	ck_assert_int_eq(cfg.listen_port, 8443);
	ck_assert_str_eq(cfg.tls_cert, "tls/server-cert.pem");
	ck_assert_str_eq(cfg.tls_key, "tls/server-key.pem");
	ck_assert_uint_eq(cfg.ticket_lifetime, 30);
	ck_assert_uint_eq(cfg.max_tunnels, 256);
	ck_assert_uint_eq(cfg.max_tunnels_per_user, 4);
	ck_assert_uint_eq(cfg.idle_timeout, 30 * 60);
	ck_assert_uint_eq(cfg.absolute_timeout, 12 * 3600);
	ck_assert_uint_eq(cfg.disconnect_grace, 5 * 60);
	ck_assert_uint_eq(cfg.lockout_failures, 5);
	ck_assert_uint_eq(cfg.lockout_duration, 5 * 60);
	ck_assert_str_eq(cfg.pam_service, "");
	ck_assert_str_eq(cfg.default_group, "users");
	ck_assert_ptr_nonnull(strstr(cfg.vmm_binary, "vmm/vdi-vmm"));
	ck_assert_ptr_nonnull(strstr(cfg.vmm_guest, "vdi-guest.elf"));
	ck_assert_uint_eq(cfg.nr_pools, 1);
	demo = &cfg.pools[0];
	ck_assert_str_eq(demo->pool.name, "demo");
	ck_assert_str_eq(demo->pool.kernel, ""); /* the reference guest */
	ck_assert_uint_eq(demo->pool.memory_mib, 128);
	ck_assert_uint_eq(demo->pool.vcpus, 1);
	ck_assert_uint_eq(demo->pool.width, 1024);
	ck_assert_uint_eq(demo->pool.height, 768);
	ck_assert_int_eq(demo->pool.type, BROKER_POOL_FLOATING);
	ck_assert_uint_eq(demo->pool.size, 2);
	ck_assert_uint_eq(demo->pool.spares, 1);
	ck_assert_uint_eq(demo->pool.max_vms, 4);
	ck_assert_uint_eq(demo->pool.max_per_user, 1);
	ck_assert(demo->pool.enabled);
	ck_assert_uint_eq(demo->nr_entitle, 1);
	ck_assert_int_eq(demo->entitle[0].kind, BROKER_ENT_GROUP);
	ck_assert_str_eq(demo->entitle[0].name, "users");
	ck_assert_int_eq(broker_pool_check(&demo->pool, NULL, 0), 0);
	broker_config_free(&cfg);
}
END_TEST

START_TEST(full_file)
{
	struct broker_config cfg;
	char err[512];

	write_file("# a comment\n"
	           "[broker]\n"
	           "data_dir = /srv/vdi\n"
	           "database=state.db\n"
	           "log_level = debug\n"
	           "[http]\n"
	           "listen = [::1]:9443\n"
	           "tls_cert = /etc/vdi/cert.pem\n"
	           "[console]\nticket_lifetime = 60\nmax_tunnels = 1000\n"
	           "max_tunnels_per_user = 600\n"
	           "origins = https://portal.example.org  http://[2001:db8::1]:8080\n"
	           "gateway_url = wss://gw.example.org:8444\n"
	           "spice_proxy = http://proxy.example.org:3128\n"
	           "[session]\nidle_timeout=900\nabsolute_timeout=3600\ndisconnect_grace=0\n"
	           "[auth]\nlockout_failures=10\nlockout_duration=600\npam_service=vdi\n"
	           "default_group=\ntotp_issuer=Example Corp\nargon2_memory=65536\n"
	           "[vmm]\nbinary=/usr/bin/vdi-vmm\nguest=/usr/share/vdi/guest.elf\n"
	           "[pool linux]\n"
	           "kernel = /boot/vmlinuz\n"
	           "cmdline = console=ttyS0 quiet\n"
	           "memory = 1024\nvcpus = 2\nresolution = 1280x800\ntype = persistent\n"
	           "size = 0\nspares = 0\nmax_vms = 20\nmax_per_user = 2\nenabled = false\n"
	           "entitle = group:staff; user:bob\n"
	           "[pool empty]\n");
	ck_assert_int_eq(broker_config_init(&cfg), 0);
	ck_assert_msg(broker_config_load(&cfg, file, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(cfg.file, file);
	ck_assert_str_eq(cfg.data_dir, "/srv/vdi");
	ck_assert_str_eq(cfg.database, "state.db");
	ck_assert_int_eq(cfg.log_level, VDI_LOG_DEBUG);
	ck_assert_str_eq(cfg.listen_host, "::1");
	ck_assert_int_eq(cfg.listen_port, 9443);
	ck_assert_str_eq(cfg.tls_cert, "/etc/vdi/cert.pem");
	ck_assert_str_eq(cfg.tls_key, "tls/server-key.pem"); /* untouched keys keep defaults */
	ck_assert_uint_eq(cfg.ticket_lifetime, 60);
	ck_assert_uint_eq(cfg.max_tunnels, 1000);
	ck_assert_uint_eq(cfg.max_tunnels_per_user, 600);
	ck_assert_str_eq(cfg.origins, "https://portal.example.org  http://[2001:db8::1]:8080");
	ck_assert_str_eq(cfg.gateway_url, "wss://gw.example.org:8444");
	ck_assert_str_eq(cfg.spice_proxy, "http://proxy.example.org:3128");
	ck_assert_uint_eq(cfg.disconnect_grace, 0);
	ck_assert_uint_eq(cfg.lockout_failures, 10);
	ck_assert_str_eq(cfg.pam_service, "vdi");
	ck_assert_str_eq(cfg.default_group, "");
	ck_assert_str_eq(cfg.totp_issuer, "Example Corp");
	ck_assert_uint_eq(cfg.argon2_memory, 65536);
	ck_assert_str_eq(cfg.vmm_binary, "/usr/bin/vdi-vmm");
	/* The file's pools replace the demo pool. */
	ck_assert_uint_eq(cfg.nr_pools, 2);
	ck_assert_str_eq(cfg.pools[0].pool.name, "linux");
	ck_assert_str_eq(cfg.pools[0].pool.kernel, "/boot/vmlinuz");
	ck_assert_str_eq(cfg.pools[0].pool.cmdline, "console=ttyS0 quiet");
	ck_assert_uint_eq(cfg.pools[0].pool.memory_mib, 1024);
	ck_assert_uint_eq(cfg.pools[0].pool.width, 1280);
	ck_assert_int_eq(cfg.pools[0].pool.type, BROKER_POOL_PERSISTENT);
	ck_assert_uint_eq(cfg.pools[0].pool.max_per_user, 2);
	ck_assert(!cfg.pools[0].pool.enabled);
	ck_assert_uint_eq(cfg.pools[0].nr_entitle, 2);
	ck_assert_int_eq(cfg.pools[0].entitle[0].kind, BROKER_ENT_GROUP);
	ck_assert_str_eq(cfg.pools[0].entitle[1].name, "bob");
	ck_assert_str_eq(cfg.pools[1].pool.name, "empty");
	ck_assert_uint_eq(cfg.pools[1].pool.memory_mib, 256);
	broker_config_free(&cfg);

	/* A file without pools leaves none. */
	write_file("[http]\nlisten = 0.0.0.0:443\n");
	ck_assert_int_eq(broker_config_init(&cfg), 0);
	ck_assert_int_eq(broker_config_load(&cfg, file, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg.nr_pools, 0);
	broker_config_free(&cfg);
}
END_TEST

START_TEST(bad_values_name_file_group_and_key)
{
	static const struct {
		const char *text;
		const char *expect;
	} cases[] = {
		{ "[auth]\nlockout_failures = 0\n", "[auth] lockout_failures: '0' is not" },
		{ "[auth]\nlockout_failures = 101\n", "[auth] lockout_failures:" },
		{ "[auth]\nlockout_failures = five\n", "[auth] lockout_failures:" },
		{ "[auth]\nlockout_failures = -1\n", "[auth] lockout_failures:" },
		{ "[auth]\nlockout_failures = 99999999999999999999999\n",
		  "[auth] lockout_failures:" },
		{ "[auth]\nlockout_failures = 5x\n", "[auth] lockout_failures:" },
		{ "[console]\nticket_lifetime = 4\n", "[console] ticket_lifetime:" },
		{ "[console]\nmax_tunnels = 0\n", "[console] max_tunnels:" },
		{ "[console]\nmax_tunnels_per_user = 1001\n", "[console] max_tunnels_per_user:" },
		{ "[console]\norigins = https://a.example/path\n", "[console] origins:" },
		{ "[console]\norigins = portal.example.org\n", "[console] origins:" },
		{ "[console]\norigins = https://a https://b https://c https://d https://e "
		  "https://f https://g https://h https://i\n",
		  "[console] origins: must be at most 8" },
		{ "[console]\ngateway_url = https://gw.example.org\n", "[console] gateway_url:" },
		{ "[console]\ngateway_url = wss://gw.example.org/api\n", "[console] gateway_url:" },
		{ "[console]\nspice_proxy = socks5://proxy:1080\n", "[console] spice_proxy:" },
		{ "[console]\nspice_proxy = http://proxy:99999\n", "[console] spice_proxy:" },
		{ "[session]\nidle_timeout = 59\n", "[session] idle_timeout:" },
		{ "[http]\nlisten = localhost:8443\n", "[http] listen:" },
		{ "[http]\nlisten = 127.0.0.1\n", "[http] listen:" },
		{ "[http]\nlisten = 127.0.0.1:65536\n", "[http] listen:" },
		{ "[http]\nlisten = 127.0.0.1:65536\n", "[http] listen:" },
		{ "[http]\nlisten = ::1:80\n", "[http] listen:" },
		{ "[broker]\ndata_dir =\n", "[broker] data_dir: must not be empty" },
		{ "[broker]\nlog_level = loud\n", "[broker] log_level:" },
		{ "[auth]\npam_service = ../x\n", "[auth] pam_service:" },
		{ "[auth]\ndefault_group = a b\n", "[auth] default_group:" },
		{ "[auth]\ntotp_issuer = a:b\n", "[auth] totp_issuer:" },
		{ "[auth]\nthrottle_base_ms = 500\nthrottle_max_ms = 100\n",
		  "[auth] throttle_max_ms:" },
		{ "[auth]\nargon2_parallelism = 16\nargon2_memory = 64\n",
		  "[auth] argon2_memory:" },
		{ "[auth]\nlockout_failure = 3\n", "[auth] lockout_failure: unknown key" },
		{ "[auth]\nlockout_failures[de] = 3\n", "unknown key" },
		{ "[authentication]\nx = 1\n", "[authentication]: unknown group" },
		{ "[pool a b]\n", "[pool a b]: pool name" },
		{ "[pool p]\nmemory = 8\n", "[pool p] memory:" },
		{ "[pool p]\nvcpus = 0\n", "[pool p] vcpus:" },
		{ "[pool p]\nresolution = 1024*768\n", "[pool p] resolution:" },
		{ "[pool p]\nresolution = 4000x3000\n", "[pool p] resolution:" },
		{ "[pool p]\ntype = shared\n", "[pool p] type:" },
		{ "[pool p]\nenabled = maybe\n", "[pool p] enabled:" },
		{ "[pool p]\nentitle = users\n", "[pool p] entitle: 'users'" },
		{ "[pool p]\nentitle = group:a b\n", "[pool p] entitle:" },
		{ "[pool p]\nsize = 5\n", "[pool p] size: 5 is more than max_vms (4)" },
		{ "[pool p]\nmax_vms = 2\nspares = 3\n", "[pool p] spares:" },
		{ "[pool p]\nmax_vms = 0\n", "[pool p] max_vms:" },
		{ "[pool p]\ncolour = blue\n", "[pool p] colour: unknown key" },
		{ "just text\n", "broker.conf: " },
		{ "[auth\n", "broker.conf: " },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct broker_config cfg;

		ck_assert_int_eq(broker_config_init(&cfg), 0);
		write_file(cases[i].text);
		err[0] = '\0';
		ck_assert_msg(broker_config_load(&cfg, file, err, sizeof(err)) == -EINVAL,
		              "case %zu accepted", i);
		ck_assert_msg(strstr(err, cases[i].expect) != NULL, "case %zu: '%s'", i, err);
		ck_assert_msg(strncmp(err, file, strlen(file)) == 0, "case %zu: no file: %s", i,
		              err);
		ck_assert_msg(!strchr(err, '\n'), "case %zu: not one line: %s", i, err);
		/* Nothing changed. */
		ck_assert_str_eq(cfg.file, "");
		ck_assert_uint_eq(cfg.lockout_failures, 5);
		ck_assert_uint_eq(cfg.nr_pools, 1);
		broker_config_free(&cfg);
	}
}
END_TEST

START_TEST(unreadable_files)
{
	struct broker_config cfg;
	char err[512], big[160];
	FILE *f;

	ck_assert_int_eq(broker_config_init(&cfg), 0);
	ck_assert_int_eq(broker_config_load(&cfg, "/nonexistent/broker.conf", err, sizeof(err)),
	                 -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/broker.conf: "));
	ck_assert_int_eq(broker_config_load(&cfg, dir, err, sizeof(err)), -EINVAL);
	ck_assert_int_eq(broker_config_load(&cfg, "", err, sizeof(err)), -EINVAL);
	snprintf(big, sizeof(big), "%s/big.conf", dir);
	f = fopen(big, "w");
	for (int i = 0; i < BROKER_CONFIG_FILE_MAX / 16 + 1; i++)
		fputs("# padding ....\n\n", f);
	fclose(f);
	ck_assert_int_eq(broker_config_load(&cfg, big, err, sizeof(err)), -EFBIG);
	f = fopen(file, "w");
	fwrite("[auth]\0\n", 1, 8, f);
	fclose(f);
	ck_assert_int_eq(broker_config_load(&cfg, file, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "NUL"));
	broker_config_free(&cfg);
}
END_TEST

START_TEST(dump_loads_back_the_same)
{
	struct broker_config a, b;
	char err[512], *da, *db;
	FILE *f;

	ck_assert_int_eq(broker_config_init(&a), 0);
	/* Values that need escaping in a key file. */
	ck_assert_int_eq(
	        broker_config_set(&a, "broker", "data_dir", " /odd\\dir ", err, sizeof(err)), 0);
	ck_assert_int_eq(
	        broker_config_set(&a, "auth", "totp_issuer", "Example Corp", err, sizeof(err)), 0);
	strcpy(a.pools[0].pool.cmdline, " console=ttyS0 x=\\y ");
	a.pools[0].nr_entitle = 2;
	a.pools[0].entitle[1].kind = BROKER_ENT_USER;
	strcpy(a.pools[0].entitle[1].name, "bob");
	da = dump(&a);
	f = fopen(file, "w");
	broker_config_dump(&a, f);
	fclose(f);
	ck_assert_int_eq(broker_config_init(&b), 0);
	ck_assert_msg(broker_config_load(&b, file, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(b.data_dir, " /odd\\dir ");
	ck_assert_str_eq(b.pools[0].pool.cmdline, " console=ttyS0 x=\\y ");
	db = dump(&b);
	ck_assert_str_eq(da, db);
	free(da);
	free(db);
	broker_config_free(&a);
	broker_config_free(&b);

	/* Without pools, too. */
	write_file("[vmm]\nguest = /g.elf\n");
	ck_assert_int_eq(broker_config_init(&a), 0);
	ck_assert_int_eq(broker_config_load(&a, file, err, sizeof(err)), 0);
	da = dump(&a);
	ck_assert_ptr_nonnull(strstr(da, "No pools"));
	f = fopen(file, "w");
	fputs(da, f);
	fclose(f);
	ck_assert_int_eq(broker_config_init(&b), 0);
	ck_assert_int_eq(broker_config_load(&b, file, err, sizeof(err)), 0);
	ck_assert_uint_eq(b.nr_pools, 0);
	ck_assert_str_eq(b.vmm_guest, "/g.elf");
	free(da);
	broker_config_free(&a);
	broker_config_free(&b);
}
END_TEST

START_TEST(flags_and_paths)
{
	struct broker_config cfg;
	char why[256], buf[64];

	ck_assert_int_eq(broker_config_init(&cfg), 0);
	ck_assert_int_eq(broker_config_set(&cfg, "broker", "data_dir", "/d", why, sizeof(why)), 0);
	ck_assert_int_eq(broker_config_set(&cfg, "vmm", "binary", "", why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(broker_config_set(&cfg, "vmm", "nothing", "x", why, sizeof(why)), -ENOENT);
	ck_assert_int_eq(
	        broker_config_set(&cfg, "http", "listen", "10.0.0.1:443", why, sizeof(why)), 0);
	ck_assert_str_eq(cfg.listen_host, "10.0.0.1");
	ck_assert_int_eq(broker_config_set(&cfg, "http", "listen", "bad", why, sizeof(why)),
	                 -EINVAL);
	ck_assert_str_eq(cfg.listen_host, "10.0.0.1");
	ck_assert_int_eq(broker_config_data_path(&cfg, "broker.db", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/d/broker.db");
	ck_assert_int_eq(broker_config_data_path(&cfg, "/abs/x", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/abs/x");
	ck_assert_int_eq(broker_config_data_path(&cfg, "x", buf, 4), -ENAMETOOLONG);
	broker_config_free(&cfg);
}
END_TEST

START_TEST(shared_parsers)
{
	struct broker_entitlement e;
	enum broker_pool_type t;
	unsigned int w = 0, h = 0;
	unsigned long v;
	char host[64];
	bool b;
	int port;

	ck_assert_int_eq(broker_parse_resolution("1024x768", &w, &h), 0);
	ck_assert_uint_eq(w, 1024);
	ck_assert_uint_eq(h, 768);
	ck_assert_int_eq(broker_parse_resolution("320x200", &w, &h), 0);
	ck_assert_int_eq(broker_parse_resolution("1920x1080", &w, &h), 0);
	ck_assert_int_eq(broker_parse_resolution("1921x1080", &w, &h), -EINVAL);
	ck_assert_int_eq(broker_parse_resolution("1024", &w, &h), -EINVAL);
	ck_assert_int_eq(broker_parse_resolution("1024x768x", &w, &h), -EINVAL);
	ck_assert_int_eq(broker_parse_resolution("x768", &w, &h), -EINVAL);
	ck_assert_int_eq(broker_parse_resolution("10000000000000x768", &w, &h), -EINVAL);
	ck_assert_int_eq(broker_parse_pool_type("persistent", &t), 0);
	ck_assert_int_eq(t, BROKER_POOL_PERSISTENT);
	ck_assert_int_eq(broker_parse_pool_type("Floating", &t), -EINVAL);
	ck_assert_int_eq(broker_parse_entitlement("user:bob", &e), 0);
	ck_assert_int_eq(e.kind, BROKER_ENT_USER);
	ck_assert_str_eq(e.name, "bob");
	ck_assert_int_eq(broker_parse_entitlement("group:users", &e), 0);
	ck_assert_int_eq(e.kind, BROKER_ENT_GROUP);
	ck_assert_int_eq(broker_parse_entitlement("group:", &e), -EINVAL);
	ck_assert_int_eq(broker_parse_entitlement("role:admin", &e), -EINVAL);
	ck_assert_int_eq(broker_parse_entitlement("user:a;b", &e), -EINVAL);
	ck_assert_int_eq(broker_parse_uint("42", 0, 100, &v), 0);
	ck_assert_uint_eq(v, 42);
	ck_assert_int_eq(broker_parse_uint("+42", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(broker_parse_uint(" 42", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(broker_parse_uint("", 0, 100, &v), -EINVAL);
	ck_assert_int_eq(broker_parse_uint("18446744073709551616", 0, ~0UL, &v), -EINVAL);
	ck_assert_int_eq(broker_parse_bool("yes", &b), 0);
	ck_assert(b);
	ck_assert_int_eq(broker_parse_bool("off", &b), 0);
	ck_assert(!b);
	ck_assert_int_eq(broker_parse_bool("TRUE", &b), -EINVAL);
	ck_assert_int_eq(broker_parse_listen("[2001:db8::1]:8443", host, sizeof(host), &port), 0);
	ck_assert_str_eq(host, "2001:db8::1");
	ck_assert_int_eq(port, 8443);
	ck_assert_int_eq(broker_parse_listen("[]:80", host, sizeof(host), &port), -EINVAL);
	ck_assert_int_eq(broker_parse_listen("[1.2.3.4]:80", host, sizeof(host), &port), -EINVAL);
	ck_assert_int_eq(broker_parse_listen(":80", host, sizeof(host), &port), -EINVAL);
	{
		static const char *const good[] = { "https://a.example", "https://a.example:8443",
			                            "http://10.0.0.1:80", "https://[::1]:8443",
			                            "https://[2001:db8::2]" };
		static const char *const bad[] = { "https://",
			                           "https://:80",
			                           "https://a.example:",
			                           "https://a.example:0",
			                           "https://a.example:65536",
			                           "https://a.example/",
			                           "https://a.example?x",
			                           "https://user@a.example",
			                           "https://[::1",
			                           "https://[zz]:80",
			                           "https://[::1]x",
			                           "ftp://a.example",
			                           "https://-a.example",
			                           "wss://a.example" };

		for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			ck_assert_msg(broker_origin_valid(good[i], strlen(good[i]), "https"), "%s",
			              good[i]);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			ck_assert_msg(!broker_origin_valid(bad[i], strlen(bad[i]), "https"), "%s",
			              bad[i]);
		ck_assert(broker_origin_valid("wss://gw:8444", 13, "wss"));
		ck_assert(!broker_origin_valid("https://gw:8444", 15, "wss"));
		ck_assert(!broker_origin_valid("http://gw:8444", 14, "wss"));
	}
}
END_TEST

START_TEST(pool_keys_from_text)
{
	struct broker_config_pool p = { 0 };
	char why[256], many[2048] = "";

	broker_pool_defaults(&p.pool, "x");
	ck_assert_int_eq(broker_config_pool_set(&p, "memory", "512", why, sizeof(why)), 0);
	ck_assert_uint_eq(p.pool.memory_mib, 512);
	ck_assert_int_eq(broker_config_pool_set(&p, "entitle", "", why, sizeof(why)), 0);
	ck_assert_uint_eq(p.nr_entitle, 0);
	ck_assert_int_eq(broker_config_pool_set(&p, "cmdline", "a\tb", why, sizeof(why)), -EINVAL);
	ck_assert_int_eq(broker_config_pool_set(&p, "nope", "1", why, sizeof(why)), -ENOENT);
	for (int i = 0; i < BROKER_CONFIG_ENTITLE_MAX + 1; i++)
		snprintf(many + strlen(many), sizeof(many) - strlen(many), "user:u%d;", i);
	ck_assert_int_eq(broker_config_pool_set(&p, "entitle", many, why, sizeof(why)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "more than"));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("broker_config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, embedded_defaults);
	tcase_add_test(tc, full_file);
	tcase_add_test(tc, bad_values_name_file_group_and_key);
	tcase_add_test(tc, unreadable_files);
	tcase_add_test(tc, dump_loads_back_the_same);
	tcase_add_test(tc, flags_and_paths);
	tcase_add_test(tc, shared_parsers);
	tcase_add_test(tc, pool_keys_from_text);
	suite_add_tcase(s, tc);
	return bt_run(s);
}
