/* tests/unit/devices_uart16550_test.c: 16550A register semantics through the port bus. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "devices/devices.h"

#define COM1 0x3F8
#define COM2 0x2F8
#define COM1_IRQ 4
#define COM2_IRQ 3

enum { RBR = 0, THR = 0, DLL = 0, IER = 1, DLM = 1, IIR = 2, FCR = 2, LCR = 3,
       MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

/* A machine that records the interrupt lines the UART drives. */
struct fake_machine {
	int set_irq_calls;
	int level[16];
};

static void fake_set_irq(void *ctx, int irq, int level)
{
	struct fake_machine *fm = ctx;

	assert_in_range(irq, 0, 15);
	fm->set_irq_calls++;
	fm->level[irq] = level;
}

struct fixture {
	struct devices_bus bus;
	struct fake_machine fm;
	struct devices_machine m;
	struct devices_uart16550 *u;
	int pipe_rd, pipe_wr;	/* the UART's out_fd is pipe_wr */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	int p[2];

	if (!f || pipe2(p, O_NONBLOCK) < 0)
		return -1;
	f->pipe_rd = p[0];
	f->pipe_wr = p[1];
	f->m = (struct devices_machine){ .ctx = &f->fm, .set_irq = fake_set_irq };
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
