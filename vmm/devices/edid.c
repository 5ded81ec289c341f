// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/devices/edid.h"

#include <string.h>

#define EDID_DTD 54
#define EDID_DESC_LEN 18
#define EDID_STD_TIMINGS 38
#define EDID_NR_STD_TIMINGS 8
#define EDID_CHECKSUM 127

#define DESC_DUMMY 0x10
#define DESC_RANGE_LIMITS 0xfd
#define DESC_NAME 0xfc

/* A 96 DPI screen, for the physical size fields. */
#define DPI 96
#define MAX_ACTIVE 4095 /* 12-bit fields of the detailed timing */

/* CVT reduced blanking (VESA CVT 1.1): fixed horizontal blanking, 460 us vertical. */
#define RB_H_BLANK 160
#define RB_H_SYNC 32
#define RB_H_FRONT 48
#define RB_V_FRONT 3
#define RB_MIN_V_BACK 6
#define RB_MIN_VBLANK_US 460
#define RB_CLOCK_STEP_HZ 250000
#define REFRESH_HZ 60

/* Standard timings at 60 Hz; aspect codes of EDID 1.3+: 0 16:10, 1 4:3, 2 5:4, 3 16:9. */
static const struct {
	unsigned int w, aspect;
} std_modes[EDID_NR_STD_TIMINGS] = {
	{ 1280, 3 }, { 1280, 0 }, { 1280, 2 }, { 1280, 1 },
	{ 1440, 0 }, { 1600, 3 }, { 1680, 0 }, { 1920, 3 },
};

/* CVT's vertical sync width tells the aspect ratio to a monitor. */
static unsigned int cvt_vsync(unsigned int w, unsigned int h)
{
	if (w * 3 == h * 4)
		return 4;
	if (w * 9 == h * 16)
		return 5;
	if (w * 10 == h * 16)
		return 6;
	if (w * 4 == h * 5 || w * 9 == h * 15)
		return 7;
	return 10;
}

static void put_le16(uint8_t *p, unsigned int v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void detailed_timing(uint8_t *d, unsigned int w, unsigned int h)
{
	unsigned int vsync = cvt_vsync(w, h);
	/* Lines the 460 us minimum blanking takes at this frame rate, plus one. */
	unsigned int vblank = (unsigned int)((uint64_t)RB_MIN_VBLANK_US * REFRESH_HZ * h /
	                                     (1000000 - RB_MIN_VBLANK_US * REFRESH_HZ)) +
	                      1;
	unsigned int hblank = RB_H_BLANK, hfront = RB_H_FRONT, hsync = RB_H_SYNC;
	unsigned int vfront = RB_V_FRONT, hmm = w * 254 / (DPI * 10), vmm = h * 254 / (DPI * 10);
	uint64_t hz, clock;

	if (vblank < RB_V_FRONT + vsync + RB_MIN_V_BACK)
		vblank = RB_V_FRONT + vsync + RB_MIN_V_BACK;
	hz = (uint64_t)REFRESH_HZ * (w + hblank) * (h + vblank);
	/* In 10 kHz units, rounded down to the CVT clock step. */
	clock = hz / RB_CLOCK_STEP_HZ * (RB_CLOCK_STEP_HZ / 10000);
	if (clock > 0xffff)
		clock = 0xffff;
	put_le16(d, (unsigned int)clock);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)hblank;
	d[4] = (uint8_t)((w >> 8) << 4 | hblank >> 8);
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)vblank;
	d[7] = (uint8_t)((h >> 8) << 4 | vblank >> 8);
	d[8] = (uint8_t)hfront;
	d[9] = (uint8_t)hsync;
	d[10] = (uint8_t)((vfront & 0xf) << 4 | (vsync & 0xf));
	d[11] = (uint8_t)((hfront >> 8 & 3) << 6 | (hsync >> 8 & 3) << 4 | (vfront >> 4 & 3) << 2 |
	                  (vsync >> 4 & 3));
	d[12] = (uint8_t)hmm;
	d[13] = (uint8_t)vmm;
	d[14] = (uint8_t)((hmm >> 8 & 0xf) << 4 | (vmm >> 8 & 0xf));
	/* Digital separate sync; CVT-RB: +hsync, -vsync. */
	d[17] = 0x18 | 0x02;
}

static void descriptor_header(uint8_t *d, uint8_t tag)
{
	memset(d, 0, EDID_DESC_LEN);
	d[3] = tag;
}

