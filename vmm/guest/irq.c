/* irq.c - IDT, exception reports and 8259 PIC handling. */
#include "irq.h"

#include "arch.h"
#include "lib.h"
#include "serial.h"

#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI 0x20
#define PIC_READ_ISR 0x0b
#define ELCR1 0x4d0
#define ELCR2 0x4d1
#define PIC_CASCADE_IRQ 2

#define KERNEL_CS 0x08
#define GATE_INTERRUPT 0x8e

#define SPURIOUS_VECTOR 0xff
#define MSR_APIC_BASE 0x1b
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_SVR 0xf0
#define APIC_SVR_ENABLE 0x100
#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_LVT_MASKED 0x10000
#define APIC_DM_MASK 0x700
#define APIC_DM_EXTINT 0x700
#define APIC_DM_NMI 0x400

#define HANDLERS_PER_LINE 4

#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define PIT_CH0_MODE0_LOHI 0x30

struct idt_entry {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __attribute__((packed));

extern const uint64_t isr_stubs[48];
extern const uint64_t isr_spurious;

static struct idt_entry idt[256] __attribute__((aligned(16)));
static uint8_t pic_mask[2] = { 0xff, 0xff };

static struct {
	irq_handler_fn fn;
	void *arg;
} handlers[IRQ_LINES][HANDLERS_PER_LINE];

static const char *const exception_names[32] = {
	"divide error",
	"debug",
	"NMI",
	"breakpoint",
	"overflow",
	"bound range",
	"invalid opcode",
	"device not available",
	"double fault",
	"coprocessor overrun",
	"invalid TSS",
	"segment not present",
	"stack fault",
	"general protection",
	"page fault",
	"reserved",
	"x87 error",
	"alignment check",
	"machine check",
	"SIMD error",
	"virtualization",
	"control protection",
};

static void idt_set(unsigned vec, uint64_t addr)
{
	idt[vec] = (struct idt_entry){
		.off_lo = (uint16_t)addr,
		.sel = KERNEL_CS,
		.type = GATE_INTERRUPT,
		.off_mid = (uint16_t)(addr >> 16),
		.off_hi = (uint32_t)(addr >> 32),
	};
}

static void pic_write_masks(void)
{
	outb(PIC1_DATA, pic_mask[0]);
	outb(PIC2_DATA, pic_mask[1]);
}

/*
 * Firmware leaves the BSP's LAPIC in virtual-wire mode; a bare monitor may
 * not. Without LINT0 set to ExtINT no PIC interrupt would ever arrive.
 */
static void lapic_virtual_wire(void)
{
	uint32_t a, b, c, d;
	uint64_t base;
	volatile uint8_t *apic;
	uint32_t lvt0;

	cpuid(1, &a, &b, &c, &d);
	if (!(d & (1u << 9)))
		return;
	base = rdmsr(MSR_APIC_BASE);
	if (!(base & APIC_BASE_ENABLE))
		return;
	apic = (volatile uint8_t *)(uintptr_t)(base & 0xfffff000u);
	lvt0 = mmio_read32(apic + APIC_LVT0);
	if (!(lvt0 & APIC_LVT_MASKED) && (lvt0 & APIC_DM_MASK) == APIC_DM_EXTINT)
		return;
	mmio_write32(apic + APIC_SVR, APIC_SVR_ENABLE | SPURIOUS_VECTOR);
	mmio_write32(apic + APIC_LVT0, APIC_DM_EXTINT);
	mmio_write32(apic + APIC_LVT1, APIC_DM_NMI);
}

/*
 * Firmware leaves PIT channel 0 ticking at 18.2 Hz. The guest needs no
 * timer, and even masked at the PIC a periodic PIT keeps waking the host,
 * so it is set to one-shot mode, where it fires once and then stays quiet.
 */
static void pit_stop(void)
{
	outb(PIT_CMD, PIT_CH0_MODE0_LOHI);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
}

void irq_init(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr = { sizeof(idt) - 1, (uintptr_t)idt };
	unsigned i;

	for (i = 0; i < ARRAY_SIZE(isr_stubs); i++)
		idt_set(i, isr_stubs[i]);
	idt_set(SPURIOUS_VECTOR, isr_spurious);
	__asm__ volatile("lidt %0" : : "m"(idtr));

	/* ICW1..ICW4: edge mode word, vector base, cascade wiring, 8086 mode. */
	outb(PIC1_CMD, 0x11);
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, IRQ_VECTOR_BASE);
	outb(PIC2_DATA, IRQ_VECTOR_BASE + 8);
	outb(PIC1_DATA, 1 << PIC_CASCADE_IRQ);
	outb(PIC2_DATA, PIC_CASCADE_IRQ);
	outb(PIC1_DATA, 0x01);
	outb(PIC2_DATA, 0x01);
	pic_write_masks();

