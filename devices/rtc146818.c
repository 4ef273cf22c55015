/* devices/rtc146818.c: Motorola MC146818A real-time clock and 128 bytes of CMOS RAM at 0x70/0x71, IRQ 8. */
#include "devices/devices.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <time.h>

/* Register indexes (MC146818A datasheet, Figure 5 "Address map"). */
enum {
	RTC_SEC = 0x00,
	RTC_SEC_ALARM = 0x01,
	RTC_MIN = 0x02,
	RTC_MIN_ALARM = 0x03,
	RTC_HOUR = 0x04,
	RTC_HOUR_ALARM = 0x05,
	RTC_DOW = 0x06,		/* day of week, 1-7, Sunday = 1 on the PC */
	RTC_DOM = 0x07,
	RTC_MON = 0x08,
	RTC_YEAR = 0x09,	/* 00-99 */
	RTC_REG_A = 0x0A,
	RTC_REG_B = 0x0B,
	RTC_REG_C = 0x0C,
	RTC_REG_D = 0x0D,
	RTC_CENTURY = 0x32,	/* not the chip's: the IBM PC/AT BIOS convention */
	RTC_CMOS_SIZE = 128,
};

/* Register A. */
#define A_UIP		0x80	/* update in progress, read-only */
#define A_DV		0x70	/* DV2-0: divider control */
#define A_DV_NORMAL	0x20	/* 010: 32.768 kHz time base, running */
#define A_DV_RESET	0x60	/* 11x: divider chain held in reset */
#define A_RS		0x0F	/* RS3-0: periodic interrupt rate */

/* Register B. */
#define B_SET		0x80	/* updates inhibited, time registers settable */
#define B_PIE		0x40
#define B_AIE		0x20
#define B_UIE		0x10
#define B_SQWE		0x08
#define B_DM		0x04	/* 1: binary, 0: BCD */
#define B_24H		0x02	/* 1: 24-hour, 0: 12-hour with PM in bit 7 */
#define B_DSE		0x01

/* Register C; PF/AF/UF sit at the same bits as their enables in B. */
#define C_IRQF		0x80
#define C_PF		0x40
#define C_AF		0x20
#define C_UF		0x10
#define C_FLAGS		(C_PF | C_AF | C_UF)

#define D_VRT		0x80	/* valid RAM and time: the battery is good */

#define HOUR_PM		0x80	/* 12-hour mode */
#define ALARM_DONT_CARE	0xC0	/* alarm bytes 0xC0-0xFF match any value */

/* The PC's RTC crystal; every rate the chip makes is this divided by a
 * power of two, so time is kept in whole oscillator cycles. */
#define OSC_HZ		32768u
#define NS_PER_SEC	1000000000u
/* Datasheet: UIP rises 244 us (t_BUC, 8 cycles of 32.768 kHz) before the
 * update cycle.  We let the registers change at the end of that window, so
 * UIP is exactly "the seconds register is about to change". */
#define UIP_CYCLES	8u
#define SECS_PER_DAY	86400

/*
 * The chip as registers plus a lazily evaluated divider chain.
 *
 * The divider chain counts oscillator cycles; `chain_cycles` is its count at
 * machine time `chain_ns`, and while it runs (DV = 010) the count at `now` is
 * derived from the machine clock.  An update (the seconds changing, UF, the
 * alarm check) happens each time the count crosses a multiple of OSC_HZ, a
 * periodic tick (PF) each time it crosses a multiple of the RS period.  The
 * count only grows, so "an event happened in (a, b]" is a division.
 *
 * While the clock runs (DV = 010 and SET clear) the time of day is
 * `time_base` (seconds since 1970, UTC) plus the updates since update number
 * `secs_base`, and the time bytes in cmos[] are a stale copy refreshed on
 * read.  While frozen, the bytes in cmos[] are the time, exactly as the guest
 * wrote them, as in the chip's counters.
 *
 * Register C's flags are brought up to date (`synced_cycles`) before anything
 * reads or changes the state, so flags of events nobody enabled cost nothing
 * until the guest looks; the timer is only armed for an enabled interrupt.
 */
