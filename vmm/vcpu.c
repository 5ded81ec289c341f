// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/vcpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/log.h"

/* The signal that kicks a vCPU thread out of KVM_RUN. */
#define VCPU_KICK_SIGNAL SIGUSR1

/* MSRs that a guest may have pointed at its own memory; put back on reset. */
static const uint32_t reset_msrs[] = {
	0x00000010,                                                 /* IA32_TSC */
	0x00000011,                                                 /* KVM wall clock (old) */
	0x00000012,                                                 /* KVM system time (old) */
	0x00000174, 0x00000175, 0x00000176,                         /* SYSENTER */
	0x00000277,                                                 /* PAT */
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,             /* STAR, LSTAR, CSTAR, FMASK */
	0xc0000102,                                                 /* KERNEL_GS_BASE */
	0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04, /* KVM paravirt */
};
#define NR_RESET_MSRS (sizeof(reset_msrs) / sizeof(reset_msrs[0]))

struct vmm_vcpu_saved {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_fpu fpu;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp_state;
	/* struct kvm_msrs ends in a flexible array: give it room for our list. */
	union {
		struct kvm_msrs hdr;
		uint8_t room[sizeof(struct kvm_msrs) +
		             NR_RESET_MSRS * sizeof(struct kvm_msr_entry)];
	} msrs;
};

struct vmm_irqchip_saved {
	struct kvm_irqchip chip[3]; /* PIC master, PIC slave, IOAPIC */
	struct kvm_pit_state2 pit;
};

static void kick_handler(int sig)
{
	(void)sig;
}

static unsigned int order_base_2(unsigned int n)
{
	unsigned int s = 0;

	while ((1u << s) < n)
		s++;
	return s;
}

/* CPUID for vCPU @index of @nr: KVM's supported set with our topology. */
static int set_cpuid(struct vmm_cpus *cpus, struct vmm_vcpu *vcpu)
{
	const struct kvm_cpuid2 *sup = cpus->kvm->cpuid;
	size_t sz = sizeof(*sup) + sup->nent * sizeof(sup->entries[0]);
	struct kvm_cpuid2 *c = malloc(sz);
	unsigned int shift = order_base_2(cpus->nr);
	int r = 0;

	if (!c)
		return -ENOMEM;
	memcpy(c, sup, sz);
	for (unsigned int i = 0; i < c->nent; i++) {
		struct kvm_cpuid_entry2 *e = &c->entries[i];

		switch (e->function) {
		case 1:
			e->ebx &= 0x0000ffff;
			e->ebx |= vcpu->index << 24;
			e->ebx |= (1u << shift) << 16;
			if (cpus->nr > 1)
				e->edx |= 1u << 28; /* HTT: several logical CPUs */
			if (cpus->kvm->tsc_deadline)
				e->ecx |= 1u << 24;
			e->ecx |= 1u << 31; /* running under a hypervisor */
			break;
		case 4:
			/* All vCPUs are cores of one package, one thread each. */
			e->eax &= 0x03ffffff;
			e->eax |= ((1u << shift) - 1) << 26;
			e->eax &= ~(0xfffu << 14);
			break;
		case 0xb:
		case 0x1f:
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1u << 8;
			} else if (e->index == 1) {
				e->eax = shift;
				e->ebx = cpus->nr;
				e->ecx = 2u << 8 | 1;
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;
			}
			e->edx = vcpu->index;
			break;
		default:
			break;
		}
	}
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		r = -errno;
	free(c);
	return r;
}

static int save_vcpu_state(struct vmm_vcpu *vcpu)
{
	struct vmm_vcpu_saved *s = calloc(1, sizeof(*s));
	int n;

	if (!s)
		return -ENOMEM;
	vcpu->saved = s;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &s->regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &s->sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_LAPIC, &s->lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_MP_STATE, &s->mp_state) < 0)
		return -errno;
	/* The power-on FPU state KVM reports is empty; use the architectural one. */
	memset(&s->fpu, 0, sizeof(s->fpu));
	s->fpu.fcw = 0x37f;
	s->fpu.mxcsr = 0x1f80;
	for (unsigned int i = 0; i < NR_RESET_MSRS; i++)
		s->msrs.hdr.entries[i].index = reset_msrs[i];
	/* KVM_GET_MSRS stops at the first MSR it does not know; keep those it read. */
	s->msrs.hdr.nmsrs = NR_RESET_MSRS;
	n = ioctl(vcpu->fd, KVM_GET_MSRS, &s->msrs.hdr);
	s->msrs.hdr.nmsrs = n > 0 ? (uint32_t)n : 0;
	for (uint32_t i = 0; i < s->msrs.hdr.nmsrs; i++)
		if (s->msrs.hdr.entries[i].index != 0x10 && s->msrs.hdr.entries[i].index != 0x277)
			s->msrs.hdr.entries[i].data = 0;
	return 0;
}

