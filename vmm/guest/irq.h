/* irq.h - IDT, exceptions and the 8259 PIC pair (IRQ n on vector 0x20 + n). */
#ifndef GUEST_IRQ_H
#define GUEST_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#define IRQ_VECTOR_BASE 0x20
#define IRQ_LINES 16

/* Register image pushed by the stubs in start.S, lowest address first. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

typedef void (*irq_handler_fn)(void *arg);

/*
 * Load the IDT, remap the PICs to 0x20..0x2f with every line masked, and
 * put the local APIC (if any) in virtual-wire mode so PIC interrupts reach
 * the CPU. Interrupts stay disabled.
 */
void irq_init(void);

/*
 * Add a handler for ISA IRQ line irq and unmask it. Lines may be shared
 * (PCI INTx): every handler on the line runs for each interrupt. Handlers
 * run with interrupts off and must silence their device before returning.
 * level marks a PCI line as level-triggered in the ELCR. Returns 0, or
 * -EINVAL / -ENOSPC.
 */
int irq_register(unsigned irq, bool level, irq_handler_fn fn, void *arg);

/* Called from start.S for every vector. */
void trap_dispatch(struct trap_frame *f);

#endif
