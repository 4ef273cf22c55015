/* devices/uart16550.c: National/TI PC16550D (16550A) UART: transmit to a host fd, receive what the host pushes. */
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
#define IIR_TIMEOUT	0x0C	/* character time-out, FIFO mode only */
#define IIR_THRE	0x02
#define IIR_MS		0x00
#define IIR_FIFOS	0xC0	/* both set while FCR0=1 on a 16550A */

#define FCR_ENABLE	0x01
#define FCR_RX_RESET	0x02	/* self-clearing */
#define FCR_TX_RESET	0x04	/* self-clearing */
#define FCR_DMA		0x08
#define FCR_TRIGGER	0xC0

#define LCR_WLS		0x03	/* word length: 5 + this many bits */
#define LCR_STB		0x04	/* 2 stop bits (1.5 with 5-bit words) */
#define LCR_PEN		0x08	/* a parity bit */
#define LCR_DLAB	0x80

#define MCR_DTR		0x01
#define MCR_RTS		0x02
#define MCR_OUT1	0x04
#define MCR_OUT2	0x08
#define MCR_LOOP	0x10
#define MCR_MASK	0x1F	/* bits 5-7 are always 0 on a 16550A */

#define LSR_DR		0x01
#define LSR_OE		0x02
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
/* The PC's UART clock: 1.8432 MHz, divided by 16 x the divisor per bit. */
#define UART_XTAL_HZ	1843200u
#define UART_FIFO_SIZE	16
/* Datasheet, FIFO interrupt mode: the time-out indication comes after no
 * character has entered or left the receive FIFO for 4 character times. */
#define UART_TIMEOUT_CHARS 4

/*
 * The chip's registers, then the wiring to the machine.  The transmit side is
 * always idle: a byte written to THR goes straight out to out_fd, so THR and
 * the shift register are empty again before the guest can look (THRE and TEMT
 * stay set).  `thr_ipending` is the datasheet's THRE interrupt condition, kept
 * apart from LSR.THRE because reading IIR clears the interrupt but not the bit.
 *
 * The receive side is a ring of UART_FIFO_SIZE bytes; with FIFOs off (16450
 * mode, FCR0=0) only one byte of it is used, which is then RBR.  LSR.DR is
 * not stored: it is "rx_count > 0".  Bytes come from the host through
 * devices_uart16550_receive, which takes only what fits (the host keeps the
 * rest, as a modem held off by flow control would), or from THR in loopback,
 * which can overrun like a real line.  `rx_timer` is the character time-out:
 * armed 4 character times after the last byte went in or out of a non-empty
 * FIFO; `timeout_ipending` is its interrupt condition (IIR 0x0C).
 */
struct devices_uart16550 {
	uint8_t rbr, ier, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
	bool thr_ipending, timeout_ipending;
	int irq_level;

	uint8_t rx[UART_FIFO_SIZE];
	unsigned rx_head, rx_count;
	struct devices_timer rx_timer;
	/* The host was refused bytes; rx_ready is owed a call once there is room. */
	bool rx_refused;
	void (*rx_ready)(void *ctx);
	void *rx_ready_ctx;

	int irq;			/* ISA line 0..15; negative: not wired */
	int out_fd;			/* negative: transmitted bytes are dropped */
	const struct devices_machine *m;	/* may be NULL; must outlive the UART */
	struct devices_bus *bus;
	uint16_t base;
	uint64_t tx_bytes, tx_dropped, rx_bytes, rx_overruns;
};

/* ---- chip logic: registers and interrupts, no knowledge of ports ---- */

static bool uart_fifo_mode(const struct devices_uart16550 *u)
{
	return u->fcr & FCR_ENABLE;
}

/* FCR bits 7-6: the receive FIFO interrupt trigger level (datasheet, FCR). */
static unsigned uart_rx_trigger(const struct devices_uart16550 *u)
{
	static const unsigned level[4] = { 1, 4, 8, 14 };

	return uart_fifo_mode(u) ? level[(u->fcr & FCR_TRIGGER) >> 6] : 1;
}

static unsigned uart_rx_capacity(const struct devices_uart16550 *u)
{
	return uart_fifo_mode(u) ? UART_FIFO_SIZE : 1;
}

static uint8_t uart_lsr(const struct devices_uart16550 *u)
{
	return (uint8_t)(u->lsr | (u->rx_count ? LSR_DR : 0));
}

/*
 * Highest-priority pending source, as IIR bits 0-3 (Table IV priorities).
 * Received data available and the character time-out share priority 2;
 * with the FIFO at its trigger level we report the former, which is what
 * the datasheet's Table IV calls the level being reached.
 */
