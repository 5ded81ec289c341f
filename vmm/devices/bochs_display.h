/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A bochs-compatible display adapter: the "bochs dispi" register interface
 * of QEMU's std VGA and bochs-display, as Linux's bochs-drm, firmware-set
 * vesafb/simpledrm and the reference guest drive it, without the legacy
 * VGA core.
 *
 * PCI 1234:1111, subsystem 1af4:1100, revision 2, class 0x030000 (VGA
 * compatible, like QEMU's std VGA rather than bochs-display's 0x038000):
 * bochs-drm and the reference guest match on the IDs alone, and with the
 * VGA class Linux's VGA arbiter marks the adapter as the boot display
 * (sysfs boot_vga), which display servers use to pick the primary GPU.
 *
 *   BAR0  VRAM, prefetchable 32-bit memory, mapped straight into the guest
 *         through ops->remap (no exits).
 *   BAR2  4 KiB of registers: EDID at 0x000 (128 bytes, zeros after),
 *         VGA ports 0x3c0-0x3df at 0x400 (read as 0xff, writes ignored:
 *         bochs-drm's unblank needs nothing more), DISPI registers at 0x500
 *         (16-bit, index * 2), QEMU extended registers at 0x600 (size 8,
 *         framebuffer byte order).
 *   Ports 0x1ce (index) and 0x1cf (data; 0x1d0 too, as QEMU decodes it on
 *         x86) reach the same DISPI registers.
 *
 * The registers keep what the guest writes; the mode the adapter displays
 * is derived from them: enabled, 15/16/24/32 bpp, VMM_BOCHS_MIN_W x
 * VMM_BOCHS_MIN_H up to VMM_BOCHS_MAX_W x VMM_BOCHS_MAX_H, stride
 * max(VIRT_WIDTH, XRES) * bytes per pixel, offset from X/Y_OFFSET, and the
 * visible part inside VRAM. Anything else leaves the display disabled.
 *
 * All register state is under one mutex; the VRAM itself is guest memory
 * and not locked.
 */
#ifndef VDI_VMM_DEVICES_BOCHS_DISPLAY_H
#define VDI_VMM_DEVICES_BOCHS_DISPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/bus.h"
#include "vmm/devices/pci.h"

#define VMM_BOCHS_MAX_W 1920
#define VMM_BOCHS_MAX_H 1080
/* Smallest mode the adapter displays; preferred modes start at 320x200. */
#define VMM_BOCHS_MIN_W 64
#define VMM_BOCHS_MIN_H 64
#define VMM_BOCHS_PREF_MIN_W 320
#define VMM_BOCHS_PREF_MIN_H 200
/* VRAM sizes accepted: powers of two in this range (Linux's bochs-drm wants 4 MiB). */
#define VMM_BOCHS_VRAM_MIN (4u << 20)
#define VMM_BOCHS_VRAM_MAX (256u << 20)
#define VMM_BOCHS_DEFAULT_W 1024
#define VMM_BOCHS_DEFAULT_H 768

struct vmm_bochs;

struct vmm_bochs_mode {
	bool enabled;
	unsigned int width, height, bpp, stride;
	uint64_t offset; /* bytes into VRAM of the visible top-left */
	/*
	 * 32 bpp pixels are stored B G R X in memory order when false (the
	 * x86 default) and X R G B when true (a guest chose a big-endian
	 * framebuffer through the QEMU extended registers).
	 */
	bool big_endian;
};

struct vmm_bochs_ops {
	/*
	 * Map the VRAM (vmm_bochs_vram()) at guest-physical @new_gpa, after
	 * unmapping it from @old_gpa; either may be 0 (none). Called under the
	 * PCI bus lock from a vCPU thread or from vmm_pci_bus_assign().
	 */
	void (*remap)(void *opaque, uint64_t old_gpa, uint64_t new_gpa);
	/*
	 * The guest changed the mode (enable, resolution, depth, offset); called
	 * on a vCPU thread without the device lock held (or on the thread
	 * calling vmm_bochs_set_mode()/vmm_bochs_reset()). Read the new mode
	 * with vmm_bochs_get_mode().
	 */
	void (*mode_changed)(void *opaque);
	void *opaque;
};

/*
 * An adapter with @vram_size bytes of VRAM (a power of two from
 * VMM_BOCHS_VRAM_MIN to VMM_BOCHS_VRAM_MAX; 16 MiB is the usual) whose
 * ports 0x1ce-0x1d0 are claimed on @bus. @ops is copied; its callbacks may
 * be NULL. The preferred mode starts at 1024x768. Returns 0 and the
 * adapter in *@ret, -EINVAL for a bad size, -ENOMEM, or the error of
 * vmm_bus_register(). Add vmm_bochs_pci(*ret) to the PCI bus next.
 */
int vmm_bochs_new(struct vmm_bus *bus, size_t vram_size, const struct vmm_bochs_ops *ops,
                  struct vmm_bochs **ret);

/* The PCI function to add to the bus; owned by @b. */
struct vmm_pci_dev *vmm_bochs_pci(struct vmm_bochs *b);

/* Host mapping of the VRAM, page aligned, valid until vmm_bochs_free(). */
uint8_t *vmm_bochs_vram(struct vmm_bochs *b);
size_t vmm_bochs_vram_size(struct vmm_bochs *b);

/* The mode being displayed now. Any thread. */
void vmm_bochs_get_mode(struct vmm_bochs *b, struct vmm_bochs_mode *ret);

/*
 * Advertise @w x @h as the monitor's preferred mode (a new EDID the guest
 * may poll). Returns 0, or -EINVAL outside VMM_BOCHS_PREF_MIN_W x
 * VMM_BOCHS_PREF_MIN_H .. VMM_BOCHS_MAX_W x VMM_BOCHS_MAX_H or when the
 * mode at 32 bpp does not fit the VRAM. Any thread.
 */
int vmm_bochs_set_preferred_mode(struct vmm_bochs *b, unsigned int w, unsigned int h);
void vmm_bochs_get_preferred_mode(struct vmm_bochs *b, unsigned int *w, unsigned int *h);

/*
 * Program the DISPI registers as firmware would before booting an OS that
 * uses the framebuffer as it finds it (Linux's vesafb/simpledrm): @w x @h
 * at @bpp (15, 16, 24 or 32), linear framebuffer on, VRAM cleared. Returns
 * 0 or -EINVAL for a mode the adapter cannot display. Any thread.
 */
int vmm_bochs_set_mode(struct vmm_bochs *b, unsigned int w, unsigned int h, unsigned int bpp);

/* Power-on state: display disabled, registers cleared; VRAM and EDID kept. Any thread. */
void vmm_bochs_reset(struct vmm_bochs *b);

/*
 * Free (vCPUs stopped, after the PCI bus stopped using the function): the
 * ports and a mapped BAR2 leave the I/O bus, the VRAM is unmapped from the
 * host without calling ops->remap. NULL is a no-op.
 */
void vmm_bochs_free(struct vmm_bochs *b);

#endif
