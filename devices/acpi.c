/* devices/acpi.c: ACPI fixed hardware (PM1 event and control registers, PM timer) at 0x600, the reset control register at 0xCF9, and the tables that describe them. */
#include "devices/devices.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * References: ACPI Specification 6.0, §4.8.3 (fixed hardware registers),
 * §5.2 (tables), §6.4 (resource descriptors), §7.4.2 (\_Sx), §20.2 (AML
 * encoding); Intel 82371SB (PIIX3) datasheet, Reset Control Register (I/O
 * 0CF9h).
 *
 * Why the hardware and its tables share a file: the FADT and the DSDT are
 * nothing but a description of the port blocks below and of the sleep type
 * that PM1a_CNT acts on, so the numbers live in one place.
 *
 * The platform is "ACPI only": SMI_CMD is 0, so there is no legacy mode to
 * switch from, and SCI_EN reads 1 whatever is written (ACPI 6.0 §4.8.3.2.1,
 * §5.2.9 SMI_CMD).  There are no GPE blocks, no fixed power or sleep
 * button, and no processor C2/C3.  The virtual CPU has no local APIC, so
 * there is no MADT: the OS runs the 8259A pair in PIC mode and takes the
 * SCI on ISA IRQ 9.
 */

/* ---- the fixed hardware ---- */

/*
 * One block of ports, like a chipset's PMBASE:
 *   +0 PM1a_STS (2)   +2 PM1a_EN (2)   +4 PM1a_CNT (2)   +6 nothing (2)
 *   +8 PM_TMR (4)
 * PM1_EVT_LEN is 4 (status then enable, §4.8.3.1), PM1_CNT_LEN 2, PM_TMR_LEN 4.
 */
#define PM_BASE		0x600
#define PM_LEN		12
#define PM1_EVT_OFF	0
#define PM1_CNT_OFF	4
#define PM_TMR_OFF	8
#define PM1_EVT_LEN	4
#define PM1_CNT_LEN	2
#define PM_TMR_LEN	4

/* PM1 status and enable bits (§4.8.3.1.1, §4.8.3.1.2): each enable bit sits
 * at its status bit.  Only TMR_STS is ever set here: the global lock has no
 * firmware owner, and there are no buttons, RTC alarm wake or PCIe wake. */
#define PM1_TMR		0x0001
#define PM1_GBL		0x0020
#define PM1_PWRBTN	0x0100
#define PM1_SLPBTN	0x0200
#define PM1_RTC		0x0400
#define PM1_PCIEXP_WAKE	0x4000		/* _STS, and _DIS in the enable register */
#define PM1_WAK_STS	0x8000
#define PM1_STS_W1C	(PM1_TMR | 0x0010 /* BM_STS */ | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | \
			 PM1_RTC | PM1_PCIEXP_WAKE | PM1_WAK_STS)
#define PM1_EN_BITS	(PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC | PM1_PCIEXP_WAKE)
/* The events that raise the SCI when both their status and enable are set. */
#define PM1_SCI_EVENTS	(PM1_TMR | PM1_GBL | PM1_PWRBTN | PM1_SLPBTN | PM1_RTC)

/* PM1 control bits (§4.8.3.2.1).  GBL_RLS and SLP_EN are write-only and
 * read 0; SLP_TYP reads back what was written. */
#define CNT_SCI_EN	0x0001
#define CNT_BM_RLD	0x0002
#define CNT_GBL_RLS	0x0004
#define CNT_SLP_TYP	0x1C00
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_EN	0x2000
#define CNT_STORED	(CNT_BM_RLD | CNT_SLP_TYP)

/* The SLP_TYP value of S5 (soft off): the DSDT's \_S5 package gives it to
 * the OS, and PM1a_CNT powers off when SLP_EN is written with it.  There is
 * one PM1 control block, so SLP_TYPb (the package's second value) is the
 * same and unused. */
#define S5_SLP_TYP	5

/* The PM timer (§4.8.3.3): 3.579545 MHz (the 14.31818 MHz clock / 4),
 * 24 bits wide (FADT TMR_VAL_EXT = 0, which every OS handles; Linux masks
 * it to 24 bits anyway).  TMR_STS is set each time bit 23 toggles. */
#define PMTMR_HZ	3579545u
#define PMTMR_MASK	0xFFFFFFu
#define PMTMR_MSB_SHIFT	23
#define NS_PER_S	1000000000u

#define SCI_IRQ		9

