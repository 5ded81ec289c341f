/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * EDID for the virtual monitor: one EDID 1.4 base block telling the guest
 * the preferred resolution, which the bochs display adapter exposes to the
 * guest (Linux's bochs-drm, the reference guest) so a client can resize the
 * desktop by changing it.
 */
#ifndef VDI_VMM_DEVICES_EDID_H
#define VDI_VMM_DEVICES_EDID_H

#include <stdint.h>

#define VMM_EDID_SIZE 128
/* Longest monitor name a descriptor holds. */
#define VMM_EDID_NAME_MAX 13

/*
 * Fill @out with an EDID 1.4 base block: vendor "VDI", a digital input, the
 * preferred detailed timing at byte 54 (CVT reduced-blanking timings for
 * @pref_w x @pref_h at 60 Hz, each clamped to 1..4095), a range limits
 * descriptor, a monitor name descriptor with @name (NULL: "VDI Monitor";
 * cut at VMM_EDID_NAME_MAX characters, anything but printable ASCII shown
 * as '?'), established and standard timings for common modes up to
 * 1920x1080, and the checksum. Pure function, any thread.
 */
void vmm_edid_generate(uint8_t out[VMM_EDID_SIZE], unsigned int pref_w, unsigned int pref_h,
                       const char *name);

#endif
