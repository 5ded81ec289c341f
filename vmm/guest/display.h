/*
 * display.h - the bochs VBE ("stdvga", PCI 1234:1111) display adapter:
 * linear framebuffer in BAR0, EDID and DISPI registers in the BAR2 MMIO
 * window (ports 0x1ce/0x1cf when there is none).
 */
#ifndef GUEST_DISPLAY_H
#define GUEST_DISPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define DISPLAY_MAX_W 1920
#define DISPLAY_MAX_H 1080
#define DISPLAY_MIN_W 320
#define DISPLAY_MIN_H 200

struct display_mode {
	uint32_t *fb;
	uint32_t width, height;
	uint32_t pitch; /* in pixels */
};

/* Find and enable the adapter. Returns 0 or -ENODEV. */
int display_init(void);

/*
 * Set a 32 bpp mode as close to w x h as the limits allow (1920x1080 and
 * the video memory) and fill *ret. Logs "display: mode WxH". Returns 0,
 * or -ENODEV without an adapter.
 */
int display_set_mode(uint32_t w, uint32_t h, struct display_mode *ret);

/*
 * Read the whole EDID and return its preferred mode (first detailed
 * timing) in *w, *h. Returns false when there is no valid EDID.
 */
bool display_edid_mode(uint32_t *w, uint32_t *h);

/*
 * Cheap check for a new preferred mode: reads only the first detailed
 * timing descriptor, and the whole EDID only when that changed. Returns
 * true with the new mode when it differs from the last one seen.
 */
bool display_edid_poll(uint32_t *w, uint32_t *h);

#endif