/* The PIIX3 reset control register: bit 1 picks a hard reset, a write with
 * bit 2 (RCPU) set starts the reset.  RCPU reads 0, as the reset it starts
 * clears it, so every write with it set is a 0 -> 1 transition. */
#define RESET_PORT	0xCF9
#define RC_SRST		0x02
#define RC_RCPU		0x04
#define RESET_VALUE	(RC_SRST | RC_RCPU)	/* the FADT's RESET_VALUE */

/*
 * The registers, and how much of the timer's history TMR_STS has seen:
 * status bits are sticky, so the timer's toggles are folded into pm1_sts
 * lazily, whenever the guest looks or the SCI timer fires.
 */
struct devices_acpi {
	uint16_t pm1_sts, pm1_en, pm1_cnt;
	uint64_t tmr_toggles;		/* bit-23 toggles folded into TMR_STS */
	int sci;			/* the level last driven on IRQ 9 */
	uint8_t reset_ctl;
	bool warned_sleep;
	uint64_t ignored_sleeps;	/* SLP_EN with a type other than S5 */
	struct devices_timer timer;	/* the SCI for TMR_STS, when TMR_EN */
	struct devices_bus *bus;
	const struct devices_machine *m;	/* may be NULL; must outlive the device */
};

static uint64_t pmtmr_ticks(uint64_t ns)
{
	return ns / NS_PER_S * PMTMR_HZ + ns % NS_PER_S * PMTMR_HZ / NS_PER_S;
}

/* The first nanosecond at which pmtmr_ticks reaches `ticks`. */
static uint64_t pmtmr_ns(uint64_t ticks)
{
	uint64_t q = ticks / PMTMR_HZ, r = ticks % PMTMR_HZ;

	if (q >= DEVICES_NEVER / NS_PER_S - 1)
		return DEVICES_NEVER;
	return q * NS_PER_S + (r * NS_PER_S + PMTMR_HZ - 1) / PMTMR_HZ;
}

static uint64_t acpi_now(const struct devices_acpi *a)
{
	return a->m && a->m->now_ns ? a->m->now_ns(a->m->ctx) : 0;
}

/*
 * Bring the registers up to `now`, then recompute what follows from them:
 * the SCI level and the timer, armed for the next bit-23 toggle only while
 * that toggle would raise the SCI (TMR_EN set, TMR_STS still clear).
 */
static void acpi_update(struct devices_acpi *a, uint64_t now)
{
	uint64_t toggles = pmtmr_ticks(now) >> PMTMR_MSB_SHIFT;
	int level;

	if (toggles != a->tmr_toggles) {
		a->pm1_sts |= PM1_TMR;
		a->tmr_toggles = toggles;
	}
	/* SCI_EN is always 1, so enabled events go to the SCI, never to SMI. */
	level = (a->pm1_sts & a->pm1_en & PM1_SCI_EVENTS) != 0;
	if (level != a->sci) {
		a->sci = level;
		if (a->m && a->m->set_irq)
			a->m->set_irq(a->m->ctx, SCI_IRQ, level);
	}
	if ((a->pm1_en & PM1_TMR) && !(a->pm1_sts & PM1_TMR))
		a->timer.deadline = pmtmr_ns((toggles + 1) << PMTMR_MSB_SHIFT);
	else
		a->timer.deadline = DEVICES_NEVER;
}

static void acpi_fire(void *s, uint64_t now)
{
	acpi_update(s, now);
}

/*
 * SLP_EN written: enter the sleep state SLP_TYP names (§4.8.3.2.1,
 * §7.4.2).  S5 ends bt with status 0, the guest having powered off.  Other
 * types are ignored: the DSDT offers no other \_Sx, so an OS that follows
 * it never asks, and bt cannot give back the CPU context that S1-S4 keep.
 */
static void acpi_sleep(struct devices_acpi *a, unsigned slp_typ)
{
	if (slp_typ == S5_SLP_TYP) {
		if (a->m && a->m->request_exit)
			a->m->request_exit(a->m->ctx, 0);
		return;
	}
	a->ignored_sleeps++;
	if (!a->warned_sleep) {
		a->warned_sleep = true;
		fprintf(stderr, "bt: acpi: the guest asked for sleep type %u; only %u (S5, "
			"soft off) is implemented, ignoring it\n", slp_typ, S5_SLP_TYP);
	}
}