static int restore_vcpu_state(struct vmm_vcpu *vcpu)
{
	struct vmm_vcpu_saved *s = vcpu->saved;

	if (ioctl(vcpu->fd, KVM_SET_SREGS, &s->sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_REGS, &s->regs) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_FPU, &s->fpu) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_LAPIC, &s->lapic) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_MP_STATE, &s->mp_state) < 0)
		return -errno;
	if (s->msrs.hdr.nmsrs && ioctl(vcpu->fd, KVM_SET_MSRS, &s->msrs.hdr) < 0)
		return -errno;
	return 0;
}

static int save_irqchip(struct vmm_cpus *cpus)
{
	struct vmm_irqchip_saved *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	cpus->irqchip_saved = s;
	for (unsigned int i = 0; i < 3; i++) {
		s->chip[i].chip_id = i;
		if (ioctl(cpus->kvm->vm_fd, KVM_GET_IRQCHIP, &s->chip[i]) < 0)
			return -errno;
	}
	if (ioctl(cpus->kvm->vm_fd, KVM_GET_PIT2, &s->pit) < 0)
		return -errno;
	return 0;
}

int vmm_cpus_create(struct vmm_cpus *cpus, struct vmm_kvm *kvm, struct vmm_bus *bus,
                    unsigned int nr, const char *vm_name)
{
	int r;

	memset(cpus, 0, sizeof(*cpus));
	if (nr < 1 || nr > VMM_MAX_VCPUS)
		return -EINVAL;
	cpus->kvm = kvm;
	cpus->bus = bus;
	cpus->vm_name = vm_name;
	cpus->want = VMM_CPUS_PAUSE;
	pthread_mutex_init(&cpus->lock, NULL);
	pthread_cond_init(&cpus->cond, NULL);
	for (unsigned int i = 0; i < nr; i++) {
		struct vmm_vcpu *v = &cpus->vcpu[i];
		void *run;

		v->cpus = cpus;
		v->index = i;
		v->fd = ioctl(kvm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0)
			return -errno;
		cpus->nr = i + 1;
		run = mmap(NULL, (size_t)kvm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		           v->fd, 0);
		if (run == MAP_FAILED)
			return -errno;
		v->run = run;
		r = set_cpuid(cpus, v);
		if (r < 0)
			return r;
		r = save_vcpu_state(v);
		if (r < 0)
			return r;
	}
	return save_irqchip(cpus);
}

