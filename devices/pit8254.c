/* devices/pit8254.c: Intel 8254 programmable interval timer (0x40-0x43, IRQ 0) and System Control Port B (0x61). */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>

/*
 * References: Intel 8254 datasheet (order 231164): "Control Word Format",
 * "Read Operations" (counter latch, read-back), "Mode Definitions" and the
 * gate pin table; Intel 82371AB PIIX4 datasheet, "NMI Status and Control
 * Register" (port 0x61).
 *
 * Nothing here ticks.  The three counters share one input clock, and pulse
 * j of it happens at j / PIT_HZ seconds of the machine's clock.  Each
 * counting element is described by a few pulse numbers (when it was loaded,
 * where its sequence starts) from which its count and OUT at any pulse
 * follow; a guest access computes the present from them, and the only
 * event is the bus timer armed at channel 0's next rising OUT edge.
 */

#define PIT_HZ		1193182u	/* 14.31818 MHz / 12 */
#define NS_PER_S	1000000000u

#define PIT_BASE	0x40
#define PIT_NREGS	4
#define PIT_CONTROL	3
#define PIT_CHANNELS	3
#define PIT_IRQ		0
#define PORTB_BASE	0x61

/* Control word (port 0x43): SC1-0, RW1-0, M2-0, BCD. */
#define CW_SC(v)	((v) >> 6)
#define CW_RW(v)	(((v) >> 4) & 3)
#define CW_MODE(v)	(((v) >> 1) & 7)
#define CW_BCD		0x01
#define SC_READBACK	3
enum { RW_LATCH = 0, RW_LSB = 1, RW_MSB = 2, RW_WORD = 3 };

/* Read-back command (SC = 3): the bits are active low. */
#define RB_NO_COUNT	0x20
#define RB_NO_STATUS	0x10
#define RB_CHANNEL(i)	(0x02 << (i))

/* Status byte: OUT, NULL COUNT, then RW, mode and BCD as programmed. */
#define STATUS_OUT	0x80
#define STATUS_NULL	0x40

/*
 * Port 0x61 as a PIIX reads it.  Bits 0-3 are read/write: timer 2 gate,
 * speaker data enable, and the PCI SERR# / IOCHK# NMI enables (kept, no
 * effect).  Bit 4 toggles with every DRAM refresh request and bit 5 is
 * channel 2's OUT.  Bits 6-7 report IOCHK# and SERR# NMIs, which never
 * happen here: they read 0.
 */
#define PORTB_GATE2	0x01
#define PORTB_RW_BITS	0x0F
#define PORTB_REFRESH	0x10
#define PORTB_OUT2	0x20
/* A refresh request every 15.085 us: 18 clocks, as the PC's channel 1
 * divisor.  The PIIX makes it with its own divider, so it ignores how the
 * guest programs channel 1, and so do we. */
#define REFRESH_CLOCKS	18

#define PULSE_NEVER	INT64_MAX

/*
 * One counter.  The guest-visible registers come first.  Then the counting
 * element: once `armed`, it holds `n` from pulse `load` on, and its count
 * and OUT at pulse j >= load are a function of j - start (periodic modes)
 * or of `d`, the clocks counted since load (one-shot modes; `acc` holds
 * what was counted before the gate last paused it).  Before `load`, or
 * while not armed, the CE keeps `held_ce` and OUT stays `held_out`.
 * A count written in mode 2 or 3 while counting waits for the end of the
 * period (half-cycle in mode 3) at `reload_at`.
 */
struct pit_channel {
	uint8_t mode;		/* 0-5: modes 6 and 7 are 2 and 3 */
	uint8_t mode_bits;	/* M2-M0 as written, for the status byte */
	uint8_t rw;
	bool bcd;
	bool gate;

	uint32_t cr;		/* count register, in clocks: 1..65536 (1..10000 BCD) */
	bool cr_valid;		/* a count was written since the control word */
	bool write_msb;		/* write flip-flop: the next byte is the MSB */
	uint8_t lsb_written;
	bool read_msb;		/* read flip-flop */
	bool count_latched, status_latched;
	uint16_t latch;
	uint8_t status;

