/* tests/unit/devices_uart16550_test.c: 16550A register semantics through the port bus. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/devices.h"

#define COM1 0x3F8
#define COM2 0x2F8
#define COM1_IRQ 4
#define COM2_IRQ 3

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3,
       MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

/* A machine that records the interrupt lines the UART drives, with a clock
 * the test moves. */
struct fake_machine {
	int set_irq_calls;
	int level[16];
	uint64_t now;
};

static void fake_set_irq(void *ctx, int irq, int level)
{
	struct fake_machine *fm = ctx;

	assert_in_range(irq, 0, 15);
	fm->set_irq_calls++;
	fm->level[irq] = level;
}

static uint64_t fake_now(void *ctx)
{
	return ((struct fake_machine *)ctx)->now;
}

struct fixture {
	struct devices_bus bus;
	struct fake_machine fm;
	struct devices_machine m;
	struct devices_uart16550 *u;
	int pipe_rd, pipe_wr;	/* the UART's out_fd is pipe_wr */
	int ready_calls;	/* rx_ready callbacks */
	const uint8_t *refill;	/* what rx_ready pushes, if not NULL */
	size_t refill_len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int p[2];

	if (!f || pipe2(p, O_NONBLOCK) < 0)
		return -1;
	f->pipe_rd = p[0];
	f->pipe_wr = p[1];
	f->m = (struct devices_machine){ .ctx = &f->fm, .set_irq = fake_set_irq,
					 .now_ns = fake_now };
	devices_bus_init(&f->bus);
	f->u = devices_uart16550_create(&f->bus, COM1, COM1_IRQ, f->pipe_wr, &f->m);
	if (!f->u)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devices_uart16550_destroy(f->u);
	close(f->pipe_rd);
	close(f->pipe_wr);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, int reg)
{
	return (uint8_t)devices_bus_in(&f->bus, (uint16_t)(COM1 + reg), 1);
}

static void wr(struct fixture *f, int reg, uint8_t v)
{
	devices_bus_out(&f->bus, (uint16_t)(COM1 + reg), v, 1);
}

/* Bytes waiting in the pipe (the pipe is non-blocking; 0 if empty). */
static ssize_t drain(struct fixture *f, char *buf, size_t len)
{
	ssize_t n = read(f->pipe_rd, buf, len);

	return n < 0 && errno == EAGAIN ? 0 : n;
}

static void test_two_uarts_when_on_one_bus_keep_separate_state(void **state)
{
	struct fixture *f = *state;
	struct devices_uart16550 *com2 =
		devices_uart16550_create(&f->bus, COM2, COM2_IRQ, f->pipe_wr, &f->m);

	assert_non_null(com2);
	devices_bus_out(&f->bus, COM1 + SCR, 0x11, 1);
	devices_bus_out(&f->bus, COM2 + SCR, 0x22, 1);
	devices_bus_out(&f->bus, COM2 + IER, 0x02, 1);
	assert_int_equal(devices_bus_in(&f->bus, COM1 + SCR, 1), 0x11);
	assert_int_equal(devices_bus_in(&f->bus, COM2 + SCR, 1), 0x22);
	assert_int_equal(devices_bus_in(&f->bus, COM1 + IER, 1), 0x00);
	assert_int_equal(f->fm.level[COM2_IRQ], 1);
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	devices_uart16550_destroy(com2);
}

static void test_create_when_ports_taken_returns_null_eexist(void **state)
{
	struct fixture *f = *state;

	errno = 0;
	assert_null(devices_uart16550_create(&f->bus, COM1 + 4, COM1_IRQ, f->pipe_wr, &f->m));
	assert_int_equal(errno, EEXIST);
}

static void test_dlab_when_set_maps_divisor_latch_at_0_and_1(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x05);
	wr(f, LCR, 0x83);
	wr(f, DLL, 0x01);
	wr(f, DLM, 0x02);
	assert_int_equal(rd(f, DLL), 0x01);
	assert_int_equal(rd(f, DLM), 0x02);
	assert_int_equal(rd(f, LCR), 0x83);
}