/* Handle one exit. Returns false when the vCPU must stop running the guest. */
static bool handle_exit(struct vmm_vcpu *v)
{
	struct kvm_run *run = v->run;
	struct vmm_cpus *cpus = v->cpus;

	switch (run->exit_reason) {
	case KVM_EXIT_IO: {
		uint8_t *p = (uint8_t *)run + run->io.data_offset;

		for (uint32_t i = 0; i < run->io.count; i++, p += run->io.size)
			vmm_bus_access(cpus->bus, VMM_BUS_PIO, run->io.port, p, run->io.size,
			               run->io.direction == KVM_EXIT_IO_OUT);
		return true;
	}
	case KVM_EXIT_MMIO:
		vmm_bus_access(cpus->bus, VMM_BUS_MMIO, run->mmio.phys_addr, run->mmio.data,
		               run->mmio.len, run->mmio.is_write);
		return true;
	case KVM_EXIT_INTR:
	case KVM_EXIT_HLT:
		return true;
	case KVM_EXIT_SHUTDOWN:
		cpus->event(cpus->opaque, VMM_CPU_EVENT_RESET, v->index, "triple fault");
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			cpus->event(cpus->opaque, VMM_CPU_EVENT_POWEROFF, v->index, "system event");
			return false;
		case KVM_SYSTEM_EVENT_RESET:
			cpus->event(cpus->opaque, VMM_CPU_EVENT_RESET, v->index, "system event");
			return false;
		default:
			cpus->event(cpus->opaque, VMM_CPU_EVENT_CRASH, v->index, "system event");
			return false;
		}
	case KVM_EXIT_FAIL_ENTRY:
		log_err("vm=%s cpu=%u KVM entry failed, reason 0x%llx", cpus->vm_name, v->index,
		        (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		cpus->event(cpus->opaque, VMM_CPU_EVENT_CRASH, v->index, "entry failed");
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		log_err("vm=%s cpu=%u KVM internal error, suberror %u", cpus->vm_name, v->index,
		        run->internal.suberror);
		cpus->event(cpus->opaque, VMM_CPU_EVENT_CRASH, v->index, "internal error");
		return false;
	default:
		log_err("vm=%s cpu=%u unexpected KVM exit %u", cpus->vm_name, v->index,
		        run->exit_reason);
		cpus->event(cpus->opaque, VMM_CPU_EVENT_CRASH, v->index, "unexpected exit");
		return false;
	}
}

/* Park until the machine wants the guest to run again; false to exit the thread. */
static bool park(struct vmm_vcpu *v)
{
	struct vmm_cpus *cpus = v->cpus;
	bool run;

	pthread_mutex_lock(&cpus->lock);
	if (cpus->want != VMM_CPUS_RUN) {
		cpus->nr_parked++;
		pthread_cond_broadcast(&cpus->cond);
		while (cpus->want == VMM_CPUS_PAUSE)
			pthread_cond_wait(&cpus->cond, &cpus->lock);
		cpus->nr_parked--;
	}
	run = cpus->want == VMM_CPUS_RUN;
	pthread_mutex_unlock(&cpus->lock);
	return run;
}

static void *vcpu_thread(void *arg)
{
	struct vmm_vcpu *v = arg;
	struct vmm_cpus *cpus = v->cpus;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	for (;;) {
		if (!park(v))
			break;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				v->run->immediate_exit = 0;
				continue;
			}
			log_err("vm=%s cpu=%u KVM_RUN failed: %s", cpus->vm_name, v->index,
			        strerror(errno));
			cpus->event(cpus->opaque, VMM_CPU_EVENT_CRASH, v->index, "KVM_RUN failed");
			vmm_cpus_pause_async(cpus);
			continue;
		}
		if (!handle_exit(v))
			vmm_cpus_pause_async(cpus);
	}
	return NULL;
}

int vmm_cpus_start(struct vmm_cpus *cpus)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	sigset_t set, old;
	int r = 0;

	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	/* Only vCPU threads take the kick signal. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (unsigned int i = 0; i < cpus->nr; i++) {
		r = -pthread_create(&cpus->vcpu[i].thread, NULL, vcpu_thread, &cpus->vcpu[i]);
		if (r < 0)
			break;
		cpus->vcpu[i].thread_started = true;
	}
	return r;
}

static void kick_all(struct vmm_cpus *cpus)
{
	for (unsigned int i = 0; i < cpus->nr; i++) {
		struct vmm_vcpu *v = &cpus->vcpu[i];

		if (!v->thread_started || pthread_equal(v->thread, pthread_self()))
			continue;
		/* immediate_exit closes the window between the check and KVM_RUN. */
		if (cpus->kvm->immediate_exit)
			__atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
	}
}

void vmm_cpus_pause_async(struct vmm_cpus *cpus)
{
	pthread_mutex_lock(&cpus->lock);
	if (cpus->want == VMM_CPUS_RUN)
		cpus->want = VMM_CPUS_PAUSE;
	pthread_mutex_unlock(&cpus->lock);
	kick_all(cpus);
}

void vmm_cpus_pause(struct vmm_cpus *cpus)
{
	unsigned int running = 0;

	for (unsigned int i = 0; i < cpus->nr; i++)
		running += cpus->vcpu[i].thread_started;
	vmm_cpus_pause_async(cpus);
	pthread_mutex_lock(&cpus->lock);
	while (cpus->nr_parked < running) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 20 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		/* Re-kick now and then: a signal can land just before KVM_RUN without
		 * immediate_exit. */
		if (pthread_cond_timedwait(&cpus->cond, &cpus->lock, &ts) == ETIMEDOUT) {
			pthread_mutex_unlock(&cpus->lock);
			kick_all(cpus);
			pthread_mutex_lock(&cpus->lock);
		}
	}
	pthread_mutex_unlock(&cpus->lock);
}

