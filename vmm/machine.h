/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine: one guest and everything around it. It owns KVM, guest RAM,
 * the I/O and PCI buses, the devices (listed in vmm/devices/devices.def),
 * the vCPUs, the event loop and the control socket, and it decides what
 * happens when the guest resets, powers off or crashes.
 *
 * Threads: vmm_machine_create()/run()/free() are called from main(). All
 * vmm_machine_* functions below that change state run on the loop thread
 * (the control socket and display servers live there). vCPU threads only
 * ever hand requests over with vmm_loop_call().
 */
#ifndef VDI_VMM_MACHINE_H
#define VDI_VMM_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "vmm/boot.h"
#include "vmm/bus.h"
#include "vmm/config.h"
#include "vmm/devices/pci.h"
#include "vmm/kvm.h"
#include "vmm/loop.h"
#include "vmm/mem.h"
#include "vmm/vcpu.h"

struct vmm_uart;
struct vmm_i8042;
struct vmm_rtc;
struct vmm_acpi_pm;
struct vmm_bochs;
struct vmm_virtio_input;
struct vmm_virtio_blk;
struct vmm_control;
struct vmm_display;
struct vmm_vnc;
struct vmm_spice;

enum vmm_run_state {
	VMM_STATE_RUNNING,
	VMM_STATE_PAUSED,   /* stopped by a client ("stop") */
	VMM_STATE_SHUTDOWN, /* the guest powered off; the process is exiting */
	VMM_STATE_CRASHED,  /* KVM could not run the guest; kept for inspection */
};

/* Interrupt lines of the devices that are not on PCI, and of PCI slots. */
#define VMM_GSI_KEYBOARD 1
#define VMM_GSI_SERIAL 4
#define VMM_GSI_RTC 8
#define VMM_GSI_MOUSE 12

/* Where firmware would put PCI BARs: above RAM below 4 GiB, and legacy I/O. */
#define VMM_PCI_MMIO_BASE 0xc0000000ULL
#define VMM_PCI_MMIO_END 0xfec00000ULL
#define VMM_PCI_IO_BASE 0xc000
#define VMM_PCI_IO_END 0x10000

/* Kinds of display servers, for tickets and events. */
enum vmm_protocol {
	VMM_PROTOCOL_VNC,
	VMM_PROTOCOL_SPICE,
	VMM_NR_PROTOCOLS,
};

#define VMM_TICKET_SECRET_MAX 128

/* A one-time secret set by the broker for a display server (kept by vmm/display.c). */
struct vmm_ticket {
	bool set;
	bool used;
	char secret[VMM_TICKET_SECRET_MAX + 1];
	int64_t expires; /* CLOCK_REALTIME seconds; 0: never */
};

struct vmm_machine {
	struct vmm_config cfg;
	struct vmm_kvm kvm;
	struct vmm_mem mem;
	struct vmm_bus bus;
	struct vmm_pci_bus pci;
	struct vmm_cpus cpus;
	struct vmm_loop *loop;

	struct vmm_uart *uart;
	struct vmm_i8042 *i8042;
	struct vmm_rtc *rtc;
	struct vmm_acpi_pm *pm;
	struct vmm_bochs *bochs;
	struct vmm_virtio_input *keyboard;
	struct vmm_virtio_input *tablet;
	struct vmm_virtio_blk *blk;

	struct vmm_control *control;
	struct vmm_display *display; /* the display thread, its servers' clients */
	struct vmm_vnc *vnc;
	struct vmm_spice *spice;

	enum vmm_run_state state;
	uint64_t started_ns;
	uint64_t boots; /* 1 after start-up, +1 per reset */
	int exit_code;
	bool pending_reset, pending_poweroff, pending_crash; /* set by vCPU threads */

	int serial_out_fd;
	struct vmm_loop_watch *serial_in;
	struct vmm_loop_timer *serial_retry;
	uint8_t serial_pending[256]; /* stdin bytes the UART could not take yet */
	size_t serial_pending_len;
	int signal_fd;
	struct vmm_loop_watch *signal_watch;
	uint64_t fb_gpa; /* where the framebuffer BAR is mapped, 0 when it is not */
};

/*
 * Build the machine described by @cfg and load the kernel; the vCPUs are
 * created but parked. Returns 0 and the machine in *@ret, or -errno with a
 * one-line reason in @err. -ENOENT/-EACCES mean /dev/kvm is missing or not
 * accessible.
 */
int vmm_machine_create(const struct vmm_config *cfg, struct vmm_machine **ret, char *err,
                       size_t err_size);

/*
 * Start the guest and run the event loop until the guest powers off or a
 * client or signal asks to quit. Returns the process exit status: 0 for a
 * guest power-off or a requested quit, 1 on a fatal error.
 */
int vmm_machine_run(struct vmm_machine *m);

/* Stop everything, flush the disk, remove the control socket; NULL is a no-op. */
void vmm_machine_free(struct vmm_machine *m);

/* Control operations, on the loop thread. Return 0 or -errno. */
int vmm_machine_pause(struct vmm_machine *m);
int vmm_machine_resume(struct vmm_machine *m);
int vmm_machine_reset(struct vmm_machine *m, const char *reason);
void vmm_machine_quit(struct vmm_machine *m, int exit_code);

/* "running", "paused", "shutdown" or "crashed". */
const char *vmm_machine_state_name(const struct vmm_machine *m);

/* Seconds since start-up. */
double vmm_machine_uptime(const struct vmm_machine *m);

/*
 * Send an event to every control client ({"event":NAME,"data":DATA});
 * takes ownership of @data (may be NULL). Loop thread.
 */
void vmm_machine_event(struct vmm_machine *m, const char *name, json_t *data);

/*
 * Keyboard and pointer input from the control socket and the display
 * servers. Keys go to the virtio keyboard once the guest drives it, else to
 * the i8042; the pointer goes to the virtio tablet. Loop thread.
 */
void vmm_machine_key(struct vmm_machine *m, unsigned int evdev, bool down);
/* @x, @y in framebuffer pixels; @buttons bit 0 left, 1 middle, 2 right. */
void vmm_machine_pointer(struct vmm_machine *m, unsigned int x, unsigned int y,
                         unsigned int buttons, int wheel);

/*
 * Write the visible framebuffer to @path as PNG and report its size.
 * Returns 0, -ENODATA when the guest has not set a display mode, or -errno.
 */
int vmm_machine_screendump(struct vmm_machine *m, const char *path, unsigned int *ret_w,
                           unsigned int *ret_h);

#endif