/* The block as the guest reads it, byte by byte. */
static void pm_image(const struct devices_acpi *a, uint64_t now, uint8_t img[PM_LEN])
{
	uint32_t tmr = (uint32_t)(pmtmr_ticks(now) & PMTMR_MASK);
	uint16_t cnt = (uint16_t)(a->pm1_cnt | CNT_SCI_EN);

	img[0] = (uint8_t)a->pm1_sts;
	img[1] = (uint8_t)(a->pm1_sts >> 8);
	img[2] = (uint8_t)a->pm1_en;
	img[3] = (uint8_t)(a->pm1_en >> 8);
	img[4] = (uint8_t)cnt;
	img[5] = (uint8_t)(cnt >> 8);
	img[6] = 0xFF;		/* nothing decodes +6 and +7: they float */
	img[7] = 0xFF;
	for (int i = 0; i < 4; i++)
		img[PM_TMR_OFF + i] = (uint8_t)(tmr >> (8 * i));
}

/* The registers are 16 and 32 bits wide but the OS may use any width
 * (ACPICA uses the widths the FADT gives; byte accesses are legal for PM1).
 * A read takes one snapshot, so a dword timer read is coherent. */
static uint32_t pm_read(void *s, uint16_t offset, int size)
{
	struct devices_acpi *a = s;
	uint64_t now = acpi_now(a);
	uint8_t img[PM_LEN];
	uint32_t v = 0;

	acpi_update(a, now);
	pm_image(a, now, img);
	for (int i = 0; i < size; i++) {
		unsigned at = (unsigned)offset + (unsigned)i;

		v |= (uint32_t)(at < PM_LEN ? img[at] : 0xFF) << (8 * i);
	}
	return v;
}

/* The block's 16-bit registers, by index (offset / 2); the PM timer's two
 * halves are read-only. */
enum { REG_STS = PM1_EVT_OFF / 2, REG_EN = REG_STS + 1, REG_CNT = PM1_CNT_OFF / 2,
       REG_NREGS = PM_LEN / 2 };

/* A write is gathered per 16-bit register (value and which bytes were
 * written), then each register takes it with its own semantics. */
static void pm_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_acpi *a = s;
	uint16_t val[REG_NREGS] = { 0 }, mask[REG_NREGS] = { 0 };

	for (int i = 0; i < size; i++) {
		unsigned at = (unsigned)offset + (unsigned)i;
		unsigned shift = 8 * (at & 1);

		if (at >= PM_LEN)
			break;
		val[at / 2] |= (uint16_t)(((value >> (8 * i)) & 0xFF) << shift);
		mask[at / 2] |= (uint16_t)(0xFF << shift);
	}
	/* Timer toggles before the write are status a write-1 clears. */
	acpi_update(a, acpi_now(a));
	a->pm1_sts &= (uint16_t)~(val[REG_STS] & mask[REG_STS] & PM1_STS_W1C);
	a->pm1_en = (uint16_t)((a->pm1_en & ~mask[REG_EN]) |
			       (val[REG_EN] & mask[REG_EN] & PM1_EN_BITS));
	a->pm1_cnt = (uint16_t)((a->pm1_cnt & ~mask[REG_CNT]) |
				(val[REG_CNT] & mask[REG_CNT] & CNT_STORED));
	/* GBL_RLS tells firmware the OS released the global lock; no firmware
	 * waits for it. */
	acpi_update(a, acpi_now(a));
	if (val[REG_CNT] & mask[REG_CNT] & CNT_SLP_EN)
		acpi_sleep(a, (a->pm1_cnt & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT);
}

/* Power-on state; the PM timer runs on, from the machine's clock. */
static void pm_reset(void *s)
{
	struct devices_acpi *a = s;
	uint64_t now = acpi_now(a);

	a->pm1_sts = 0;
	a->pm1_en = 0;
	a->pm1_cnt = 0;
	a->tmr_toggles = pmtmr_ticks(now) >> PMTMR_MSB_SHIFT;
	acpi_update(a, now);
}

static uint32_t reset_ctl_read(void *s, uint16_t offset, int size)
{
	struct devices_acpi *a = s;

	(void)offset;
	/* One port: wider reads see 0xCFA-0xCFC float, whatever sits there. */
	return (size == 1 ? 0 : size == 2 ? 0xFF00u : 0xFFFFFF00u) | a->reset_ctl;
}

/* XXX: hard (SRST = 1) and soft (INIT only) resets both reset the whole
 * machine: bt has no separate INIT. */
static void reset_ctl_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_acpi *a = s;

	(void)offset;
	(void)size;
	a->reset_ctl = (uint8_t)(value & RC_SRST);
	if ((value & RC_RCPU) && a->m && a->m->request_reset)
		a->m->request_reset(a->m->ctx);
}