static void test_dlab_when_cleared_restores_ier_and_keeps_divisor(void **state)
{
	struct fixture *f = *state;
	char c;

	wr(f, IER, 0x05);
	wr(f, LCR, 0x80);
	wr(f, DLL, 0x01);
	wr(f, DLM, 0x00);
	wr(f, LCR, 0x03);
	assert_int_equal(rd(f, IER), 0x05);
	wr(f, LCR, 0x83);
	assert_int_equal(rd(f, DLL), 0x01);
	/* The DLL write under DLAB did not transmit. */
	assert_int_equal(drain(f, &c, 1), 0);
}

static void test_dll_dlm_when_read_as_word_return_divisor(void **state)
{
	struct fixture *f = *state;

	wr(f, LCR, 0x80);
	wr(f, DLL, 0x34);
	wr(f, DLM, 0x12);
	assert_int_equal(devices_bus_in(&f->bus, COM1 + DLL, 2), 0x1234);
}

static void test_divisor_when_reset_is_9600_baud(void **state)
{
	struct fixture *f = *state;

	wr(f, LCR, 0x80);
	assert_int_equal(rd(f, DLL), 12);
	assert_int_equal(rd(f, DLM), 0);
}

static void test_lsr_when_idle_has_thre_temt_and_no_dr(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, LSR), 0x60);
}

static void test_lsr_when_byte_sent_still_has_thre_temt(void **state)
{
	struct fixture *f = *state;

	wr(f, THR, 'a');
	assert_int_equal(rd(f, LSR), 0x60);
}

static void test_ier_when_written_keeps_only_low_nibble(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0xFF);
	assert_int_equal(rd(f, IER), 0x0F);
}

static void test_iir_when_reset_reports_no_interrupt(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, IIR), 0x01);
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
}

static void test_iir_when_etbei_set_reports_thre_and_raises_irq(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x02);
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
	assert_int_equal(rd(f, IIR), 0x02);
}

static void test_iir_read_when_thre_pending_clears_it_and_lowers_irq(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x02);
	assert_int_equal(rd(f, IIR), 0x02);
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(rd(f, IIR), 0x01);
	/* THRE itself stays set: only the interrupt was acknowledged. */
	assert_int_equal(rd(f, LSR) & 0x20, 0x20);
}

static void test_thr_write_when_etbei_set_rearms_thre(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x02);
	(void)rd(f, IIR);
	wr(f, THR, 'x');
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
	assert_int_equal(rd(f, IIR), 0x02);
}

static void test_thr_write_when_irq_already_high_pulses_line(void **state)
{
	struct fixture *f = *state;
	int calls;

	wr(f, IER, 0x02);
	calls = f->fm.set_irq_calls;
	wr(f, THR, 'x');
	/* Low then high again: a fresh edge for an edge-triggered 8259. */
	assert_int_equal(f->fm.set_irq_calls - calls, 2);
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
}

static void test_etbei_when_reenabled_rearms_thre(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x02);
	(void)rd(f, IIR);
	wr(f, IER, 0x00);
	wr(f, IER, 0x02);
	assert_int_equal(rd(f, IIR), 0x02);
}

static void test_ier_when_etbei_cleared_lowers_irq(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x02);
	wr(f, IER, 0x00);
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(rd(f, IIR), 0x01);
}

static void test_thr_write_when_etbei_clear_leaves_irq_low(void **state)
{
	struct fixture *f = *state;

	wr(f, THR, 'x');
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(rd(f, IIR), 0x01);
}

