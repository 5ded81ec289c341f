// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "proto/log.h"

/* Where KVM on Intel keeps its real-mode TSS and identity page table: out of the guest's way. */
#define KVM_TSS_ADDR 0xfffbd000UL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL
#define KVM_MAX_CPUID_ENTRIES 256

static void kvm_irq_set_level(void *opaque, unsigned int gsi, int level)
{
	struct vmm_kvm *kvm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = level ? 1 : 0 };

	if (ioctl(kvm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_debug("KVM_IRQ_LINE gsi=%u failed: %s", gsi, strerror(errno));
}

static int get_supported_cpuid(struct vmm_kvm *kvm)
{
	size_t sz =
	        sizeof(struct kvm_cpuid2) + KVM_MAX_CPUID_ENTRIES * sizeof(struct kvm_cpuid_entry2);

	kvm->cpuid = calloc(1, sz);
	if (!kvm->cpuid)
		return -ENOMEM;
	kvm->cpuid->nent = KVM_MAX_CPUID_ENTRIES;
	if (ioctl(kvm->kvm_fd, KVM_GET_SUPPORTED_CPUID, kvm->cpuid) < 0)
		return -errno;
	return 0;
}

int vmm_kvm_open(struct vmm_kvm *kvm, const char **ret_msg)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	uint64_t ident = KVM_IDENTITY_MAP_ADDR;
	const char *msg = NULL;
	int r, api;

	memset(kvm, 0, sizeof(*kvm));
	kvm->vm_fd = -1;
	kvm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->kvm_fd < 0) {
		r = -errno;
		msg = "cannot open /dev/kvm";
		goto out;
	}
	api = ioctl(kvm->kvm_fd, KVM_GET_API_VERSION, 0);
	if (api != KVM_API_VERSION) {
		r = -ENOTSUP;
		msg = "unsupported KVM API version";
		goto out;
	}
	if (ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQCHIP) <= 0 ||
	    ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_USER_MEMORY) <= 0 ||
	    ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_PIT2) <= 0) {
		r = -ENOTSUP;
		msg = "KVM lacks the in-kernel irqchip, PIT or user memory";
		goto out;
	}
	kvm->immediate_exit = ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IMMEDIATE_EXIT) > 0;
	kvm->tsc_deadline = ioctl(kvm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	kvm->vcpu_mmap_size = ioctl(kvm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (kvm->vcpu_mmap_size <= 0) {
		r = -errno;
		msg = "KVM_GET_VCPU_MMAP_SIZE failed";
		goto out;
	}
	kvm->vm_fd = ioctl(kvm->kvm_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0) {
		r = -errno;
		msg = "KVM_CREATE_VM failed";
		goto out;
	}
	if (ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0 ||
	    ioctl(kvm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
		r = -errno;
		msg = "KVM_SET_TSS_ADDR failed";
		goto out;
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		r = -errno;
		msg = "KVM_CREATE_IRQCHIP failed";
		goto out;
	}
	if (ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		r = -errno;
		msg = "KVM_CREATE_PIT2 failed";
		goto out;
	}
	r = get_supported_cpuid(kvm);
	if (r < 0) {
		msg = "KVM_GET_SUPPORTED_CPUID failed";
		goto out;
	}
	kvm->irqchip.set_level = kvm_irq_set_level;
	kvm->irqchip.opaque = kvm;
	return 0;
out:
	if (ret_msg)
		*ret_msg = msg;
	vmm_kvm_close(kvm);
	return r;
}

void vmm_kvm_close(struct vmm_kvm *kvm)
{
	if (kvm->vm_fd > 0)
		close(kvm->vm_fd);
	if (kvm->kvm_fd > 0)
		close(kvm->kvm_fd);
	free(kvm->cpuid);
	kvm->cpuid = NULL;
	kvm->vm_fd = kvm->kvm_fd = -1;
}

int vmm_kvm_set_slot(struct vmm_kvm *kvm, unsigned int slot, uint64_t gpa, void *host,
                     uint64_t size, bool log_dirty)
{
	struct kvm_userspace_memory_region region = {
		.slot = slot,
		.flags = log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)host,
	};

	if (ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return 0;
}

int vmm_kvm_get_dirty_log(struct vmm_kvm *kvm, unsigned int slot, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bitmap };

	if (ioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
		return -errno;
	return 0;
}
