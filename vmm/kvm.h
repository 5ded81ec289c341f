/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The KVM virtual machine: /dev/kvm, the VM file descriptor, the in-kernel
 * interrupt controllers (PIC, IOAPIC, local APICs) and PIT, memory slots and
 * their dirty logs, and interrupt lines into the in-kernel controllers.
 */
#ifndef VDI_VMM_KVM_H
#define VDI_VMM_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/irq.h"

struct kvm_cpuid2;

/* Memory slots the machine uses. */
enum vmm_kvm_slot {
	VMM_SLOT_RAM_LOW = 0,
	VMM_SLOT_RAM_HIGH = 1,
	VMM_SLOT_FRAMEBUFFER = 2,
};

struct vmm_kvm {
	int kvm_fd;
	int vm_fd;
	int vcpu_mmap_size;
	bool immediate_exit;         /* KVM_CAP_IMMEDIATE_EXIT: kicks cannot be lost */
	bool tsc_deadline;           /* KVM_CAP_TSC_DEADLINE_TIMER */
	struct kvm_cpuid2 *cpuid;    /* what KVM supports, patched per vCPU */
	struct vmm_irq_chip irqchip; /* drives KVM_IRQ_LINE */
};

/*
 * Open /dev/kvm and create a VM with the in-kernel irqchip and PIT.
 * Returns 0, -ENOENT when /dev/kvm does not exist, -EACCES without
 * permission, or another -errno; @ret_msg then says what failed.
 */
int vmm_kvm_open(struct vmm_kvm *kvm, const char **ret_msg);

/* Close the VM and /dev/kvm; safe on a zeroed or failed struct. */
void vmm_kvm_close(struct vmm_kvm *kvm);

/*
 * Map @size bytes at @host into guest-physical @gpa as @slot, or delete
 * the slot when @size is 0. @log_dirty turns on dirty page logging.
 * Returns 0 or -errno. Thread-safe (KVM serialises slot updates).
 */
int vmm_kvm_set_slot(struct vmm_kvm *kvm, unsigned int slot, uint64_t gpa, void *host,
                     uint64_t size, bool log_dirty);

/*
 * Fetch and clear the dirty bitmap of @slot (one bit per 4 KiB page, in
 * 64-bit words). Returns 0 or -errno.
 */
int vmm_kvm_get_dirty_log(struct vmm_kvm *kvm, unsigned int slot, uint64_t *bitmap);

#endif