static void test_thr_write_when_not_loopback_writes_byte_to_fd(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	wr(f, THR, 'h');
	wr(f, THR, 'i');
	assert_int_equal(drain(f, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "hi", 2);
}

static void test_thr_write_when_loopback_writes_nothing(void **state)
{
	struct fixture *f = *state;
	char buf[8];

	wr(f, MCR, 0x10);
	wr(f, THR, 'x');
	assert_int_equal(drain(f, buf, sizeof(buf)), 0);
	wr(f, MCR, 0x00);
	wr(f, THR, 'y');
	assert_int_equal(drain(f, buf, sizeof(buf)), 1);
	assert_int_equal(buf[0], 'y');
}

/* Loopback wiring (datasheet): RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
static const struct { uint8_t mcr, msr_inputs; } loopback_msr[] = {
	{ 0x10, 0x00 },
	{ 0x11, 0x20 },	/* DTR -> DSR */
	{ 0x12, 0x10 },	/* RTS -> CTS */
	{ 0x14, 0x40 },	/* OUT1 -> RI */
	{ 0x18, 0x80 },	/* OUT2 -> DCD */
	{ 0x1A, 0x90 },	/* Linux 8250 autoconfig's loopback check */
	{ 0x1F, 0xF0 },
};

static void test_msr_when_loopback_reflects_mcr_outputs(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(loopback_msr) / sizeof(loopback_msr[0]); i++) {
		wr(f, MCR, loopback_msr[i].mcr);
		assert_int_equal(rd(f, MSR) & 0xF0, loopback_msr[i].msr_inputs);
	}
}

static void test_msr_when_not_loopback_reports_cts_dsr_dcd(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, MSR), 0xB0);
}

static void test_msr_when_inputs_change_sets_deltas_and_read_clears(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, 0x14);	/* loopback, OUT1: CTS, DSR, DCD drop, RI rises */
	assert_int_equal(rd(f, MSR), 0x4B);
	assert_int_equal(rd(f, MSR), 0x40);
	wr(f, MCR, 0x10);	/* RI falls: trailing edge */
	assert_int_equal(rd(f, MSR), 0x04);
}

static void test_iir_when_edssi_and_delta_reports_modem_status(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x08);
	wr(f, MCR, 0x10);
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
	assert_int_equal(rd(f, IIR), 0x00);
	(void)rd(f, MSR);
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(rd(f, IIR), 0x01);
}

static void test_mcr_when_written_keeps_only_low_5_bits(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, 0xEB);
	assert_int_equal(rd(f, MCR), 0x0B);
}

static void test_fcr_when_fifo_enabled_sets_iir_bits_6_7(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x07);
	assert_int_equal(rd(f, IIR), 0xC1);
	wr(f, IER, 0x02);
	assert_int_equal(rd(f, IIR), 0xC2);
}

static void test_fcr_when_fifo_disabled_clears_iir_bits_6_7(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0xC1);
	wr(f, FCR, 0xC0);	/* FCR0=0: the trigger bits are not written */
	assert_int_equal(rd(f, IIR), 0x01);
}

static void test_scr_when_written_reads_back(void **state)
{
	struct fixture *f = *state;

	wr(f, SCR, 0xA5);
	assert_int_equal(rd(f, SCR), 0xA5);
}

static void test_lcr_when_written_reads_back(void **state)
{
	struct fixture *f = *state;

	wr(f, LCR, 0x1B);
	assert_int_equal(rd(f, LCR), 0x1B);
}

static void test_bus_reset_when_called_restores_reset_values(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x0F);
	wr(f, FCR, 0x01);
	wr(f, MCR, 0x1F);
	wr(f, LCR, 0x03);
	wr(f, SCR, 0x5A);
	devices_bus_reset(&f->bus);
	assert_int_equal(rd(f, IER), 0x00);
	assert_int_equal(rd(f, IIR), 0x01);
	assert_int_equal(rd(f, LCR), 0x00);
	assert_int_equal(rd(f, MCR), 0x00);
	assert_int_equal(rd(f, LSR), 0x60);
	assert_int_equal(rd(f, SCR), 0x5A);	/* not touched by master reset */
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
}

static void test_create_when_machine_null_still_works(void **state)
{
	struct fixture *f = *state;
	struct devices_uart16550 *u = devices_uart16550_create(&f->bus, COM2, COM2_IRQ, -1, NULL);

	assert_non_null(u);
	devices_bus_out(&f->bus, COM2 + IER, 0x02, 1);
	devices_bus_out(&f->bus, COM2 + THR, 'z', 1);
	assert_int_equal(devices_bus_in(&f->bus, COM2 + IIR, 1), 0x02);
	devices_uart16550_destroy(u);
}