	bool armed;
	uint32_t n;
	int64_t load, start;
	uint64_t acc;
	uint32_t held_ce;
	bool held_out;
	bool reload_pending;
	bool reload_low;	/* mode 3: the reload ends a high half */
	int64_t reload_at;
	int64_t null_until;	/* NULL COUNT reads 1 before this pulse */
};

struct devices_pit {
	struct pit_channel ch[PIT_CHANNELS];
	uint8_t portb;		/* bits 0-3 as written */
	struct devices_timer timer;
	const struct devices_machine *m;	/* may be NULL; must outlive the PIT */
	struct devices_bus *bus;
};

/* ---- the clock ---- */

/* The number of clock pulses up to `ns`: floor(ns * PIT_HZ / 1e9), split so
 * that no product overflows 64 bits. */
static int64_t pit_pulse_at(uint64_t ns)
{
	return (int64_t)((ns / NS_PER_S) * PIT_HZ + (ns % NS_PER_S) * PIT_HZ / NS_PER_S);
}

/* The first nanosecond at which pulse k has happened: ceil(k * 1e9 /
 * PIT_HZ), so that pit_pulse_at(pit_pulse_ns(k)) == k.  Computed from k
 * alone, periodic deadlines never drift. */
static uint64_t pit_pulse_ns(int64_t k)
{
	uint64_t q, r;

	if (k < 0)
		return 0;
	q = (uint64_t)k / PIT_HZ;
	r = (uint64_t)k % PIT_HZ;
	if (k == PULSE_NEVER || q >= DEVICES_NEVER / NS_PER_S - 1)
		return DEVICES_NEVER;
	return q * NS_PER_S + (r * NS_PER_S + PIT_HZ - 1) / PIT_HZ;
}

/* Without a clock the PIT is frozen at pulse 0. */
static int64_t pit_now(const struct devices_pit *p)
{
	if (!p->m || !p->m->now_ns)
		return 0;
	return pit_pulse_at(p->m->now_ns(p->m->ctx));
}

/* ---- counting ---- */

static uint32_t pit_modulus(const struct pit_channel *c)
{
	return c->bcd ? 10000 : 65536;
}

/* XXX: invalid BCD digits (A-F) are taken at face value. */
static uint32_t from_bcd(uint16_t v)
{
	return (v >> 12 & 0xF) * 1000u + (v >> 8 & 0xF) * 100u + (v >> 4 & 0xF) * 10u + (v & 0xF);
}