static void reset_ctl_reset(void *s)
{
	((struct devices_acpi *)s)->reset_ctl = 0;
}

static const struct devices_ops pm_ops = {
	.name = "acpi-pm",
	.read = pm_read,
	.write = pm_write,
	.reset = pm_reset,
};

static const struct devices_ops reset_ctl_ops = {
	.name = "reset-control",
	.read = reset_ctl_read,
	.write = reset_ctl_write,
	.reset = reset_ctl_reset,
};

struct devices_acpi *devices_acpi_create(struct devices_bus *bus, const struct devices_machine *m)
{
	struct devices_acpi *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return NULL;
	a->bus = bus;
	a->m = m;
	a->timer = (struct devices_timer){
		.deadline = DEVICES_NEVER, .fire = acpi_fire, .s = a, .name = "acpi-pm",
	};
	pm_reset(a);
	ret = devices_bus_register(bus, PM_BASE, PM_LEN, &pm_ops, a);
	if (ret < 0)
		goto out_free;
	ret = devices_bus_register(bus, RESET_PORT, 1, &reset_ctl_ops, a);
	if (ret < 0)
		goto out_pm;
	ret = devices_bus_add_timer(bus, &a->timer);
	if (ret < 0)
		goto out_reset_ctl;
	return a;

out_reset_ctl:
	devices_bus_unregister(bus, RESET_PORT);
out_pm:
	devices_bus_unregister(bus, PM_BASE);
out_free:
	free(a);
	errno = -ret;
	return NULL;
}

void devices_acpi_destroy(struct devices_acpi *a)
{
	if (!a)
		return;
	devices_bus_remove_timer(a->bus, &a->timer);
	devices_bus_unregister(a->bus, RESET_PORT);
	devices_bus_unregister(a->bus, PM_BASE);
	free(a);
}

/* ---- the tables ---- */

/*
 * Layout inside [DEVICES_ACPI_TABLES_BASE, + DEVICES_ACPI_TABLES_SIZE).
 * The RSDP must sit on a 16-byte boundary in 0xE0000-0xFFFFF, where an OS
 * without firmware help scans for it (§5.2.5.1); the FACS on a 64-byte
 * boundary (§5.2.10).  RSDP revision 0 points to an RSDT with 32-bit
 * entries (§5.2.5.3, §5.2.7): everything is below 4 GiB, so an XSDT would
 * add nothing, and every ACPI OS reads an RSDT.
 */
#define RSDP_OFF	0x000
#define FACS_OFF	0x040
#define RSDT_OFF	0x080
#define FADT_OFF	0x0C0
#define DSDT_OFF	0x1C0
#define RSDP_LEN	20		/* revision 0: no length or XSDT fields */
#define FACS_LEN	64
#define HDR_LEN		36		/* the System Description Table Header, §5.2.6 */
#define RSDT_LEN	(HDR_LEN + 4)	/* one entry: the FADT */
/*
 * FADT revision 4 (the ACPI 3.0 layout, 244 bytes): Linux reads RESET_REG
 * only from revision 2 and the 8042 boot flag only from revision 3 (its
 * FADT2_REVISION_ID), the MSI and VGA boot flags are revision 4's, and
 * nothing bt has needs the later fields (SLEEP_CONTROL_REG and
 * SLEEP_STATUS_REG are for hardware-reduced platforms).
 */
#define FADT_LEN	244
#define FADT_REV	4
#define DSDT_REV	2		/* 64-bit AML integers */
#define DSDT_MAX	(DEVICES_ACPI_TABLES_SIZE - DSDT_OFF)

#define OEM_ID		"BT    "	/* 6 bytes */
#define OEM_TABLE_ID	"BTPC    "	/* 8 bytes */
#define OEM_REVISION	1
#define CREATOR_ID	"BT  "
#define CREATOR_REVISION 1

/* FADT offsets (§5.2.9). */
enum {
	FADT_FIRMWARE_CTRL = 36,
	FADT_DSDT = 40,
	FADT_SCI_INT = 46,
	FADT_SMI_CMD = 48,
	FADT_PM1A_EVT_BLK = 56,
	FADT_PM1A_CNT_BLK = 64,
	FADT_PM_TMR_BLK = 76,
	FADT_PM1_EVT_LEN = 88,
	FADT_PM1_CNT_LEN = 89,
	FADT_PM_TMR_LEN = 91,
	FADT_P_LVL2_LAT = 96,
	FADT_P_LVL3_LAT = 98,
	FADT_CENTURY = 108,
	FADT_IAPC_BOOT_ARCH = 109,
	FADT_FLAGS = 112,
	FADT_RESET_REG = 116,
	FADT_RESET_VALUE = 128,
};

