/* devices/: PC device models and the I/O port bus the monitor dispatches through. */
#ifndef BT_DEVICES_H
#define BT_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
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


/*
 * What devices may ask of the machine they are plugged into.  Passed at init
 * so that a unit test can plug a device into a fake machine (with a fake
 * clock).  Any callback may be NULL: the device then does without it.
 */
struct devices_machine {
	void *ctx;
	/* Stop the VM; bt exits with `status` (isa-debug-exit, poweroff). */
	void (*request_exit)(void *ctx, int status);
	/* Drive ISA interrupt line `irq` (0..15) to `level` (0 or 1).  In bt
	 * this goes to the 8259A pair. */
	void (*set_irq)(void *ctx, int irq, int level);
	/* The PIC pair's INTR output to the CPU changed to `level`. */
	void (*set_intr)(void *ctx, int level);
	/* The machine's virtual clock: nanoseconds, monotonic, starting near 0
	 * when the VM is created.  Devices compute their state from it lazily. */
	uint64_t (*now_ns)(void *ctx);
	/* System reset requested (i8042 command 0xFE, output port bit 0,
	 * port 0x92 bit 0). */
	void (*request_reset)(void *ctx);
	/* The A20 gate changed (i8042 output port bit 1, port 0x92 bit 1). */
	void (*set_a20)(void *ctx, int on);
};

/*
 * A device timer: `fire` runs once the machine's clock reaches `deadline`
 * (the device re-arms it by setting a new deadline, disarms it with
 * DEVICES_NEVER).  Timers are only needed for events that must reach the CPU
 * without the guest looking (interrupts); everything else is computed from
 * the clock when the guest reads it.  A device that changes a deadline
 * outside fire() needs nothing else: the machine reads the deadlines again
 * after every port access and every timer run.
 */
#define DEVICES_NEVER UINT64_MAX

struct devices_timer {
	uint64_t deadline;
	void (*fire)(void *s, uint64_t now);
	void *s;
	const char *name;
};

#define DEVICES_TIMERS_MAX 16

/* The I/O port bus: a small sorted table of non-overlapping port ranges,
 * and the timers of the devices on it. */
struct devices_bus {
	struct devices_range r[DEVICES_BUS_MAX];
	int n;
	uint64_t unclaimed_reads, unclaimed_writes;
	struct devices_timer *timers[DEVICES_TIMERS_MAX];
	int ntimers;
};

void devices_bus_init(struct devices_bus *bus);
/* Returns 0, -EEXIST if [base, base+len) overlaps a registered range, or
 * -ENOSPC when the table is full. */
int devices_bus_register(struct devices_bus *bus, uint16_t base, uint16_t len,
			 const struct devices_ops *ops, void *s);
/* Undoes devices_bus_register for the range starting at `base` (a device
 * with several ranges unwinds a half-done create, or leaves the bus on
 * destroy): 0, or -ENOENT if no range starts there. */
int devices_bus_unregister(struct devices_bus *bus, uint16_t base);
/* Port accesses; unclaimed reads return all ones, unclaimed writes are dropped. */
uint32_t devices_bus_in(struct devices_bus *bus, uint16_t port, int size);
void devices_bus_out(struct devices_bus *bus, uint16_t port, uint32_t value, int size);
void devices_bus_reset(struct devices_bus *bus);

/*
 * For the ops of an 8-bit part with `nregs` byte registers: a word or dword
 * access is the ISA bus's sequence of byte cycles at consecutive offsets,
 * lowest byte first.  Offsets at or past nregs belong to whatever sits above
 * the part, which the bus does not route here: they read as floating (0xFF)
 * and writes to them are dropped.
 */
uint32_t devices_read_bytes(void *s, uint16_t offset, int size, unsigned nregs,
			    uint8_t (*read8)(void *s, unsigned reg));
void devices_write_bytes(void *s, uint16_t offset, uint32_t value, int size, unsigned nregs,
			 void (*write8)(void *s, unsigned reg, uint8_t v));

/* Timers: registration (-ENOSPC when full), the earliest deadline
 * (DEVICES_NEVER if none), and running every timer whose deadline is at or
 * before `now` (a timer that re-arms itself in the past runs again, up to a
 * bound, so a late machine catches up without looping forever). */
int devices_bus_add_timer(struct devices_bus *bus, struct devices_timer *t);
/* Undoes devices_bus_add_timer: 0, or -ENOENT if `t` is not on the bus. */
int devices_bus_remove_timer(struct devices_bus *bus, struct devices_timer *t);
uint64_t devices_bus_next_deadline(const struct devices_bus *bus);
void devices_bus_run_timers(struct devices_bus *bus, uint64_t now);

/*
 * 16550A UART.  Transmitted bytes go to out_fd; received bytes come from the
 * host through devices_uart16550_receive.  It adds one bus timer (the
 * receiver's character time-out, timed by machine->now_ns), so create fails
 * with ENOSPC when the bus has no timer slot left; destroy takes its ports
 * and timer off the bus, so call it before the bus goes away.
 */
