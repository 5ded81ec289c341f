/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interrupt lines from devices to the interrupt controller. A device drives
 * its line to a level (1 asserted, 0 idle); the in-kernel PIC/IOAPIC turn a
 * rising level into an edge interrupt for ISA lines and keep level-triggered
 * PCI lines pending while asserted. Unit tests substitute their own chip.
 */
#ifndef VDI_VMM_IRQ_H
#define VDI_VMM_IRQ_H

struct vmm_irq_chip {
	/* Set @gsi to @level; callable from any thread. */
	void (*set_level)(void *opaque, unsigned int gsi, int level);
	void *opaque;
};

struct vmm_irq_line {
	const struct vmm_irq_chip *chip; /* NULL: line not connected */
	unsigned int gsi;
};

static inline void vmm_irq_set(const struct vmm_irq_line *line, int level)
{
	if (line->chip)
		line->chip->set_level(line->chip->opaque, line->gsi, level);
}

/* An edge: assert then release, for devices that signal events. */
static inline void vmm_irq_pulse(const struct vmm_irq_line *line)
{
	vmm_irq_set(line, 1);
	vmm_irq_set(line, 0);
}

#endif