/* ---- the receive side ---- */

static void on_rx_ready(void *ctx)
{
	struct fixture *f = ctx;

	f->ready_calls++;
	if (f->refill) {
		size_t n = devices_uart16550_receive(f->u, f->refill, f->refill_len);

		f->refill += n;
		f->refill_len -= n;
	}
}

static size_t push(struct fixture *f, const char *s)
{
	return devices_uart16550_receive(f->u, (const uint8_t *)s, strlen(s));
}

/* Moves the fake clock to `t` and runs the timers that are due, as bt's
 * monitor clock does. */
static void clock_to(struct fixture *f, uint64_t t)
{
	f->fm.now = t;
	devices_bus_run_timers(&f->bus, t);
}

/* 115200 baud (divisor 1), 8N1: one character is 10 bits of 8.68 us. */
static void line_115200_8n1(struct fixture *f)
{
	wr(f, LCR, 0x80);
	wr(f, DLL, 1);
	wr(f, DLM, 0);
	wr(f, LCR, 0x03);
}

#define TIMEOUT_115200_8N1 (4 * 86805)	/* 4 characters of 20 half bits, in ns */

static void test_receive_when_fifo_off_takes_one_byte_into_rbr(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(push(f, "ab"), 1);
	assert_int_equal(rd(f, LSR), 0x61);
	assert_int_equal(rd(f, RBR), 'a');
	assert_int_equal(rd(f, LSR), 0x60);
	assert_int_equal(push(f, "b"), 1);
	assert_int_equal(rd(f, RBR), 'b');
}

static void test_receive_when_fifo_on_takes_16_in_order(void **state)
{
	struct fixture *f = *state;
	const char *in = "0123456789abcdefXYZ";

	wr(f, FCR, 0x01);
	assert_int_equal(push(f, in), 16);
	for (int i = 0; i < 16; i++) {
		assert_int_equal(rd(f, LSR) & 0x01, 0x01);
		assert_int_equal(rd(f, RBR), in[i]);
	}
	assert_int_equal(rd(f, LSR), 0x60);
	assert_int_equal(push(f, in + 16), 3);
}

static void test_receive_when_loopback_takes_nothing(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x01);
	wr(f, MCR, 0x10);
	assert_int_equal(push(f, "a"), 0);
	assert_int_equal(rd(f, LSR), 0x60);
}

static void test_rbr_read_when_empty_returns_last_byte(void **state)
{
	struct fixture *f = *state;

	push(f, "q");
	assert_int_equal(rd(f, RBR), 'q');
	assert_int_equal(rd(f, RBR), 'q');
	assert_int_equal(rd(f, LSR), 0x60);
}

static void test_rx_ready_when_refused_then_room_runs_once(void **state)
{
	struct fixture *f = *state;

	devices_uart16550_set_rx_ready(f->u, on_rx_ready, f);
	assert_int_equal(push(f, "xy"), 1);	/* FIFOs off: RBR only */
	assert_int_equal(f->ready_calls, 0);
	(void)rd(f, RBR);
	assert_int_equal(f->ready_calls, 1);
	(void)rd(f, RBR);			/* nothing was refused since */
	assert_int_equal(f->ready_calls, 1);
}

static void test_rx_ready_when_not_refused_never_runs(void **state)
{
	struct fixture *f = *state;

	devices_uart16550_set_rx_ready(f->u, on_rx_ready, f);
	push(f, "x");
	(void)rd(f, RBR);
	assert_int_equal(f->ready_calls, 0);
}

/* The host side refills from inside the RBR read that made room: the guest
 * sees one unbroken stream, nothing lost or reordered. */
static void test_rx_ready_when_it_pushes_stream_stays_in_order(void **state)
{
	struct fixture *f = *state;
	static const char in[] = "the quick brown fox jumps over the lazy dog";
	char got[sizeof(in)] = { 0 };
	size_t n = 0;

	devices_uart16550_set_rx_ready(f->u, on_rx_ready, f);
	wr(f, FCR, 0x01);
	size_t took = push(f, in);
	f->refill = (const uint8_t *)in + took;
	f->refill_len = strlen(in) - took;
	while ((rd(f, LSR) & 0x01) && n < sizeof(got) - 1)
		got[n++] = (char)rd(f, RBR);
	assert_string_equal(got, in);
	assert_int_equal(f->refill_len, 0);
}

