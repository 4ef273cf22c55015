/* devices/bus.c: the I/O port bus, a sorted table of port ranges that IN/OUT dispatch through. */
#include "devices/devices.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

/*
 * Ranges are kept sorted by base and never overlap, so their ends are sorted
 * too and one binary search finds the only range that can hold a port.  The
 * table is tiny (a PC has a dozen devices) and registration happens once at
 * VM assembly, so insertion by memmove is fine.
 */

#define PORT_SPACE 0x10000u

static uint32_t size_mask(int size)
{
	/* The decoder only produces byte, word and dword port accesses. */
	assert(size == 1 || size == 2 || size == 4);
	return size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
}

static uint32_t range_end(const struct devices_range *r)
{
	return (uint32_t)r->base + r->len;
}

/* Index of the first range that ends above `port`; bus->n if there is none. */
static int first_ending_above(const struct devices_bus *bus, uint16_t port)
{
	int lo = 0, hi = bus->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;

		if (range_end(&bus->r[mid]) <= port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct devices_range *find(const struct devices_bus *bus, uint16_t port)
{
	int i = first_ending_above(bus, port);

	if (i < bus->n && bus->r[i].base <= port)
		return &bus->r[i];
	return NULL;
}

void devices_bus_init(struct devices_bus *bus)
{
	memset(bus, 0, sizeof(*bus));
}

int devices_bus_register(struct devices_bus *bus, uint16_t base, uint16_t len,
			 const struct devices_ops *ops, void *s)
{
	int i;

	if (len == 0 || (uint32_t)base + len > PORT_SPACE)
		return -EINVAL;
	if (!ops || !ops->read || !ops->write)
		return -EINVAL;

	/* The first range ending above `base` is the only one that can overlap
	 * [base, base + len): every earlier one ends at or below base. */
	i = first_ending_above(bus, base);
	if (i < bus->n && bus->r[i].base < (uint32_t)base + len)
		return -EEXIST;
	if (bus->n == DEVICES_BUS_MAX)
		return -ENOSPC;

	memmove(&bus->r[i + 1], &bus->r[i], (size_t)(bus->n - i) * sizeof(bus->r[0]));
	bus->r[i] = (struct devices_range){ .base = base, .len = len, .ops = ops, .s = s };
	bus->n++;
	return 0;
}

/*
 * An access belongs to the range holding its first port and reaches the device
 * as one access of the original size: the device knows whether it is an 8-bit
 * part that the ISA bus would split.
 * XXX: a word/dword access whose first port is unclaimed but whose later bytes
 * hit a device (e.g. inw 0x3F7) is treated as wholly unclaimed; real chipsets
 * split it into byte cycles.
 */
int devices_bus_unregister(struct devices_bus *bus, uint16_t base)
{
	int i = first_ending_above(bus, base);

	if (i == bus->n || bus->r[i].base != base)
		return -ENOENT;
	memmove(&bus->r[i], &bus->r[i + 1], (size_t)(bus->n - i - 1) * sizeof(bus->r[0]));
	bus->n--;
	return 0;
}

uint32_t devices_bus_in(struct devices_bus *bus, uint16_t port, int size)
{
	uint32_t mask = size_mask(size);
	const struct devices_range *r = find(bus, port);

	if (!r) {
		/* Nothing drives the ISA data lines: they float high. */
		bus->unclaimed_reads++;
		return mask;
	}
	return r->ops->read(r->s, (uint16_t)(port - r->base), size) & mask;
}

void devices_bus_out(struct devices_bus *bus, uint16_t port, uint32_t value, int size)
{
	uint32_t mask = size_mask(size);
	const struct devices_range *r = find(bus, port);

	if (!r) {
		bus->unclaimed_writes++;
		return;
	}
	r->ops->write(r->s, (uint16_t)(port - r->base), value & mask, size);
}

void devices_bus_reset(struct devices_bus *bus)
{
	for (int i = 0; i < bus->n; i++)
		if (bus->r[i].ops->reset)
			bus->r[i].ops->reset(bus->r[i].s);
}

int devices_bus_add_timer(struct devices_bus *bus, struct devices_timer *t)
{
	if (bus->ntimers == DEVICES_TIMERS_MAX)
		return -ENOSPC;
	bus->timers[bus->ntimers++] = t;
	return 0;
}

uint64_t devices_bus_next_deadline(const struct devices_bus *bus)
{
	uint64_t d = DEVICES_NEVER;

	for (int i = 0; i < bus->ntimers; i++)
		if (bus->timers[i]->deadline < d)
			d = bus->timers[i]->deadline;
	return d;
}

/*
 * A timer that keeps re-arming itself at or before `now` (a periodic device
 * far behind a stalled host) runs at most this many times per call; the
 * next call continues.  Real edge-triggered lines lose such ticks anyway.
 */
#define CATCH_UP_MAX 64

void devices_bus_run_timers(struct devices_bus *bus, uint64_t now)
{
	for (int i = 0; i < bus->ntimers; i++) {
		struct devices_timer *t = bus->timers[i];

		for (int n = 0; n < CATCH_UP_MAX && t->deadline <= now; n++) {
			uint64_t before = t->deadline;

			t->fire(t->s, now);
			if (t->deadline == before)	/* did not re-arm: disarm */
				t->deadline = DEVICES_NEVER;
		}
	}
}
