// SPDX-License-Identifier: GPL-2.0-or-later
#include "vmm/bus.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "proto/log.h"

void vmm_bus_init(struct vmm_bus *bus, const char *vm_name)
{
	memset(bus, 0, sizeof(*bus));
	pthread_rwlock_init(&bus->lock, NULL);
	pthread_mutex_init(&bus->logged_lock, NULL);
	bus->vm_name = vm_name ? vm_name : "?";
}

void vmm_bus_exit(struct vmm_bus *bus)
{
	pthread_rwlock_destroy(&bus->lock);
	pthread_mutex_destroy(&bus->logged_lock);
}

int vmm_bus_register(struct vmm_bus *bus, enum vmm_bus_space space, uint64_t base, uint64_t len,
                     vmm_io_fn fn, void *opaque, const char *name)
{
	struct vmm_bus_range *r = bus->ranges[space];
	unsigned int i, n;
	int ret = 0;

	if (!len || base + len < base || !fn)
		return -EINVAL;
	pthread_rwlock_wrlock(&bus->lock);
	n = bus->nr[space];
	if (n == VMM_BUS_MAX_RANGES) {
		ret = -ENOSPC;
		goto out;
	}
	for (i = 0; i < n && r[i].base < base; i++)
		;
	if ((i > 0 && r[i - 1].base + r[i - 1].len > base) || (i < n && base + len > r[i].base)) {
		ret = -EEXIST;
		goto out;
	}
	memmove(&r[i + 1], &r[i], (n - i) * sizeof(*r));
	r[i] = (struct vmm_bus_range){ base, len, fn, opaque, name };
	bus->nr[space] = n + 1;
out:
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

int vmm_bus_unregister(struct vmm_bus *bus, enum vmm_bus_space space, uint64_t base, void *opaque)
{
	struct vmm_bus_range *r = bus->ranges[space];
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	for (unsigned int i = 0; i < bus->nr[space]; i++) {
		if (r[i].base == base && r[i].opaque == opaque) {
			memmove(&r[i], &r[i + 1], (bus->nr[space] - i - 1) * sizeof(*r));
			bus->nr[space]--;
			ret = 0;
			break;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	return ret;
}

static bool lookup(struct vmm_bus *bus, enum vmm_bus_space space, uint64_t addr, unsigned int size,
                   struct vmm_bus_range *ret)
{
	const struct vmm_bus_range *r = bus->ranges[space];
	unsigned int lo = 0, hi;
	bool found = false;

	pthread_rwlock_rdlock(&bus->lock);
	hi = bus->nr[space];
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;

		if (addr < r[mid].base) {
			hi = mid;
		} else if (addr - r[mid].base >= r[mid].len) {
			lo = mid + 1;
		} else {
			if (size <= r[mid].len - (addr - r[mid].base)) {
				*ret = r[mid];
				found = true;
			}
			break;
		}
	}
	pthread_rwlock_unlock(&bus->lock);
	return found;
}

static void log_unknown(struct vmm_bus *bus, enum vmm_bus_space space, uint64_t addr,
                        unsigned int size, bool is_write)
{
	uint64_t key = addr << 1 | (uint64_t)space;
	bool first = true;

	pthread_mutex_lock(&bus->logged_lock);
	for (unsigned int i = 0; i < bus->nr_logged; i++) {
		if (bus->logged[i] == key) {
			first = false;
			break;
		}
	}
	if (first && bus->nr_logged < VMM_BUS_MAX_LOGGED)
		bus->logged[bus->nr_logged++] = key;
	else
		first = false;
	pthread_mutex_unlock(&bus->logged_lock);
	if (first)
		log_debug("vm=%s unhandled %s %s addr=0x%" PRIx64 " size=%u (logged once)",
		          bus->vm_name, space == VMM_BUS_PIO ? "pio" : "mmio",
		          is_write ? "write" : "read", addr, size);
}

int vmm_bus_access(struct vmm_bus *bus, enum vmm_bus_space space, uint64_t addr, void *data,
                   unsigned int size, bool is_write)
{
	struct vmm_bus_range r;

	if (!is_write)
		memset(data, 0xff, size);
	/*
	 * Call the handler outside the bus lock: a PCI config write may move
	 * a BAR, which re-registers ranges under the write lock.
	 */
	if (!lookup(bus, space, addr, size, &r)) {
		log_unknown(bus, space, addr, size, is_write);
		return -ENOENT;
	}
	r.fn(r.opaque, addr - r.base, data, size, is_write);
	return 0;
}
