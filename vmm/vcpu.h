/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vCPUs: one thread each, running KVM_RUN and handing port and MMIO exits to
 * the I/O bus. The machine pauses, resumes and stops them all together; a
 * vCPU that sees the guest power off, reset or crash reports it through the
 * event callback and parks until the machine decides what happens next.
 */
#ifndef VDI_VMM_VCPU_H
#define VDI_VMM_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/kvm.h"

#define VMM_MAX_VCPUS 64

struct kvm_run;
struct vmm_vcpu_saved;

enum vmm_cpu_event {
	VMM_CPU_EVENT_RESET,    /* the guest asked for a reset or triple-faulted */
	VMM_CPU_EVENT_POWEROFF, /* the guest powered off */
	VMM_CPU_EVENT_CRASH,    /* KVM could not run the guest any more */
};

struct vmm_vcpu {
	struct vmm_cpus *cpus;
	unsigned int index;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	struct vmm_vcpu_saved *saved; /* power-on state, for reset */
};

enum vmm_cpus_want {
	VMM_CPUS_RUN,
	VMM_CPUS_PAUSE,
	VMM_CPUS_EXIT,
};

struct vmm_cpus {
	struct vmm_kvm *kvm;
	struct vmm_bus *bus;
	const char *vm_name;
	unsigned int nr;
	struct vmm_vcpu vcpu[VMM_MAX_VCPUS];
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum vmm_cpus_want want;
	unsigned int nr_parked;
	struct vmm_irqchip_saved *irqchip_saved;
	/* Called on the vCPU's thread; must not block on the vCPUs. */
	void (*event)(void *opaque, enum vmm_cpu_event ev, unsigned int cpu, const char *why);
	void *opaque;
};

/*
 * Create @nr vCPUs with CPUID from KVM's supported set (APIC IDs,
 * topology, TSC-deadline, hypervisor bit) and record their power-on state
 * and the interrupt controllers' for vmm_cpus_reset(). No thread runs yet.
 * Returns 0 or -errno.
 */
int vmm_cpus_create(struct vmm_cpus *cpus, struct vmm_kvm *kvm, struct vmm_bus *bus,
                    unsigned int nr, const char *vm_name);

/* Start one thread per vCPU, parked until vmm_cpus_resume(). Returns 0 or -errno. */
int vmm_cpus_start(struct vmm_cpus *cpus);

/*
 * Stop running guest code and wait until every vCPU is parked. Called from
 * the loop thread; must not hold any lock a device handler may take.
 */
void vmm_cpus_pause(struct vmm_cpus *cpus);

/* Ask every vCPU to park without waiting (safe from a vCPU thread). */
void vmm_cpus_pause_async(struct vmm_cpus *cpus);

/* Let the parked vCPUs run guest code again. */
void vmm_cpus_resume(struct vmm_cpus *cpus);

/* Back to the power-on state of CPUs, local APICs, PIC, IOAPIC and PIT. vCPUs must be paused. */
int vmm_cpus_reset(struct vmm_cpus *cpus);

/* Stop and join every thread, close the vCPUs. Safe on a zeroed struct. */
void vmm_cpus_destroy(struct vmm_cpus *cpus);

/*
 * Registers of vCPU 0 for the boot loaders: flat 32-bit protected mode
 * (PVH) or 64-bit long mode with paging at @cr3 (Linux). vCPUs must be
 * paused or not started.
 */
int vmm_vcpu_boot_protected32(struct vmm_vcpu *vcpu, uint32_t eip, uint32_t ebx);
int vmm_vcpu_boot_long64(struct vmm_vcpu *vcpu, uint64_t rip, uint64_t rsi, uint64_t cr3,
                         uint64_t gdt_base, uint16_t gdt_limit);

#endif