static uint8_t uart_pending_id(const struct devices_uart16550 *u)
{
	if ((u->ier & IER_ELSI) && (u->lsr & LSR_ERRORS))
		return IIR_RLS;
	if ((u->ier & IER_ERBFI) && u->rx_count >= uart_rx_trigger(u))
		return IIR_RDA;
	if ((u->ier & IER_ERBFI) && u->timeout_ipending)
		return IIR_TIMEOUT;
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

static uint64_t uart_now(const struct devices_uart16550 *u)
{
	return u->m && u->m->now_ns ? u->m->now_ns(u->m->ctx) : 0;
}

/*
 * One character time in ns: a start bit, 5-8 data bits, a parity bit and
 * 1, 1.5 or 2 stop bits (LCR), at 1.8432 MHz / (16 x divisor) bits per
 * second; counted in half bits for the 1.5 stop bits of 5-bit words.  A
 * divisor of 0 is not a setting the datasheet defines; it is timed as 1.
 */
static uint64_t uart_char_ns(const struct devices_uart16550 *u)
{
	unsigned data = 5u + (u->lcr & LCR_WLS);
	unsigned half_bits = 2u * (1u + data + ((u->lcr & LCR_PEN) ? 1u : 0u));
	unsigned divisor = (unsigned)u->dlm << 8 | u->dll;

	if (!(u->lcr & LCR_STB))
		half_bits += 2;
	else
		half_bits += data == 5 ? 3 : 4;
	if (divisor == 0)
		divisor = 1;
	return (uint64_t)half_bits * divisor * 16u * 1000000000u / (2u * UART_XTAL_HZ);
}

/*
 * The character time-out counts from the last byte that entered or left the
 * receive FIFO (datasheet, FIFO interrupt mode operation): each received
 * byte and each CPU read restart it while no time-out is indicated; once it
 * is indicated, only a read clears it (and restarts the count).  It runs in
 * FIFO mode only, and only while the FIFO holds data.
 */
static void uart_rx_timer_restart(struct devices_uart16550 *u)
{
	if (uart_fifo_mode(u) && u->rx_count && !u->timeout_ipending)
		u->rx_timer.deadline = uart_now(u) + UART_TIMEOUT_CHARS * uart_char_ns(u);
	else
		u->rx_timer.deadline = DEVICES_NEVER;
}

static void uart_rx_timeout(void *s, uint64_t now)
{
	struct devices_uart16550 *u = s;

	(void)now;
	u->rx_timer.deadline = DEVICES_NEVER;
	if (uart_fifo_mode(u) && u->rx_count) {
		u->timeout_ipending = true;
		uart_update_irq(u);
	}
}

/* Bytes the host may push now: none in loopback, where the datasheet
 * disconnects SIN from the receiver. */
static unsigned uart_rx_room(const struct devices_uart16550 *u)
{
	if (u->mcr & MCR_LOOP)
		return 0;
	return uart_rx_capacity(u) - u->rx_count;
}

/*
 * A byte reaches the receiver.  Into a full receiver it is an overrun (LSR
 * bit 1): in FIFO mode the byte stays in the shift register, which the next
 * one overwrites, and never enters the FIFO; in 16450 mode it replaces the
 * unread RBR.  Returns whether it entered the FIFO/RBR as a new byte.
 */
static bool uart_rx_put(struct devices_uart16550 *u, uint8_t byte)
{
	if (u->rx_count == uart_rx_capacity(u)) {
		u->lsr |= LSR_OE;
		u->rx_overruns++;
		if (!uart_fifo_mode(u))
			u->rx[u->rx_head] = byte;
		return false;
	}
	u->rx[(u->rx_head + u->rx_count) % UART_FIFO_SIZE] = byte;
	u->rx_count++;
	u->rx_bytes++;
	return true;
}

/* Empties the receiver: FCR receive reset, a FIFO mode change, master reset. */
static void uart_rx_clear(struct devices_uart16550 *u)
{
	u->rx_head = 0;
	u->rx_count = 0;
	u->timeout_ipending = false;
	u->rx_timer.deadline = DEVICES_NEVER;
}

/* The host was refused bytes and the receiver takes them now: tell it.  The
 * callback may push at once (devices_uart16550_receive); callers have
 * finished with the registers by then. */
static void uart_rx_room_changed(struct devices_uart16550 *u)
{
	if (!u->rx_refused || uart_rx_room(u) == 0)
		return;
	u->rx_refused = false;
	if (u->rx_ready)
		u->rx_ready(u->rx_ready_ctx);
}

static uint8_t uart_read_rbr(struct devices_uart16550 *u)
{
	/* An empty receiver reads as the last byte RBR held. */
	if (u->rx_count) {
		u->rbr = u->rx[u->rx_head];
		u->rx_head = (u->rx_head + 1) % UART_FIFO_SIZE;
		u->rx_count--;
	}
	u->timeout_ipending = false;
	uart_rx_timer_restart(u);
	uart_update_irq(u);
	uart_rx_room_changed(u);
	return u->rbr;
}

static void uart_write_thr(struct devices_uart16550 *u, uint8_t v)
{
	/* Datasheet Table IV: writing THR resets the THRE interrupt. */
	u->thr_ipending = false;
	uart_update_irq(u);

	if (u->mcr & MCR_LOOP) {
		/* Loopback (datasheet, MCR bit 4): SOUT is held marking and the
		 * transmitter's shift register feeds the receiver's instead.
		 * Linux's 8250 driver sizes the FIFO this way. */
		if (uart_rx_put(u, v))
			uart_rx_timer_restart(u);
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
	bool was_fifo = uart_fifo_mode(u);

	/* Datasheet FCR bit 0: it must be 1 for the other bits to be written;
	 * clearing it disables both FIFOs.  Bits 1-2 reset the FIFOs and clear
	 * themselves (bit 1 empties the receive FIFO, not the shift register;
	 * the transmit FIFO is always empty here). */
	if (v & FCR_ENABLE)
		u->fcr = v & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER);
	else
		u->fcr = 0;
	/* Changing between FIFO and 16450 mode clears the FIFOs too. */
	if (was_fifo != uart_fifo_mode(u) || ((v & FCR_ENABLE) && (v & FCR_RX_RESET)))
		uart_rx_clear(u);
	/* A new trigger level can raise or drop the data-available source. */
	uart_update_irq(u);
	uart_rx_room_changed(u);
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
	uint8_t v = uart_lsr(u);

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
		return dlab ? u->dll : uart_read_rbr(u);
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
		uart_rx_room_changed(u);	/* leaving loopback reconnects SIN */
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
	uart_rx_clear(u);
	u->rbr = 0;
	u->ier = 0;
	u->fcr = 0;
	u->lcr = 0;
	u->mcr = 0;
	u->lsr = LSR_THRE | LSR_TEMT;
	u->thr_ipending = false;
	u->msr = uart_modem_inputs(u);
	uart_update_irq(u);
	uart_rx_room_changed(u);
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
	u->bus = bus;
	u->base = base;
	u->dll = UART_RESET_DIVISOR & 0xFF;
	u->dlm = UART_RESET_DIVISOR >> 8;
	u->rx_timer = (struct devices_timer){ .deadline = DEVICES_NEVER, .fire = uart_rx_timeout,
					      .s = u, .name = "uart16550 rx timeout" };

	ret = devices_bus_register(bus, base, UART_NREGS, &uart_ops, u);
	if (ret < 0)
		goto out_free;
	ret = devices_bus_add_timer(bus, &u->rx_timer);
	if (ret < 0)
		goto out_unregister;
	uart_reset(u);
	return u;

out_unregister:
	devices_bus_unregister(bus, base);
out_free:
	free(u);
	errno = -ret;
	return NULL;
}

void devices_uart16550_destroy(struct devices_uart16550 *u)
{
	if (!u)
		return;
	devices_bus_remove_timer(u->bus, &u->rx_timer);
	devices_bus_unregister(u->bus, u->base);
	free(u);
}

/*
 * Host input: takes what the receiver has room for, as if each byte arrived
 * on SIN at once.  A real line would pace them one character time apart,
 * but nothing a guest driver does depends on that: it sees the FIFO fill to
 * the trigger level (or time out) and empties it.  The host keeps the rest
 * and gets rx_ready when there is room again, so typed or piped bytes are
 * held back, never lost to an overrun.
 */
size_t devices_uart16550_receive(struct devices_uart16550 *u, const uint8_t *buf, size_t n)
{
	size_t room = uart_rx_room(u), take = n < room ? n : room;

	for (size_t i = 0; i < take; i++)
		uart_rx_put(u, buf[i]);
	if (take) {
		uart_rx_timer_restart(u);
		uart_update_irq(u);
	}
	if (take < n)
		u->rx_refused = true;
	return take;
}

void devices_uart16550_set_rx_ready(struct devices_uart16550 *u, void (*ready)(void *ctx),
				    void *ctx)
{
	u->rx_ready = ready;
	u->rx_ready_ctx = ctx;
}
