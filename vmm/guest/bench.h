/*
 * bench.h - benchmark mode: a fixed, deterministic sequence of frames
 * rendered back to back, each followed by "frame N" on serial.
 */
#ifndef GUEST_BENCH_H
#define GUEST_BENCH_H

#include <stdint.h>

/* Frame marker: the frame number in 16 cells of 4x4 pixels at (0,0), MSB first. */
#define BENCH_MARK_BITS 16
#define BENCH_MARK_CELL 4

/*
 * Draw the benchmark screen at w x h, then frames frames in three phases
 * (scrolling text, a dragged window, a photo-like noisy gradient), then
 * log "bench: done". Each frame touches at most about 100k pixels.
 */
void bench_run(uint32_t w, uint32_t h, uint32_t frames);

#endif
