// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/acpi_pm.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "proto/log.h"

#define PM1_CNT_LEN 2
#define PM1_SCI_EN 0x0001
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_TYP_MASK (7u << PM1_SLP_TYP_SHIFT)
#define PM1_SLP_EN 0x2000 /* write-only: reads as 0 */
#define PM1_SLP_TYP_S5 0

#define PORT_A_RESET 0x01
#define PORT_A_A20 0x02

struct vmm_acpi_pm {
	pthread_mutex_t lock;
	struct vmm_bus *bus;
	struct vmm_acpi_pm_ops ops;
	uint16_t pm1_cnt;
	uint8_t port_a;
};

static void pm1_cnt_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_acpi_pm *pm = opaque;
	uint8_t *p = data;
	bool off = false;
	uint16_t v;

	if (offset + size > PM1_CNT_LEN)
		return;
	pthread_mutex_lock(&pm->lock);
	if (!is_write) {
		for (unsigned int i = 0; i < size; i++)
			p[i] = (uint8_t)(pm->pm1_cnt >> (8 * (offset + i)));
		pthread_mutex_unlock(&pm->lock);
		return;
	}
	/* Byte writes merge into the register; SLP_EN acts on the result. */
	v = pm->pm1_cnt;
	for (unsigned int i = 0; i < size; i++) {
		unsigned int shift = 8 * ((unsigned int)offset + i);

		v = (uint16_t)((v & ~(0xffu << shift)) | (unsigned int)p[i] << shift);
	}
	if (v & PM1_SLP_EN) {
		unsigned int typ = (v & PM1_SLP_TYP_MASK) >> PM1_SLP_TYP_SHIFT;

		if (typ == PM1_SLP_TYP_S5)
			off = true;
		else
			log_debug("dev=acpi-pm sleep type %u not supported", typ);
	}
	pm->pm1_cnt = v & (uint16_t)~PM1_SLP_EN;
	pthread_mutex_unlock(&pm->lock);
	if (off && pm->ops.poweroff)
		pm->ops.poweroff(pm->ops.opaque);
}

static void port_a_io(void *opaque, uint64_t offset, void *data, unsigned int size, bool is_write)
{
	struct vmm_acpi_pm *pm = opaque;
	uint8_t *p = data;
	bool reset = false;

	if (offset || size != 1)
		return;
	pthread_mutex_lock(&pm->lock);
	if (is_write) {
		reset = p[0] & PORT_A_RESET;
		/* The reset bit does not stick, so the next reset request is an edge again. */
		pm->port_a = p[0] & (uint8_t)~PORT_A_RESET;
	} else {
		p[0] = pm->port_a;
	}
	pthread_mutex_unlock(&pm->lock);
	if (reset && pm->ops.reset)
		pm->ops.reset(pm->ops.opaque);
}

int vmm_acpi_pm_new(struct vmm_bus *bus, const struct vmm_acpi_pm_ops *ops,
                    struct vmm_acpi_pm **ret)
{
	struct vmm_acpi_pm *pm = calloc(1, sizeof(*pm));
	int r;

	if (!pm)
		return -ENOMEM;
	pthread_mutex_init(&pm->lock, NULL);
	pm->bus = bus;
	if (ops)
		pm->ops = *ops;
	/* No ACPI tables hand the OS control: the hardware says ACPI mode is on. */
	pm->pm1_cnt = PM1_SCI_EN;
	/* KVM never masks A20: say so. */
	pm->port_a = PORT_A_A20;
	r = vmm_bus_register(bus, VMM_BUS_PIO, VMM_ACPI_PM1A_CNT, PM1_CNT_LEN, pm1_cnt_io, pm,
	                     "acpi-pm1a-cnt");
	if (r < 0)
		goto out_free;
	r = vmm_bus_register(bus, VMM_BUS_PIO, VMM_SYSCTL_PORT_A, 1, port_a_io, pm, "port92");
	if (r < 0)
		goto out_pm1;
	*ret = pm;
	return 0;

out_pm1:
	vmm_bus_unregister(bus, VMM_BUS_PIO, VMM_ACPI_PM1A_CNT, pm);
out_free:
	pthread_mutex_destroy(&pm->lock);
	free(pm);
	return r;
}

void vmm_acpi_pm_free(struct vmm_acpi_pm *pm)
{
	if (!pm)
		return;
	vmm_bus_unregister(pm->bus, VMM_BUS_PIO, VMM_SYSCTL_PORT_A, pm);
	vmm_bus_unregister(pm->bus, VMM_BUS_PIO, VMM_ACPI_PM1A_CNT, pm);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
