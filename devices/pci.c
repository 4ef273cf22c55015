/* devices/pci.c: PCI configuration mechanism #1 (0xCF8, 0xCFC-0xCFF) and bus 0 with an Intel 440FX host bridge at 00:00.0. */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/*
 * References: PCI Local Bus Specification 3.0, §3.2.2.3.2 (configuration
 * mechanism #1), §6.1-§6.2 (the type 0 header); Intel 82441FX PCI and Memory
 * Controller (PMC) datasheet, register descriptions (PCICMD, PCISTS,
 * PAM0-PAM6, SMRAM).
 *
 * Bus 0 holds the host bridge alone.  A PIIX3 ISA bridge (8086:7000) at
 * 00:01.0 is left out on purpose: Linux finds the PC's ISA devices at their
 * fixed ports, and its only uses of the PIIX3 function are PCI interrupt
 * routing through the $PIR table (bt routes through ACPI, and has no PCI
 * device with an interrupt yet) and chipset quirks for bugs bt does not
 * have.  Linux's pci_sanity_check is satisfied by the host bridge's class.
 */

#define CONFIG_ADDRESS_PORT	0xCF8
#define CONFIG_DATA_PORT	0xCFC
#define CONFIG_DATA_LEN		4

/* CONFIG_ADDRESS (§3.2.2.3.2): bit 31 enables the data window; bits 30:24
 * are reserved and bits 1:0 are read-only, all reading 0. */
#define CA_ENABLE	0x80000000u
#define CA_WRITABLE	0x80FFFFFCu
#define CA_BUS(a)	(((a) >> 16) & 0xFFu)
#define CA_DEVFN(a)	(((a) >> 8) & 0xFFu)
#define CA_REG(a)	((a) & 0xFCu)

#define CFG_SIZE	256

/* Type 0 header offsets (§6.1). */
enum {
	CFG_VENDOR = 0x00,
	CFG_DEVICE = 0x02,
	CFG_COMMAND = 0x04,
	CFG_STATUS = 0x06,
	CFG_REVISION = 0x08,
	CFG_CLASS = 0x09,		/* programming interface, subclass, base class */
	CFG_LATENCY = 0x0D,
	CFG_HEADER_TYPE = 0x0E,
};

/* The 82441FX's values and its device-specific registers. */
#define PMC_VENDOR	0x8086
#define PMC_DEVICE	0x1237
#define PMC_REVISION	0x02		/* what QEMU's i440FX reports too */
#define PMC_CLASS	0x060000	/* bridge, host bridge */
/* PCICMD: memory access (bit 1) and bus master (bit 2) are hardwired on;
 * parity error (bit 6) and SERR# (bit 8) enables are the writable bits. */
#define PMC_COMMAND	0x0006
#define PMC_COMMAND_WR	0x0140
/* PCISTS: fast back-to-back capable, medium DEVSEL timing.  The R/WC
 * error bits are never set, since bt has no bus errors, so writes change
 * nothing. */
#define PMC_STATUS	0x0280
#define PMC_LATENCY_WR	0xF8		/* MLT bits 7:3; the count granularity is 8 */
/*
 * PAM0-PAM6 at 0x59-0x5F give read/write enables for 16 KiB to 64 KiB
 * regions of 0xC0000-0xFFFFF (bits 1:0 and 5:4; bits 6 and 2 are reserved
 * on the 82441FX, as is PAM0's low nibble).  SMRAM at 0x72: D_OPEN, D_CLS,
 * D_LCK and G_SMRAME writable, C_BASE_SEG hardwired to 010b (0xA0000).
 * XXX: both are stored and ignored: bt's guest RAM is RAM everywhere below
 * 1 MiB (as if every PAM region were read/write DRAM; there is no BIOS ROM
 * to shadow), there is no SMM, and D_LCK does not lock anything.
 * The other device-specific registers (DRAM control, row boundaries,
 * error reporting) read 0 and ignore writes.
 */
#define PMC_PAM0	0x59
#define PMC_PAM_COUNT	7
#define PMC_PAM0_WR	0x30
#define PMC_PAM_WR	0x33
#define PMC_SMRAM	0x72
#define PMC_SMRAM_INIT	0x02
#define PMC_SMRAM_WR	0x78

/* One function's configuration space: its bytes and, per byte, the bits
 * software may change (the rest are hardwired or read-only). */
struct pci_function {
	uint8_t cfg[CFG_SIZE];
	uint8_t wmask[CFG_SIZE];
};

