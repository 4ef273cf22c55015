/* devices/pic8259.c: Intel 8259A interrupt controller pair (master 0x20, slave 0xA0 on IR2) and the PIIX ELCR (0x4D0/0x4D1). */
#include "devices/devices.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>

/*
 * References: Intel 8259A datasheet (order 231468), "Programming the 8259A"
 * (ICW1-4, OCW1-3) and "Interrupt sequence"; Intel 82371AB PIIX4 datasheet,
 * 4.4.2 "ELCR1/ELCR2" for the edge/level control registers.
 */

#define PIC_MASTER_BASE	0x20
#define PIC_SLAVE_BASE	0xA0
#define PIC_ELCR_BASE	0x4D0
#define PIC_NREGS	2

/* The slave's INT output drives the master's IR2. */
#define PIC_CASCADE_IR	2
/* On an AT the ISA pin called IRQ2 is wired to the slave's IR1 (IRQ 9),
 * because IR2 of the master went to the cascade. */
#define PIC_ISA_IRQ2_ROUTE 9

/* PIIX: IRQ 0, 1, 2, 8 and 13 are always edge-triggered; their ELCR bits are
 * read-only 0 (PIIX4 datasheet, ELCR1 bits 0-2 and ELCR2 bits 0, 5). */
#define ELCR_MASTER_MASK 0xF8
#define ELCR_SLAVE_MASK	0xDE

/* A0=0, D4=1: ICW1. */
#define ICW1_IC4	0x01	/* ICW4 follows */
#define ICW1_SNGL	0x02	/* single chip: no ICW3 */
#define ICW1_LTIM	0x08	/* every IR is level-triggered */
#define ICW1_SELECT	0x10

#define ICW4_UPM	0x01	/* 8086 mode (always assumed, see XXX below) */
#define ICW4_AEOI	0x02
#define ICW4_SFNM	0x10	/* special fully nested mode */

/* A0=0, D4=0, D3=0: OCW2, the command in D7-D5 (R, SL, EOI), the level in D2-D0. */
#define OCW2_LEVEL	0x07
enum {
	OCW2_CLEAR_ROTATE_AEOI = 0,
	OCW2_EOI = 1,
	OCW2_NOP = 2,
	OCW2_SPECIFIC_EOI = 3,
	OCW2_SET_ROTATE_AEOI = 4,
	OCW2_ROTATE_EOI = 5,
	OCW2_SET_PRIORITY = 6,
	OCW2_ROTATE_SPECIFIC_EOI = 7,
};

/* A0=0, D4=0, D3=1: OCW3. */
#define OCW3_SELECT	0x08
#define OCW3_RIS	0x01	/* read ISR (else IRR)... */
#define OCW3_RR		0x02	/* ...only if this is set */
#define OCW3_POLL	0x04
#define OCW3_SMM	0x20	/* special mask mode on/off... */
#define OCW3_ESMM	0x40	/* ...only if this is set */

/* Poll word: D7 = a request was there, D2-D0 its level. */
#define POLL_REQUEST	0x80

/* The spurious ("default IR7") answer of a chip with no request left. */
#define PIC_SPURIOUS_IR	7

enum pic_init {
	INIT_DONE,	/* operational: A0=1 writes are OCW1 */
	INIT_ICW2,
	INIT_ICW3,
	INIT_ICW4,
};

/*
 * One 8259A.  IRR is not stored as such: the datasheet's IRR latch for an
 * edge-triggered IR is set by a rising edge of the input (`edge_irr`) while a
 * level-triggered IR's IRR bit simply follows the input (`lines`); irr()
 * combines them.  `lines` is what the input pins see now, kept also for edge
 * IRs so that the next rising edge can be recognised.
 */
struct pic_chip {
	uint8_t lines;
	uint8_t edge_irr;
	uint8_t isr, imr;
	uint8_t elcr, elcr_mask;
	uint8_t vector_base;	/* ICW2 with D2-D0 cleared */
	uint8_t icw1, icw3, icw4;
	uint8_t lowest;		/* the lowest-priority IR; (lowest + 1) & 7 is the highest */
	enum pic_init init;
	bool read_isr;		/* OCW3 RIS: A0=0 reads ISR, else IRR */
	bool poll;		/* OCW3 P: the next A0=0 read is a poll */
	bool special_mask;
	bool rotate_aeoi;	/* OCW2 R in auto-EOI mode */
	bool is_slave;
	struct devices_pic *pair;
};