/* Latencies above 100 and 1000 us say C2 and C3 are not supported. */
#define NO_C2_LATENCY	101
#define NO_C3_LATENCY	1001
/* The CMOS index of the century byte, which bt's RTC keeps (the IBM PC/AT
 * convention); Linux reads the century from there when the FADT names it. */
#define RTC_CENTURY_INDEX 0x32

/* IA-PC boot architecture flags (§5.2.9.3): there are ISA devices (COM1, the
 * PIT, ...) and an i8042, no VGA (bt's console is the serial port), and no
 * MSI since there is no local APIC to receive it. */
#define BOOT_LEGACY_DEVICES	0x0001
#define BOOT_8042		0x0002
#define BOOT_VGA_NOT_PRESENT	0x0004
#define BOOT_MSI_NOT_SUPPORTED	0x0008

/* Fixed feature flags (§5.2.9): WBINVD works (bt does emulate it); C1 is
 * HLT; the power and sleep buttons are not fixed hardware (there are none);
 * RTC wake status is not in PM1; the reset register is supported.
 * TMR_VAL_EXT stays 0 (24-bit timer), HW_REDUCED_ACPI 0. */
#define FLAG_WBINVD		(1u << 0)
#define FLAG_PROC_C1		(1u << 2)
#define FLAG_PWR_BUTTON		(1u << 4)
#define FLAG_SLP_BUTTON		(1u << 5)
#define FLAG_FIX_RTC		(1u << 6)
#define FLAG_RESET_REG_SUP	(1u << 10)

/* Generic Address Structure (§5.2.3.2): the reset register is one byte in
 * system I/O space, accessed as a byte (access size 1). */
#define GAS_SYSTEM_IO	1
#define GAS_ACCESS_BYTE	1

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

/* The value that makes bytes [0, n) of p sum to 0 (mod 256) when stored in
 * a byte of p that currently holds 0. */
static uint8_t checksum_byte(const uint8_t *p, size_t n)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < n; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0x100 - sum);
}

static void sdt_header(uint8_t *t, const char sig[4], uint32_t len, uint8_t rev)
{
	memcpy(t, sig, 4);
	put32(t + 4, len);
	t[8] = rev;
	memcpy(t + 10, OEM_ID, 6);
	memcpy(t + 16, OEM_TABLE_ID, 8);
	put32(t + 24, OEM_REVISION);
	memcpy(t + 28, CREATOR_ID, 4);
	put32(t + 32, CREATOR_REVISION);
}

/* Byte 9 of every table is its checksum: the whole table sums to 0. */
static void sdt_checksum(uint8_t *t, uint32_t len)
{
	t[9] = 0;
	t[9] = checksum_byte(t, len);
}

static uint32_t gpa(uint32_t off)
{
	return DEVICES_ACPI_TABLES_BASE + off;
}

static void build_rsdp(uint8_t *p)
{
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, OEM_ID, 6);
	p[15] = 0;			/* revision 0: ACPI 1.0 RSDP, RSDT only */
	put32(p + 16, gpa(RSDT_OFF));
	p[8] = checksum_byte(p, RSDP_LEN);
}

static void build_rsdt(uint8_t *t)
{
	sdt_header(t, "RSDT", RSDT_LEN, 1);
	put32(t + HDR_LEN, gpa(FADT_OFF));
	sdt_checksum(t, RSDT_LEN);
}

/* The FACS: no checksum, no firmware waking vector (there is no S3 to wake
 * from), and a global lock that no firmware ever takes.  Version 1 is the
 * ACPI 2.0-3.0 layout, matching the FADT. */
static void build_facs(uint8_t *t)
{
	memcpy(t, "FACS", 4);
	put32(t + 4, FACS_LEN);
	t[32] = 1;
}

static void gas_io(uint8_t *p, uint8_t bit_width, uint8_t access, uint64_t port)
{
	p[0] = GAS_SYSTEM_IO;
	p[1] = bit_width;
	p[2] = 0;			/* bit offset */
	p[3] = access;
	put64(p + 4, port);
}

/* Only the 32-bit block addresses are filled in: the X_ fields stay 0,
 * which tells the OS to use them (§5.2.9), and ACPICA builds its X_ view
 * from them. */
