/*
 * desktop.h - the desktop: background, top bar with name and clock, the
 * terminal window, the "Click me" button and the pointer.
 */
#ifndef GUEST_DESKTOP_H
#define GUEST_DESKTOP_H

#include <stdint.h>

#define DESK_BAR_H 28

/*
 * Set the display mode (clamped by the adapter) and draw the whole desktop
 * at that size. Without a display only the terminal's geometry is set.
 * Returns 0 or -ENODEV.
 */
int desk_set_mode(uint32_t w, uint32_t h);

/* Current mode; 0x0 without a display. */
void desk_mode(uint32_t *w, uint32_t *h);

/* Once a second: refresh the clock when the minute changed, follow the EDID. */
void desk_tick(void);

/*
 * Tablet report: position as x of xrange and y of yrange (device units
 * from its minimum), buttons as bit 0 left, 1 middle, 2 right.
 */
void desk_pointer(uint32_t x, uint32_t xrange, uint32_t y, uint32_t yrange, unsigned buttons);

/* Repaint the background gradient in a block. */
void desk_bg_fill(int x, int y, int w, int h);

/*
 * Benchmark screen: background and top bar with label in place of the
 * clock; no windows. Sets the mode like desk_set_mode().
 */
int desk_set_mode_bench(uint32_t w, uint32_t h, const char *label);

#endif
