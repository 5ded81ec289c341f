// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/log.h"
#include "vmm/mem.h"

enum {
	OPT_NAME = 0x100,
	OPT_MEMORY,
	OPT_CPUS,
	OPT_KERNEL,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_DISK,
	OPT_RESOLUTION,
	OPT_CONTROL,
	OPT_SERIAL,
	OPT_VNC,
	OPT_SPICE,
	OPT_SPICE_TLS_PORT,
	OPT_SPICE_TLS_DIR,
	OPT_LOG_LEVEL,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option options[] = {
	{ "name", required_argument, NULL, OPT_NAME },
	{ "memory", required_argument, NULL, OPT_MEMORY },
	{ "cpus", required_argument, NULL, OPT_CPUS },
	{ "kernel", required_argument, NULL, OPT_KERNEL },
	{ "initrd", required_argument, NULL, OPT_INITRD },
	{ "cmdline", required_argument, NULL, OPT_CMDLINE },
	{ "disk", required_argument, NULL, OPT_DISK },
	{ "resolution", required_argument, NULL, OPT_RESOLUTION },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "vnc", required_argument, NULL, OPT_VNC },
	{ "spice", required_argument, NULL, OPT_SPICE },
	{ "spice-tls-port", required_argument, NULL, OPT_SPICE_TLS_PORT },
	{ "spice-tls-dir", required_argument, NULL, OPT_SPICE_TLS_DIR },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

void vmm_config_usage(void)
{
	printf("Usage: vdi-vmm --name NAME --kernel FILE --control PATH.sock [options]\n"
	       "\n"
	       "Run one virtual desktop on KVM, with built-in VNC and SPICE servers.\n"
	       "\n"
	       "  --name NAME            VM name, 1-%d of [A-Za-z0-9._-]\n"
	       "  --memory SIZE          guest RAM, e.g. 256M or 2G (default 256M)\n"
	       "  --cpus N               virtual CPUs, 1-64 (default 1)\n"
	       "  --kernel FILE          PVH ELF (the reference guest) or Linux bzImage\n"
	       "  --initrd FILE          initial ramdisk\n"
	       "  --cmdline STR          kernel command line\n"
	       "  --disk FILE[,ro]       raw disk image on virtio-blk, optionally read-only\n"
	       "  --resolution WxH       preferred display mode (default 1024x768)\n"
	       "  --control PATH         control socket (JSON lines)\n"
	       "  --serial MODE          stdio, file:PATH or none (default stdio)\n"
	       "  --vnc ADDR             HOST:PORT, unix:PATH or none (default 127.0.0.1:0,\n"
	       "                         port 0 picks a free port, see query-displays)\n"
	       "  --spice ADDR           HOST:PORT or none (default 127.0.0.1:0)\n"
	       "  --spice-tls-port PORT  also serve SPICE over TLS on PORT (0: any free port)\n"
	       "  --spice-tls-dir DIR    ca-cert.pem, server-cert.pem, server-key.pem for TLS\n"
	       "  --log-level LEVEL      err, warn, info or debug (default info)\n"
	       "  --help, --version\n",
	       VMM_NAME_MAX);
}

static int bad(char *err, size_t err_size, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

static int bad(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n < 1 || n > VMM_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *ret)
{
	unsigned long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int vmm_listen_parse(const char *s, struct vmm_listen *ret)
{
	struct vmm_listen l = { .enabled = true };
	const char *colon;
	unsigned long port;
	struct in6_addr a6;
	struct in_addr a4;
	size_t hlen;

	if (strcmp(s, "none") == 0) {
		*ret = (struct vmm_listen){ .enabled = false };
		return 0;
	}
	if (strncmp(s, "unix:", 5) == 0) {
		if (!s[5] || strlen(s + 5) >= sizeof(l.path))
			return -EINVAL;
		l.is_unix = true;
		strcpy(l.path, s + 5);
		*ret = l;
		return 0;
	}
	colon = strrchr(s, ':');
	if (!colon || parse_uint(colon + 1, 0, 65535, &port) < 0)
		return -EINVAL;
	hlen = (size_t)(colon - s);
	if (hlen >= 2 && s[0] == '[' && s[hlen - 1] == ']') {
		s++;
		hlen -= 2;
	}
	if (hlen == 0 || hlen >= sizeof(l.host))
		return -EINVAL;
	memcpy(l.host, s, hlen);
	l.host[hlen] = '\0';
	if (inet_pton(AF_INET, l.host, &a4) != 1 && inet_pton(AF_INET6, l.host, &a6) != 1)
		return -EINVAL;
	l.port = (int)port;
	*ret = l;
	return 0;
}

int vmm_config_parse(struct vmm_config *cfg, int argc, char **argv, char *err, size_t err_size)
{
	unsigned long v;
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_size = 256ULL << 20;
	cfg->cpus = 1;
	cfg->width = 1024;
	cfg->height = 768;
	cfg->serial = VMM_SERIAL_STDIO;
	cfg->spice_tls_port = -1;
	cfg->log_level = VDI_LOG_INFO;
	vmm_listen_parse("127.0.0.1:0", &cfg->vnc);
	vmm_listen_parse("127.0.0.1:0", &cfg->spice);
	strcpy(cfg->name, "vm");

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		const char *a = optarg;

		switch (opt) {
		case OPT_NAME:
			if (!valid_name(a))
				return bad(
				        err, err_size,
				        "--name: '%s' must be 1-%d characters of A-Z a-z 0-9 . _ -",
				        a, VMM_NAME_MAX);
			strcpy(cfg->name, a);
			break;
		case OPT_MEMORY:
			if (vmm_parse_size(a, &cfg->mem_size) < 0 || cfg->mem_size < VMM_MEM_MIN ||
			    cfg->mem_size > VMM_MEM_MAX || cfg->mem_size % 4096)
				return bad(
				        err, err_size,
				        "--memory: '%s' is not a size from 16M to 64G (e.g. 256M)",
				        a);
			break;
		case OPT_CPUS:
			if (parse_uint(a, 1, 64, &v) < 0)
				return bad(err, err_size,
				           "--cpus: '%s' is not a number from 1 to 64", a);
			cfg->cpus = (unsigned int)v;
			break;
		case OPT_KERNEL:
			cfg->kernel = a;
			break;
		case OPT_INITRD:
			cfg->initrd = a;
			break;
		case OPT_CMDLINE:
			if (strlen(a) >= 2048)
				return bad(err, err_size, "--cmdline: longer than 2047 bytes");
			cfg->cmdline = a;
			break;
		case OPT_DISK: {
			const char *comma = strrchr(a, ',');

			if (comma && strcmp(comma, ",ro") == 0) {
				/* Keep the path without the flag: one small copy that lives as long
				 * as cfg. */
				static char path[4096];

				if ((size_t)(comma - a) >= sizeof(path) || comma == a)
					return bad(err, err_size, "--disk: bad path '%s'", a);
				memcpy(path, a, (size_t)(comma - a));
				path[comma - a] = '\0';
				cfg->disk = path;
				cfg->disk_ro = true;
			} else if (comma && strcmp(comma, ",rw") != 0 && !strchr(comma, '/')) {
				return bad(err, err_size, "--disk: unknown flag '%s' (only ,ro)",
				           comma + 1);
			} else {
				cfg->disk = a;
			}
			break;
		}
		case OPT_RESOLUTION: {
			unsigned int w, h;
			char tail;

			if (sscanf(a, "%ux%u%c", &w, &h, &tail) != 2 || w < VMM_WIDTH_MIN ||
			    h < VMM_HEIGHT_MIN || w > VMM_WIDTH_MAX || h > VMM_HEIGHT_MAX)
				return bad(err, err_size,
				           "--resolution: '%s' is not WIDTHxHEIGHT from %dx%d to "
				           "%dx%d",
				           a, VMM_WIDTH_MIN, VMM_HEIGHT_MIN, VMM_WIDTH_MAX,
				           VMM_HEIGHT_MAX);
			cfg->width = w & ~1u;
			cfg->height = h;
			break;
		}
		case OPT_CONTROL:
			if (!*a || strlen(a) >= 108)
				return bad(err, err_size,
				           "--control: the socket path must be 1-107 bytes");
			cfg->control_path = a;
			break;
		case OPT_SERIAL:
			if (strcmp(a, "stdio") == 0) {
				cfg->serial = VMM_SERIAL_STDIO;
			} else if (strcmp(a, "none") == 0) {
				cfg->serial = VMM_SERIAL_NONE;
			} else if (strncmp(a, "file:", 5) == 0 && a[5]) {
				cfg->serial = VMM_SERIAL_FILE;
				cfg->serial_path = a + 5;
			} else {
				return bad(err, err_size,
				           "--serial: '%s' is not stdio, file:PATH or none", a);
			}
			break;
		case OPT_VNC:
			if (vmm_listen_parse(a, &cfg->vnc) < 0)
				return bad(err, err_size,
				           "--vnc: '%s' is not HOST:PORT, unix:PATH or none", a);
			break;
		case OPT_SPICE:
			if (vmm_listen_parse(a, &cfg->spice) < 0 || cfg->spice.is_unix)
				return bad(err, err_size, "--spice: '%s' is not HOST:PORT or none",
				           a);
			break;
		case OPT_SPICE_TLS_PORT:
			if (parse_uint(a, 0, 65535, &v) < 0)
				return bad(err, err_size, "--spice-tls-port: '%s' is not a port",
				           a);
			cfg->spice_tls_port = (int)v;
			break;
		case OPT_SPICE_TLS_DIR:
			cfg->spice_tls_cert = a;
			break;
		case OPT_LOG_LEVEL: {
			int l = vdi_log_level_parse(a);

			if (l < 0)
				return bad(err, err_size,
				           "--log-level: '%s' is not err, warn, info or debug", a);
			cfg->log_level = l;
			break;
		}
		case OPT_HELP:
			vmm_config_usage();
			return 1;
		case OPT_VERSION:
			printf("vdi-vmm %s\n", VDI_VERSION);
			return 1;
		default:
			if (optopt)
				return bad(err, err_size, "option needs a value or is unknown: %s",
				           argv[optind - 1]);
			return bad(err, err_size, "unknown option: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad(err, err_size, "unexpected argument: %s", argv[optind]);
	if (!cfg->kernel)
		return bad(err, err_size, "--kernel FILE is required");
	if (!cfg->control_path)
		return bad(err, err_size, "--control PATH.sock is required");
	if (cfg->spice_tls_port >= 0 && !cfg->spice_tls_cert)
		return bad(err, err_size, "--spice-tls-port needs --spice-tls-dir");
	return 0;
}