struct devices_uart16550;
struct devices_uart16550 *devices_uart16550_create(struct devices_bus *bus,
						   uint16_t base, int irq, int out_fd,
						   const struct devices_machine *m);
void devices_uart16550_destroy(struct devices_uart16550 *u);
/* Bytes from the host's end of the line: returns how many of the n the
 * receiver took (none in loopback, at most what the FIFO, or RBR with FIFOs
 * off, has room for).  Nothing is dropped: the caller keeps the rest and
 * offers it again after rx_ready. */
size_t devices_uart16550_receive(struct devices_uart16550 *u, const uint8_t *buf, size_t n);
/* `ready` runs once the receiver has room again after a receive that took
 * fewer bytes than offered.  It runs inside the guest's port access that made
 * the room (an RBR read, an FCR reset, leaving loopback) and may call
 * devices_uart16550_receive. */
void devices_uart16550_set_rx_ready(struct devices_uart16550 *u, void (*ready)(void *ctx),
				    void *ctx);

/* isa-debug-exit: a write of v ends bt with status (v << 1) | 1, as QEMU does. */
struct devices_debugexit;
struct devices_debugexit *devices_debugexit_create(struct devices_bus *bus,
						   uint16_t base,
						   const struct devices_machine *m);
void devices_debugexit_destroy(struct devices_debugexit *d);

/*
 * 8259A PIC pair (master at 0x20, slave at 0xA0 on the master's IRQ 2) and
 * the ELCR at 0x4D0/0x4D1.  IRQ lines come in through devices_pic_set_irq
 * (bt's machine->set_irq calls it); the INTR output goes to
 * machine->set_intr, called synchronously from inside set_irq, a port
 * access or ack each time the level changes (never with an unchanged
 * level).  The callback may read devices_pic_intr but must not call back
 * into set_irq or ack.  After reset the pair is uninitialised: vector base
 * 0, nothing masked; guests program it with ICW1-4.
 */
struct devices_pic;
struct devices_pic *devices_pic_create(struct devices_bus *bus, const struct devices_machine *m);
/* Unregisters the PIC's ports, so call it before the bus goes away. */
void devices_pic_destroy(struct devices_pic *p);
/* Drive ISA line `irq` (0..15) to `level`.  An edge-triggered IRQ (the
 * default; see the ELCR) latches a request on 0 -> 1 that stays latched if
 * the line drops again, so a device may pulse it; a level-triggered one
 * requests while the line is high.  IRQ 2 is routed to IRQ 9, as on an AT. */
void devices_pic_set_irq(struct devices_pic *p, int irq, int level);
/* The level of INTR now: an unmasked request outranks everything in
 * service.  Always equal to the last level given to set_intr. */
int devices_pic_intr(const struct devices_pic *p);
/* The CPU's interrupt acknowledge cycle: the vector to deliver, 0..255.
 * Call it once per interrupt taken, when INTR is 1 and the CPU's IF allows.
 * A master IRQ gives master base + irq; a slave IRQ gives slave base +
 * (irq - 8) and also puts IRQ 2 in service at the master.  The IRQ goes in
 * service (ISR) unless auto-EOI, and an edge request is consumed.  If the
 * request went away (masked, or a level line dropped) it gives the spurious
 * vector base + 7 of the chip that found nothing, with no ISR bit set at
 * that chip (a spurious slave IRQ 15 still leaves the master's IRQ 2 in
 * service).  INTR is re-evaluated before it returns. */
int devices_pic_ack(struct devices_pic *p);

/* 8254 PIT at 0x40-0x43 (IRQ 0) and system control port B at 0x61 (channel
 * 2 gate and output, speaker, refresh toggle).  Counts follow
 * machine->now_ns (without it the PIT stays at time 0).  IRQ 0 comes from a
 * bus timer due at each rising edge of channel 0's OUT, which calls
 * set_irq(ctx, 0, 1) then set_irq(ctx, 0, 0): a pulse for the PIC's edge
 * latch.  A late machine gets one pulse for all the edges it missed. */
struct devices_pit;
struct devices_pit *devices_pit_create(struct devices_bus *bus, const struct devices_machine *m);
/* Unregisters the PIT's ports and timer, so call it before the bus goes away. */
void devices_pit_destroy(struct devices_pit *p);

/* MC146818 RTC/CMOS at 0x70/0x71 (IRQ 8); the time of day comes from the
 * host's clock (UTC) at creation and runs with the machine's clock.  It adds
 * one bus timer, armed only while an enabled interrupt is due and IRQ 8 is
 * low; the bus keeps a pointer to it, so destroy the RTC after the bus has
 * run its last timers.  Create fails with ENOSPC when the bus has no timer
 * slot left. */
