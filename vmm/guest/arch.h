/* arch.h - x86-64 port and MMIO access and CPU control for the guest. */
#ifndef GUEST_ARCH_H
#define GUEST_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint16_t inw(uint16_t port)
{
	uint16_t v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint32_t inl(uint16_t port)
{
	uint32_t v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/*
 * MMIO goes through volatile pointers of the access width: a monitor
 * emulates each access by size, so the width must be exactly what we mean.
 */
static inline uint8_t mmio_read8(const volatile void *a)
{
	return *(const volatile uint8_t *)a;
}

static inline uint16_t mmio_read16(const volatile void *a)
{
	return *(const volatile uint16_t *)a;
}

static inline uint32_t mmio_read32(const volatile void *a)
{
	return *(const volatile uint32_t *)a;
}

static inline void mmio_write8(volatile void *a, uint8_t v)
{
	*(volatile uint8_t *)a = v;
}

static inline void mmio_write16(volatile void *a, uint16_t v)
{
	*(volatile uint16_t *)a = v;
}

static inline void mmio_write32(volatile void *a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

/* x86 keeps stores ordered; shared-memory rings only need the compiler held back. */
static inline void barrier(void)
{
	__asm__ volatile("" : : : "memory");
}

static inline void irq_disable(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static inline void irq_enable(void)
{
	__asm__ volatile("sti" : : : "memory");
}

/*
 * Enable interrupts and halt as one step: sti holds interrupts off for one
 * more instruction, so an interrupt arriving after the caller's last check
 * still wakes the hlt instead of being missed.
 */
static inline void cpu_idle(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static inline uint64_t read_cr2(void)
{
	uint64_t v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

/* Stop this CPU for good with interrupts off. */
__attribute__((noreturn)) static inline void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

#endif