static void test_rx_ready_when_loopback_ends_runs(void **state)
{
	struct fixture *f = *state;

	devices_uart16550_set_rx_ready(f->u, on_rx_ready, f);
	wr(f, MCR, 0x10);
	assert_int_equal(push(f, "a"), 0);
	wr(f, MCR, 0x03);
	assert_int_equal(f->ready_calls, 1);
}

/* FCR bits 7-6 and the received-data-available interrupt (IIR 0x04). */
static const struct { uint8_t fcr; unsigned level; } triggers[] = {
	{ 0x01, 1 }, { 0x41, 4 }, { 0x81, 8 }, { 0xC1, 14 },
};

static void test_rda_when_fifo_reaches_trigger_raises_irq(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x01);
	for (size_t i = 0; i < sizeof(triggers) / sizeof(triggers[0]); i++) {
		wr(f, FCR, (uint8_t)(triggers[i].fcr | 0x02));	/* and empty the FIFO */
		for (unsigned n = 1; n < triggers[i].level; n++)
			push(f, "z");
		assert_int_equal(f->fm.level[COM1_IRQ], 0);
		assert_int_equal(rd(f, IIR), 0xC1);
		push(f, "z");
		assert_int_equal(f->fm.level[COM1_IRQ], 1);
		assert_int_equal(rd(f, IIR), 0xC4);
	}
}

static void test_rda_when_fifo_drops_below_trigger_lowers_irq(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x01);
	wr(f, FCR, 0x81);
	push(f, "12345678");
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
	assert_int_equal(rd(f, RBR), '1');
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(rd(f, IIR), 0xC1);
}

static void test_rda_when_fifo_off_follows_rbr(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x01);
	push(f, "k");
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
	assert_int_equal(rd(f, IIR), 0x04);
	assert_int_equal(rd(f, RBR), 'k');
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(rd(f, IIR), 0x01);
}

static void test_rda_when_erbfi_clear_leaves_irq_low(void **state)
{
	struct fixture *f = *state;

	push(f, "k");
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(rd(f, IIR), 0x01);
	wr(f, IER, 0x01);
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
}

static void test_timeout_when_data_below_trigger_for_4_chars_gives_iir_0c(void **state)
{
	struct fixture *f = *state;

	line_115200_8n1(f);
	wr(f, IER, 0x01);
	wr(f, FCR, 0x81);
	push(f, "abc");
	assert_int_equal(devices_bus_next_deadline(&f->bus), TIMEOUT_115200_8N1);
	clock_to(f, TIMEOUT_115200_8N1 - 1);
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	clock_to(f, TIMEOUT_115200_8N1);
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
	assert_int_equal(rd(f, IIR), 0xCC);
	assert_int_equal(devices_bus_next_deadline(&f->bus), DEVICES_NEVER);
}

static void test_timeout_when_rbr_read_clears_and_restarts(void **state)
{
	struct fixture *f = *state;

	line_115200_8n1(f);
	wr(f, IER, 0x01);
	wr(f, FCR, 0x81);
	push(f, "abc");
	clock_to(f, TIMEOUT_115200_8N1);
	f->fm.now += 1000;
	assert_int_equal(rd(f, RBR), 'a');
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(rd(f, IIR), 0xC1);
	assert_int_equal(devices_bus_next_deadline(&f->bus), f->fm.now + TIMEOUT_115200_8N1);
	clock_to(f, f->fm.now + TIMEOUT_115200_8N1);
	assert_int_equal(rd(f, IIR), 0xCC);
}

static void test_timeout_when_byte_arrives_restarts_count(void **state)
{
	struct fixture *f = *state;

	line_115200_8n1(f);
	wr(f, FCR, 0x81);
	push(f, "a");
	clock_to(f, 200000);
	push(f, "b");
	assert_int_equal(devices_bus_next_deadline(&f->bus), 200000 + TIMEOUT_115200_8N1);
}