void vmm_cpus_resume(struct vmm_cpus *cpus)
{
	pthread_mutex_lock(&cpus->lock);
	if (cpus->want == VMM_CPUS_PAUSE)
		cpus->want = VMM_CPUS_RUN;
	pthread_cond_broadcast(&cpus->cond);
	pthread_mutex_unlock(&cpus->lock);
}

int vmm_cpus_reset(struct vmm_cpus *cpus)
{
	struct vmm_irqchip_saved *s = cpus->irqchip_saved;

	for (unsigned int i = 0; i < 3; i++)
		if (ioctl(cpus->kvm->vm_fd, KVM_SET_IRQCHIP, &s->chip[i]) < 0)
			return -errno;
	if (ioctl(cpus->kvm->vm_fd, KVM_SET_PIT2, &s->pit) < 0)
		return -errno;
	for (unsigned int i = 0; i < cpus->nr; i++) {
		struct vmm_vcpu *v = &cpus->vcpu[i];
		int r;

		/*
		 * Finish any port or MMIO access the vCPU exited for, so KVM
		 * does not complete it into the fresh state.
		 */
		v->run->immediate_exit = 1;
		ioctl(v->fd, KVM_RUN, 0);
		v->run->immediate_exit = 0;
		r = restore_vcpu_state(v);
		if (r < 0)
			return r;
	}
	return 0;
}

void vmm_cpus_destroy(struct vmm_cpus *cpus)
{
	if (!cpus->nr)
		return;
	pthread_mutex_lock(&cpus->lock);
	cpus->want = VMM_CPUS_EXIT;
	pthread_cond_broadcast(&cpus->cond);
	pthread_mutex_unlock(&cpus->lock);
	kick_all(cpus);
	for (unsigned int i = 0; i < cpus->nr; i++) {
		struct vmm_vcpu *v = &cpus->vcpu[i];

		if (v->thread_started) {
			/* A vCPU waiting for a SIPI sleeps in KVM_RUN: keep kicking until it
			 * leaves. */
			while (pthread_tryjoin_np(v->thread, NULL) == EBUSY) {
				kick_all(cpus);
				usleep(1000);
			}
			v->thread_started = false;
		}
		if (v->run)
			munmap(v->run, (size_t)cpus->kvm->vcpu_mmap_size);
		if (v->fd > 0)
			close(v->fd);
		free(v->saved);
	}
	free(cpus->irqchip_saved);
	pthread_mutex_destroy(&cpus->lock);
	pthread_cond_destroy(&cpus->cond);
	cpus->nr = 0;
}

static void seg(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64, bool db)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = sel,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = db,
		.s = 1,
		.l = code64,
		.g = 1,
	};
}

static void tss(struct kvm_segment *s, uint16_t sel)
{
	*s = (struct kvm_segment){
		.base = 0,
		.limit = 0x67,
		.selector = sel,
		.type = 11,
		.present = 1,
		.s = 0,
	};
}

int vmm_vcpu_boot_protected32(struct vmm_vcpu *vcpu, uint32_t eip, uint32_t ebx)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = eip, .rbx = ebx, .rflags = 0x2 };

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	seg(&sregs.cs, 0x08, 0xb, false, true);
	seg(&sregs.ds, 0x10, 0x3, false, true);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	tss(&sregs.tr, 0x18);
	sregs.cr0 = 0x11; /* PE, ET */
	sregs.cr3 = 0;
	sregs.cr4 = 0;
	sregs.efer = 0;
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

int vmm_vcpu_boot_long64(struct vmm_vcpu *vcpu, uint64_t rip, uint64_t rsi, uint64_t cr3,
                         uint64_t gdt_base, uint16_t gdt_limit)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rip = rip, .rsi = rsi, .rflags = 0x2 };

	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	/* Selectors as Linux's boot GDT has them: __BOOT_CS 0x10, __BOOT_DS 0x18. */
	seg(&sregs.cs, 0x10, 0xb, true, false);
	seg(&sregs.ds, 0x18, 0x3, false, true);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	tss(&sregs.tr, 0x20);
	sregs.gdt.base = gdt_base;
	sregs.gdt.limit = gdt_limit;
	sregs.cr0 = 0x80000011; /* PG, ET, PE */
	sregs.cr3 = cr3;
	sregs.cr4 = 0x20;   /* PAE */
	sregs.efer = 0x500; /* LME, LMA */
	if (ioctl(vcpu->fd, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}