struct devices_rtc {
	uint8_t cmos[RTC_CMOS_SIZE];
	uint8_t index;			/* port 0x70 bits 0-6 */
	bool nmi_masked;		/* port 0x70 bit 7 */

	uint64_t chain_ns, chain_cycles;
	uint64_t synced_cycles;		/* C holds every flag up to this count */

	int64_t time_base;
	uint64_t secs_base;
	int dow_offset;			/* register 6 minus the true weekday, mod 7 */

	int irq_level;
	struct devices_timer timer;
	const struct devices_machine *m;	/* may be NULL; must outlive the RTC */
};

/* ---- the machine's clock and the divider chain ---- */

static uint64_t rtc_clock(const struct devices_rtc *r)
{
	return r->m && r->m->now_ns ? r->m->now_ns(r->m->ctx) : 0;
}

static bool rtc_running(const struct devices_rtc *r)
{
	return (r->cmos[RTC_REG_A] & A_DV) == A_DV_NORMAL;
}

/* The time registers hold still: updates inhibited by SET or no time base. */
static bool rtc_frozen(const struct devices_rtc *r)
{
	return !rtc_running(r) || (r->cmos[RTC_REG_B] & B_SET);
}

/* Oscillator cycles counted by the chain at `now`.  Split into whole seconds
 * and a remainder so the product cannot overflow. */
static uint64_t rtc_cycles(const struct devices_rtc *r, uint64_t now)
{
	uint64_t d;

	if (!rtc_running(r) || now <= r->chain_ns)
		return r->chain_cycles;
	d = now - r->chain_ns;
	return r->chain_cycles + d / NS_PER_SEC * OSC_HZ + d % NS_PER_SEC * OSC_HZ / NS_PER_SEC;
}

/* The first machine time at which the running chain has counted `cycle`
 * (> chain_cycles): the inverse of rtc_cycles, rounded up. */
static uint64_t rtc_cycle_time(const struct devices_rtc *r, uint64_t cycle)
{
	uint64_t d = cycle - r->chain_cycles;
	uint64_t secs = d / OSC_HZ, rem = d % OSC_HZ;

	if (secs >= (DEVICES_NEVER - r->chain_ns) / NS_PER_SEC)
		return DEVICES_NEVER;
	return r->chain_ns + secs * NS_PER_SEC + (rem * NS_PER_SEC + OSC_HZ - 1) / OSC_HZ;
}

/* Restart the chain, which had counted `count`, `phase` cycles into a
 * second, so that the next update comes OSC_HZ - phase cycles from now.  The
 * count jumps forward to a fresh second so it never runs backwards; no flag
 * is raised for the jump. */
static void rtc_restart_chain(struct devices_rtc *r, uint64_t now, uint64_t count, uint64_t phase)
{
	r->chain_cycles = (count / OSC_HZ + 1) * OSC_HZ + phase;
	r->chain_ns = now;
	r->synced_cycles = r->chain_cycles;
}

/*
 * RS3-0 to a period in oscillator cycles (datasheet Table 5): rate n >= 3
 * divides 32.768 kHz by 2^(n-1), from 8192 Hz (n = 3) to 2 Hz (n = 15).
 * With a 32.768 kHz time base, rates 1 and 2 repeat rates 8 and 9 (256 and
 * 128 Hz) because the 1st and 2nd divider taps are not used.  0: none.
 */
static uint64_t rtc_period_cycles(const struct devices_rtc *r)
{
	unsigned rs = r->cmos[RTC_REG_A] & A_RS;

	if (rs == 0)
		return 0;
	if (rs <= 2)
		rs += 7;
	return 1ull << (rs - 1);
}

/* ---- time of day and its register encodings ---- */

static uint8_t rtc_to_reg(const struct devices_rtc *r, unsigned v)
{
	if (r->cmos[RTC_REG_B] & B_DM)
		return (uint8_t)v;
	return (uint8_t)((v / 10) << 4 | v % 10);
}

