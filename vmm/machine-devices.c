// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The machine's devices: how each one in vmm/devices/devices.def is
 * created, wired to its interrupt line and to the machine, reset and freed,
 * and the machine operations that go through them (serial console, input,
 * framebuffer, screen dumps).
 *
 * Interrupt lines follow the PC: keyboard 1, COM1 4, RTC 8, PS/2 aux 12;
 * PCI INTA# of each device gets its own line from PCI_GSIS.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proto/keymap.h"
#include "proto/log.h"
#include "vmm/devices/acpi_pm.h"
#include "vmm/devices/bochs_display.h"
#include "vmm/devices/i8042.h"
#include "vmm/devices/rtc.h"
#include "vmm/devices/uart.h"
#include "vmm/devices/virtio_blk.h"
#include "vmm/devices/virtio_input.h"
#include "vmm/display.h"
#include "vmm/machine-priv.h"
#include "vmm/screendump.h"

#define COM1_BASE 0x3f8
#define VRAM_SIZE (16u << 20)
#define SERIAL_RETRY_NS (20 * 1000 * 1000ULL)

/* GSIs for PCI INTA#, in the order devices ask for one (free ISA lines). */
#define GSI_VIRTIO_KEYBOARD 10
#define GSI_VIRTIO_TABLET 11
#define GSI_VIRTIO_BLK 5

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

static struct vmm_irq_line isa_line(struct vmm_machine *m, unsigned int gsi)
{
	return (struct vmm_irq_line){ &m->kvm.irqchip, gsi };
}

static void request_reset(void *opaque)
{
	vmm_machine_request(opaque, VMM_CPU_EVENT_RESET);
}

static void request_poweroff(void *opaque)
{
	vmm_machine_request(opaque, VMM_CPU_EVENT_POWEROFF);
}

/* ---- COM1: the serial console ---- */