static void test_timeout_when_indicated_is_not_cleared_by_new_byte(void **state)
{
	struct fixture *f = *state;

	line_115200_8n1(f);
	wr(f, IER, 0x01);
	wr(f, FCR, 0x81);
	push(f, "a");
	clock_to(f, TIMEOUT_115200_8N1);
	push(f, "b");
	assert_int_equal(rd(f, IIR), 0xCC);
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
}

static void test_timeout_when_fifo_reaches_trigger_iir_reports_rda(void **state)
{
	struct fixture *f = *state;

	line_115200_8n1(f);
	wr(f, IER, 0x01);
	wr(f, FCR, 0x41);	/* trigger 4 */
	push(f, "abc");
	clock_to(f, TIMEOUT_115200_8N1);
	assert_int_equal(rd(f, IIR), 0xCC);
	push(f, "d");
	assert_int_equal(rd(f, IIR), 0xC4);
}

static void test_timeout_when_fifo_off_never_armed(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x01);
	push(f, "a");
	assert_int_equal(devices_bus_next_deadline(&f->bus), DEVICES_NEVER);
}

/* Character time from LCR and the divisor latch: start, data, parity, stop bits. */
static const struct { uint8_t lcr; uint16_t divisor; uint64_t timeout_ns; } char_times[] = {
	{ 0x03, 1, 4 * 86805 },		/* 8N1, 115200: 10 bits */
	{ 0x03, 12, 4 * 1041666 },	/* 8N1, 9600 */
	{ 0x04, 1, 4 * 65104 },		/* 5N1.5: 7.5 bits */
	{ 0x0E, 1, 4 * 95486 },		/* 7E2: 11 bits */
	{ 0x1B, 3, 4 * 286458 },	/* 8E1 (even parity), 38400: 11 bits */
	{ 0x03, 0, 4 * 86805 },		/* divisor 0 timed as 1 */
};

static void test_timeout_when_line_settings_vary_is_4_char_times(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x81);
	for (size_t i = 0; i < sizeof(char_times) / sizeof(char_times[0]); i++) {
		wr(f, LCR, 0x80);
		wr(f, DLL, (uint8_t)char_times[i].divisor);
		wr(f, DLM, (uint8_t)(char_times[i].divisor >> 8));
		wr(f, LCR, char_times[i].lcr);
		wr(f, FCR, 0x83);
		f->fm.now = 1000 * i;
		push(f, "a");
		assert_int_equal(devices_bus_next_deadline(&f->bus),
				 f->fm.now + char_times[i].timeout_ns);
	}
}

static void test_fcr_when_rx_reset_empties_fifo_and_timeout(void **state)
{
	struct fixture *f = *state;

	wr(f, IER, 0x01);
	wr(f, FCR, 0x81);
	push(f, "abc");
	clock_to(f, 1000000000);	/* long past 4 characters at any speed */
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
	wr(f, FCR, 0x83);
	assert_int_equal(rd(f, LSR), 0x60);
	assert_int_equal(rd(f, IIR), 0xC1);
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
	assert_int_equal(devices_bus_next_deadline(&f->bus), DEVICES_NEVER);
}

static void test_fcr_when_rx_reset_without_enable_keeps_fifo(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x01);
	push(f, "abc");
	wr(f, FCR, 0x81);	/* new trigger, no reset */
	assert_int_equal(rd(f, RBR), 'a');
	assert_int_equal(rd(f, LSR) & 0x01, 0x01);
}

static void test_fcr_when_fifo_mode_changes_empties_receiver(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x01);
	push(f, "abc");
	wr(f, FCR, 0x00);
	assert_int_equal(rd(f, LSR), 0x60);
	push(f, "d");
	wr(f, FCR, 0x01);
	assert_int_equal(rd(f, LSR), 0x60);
}

