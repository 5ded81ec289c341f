/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What one vdi-vmm process runs: parsed and validated from the command line
 * by vmm_config_parse(), read-only afterwards.
 */
#ifndef VDI_VMM_CONFIG_H
#define VDI_VMM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMM_NAME_MAX 32
#define VMM_MEM_MIN (16ULL << 20)
#define VMM_MEM_MAX (64ULL << 30)
#define VMM_WIDTH_MIN 320
#define VMM_HEIGHT_MIN 200
#define VMM_WIDTH_MAX 1920
#define VMM_HEIGHT_MAX 1080

enum vmm_serial_mode {
	VMM_SERIAL_STDIO,
	VMM_SERIAL_FILE,
	VMM_SERIAL_NONE,
};

struct vmm_listen {
	bool enabled;
	bool is_unix;
	char host[64];  /* numeric address for TCP */
	int port;       /* 0: choose a free port */
	char path[108]; /* unix socket path */
};

struct vmm_config {
	char name[VMM_NAME_MAX + 1];
	uint64_t mem_size;
	unsigned int cpus;
	const char *kernel;
	const char *initrd;
	const char *cmdline;
	const char *disk;
	bool disk_ro;
	unsigned int width, height;
	const char *control_path;
	enum vmm_serial_mode serial;
	const char *serial_path;
	struct vmm_listen vnc;
	struct vmm_listen spice;
	const char
	        *spice_tls_cert; /* directory with ca-cert.pem, server-cert.pem, server-key.pem */
	int spice_tls_port;      /* -1: no TLS port, 0: any free port */
	int log_level;
};

/*
 * Parse argv into @cfg (pointers into argv are kept). Returns 0, 1 when
 * --help or --version was printed (exit 0), or -EINVAL with a one-line
 * message in @err (exit 2).
 */
int vmm_config_parse(struct vmm_config *cfg, int argc, char **argv, char *err, size_t err_size);

/* The --help text. */
void vmm_config_usage(void);

/* Parse "host:port", "unix:PATH" or "none" for --vnc/--spice; 0 or -EINVAL. */
int vmm_listen_parse(const char *s, struct vmm_listen *ret);

#endif
