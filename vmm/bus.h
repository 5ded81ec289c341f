/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The I/O bus: which device answers a port (PIO) or MMIO access that made a
 * vCPU exit. Devices register address ranges with a handler; PCI BARs move
 * when the guest reprograms them, so ranges can also be unregistered.
 *
 * Handlers run on the vCPU thread that exited, possibly on several vCPUs at
 * once: each device protects its own state with its own lock. A handler
 * must not call vmm_bus_register()/unregister() for a range it is not
 * changing, and must never block for long (it stalls that vCPU).
 */
#ifndef VDI_VMM_BUS_H
#define VDI_VMM_BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

enum vmm_bus_space {
	VMM_BUS_PIO = 0,
	VMM_BUS_MMIO = 1,
};

/*
 * One access: @offset is relative to the registered base; @size is 1, 2, 4
 * or 8; @data holds @size bytes in guest (little-endian) order. For reads
 * the handler fills @data; the bus pre-fills it with all-ones, so a handler
 * that ignores a register reads as "nothing there", like real hardware.
 */
typedef void (*vmm_io_fn)(void *opaque, uint64_t offset, void *data, unsigned int size,
                          bool is_write);

struct vmm_bus_range {
	uint64_t base;
	uint64_t len;
	vmm_io_fn fn;
	void *opaque;
	const char *name;
};

#define VMM_BUS_MAX_RANGES 128
#define VMM_BUS_MAX_LOGGED 256

struct vmm_bus {
	pthread_rwlock_t lock;
	struct vmm_bus_range ranges[2][VMM_BUS_MAX_RANGES]; /* sorted by base */
	unsigned int nr[2];
	/* Unknown addresses already logged, so a looping guest cannot flood the log. */
	pthread_mutex_t logged_lock;
	uint64_t logged[VMM_BUS_MAX_LOGGED];
	unsigned int nr_logged;
	const char *vm_name;
};

/* Initialise an empty bus; @vm_name (kept, not copied) prefixes log lines. */
void vmm_bus_init(struct vmm_bus *bus, const char *vm_name);
void vmm_bus_exit(struct vmm_bus *bus);

/*
 * Claim [base, base + len) in @space for @fn. Returns 0, -EEXIST when it
 * overlaps a registered range, -EINVAL for an empty or wrapping range,
 * -ENOSPC when the table is full. @name is kept, not copied.
 */
int vmm_bus_register(struct vmm_bus *bus, enum vmm_bus_space space, uint64_t base, uint64_t len,
                     vmm_io_fn fn, void *opaque, const char *name);

/* Release the range registered at exactly @base with @opaque; -ENOENT if none. */
int vmm_bus_unregister(struct vmm_bus *bus, enum vmm_bus_space space, uint64_t base, void *opaque);

/*
 * Dispatch one access. Returns 0 when a device handled it, -ENOENT when
 * nothing is there (reads then return all-ones, writes are dropped, and
 * the address is logged once). Accesses that straddle the end of a range
 * are treated as unknown. Thread-safe.
 */
int vmm_bus_access(struct vmm_bus *bus, enum vmm_bus_space space, uint64_t addr, void *data,
                   unsigned int size, bool is_write);

#endif
