/* devices/port92.c: System Control Port A at 0x92 (PS/2 and PC chipsets): fast A20 gate and fast CPU reset. */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>

/* Bits (IBM PS/2 Hardware Interface Technical Reference, "System Control
 * Port A"; Intel PIIX/ICH datasheets, port 92h).  The others (watchdog,
 * CMOS lock, disk activity lights) are plain latches here. */
#define P92_RESET	0x01	/* a 0 -> 1 transition resets the CPU */
#define P92_A20		0x02	/* 1: A20 enabled through this port */

/*
 * One latch.  The chipset's A20 gate is this bit OR the i8042's output port
 * bit 1, so the port starts at 0 (A20 comes from the i8042, which starts
 * with it on); each device reports only its own latch through set_a20.
 */
struct devices_port92 {
	uint8_t v;
	const struct devices_machine *m;	/* may be NULL; must outlive the port */
};

static void port92_write_byte(struct devices_port92 *p, uint8_t v)
{
	uint8_t old = p->v;

	p->v = v;
	if (((old ^ v) & P92_A20) && p->m && p->m->set_a20)
		p->m->set_a20(p->m->ctx, (v & P92_A20) != 0);
	/* Only the rising edge resets: the guest must write 0 before it can
	 * reset again.  The bit reads back as written. */
	if (!(old & P92_RESET) && (v & P92_RESET) && p->m && p->m->request_reset)
		p->m->request_reset(p->m->ctx);
}

/* One port wide: the upper bytes of a wider access are 0x93-0x95, which
 * nothing here decodes: they float, and writes to them are dropped. */
static uint32_t port92_read(void *s, uint16_t offset, int size)
{
	struct devices_port92 *p = s;

	(void)offset;
	return (size == 1 ? 0 : size == 2 ? 0xFF00u : 0xFFFFFF00u) | p->v;
}

static void port92_write(void *s, uint16_t offset, uint32_t value, int size)
{
	(void)offset;
	(void)size;
	port92_write_byte(s, (uint8_t)value);
}

/* Reset clears the latch without calling the machine: its reset sets up
 * its own A20 gate (from devices_i8042_a20 || devices_port92_a20). */
static void port92_reset(void *s)
{
	((struct devices_port92 *)s)->v = 0;
}

static const struct devices_ops port92_ops = {
	.name = "port92",
	.read = port92_read,
	.write = port92_write,
	.reset = port92_reset,
};

struct devices_port92 *devices_port92_create(struct devices_bus *bus,
					     const struct devices_machine *m)
{
	struct devices_port92 *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return NULL;
	p->m = m;
	ret = devices_bus_register(bus, 0x92, 1, &port92_ops, p);
	if (ret < 0)
		goto out_free;
	return p;

out_free:
	free(p);
	errno = -ret;
	return NULL;
}

void devices_port92_destroy(struct devices_port92 *p)
{
	free(p);
}

int devices_port92_a20(const struct devices_port92 *p)
{
	return (p->v & P92_A20) != 0;
}
