// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vdi-vmm: run one virtual desktop on KVM.
 *
 * Exit status: 0 when the guest powered off or a client asked to quit,
 * 1 on a fatal error (including no usable /dev/kvm), 2 for bad arguments.
 */
#include <stdio.h>
#include <stdlib.h>

#include "proto/log.h"
#include "vmm/config.h"
#include "vmm/machine.h"

int main(int argc, char **argv)
{
	struct vmm_config cfg;
	struct vmm_machine *m = NULL;
	char err[512] = "";
	char ident[64];
	int r;

	r = vmm_config_parse(&cfg, argc, argv, err, sizeof(err));
	if (r > 0)
		return 0;
	if (r < 0) {
		fprintf(stderr, "vdi-vmm: %s (see --help)\n", err);
		return 2;
	}
	snprintf(ident, sizeof(ident), "vdi-vmm[%s]", cfg.name);
	vdi_log_init(ident, cfg.log_level);

	r = vmm_machine_create(&cfg, &m, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "vdi-vmm: %s\n", err);
		vmm_machine_free(m);
		return 1;
	}
	r = vmm_machine_run(m);
	vmm_machine_free(m);
	return r;
}