struct devices_pci {
	uint32_t config_address;
	struct pci_function host;	/* 00:00.0 */
	struct devices_bus *bus;
	const struct devices_machine *m;	/* may be NULL; for functions' INTx later */
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void host_bridge_reset(struct pci_function *f)
{
	memset(f, 0, sizeof(*f));
	put16(&f->cfg[CFG_VENDOR], PMC_VENDOR);
	put16(&f->cfg[CFG_DEVICE], PMC_DEVICE);
	put16(&f->cfg[CFG_COMMAND], PMC_COMMAND);
	put16(&f->wmask[CFG_COMMAND], PMC_COMMAND_WR);
	put16(&f->cfg[CFG_STATUS], PMC_STATUS);
	f->cfg[CFG_REVISION] = PMC_REVISION;
	f->cfg[CFG_CLASS] = (uint8_t)PMC_CLASS;
	f->cfg[CFG_CLASS + 1] = (uint8_t)(PMC_CLASS >> 8);
	f->cfg[CFG_CLASS + 2] = (uint8_t)(PMC_CLASS >> 16);
	f->wmask[CFG_LATENCY] = PMC_LATENCY_WR;
	f->cfg[CFG_HEADER_TYPE] = 0x00;	/* type 0, single function */
	f->wmask[PMC_PAM0] = PMC_PAM0_WR;
	for (int i = 1; i < PMC_PAM_COUNT; i++)
		f->wmask[PMC_PAM0 + i] = PMC_PAM_WR;
	f->cfg[PMC_SMRAM] = PMC_SMRAM_INIT;
	f->wmask[PMC_SMRAM] = PMC_SMRAM_WR;
}

/*
 * The function CONFIG_ADDRESS selects, or NULL: the window is disabled
 * (then 0xCFC-0xCFF are ordinary I/O ports nothing answers), or no device
 * answers the configuration cycle (master abort).  Either way reads are all
 * ones and writes vanish.  Bus 0 has no PCI-to-PCI bridge, so a type 1
 * cycle to any other bus is never claimed either.
 */
static struct pci_function *pci_selected(struct devices_pci *p)
{
	uint32_t a = p->config_address;

	if (!(a & CA_ENABLE) || CA_BUS(a) != 0)
		return NULL;
	if (CA_DEVFN(a) == 0)
		return &p->host;
	return NULL;
}

/* CONFIG_ADDRESS answers only dword accesses (§3.2.2.3.2): anything
 * narrower is an ordinary I/O cycle that no device claims, so it reads
 * all ones and writes are dropped.  Linux's pci_check_type1 relies on a
 * byte write to 0xCFB leaving the register alone. */
static uint32_t address_read(void *s, uint16_t offset, int size)
{
	struct devices_pci *p = s;

	(void)offset;
	return size == 4 ? p->config_address : 0xFFFFFFFFu;
}

static void address_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_pci *p = s;

	(void)offset;
	if (size == 4)
		p->config_address = value & CA_WRITABLE;
}

/* Byte `offset + i` of the data window is configuration byte
 * CA_REG + offset + i; bytes past 0xCFF (an access straddling the end of
 * the window) are not the bridge's and float. */
static uint32_t data_read(void *s, uint16_t offset, int size)
{
	struct devices_pci *p = s;
	struct pci_function *f = pci_selected(p);
	uint32_t v = 0;

	for (int i = 0; i < size; i++) {
		unsigned at = (unsigned)offset + (unsigned)i;
		uint8_t b = 0xFF;

		if (f && at < CONFIG_DATA_LEN)
			b = f->cfg[CA_REG(p->config_address) + at];
		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

static void data_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_pci *p = s;
	struct pci_function *f = pci_selected(p);

	if (!f)
		return;
	for (int i = 0; i < size; i++) {
		unsigned at = (unsigned)offset + (unsigned)i;
		unsigned reg = CA_REG(p->config_address) + at;
		uint8_t b = (uint8_t)(value >> (8 * i));

		if (at >= CONFIG_DATA_LEN)
			break;
		f->cfg[reg] = (uint8_t)((f->cfg[reg] & ~f->wmask[reg]) | (b & f->wmask[reg]));
	}
}

static void pci_reset(void *s)
{
	struct devices_pci *p = s;

	p->config_address = 0;
	host_bridge_reset(&p->host);
}

/* The two ranges leave 0xCF9-0xCFB free: 0xCF9 is the reset control
 * register (devices/acpi.c), and byte cycles to 0xCFA-0xCFB are not the
 * host bridge's.  Reset is on one range only, so a bus reset does it once. */
static const struct devices_ops address_ops = {
	.name = "pci-config-address",
	.read = address_read,
	.write = address_write,
	.reset = pci_reset,
};

static const struct devices_ops data_ops = {
	.name = "pci-config-data",
	.read = data_read,
	.write = data_write,
};

struct devices_pci *devices_pci_create(struct devices_bus *bus, const struct devices_machine *m)
{
	struct devices_pci *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return NULL;
	p->bus = bus;
	p->m = m;
	pci_reset(p);
	ret = devices_bus_register(bus, CONFIG_ADDRESS_PORT, 1, &address_ops, p);
	if (ret < 0)
		goto out_free;
	ret = devices_bus_register(bus, CONFIG_DATA_PORT, CONFIG_DATA_LEN, &data_ops, p);
	if (ret < 0)
		goto out_address;
	return p;

out_address:
	devices_bus_unregister(bus, CONFIG_ADDRESS_PORT);
out_free:
	free(p);
	errno = -ret;
	return NULL;
}

void devices_pci_destroy(struct devices_pci *p)
{
	if (!p)
		return;
	devices_bus_unregister(p->bus, CONFIG_DATA_PORT);
	devices_bus_unregister(p->bus, CONFIG_ADDRESS_PORT);
	free(p);
}