/* Out-of-range BCD digits decode to out-of-range values, which the
 * calendar arithmetic then carries (see rtc_load_time). */
static unsigned rtc_from_reg(const struct devices_rtc *r, uint8_t b)
{
	if (r->cmos[RTC_REG_B] & B_DM)
		return b;
	return (unsigned)(b >> 4) * 10 + (b & 0x0F);
}

/* 12-hour mode (datasheet Table 3): 12 AM is hour 0, 12 PM hour 12, and
 * bit 7 flags PM in both BCD and binary. */
static uint8_t rtc_hour_to_reg(const struct devices_rtc *r, unsigned h)
{
	unsigned h12 = h % 12 ? h % 12 : 12;

	if (r->cmos[RTC_REG_B] & B_24H)
		return rtc_to_reg(r, h);
	return rtc_to_reg(r, h12) | (h >= 12 ? HOUR_PM : 0);
}

static unsigned rtc_hour_from_reg(const struct devices_rtc *r, uint8_t b)
{
	if (r->cmos[RTC_REG_B] & B_24H)
		return rtc_from_reg(r, b);
	return rtc_from_reg(r, b & ~HOUR_PM) % 12 + (b & HOUR_PM ? 12 : 0);
}

static int mod7(int64_t v)
{
	return (int)(((v % 7) + 7) % 7);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

/* The time now while the clock runs (not frozen). */
static int64_t rtc_time(const struct devices_rtc *r, uint64_t now)
{
	return r->time_base + (int64_t)(rtc_cycles(r, now) / OSC_HZ - r->secs_base);
}

/* Write time `t` into the time bytes in the current format. */
static void rtc_store_time(struct devices_rtc *r, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		return;	/* only past year 2^31; the bytes keep their old value */
	r->cmos[RTC_SEC] = rtc_to_reg(r, (unsigned)tm.tm_sec);
	r->cmos[RTC_MIN] = rtc_to_reg(r, (unsigned)tm.tm_min);
	r->cmos[RTC_HOUR] = rtc_hour_to_reg(r, (unsigned)tm.tm_hour);
	r->cmos[RTC_DOW] = rtc_to_reg(r, (unsigned)mod7(tm.tm_wday + r->dow_offset) + 1);
	r->cmos[RTC_DOM] = rtc_to_reg(r, (unsigned)tm.tm_mday);
	r->cmos[RTC_MON] = rtc_to_reg(r, (unsigned)tm.tm_mon + 1);
	r->cmos[RTC_YEAR] = rtc_to_reg(r, (unsigned)((tm.tm_year + 1900) % 100));
	r->cmos[RTC_CENTURY] = rtc_to_reg(r, (unsigned)((tm.tm_year + 1900) / 100));
}

/*
 * Start the clock from the time bytes.  The weekday is the chip's own
 * counter, advanced with the date but never checked against it, so we keep
 * how far the guest set it from the true weekday.
 * XXX: out-of-range values are carried (second 65 is 1:05 later, 31 February
 * is 3 March) instead of counting on from garbage as the chip's counters do.
 */
static void rtc_load_time(struct devices_rtc *r, uint64_t now)
{
	unsigned year = rtc_from_reg(r, r->cmos[RTC_CENTURY]) * 100 +
			rtc_from_reg(r, r->cmos[RTC_YEAR]);
	struct tm tm = {
		.tm_sec = (int)rtc_from_reg(r, r->cmos[RTC_SEC]),
		.tm_min = (int)rtc_from_reg(r, r->cmos[RTC_MIN]),
		.tm_hour = (int)rtc_hour_from_reg(r, r->cmos[RTC_HOUR]),
		.tm_mday = (int)rtc_from_reg(r, r->cmos[RTC_DOM]),
		.tm_mon = (int)rtc_from_reg(r, r->cmos[RTC_MON]) - 1,
		.tm_year = (int)year - 1900,
	};
	time_t t = timegm(&tm);
	/* 1 January 1970 was a Thursday (tm_wday 4). */
	int64_t wday = floor_div(t, SECS_PER_DAY) + 4;

	r->time_base = t;
	r->secs_base = rtc_cycles(r, now) / OSC_HZ;
	r->dow_offset = mod7((int64_t)rtc_from_reg(r, r->cmos[RTC_DOW]) - 1 - wday);
}

/* ---- the alarm ---- */

/* Datasheet "Alarm": each alarm byte is compared with its time register in
 * the current format; a byte with both top bits set matches any value. */
static bool rtc_alarm_field(uint8_t alarm, uint8_t reg)
{
	return alarm >= ALARM_DONT_CARE || alarm == reg;
}

static bool rtc_alarm_hour(const struct devices_rtc *r, unsigned h)
{
	return rtc_alarm_field(r->cmos[RTC_HOUR_ALARM], rtc_hour_to_reg(r, h));
}

static bool rtc_alarm_min(const struct devices_rtc *r, unsigned m)
{
	return rtc_alarm_field(r->cmos[RTC_MIN_ALARM], rtc_to_reg(r, m));
}

static bool rtc_alarm_sec(const struct devices_rtc *r, unsigned s)
{
	return rtc_alarm_field(r->cmos[RTC_SEC_ALARM], rtc_to_reg(r, s));
}

/* An alarm byte no valid value can equal never goes off. */
static bool rtc_alarm_possible(const struct devices_rtc *r)
{
	bool h = false, m = false, s = false;

	for (unsigned v = 0; v < 60; v++) {
		h |= v < 24 && rtc_alarm_hour(r, v);
		m |= rtc_alarm_min(r, v);
		s |= rtc_alarm_sec(r, v);
	}
	return h && m && s;
}

/* The first second of the day at or after `from` that matches, or -1.
 * Only called when the alarm is possible, so each loop finds its match
 * within one sweep of the next. */
static int rtc_alarm_next_tod(const struct devices_rtc *r, int from)
{
	unsigned h0 = (unsigned)from / 3600, m0 = (unsigned)from / 60 % 60, s0 = (unsigned)from % 60;

	for (unsigned h = h0; h < 24; h++) {
		if (!rtc_alarm_hour(r, h))
			continue;
		for (unsigned m = h == h0 ? m0 : 0; m < 60; m++) {
			if (!rtc_alarm_min(r, m))
				continue;
			for (unsigned s = h == h0 && m == m0 ? s0 : 0; s < 60; s++)
				if (rtc_alarm_sec(r, s))
					return (int)(h * 3600 + m * 60 + s);
		}
	}
	return -1;
}

/* The first time at or after `t` that the alarm matches; -1 for never. */
static int64_t rtc_alarm_next(const struct devices_rtc *r, int64_t t)
{
	int64_t day = floor_div(t, SECS_PER_DAY);
	int tod;

	if (!rtc_alarm_possible(r))
		return -1;
	tod = rtc_alarm_next_tod(r, (int)(t - day * SECS_PER_DAY));
	if (tod >= 0)
		return day * SECS_PER_DAY + tod;
	return (day + 1) * SECS_PER_DAY + rtc_alarm_next_tod(r, 0);
}

/* ---- flags, the interrupt line and the timer ---- */

/*
 * Bring register C up to `now`: PF if a periodic tick, UF if an update
 * happened since the last sync, AF if one of those updates landed on the
 * alarm time.  The flags are set whether or not their interrupt is enabled
 * (datasheet, Register C).  Updates are inhibited while SET is 1; the
 * periodic taps keep running.
 */
static void rtc_sync(struct devices_rtc *r, uint64_t now)
{
	uint64_t c = rtc_cycles(r, now), last = r->synced_cycles;
	uint64_t period = rtc_period_cycles(r);
	uint8_t flags = 0;

	if (c <= last)
		return;
	if (period && c / period > last / period)
		flags |= C_PF;
	if (!rtc_frozen(r) && c / OSC_HZ > last / OSC_HZ) {
		/* The times shown after the updates in (last, c]. */
		int64_t first = r->time_base + (int64_t)(last / OSC_HZ + 1 - r->secs_base);
		int64_t final = r->time_base + (int64_t)(c / OSC_HZ - r->secs_base);
		int64_t alarm = rtc_alarm_next(r, first);

		flags |= C_UF;
		if (alarm >= 0 && alarm <= final)
			flags |= C_AF;
	}
	r->synced_cycles = c;
	r->cmos[RTC_REG_C] |= flags;
}

/* IRQF = PF.PIE + AF.AIE + UF.UIE, and IRQ 8 follows IRQF (datasheet). */
static void rtc_update_irq(struct devices_rtc *r)
{
	bool irqf = r->cmos[RTC_REG_C] & r->cmos[RTC_REG_B] & C_FLAGS;

	r->cmos[RTC_REG_C] = (uint8_t)((r->cmos[RTC_REG_C] & C_FLAGS) | (irqf ? C_IRQF : 0));
	if (irqf == r->irq_level)
		return;
	r->irq_level = irqf;
	if (r->m && r->m->set_irq)
		r->m->set_irq(r->m->ctx, 8, irqf);
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The next moment an enabled interrupt would assert IRQ 8.  While the line
 * is up nothing more can change it until C is read, so the timer sleeps;
 * the flags of that stretch are computed when the guest reads C.
 */
static void rtc_arm(struct devices_rtc *r, uint64_t now)
{
	uint8_t b = r->cmos[RTC_REG_B];
	uint64_t c = rtc_cycles(r, now), period = rtc_period_cycles(r);
	uint64_t deadline = DEVICES_NEVER;

	if (r->irq_level || !rtc_running(r)) {
		r->timer.deadline = DEVICES_NEVER;
		return;
	}
	if ((b & B_PIE) && period)
		deadline = rtc_cycle_time(r, (c / period + 1) * period);
	if (!rtc_frozen(r) && (b & B_UIE))
		deadline = min_u64(deadline, rtc_cycle_time(r, (c / OSC_HZ + 1) * OSC_HZ));
	if (!rtc_frozen(r) && (b & B_AIE)) {
		int64_t t = rtc_time(r, now);
		int64_t alarm = rtc_alarm_next(r, t + 1);

		if (alarm >= 0)
			deadline = min_u64(deadline,
					   rtc_cycle_time(r, (c / OSC_HZ + (uint64_t)(alarm - t)) * OSC_HZ));
	}
	r->timer.deadline = deadline;
}

/* After any change: the line and the timer follow the registers. */
static void rtc_refresh(struct devices_rtc *r, uint64_t now)
{
	rtc_update_irq(r);
	rtc_arm(r, now);
}

static void rtc_timer_fire(void *s, uint64_t now)
{
	struct devices_rtc *r = s;

	rtc_sync(r, now);
	rtc_refresh(r, now);
}

/* ---- registers ---- */

static bool rtc_is_time_reg(unsigned i)
{
	switch (i) {
	case RTC_SEC: case RTC_MIN: case RTC_HOUR: case RTC_DOW:
	case RTC_DOM: case RTC_MON: case RTC_YEAR: case RTC_CENTURY:
		return true;
	}
	return false;
}

/* UIP: the 244 us before each update, only while updates happen. */
static bool rtc_uip(const struct devices_rtc *r, uint64_t now)
{
	return !rtc_frozen(r) && rtc_cycles(r, now) % OSC_HZ >= OSC_HZ - UIP_CYCLES;
}

static uint8_t rtc_read(struct devices_rtc *r, unsigned i, uint64_t now)
{
	uint8_t v;

	if (rtc_is_time_reg(i) && !rtc_frozen(r))
		rtc_store_time(r, rtc_time(r, now));
	switch (i) {
	case RTC_REG_A:
		return (uint8_t)((r->cmos[RTC_REG_A] & ~A_UIP) | (rtc_uip(r, now) ? A_UIP : 0));
	case RTC_REG_C:
		/* Reading C clears every flag and releases IRQ 8. */
		v = r->cmos[RTC_REG_C];
		r->cmos[RTC_REG_C] = 0;
		return v;
	case RTC_REG_D:
		return D_VRT;
	}
	return r->cmos[i];
}

/*
 * Divider control (datasheet Table 4; DS12887 for the oscillator-off codes):
 * 010 runs the chain; 11x holds it in reset, and the first update after the
 * reset is removed comes half a second later; any other code stops the
 * oscillator and the count resumes where it stopped.
 */
static void rtc_write_a(struct devices_rtc *r, uint8_t v, uint64_t now)
{
	uint8_t old_dv = r->cmos[RTC_REG_A] & A_DV;
	uint64_t c = rtc_cycles(r, now);

	r->cmos[RTC_REG_A] = v & ~A_UIP;
	if (old_dv == A_DV_NORMAL && !rtc_running(r)) {
		r->chain_cycles = c;
		r->chain_ns = now;
	} else if (old_dv != A_DV_NORMAL && rtc_running(r)) {
		if ((old_dv & A_DV_RESET) == A_DV_RESET)
			rtc_restart_chain(r, now, c, OSC_HZ / 2);
		else
			r->chain_ns = now;
	}
}

static void rtc_write_b(struct devices_rtc *r, uint8_t v)
{
	/* Datasheet, Register B: setting SET clears UIE. */
	if (v & B_SET)
		v &= (uint8_t)~B_UIE;
	/* XXX: DSE (the 1980s US daylight-saving rule) is kept but not applied.
	 * Changing DM or 24/12 while running converts the time bytes, where the
	 * chip would reinterpret its counters; guests set the format with SET
	 * and rewrite the time, which both handle alike. */
	r->cmos[RTC_REG_B] = v;
}

static void rtc_write(struct devices_rtc *r, unsigned i, uint8_t v, uint64_t now)
{
	bool was_frozen = rtc_frozen(r);

	/* Running: capture the time in the bytes in the old format first, so a
	 * change of one field or a freeze starts from the right time. */
	if (!was_frozen)
		rtc_store_time(r, rtc_time(r, now));
	switch (i) {
	case RTC_REG_A:
		rtc_write_a(r, v, now);
		break;
	case RTC_REG_B:
		rtc_write_b(r, v);
		break;
	case RTC_REG_C:
	case RTC_REG_D:
		break;	/* read-only */
	default:
		r->cmos[i] = v;
		break;
	}
	if (rtc_frozen(r))
		return;
	if (was_frozen || rtc_is_time_reg(i))
		rtc_load_time(r, now);
}

/* Datasheet RESET pin: PIE, AIE, UIE, SQWE and C's flags clear, IRQ
 * releases; the time, DV and RS are untouched. */
static void rtc_reset(struct devices_rtc *r)
{
	uint64_t now = rtc_clock(r);

	rtc_sync(r, now);
	r->cmos[RTC_REG_B] &= (uint8_t)~(B_PIE | B_AIE | B_UIE | B_SQWE);
	r->cmos[RTC_REG_C] = 0;
	rtc_refresh(r, now);
}

/* Show `t` from now on, the next second beginning `phase` cycles early. */
static void rtc_set_time_at(struct devices_rtc *r, uint64_t now, int64_t t, uint64_t phase)
{
	rtc_sync(r, now);
	r->dow_offset = 0;
	if (rtc_running(r))
		rtc_restart_chain(r, now, rtc_cycles(r, now), phase);
	r->time_base = t;
	r->secs_base = rtc_cycles(r, now) / OSC_HZ;
	rtc_store_time(r, t);
	rtc_refresh(r, now);
}

/* ---- port glue ---- */

enum { PORT_INDEX = 0, PORT_DATA = 1, RTC_NPORTS = 2 };

/* Port 0x70 is write-only on the PC/AT; reading it sees a floating bus. */
static uint8_t rtc_port_read_byte(struct devices_rtc *r, unsigned port, uint64_t now)
{
	if (port == PORT_DATA)
		return rtc_read(r, r->index, now);
	return 0xFF;
}

static void rtc_port_write_byte(struct devices_rtc *r, unsigned port, uint8_t v, uint64_t now)
{
	if (port == PORT_INDEX) {
		r->index = v & 0x7F;
		r->nmi_masked = v & 0x80;
	} else if (port == PORT_DATA) {
		rtc_write(r, r->index, v, now);
	}
}

/* An 8-bit part: wider accesses are byte cycles at consecutive ports. */
static uint32_t rtc_port_read(void *s, uint16_t offset, int size)
{
	struct devices_rtc *r = s;
	uint64_t now = rtc_clock(r);
	uint32_t v = 0;

	rtc_sync(r, now);
	for (int i = 0; i < size; i++)
		v |= (uint32_t)rtc_port_read_byte(r, (unsigned)offset + (unsigned)i, now) << (8 * i);
	rtc_refresh(r, now);
	return v;
}

static void rtc_port_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_rtc *r = s;
	uint64_t now = rtc_clock(r);

	rtc_sync(r, now);
	for (int i = 0; i < size; i++)
		rtc_port_write_byte(r, (unsigned)offset + (unsigned)i, (uint8_t)(value >> (8 * i)), now);
	rtc_refresh(r, now);
}

static void rtc_port_reset(void *s)
{
	rtc_reset(s);
}

static const struct devices_ops rtc_ops = {
	.name = "rtc146818",
	.read = rtc_port_read,
	.write = rtc_port_write,
	.reset = rtc_port_reset,
};

struct devices_rtc *devices_rtc_create(struct devices_bus *bus, const struct devices_machine *m)
{
	struct devices_rtc *r;
	struct timespec host;
	uint64_t now;
	int ret;

	/* Check for a free timer slot first: the bus cannot unregister ports. */
	if (bus->ntimers == DEVICES_TIMERS_MAX) {
		errno = ENOSPC;
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->m = m;
	r->timer = (struct devices_timer){
		.deadline = DEVICES_NEVER, .fire = rtc_timer_fire, .s = r, .name = "rtc",
	};
	/* What a PC BIOS leaves: 32.768 kHz, 1024 Hz periodic rate, BCD,
	 * 24-hour, no interrupts enabled. */
	r->cmos[RTC_REG_A] = A_DV_NORMAL | 0x06;
	r->cmos[RTC_REG_B] = B_24H;
	if (clock_gettime(CLOCK_REALTIME, &host) < 0)
		host = (struct timespec){ 0 };
	now = rtc_clock(r);
	r->chain_ns = now;	/* the chain starts counting now: no flags yet */
	rtc_set_time_at(r, now, host.tv_sec, (uint64_t)host.tv_nsec * OSC_HZ / NS_PER_SEC);

	ret = devices_bus_register(bus, 0x70, RTC_NPORTS, &rtc_ops, r);
	if (ret < 0)
		goto out_free;
	ret = devices_bus_add_timer(bus, &r->timer);
	assert(ret == 0);	/* the slot was checked above */
	return r;

out_free:
	free(r);
	errno = -ret;
	return NULL;
}

void devices_rtc_destroy(struct devices_rtc *r)
{
	free(r);
}

int devices_rtc_nmi_masked(const struct devices_rtc *r)
{
	return r->nmi_masked;
}

void devices_rtc_set_cmos(struct devices_rtc *r, int index, uint8_t value)
{
	uint64_t now = rtc_clock(r);

	assert(index >= 0 && index < RTC_CMOS_SIZE);
	rtc_sync(r, now);
	rtc_write(r, (unsigned)index, value, now);
	rtc_refresh(r, now);
}

void devices_rtc_set_time(struct devices_rtc *r, int64_t utc_seconds)
{
	rtc_set_time_at(r, rtc_clock(r), utc_seconds, 0);
}