static void build_fadt(uint8_t *t)
{
	sdt_header(t, "FACP", FADT_LEN, FADT_REV);
	put32(t + FADT_FIRMWARE_CTRL, gpa(FACS_OFF));
	put32(t + FADT_DSDT, gpa(DSDT_OFF));
	put16(t + FADT_SCI_INT, SCI_IRQ);
	put32(t + FADT_SMI_CMD, 0);	/* no SMM: ACPI is always enabled */
	put32(t + FADT_PM1A_EVT_BLK, PM_BASE + PM1_EVT_OFF);
	put32(t + FADT_PM1A_CNT_BLK, PM_BASE + PM1_CNT_OFF);
	put32(t + FADT_PM_TMR_BLK, PM_BASE + PM_TMR_OFF);
	t[FADT_PM1_EVT_LEN] = PM1_EVT_LEN;
	t[FADT_PM1_CNT_LEN] = PM1_CNT_LEN;
	t[FADT_PM_TMR_LEN] = PM_TMR_LEN;
	put16(t + FADT_P_LVL2_LAT, NO_C2_LATENCY);
	put16(t + FADT_P_LVL3_LAT, NO_C3_LATENCY);
	t[FADT_CENTURY] = RTC_CENTURY_INDEX;
	put16(t + FADT_IAPC_BOOT_ARCH, BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT |
				       BOOT_MSI_NOT_SUPPORTED);
	put32(t + FADT_FLAGS, FLAG_WBINVD | FLAG_PROC_C1 | FLAG_PWR_BUTTON | FLAG_SLP_BUTTON |
			      FLAG_FIX_RTC | FLAG_RESET_REG_SUP);
	gas_io(t + FADT_RESET_REG, 8, GAS_ACCESS_BYTE, RESET_PORT);
	t[FADT_RESET_VALUE] = RESET_VALUE;
	sdt_checksum(t, FADT_LEN);
}

/* ---- AML for the DSDT (§20.2) ---- */

/* AML opcodes and prefixes used below (§20.2.2-§20.2.5). */
#define AML_ZERO	0x00	/* ZeroOp */
#define AML_ONE		0x01	/* OneOp */
#define AML_NAME	0x08	/* NameOp: DefName := NameOp NameString DataRefObject */
#define AML_BYTE	0x0A	/* BytePrefix ByteData */
#define AML_WORD	0x0B	/* WordPrefix WordData */
#define AML_DWORD	0x0C	/* DWordPrefix DWordData */
#define AML_SCOPE	0x10	/* ScopeOp PkgLength NameString TermList */
#define AML_BUFFER	0x11	/* BufferOp PkgLength BufferSize ByteList */
#define AML_PACKAGE	0x12	/* PackageOp PkgLength NumElements PackageElementList */
#define AML_EXT	0x5B	/* ExtOpPrefix */
#define AML_DEVICE	0x82	/* after ExtOpPrefix: DeviceOp PkgLength NameString TermList */

/* The AML being written: bytes in a fixed buffer; running past its end
 * is a bug in this file (the DSDT's content is fixed), hence the assert. */
struct aml {
	uint8_t *b;
	size_t n, cap;
};

static void aml_bytes(struct aml *a, const void *p, size_t len)
{
	assert(len <= a->cap - a->n);
	memcpy(a->b + a->n, p, len);
	a->n += len;
}

static void aml_byte(struct aml *a, uint8_t v)
{
	aml_bytes(a, &v, 1);
}

/* A NameSeg is exactly 4 characters, short names padded with '_' (§20.2.2). */
static void aml_nameseg(struct aml *a, const char seg[4])
{
	aml_bytes(a, seg, 4);
}

/* The shortest Integer encoding (§20.2.3): ZeroOp, OneOp or a prefix. */
static void aml_integer(struct aml *a, uint32_t v)
{
	uint8_t le[4];

	put32(le, v);
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xFF) {
		aml_byte(a, AML_BYTE);
		aml_bytes(a, le, 1);
	} else if (v <= 0xFFFF) {
		aml_byte(a, AML_WORD);
		aml_bytes(a, le, 2);
	} else {
		aml_byte(a, AML_DWORD);
		aml_bytes(a, le, 4);
	}
}

/* A PkgLength goes before its package's contents but counts them, so an
 * opcode with one is written as: the opcode, pos = aml_open(), the
 * contents, aml_close(pos), which slides the contents to make room. */
static size_t aml_open(const struct aml *a)
{
	return a->n;
}

