// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/screendump.h"

#include <errno.h>
#include <fcntl.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool vmm_pixfmt_from_bpp(unsigned int bpp, enum vmm_pixfmt *ret)
{
	switch (bpp) {
	case 32:
		*ret = VMM_PIXFMT_XRGB8888;
		return true;
	case 24:
		*ret = VMM_PIXFMT_RGB888;
		return true;
	case 16:
		*ret = VMM_PIXFMT_RGB565;
		return true;
	case 15:
		*ret = VMM_PIXFMT_XRGB1555;
		return true;
	}
	return false;
}

unsigned int vmm_pixfmt_bytes(enum vmm_pixfmt fmt)
{
	switch (fmt) {
	case VMM_PIXFMT_XRGB8888:
		return 4;
	case VMM_PIXFMT_RGB888:
		return 3;
	case VMM_PIXFMT_RGB565:
	case VMM_PIXFMT_XRGB1555:
		return 2;
	}
	return 4;
}

/* Widen an n-bit channel to 8 bits so that full scale stays full scale. */
static uint32_t widen(uint32_t v, unsigned int bits)
{
	return (v << (8 - bits)) | (v >> (2 * bits - 8));
}

uint32_t vmm_pixel_rgb(const uint8_t *p, enum vmm_pixfmt fmt)
{
	uint32_t v;

	switch (fmt) {
	case VMM_PIXFMT_XRGB8888:
	case VMM_PIXFMT_RGB888:
		return (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	case VMM_PIXFMT_RGB565:
		v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
		return widen(v >> 11, 5) << 16 | widen((v >> 5) & 0x3f, 6) << 8 |
		       widen(v & 0x1f, 5);
	case VMM_PIXFMT_XRGB1555:
		v = (uint32_t)p[0] | (uint32_t)p[1] << 8;
		return widen((v >> 10) & 0x1f, 5) << 16 | widen((v >> 5) & 0x1f, 5) << 8 |
		       widen(v & 0x1f, 5);
	}
	return 0;
}

struct png_out {
	png_structp png;
	png_infop info;
	FILE *f;
	uint8_t *row;
};

static void write_rows(struct png_out *o, const uint8_t *fb, unsigned int width,
                       unsigned int height, size_t stride, enum vmm_pixfmt fmt)
{
	unsigned int bpp = vmm_pixfmt_bytes(fmt);

	for (unsigned int y = 0; y < height; y++) {
		const uint8_t *src = fb + (size_t)y * stride;

		for (unsigned int x = 0; x < width; x++) {
			uint32_t rgb = vmm_pixel_rgb(src + (size_t)x * bpp, fmt);

			o->row[3 * x] = (uint8_t)(rgb >> 16);
			o->row[3 * x + 1] = (uint8_t)(rgb >> 8);
			o->row[3 * x + 2] = (uint8_t)rgb;
		}
		png_write_row(o->png, o->row);
	}
}

/* libpng reports errors by longjmp: keep this frame free of locals that change. */
static int write_png(struct png_out *o, const uint8_t *fb, unsigned int width, unsigned int height,
                     size_t stride, enum vmm_pixfmt fmt)
{
	if (setjmp(png_jmpbuf(o->png)))
		return -EIO;
	png_init_io(o->png, o->f);
	/* Screens compress well; a fast level keeps screendump cheap. */
	png_set_compression_level(o->png, 3);
	png_set_IHDR(o->png, o->info, width, height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
	             PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(o->png, o->info);
	write_rows(o, fb, width, height, stride, fmt);
	png_write_end(o->png, NULL);
	return 0;
}

int vmm_screendump_png(const char *path, const uint8_t *fb, unsigned int width, unsigned int height,
                       size_t stride, enum vmm_pixfmt fmt)
{
	struct png_out o = { 0 };
	char tmp[4096];
	int fd, r;

	if (!width || !height || width > 16384 || height > 16384)
		return -EINVAL;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	o.f = fdopen(fd, "wb");
	if (!o.f) {
		r = -errno;
		close(fd);
		goto out_unlink;
	}
	o.row = malloc((size_t)width * 3);
	o.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	o.info = o.png ? png_create_info_struct(o.png) : NULL;
	if (!o.row || !o.info) {
		r = -ENOMEM;
		goto out_close;
	}
	r = write_png(&o, fb, width, height, stride, fmt);
	if (r == 0 && fflush(o.f) != 0)
		r = -errno;
out_close:
	png_destroy_write_struct(&o.png, &o.info);
	free(o.row);
	if (fclose(o.f) != 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
out_unlink:
	if (r < 0)
		unlink(tmp);
	return r;
}
