/* pci.h - PCI configuration mechanism #1 and a bus 0 device table. */
#ifndef GUEST_PCI_H
#define GUEST_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CAP_PTR 0x34
#define PCI_INTERRUPT_LINE 0x3c
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_CAP_ID_VNDR 0x09
#define PCI_BARS 6

struct pci_bar {
	uint64_t addr;
	uint64_t size;
	bool io;
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint8_t class_code, subclass;
	uint8_t irq; /* interrupt line as firmware or monitor assigned it; 0xff none */
	struct pci_bar bar[PCI_BARS];
};

/*
 * Enumerate bus 0 (devices 0..31, functions 0..7 when multifunction) and
 * size the BARs of header type 0 functions. Returns the number found.
 */
int pci_scan(void);

/* The n-th device found by pci_scan(), or NULL past the end. */
struct pci_dev *pci_get(int n);

/* First device with this vendor:device id after *from (NULL: from the start). */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, struct pci_dev *from);

uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint8_t pci_read8(const struct pci_dev *d, uint8_t off);

/* Turn on memory and I/O decoding and bus mastering. */
void pci_enable(const struct pci_dev *d);

#endif
