/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The control socket's commands, separate from its transport so that each
 * command can be unit tested and the list read in one place.
 */
#ifndef VDI_VMM_CONTROL_CMDS_H
#define VDI_VMM_CONTROL_CMDS_H

#include <stdbool.h>

#include <jansson.h>

struct vmm_machine;

struct vmm_cmd_result {
	json_t *ok;            /* the reply when err_class is NULL; owned by the caller */
	const char *err_class; /* PROTO_CTL_ERR_* */
	char err_desc[256];
	bool quit; /* stop the vmm once the reply is sent */
};

/*
 * Run @cmd with @args (an object, borrowed) against @m and fill @res. Loop
 * thread. Unknown commands and bad arguments become error results; nothing
 * changes in the machine for a request that is refused.
 */
void vmm_control_run(struct vmm_machine *m, const char *cmd, json_t *args,
                     struct vmm_cmd_result *res);

#endif