/*
 * PkgLength (§20.2.4) counts its own bytes too.  Up to 63 it is one byte
 * holding the length.  Above, the lead byte's bits 7:6 say how many bytes
 * follow (1-3) and its bits 3:0 hold the low nibble of the length; the
 * following bytes hold the rest, least significant first.  Everything here
 * is shorter than DSDT_MAX, under 4 KiB, so one following byte suffices.
 */
static void aml_close(struct aml *a, size_t pos)
{
	size_t body = a->n - pos;
	size_t k = body + 1 <= 0x3F ? 1 : 2;
	size_t total = body + k;

	assert(total <= 0xFFF && k <= a->cap - a->n);
	memmove(a->b + pos + k, a->b + pos, body);
	a->n += k;
	if (k == 1) {
		a->b[pos] = (uint8_t)total;
	} else {
		a->b[pos] = (uint8_t)(0x40 | (total & 0xF));
		a->b[pos + 1] = (uint8_t)(total >> 4);
	}
}

/*
 * Name (_S5, Package (0x04) { 0x05, 0x05, Zero, Zero }) (§7.4.2.6): SLP_TYPa,
 * SLP_TYPb and two reserved values.  Encoded:
 *   08           NameOp
 *   5F 53 35 5F  NameSeg "_S5_" (the name padded to 4 with '_')
 *   12           PackageOp
 *   08           PkgLength: 8 bytes, itself included
 *   04           NumElements
 *   0A 05        BytePrefix 5 (SLP_TYPa)
 *   0A 05        BytePrefix 5 (SLP_TYPb)
 *   00 00        ZeroOp, ZeroOp
 */
static void aml_s5(struct aml *a)
{
	size_t pkg;

	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_S5_");
	aml_byte(a, AML_PACKAGE);
	pkg = aml_open(a);
	aml_byte(a, 4);
	aml_integer(a, S5_SLP_TYP);
	aml_integer(a, S5_SLP_TYP);
	aml_integer(a, 0);
	aml_integer(a, 0);
	aml_close(a, pkg);
}

/* Resource descriptors (§6.4), little-endian.  General flags 0x0C: the
 * bridge produces the range (bit 0 clear), positive decode, minimum and
 * maximum fixed. */
#define RES_IO_PORT		0x47	/* small item, 7 bytes follow: I/O port (§6.4.2.5) */
#define RES_END_TAG		0x79	/* small item, 1 byte follows: end tag (§6.4.2.9) */
#define RES_DWORD_ADDR		0x87	/* large item: DWord address space (§6.4.3.5.2) */
#define RES_WORD_ADDR		0x88	/* large item: Word address space (§6.4.3.5.3) */
#define RES_TYPE_MEM		0
#define RES_TYPE_IO		1
#define RES_TYPE_BUS		2
#define RES_PRODUCER_FIXED	0x0C
#define RES_IO_ENTIRE_RANGE	0x03	/* _RNG: ISA and non-ISA ports */
#define RES_MEM_RW		0x01	/* read/write, non-cacheable */

static void res_word(struct aml *a, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
	uint8_t d[16] = { RES_WORD_ADDR, 13, 0, type, RES_PRODUCER_FIXED, tflags };

	put16(d + 6, 0);		/* granularity */
	put16(d + 8, min);
	put16(d + 10, max);
	put16(d + 12, 0);		/* translation offset */
	put16(d + 14, (uint16_t)(max - min + 1));
	aml_bytes(a, d, sizeof(d));
}

static void res_dword_mem(struct aml *a, uint32_t min, uint32_t max)
{
	uint8_t d[26] = { RES_DWORD_ADDR, 23, 0, RES_TYPE_MEM, RES_PRODUCER_FIXED, RES_MEM_RW };

	put32(d + 6, 0);
	put32(d + 10, min);
	put32(d + 14, max);
	put32(d + 18, 0);
	put32(d + 22, max - min + 1);
	aml_bytes(a, d, sizeof(d));
}

/* IO (Decode16, port, port, 1, len): a fixed range the device consumes. */
static void res_io(struct aml *a, uint16_t port, uint8_t len)
{
	uint8_t d[8] = { RES_IO_PORT, 0x01 /* 16-bit decode */ };

	put16(d + 2, port);
	put16(d + 4, port);
	d[6] = 1;			/* alignment */
	d[7] = len;
	aml_bytes(a, d, sizeof(d));
}

#define PCI_CONFIG_PORT	0xCF8
#define PCI_CONFIG_LEN	8
/* PCI memory goes from the end of RAM up to 0xFEC00000, where PCs keep the
 * I/O APIC, the local APIC and the BIOS ROM (none of them in bt today). */
