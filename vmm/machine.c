// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/machine.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "proto/log.h"
#include "vmm/control.h"
#include "vmm/display.h"
#include "vmm/machine-priv.h"
#include "vmm/mptable.h"
#include "vmm/spice.h"
#include "vmm/vnc.h"

static int fail(char *err, size_t err_size, int r, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t err_size, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return r;
}

const char *vmm_machine_state_name(const struct vmm_machine *m)
{
	switch (m->state) {
	case VMM_STATE_RUNNING:
		return "running";
	case VMM_STATE_PAUSED:
		return "paused";
	case VMM_STATE_SHUTDOWN:
		return "shutdown";
	case VMM_STATE_CRASHED:
		return "crashed";
	}
	return "unknown";
}

double vmm_machine_uptime(const struct vmm_machine *m)
{
	return (double)(vmm_now_ns() - m->started_ns) / 1e9;
}

void vmm_machine_event(struct vmm_machine *m, const char *name, json_t *data)
{
	if (m->control)
		vmm_control_broadcast(m->control, name, data);
	else
		json_decref(data);
}

/*
 * Load the kernel and point vCPU 0 at it. Used at start-up and on every
 * reset, so a reset is a fresh boot of the same image.
 */
static int boot(struct vmm_machine *m, char *err, size_t err_size)
{
	struct vmm_boot_params p = {
		.mem = &m->mem,
		.kernel_path = m->cfg.kernel,
		.initrd_path = m->cfg.initrd,
		.cmdline = m->cfg.cmdline,
	};
	struct vmm_boot_entry e;
	struct vmm_mptable_pci_irq irqs[VMM_PCI_MAX_SLOTS];
	unsigned int nr_irqs = 0;
	int r;

	vmm_machine_boot_framebuffer(m, &p.fb);
	r = vmm_boot_load(&p, &e, err, err_size);
	if (r < 0)
		return r;
	for (unsigned int s = 1; s < VMM_PCI_MAX_SLOTS; s++) {
		struct vmm_pci_dev *d = m->pci.slot[s];

		if (d && d->irq.chip)
			irqs[nr_irqs++] =
			        (struct vmm_mptable_pci_irq){ (uint8_t)s, (uint8_t)d->irq.gsi };
	}
	r = vmm_mptable_write(&m->mem, VMM_BOOT_MPTABLE, 0x10000, m->cfg.cpus, 0x000806f1,
	                      0x078bfbff, irqs, nr_irqs);
	if (r < 0)
		return fail(err, err_size, r, "cannot write the MP table");
	if (e.mode == VMM_BOOT_PROTECTED32)
		r = vmm_vcpu_boot_protected32(&m->cpus.vcpu[0], (uint32_t)e.entry, (uint32_t)e.arg);
	else
		r = vmm_vcpu_boot_long64(&m->cpus.vcpu[0], e.entry, e.arg, e.cr3, e.gdt_base,
		                         e.gdt_limit);
	if (r < 0)
		return fail(err, err_size, r, "cannot set up vCPU 0: %s", strerror(-r));
	return 0;
}

/* Guest RAM back to zeroes: anonymous pages dropped are refilled with zeroes. */
static void wipe_ram(struct vmm_machine *m)
{
	for (unsigned int i = 0; i < m->mem.nr_regions; i++)
		madvise(m->mem.region[i].host, m->mem.region[i].size, MADV_DONTNEED);
}

int vmm_machine_reset(struct vmm_machine *m, const char *reason)
{
	char err[256];
	int r;

	if (m->state == VMM_STATE_SHUTDOWN)
		return -ESHUTDOWN;
	vmm_cpus_pause(&m->cpus);
	vmm_machine_devices_reset(m);
	r = vmm_cpus_reset(&m->cpus);
	if (r == 0) {
		wipe_ram(m);
		r = boot(m, err, sizeof(err));
		if (r < 0)
			log_err("vm=%s reset failed: %s", m->cfg.name, err);
	} else {
		log_err("vm=%s reset of the vCPUs failed: %s", m->cfg.name, strerror(-r));
	}
	if (r < 0) {
		m->state = VMM_STATE_CRASHED;
		vmm_machine_event(m, "guest-crashed", json_pack("{s:s}", "reason", "reset failed"));
		return r;
	}
	m->boots++;
	log_info("vm=%s reset (%s)", m->cfg.name, reason);
	vmm_machine_event(m, "guest-reset", json_pack("{s:s}", "reason", reason));
	if (m->state == VMM_STATE_CRASHED)
		m->state = VMM_STATE_RUNNING;
	if (m->state == VMM_STATE_RUNNING)
		vmm_cpus_resume(&m->cpus);
	return 0;
}

int vmm_machine_pause(struct vmm_machine *m)
{
	if (m->state == VMM_STATE_SHUTDOWN || m->state == VMM_STATE_CRASHED)
		return -EINVAL;
	if (m->state == VMM_STATE_RUNNING) {
		vmm_cpus_pause(&m->cpus);
		m->state = VMM_STATE_PAUSED;
		vmm_machine_event(m, "stop", NULL);
	}
	return 0;
}

