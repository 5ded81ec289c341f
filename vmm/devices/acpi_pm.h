/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Power control ports, without ACPI tables around them:
 *
 *  - PM1a control block at 0x604 (16 bit, where QEMU's q35 puts it): a
 *    write with SLP_EN (bit 13) and SLP_TYP 0 (S5, as QEMU's _S5 package
 *    says) powers off. Other sleep types are not supported and ignored.
 *  - System Control Port A at 0x92: bit 0 set requests a reset (it reads
 *    back as 0, so every such write resets); bit 1 (A20) and the other bits
 *    read back what was written.
 */
#ifndef VDI_VMM_DEVICES_ACPI_PM_H
#define VDI_VMM_DEVICES_ACPI_PM_H

#include "vmm/bus.h"

#define VMM_ACPI_PM1A_CNT 0x604
#define VMM_SYSCTL_PORT_A 0x92

struct vmm_acpi_pm;

struct vmm_acpi_pm_ops {
	/* The guest asked to power off / reset; on the vCPU thread, no device lock held. */
	void (*poweroff)(void *opaque);
	void (*reset)(void *opaque);
	void *opaque;
};

/*
 * Claim the ports on @bus; @ops is copied, either callback may be NULL.
 * Returns 0 and the device in *@ret, -ENOMEM, or the error of
 * vmm_bus_register(). Before the guest runs.
 */
int vmm_acpi_pm_new(struct vmm_bus *bus, const struct vmm_acpi_pm_ops *ops,
                    struct vmm_acpi_pm **ret);

/* Unregister from the bus and free (vCPUs stopped); NULL is a no-op. */
void vmm_acpi_pm_free(struct vmm_acpi_pm *pm);

#endif