static void range_limits(uint8_t *d)
{
	descriptor_header(d, DESC_RANGE_LIMITS);
	d[5] = 50;    /* vertical Hz, min */
	d[6] = 75;    /* max */
	d[7] = 30;    /* horizontal kHz, min */
	d[8] = 160;   /* max */
	d[9] = 66;    /* pixel clock, 10 MHz units: what 16 bits of 10 kHz reach */
	d[10] = 0x01; /* range limits only, no timing formula */
	d[11] = 0x0a;
	memset(d + 12, ' ', 6);
}

static void monitor_name(uint8_t *d, const char *name)
{
	size_t i;

	descriptor_header(d, DESC_NAME);
	memset(d + 5, ' ', VMM_EDID_NAME_MAX);
	for (i = 0; i < VMM_EDID_NAME_MAX && name[i]; i++)
		d[5 + i] = name[i] >= 0x20 && name[i] < 0x7f ? (uint8_t)name[i] : '?';
	if (i < VMM_EDID_NAME_MAX)
		d[5 + i] = '\n';
}

/* EDID 1.4 chromaticity: 10-bit binary fractions of the sRGB primaries and D65 white. */
static void chromaticity(uint8_t *e)
{
	/* red x, y; green x, y; blue x, y; white x, y (value * 1024, rounded) */
	static const uint16_t c[8] = { 655, 338, 307, 614, 154, 61, 320, 337 };

	e[25] = (uint8_t)((c[0] & 3) << 6 | (c[1] & 3) << 4 | (c[2] & 3) << 2 | (c[3] & 3));
	e[26] = (uint8_t)((c[4] & 3) << 6 | (c[5] & 3) << 4 | (c[6] & 3) << 2 | (c[7] & 3));
	for (int i = 0; i < 8; i++)
		e[27 + i] = (uint8_t)(c[i] >> 2);
}

void vmm_edid_generate(uint8_t out[VMM_EDID_SIZE], unsigned int pref_w, unsigned int pref_h,
                       const char *name)
{
	static const uint8_t header[8] = { 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
	/* "VDI" in the 5-bit letter code, big-endian. */
	unsigned int vendor = ('V' - '@') << 10 | ('D' - '@') << 5 | ('I' - '@');
	unsigned int w = pref_w ? pref_w : 1, h = pref_h ? pref_h : 1, cm;
	uint8_t sum = 0;

	if (w > MAX_ACTIVE)
		w = MAX_ACTIVE;
	if (h > MAX_ACTIVE)
		h = MAX_ACTIVE;
	memset(out, 0, VMM_EDID_SIZE);
	memcpy(out, header, sizeof(header));
	out[8] = (uint8_t)(vendor >> 8);
	out[9] = (uint8_t)vendor;
	put_le16(out + 10, 0x0001); /* product code */
	/* Serial number 0, week unspecified, made in 2024. */
	out[17] = 2024 - 1990;
	out[18] = 1;
	out[19] = 4;
	out[20] = 0xa0; /* digital, 8 bits per colour, interface not defined */
	cm = (w * 254 / (DPI * 10) + 5) / 10;
	out[21] = (uint8_t)(cm < 1 ? 1 : cm > 255 ? 255 : cm);
	cm = (h * 254 / (DPI * 10) + 5) / 10;
	out[22] = (uint8_t)(cm < 1 ? 1 : cm > 255 ? 255 : cm);
	out[23] = 220 - 100; /* gamma 2.2 */
	out[24] = 0x06;      /* sRGB default, preferred timing is the native mode */
	chromaticity(out);
	/* Established timings: 640x480, 800x600 and 1024x768 at 60 Hz. */
	out[35] = 0x20 | 0x01;
	out[36] = 0x08;
	for (int i = 0; i < EDID_NR_STD_TIMINGS; i++) {
		out[EDID_STD_TIMINGS + 2 * i] = (uint8_t)(std_modes[i].w / 8 - 31);
		out[EDID_STD_TIMINGS + 2 * i + 1] =
		        (uint8_t)(std_modes[i].aspect << 6 | (REFRESH_HZ - 60));
	}
	detailed_timing(out + EDID_DTD, w, h);
	range_limits(out + EDID_DTD + EDID_DESC_LEN);
	monitor_name(out + EDID_DTD + 2 * EDID_DESC_LEN, name ? name : "VDI Monitor");
	descriptor_header(out + EDID_DTD + 3 * EDID_DESC_LEN, DESC_DUMMY);
	out[126] = 0; /* no extension blocks */
	for (int i = 0; i < EDID_CHECKSUM; i++)
		sum = (uint8_t)(sum + out[i]);
	out[EDID_CHECKSUM] = (uint8_t)(0x100 - sum);
}
