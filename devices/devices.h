/* devices/: PC device models and the I/O port bus the monitor dispatches through. */
#ifndef BT_DEVICES_H
#define BT_DEVICES_H

#include <stdbool.h>
#include <stdint.h>

/*
 * A device is a state struct plus this table of callbacks.  The device sees
 * port offsets from the base it was registered at, never the base itself, so
 * the same model can sit at COM1 or COM2 (TinyEMU/Firecracker bus style).
 * `size` is 1, 2 or 4 bytes.
 */
struct devices_ops {
	const char *name;
	uint32_t (*read)(void *s, uint16_t offset, int size);
	void (*write)(void *s, uint16_t offset, uint32_t value, int size);
	void (*reset)(void *s);
};

#define DEVICES_BUS_MAX 64

struct devices_range {
	uint16_t base, len;
	const struct devices_ops *ops;
	void *s;
};

/* The I/O port bus: a small sorted table of non-overlapping port ranges. */
struct devices_bus {
	struct devices_range r[DEVICES_BUS_MAX];
	int n;
	uint64_t unclaimed_reads, unclaimed_writes;
};

/*
 * What devices may ask of the machine they are plugged into.  Passed at init
 * so that a unit test can plug a device into a fake machine.
 */
struct devices_machine {
	void *ctx;
	/* Stop the VM; bt exits with `status` (isa-debug-exit, reset, poweroff). */
	void (*request_exit)(void *ctx, int status);
	/* Drive ISA interrupt line `irq` (0..15) to `level`; may be NULL until
	 * the PIC exists. */
	void (*set_irq)(void *ctx, int irq, int level);
};

void devices_bus_init(struct devices_bus *bus);
/* Returns 0, -EEXIST if [base, base+len) overlaps a registered range, or
 * -ENOSPC when the table is full. */
int devices_bus_register(struct devices_bus *bus, uint16_t base, uint16_t len,
			 const struct devices_ops *ops, void *s);
/* Port accesses; unclaimed reads return all ones, unclaimed writes are dropped. */
uint32_t devices_bus_in(struct devices_bus *bus, uint16_t port, int size);
void devices_bus_out(struct devices_bus *bus, uint16_t port, uint32_t value, int size);
void devices_bus_reset(struct devices_bus *bus);

/* 16550A UART.  Transmitted bytes go to out_fd. */
struct devices_uart16550;
struct devices_uart16550 *devices_uart16550_create(struct devices_bus *bus,
						   uint16_t base, int irq, int out_fd,
						   const struct devices_machine *m);
void devices_uart16550_destroy(struct devices_uart16550 *u);

/* isa-debug-exit: a write of v ends bt with status (v << 1) | 1, as QEMU does. */
struct devices_debugexit;
struct devices_debugexit *devices_debugexit_create(struct devices_bus *bus,
						   uint16_t base,
						   const struct devices_machine *m);
void devices_debugexit_destroy(struct devices_debugexit *d);

/* Port 0x80: POST code latch; reads return the last value written. */
struct devices_port80;
struct devices_port80 *devices_port80_create(struct devices_bus *bus, uint16_t base);
void devices_port80_destroy(struct devices_port80 *p);

#endif
