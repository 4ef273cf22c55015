/* devices/debugexit.c: isa-debug-exit, the port a test guest writes to end bt with a status. */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>

/*
 * Semantics follow QEMU's isa-debug-exit (hw/misc/debugexit.c), because QEMU
 * is the oracle test guests also run under: any write of v, of any width at
 * any port of the range, ends the VM with status (v << 1) | 1, so a guest can
 * never fake a clean exit 0; reads return 0 (QEMU's read handler returns 0,
 * which is also how a guest tells the device from an empty port's 0xFF).
 * The range is 4 ports, as with the usual `-device
 * isa-debug-exit,iobase=0xf4,iosize=0x04`, so outl to 0xF4 stays in range.
 */
#define DEBUGEXIT_LEN 4

struct devices_debugexit {
	const struct devices_machine *m;	/* must outlive the device */
};

static uint32_t debugexit_read(void *s, uint16_t offset, int size)
{
	(void)s;
	(void)offset;
	(void)size;
	return 0;
}

static void debugexit_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_debugexit *d = s;
	/* Computed wide, as QEMU does, then narrowed: only the low 8 bits
	 * survive as a process exit status anyway. */
	uint64_t status = ((uint64_t)value << 1) | 1;

	(void)offset;
	(void)size;
	if (d->m && d->m->request_exit)
		d->m->request_exit(d->m->ctx, (int)(uint32_t)status);
}

static const struct devices_ops debugexit_ops = {
	.name = "isa-debug-exit",
	.read = debugexit_read,
	.write = debugexit_write,
};

struct devices_debugexit *devices_debugexit_create(struct devices_bus *bus,
						   uint16_t base,
						   const struct devices_machine *m)
{
	struct devices_debugexit *d = calloc(1, sizeof(*d));
	int ret;

	if (!d)
		return NULL;
	d->m = m;
	ret = devices_bus_register(bus, base, DEBUGEXIT_LEN, &debugexit_ops, d);
	if (ret < 0)
		goto out_free;
	return d;

out_free:
	free(d);
	errno = -ret;
	return NULL;
}

void devices_debugexit_destroy(struct devices_debugexit *d)
{
	free(d);
}