struct devices_pic {
	struct pic_chip master, slave;
	int intr;		/* level last reported to machine->set_intr */
	const struct devices_machine *m;	/* may be NULL; must outlive the PIC */
	struct devices_bus *bus;
};

/* ---- chip logic ---- */

static uint8_t ir_bit(int ir)
{
	return (uint8_t)(1u << ir);
}

/* IRs whose IRR follows the input level: all under LTIM (8259A ICW1), the
 * ELCR's choice otherwise.  A PIIX ignores LTIM; a lone 8259A has no ELCR;
 * honouring either lets a guest written for either work. */
static uint8_t level_irs(const struct pic_chip *c)
{
	return (c->icw1 & ICW1_LTIM) ? 0xFF : c->elcr;
}

static uint8_t irr(const struct pic_chip *c)
{
	uint8_t level = level_irs(c);

	return (uint8_t)((c->edge_irr & ~level) | (c->lines & level));
}

/* Whether IR `ir` of this chip has a slave behind it: cascade mode (ICW1
 * SNGL=0) and ICW3 says so.  Only the master's IR2 really has one. */
static bool is_cascade_ir(const struct pic_chip *c, int ir)
{
	return !c->is_slave && ir == PIC_CASCADE_IR && !(c->icw1 & ICW1_SNGL) &&
	       (c->icw3 & ir_bit(ir));
}

/*
 * The priority resolver: the IR this chip would interrupt with now, or -1.
 * Walking from the highest priority down, the first unmasked request wins
 * unless an in-service IR of higher or equal priority comes first (fully
 * nested mode).  In special mask mode a masked in-service IR no longer
 * blocks (datasheet OCW3 SMM); in special fully nested mode the master lets
 * a request of its in-service cascade IR through, so that a higher-priority
 * slave IR can interrupt a lower one (datasheet "Special Fully Nest Mode").
 */
static int pic_resolve(const struct pic_chip *c)
{
	uint8_t req = (uint8_t)(irr(c) & ~c->imr);
	uint8_t busy = c->special_mask ? (uint8_t)(c->isr & ~c->imr) : c->isr;

	for (int i = 1; i <= 8; i++) {
		int ir = (c->lowest + i) & 7;
		uint8_t bit = ir_bit(ir);

		if (busy & bit) {
			if ((req & bit) && (c->icw4 & ICW4_SFNM) && is_cascade_ir(c, ir))
				return ir;
			return -1;
		}
		if (req & bit)
			return ir;
	}
	return -1;
}

/* The in-service IR of highest priority, the one a non-specific EOI ends. */
static int pic_highest_isr(const struct pic_chip *c)
{
	for (int i = 1; i <= 8; i++) {
		int ir = (c->lowest + i) & 7;

		if (c->isr & ir_bit(ir))
			return ir;
	}
	return -1;
}

/* Drive input IR `ir`: a rising edge latches a request for an edge IR. */
static void pic_drive(struct pic_chip *c, int ir, int level)
{
	uint8_t bit = ir_bit(ir);

	if (level) {
		if (!(c->lines & bit) && !(level_irs(c) & bit))
			c->edge_irr |= bit;
		c->lines |= bit;
	} else {
		c->lines &= (uint8_t)~bit;
	}
}

/*
 * Accept the request at `ir`, as the INTA sequence (or a poll read) does:
 * its IRR edge latch clears and its ISR bit is set, except in auto-EOI mode,
 * where the ISR bit is cleared again at the end of the second INTA pulse
 * (and the IR becomes lowest priority if rotation in AEOI is on).
 */
static void pic_accept(struct pic_chip *c, int ir)
{
	uint8_t bit = ir_bit(ir);

	c->edge_irr &= (uint8_t)~bit;
	if (c->icw4 & ICW4_AEOI) {
		if (c->rotate_aeoi)
			c->lowest = (uint8_t)ir;
	} else {
		c->isr |= bit;
	}
}