	pit_stop();
	lapic_virtual_wire();
}

int irq_register(unsigned irq, bool level, irq_handler_fn fn, void *arg)
{
	unsigned i;

	if (irq >= IRQ_LINES || irq == PIC_CASCADE_IRQ)
		return -EINVAL;
	for (i = 0; i < HANDLERS_PER_LINE && handlers[irq][i].fn; i++)
		;
	if (i == HANDLERS_PER_LINE)
		return -ENOSPC;
	handlers[irq][i].arg = arg;
	barrier();
	handlers[irq][i].fn = fn;

	/* The ELCR must not mark the timer, keyboard, cascade, RTC or FPU lines. */
	if (level && irq != 0 && irq != 1 && irq != 8 && irq != 13) {
		uint16_t port = irq < 8 ? ELCR1 : ELCR2;

		outb(port, inb(port) | (uint8_t)(1u << (irq & 7)));
	}
	if (irq < 8) {
		pic_mask[0] &= (uint8_t) ~(1u << irq);
	} else {
		pic_mask[1] &= (uint8_t) ~(1u << (irq - 8));
		pic_mask[0] &= (uint8_t) ~(1u << PIC_CASCADE_IRQ);
	}
	pic_write_masks();
	return 0;
}

static uint8_t pic_isr(uint16_t cmd)
{
	outb(cmd, PIC_READ_ISR);
	return inb(cmd);
}

static void handle_irq(unsigned irq)
{
	unsigned i;

	/*
	 * A line that drops before the CPU acknowledges shows up as IRQ 7 or
	 * 15 with no ISR bit set; such spurious interrupts get no EOI from
	 * the PIC that raised them.
	 */
	if (irq == 7 && !(pic_isr(PIC1_CMD) & 0x80))
		return;
	if (irq == 15 && !(pic_isr(PIC2_CMD) & 0x80)) {
		outb(PIC1_CMD, PIC_EOI);
		return;
	}
	for (i = 0; i < HANDLERS_PER_LINE && handlers[irq][i].fn; i++)
		handlers[irq][i].fn(handlers[irq][i].arg);
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

void trap_dispatch(struct trap_frame *f)
{
	if (f->vector >= IRQ_VECTOR_BASE && f->vector < IRQ_VECTOR_BASE + IRQ_LINES) {
		handle_irq((unsigned)f->vector - IRQ_VECTOR_BASE);
		return;
	}
	if (f->vector == SPURIOUS_VECTOR)
		return;

	/* A guest bug must be visible: report on serial and stop here. */
	serial_log("guest: exception %lu (%s) rip=0x%lx err=0x%lx cr2=0x%lx rsp=0x%lx",
	           (unsigned long)f->vector,
	           f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector]
	                                                        : "unknown",
	           (unsigned long)f->rip, (unsigned long)f->error, (unsigned long)read_cr2(),
	           (unsigned long)f->rsp);
	serial_log("guest: halted");
	halt_forever();
}