#define PCI_MMIO_END	0xFEC00000u
#define PCI_MMIO_ALIGN	0x100000u

/*
 * Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03"))
 * Name (_UID, Zero) Name (_CRS, ResourceTemplate () { ... }) } }
 *
 * With ACPI, Linux scans PCI buses only below a PNP0A03 root bridge in the
 * namespace (pci_acpi_init then skips the legacy scan of bus 0), so this
 * is what makes the 440FX and later PCI devices visible.  _CRS gives the
 * bridge's windows (§6.4.3.5): buses 0-255, the config ports it consumes,
 * all other I/O ports, and the memory above RAM.  No _PRT yet: no PCI
 * function has an interrupt pin.
 */
static void aml_pci0(struct aml *a, size_t ram_size)
{
	/* EisaId ("PNP0A03"): three 5-bit letters ('A' = 1) and four hex
	 * digits, stored big-endian (§6.1.5): 41 D0 0A 03. */
	static const uint8_t pnp0a03[4] = { 0x41, 0xD0, 0x0A, 0x03 };
	uint64_t mmio = ((uint64_t)ram_size + PCI_MMIO_ALIGN - 1) & ~(uint64_t)(PCI_MMIO_ALIGN - 1);
	size_t scope, dev, buf, size_at;
	uint8_t end[2] = { RES_END_TAG, 0 };	/* checksum 0: "treat as correct" */
	struct aml res;
	uint8_t rbuf[128];

	res = (struct aml){ .b = rbuf, .cap = sizeof(rbuf) };
	res_word(&res, RES_TYPE_BUS, 0, 0x00, 0xFF);
	res_io(&res, PCI_CONFIG_PORT, PCI_CONFIG_LEN);
	res_word(&res, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, 0x0000, PCI_CONFIG_PORT - 1);
	res_word(&res, RES_TYPE_IO, RES_IO_ENTIRE_RANGE, PCI_CONFIG_PORT + PCI_CONFIG_LEN,
		 0xFFFF);
	if (mmio < PCI_MMIO_END)
		res_dword_mem(&res, (uint32_t)mmio, PCI_MMIO_END - 1);
	aml_bytes(&res, end, sizeof(end));

	/* "_SB_" alone: the DSDT's code runs in the root scope, so it is
	 * \_SB without the RootChar (and iasl writes it so too). */
	aml_byte(a, AML_SCOPE);
	scope = aml_open(a);
	aml_nameseg(a, "_SB_");

	aml_byte(a, AML_EXT);
	aml_byte(a, AML_DEVICE);
	dev = aml_open(a);
	aml_nameseg(a, "PCI0");

	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_HID");
	aml_byte(a, AML_DWORD);
	aml_bytes(a, pnp0a03, sizeof(pnp0a03));

	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_UID");
	aml_integer(a, 0);

	aml_byte(a, AML_NAME);
	aml_nameseg(a, "_CRS");
	aml_byte(a, AML_BUFFER);
	buf = aml_open(a);
	size_at = a->n;
	aml_integer(a, (uint32_t)res.n);
	assert(a->n - size_at == 2);	/* BytePrefix: the template is < 256 bytes */
	aml_bytes(a, res.b, res.n);
	aml_close(a, buf);

	aml_close(a, dev);
	aml_close(a, scope);
}

static void build_dsdt(uint8_t *t, size_t ram_size)
{
	struct aml a = { .b = t + HDR_LEN, .cap = DSDT_MAX - HDR_LEN };
	uint32_t len;

	aml_s5(&a);
	aml_pci0(&a, ram_size);
	len = (uint32_t)(HDR_LEN + a.n);
	sdt_header(t, "DSDT", len, DSDT_REV);
	sdt_checksum(t, len);
}

int devices_acpi_build_tables(uint8_t *ram, size_t ram_size)
{
	uint8_t *base;

	if (!ram || ram_size < (size_t)DEVICES_ACPI_TABLES_BASE + DEVICES_ACPI_TABLES_SIZE)
		return -EINVAL;
	base = ram + DEVICES_ACPI_TABLES_BASE;
	memset(base, 0, DEVICES_ACPI_TABLES_SIZE);
	build_facs(base + FACS_OFF);
	build_dsdt(base + DSDT_OFF, ram_size);
	build_fadt(base + FADT_OFF);
	build_rsdt(base + RSDT_OFF);
	build_rsdp(base + RSDP_OFF);
	return 0;
}
