/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Screen dumps: the guest's visible framebuffer as a PNG file, for the
 * control socket's screendump command (tests compare clients against it).
 */
#ifndef VDI_VMM_SCREENDUMP_H
#define VDI_VMM_SCREENDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pixel layouts a guest may program into the display adapter. */
enum vmm_pixfmt {
	VMM_PIXFMT_XRGB8888, /* 32 bpp, bytes B G R X */
	VMM_PIXFMT_RGB888,   /* 24 bpp, bytes B G R */
	VMM_PIXFMT_RGB565,   /* 16 bpp */
	VMM_PIXFMT_XRGB1555, /* 15 bpp */
};

/* Convert one pixel at @p in @fmt to 0x00RRGGBB. */
uint32_t vmm_pixel_rgb(const uint8_t *p, enum vmm_pixfmt fmt);

/* The layout of a bochs/VBE depth (32, 24, 16, 15 bits per pixel); false for others. */
bool vmm_pixfmt_from_bpp(unsigned int bpp, enum vmm_pixfmt *ret);

/* Bytes per pixel of @fmt. */
unsigned int vmm_pixfmt_bytes(enum vmm_pixfmt fmt);

/*
 * Write @width x @height pixels starting at @fb (rows @stride bytes apart)
 * as an RGB PNG to @path, atomically (a temporary file renamed into place,
 * mode 0600). Returns 0 or -errno. The caller keeps @fb stable or accepts
 * a torn frame, as the guest may be drawing.
 */
int vmm_screendump_png(const char *path, const uint8_t *fb, unsigned int width, unsigned int height,
                       size_t stride, enum vmm_pixfmt fmt);

#endif
