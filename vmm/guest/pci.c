/* pci.c - configuration space access and bus 0 enumeration. */
#include "pci.h"

#include "arch.h"
#include "lib.h"
#include "serial.h"

#define CONF_ADDR 0xcf8
#define CONF_DATA 0xcfc
#define PCI_MAX_DEVS 32
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_CLASS_BRIDGE 0x06

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs;

static uint32_t conf_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 |
	       (off & 0xfc);
}

static uint32_t conf_read(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off)
{
	outl(CONF_ADDR, conf_addr(bus, dev, fn, off));
	return inl(CONF_DATA);
}

static void conf_write(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off, uint32_t v)
{
	outl(CONF_ADDR, conf_addr(bus, dev, fn, off));
	outl(CONF_DATA, v);
}

/*
 * Narrow reads are done as aligned dword reads: every conf1 implementation
 * handles those, not every one handles byte lanes.
 */
uint32_t pci_read32(const struct pci_dev *d, uint8_t off)
{
	return conf_read(d->bus, d->dev, d->fn, off);
}

uint16_t pci_read16(const struct pci_dev *d, uint8_t off)
{
	return (uint16_t)(pci_read32(d, off) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *d, uint8_t off)
{
	return (uint8_t)(pci_read32(d, off) >> ((off & 3) * 8));
}

void pci_enable(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);

	cmd |= PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	outl(CONF_ADDR, conf_addr(d->bus, d->dev, d->fn, PCI_COMMAND));
	outw(CONF_DATA, cmd);
}

/* Returns how many BAR slots this BAR used (2 for a 64-bit memory BAR). */
static int size_bar(struct pci_dev *d, int i)
{
	uint8_t off = PCI_BAR0 + 4 * i;
	uint32_t lo = conf_read(d->bus, d->dev, d->fn, off), hi = 0, mlo, mhi = 0xffffffffu;
	bool is64 = !(lo & 1) && (lo & 6) == 4 && i < PCI_BARS - 1;
	uint64_t mask;

	conf_write(d->bus, d->dev, d->fn, off, 0xffffffffu);
	mlo = conf_read(d->bus, d->dev, d->fn, off);
	conf_write(d->bus, d->dev, d->fn, off, lo);
	if (is64) {
		hi = conf_read(d->bus, d->dev, d->fn, off + 4);
		conf_write(d->bus, d->dev, d->fn, off + 4, 0xffffffffu);
		mhi = conf_read(d->bus, d->dev, d->fn, off + 4);
		conf_write(d->bus, d->dev, d->fn, off + 4, hi);
	}
	if (lo & 1) {
		d->bar[i].io = true;
		d->bar[i].addr = lo & ~3u;
		mask = (mlo & ~3u) | 0xffff0000u;
		d->bar[i].size = mlo ? (uint32_t)(~mask + 1) : 0;
	} else {
		d->bar[i].addr = ((uint64_t)hi << 32) | (lo & ~0xfu);
		mask = ((uint64_t)mhi << 32) | (mlo & ~0xfu);
		d->bar[i].size = (mlo & ~0xfu) || (is64 && mhi) ? ~mask + 1 : 0;
	}
	return is64 ? 2 : 1;
}

static void add_function(uint8_t dev, uint8_t fn, uint32_t id)
{
	struct pci_dev *d;
	uint32_t class_rev, cmd;
	int i;

	if (ndevs == PCI_MAX_DEVS)
		return;
	d = &devs[ndevs++];
	memset(d, 0, sizeof(*d));
	d->dev = dev;
	d->fn = fn;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	class_rev = conf_read(0, dev, fn, 0x08);
	d->class_code = (uint8_t)(class_rev >> 24);
	d->subclass = (uint8_t)(class_rev >> 16);
	d->irq = (uint8_t)conf_read(0, dev, fn, PCI_INTERRUPT_LINE);
	/*
	 * Only type 0 headers have six BARs; bridges (host, ISA) keep chipset
	 * registers where others have BARs, so they are left alone.
	 */
	if ((conf_read(0, dev, fn, PCI_HEADER_TYPE & 0xfc) >> 16 & 0x7f) != 0 ||
	    d->class_code == PCI_CLASS_BRIDGE)
		return;

	/* Decoding off while the BARs briefly hold all ones. */
	cmd = conf_read(0, dev, fn, PCI_COMMAND);
	outl(CONF_ADDR, conf_addr(0, dev, fn, PCI_COMMAND));
	outw(CONF_DATA, (uint16_t)(cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY)));
	for (i = 0; i < PCI_BARS;)
		i += size_bar(d, i);
	outl(CONF_ADDR, conf_addr(0, dev, fn, PCI_COMMAND));
	outw(CONF_DATA, (uint16_t)cmd);
}

int pci_scan(void)
{
	uint8_t dev, fn;

	ndevs = 0;
	for (dev = 0; dev < 32; dev++) {
		uint32_t id = conf_read(0, dev, 0, 0);
		uint8_t nfn;

		if ((uint16_t)id == 0xffff)
			continue;
		nfn = (conf_read(0, dev, 0, PCI_HEADER_TYPE & 0xfc) >> 16) & 0x80 ? 8 : 1;
		for (fn = 0; fn < nfn; fn++) {
			if (fn)
				id = conf_read(0, dev, fn, 0);
			if ((uint16_t)id == 0xffff)
				continue;
			add_function(dev, fn, id);
		}
	}
	return ndevs;
}

struct pci_dev *pci_get(int n)
{
	return n >= 0 && n < ndevs ? &devs[n] : NULL;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, struct pci_dev *from)
{
	int i = from ? (int)(from - devs) + 1 : 0;

	for (; i < ndevs; i++)
		if (devs[i].vendor == vendor && devs[i].device == device)
			return &devs[i];
	return NULL;
}
