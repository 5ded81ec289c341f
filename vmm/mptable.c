// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/mptable.h"

#include <errno.h>
#include <string.h>

#define MP_MAX_CPUS 64
#define MP_MAX_PCI 32
#define MP_BUS_PCI 0
#define MP_BUS_ISA 1
#define MP_IRQ_FLAGS_PCI 0x0f /* level triggered, active low */

struct mpf {
	char signature[4];
	uint32_t physptr;
	uint8_t length, specification, checksum, feature1, feature2, feature3, feature4, feature5;
} __attribute__((packed));

struct mpc {
	char signature[4];
	uint16_t length;
	uint8_t spec, checksum;
	char oem[8], productid[12];
	uint32_t oemptr;
	uint16_t oemsize, count;
	uint32_t lapic;
	uint16_t reserved;
	uint8_t ext_checksum, reserved2;
} __attribute__((packed));

struct mpc_cpu {
	uint8_t type, apicid, apicver, cpuflag;
	uint32_t cpufeature, featureflag, reserved[2];
} __attribute__((packed));

struct mpc_bus {
	uint8_t type, busid;
	char bustype[6];
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type, apicid, apicver, flags;
	uint32_t apicaddr;
} __attribute__((packed));

struct mpc_intsrc {
	uint8_t type, irqtype;
	uint16_t irqflag;
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
} __attribute__((packed));

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum = (uint8_t)(sum + *b++);
	return (uint8_t)(0 - sum);
}

int vmm_mptable_write(struct vmm_mem *mem, uint64_t addr, uint64_t room, unsigned int nr_cpus,
                      uint32_t cpu_signature, uint32_t cpu_features,
                      const struct vmm_mptable_pci_irq *pci, unsigned int nr_pci)
{
	size_t max = sizeof(struct mpf) + sizeof(struct mpc) +
	             MP_MAX_CPUS * sizeof(struct mpc_cpu) + 2 * sizeof(struct mpc_bus) +
	             sizeof(struct mpc_ioapic) + (16 + MP_MAX_PCI + 2) * sizeof(struct mpc_intsrc);
	uint8_t *base, *p;
	struct mpf *mpf;
	struct mpc *mpc;
	uint16_t count = 0;
	uint32_t pci_gsis = 0;
	uint8_t ioapic_id = (uint8_t)nr_cpus;

	if (nr_cpus == 0 || nr_cpus > MP_MAX_CPUS || nr_pci > MP_MAX_PCI || (addr & 15))
		return -EINVAL;
	if (room < max || !(base = vmm_mem_ptr(mem, addr, max)))
		return -ENOMEM;
	memset(base, 0, max);
	mpf = (struct mpf *)base;
	mpc = (struct mpc *)(base + sizeof(*mpf));
	p = (uint8_t *)(mpc + 1);

	for (unsigned int i = 0; i < nr_cpus; i++) {
		struct mpc_cpu c = {
			.type = 0,
			.apicid = (uint8_t)i,
			.apicver = 0x14,
			.cpuflag = (uint8_t)(1 | (i == 0 ? 2 : 0)), /* enabled, BSP */
			.cpufeature = cpu_signature,
			.featureflag = cpu_features,
		};
		memcpy(p, &c, sizeof(c));
		p += sizeof(c);
		count++;
	}
	{
		struct mpc_bus b[2] = { { 1, MP_BUS_PCI, "PCI   " }, { 1, MP_BUS_ISA, "ISA   " } };

		memcpy(p, b, sizeof(b));
		p += sizeof(b);
		count += 2;
	}
	{
		struct mpc_ioapic io = { 2, ioapic_id, 0x11, 1, VMM_IOAPIC_ADDR };

		memcpy(p, &io, sizeof(io));
		p += sizeof(io);
		count++;
	}
	for (unsigned int i = 0; i < nr_pci; i++) {
		struct mpc_intsrc s = {
			.type = 3,
			.irqtype = 0,
			.irqflag = MP_IRQ_FLAGS_PCI,
			.srcbus = MP_BUS_PCI,
			.srcbusirq = (uint8_t)(pci[i].slot << 2), /* INTA# */
			.dstapic = ioapic_id,
			.dstirq = pci[i].gsi,
		};
		if (pci[i].gsi < 32)
			pci_gsis |= 1u << pci[i].gsi;
		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
		count++;
	}
	/* ISA IRQs map 1:1 onto IOAPIC pins; 2 is the PIC cascade, and PCI pins are PCI's. */
	for (uint8_t irq = 0; irq < 16; irq++) {
		struct mpc_intsrc s = { 3, 0, 0, MP_BUS_ISA, irq, ioapic_id, irq };

		if (irq == 2 || (pci_gsis & (1u << irq)))
			continue;
		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
		count++;
	}
	{
		/* LINT0 carries the PIC (ExtINT), LINT1 the NMI, on every CPU. */
		struct mpc_intsrc l[2] = { { 4, 3, 0, MP_BUS_ISA, 0, 0xff, 0 },
			                   { 4, 1, 0, MP_BUS_ISA, 0, 0xff, 1 } };

		memcpy(p, l, sizeof(l));
		p += sizeof(l);
		count += 2;
	}

	memcpy(mpc->signature, "PCMP", 4);
	mpc->length = (uint16_t)(p - (uint8_t *)mpc);
	mpc->spec = 4;
	memcpy(mpc->oem, "VDI     ", 8);
	memcpy(mpc->productid, "VDI-VMM     ", 12);
	mpc->count = count;
	mpc->lapic = VMM_LAPIC_ADDR;
	mpc->checksum = checksum(mpc, mpc->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->physptr = (uint32_t)(addr + sizeof(*mpf));
	mpf->length = 1;
	mpf->specification = 4;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;
}
