/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The Intel MultiProcessor table: how a guest without ACPI learns about its
 * CPUs, the IOAPIC and which IOAPIC pin each PCI slot's INTA# and each ISA
 * IRQ arrives on. Linux reads it when it finds no ACPI tables.
 */
#ifndef VDI_VMM_MPTABLE_H
#define VDI_VMM_MPTABLE_H

#include <stdint.h>

#include "vmm/mem.h"

#define VMM_IOAPIC_ADDR 0xfec00000u
#define VMM_LAPIC_ADDR 0xfee00000u

struct vmm_mptable_pci_irq {
	uint8_t slot;
	uint8_t gsi;
};

/*
 * Write the floating pointer and the configuration table at @addr (16-byte
 * aligned, inside guest RAM, and reserved in the e820 map). @cpu_signature
 * and @cpu_features are CPUID leaf 1 EAX and EDX. Returns 0, -ENOMEM when
 * it does not fit, -EINVAL for bad arguments.
 */
int vmm_mptable_write(struct vmm_mem *mem, uint64_t addr, uint64_t room, unsigned int nr_cpus,
                      uint32_t cpu_signature, uint32_t cpu_features,
                      const struct vmm_mptable_pci_irq *pci, unsigned int nr_pci);

#endif