struct devices_rtc;
struct devices_rtc *devices_rtc_create(struct devices_bus *bus, const struct devices_machine *m);
void devices_rtc_destroy(struct devices_rtc *r);
/* Port 0x70 bit 7: NMIs are masked. */
int devices_rtc_nmi_masked(const struct devices_rtc *r);
/* CMOS bytes the machine fills in at boot (memory sizes at 0x15-0x18,
 * 0x30-0x31, 0x34-0x35, ...). */
void devices_rtc_set_cmos(struct devices_rtc *r, int index, uint8_t value);
/* Show `utc_seconds` (since 1970) from now on, the next second beginning one
 * second from now: a fixed start time for reproducible runs and tests. */
void devices_rtc_set_time(struct devices_rtc *r, int64_t utc_seconds);

/* i8042 keyboard controller at 0x60/0x64 (IRQ 1, 12), no devices behind it
 * beyond a keyboard that answers its basic commands; the aux port is empty
 * (bytes sent with 0xD4 time out: 0xFE with status bits 5 and 6).  Output
 * port changes go to machine->set_a20 and ->request_reset. */
struct devices_i8042;
struct devices_i8042 *devices_i8042_create(struct devices_bus *bus,
					   const struct devices_machine *m);
void devices_i8042_destroy(struct devices_i8042 *k);
/* The A20 gate output (output port bit 1) now; starts on. */
int devices_i8042_a20(const struct devices_i8042 *k);

/* Port 0x92, System Control Port A: fast A20 (bit 1) and fast reset (bit 0). */
struct devices_port92;
struct devices_port92 *devices_port92_create(struct devices_bus *bus,
					     const struct devices_machine *m);
void devices_port92_destroy(struct devices_port92 *p);
/* Bit 1 now; starts 0.  A PC chipset enables A20 when this or the i8042's
 * output port bit 1 (devices_i8042_a20) is set. */
int devices_port92_a20(const struct devices_port92 *p);

/* Port 0x80: POST code latch; reads return the last value written. */
struct devices_port80;
struct devices_port80 *devices_port80_create(struct devices_bus *bus, uint16_t base);
void devices_port80_destroy(struct devices_port80 *p);

/*
 * PCI configuration mechanism #1: CONFIG_ADDRESS at 0xCF8 (dword accesses
 * only) and the data window at 0xCFC-0xCFF.  Bus 0 holds an Intel 440FX
 * host bridge (8086:1237) at 00:00.0; every other function reads all ones.
 * Ports 0xCF9-0xCFB are left to others (0xCF9: devices_acpi's reset
 * control register).  `m` may be NULL.
 */
struct devices_pci;
struct devices_pci *devices_pci_create(struct devices_bus *bus, const struct devices_machine *m);
/* Unregisters the ports, so call it before the bus goes away. */
void devices_pci_destroy(struct devices_pci *p);

/*
 * ACPI fixed hardware, as the tables below describe it: PM1a event block at
 * 0x600 (status, enable), PM1a control at 0x604, the 24-bit PM timer at 0x608
 * (3.579545 MHz from machine->now_ns), the SCI on IRQ 9 (level, through
 * machine->set_irq; only TMR_STS can raise it, when TMR_EN is set), and the
 * PIIX3 reset control register at 0xCF9 (a write with bit 2 set calls
 * machine->request_reset).  Writing SLP_EN with the S5 sleep type calls
 * machine->request_exit(ctx, 0): the guest powered off.  Other sleep types
 * are ignored (one line on stderr).  Adds one bus timer; create fails with
 * ENOSPC when the bus has none left.
 */
struct devices_acpi;
struct devices_acpi *devices_acpi_create(struct devices_bus *bus, const struct devices_machine *m);
/* Unregisters the ports and the timer, so call it before the bus goes away. */
void devices_acpi_destroy(struct devices_acpi *a);

/* Where devices_acpi_build_tables writes: guest physical
 * [DEVICES_ACPI_TABLES_BASE, + DEVICES_ACPI_TABLES_SIZE), inside the BIOS
 * area 0xE0000-0xFFFFF, to be reserved (not RAM) in the guest's e820 map.
 * The RSDP is at its start (for boot_params.acpi_rsdp_addr). */
#define DEVICES_ACPI_TABLES_BASE	0xE0000u
#define DEVICES_ACPI_TABLES_SIZE	0x1000u
#define DEVICES_ACPI_RSDP_ADDR		DEVICES_ACPI_TABLES_BASE

/*
 * Write the RSDP, RSDT, FADT, FACS and DSDT (with \_S5 and the PCI root
 * bridge) into guest RAM: `ram` is guest physical address 0 (the physmap),
 * `ram_size` the bytes of RAM, which also places the PCI memory window
 * above RAM.  Zeroes the rest of the range.  Returns 0, or -EINVAL if RAM
 * does not cover the range.  Call it after loading the kernel, and again
 * after each reload (a guest may have written over the tables).
 */
int devices_acpi_build_tables(uint8_t *ram, size_t ram_size);

#endif
