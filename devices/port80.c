/* devices/port80.c: port 0x80 POST code latch, as on a POST diagnostic card. */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>

/*
 * Firmware and Linux (outb_p's delay write) write here; keeping the last code
 * readable makes it a cheap breadcrumb when a guest dies.  There is no reset
 * callback on purpose: the last code before a reboot is the interesting one,
 * and a POST card's display is not cleared by RESET either.
 */
struct devices_port80 {
	uint8_t code;
};

/* One port wide: a word/dword access's upper bytes are other ports (0x81 is
 * a DMA page register), so they read as floating and writes to them drop. */
static uint32_t port80_read(void *s, uint16_t offset, int size)
{
	struct devices_port80 *p = s;

	(void)offset;	/* always 0: the range is one port */
	return (size == 4 ? 0xFFFFFF00u : 0xFF00u) | p->code;
}

static void port80_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_port80 *p = s;

	(void)offset;
	(void)size;
	p->code = (uint8_t)value;
}

static const struct devices_ops port80_ops = {
	.name = "port80",
	.read = port80_read,
	.write = port80_write,
};

struct devices_port80 *devices_port80_create(struct devices_bus *bus, uint16_t base)
{
	struct devices_port80 *p = calloc(1, sizeof(*p));
	int ret;

	if (!p)
		return NULL;
	ret = devices_bus_register(bus, base, 1, &port80_ops, p);
	if (ret < 0)
		goto out_free;
	return p;

out_free:
	free(p);
	errno = -ret;
	return NULL;
}

void devices_port80_destroy(struct devices_port80 *p)
{
	free(p);
}