static void test_fcr_when_reset_makes_room_runs_rx_ready(void **state)
{
	struct fixture *f = *state;

	devices_uart16550_set_rx_ready(f->u, on_rx_ready, f);
	wr(f, FCR, 0x01);
	push(f, "0123456789abcdefg");
	wr(f, FCR, 0x03);
	assert_int_equal(f->ready_calls, 1);
}

static void test_loopback_when_fifo_on_thr_reaches_rbr(void **state)
{
	struct fixture *f = *state;
	char c;

	wr(f, FCR, 0x01);
	wr(f, MCR, 0x10);
	wr(f, THR, 'x');
	wr(f, THR, 'y');
	assert_int_equal(rd(f, LSR), 0x61);
	assert_int_equal(rd(f, RBR), 'x');
	assert_int_equal(rd(f, RBR), 'y');
	assert_int_equal(rd(f, LSR), 0x60);
	assert_int_equal(drain(f, &c, 1), 0);
}

static void test_loopback_when_fifo_full_overruns_and_drops_byte(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x01);
	wr(f, MCR, 0x10);
	for (int i = 0; i < 17; i++)
		wr(f, THR, (uint8_t)i);
	assert_int_equal(rd(f, LSR), 0x63);
	assert_int_equal(rd(f, LSR), 0x61);	/* OE cleared by the read */
	for (int i = 0; i < 16; i++)
		assert_int_equal(rd(f, RBR), i);
	assert_int_equal(rd(f, LSR), 0x60);
}

static void test_loopback_when_fifo_off_overrun_replaces_rbr(void **state)
{
	struct fixture *f = *state;

	wr(f, MCR, 0x10);
	wr(f, THR, 'a');
	wr(f, THR, 'b');
	assert_int_equal(rd(f, LSR), 0x63);
	assert_int_equal(rd(f, RBR), 'b');
}

static void test_overrun_when_elsi_set_gives_line_status_interrupt(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x01);
	wr(f, IER, 0x04);
	wr(f, MCR, 0x10);
	for (int i = 0; i < 17; i++)
		wr(f, THR, 'o');
	assert_int_equal(f->fm.level[COM1_IRQ], 1);
	assert_int_equal(rd(f, IIR), 0xC6);
	(void)rd(f, LSR);
	assert_int_equal(rd(f, IIR), 0xC1);
	assert_int_equal(f->fm.level[COM1_IRQ], 0);
}

/* Linux's 8250 size_fifo(): loopback at divisor 1, 256 bytes out, count
 * what comes back.  A 16550A answers 16 (a 16750 would give 64). */
static void test_loopback_when_linux_sizes_fifo_counts_16(void **state)
{
	struct fixture *f = *state;
	int count;

	wr(f, LCR, 0x00);
	wr(f, FCR, 0x07);
	wr(f, MCR, 0x10);
	line_115200_8n1(f);
	for (count = 0; count < 256; count++)
		wr(f, THR, (uint8_t)count);
	clock_to(f, 20000000);
	for (count = 0; (rd(f, LSR) & 0x01) && count < 256; count++)
		(void)rd(f, RBR);
	assert_int_equal(count, 16);
}

static void test_bus_reset_when_data_queued_empties_receiver(void **state)
{
	struct fixture *f = *state;

	wr(f, FCR, 0x01);
	push(f, "abc");
	devices_bus_reset(&f->bus);
	assert_int_equal(rd(f, LSR), 0x60);
	assert_int_equal(devices_bus_next_deadline(&f->bus), DEVICES_NEVER);
}