/* What the guest transmits goes to stdout or the serial log, unbuffered. */
static void uart_tx(void *opaque, const uint8_t *buf, size_t len)
{
	struct vmm_machine *m = opaque;

	while (len && m->serial_out_fd >= 0) {
		ssize_t n = write(m->serial_out_fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warn("vm=%s serial output lost: %s", m->cfg.name,
			         n < 0 ? strerror(errno) : "short write");
			m->serial_out_fd = -1;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* Hand buffered stdin bytes to the UART; keep reading stdin only when all went in. */
static void serial_feed(struct vmm_machine *m)
{
	size_t n = vmm_uart_receive(m->uart, m->serial_pending, m->serial_pending_len);

	memmove(m->serial_pending, m->serial_pending + n, m->serial_pending_len - n);
	m->serial_pending_len -= n;
	if (m->serial_pending_len) {
		vmm_loop_watch_update(m->serial_in, 0);
		vmm_loop_timer_arm(m->serial_retry, SERIAL_RETRY_NS);
	} else {
		vmm_loop_watch_update(m->serial_in, POLLIN);
	}
}

static void serial_retry(void *opaque)
{
	serial_feed(opaque);
}

static void serial_in(void *opaque, int fd, unsigned int revents)
{
	struct vmm_machine *m = opaque;
	ssize_t n = read(fd, m->serial_pending, sizeof(m->serial_pending));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		/* End of input: the console stays write-only. */
		vmm_loop_watch_remove(m->serial_in);
		m->serial_in = NULL;
		return;
	}
	m->serial_pending_len = (size_t)n;
	serial_feed(m);
}

static int dev_uart_create(struct vmm_machine *m, char *err, size_t err_size)
{
	int r;

	switch (m->cfg.serial) {
	case VMM_SERIAL_STDIO:
		m->serial_out_fd = STDOUT_FILENO;
		break;
	case VMM_SERIAL_FILE:
		m->serial_out_fd = open(m->cfg.serial_path,
		                        O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
		if (m->serial_out_fd < 0)
			return fail(err, err_size, -errno, "cannot open serial log %s: %s",
			            m->cfg.serial_path, strerror(errno));
		break;
	case VMM_SERIAL_NONE:
		break;
	}
	r = vmm_uart_new(&m->bus, COM1_BASE, isa_line(m, VMM_GSI_SERIAL), uart_tx, m, &m->uart);
	if (r < 0)
		return fail(err, err_size, r, "cannot create the serial port: %s", strerror(-r));
	/* Typing into the console works when stdin is open. */
	if (m->cfg.serial == VMM_SERIAL_STDIO && fcntl(STDIN_FILENO, F_GETFL) >= 0) {
		m->serial_retry = vmm_loop_timer_new(m->loop, serial_retry, m);
		m->serial_in = vmm_loop_watch_add(m->loop, STDIN_FILENO, POLLIN, serial_in, m);
		if (!m->serial_retry || !m->serial_in)
			return fail(err, err_size, -ENOMEM, "out of memory");
	}
	return 0;
}

static void dev_uart_reset(struct vmm_machine *m)
{
	vmm_uart_reset(m->uart);
}

static void dev_uart_free(struct vmm_machine *m)
{
	vmm_loop_watch_remove(m->serial_in);
	vmm_loop_timer_free(m->serial_retry);
	vmm_uart_free(m->uart);
	if (m->serial_out_fd > STDERR_FILENO)
		close(m->serial_out_fd);
	m->serial_out_fd = -1;
}

/* ---- i8042 keyboard controller ---- */

static int dev_i8042_create(struct vmm_machine *m, char *err, size_t err_size)
{
	int r = vmm_i8042_new(&m->bus, isa_line(m, VMM_GSI_KEYBOARD), isa_line(m, VMM_GSI_MOUSE),
	                      request_reset, m, &m->i8042);

	return r < 0 ? fail(err, err_size, r, "cannot create the i8042: %s", strerror(-r)) : 0;
}

static void dev_i8042_reset(struct vmm_machine *m)
{
	vmm_i8042_reset(m->i8042);
}

static void dev_i8042_free(struct vmm_machine *m)
{
	vmm_i8042_free(m->i8042);
}

/* ---- CMOS RTC ---- */

static int dev_rtc_create(struct vmm_machine *m, char *err, size_t err_size)
{
	uint64_t low = m->cfg.mem_size < VMM_MEM_HOLE_START ? m->cfg.mem_size : VMM_MEM_HOLE_START;
	int r = vmm_rtc_new(&m->bus, m->loop, isa_line(m, VMM_GSI_RTC), &m->rtc);

	if (r < 0)
		return fail(err, err_size, r, "cannot create the RTC: %s", strerror(-r));
	vmm_rtc_set_mem_size(m->rtc, low, m->cfg.mem_size - low);
	return 0;
}

static void dev_rtc_reset(struct vmm_machine *m)
{
	vmm_rtc_reset(m->rtc);
}

static void dev_rtc_free(struct vmm_machine *m)
{
	vmm_rtc_free(m->rtc);
}

/* ---- power control ---- */

static int dev_acpi_pm_create(struct vmm_machine *m, char *err, size_t err_size)
{
	static const struct vmm_acpi_pm_ops ops_template = { request_poweroff, request_reset,
		                                             NULL };
	struct vmm_acpi_pm_ops ops = ops_template;
	int r;

	ops.opaque = m;
	r = vmm_acpi_pm_new(&m->bus, &ops, &m->pm);
	return r < 0 ? fail(err, err_size, r, "cannot create power control: %s", strerror(-r)) : 0;
}

static void dev_acpi_pm_reset(struct vmm_machine *m)
{
	(void)m;
}

static void dev_acpi_pm_free(struct vmm_machine *m)
{
	vmm_acpi_pm_free(m->pm);
}

/* ---- bochs display adapter ---- */

/* The framebuffer BAR moved: map the VRAM there as its own slot with a dirty log. */
static void fb_remap(void *opaque, uint64_t old_gpa, uint64_t new_gpa)
{
	struct vmm_machine *m = opaque;
	int r;

	if (old_gpa) {
		vmm_kvm_set_slot(&m->kvm, VMM_SLOT_FRAMEBUFFER, old_gpa, NULL, 0, false);
		__atomic_store_n(&m->fb_gpa, 0, __ATOMIC_RELEASE);
	}
	if (!new_gpa)
		return;
	r = vmm_kvm_set_slot(&m->kvm, VMM_SLOT_FRAMEBUFFER, new_gpa, vmm_bochs_vram(m->bochs),
	                     vmm_bochs_vram_size(m->bochs), true);
	if (r < 0) {
		log_err("vm=%s cannot map the framebuffer at 0x%llx: %s", m->cfg.name,
		        (unsigned long long)new_gpa, strerror(-r));
		return;
	}
	__atomic_store_n(&m->fb_gpa, new_gpa, __ATOMIC_RELEASE);
}

/* On the loop thread: tell control clients (and display servers) about the new mode. */
static void mode_changed_on_loop(void *opaque)
{
	struct vmm_machine *m = opaque;
	struct vmm_bochs_mode mode;

	vmm_bochs_get_mode(m->bochs, &mode);
	log_info("vm=%s display mode %s %ux%u %u bpp", m->cfg.name, mode.enabled ? "on" : "off",
	         mode.width, mode.height, mode.bpp);
	vmm_display_mode_changed(m->display);
	vmm_machine_event(m, "display-mode",
	                  json_pack("{s:b, s:i, s:i, s:i}", "enabled", mode.enabled, "width",
	                            (int)mode.width, "height", (int)mode.height, "bpp",
	                            (int)mode.bpp));
}

static void fb_mode_changed(void *opaque)
{
	struct vmm_machine *m = opaque;

	if (vmm_loop_call(m->loop, mode_changed_on_loop, m) < 0)
		log_warn("vm=%s mode change not reported: out of memory", m->cfg.name);
}

static int dev_bochs_display_create(struct vmm_machine *m, char *err, size_t err_size)
{
	struct vmm_bochs_ops ops = { fb_remap, fb_mode_changed, m };
	int r = vmm_bochs_new(&m->bus, VRAM_SIZE, &ops, &m->bochs);

	if (r < 0)
		return fail(err, err_size, r, "cannot create the display adapter: %s",
		            strerror(-r));
	r = vmm_bochs_set_preferred_mode(m->bochs, m->cfg.width, m->cfg.height);
	if (r < 0)
		return fail(err, err_size, r, "resolution %ux%u does not fit the display adapter",
		            m->cfg.width, m->cfg.height);
	r = vmm_pci_bus_add(&m->pci, vmm_bochs_pci(m->bochs), 0);
	return r < 0 ? fail(err, err_size, r, "no PCI slot for the display adapter") : 0;
}

static void dev_bochs_display_reset(struct vmm_machine *m)
{
	vmm_bochs_reset(m->bochs);
}

static void dev_bochs_display_free(struct vmm_machine *m)
{
	vmm_bochs_free(m->bochs);
}

/* ---- virtio-input keyboard and tablet, virtio-blk ---- */

static int add_virtio_input(struct vmm_machine *m, enum vmm_virtio_input_kind kind,
                            unsigned int gsi, struct vmm_virtio_input **ret, char *err,
                            size_t err_size)
{
	int r = vmm_virtio_input_new(&m->mem, kind, ret);

	if (r < 0)
		return fail(err, err_size, r, "cannot create a virtio-input device: %s",
		            strerror(-r));
	r = vmm_pci_bus_add(&m->pci, vmm_virtio_input_pci(*ret), gsi);
	return r < 0 ? fail(err, err_size, r, "no PCI slot for a virtio-input device") : 0;
}

static int dev_virtio_keyboard_create(struct vmm_machine *m, char *err, size_t err_size)
{
	return add_virtio_input(m, VMM_VIRTIO_INPUT_KEYBOARD, GSI_VIRTIO_KEYBOARD, &m->keyboard,
	                        err, err_size);
}

static void dev_virtio_keyboard_reset(struct vmm_machine *m)
{
	vmm_virtio_input_reset(m->keyboard);
}

static void dev_virtio_keyboard_free(struct vmm_machine *m)
{
	vmm_virtio_input_free(m->keyboard);
}

static int dev_virtio_tablet_create(struct vmm_machine *m, char *err, size_t err_size)
{
	return add_virtio_input(m, VMM_VIRTIO_INPUT_TABLET, GSI_VIRTIO_TABLET, &m->tablet, err,
	                        err_size);
}

static void dev_virtio_tablet_reset(struct vmm_machine *m)
{
	vmm_virtio_input_reset(m->tablet);
}

static void dev_virtio_tablet_free(struct vmm_machine *m)
{
	vmm_virtio_input_free(m->tablet);
}

static int dev_virtio_blk_create(struct vmm_machine *m, char *err, size_t err_size)
{
	int r;

	if (!m->cfg.disk)
		return 0;
	r = vmm_virtio_blk_new(&m->mem, m->cfg.disk, m->cfg.disk_ro, &m->blk);
	if (r == -EWOULDBLOCK)
		return fail(err, err_size, r, "disk %s is in use by another process", m->cfg.disk);
	if (r < 0)
		return fail(err, err_size, r, "cannot open disk %s: %s", m->cfg.disk, strerror(-r));
	r = vmm_pci_bus_add(&m->pci, vmm_virtio_blk_pci(m->blk), GSI_VIRTIO_BLK);
	return r < 0 ? fail(err, err_size, r, "no PCI slot for the disk") : 0;
}

static void dev_virtio_blk_reset(struct vmm_machine *m)
{
	if (m->blk)
		vmm_virtio_blk_reset(m->blk);
}

static void dev_virtio_blk_free(struct vmm_machine *m)
{
	if (!m->blk)
		return;
	if (vmm_virtio_blk_flush(m->blk) < 0)
		log_err("vm=%s flushing disk %s failed", m->cfg.name, m->cfg.disk);
	vmm_virtio_blk_free(m->blk);
	m->blk = NULL;
}

/* ---- the table ---- */

static const struct {
	const char *name;
	int (*create)(struct vmm_machine *m, char *err, size_t err_size);
	void (*reset)(struct vmm_machine *m);
	void (*free)(struct vmm_machine *m);
} devices[] = {
#define VMM_DEVICE(n) { #n, dev_##n##_create, dev_##n##_reset, dev_##n##_free },
#include "vmm/devices/devices.def"
#undef VMM_DEVICE
};
#define NR_DEVICES (sizeof(devices) / sizeof(devices[0]))

int vmm_machine_devices_create(struct vmm_machine *m, char *err, size_t err_size)
{
	m->pci.reset_request = request_reset;
	m->pci.reset_opaque = m;
	for (size_t i = 0; i < NR_DEVICES; i++) {
		int r = devices[i].create(m, err, err_size);

		if (r < 0)
			return r;
		log_debug("vm=%s device %s ready", m->cfg.name, devices[i].name);
	}
	return 0;
}

void vmm_machine_devices_reset(struct vmm_machine *m)
{
	for (size_t i = 0; i < NR_DEVICES; i++)
		devices[i].reset(m);
}

void vmm_machine_devices_free(struct vmm_machine *m)
{
	/* Reverse order; a device that was never created has a NULL pointer. */
	for (size_t i = NR_DEVICES; i-- > 0;)
		devices[i].free(m);
}

/* ---- operations through the devices ---- */

void vmm_machine_boot_framebuffer(struct vmm_machine *m, struct vmm_boot_fb *ret)
{
	struct vmm_bochs_mode mode;

	memset(ret, 0, sizeof(*ret));
	/* As a BIOS would: a linear framebuffer mode is on when the kernel starts. */
	if (vmm_bochs_set_mode(m->bochs, m->cfg.width, m->cfg.height, 32) < 0)
		return;
	vmm_bochs_get_mode(m->bochs, &mode);
	ret->gpa = __atomic_load_n(&m->fb_gpa, __ATOMIC_ACQUIRE);
	if (!ret->gpa)
		return;
	ret->size = vmm_bochs_vram_size(m->bochs);
	ret->width = mode.width;
	ret->height = mode.height;
	ret->stride = mode.stride;
	ret->bpp = mode.bpp;
}

int vmm_machine_screendump(struct vmm_machine *m, const char *path, unsigned int *ret_w,
                           unsigned int *ret_h)
{
	struct vmm_bochs_mode mode;
	enum vmm_pixfmt fmt;
	int r;

	vmm_bochs_get_mode(m->bochs, &mode);
	if (!mode.enabled || !vmm_pixfmt_from_bpp(mode.bpp, &fmt))
		return -ENODATA;
	r = vmm_screendump_png(path, vmm_bochs_vram(m->bochs) + mode.offset, mode.width,
	                       mode.height, mode.stride, fmt);
	if (r < 0)
		return r;
	*ret_w = mode.width;
	*ret_h = mode.height;
	return 0;
}

void vmm_machine_key(struct vmm_machine *m, unsigned int evdev, bool down)
{
	const struct proto_key *k;

	/* The guest's virtio keyboard driver, once it runs, gets keys as Linux codes. */
	if (vmm_virtio_input_ready(m->keyboard) &&
	    vmm_virtio_input_key(m->keyboard, evdev, down) == 0)
		return;
	k = proto_key_by_evdev(evdev);
	if (k && k->xt)
		vmm_i8042_key(m->i8042, k->xt, down);
	else
		log_debug("vm=%s key %u has no PC scan code", m->cfg.name, evdev);
}

/* Scale a pixel position to the tablet's 0..32767 range. */
static unsigned int to_abs(unsigned int pos, unsigned int size)
{
	if (size < 2)
		return 0;
	if (pos >= size)
		pos = size - 1;
	return (unsigned int)(((uint64_t)pos * 32767 + (size - 1) / 2) / (size - 1));
}

void vmm_machine_pointer(struct vmm_machine *m, unsigned int x, unsigned int y,
                         unsigned int buttons, int wheel)
{
	struct vmm_bochs_mode mode;
	unsigned int w = m->cfg.width, h = m->cfg.height;

	vmm_bochs_get_mode(m->bochs, &mode);
	if (mode.enabled) {
		w = mode.width;
		h = mode.height;
	}
	if (!vmm_virtio_input_ready(m->tablet)) {
		log_debug("vm=%s pointer event dropped: the guest has no tablet driver",
		          m->cfg.name);
		return;
	}
	vmm_virtio_input_abs(m->tablet, to_abs(x, w), to_abs(y, h), buttons, wheel);
}
