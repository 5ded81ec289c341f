/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internals of the machine shared by machine.c and machine-devices.c. */
#ifndef VDI_VMM_MACHINE_PRIV_H
#define VDI_VMM_MACHINE_PRIV_H

#include "vmm/machine.h"

/* Create every device in vmm/devices/devices.def; 0 or -errno with @err. */
int vmm_machine_devices_create(struct vmm_machine *m, char *err, size_t err_size);

/* Put every device back to its power-on state (vCPUs paused). */
void vmm_machine_devices_reset(struct vmm_machine *m);

/* Free every device; flushes the disk. */
void vmm_machine_devices_free(struct vmm_machine *m);

/* Describe the framebuffer for a Linux boot and set its mode as a BIOS would. */
void vmm_machine_boot_framebuffer(struct vmm_machine *m, struct vmm_boot_fb *ret);

/* From any thread: the guest asked for a reset or power-off, or crashed. */
void vmm_machine_request(struct vmm_machine *m, enum vmm_cpu_event ev);

#endif
