/* devices/acpi.c: ACPI fixed hardware (PM1 event and control registers, PM timer) at 0x600 and the reset control register at 0xCF9. */
#include "devices/devices.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * References: ACPI Specification 6.0, §4.8.3 (fixed hardware registers),
 * §5.2 (tables), §6.4 (resource descriptors), §7.3.4 (\_Sx), §20.2 (AML
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
 * §7.3.4).  S5 ends bt with status 0, the guest having powered off.  Other
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
