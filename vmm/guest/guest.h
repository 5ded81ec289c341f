/* guest.h - boot configuration shared by the guest's subsystems. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdbool.h>
#include <stdint.h>

#define GUEST_VERSION "0.1"
#define GUEST_NAME_MAX 32
#define GUEST_BENCH_FRAMES_DEFAULT 60
#define GUEST_BENCH_FRAMES_MAX 100000

struct guest_config {
	char name[GUEST_NAME_MAX + 1]; /* printable ASCII, never empty */
	uint32_t res_w, res_h;         /* resolution=WxH, 0 when not given */
	bool bench;                    /* bench or bench=N on the command line */
	uint32_t bench_frames;
	uint64_t ram_bytes; /* usable RAM in the start_info memory map; 0 unknown */
};

/* Filled from hvm_start_info before any subsystem but serial starts. */
extern struct guest_config guest;

/* C entry from start.S with the physical address of struct hvm_start_info. */
void guest_main(uint32_t start_info);

#endif
