/* devices/uart16550.c: National/TI PC16550D (16550A) UART; transmit to a host fd, no receive yet. */
#include "devices/devices.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Register offsets from the base (PC16550D datasheet, Table II). */
enum {
	UART_RBR_THR = 0,	/* DLAB=1: DLL */
	UART_IER = 1,		/* DLAB=1: DLM */
	UART_IIR_FCR = 2,	/* read IIR, write FCR */
	UART_LCR = 3,
	UART_MCR = 4,
	UART_LSR = 5,
	UART_MSR = 6,
	UART_SCR = 7,
	UART_NREGS = 8,
};

#define IER_ERBFI	0x01	/* received data available */
#define IER_ETBEI	0x02	/* transmitter holding register empty */
#define IER_ELSI	0x04	/* receiver line status */
#define IER_EDSSI	0x08	/* modem status */
#define IER_MASK	0x0F	/* bits 4-7 are always 0 on a 16550A */

/* IIR bits 0-3: bit 0 is "no interrupt pending" (active low), bits 1-3 the
 * highest-priority source (Table IV). */
#define IIR_NONE	0x01
#define IIR_RLS		0x06
#define IIR_RDA		0x04
#define IIR_THRE	0x02
#define IIR_MS		0x00
#define IIR_FIFOS	0xC0	/* both set while FCR0=1 on a 16550A */

#define FCR_ENABLE	0x01
#define FCR_RX_RESET	0x02	/* self-clearing */
#define FCR_TX_RESET	0x04	/* self-clearing */
#define FCR_DMA		0x08
#define FCR_TRIGGER	0xC0

#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1F	/* bits 5-7 are always 0 on a 16550A */

#define LSR_DR		0x01
#define LSR_ERRORS	0x9E	/* OE, PE, FE, BI, error in RCVR FIFO */
#define LSR_THRE	0x20
#define LSR_TEMT	0x40

#define MSR_DCTS	0x01
#define MSR_DDSR	0x02
#define MSR_TERI	0x04
#define MSR_DDCD	0x08
#define MSR_DELTAS	0x0F
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

/* 115200 / 12 = 9600 baud; the datasheet leaves the latch undefined after reset. */
#define UART_RESET_DIVISOR 12

/*
 * The chip's registers, then the wiring to the machine.  The transmit side is
 * always idle: a byte written to THR goes straight out to out_fd, so THR and
 * the shift register are empty again before the guest can look (THRE and TEMT
 * stay set).  `thr_ipending` is the datasheet's THRE interrupt condition, kept
 * apart from LSR.THRE because reading IIR clears the interrupt but not the bit.
 */
struct devices_uart16550 {
	uint8_t rbr, ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	bool thr_ipending;
	int irq_level;

	int irq;			/* ISA line 0..15; negative: not wired */
	int out_fd;			/* negative: transmitted bytes are dropped */
	const struct devices_machine *m;	/* may be NULL; must outlive the UART */
	uint64_t tx_bytes, tx_dropped;
};

/* ---- chip logic: registers and interrupts, no knowledge of ports ---- */

/* Highest-priority pending source, as IIR bits 0-3 (Table IV priorities). */
static uint8_t uart_pending_id(const struct devices_uart16550 *u)
{
	if ((u->ier & IER_ELSI) && (u->lsr & LSR_ERRORS))
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && (u->lsr & LSR_DR))
		return IIR_RDA;
	if ((u->ier & IER_ETBEI) && u->thr_ipending)
		return IIR_THRE;
	if ((u->ier & IER_EDSSI) && (u->msr & MSR_DELTAS))
		return IIR_MS;
	return IIR_NONE;
}

/*
 * Recompute INTR from the registers and drive the ISA line.  Called after
 * every change that can move it; set_irq has level semantics, so repeating
 * the current level is harmless.
 * XXX: on a real PC board INTR reaches the ISA bus only while MCR.OUT2 is set
 * (the PC16550D itself just provides OUT2); QEMU, our oracle, ignores OUT2, and
 * so do we.
 */
static void uart_update_irq(struct devices_uart16550 *u)
{
	u->irq_level = uart_pending_id(u) != IIR_NONE;
	if (u->irq >= 0 && u->m && u->m->set_irq)
		u->m->set_irq(u->m->ctx, u->irq, u->irq_level);
}

