/*
 * PVH entry and interrupt stubs.
 *
 * A PVH loader (QEMU's -kernel, vdi-vmm) enters at pvh_start32 in 32-bit
 * protected mode with paging off and %ebx holding the physical address of
 * struct hvm_start_info. We build an identity map of the low 4 GiB with
 * 2 MiB pages, switch to long mode and call guest_main(start_info).
 */

#define KERNEL_CS 0x08
#define KERNEL_DS 0x10

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define PTE_PRESENT_RW 0x003
#define PDE_LARGE 0x083 /* present, writable, 2 MiB page */

#define MSR_EFER 0xc0000080
#define EFER_LME 0x100
#define CR4_PAE 0x020
#define CR0_PE 0x00000001
#define CR0_WP 0x00010000
#define CR0_NW 0x20000000
#define CR0_CD 0x40000000
#define CR0_PG 0x80000000

/*
 * The descriptor is 8 bytes, as in Linux's vmlinux: QEMU reads a
 * pointer-sized value from ELF64 notes, and readers that take 32 bits get
 * the same address from the low half.
 */
	.section .note.Xen, "a", @note
	.balign 4
	.long 4
	.long 8
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.balign 4
	.quad pvh_start32

	.section .text.boot, "ax", @progbits
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl $boot_stack_top, %esp

	/*
	 * Loaders zero .bss as a rule, but a reboot under a loader that only
	 * copies file contents would leave stale page tables and state here.
	 */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	shrl $2, %ecx
	xorl %eax, %eax
	rep stosl

	movl $boot_pdpt + PTE_PRESENT_RW, boot_pml4
	movl $boot_pd + PTE_PRESENT_RW, %eax
	movl $boot_pdpt, %edi
	movl $4, %ecx
1:	movl %eax, (%edi)
	addl $4096, %eax
	addl $8, %edi
	loop 1b

	/* 2048 entries of 2 MiB: all of 0..4 GiB, the PCI hole included. */
	movl $boot_pd, %edi
	movl $PDE_LARGE, %eax
	movl $2048, %ecx
2:	movl %eax, (%edi)
	addl $0x200000, %eax
	addl $8, %edi
	loop 2b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $boot_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	andl $~(CR0_CD | CR0_NW), %eax
	orl $(CR0_PG | CR0_WP | CR0_PE), %eax
	movl %eax, %cr0

	lgdt gdt_ptr
	ljmp $KERNEL_CS, $long_entry

	.code64
long_entry:
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	movq $boot_stack_top, %rsp
	movl %ebx, %edi
	call guest_main
3:	cli
	hlt
	jmp 3b

/*
 * Interrupt stubs. Each pushes a zero where the CPU pushes no error code,
 * then its vector, so trap_dispatch() sees one frame layout (struct
 * trap_frame in irq.h).
 */
	.text
	.macro ISR vec
	.balign 16
isr_\vec:
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
	.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,255
	ISR \v
	.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	call trap_dispatch
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.balign 8
	.globl isr_stubs
isr_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.quad isr_\v
	.endr
	.globl isr_spurious
isr_spurious:
	.quad isr_255

/* Accessed bits preset: the CPU would otherwise write them on first load. */
	.data
	.balign 16
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* KERNEL_CS: 64-bit code */
	.quad 0x00cf93000000ffff	/* KERNEL_DS: flat data */
gdt_end:
gdt_ptr:
	.word gdt_end - gdt - 1
	.quad gdt

	.bss
	.balign 4096
	.globl boot_pml4
boot_pml4:
	.skip 4096
boot_pdpt:
	.skip 4096
boot_pd:
	.skip 4 * 4096
	.balign 16
boot_stack:
	.skip 65536
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