/*
 * Recompute both INT outputs.  The slave's INT is the master's IR2 input,
 * which the master latches like any other (edge, unless LTIM: ELCR bit 2 is
 * always 0); the master's INT is the CPU's INTR.  Called after every change.
 */
static void pic_update(struct devices_pic *p)
{
	int intr;

	pic_drive(&p->master, PIC_CASCADE_IR, pic_resolve(&p->slave) >= 0);
	intr = pic_resolve(&p->master) >= 0;
	if (intr == p->intr)
		return;
	p->intr = intr;
	if (p->m && p->m->set_intr)
		p->m->set_intr(p->m->ctx, intr);
}

/*
 * ICW1 (datasheet "Initialization Command Words"): the edge sense circuit is
 * reset (an edge IR needs a fresh low-to-high transition), IMR is cleared,
 * IR7 gets the lowest priority, special mask mode is cleared and status read
 * is set to IRR; without IC4 every ICW4 function is cleared.  The datasheet
 * does not clear ISR, and neither do we: a guest that re-initialises the PIC
 * with an interrupt in service must still EOI it.
 */
static void pic_write_icw1(struct pic_chip *c, uint8_t v)
{
	c->icw1 = v;
	c->init = INIT_ICW2;
	c->edge_irr = 0;
	c->imr = 0;
	c->lowest = 7;
	c->special_mask = false;
	c->read_isr = false;
	c->poll = false;
	if (!(v & ICW1_IC4))
		c->icw4 = 0;
}

/* A0=1 during initialisation: ICW2, then ICW3 if cascaded, then ICW4 if
 * ICW1 asked for it. */