static void test_destroy_when_done_removes_ports_and_timer(void **state)
{
	struct fixture *f = *state;
	int timers = f->bus.ntimers;
	struct devices_uart16550 *com2 =
		devices_uart16550_create(&f->bus, COM2, COM2_IRQ, -1, &f->m);

	assert_non_null(com2);
	assert_int_equal(f->bus.ntimers, timers + 1);
	devices_uart16550_destroy(com2);
	assert_int_equal(f->bus.ntimers, timers);
	assert_int_equal(devices_bus_in(&f->bus, COM2 + SCR, 1), 0xFF);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_two_uarts_when_on_one_bus_keep_separate_state),
		T(test_create_when_ports_taken_returns_null_eexist),
		T(test_dlab_when_set_maps_divisor_latch_at_0_and_1),
		T(test_dlab_when_cleared_restores_ier_and_keeps_divisor),
		T(test_dll_dlm_when_read_as_word_return_divisor),
		T(test_divisor_when_reset_is_9600_baud),
		T(test_lsr_when_idle_has_thre_temt_and_no_dr),
		T(test_lsr_when_byte_sent_still_has_thre_temt),
		T(test_ier_when_written_keeps_only_low_nibble),
		T(test_iir_when_reset_reports_no_interrupt),
		T(test_iir_when_etbei_set_reports_thre_and_raises_irq),
		T(test_iir_read_when_thre_pending_clears_it_and_lowers_irq),
		T(test_thr_write_when_etbei_set_rearms_thre),
		T(test_thr_write_when_irq_already_high_pulses_line),
		T(test_etbei_when_reenabled_rearms_thre),
		T(test_ier_when_etbei_cleared_lowers_irq),
		T(test_thr_write_when_etbei_clear_leaves_irq_low),
		T(test_thr_write_when_not_loopback_writes_byte_to_fd),
		T(test_thr_write_when_loopback_writes_nothing),
		T(test_msr_when_loopback_reflects_mcr_outputs),
		T(test_msr_when_not_loopback_reports_cts_dsr_dcd),
		T(test_msr_when_inputs_change_sets_deltas_and_read_clears),
		T(test_iir_when_edssi_and_delta_reports_modem_status),
		T(test_mcr_when_written_keeps_only_low_5_bits),
		T(test_fcr_when_fifo_enabled_sets_iir_bits_6_7),
		T(test_fcr_when_fifo_disabled_clears_iir_bits_6_7),
		T(test_scr_when_written_reads_back),
		T(test_lcr_when_written_reads_back),
		T(test_bus_reset_when_called_restores_reset_values),
		T(test_create_when_machine_null_still_works),
		T(test_receive_when_fifo_off_takes_one_byte_into_rbr),
		T(test_receive_when_fifo_on_takes_16_in_order),
		T(test_receive_when_loopback_takes_nothing),
		T(test_rbr_read_when_empty_returns_last_byte),
		T(test_rx_ready_when_refused_then_room_runs_once),
		T(test_rx_ready_when_not_refused_never_runs),
		T(test_rx_ready_when_it_pushes_stream_stays_in_order),
		T(test_rx_ready_when_loopback_ends_runs),
		T(test_rda_when_fifo_reaches_trigger_raises_irq),
		T(test_rda_when_fifo_drops_below_trigger_lowers_irq),
		T(test_rda_when_fifo_off_follows_rbr),
		T(test_rda_when_erbfi_clear_leaves_irq_low),
		T(test_timeout_when_data_below_trigger_for_4_chars_gives_iir_0c),
		T(test_timeout_when_rbr_read_clears_and_restarts),
		T(test_timeout_when_byte_arrives_restarts_count),
		T(test_timeout_when_indicated_is_not_cleared_by_new_byte),
		T(test_timeout_when_fifo_reaches_trigger_iir_reports_rda),
		T(test_timeout_when_fifo_off_never_armed),
		T(test_timeout_when_line_settings_vary_is_4_char_times),
		T(test_fcr_when_rx_reset_empties_fifo_and_timeout),
		T(test_fcr_when_rx_reset_without_enable_keeps_fifo),
		T(test_fcr_when_fifo_mode_changes_empties_receiver),
		T(test_fcr_when_reset_makes_room_runs_rx_ready),
		T(test_loopback_when_fifo_on_thr_reaches_rbr),
		T(test_loopback_when_fifo_full_overruns_and_drops_byte),
		T(test_loopback_when_fifo_off_overrun_replaces_rbr),
		T(test_overrun_when_elsi_set_gives_line_status_interrupt),
		T(test_loopback_when_linux_sizes_fifo_counts_16),
		T(test_bus_reset_when_data_queued_empties_receiver),
		T(test_destroy_when_done_removes_ports_and_timer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