static uint16_t to_bcd(uint32_t v)
{
	return (uint16_t)((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* A count as written to the count register: 0 is the largest, 2^16 or 10^4. */
static uint32_t pit_count_from(const struct pit_channel *c, uint16_t raw)
{
	uint32_t v = c->bcd ? from_bcd(raw) : raw;

	return v ? v : pit_modulus(c);
}

/* Mode 3's halves: OUT is high for ceil(n/2) clocks and low for floor(n/2). */
static uint32_t mode3_high(uint32_t n)
{
	return (n + 1) / 2;
}

/* One-shot modes: clocks counted since load at pulse j >= load.  Modes 0
 * and 4 count only while GATE is high; modes 1 and 5 ignore its level. */
static uint64_t pit_elapsed(const struct pit_channel *c, int64_t j)
{
	bool counting = c->gate || c->mode == 1 || c->mode == 5;
	uint64_t d = c->acc;

	if (counting && j > c->start)
		d += (uint64_t)(j - c->start);
	return d;
}

/*
 * The counting element's contents (binary, below the modulus) and OUT at
 * pulse j, per the datasheet's mode definitions:
 *  0, 1: OUT low from load until the count reaches 0 (n clocks), then high;
 *        the CE wraps and keeps counting.
 *  4, 5: OUT high, low for the one clock at which the count reaches 0.
 *  2:    the CE counts n..1; OUT is low for the clock at which it holds 1,
 *        then the CE reloads n.
 *  3:    even n: n, n-2, .., 2 twice per period, OUT high in the first half;
 *        odd n: n-1, n-3, .., 0 for the (n+1)/2-clock high half, then
 *        n-1, .., 2 for the (n-1)/2-clock low half.
 */
static void pit_eval(const struct pit_channel *c, int64_t j, uint32_t *ce, bool *out)
{
	uint32_t m = pit_modulus(c), n = c->n, p, base;
	uint64_t d;

	if (!c->armed || j < c->load) {
		*ce = c->held_ce;
		*out = c->held_out;
		return;
	}
	switch (c->mode) {
	case 2:
		p = (uint32_t)((uint64_t)(j - c->start) % n);
		*ce = (n - p) % m;
		*out = p != n - 1;
		break;
	case 3:
		p = (uint32_t)((uint64_t)(j - c->start) % n);
		base = n & ~1u;
		if (p < mode3_high(n)) {
			*ce = (base - 2 * p) % m;
			*out = true;
		} else {
			*ce = (base - 2 * (p - mode3_high(n))) % m;
			*out = false;
		}
		break;
	default:
		d = pit_elapsed(c, j);
		*ce = (uint32_t)((n + m - d % m) % m);
		*out = c->mode <= 1 ? d >= n : d != n;
		break;
	}
}

/* Apply a mode 2/3 reload whose time has come. */
static void pit_sync(struct pit_channel *c, int64_t j)
{
	if (!c->reload_pending || j < c->reload_at)
		return;
	c->n = c->cr;
	c->start = c->reload_low ? c->reload_at - (int64_t)mode3_high(c->cr) : c->reload_at;
	c->reload_pending = false;
}

/* The first of start + k*n (k >= 1) after pulse j. */
static int64_t periodic_rise(int64_t start, uint32_t n, int64_t j)
{
	if (j < start)
		return start + n;
	return start + ((j - start) / n + 1) * (int64_t)n;
}

/*
 * The first pulse after j at which OUT goes from low to high, if the guest
 * does nothing meanwhile; PULSE_NEVER if there is none.
 */
static int64_t pit_next_rise(const struct pit_channel *c, int64_t j)
{
	uint64_t target, d;
	int64_t e;

	if (!c->armed)
		return PULSE_NEVER;
	switch (c->mode) {
	case 2:
	case 3:
		/* A count of 1 (illegal in mode 2) gives a constant OUT. */
		if (c->n < 2)
			return PULSE_NEVER;
		e = periodic_rise(c->start, c->n, j);
		if (!c->reload_pending || e <= c->reload_at)
			return e;
		if (c->cr < 2)
			return PULSE_NEVER;
		return periodic_rise(c->reload_low ? c->reload_at - (int64_t)mode3_high(c->cr)
						   : c->reload_at,
				     c->cr, c->reload_at - 1);
	default:
		if (!c->gate && (c->mode == 0 || c->mode == 4))
			return PULSE_NEVER;
		/* OUT rises when d reaches n (0, 1) or n + 1 (4, 5). */
		target = c->n + (c->mode >= 4);
		d = pit_elapsed(c, j);
		if (d >= target)
			return PULSE_NEVER;
		return (j > c->start ? j : c->start) + (int64_t)(target - d);
	}
}

/* Arm the CE to take the count register at the next pulse; until then it
 * keeps its contents and OUT keeps `out`. */
static void pit_arm(struct pit_channel *c, int64_t j, bool out)
{
	bool unused;

	pit_eval(c, j, &c->held_ce, &unused);
	c->held_out = out;
	c->n = c->cr;
	c->load = c->start = j + 1;
	c->acc = 0;
	c->armed = true;
	c->reload_pending = false;
	if (c->null_until > j + 1)
		c->null_until = j + 1;
}

/* Freeze the CE and OUT where they are at pulse j (out forced if >= 0). */
static void pit_hold(struct pit_channel *c, int64_t j, int out)
{
	bool o;

	pit_eval(c, j, &c->held_ce, &o);
	c->held_out = out < 0 ? o : out;
	c->armed = false;
	c->reload_pending = false;
}

/*
 * A new count in mode 2 or 3 while counting: "does not affect the current
 * counting sequence"; it is loaded at the end of the current period (mode
 * 2) or half-cycle (mode 3), unless a gate trigger comes first.
 */
static void pit_schedule_reload(struct pit_channel *c, int64_t j)
{
	uint32_t p = (uint32_t)((uint64_t)(j - c->start) % c->n);
	int64_t period_start = j - p;

	if (c->mode == 3 && p < mode3_high(c->n)) {
		c->reload_at = period_start + mode3_high(c->n);
		c->reload_low = true;
	} else {
		c->reload_at = period_start + c->n;
		c->reload_low = false;
	}
	c->reload_pending = true;
	c->null_until = c->reload_at;
}

/* A complete count arrived in the count register at pulse j. */
static void pit_write_count(struct pit_channel *c, int64_t j, uint16_t raw)
{
	c->cr = pit_count_from(c, raw);
	c->cr_valid = true;
	switch (c->mode) {
	case 0:
	case 4:
		/* Loaded on the next clock, counting restarts from it. */
		c->null_until = PULSE_NEVER;
		pit_arm(c, j, c->mode == 4);
		break;
	case 1:
	case 5:
		/* Waits for the next trigger. */
		c->null_until = PULSE_NEVER;
		break;
	default:
		if (c->armed && j >= c->load) {
			pit_schedule_reload(c, j);
		} else if (c->armed) {
			/* Rewritten before the load pulse: that pulse takes it. */
			c->n = c->cr;
		} else {
			c->null_until = PULSE_NEVER;
			if (c->gate)
				pit_arm(c, j, true);
		}
		break;
	}
}

static void pit_write_counter(struct pit_channel *c, int64_t j, uint8_t v)
{
	switch (c->rw) {
	case RW_LSB:
		pit_write_count(c, j, v);
		break;
	case RW_MSB:
		pit_write_count(c, j, (uint16_t)(v << 8));
		break;
	default:
		if (c->write_msb) {
			c->write_msb = false;
			pit_write_count(c, j, (uint16_t)(c->lsb_written | v << 8));
			break;
		}
		c->lsb_written = v;
		c->write_msb = true;
		/* Mode 0: "writing the first byte disables counting, OUT is
		 * set low immediately". */
		if (c->mode == 0)
			pit_hold(c, j, 0);
		break;
	}
}

/* The count as the guest reads it: BCD digits in BCD mode. */
static uint16_t pit_read_value(const struct pit_channel *c, int64_t j)
{
	uint32_t ce;
	bool out;

	pit_eval(c, j, &ce, &out);
	return c->bcd ? to_bcd(ce) : (uint16_t)ce;
}

static uint8_t pit_read_counter(struct pit_channel *c, int64_t j)
{
	uint16_t v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	v = c->count_latched ? c->latch : pit_read_value(c, j);
	switch (c->rw) {
	case RW_LSB:
		c->count_latched = false;
		return (uint8_t)v;
	case RW_MSB:
		c->count_latched = false;
		return (uint8_t)(v >> 8);
	default:
		/* One read flip-flop for latched and live reads; a latch lasts
		 * until both of its bytes are read. */
		c->read_msb = !c->read_msb;
		if (c->read_msb)
			return (uint8_t)v;
		c->count_latched = false;
		return (uint8_t)(v >> 8);
	}
}

/* Counter latch command and read-back: a latch not yet read is kept, and a
 * second latch command is ignored. */
static void pit_latch_count(struct pit_channel *c, int64_t j)
{
	if (c->count_latched)
		return;
	c->latch = pit_read_value(c, j);
	c->count_latched = true;
}

static void pit_latch_status(struct pit_channel *c, int64_t j)
{
	uint32_t ce;
	bool out;

	if (c->status_latched)
		return;
	pit_eval(c, j, &ce, &out);
	c->status = (uint8_t)((out ? STATUS_OUT : 0) | (j < c->null_until ? STATUS_NULL : 0) |
			      c->rw << 4 | c->mode_bits << 1 | (c->bcd ? CW_BCD : 0));
	c->status_latched = true;
}

/*
 * A control word for this counter: "all control logic is immediately
 * reset and OUT goes to a known initial state" (low in mode 0, high in the
 * others); the CE keeps its contents until a count is loaded; NULL COUNT
 * is set; a latched count or status is dropped.
 */
static void pit_program(struct pit_channel *c, int64_t j, uint8_t v)
{
	pit_hold(c, j, CW_MODE(v) != 0);
	c->mode_bits = CW_MODE(v);
	c->mode = c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits;
	c->rw = CW_RW(v);
	c->bcd = v & CW_BCD;
	c->held_ce %= pit_modulus(c);
	c->cr_valid = false;
	c->write_msb = false;
	c->read_msb = false;
	c->count_latched = false;
	c->status_latched = false;
	c->null_until = PULSE_NEVER;
}

/*
 * GATE (the datasheet's gate pin table): modes 0 and 4 count only while it
 * is high; in modes 2 and 3 low stops counting and sets OUT high, and the
 * rising edge reloads the count at the next clock; in modes 1 and 5 the
 * rising edge is the trigger that loads the count, its level is ignored.
 */
static void pit_set_gate(struct pit_channel *c, int64_t j, bool gate)
{
	if (gate == c->gate)
		return;
	switch (c->mode) {
	case 0:
	case 4:
		if (!gate)
			c->acc = pit_elapsed(c, j);
		else
			c->start = j > c->load ? j : c->load;
		break;
	case 1:
	case 5:
		if (gate && c->cr_valid) {
			bool out;

			pit_eval(c, j, &c->held_ce, &out);
			pit_arm(c, j, out);
		}
		break;
	default:
		if (!gate)
			pit_hold(c, j, 1);
		else if (c->cr_valid)
			pit_arm(c, j, true);
		break;
	}
	c->gate = gate;
}

/* Power-on: the datasheet leaves mode, count and OUT undefined until the
 * first control word.  We start every counter as if programmed for mode 0,
 * LSB then MSB, binary, with no count: OUT low, NULL COUNT set, nothing
 * counting, and so no timer edges. */
static void pit_channel_reset(struct pit_channel *c, bool gate)
{
	*c = (struct pit_channel){ .gate = gate };
	pit_program(c, 0, RW_WORD << 4);
}

/* ---- IRQ 0 ---- */

static void pit_update_timer(struct devices_pit *p, int64_t j)
{
	p->timer.deadline = pit_pulse_ns(pit_next_rise(&p->ch[0], j));
}

/*
 * Channel 0's OUT has risen.  IRQ 0 is driven as a pulse (up, then down at
 * once) at each rising edge rather than with OUT's real level: the 8259A
 * latches it as an edge, and the falling edges then cost no timer events.
 * XXX: an 8259A told that IR0 is level-triggered (LTIM) misses the pulse;
 * the PIIX's ELCR cannot make IRQ 0 level, and PC guests do not set LTIM.
 * A machine that is late gets one edge for all the periods it missed, as
 * on hardware, where the PIC latches one request for several edges.
 */
static void pit_fire(void *s, uint64_t now)
{
	struct devices_pit *p = s;
	int64_t j = pit_pulse_at(now);

	pit_sync(&p->ch[0], j);
	if (p->m && p->m->set_irq) {
		p->m->set_irq(p->m->ctx, PIT_IRQ, 1);
		p->m->set_irq(p->m->ctx, PIT_IRQ, 0);
	}
	pit_update_timer(p, j);
}

/* ---- port glue ---- */

/* The pulse of this access, with every pending reload applied. */
static int64_t pit_begin(struct devices_pit *p)
{
	int64_t j = pit_now(p);

	for (int i = 0; i < PIT_CHANNELS; i++)
		pit_sync(&p->ch[i], j);
	return j;
}

static void pit_write_control(struct devices_pit *p, int64_t j, uint8_t v)
{
	struct pit_channel *c;

	if (CW_SC(v) == SC_READBACK) {
		for (int i = 0; i < PIT_CHANNELS; i++) {
			if (!(v & RB_CHANNEL(i)))
				continue;
			/* Status first, so that a read returns it first. */
			if (!(v & RB_NO_STATUS))
				pit_latch_status(&p->ch[i], j);
			if (!(v & RB_NO_COUNT))
				pit_latch_count(&p->ch[i], j);
		}
		return;
	}
	c = &p->ch[CW_SC(v)];
	if (CW_RW(v) == RW_LATCH)
		pit_latch_count(c, j);
	else
		pit_program(c, j, v);
}

static uint8_t pit_read8(void *s, unsigned reg)
{
	struct devices_pit *p = s;
	int64_t j = pit_begin(p);

	/* Port 0x43 cannot be read on an 8254: the bus floats. */
	if (reg == PIT_CONTROL)
		return 0xFF;
	return pit_read_counter(&p->ch[reg], j);
}

static void pit_write8(void *s, unsigned reg, uint8_t v)
{
	struct devices_pit *p = s;
	int64_t j = pit_begin(p);

	if (reg == PIT_CONTROL)
		pit_write_control(p, j, v);
	else
		pit_write_counter(&p->ch[reg], j, v);
	pit_update_timer(p, j);
}

static uint32_t pit_port_read(void *s, uint16_t offset, int size)
{
	return devices_read_bytes(s, offset, size, PIT_NREGS, pit_read8);
}

static void pit_port_write(void *s, uint16_t offset, uint32_t value, int size)
{
	devices_write_bytes(s, offset, value, size, PIT_NREGS, pit_write8);
}

static void pit_port_reset(void *s)
{
	struct devices_pit *p = s;

	for (int i = 0; i < PIT_CHANNELS; i++)
		pit_channel_reset(&p->ch[i], i != 2 || (p->portb & PORTB_GATE2));
	p->timer.deadline = DEVICES_NEVER;
}

static const struct devices_ops pit_ops = {
	.name = "pit8254",
	.read = pit_port_read,
	.write = pit_port_write,
	.reset = pit_port_reset,
};

static uint8_t portb_read8(void *s, unsigned reg)
{
	struct devices_pit *p = s;
	int64_t j = pit_begin(p);
	uint32_t ce;
	bool out2;

	(void)reg;	/* always 0: the range is one port */
	pit_eval(&p->ch[2], j, &ce, &out2);
	return (uint8_t)((p->portb & PORTB_RW_BITS) |
			 ((j / REFRESH_CLOCKS) & 1 ? PORTB_REFRESH : 0) |
			 (out2 ? PORTB_OUT2 : 0));
}

static void portb_write8(void *s, unsigned reg, uint8_t v)
{
	struct devices_pit *p = s;
	int64_t j = pit_begin(p);

	(void)reg;
	p->portb = v & PORTB_RW_BITS;
	pit_set_gate(&p->ch[2], j, v & PORTB_GATE2);
}

/* One port: a word access's upper byte is 0x62, not ours. */
static uint32_t portb_port_read(void *s, uint16_t offset, int size)
{
	return devices_read_bytes(s, offset, size, 1, portb_read8);
}

static void portb_port_write(void *s, uint16_t offset, uint32_t value, int size)
{
	devices_write_bytes(s, offset, value, size, 1, portb_write8);
}

static void portb_port_reset(void *s)
{
	struct devices_pit *p = s;

	p->portb = 0;
	pit_set_gate(&p->ch[2], pit_now(p), false);
}

static const struct devices_ops portb_ops = {
	.name = "port61",
	.read = portb_port_read,
	.write = portb_port_write,
	.reset = portb_port_reset,
};

struct devices_pit *devices_pit_create(struct devices_bus *bus, const struct devices_machine *m)
{
	struct devices_pit *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return NULL;
	p->m = m;
	p->bus = bus;
	p->timer = (struct devices_timer){
		.deadline = DEVICES_NEVER, .fire = pit_fire, .s = p, .name = "pit8254",
	};
	pit_port_reset(p);

	ret = devices_bus_register(bus, PIT_BASE, PIT_NREGS, &pit_ops, p);
	if (ret < 0)
		goto out_free;
	ret = devices_bus_register(bus, PORTB_BASE, 1, &portb_ops, p);
	if (ret < 0)
		goto out_pit;
	ret = devices_bus_add_timer(bus, &p->timer);
	if (ret < 0)
		goto out_portb;
	return p;

out_portb:
	devices_bus_unregister(bus, PORTB_BASE);
out_pit:
	devices_bus_unregister(bus, PIT_BASE);
out_free:
	free(p);
	errno = -ret;
	return NULL;
}

void devices_pit_destroy(struct devices_pit *p)
{
	if (!p)
		return;
	devices_bus_remove_timer(p->bus, &p->timer);
	devices_bus_unregister(p->bus, PORTB_BASE);
	devices_bus_unregister(p->bus, PIT_BASE);
	free(p);
}