static void pic_write_icw(struct pic_chip *c, uint8_t v)
{
	switch (c->init) {
	case INIT_ICW2:
		/* 8086 mode: T7-T3 are the vector's top bits, D2-D0 unused. */
		c->vector_base = v & 0xF8;
		if (!(c->icw1 & ICW1_SNGL))
			c->init = INIT_ICW3;
		else
			c->init = (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW3:
		/* Master: a bit per IR with a slave.  Slave: its ID (0-7).
		 * XXX: the slave answers the master's cascade cycle whatever
		 * its ID; a real one stays silent unless its ID is 2. */
		c->icw3 = v;
		c->init = (c->icw1 & ICW1_IC4) ? INIT_ICW4 : INIT_DONE;
		break;
	case INIT_ICW4:
		/* XXX: uPM=0 (MCS-80/85 mode, a CALL opcode in three INTA
		 * cycles) is not modelled: acknowledge always gives a vector
		 * as in 8086 mode.  BUF and M/S change only pin functions. */
		c->icw4 = v;
		c->init = INIT_DONE;
		break;
	case INIT_DONE:
		break;
	}
}

static void pic_write_ocw2(struct pic_chip *c, uint8_t v)
{
	int level = v & OCW2_LEVEL;
	int ir;

	switch (v >> 5) {
	case OCW2_CLEAR_ROTATE_AEOI:
		c->rotate_aeoi = false;
		break;
	case OCW2_SET_ROTATE_AEOI:
		c->rotate_aeoi = true;
		break;
	case OCW2_EOI:
	case OCW2_ROTATE_EOI:
		ir = pic_highest_isr(c);
		if (ir < 0)
			break;
		c->isr &= (uint8_t)~ir_bit(ir);
		if (v >> 5 == OCW2_ROTATE_EOI)
			c->lowest = (uint8_t)ir;
		break;
	case OCW2_SPECIFIC_EOI:
		c->isr &= (uint8_t)~ir_bit(level);
		break;
	case OCW2_ROTATE_SPECIFIC_EOI:
		c->isr &= (uint8_t)~ir_bit(level);
		c->lowest = (uint8_t)level;
		break;
	case OCW2_SET_PRIORITY:
		c->lowest = (uint8_t)level;
		break;
	case OCW2_NOP:
		break;
	}
}

static void pic_write_ocw3(struct pic_chip *c, uint8_t v)
{
	if (v & OCW3_ESMM)
		c->special_mask = v & OCW3_SMM;
	if (v & OCW3_RR)
		c->read_isr = v & OCW3_RIS;
	/* Poll wins over a register read on the next RD (datasheet OCW3). */
	c->poll = v & OCW3_POLL;
}

static void pic_write(void *s, unsigned reg, uint8_t v)
{
	struct pic_chip *c = s;

	if (reg == 0) {
		if (v & ICW1_SELECT)
			pic_write_icw1(c, v);
		else if (v & OCW3_SELECT)
			pic_write_ocw3(c, v);
		else
			pic_write_ocw2(c, v);
	} else if (c->init != INIT_DONE) {
		pic_write_icw(c, v);
	} else {
		c->imr = v;	/* OCW1 */
	}
	pic_update(c->pair);
}

/*
 * Poll (datasheet "The Poll Command"): the read is taken as an interrupt
 * acknowledge.  It returns the highest request the resolver would grant and
 * accepts it like an INTA sequence (AEOI included); a master that finds its
 * cascade IR answers 0x82 and the program polls the slave next.
 */
static uint8_t pic_poll(struct pic_chip *c)
{
	int ir = pic_resolve(c);

	c->poll = false;
	if (ir < 0)
		return 0;
	pic_accept(c, ir);
	return (uint8_t)(POLL_REQUEST | ir);
}

static uint8_t pic_read(void *s, unsigned reg)
{
	struct pic_chip *c = s;
	uint8_t v;

	if (reg == 1)
		return c->imr;
	if (!c->poll)
		return c->read_isr ? c->isr : irr(c);
	v = pic_poll(c);
	pic_update(c->pair);
	return v;
}

/*
 * State after RESET, which an 8259A does not define: it powers up with
 * garbage and waits for ICW1.  We choose what a PC BIOS-less guest can live
 * with and what QEMU's model shows before firmware runs: nothing requested
 * or in service, IMR 0 (everything unmasked), vector base 0, edge triggered,
 * cascaded like a PC (master ICW3 = 0x04, slave ID 2), fully nested with
 * IR0 highest, IRR selected for reads.  A guest must initialise the PIC
 * before unmasking anything at the CPU, as on real hardware.  The input
 * lines are left as the devices drive them.
 */
static void pic_chip_reset(struct pic_chip *c)
{
	c->edge_irr = 0;
	c->isr = 0;
	c->imr = 0;
	c->vector_base = 0;
	c->icw1 = 0;
	c->icw3 = c->is_slave ? PIC_CASCADE_IR : ir_bit(PIC_CASCADE_IR);
	c->icw4 = 0;
	c->lowest = 7;
	c->init = INIT_DONE;
	c->read_isr = false;
	c->poll = false;
	c->special_mask = false;
	c->rotate_aeoi = false;
}

/* ---- the pair's interface to the machine ---- */

void devices_pic_set_irq(struct devices_pic *p, int irq, int level)
{
	assert(irq >= 0 && irq < 16);
	if (irq == PIC_CASCADE_IR)
		irq = PIC_ISA_IRQ2_ROUTE;
	if (irq < 8)
		pic_drive(&p->master, irq, level != 0);
	else
		pic_drive(&p->slave, irq - 8, level != 0);
	pic_update(p);
}

int devices_pic_intr(const struct devices_pic *p)
{
	return p->intr;
}

/*
 * The INTA sequence (datasheet "Interrupt Sequence", 8086 mode).  The master
 * resolves; if nothing is left (the request went away, or was masked, after
 * INTR rose) it answers as if IR7 had requested, without setting ISR.  If
 * the winner is the cascade IR, the master accepts IR2 and the slave puts
 * the vector on the bus, with the same default-IR7 rule: a spurious IRQ 15
 * leaves the master's IR2 in service, which is why a guest must EOI the
 * master after one.
 */
int devices_pic_ack(struct devices_pic *p)
{
	int ir = pic_resolve(&p->master), vector;

	if (ir < 0) {
		vector = p->master.vector_base + PIC_SPURIOUS_IR;
	} else if (is_cascade_ir(&p->master, ir)) {
		int sir = pic_resolve(&p->slave);

		pic_accept(&p->master, ir);
		if (sir < 0) {
			vector = p->slave.vector_base + PIC_SPURIOUS_IR;
		} else {
			pic_accept(&p->slave, sir);
			vector = p->slave.vector_base + sir;
		}
		/* The acknowledge takes the slave's INT down; if the slave
		 * still has a request (auto-EOI), INT rises again after the
		 * cycle and the master latches a fresh IR2 edge for it. */
		pic_drive(&p->master, PIC_CASCADE_IR, 0);
	} else {
		pic_accept(&p->master, ir);
		vector = p->master.vector_base + ir;
	}
	pic_update(p);
	return vector;
}

/* ---- port glue ---- */

/* An 8-bit part (see devices_read_bytes). */
static uint32_t pic_port_read(void *s, uint16_t offset, int size)
{
	return devices_read_bytes(s, offset, size, PIC_NREGS, pic_read);
}

static void pic_port_write(void *s, uint16_t offset, uint32_t value, int size)
{
	devices_write_bytes(s, offset, value, size, PIC_NREGS, pic_write);
}

static void pic_port_reset(void *s)
{
	struct pic_chip *c = s;

	pic_chip_reset(c);
	pic_update(c->pair);
}

static const struct devices_ops pic_ops = {
	.name = "pic8259",
	.read = pic_port_read,
	.write = pic_port_write,
	.reset = pic_port_reset,
};

/* ELCR: 0x4D0 for IRQ 0-7, 0x4D1 for IRQ 8-15, bit n = IR n level-triggered. */
static struct pic_chip *elcr_chip(struct devices_pic *p, unsigned reg)
{
	return reg == 0 ? &p->master : &p->slave;
}

static uint8_t elcr_read(void *s, unsigned reg)
{
	return elcr_chip(s, reg)->elcr;
}

static void elcr_write(void *s, unsigned reg, uint8_t v)
{
	struct pic_chip *c = elcr_chip(s, reg);

	c->elcr = v & c->elcr_mask;
	/* An IR that turns level forgets its edge latch: from now on IRR
	 * follows the line. */
	c->edge_irr &= (uint8_t)~c->elcr;
	pic_update(s);
}

static uint32_t elcr_port_read(void *s, uint16_t offset, int size)
{
	return devices_read_bytes(s, offset, size, PIC_NREGS, elcr_read);
}

static void elcr_port_write(void *s, uint16_t offset, uint32_t value, int size)
{
	devices_write_bytes(s, offset, value, size, PIC_NREGS, elcr_write);
}

static void elcr_port_reset(void *s)
{
	struct devices_pic *p = s;

	p->master.elcr = 0;
	p->slave.elcr = 0;
	pic_update(p);
}

static const struct devices_ops elcr_ops = {
	.name = "elcr",
	.read = elcr_port_read,
	.write = elcr_port_write,
	.reset = elcr_port_reset,
};

static void pic_chip_init(struct pic_chip *c, struct devices_pic *p, bool is_slave)
{
	c->pair = p;
	c->is_slave = is_slave;
	c->elcr_mask = is_slave ? ELCR_SLAVE_MASK : ELCR_MASTER_MASK;
	pic_chip_reset(c);
}

struct devices_pic *devices_pic_create(struct devices_bus *bus, const struct devices_machine *m)
{
	struct devices_pic *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return NULL;
	p->m = m;
	p->bus = bus;
	pic_chip_init(&p->master, p, false);
	pic_chip_init(&p->slave, p, true);

	ret = devices_bus_register(bus, PIC_MASTER_BASE, PIC_NREGS, &pic_ops, &p->master);
	if (ret < 0)
		goto out_free;
	ret = devices_bus_register(bus, PIC_SLAVE_BASE, PIC_NREGS, &pic_ops, &p->slave);
	if (ret < 0)
		goto out_master;
	ret = devices_bus_register(bus, PIC_ELCR_BASE, PIC_NREGS, &elcr_ops, p);
	if (ret < 0)
		goto out_slave;
	return p;

out_slave:
	devices_bus_unregister(bus, PIC_SLAVE_BASE);
out_master:
	devices_bus_unregister(bus, PIC_MASTER_BASE);
out_free:
	free(p);
	errno = -ret;
	return NULL;
}

void devices_pic_destroy(struct devices_pic *p)
{
	if (!p)
		return;
	devices_bus_unregister(p->bus, PIC_ELCR_BASE);
	devices_bus_unregister(p->bus, PIC_SLAVE_BASE);
	devices_bus_unregister(p->bus, PIC_MASTER_BASE);
	free(p);
}