int vmm_machine_resume(struct vmm_machine *m)
{
	if (m->state == VMM_STATE_SHUTDOWN || m->state == VMM_STATE_CRASHED)
		return -EINVAL;
	if (m->state == VMM_STATE_PAUSED) {
		m->state = VMM_STATE_RUNNING;
		vmm_cpus_resume(&m->cpus);
		vmm_machine_event(m, "resume", NULL);
	}
	return 0;
}

void vmm_machine_quit(struct vmm_machine *m, int exit_code)
{
	m->exit_code = exit_code;
	vmm_loop_quit(m->loop);
}

/* On the loop thread: act on what vCPU threads reported. */
static void handle_cpu_requests(void *opaque)
{
	struct vmm_machine *m = opaque;
	bool reset, poweroff, crash;

	reset = __atomic_exchange_n(&m->pending_reset, false, __ATOMIC_ACQ_REL);
	poweroff = __atomic_exchange_n(&m->pending_poweroff, false, __ATOMIC_ACQ_REL);
	crash = __atomic_exchange_n(&m->pending_crash, false, __ATOMIC_ACQ_REL);
	if (m->state == VMM_STATE_SHUTDOWN)
		return;
	if (poweroff) {
		vmm_cpus_pause(&m->cpus);
		m->state = VMM_STATE_SHUTDOWN;
		log_info("vm=%s guest powered off", m->cfg.name);
		vmm_machine_event(m, "guest-shutdown", json_pack("{s:s}", "reason", "poweroff"));
		vmm_machine_quit(m, 0);
		return;
	}
	if (crash) {
		vmm_cpus_pause(&m->cpus);
		m->state = VMM_STATE_CRASHED;
		log_err("vm=%s guest crashed; paused for inspection (reset or quit)", m->cfg.name);
		vmm_machine_event(m, "guest-crashed", json_pack("{s:s}", "reason", "kvm"));
		return;
	}
	if (reset)
		vmm_machine_reset(m, "guest");
}

void vmm_machine_request(struct vmm_machine *m, enum vmm_cpu_event ev)
{
	bool *flag = ev == VMM_CPU_EVENT_POWEROFF ? &m->pending_poweroff
	             : ev == VMM_CPU_EVENT_RESET  ? &m->pending_reset
	                                          : &m->pending_crash;

	__atomic_store_n(flag, true, __ATOMIC_RELEASE);
	vmm_cpus_pause_async(&m->cpus);
	if (vmm_loop_call(m->loop, handle_cpu_requests, m) < 0)
		log_err("vm=%s cannot queue a guest request: out of memory", m->cfg.name);
}

static void cpu_event(void *opaque, enum vmm_cpu_event ev, unsigned int cpu, const char *why)
{
	struct vmm_machine *m = opaque;

	log_debug("vm=%s cpu=%u event %d (%s)", m->cfg.name, cpu, ev, why);
	vmm_machine_request(m, ev);
}

static void on_signal(void *opaque, int fd, unsigned int revents)
{
	struct vmm_machine *m = opaque;
	struct signalfd_siginfo si;
	unsigned int signo;

	if (read(fd, &si, sizeof(si)) != sizeof(si))
		return;
	signo = si.ssi_signo;
	log_info("vm=%s signal %u: stopping", m->cfg.name, signo);
	vmm_machine_quit(m, 0);
}

static int setup_signals(struct vmm_machine *m)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	/* Blocked before any thread starts, so only the signalfd sees them. */
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	m->signal_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (m->signal_fd < 0)
		return -errno;
	m->signal_watch = vmm_loop_watch_add(m->loop, m->signal_fd, POLLIN, on_signal, m);
	return m->signal_watch ? 0 : -ENOMEM;
}

static int open_kvm(struct vmm_machine *m, char *err, size_t err_size)
{
	const char *what = NULL;
	int r = vmm_kvm_open(&m->kvm, &what);

	if (r == -ENOENT)
		return fail(err, err_size, r,
		            "/dev/kvm does not exist: KVM is not available on this host "
		            "(load kvm_intel or kvm_amd, or enable virtualization)");
	if (r == -EACCES || r == -EPERM)
		return fail(err, err_size, r,
		            "no permission to open /dev/kvm (add this user to the kvm group)");
	if (r < 0)
		return fail(err, err_size, r, "%s: %s", what ? what : "KVM", strerror(-r));
	return 0;
}

/* The display servers the command line asks for, on the display thread. */
static int start_display_servers(struct vmm_machine *m, char *err, size_t err_size)
{
	int r;

	if (m->cfg.vnc.enabled) {
		r = vmm_vnc_new(m->display, &m->cfg.vnc, m->cfg.name, &m->vnc, err, err_size);
		if (r < 0)
			return r;
	}
	if (m->cfg.spice.enabled) {
		r = vmm_spice_new(m->display, &m->cfg, &m->spice, err, err_size);
		if (r < 0)
			return r;
	}
	return 0;
}