/*
 * The modem inputs CTS, DSR, RI, DCD as MSR bits 4-7.  In loopback the
 * datasheet wires them internally to the outputs: RTS->CTS, DTR->DSR,
 * OUT1->RI, OUT2->DCD.  Otherwise the host end looks like a modem that is
 * always ready (CTS, DSR, DCD asserted, no ring), as QEMU reports.
 */
static uint8_t uart_modem_inputs(const struct devices_uart16550 *u)
{
	uint8_t in = 0;

	if (!(u->mcr & MCR_LOOP))
		return MSR_CTS | MSR_DSR | MSR_DCD;
	if (u->mcr & MCR_RTS)
		in |= MSR_CTS;
	if (u->mcr & MCR_DTR)
		in |= MSR_DSR;
	if (u->mcr & MCR_OUT1)
		in |= MSR_RI;
	if (u->mcr & MCR_OUT2)
		in |= MSR_DCD;
	return in;
}

/* Latch new modem inputs into MSR, setting the delta bits the datasheet
 * defines: DCTS/DDSR/DDCD on any change, TERI only on RI going 1 -> 0. */
static void uart_update_msr(struct devices_uart16550 *u)
{
	uint8_t now = uart_modem_inputs(u), old = u->msr & ~MSR_DELTAS;
	uint8_t changed = now ^ old, delta = u->msr & MSR_DELTAS;

	if (changed & MSR_CTS)
		delta |= MSR_DCTS;
	if (changed & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(now & MSR_RI))
		delta |= MSR_TERI;
	if (changed & MSR_DCD)
		delta |= MSR_DDCD;
	u->msr = now | delta;
}

/* write(2) all of buf, riding out signals, full pipes and short writes. */
static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* A non-blocking console: wait for room rather than spin,
			 * as a real UART holds off the guest by not emptying THR. */
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			if (poll(&p, 1, -1) < 0 && errno != EINTR)
				return -errno;
		} else {
			return n < 0 ? -errno : -EIO;
		}
	}
	return 0;
}

static void uart_transmit(struct devices_uart16550 *u, uint8_t byte)
{
	int ret;

	if (u->out_fd < 0) {
		u->tx_dropped++;
		return;
	}
	ret = write_all(u->out_fd, &byte, 1);
	if (ret < 0) {
		/* The host console is gone; the guest cannot tell, so count and
		 * say so once rather than once per byte. */
		if (u->tx_dropped++ == 0)
			fprintf(stderr, "bt: uart16550: output lost: write: %s\n", strerror(-ret));
		return;
	}
	u->tx_bytes++;
}

static void uart_write_thr(struct devices_uart16550 *u, uint8_t v)
{
	/* Datasheet Table IV: writing THR resets the THRE interrupt. */
	u->thr_ipending = false;
	uart_update_irq(u);

	if (u->mcr & MCR_LOOP) {
		/* Loopback: SOUT is held marking and the byte would go round to
		 * the receiver shift register instead.
		 * XXX: there is no receive side yet, so the looped-back byte is
		 * lost instead of appearing in RBR with LSR.DR set. */
	} else {
		uart_transmit(u, v);
	}

	/* The byte left THR at once, so THR is empty again: the THRE interrupt
	 * source re-asserts.  The line has dropped and risen, giving an
	 * edge-triggered 8259 a fresh edge, as with a real chip. */
	u->thr_ipending = true;
	uart_update_irq(u);
}

static void uart_write_ier(struct devices_uart16550 *u, uint8_t v)
{
	uint8_t old = u->ier;

	u->ier = v & IER_MASK;
	/* Enabling ETBEI while THR is empty raises a THRE interrupt at once;
	 * Linux's 8250 driver probes for exactly this (UART_BUG_THRE). */
	if (!(old & IER_ETBEI) && (u->ier & IER_ETBEI) && (u->lsr & LSR_THRE))
		u->thr_ipending = true;
	uart_update_irq(u);
}

static void uart_write_fcr(struct devices_uart16550 *u, uint8_t v)
{
	/* Datasheet FCR bit 0: it must be 1 for the other bits to be written;
	 * clearing it disables (and clears) both FIFOs.  Bits 1-2 reset the
	 * FIFOs and clear themselves; there is nothing queued to drop, since
	 * transmission is immediate and there is no receive side. */
	if (v & FCR_ENABLE)
		u->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
	else
		u->fcr = 0;
}