static void stop_display_servers(struct vmm_machine *m)
{
	vmm_spice_free(m->spice);
	m->spice = NULL;
	vmm_vnc_free(m->vnc);
	m->vnc = NULL;
}

int vmm_machine_create(const struct vmm_config *cfg, struct vmm_machine **ret, char *err,
                       size_t err_size)
{
	struct vmm_machine *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return fail(err, err_size, -ENOMEM, "out of memory");
	m->cfg = *cfg;
	m->serial_out_fd = -1;
	m->signal_fd = -1;
	m->started_ns = vmm_now_ns();
	m->state = VMM_STATE_PAUSED;
	vmm_bus_init(&m->bus, m->cfg.name);
	*ret = m;

	r = open_kvm(m, err, err_size);
	if (r < 0)
		return r;
	r = vmm_mem_init(&m->mem, cfg->mem_size);
	if (r < 0)
		return fail(err, err_size, r, "cannot allocate %llu MiB of guest RAM: %s",
		            (unsigned long long)(cfg->mem_size >> 20), strerror(-r));
	for (unsigned int i = 0; i < m->mem.nr_regions; i++) {
		r = vmm_kvm_set_slot(&m->kvm, VMM_SLOT_RAM_LOW + i, m->mem.region[i].gpa,
		                     m->mem.region[i].host, m->mem.region[i].size, false);
		if (r < 0)
			return fail(err, err_size, r, "cannot map guest RAM: %s", strerror(-r));
	}
	m->loop = vmm_loop_new();
	if (!m->loop)
		return fail(err, err_size, -ENOMEM, "out of memory");
	r = setup_signals(m);
	if (r < 0)
		return fail(err, err_size, r, "cannot set up signal handling: %s", strerror(-r));
	r = vmm_pci_bus_init(&m->pci, &m->bus, &m->kvm.irqchip);
	if (r < 0)
		return fail(err, err_size, r, "cannot set up PCI: %s", strerror(-r));
	r = vmm_machine_devices_create(m, err, err_size);
	if (r < 0)
		return r;
	r = vmm_display_new(m, &m->display);
	if (r < 0)
		return fail(err, err_size, r, "cannot start the display thread: %s", strerror(-r));
	r = vmm_pci_bus_assign(&m->pci, VMM_PCI_MMIO_BASE, VMM_PCI_MMIO_END, VMM_PCI_IO_BASE,
	                       VMM_PCI_IO_END);
	if (r < 0)
		return fail(err, err_size, r, "PCI devices do not fit the PCI window");
	r = vmm_cpus_create(&m->cpus, &m->kvm, &m->bus, cfg->cpus, m->cfg.name);
	if (r < 0)
		return fail(err, err_size, r, "cannot create %u vCPUs: %s", cfg->cpus,
		            strerror(-r));
	m->cpus.event = cpu_event;
	m->cpus.opaque = m;
	r = boot(m, err, err_size);
	if (r < 0)
		return r;
	m->boots = 1;
	r = start_display_servers(m, err, err_size);
	if (r < 0)
		return r;
	r = vmm_control_new(m, cfg->control_path, &m->control);
	if (r < 0)
		return fail(err, err_size, r, "cannot listen on %s: %s", cfg->control_path,
		            strerror(-r));
	return 0;
}

int vmm_machine_run(struct vmm_machine *m)
{
	int r = vmm_cpus_start(&m->cpus);

	if (r < 0) {
		log_err("vm=%s cannot start vCPU threads: %s", m->cfg.name, strerror(-r));
		return 1;
	}
	m->state = VMM_STATE_RUNNING;
	vmm_cpus_resume(&m->cpus);
	log_info("vm=%s running: %u vCPU, %llu MiB, control %s", m->cfg.name, m->cfg.cpus,
	         (unsigned long long)(m->cfg.mem_size >> 20), m->cfg.control_path);
	r = vmm_loop_run(m->loop);
	if (r < 0) {
		log_err("vm=%s event loop failed: %s", m->cfg.name, strerror(-r));
		return 1;
	}
	return m->exit_code;
}

void vmm_machine_free(struct vmm_machine *m)
{
	if (!m)
		return;
	/* vCPUs first: no device may be running a guest access while it is torn down. */
	vmm_cpus_destroy(&m->cpus);
	vmm_control_free(m->control);
	stop_display_servers(m);
	vmm_display_free(m->display);
	vmm_machine_devices_free(m);
	if (m->pci.bus)
		vmm_pci_bus_exit(&m->pci);
	vmm_loop_watch_remove(m->signal_watch);
	if (m->signal_fd >= 0)
		close(m->signal_fd);
	vmm_loop_free(m->loop);
	vmm_kvm_close(&m->kvm);
	vmm_mem_exit(&m->mem);
	vmm_bus_exit(&m->bus);
	free(m);
}