static uint8_t uart_read_iir(struct devices_uart16550 *u)
{
	uint8_t id = uart_pending_id(u);
	uint8_t v = id | ((u->fcr & FCR_ENABLE) ? IIR_FIFOS : 0);

	/* Table IV: reading IIR resets a THRE interrupt when THRE is the
	 * source it reports (a higher-priority source masks it and leaves it). */
	if (id == IIR_THRE) {
		u->thr_ipending = false;
		uart_update_irq(u);
	}
	return v;
}

static uint8_t uart_read_lsr(struct devices_uart16550 *u)
{
	uint8_t v = u->lsr;

	/* OE, PE, FE, BI and the FIFO error bit clear on read. */
	if (u->lsr & LSR_ERRORS) {
		u->lsr &= ~LSR_ERRORS;
		uart_update_irq(u);
	}
	return v;
}

static uint8_t uart_read_msr(struct devices_uart16550 *u)
{
	uint8_t v = u->msr;

	/* The delta bits clear on read. */
	if (u->msr & MSR_DELTAS) {
		u->msr &= ~MSR_DELTAS;
		uart_update_irq(u);
	}
	return v;
}

static uint8_t uart_read(struct devices_uart16550 *u, unsigned reg)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		/* XXX: no receive side yet: RBR reads 0 and LSR.DR stays clear. */
		return dlab ? u->dll : u->rbr;
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR_FCR:
		return uart_read_iir(u);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return uart_read_lsr(u);
	case UART_MSR:
		return uart_read_msr(u);
	case UART_SCR:
		return u->scr;
	}
	return 0xFF;
}

static void uart_write(struct devices_uart16550 *u, unsigned reg, uint8_t v)
{
	bool dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case UART_RBR_THR:
		if (dlab)
			u->dll = v;
		else
			uart_write_thr(u, v);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = v;
		else
			uart_write_ier(u, v);
		break;
	case UART_IIR_FCR:
		uart_write_fcr(u, v);
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & MCR_MASK;
		uart_update_msr(u);
		uart_update_irq(u);
		break;
	case UART_LSR:
	case UART_MSR:
		/* Read-only in normal operation (the datasheet reserves LSR
		 * writes for factory test); dropped. */
		break;
	case UART_SCR:
		u->scr = v;
		break;
	}
}

/* Master reset (datasheet Table III); the divisor latch and SCR are not reset. */
static void uart_reset(struct devices_uart16550 *u)
{
	u->rbr = 0;
	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->thr_ipending = false;
	u->msr = uart_modem_inputs(u);
	uart_update_irq(u);
}

/* ---- port glue ---- */

static uint8_t uart_read8(void *s, unsigned reg)
{
	return uart_read(s, reg);
}

static void uart_write8(void *s, unsigned reg, uint8_t v)
{
	uart_write(s, reg, v);
}

/* The 16550 is an 8-bit part (see devices_read_bytes). */
static uint32_t uart_port_read(void *s, uint16_t offset, int size)
{
	return devices_read_bytes(s, offset, size, UART_NREGS, uart_read8);
}

static void uart_port_write(void *s, uint16_t offset, uint32_t value, int size)
{
	devices_write_bytes(s, offset, value, size, UART_NREGS, uart_write8);
}

static void uart_port_reset(void *s)
{
	uart_reset(s);
}

static const struct devices_ops uart_ops = {
	.name = "uart16550",
	.read = uart_port_read,
	.write = uart_port_write,
	.reset = uart_port_reset,
};

struct devices_uart16550 *devices_uart16550_create(struct devices_bus *bus,
						   uint16_t base, int irq, int out_fd,
						   const struct devices_machine *m)
{
	struct devices_uart16550 *u;
	int ret;

	if (irq > 15) {
		errno = EINVAL;
		return NULL;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->irq = irq;
	u->out_fd = out_fd;
	u->m = m;
	u->dll = UART_RESET_DIVISOR & 0xFF;
	u->dlm = UART_RESET_DIVISOR >> 8;

	ret = devices_bus_register(bus, base, UART_NREGS, &uart_ops, u);
	if (ret < 0)
		goto out_free;
	uart_reset(u);
	return u;

out_free:
	free(u);
	errno = -ret;
	return NULL;
}

void devices_uart16550_destroy(struct devices_uart16550 *u)
{
	free(u);
}
