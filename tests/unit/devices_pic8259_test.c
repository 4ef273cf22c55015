/* tests/unit/devices_pic8259_test.c: 8259A pair and ELCR semantics through the port bus and the INTA interface. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "devices/devices.h"

#define MASTER 0x20
#define SLAVE 0xA0
#define ELCR 0x4D0

/* Vector bases as Linux programs them (ICW2 0x30 / 0x38). */
#define MBASE 0x30
#define SBASE 0x38

/* OCW2 and OCW3 commands (8259A datasheet). */
#define EOI		0x20
#define SPECIFIC_EOI	0x60
#define ROTATE_EOI	0xA0
#define ROTATE_SPECIFIC_EOI 0xE0
#define SET_PRIORITY	0xC0
#define SET_ROTATE_AEOI	0x80
#define CLEAR_ROTATE_AEOI 0x00
#define READ_IRR	0x0A
#define READ_ISR	0x0B
#define POLL		0x0C
#define SET_SMM		0x68
#define CLEAR_SMM	0x48

/* A machine that records the INTR output. */
struct fake_machine {
	int intr;
	int set_intr_calls;
};

static void fake_set_intr(void *ctx, int level)
{
	struct fake_machine *fm = ctx;

	fm->set_intr_calls++;
	fm->intr = level;
}

struct fixture {
	struct devices_bus bus;
	struct fake_machine fm;
	struct devices_machine m;
	struct devices_pic *p;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->m = (struct devices_machine){ .ctx = &f->fm, .set_intr = fake_set_intr };
	devices_bus_init(&f->bus);
	f->p = devices_pic_create(&f->bus, &f->m);
	if (!f->p)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	devices_pic_destroy(f->p);
	free(f);
	return 0;
}

static uint8_t rd(struct fixture *f, uint16_t port)
{
	return (uint8_t)devices_bus_in(&f->bus, port, 1);
}

static void wr(struct fixture *f, uint16_t port, uint8_t v)
{
	devices_bus_out(&f->bus, port, v, 1);
}

/* Linux's init_8259A with `icw4` for both chips, leaving everything
 * unmasked. */
static void init_pair_icw4(struct fixture *f, uint8_t icw4)
{
	wr(f, MASTER, 0x11);		/* ICW1: edge, cascade, ICW4 needed */
	wr(f, MASTER + 1, MBASE);	/* ICW2 */
	wr(f, MASTER + 1, 0x04);	/* ICW3: slave on IR2 */
	wr(f, MASTER + 1, icw4);	/* ICW4 */
	wr(f, SLAVE, 0x11);
	wr(f, SLAVE + 1, SBASE);
	wr(f, SLAVE + 1, 0x02);		/* ICW3: slave ID 2 */
	wr(f, SLAVE + 1, icw4);
}

static void init_pair(struct fixture *f)
{
	init_pair_icw4(f, 0x01);	/* 8086 mode, normal EOI */
}

static void raise_irq(struct fixture *f, int irq)
{
	devices_pic_set_irq(f->p, irq, 1);
}

static void lower_irq(struct fixture *f, int irq)
{
	devices_pic_set_irq(f->p, irq, 0);
}

static void pulse_irq(struct fixture *f, int irq)
{
	raise_irq(f, irq);
	lower_irq(f, irq);
}

static uint8_t read_isr(struct fixture *f, uint16_t chip)
{
	wr(f, chip, READ_ISR);
	return rd(f, chip);
}

static uint8_t read_irr(struct fixture *f, uint16_t chip)
{
	wr(f, chip, READ_IRR);
	return rd(f, chip);
}

/* ---- initialisation ---- */

static void test_init_when_linux_sequence_gives_vectors_from_icw2(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 1);
	wr(f, MASTER, EOI);
	pulse_irq(f, 10);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 2);
}

static void test_icw2_when_low_bits_set_ignores_them(void **state)
{
	struct fixture *f = *state;

	wr(f, MASTER, 0x13);		/* single, ICW4 */
	wr(f, MASTER + 1, 0x47);	/* T7-T3 = 0x40; D2-D0 ignored */
	wr(f, MASTER + 1, 0x01);
	pulse_irq(f, 3);
	assert_int_equal(devices_pic_ack(f->p), 0x43);
}

static void test_init_when_single_skips_icw3(void **state)
{
	struct fixture *f = *state;

	wr(f, MASTER, 0x13);		/* SNGL=1, IC4=1 */
	wr(f, MASTER + 1, 0x20);	/* ICW2 */
	wr(f, MASTER + 1, 0x03);	/* taken as ICW4 (AEOI), not ICW3 */
	wr(f, MASTER + 1, 0x5A);	/* OCW1 */
	assert_int_equal(rd(f, MASTER + 1), 0x5A);
	pulse_irq(f, 0);
	assert_int_equal(devices_pic_ack(f->p), 0x20);
	assert_int_equal(read_isr(f, MASTER), 0x00);	/* auto-EOI took */
}

static void test_init_when_no_icw4_ends_after_icw3_and_clears_aeoi(void **state)
{
	struct fixture *f = *state;

	init_pair_icw4(f, 0x03);	/* AEOI first ... */
	wr(f, MASTER, 0x10);		/* ... then ICW1 with IC4=0 */
	wr(f, MASTER + 1, 0x20);	/* ICW2 */
	wr(f, MASTER + 1, 0x04);	/* ICW3 */
	wr(f, MASTER + 1, 0x01);	/* OCW1 already */
	assert_int_equal(rd(f, MASTER + 1), 0x01);
	pulse_irq(f, 0);
	assert_int_equal(f->fm.intr, 0);	/* masked */
	wr(f, MASTER + 1, 0x00);
	assert_int_equal(devices_pic_ack(f->p), 0x20);
	assert_int_equal(read_isr(f, MASTER), 0x01);	/* no AEOI any more */
}

static void test_icw1_when_written_clears_imr_and_edge_latches(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, MASTER + 1, 0xFF);
	pulse_irq(f, 4);
	assert_int_equal(read_irr(f, MASTER), 0x10);
	init_pair(f);
	assert_int_equal(rd(f, MASTER + 1), 0x00);
	assert_int_equal(read_irr(f, MASTER), 0x00);
	assert_int_equal(f->fm.intr, 0);
}

static void test_icw1_when_line_held_high_needs_a_fresh_edge(void **state)
{
	struct fixture *f = *state;

	raise_irq(f, 3);
	init_pair(f);		/* edge sense reset while IR3 is high */
	assert_int_equal(f->fm.intr, 0);
	lower_irq(f, 3);
	raise_irq(f, 3);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 3);
}

static void test_reset_state_is_unmasked_base_0_and_cascaded(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(rd(f, MASTER + 1), 0x00);
	assert_int_equal(rd(f, SLAVE + 1), 0x00);
	assert_int_equal(rd(f, MASTER), 0x00);	/* IRR */
	assert_int_equal(f->fm.intr, 0);
	pulse_irq(f, 5);
	assert_int_equal(devices_pic_ack(f->p), 0x05);
	pulse_irq(f, 12);
	wr(f, MASTER, EOI);
	assert_int_equal(devices_pic_ack(f->p), 0x04);	/* slave IR4, base 0 */
}

/* ---- triggering ---- */

static void test_edge_when_line_stays_high_interrupts_once(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	raise_irq(f, 3);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 3);
	wr(f, MASTER, EOI);
	assert_int_equal(f->fm.intr, 0);
	assert_int_equal(read_irr(f, MASTER), 0x00);
	raise_irq(f, 3);	/* still high: no edge */
	assert_int_equal(f->fm.intr, 0);
	lower_irq(f, 3);
	raise_irq(f, 3);
	assert_int_equal(f->fm.intr, 1);
}

static void test_edge_when_pulse_ends_before_ack_keeps_request(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 6);
	assert_int_equal(read_irr(f, MASTER), 0x40);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 6);
	assert_int_equal(read_irr(f, MASTER), 0x00);
}

static void test_level_when_elcr_set_irr_follows_line(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, ELCR + 1, 0x08);	/* IRQ 11 level */
	raise_irq(f, 11);
	assert_int_equal(read_irr(f, SLAVE), 0x08);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 3);
	/* Still high after INTA and EOI: it asks again. */
	assert_int_equal(read_irr(f, SLAVE), 0x08);
	wr(f, SLAVE, EOI);
	wr(f, MASTER, EOI);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 3);
	lower_irq(f, 11);
	assert_int_equal(read_irr(f, SLAVE), 0x00);
	wr(f, SLAVE, EOI);
	wr(f, MASTER, EOI);
	assert_int_equal(f->fm.intr, 0);
}

static void test_level_when_ltim_set_applies_to_every_ir(void **state)
{
	struct fixture *f = *state;

	wr(f, MASTER, 0x1B);	/* LTIM, single, ICW4 */
	wr(f, MASTER + 1, MBASE);
	wr(f, MASTER + 1, 0x01);
	raise_irq(f, 0);	/* IRQ 0 is always edge in the ELCR, not under LTIM */
	assert_int_equal(devices_pic_ack(f->p), MBASE + 0);
	wr(f, MASTER, EOI);
	assert_int_equal(f->fm.intr, 1);
	lower_irq(f, 0);
	assert_int_equal(f->fm.intr, 0);
	assert_int_equal(read_irr(f, MASTER), 0x00);
}

static void test_level_when_line_drops_before_ack_irr_clears(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, ELCR, 0x20);
	raise_irq(f, 5);
	assert_int_equal(f->fm.intr, 1);
	lower_irq(f, 5);
	assert_int_equal(f->fm.intr, 0);
	assert_int_equal(read_irr(f, MASTER), 0x00);
}

static const struct { uint16_t port; uint8_t written, read; } elcr_masks[] = {
	{ ELCR, 0xFF, 0xF8 },		/* IRQ 0, 1, 2 always edge */
	{ ELCR + 1, 0xFF, 0xDE },	/* IRQ 8 and 13 always edge */
	{ ELCR, 0x28, 0x28 },
	{ ELCR + 1, 0x21, 0x00 },
};

static void test_elcr_when_written_forces_piix_edge_bits_to_0(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(elcr_masks) / sizeof(elcr_masks[0]); i++) {
		wr(f, elcr_masks[i].port, elcr_masks[i].written);
		assert_int_equal(rd(f, elcr_masks[i].port), elcr_masks[i].read);
	}
}

static void test_elcr_when_read_as_word_gives_both(void **state)
{
	struct fixture *f = *state;

	devices_bus_out(&f->bus, ELCR, 0x0C20, 2);
	assert_int_equal(devices_bus_in(&f->bus, ELCR, 2), 0x0C20);
}

/* ---- masking and priority ---- */

static void test_imr_when_masked_latches_but_holds_intr(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, MASTER + 1, 0x10);
	pulse_irq(f, 4);
	assert_int_equal(f->fm.intr, 0);
	assert_int_equal(read_irr(f, MASTER), 0x10);
	wr(f, MASTER + 1, 0x00);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 4);
}

static void test_imr_when_master_ir2_masked_holds_slave(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, MASTER + 1, 0x04);
	pulse_irq(f, 14);
	assert_int_equal(f->fm.intr, 0);
	wr(f, MASTER + 1, 0x00);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 6);
}

/* Requests raised together and the order INTA hands them out in, with an
 * EOI after each: IRQ 8-15 rank where IRQ 2 does. */
static const struct { int irqs[4]; int n; int vectors[4]; } priority_cases[] = {
	{ { 5, 3 }, 2, { MBASE + 3, MBASE + 5 } },
	{ { 7, 0, 4 }, 3, { MBASE + 0, MBASE + 4, MBASE + 7 } },
	{ { 3, 10 }, 2, { SBASE + 2, MBASE + 3 } },
	{ { 10, 1 }, 2, { MBASE + 1, SBASE + 2 } },
	{ { 15, 8, 12 }, 3, { SBASE + 0, SBASE + 4, SBASE + 7 } },
};

static void test_priority_when_several_pending_gives_lowest_ir_first(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(priority_cases) / sizeof(priority_cases[0]); i++) {
		init_pair(f);
		for (int k = 0; k < priority_cases[i].n; k++)
			pulse_irq(f, priority_cases[i].irqs[k]);
		for (int k = 0; k < priority_cases[i].n; k++) {
			int v = devices_pic_ack(f->p);

			assert_int_equal(v, priority_cases[i].vectors[k]);
			if (v >= SBASE)
				wr(f, SLAVE, EOI);
			wr(f, MASTER, EOI);
		}
		assert_int_equal(f->fm.intr, 0);
	}
}

static void test_nested_when_higher_arrives_interrupts_lower_in_service(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 5);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 5);
	assert_int_equal(f->fm.intr, 0);
	pulse_irq(f, 6);	/* lower: waits */
	assert_int_equal(f->fm.intr, 0);
	pulse_irq(f, 5);	/* equal: waits */
	assert_int_equal(f->fm.intr, 0);
	pulse_irq(f, 3);	/* higher: nests */
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 3);
	assert_int_equal(read_isr(f, MASTER), 0x28);
	assert_int_equal(f->fm.intr, 0);
}

static void test_eoi_when_nonspecific_clears_highest_priority_isr(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 5);
	(void)devices_pic_ack(f->p);
	pulse_irq(f, 3);
	(void)devices_pic_ack(f->p);
	pulse_irq(f, 6);
	wr(f, MASTER, EOI);
	assert_int_equal(read_isr(f, MASTER), 0x20);
	assert_int_equal(f->fm.intr, 0);	/* IRQ 6 still below IRQ 5 */
	wr(f, MASTER, EOI);
	assert_int_equal(read_isr(f, MASTER), 0x00);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 6);
}

static void test_eoi_when_specific_clears_named_isr_bit(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 5);
	(void)devices_pic_ack(f->p);
	pulse_irq(f, 3);
	(void)devices_pic_ack(f->p);
	wr(f, MASTER, SPECIFIC_EOI | 5);
	assert_int_equal(read_isr(f, MASTER), 0x08);
	wr(f, MASTER, SPECIFIC_EOI | 7);	/* not in service: no effect */
	assert_int_equal(read_isr(f, MASTER), 0x08);
	wr(f, MASTER, SPECIFIC_EOI | 3);
	assert_int_equal(read_isr(f, MASTER), 0x00);
}

static void test_eoi_when_nothing_in_service_does_nothing(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 8);
	wr(f, MASTER, EOI);
	wr(f, SLAVE, EOI);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 0);
}

/* ---- rotation ---- */

static void test_rotate_on_eoi_when_used_makes_serviced_ir_lowest(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 0);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 0);
	wr(f, MASTER, ROTATE_EOI);
	/* Now 1 is highest ... 0 lowest. */
	pulse_irq(f, 0);
	pulse_irq(f, 7);
	pulse_irq(f, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 1);
	wr(f, MASTER, ROTATE_EOI);	/* 2 highest, 1 lowest: 7 before 0 */
	assert_int_equal(devices_pic_ack(f->p), MBASE + 7);
	wr(f, MASTER, ROTATE_EOI);	/* 0 highest again */
	assert_int_equal(devices_pic_ack(f->p), MBASE + 0);
}

static void test_set_priority_when_lowest_is_4_makes_5_highest(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, MASTER, SET_PRIORITY | 4);
	pulse_irq(f, 3);
	pulse_irq(f, 6);
	pulse_irq(f, 4);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 6);
	wr(f, MASTER, EOI);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 3);
	wr(f, MASTER, EOI);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 4);
}

static void test_rotate_on_specific_eoi_when_used_makes_named_ir_lowest(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 5);
	(void)devices_pic_ack(f->p);
	wr(f, MASTER, ROTATE_SPECIFIC_EOI | 5);
	assert_int_equal(read_isr(f, MASTER), 0x00);
	/* Order is now 6 7 0 1 2 3 4 5. */
	pulse_irq(f, 5);
	pulse_irq(f, 0);
	pulse_irq(f, 7);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 7);
}

static void test_rotate_when_priority_rotated_blocks_by_new_order(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, MASTER, SET_PRIORITY | 3);	/* 4 highest, 3 lowest */
	pulse_irq(f, 6);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 6);
	pulse_irq(f, 0);	/* below 6 now */
	assert_int_equal(f->fm.intr, 0);
	pulse_irq(f, 5);	/* above 6 */
	assert_int_equal(f->fm.intr, 1);
}

/* ---- auto-EOI ---- */

static void test_aeoi_when_set_leaves_isr_clear(void **state)
{
	struct fixture *f = *state;

	init_pair_icw4(f, 0x03);
	pulse_irq(f, 5);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 5);
	assert_int_equal(read_isr(f, MASTER), 0x00);
	pulse_irq(f, 6);	/* nothing in service: a lower IR gets through */
	assert_int_equal(devices_pic_ack(f->p), MBASE + 6);
}

static void test_aeoi_when_rotate_set_makes_acked_ir_lowest(void **state)
{
	struct fixture *f = *state;

	init_pair_icw4(f, 0x03);
	wr(f, MASTER, SET_ROTATE_AEOI);
	pulse_irq(f, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 1);
	pulse_irq(f, 1);
	pulse_irq(f, 0);
	pulse_irq(f, 4);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 4);	/* 2 highest: 4 next */
	assert_int_equal(devices_pic_ack(f->p), MBASE + 0);	/* 5 highest: 0 before 1 */
	wr(f, MASTER, CLEAR_ROTATE_AEOI);
	pulse_irq(f, 3);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 1);	/* 1 highest, stays */
	pulse_irq(f, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 1);
}

static void test_aeoi_when_slave_has_two_requests_delivers_both(void **state)
{
	struct fixture *f = *state;

	init_pair_icw4(f, 0x03);
	pulse_irq(f, 9);
	pulse_irq(f, 11);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 1);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 3);
	assert_int_equal(f->fm.intr, 0);
}

/* ---- OCW3: reads, poll, special mask mode ---- */

static void test_ocw3_when_rr_selects_irr_or_isr_for_reads(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 5);
	pulse_irq(f, 1);
	(void)devices_pic_ack(f->p);
	assert_int_equal(rd(f, MASTER), 0x20);	/* IRR after init */
	wr(f, MASTER, READ_ISR);
	assert_int_equal(rd(f, MASTER), 0x02);
	assert_int_equal(rd(f, MASTER), 0x02);	/* sticks */
	wr(f, MASTER, 0x08);			/* OCW3 with RR=0: no change */
	assert_int_equal(rd(f, MASTER), 0x02);
	wr(f, MASTER, READ_IRR);
	assert_int_equal(rd(f, MASTER), 0x20);
	assert_int_equal(rd(f, MASTER + 1), 0x00);	/* A0=1 is IMR */
}

static void test_irr_when_slave_requests_shows_ir2_on_master(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 13);
	assert_int_equal(read_irr(f, SLAVE), 0x20);
	assert_int_equal(read_irr(f, MASTER), 0x04);
}

static void test_poll_when_request_returns_level_and_acknowledges(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 6);
	wr(f, MASTER, POLL);
	assert_int_equal(rd(f, MASTER), 0x86);
	assert_int_equal(f->fm.intr, 0);
	assert_int_equal(read_isr(f, MASTER), 0x40);
	assert_int_equal(read_irr(f, MASTER), 0x00);
}

static void test_poll_when_no_request_returns_0(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, MASTER, POLL);
	assert_int_equal(rd(f, MASTER), 0x00);
	/* The poll is over: the next read is IRR again. */
	pulse_irq(f, 3);
	assert_int_equal(rd(f, MASTER), 0x08);
}

static void test_poll_when_slave_requests_master_answers_ir2(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 12);
	wr(f, MASTER, POLL);
	assert_int_equal(rd(f, MASTER), 0x82);
	wr(f, SLAVE, POLL);
	assert_int_equal(rd(f, SLAVE), 0x84);
	assert_int_equal(read_isr(f, MASTER), 0x04);
	assert_int_equal(read_isr(f, SLAVE), 0x10);
}

static void test_smm_when_in_service_ir_masked_lets_lower_through(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 3);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 3);
	pulse_irq(f, 5);
	assert_int_equal(f->fm.intr, 0);
	wr(f, MASTER + 1, 0x08);	/* mask IR3 ... */
	assert_int_equal(f->fm.intr, 0);
	wr(f, MASTER, SET_SMM);		/* ... and enter special mask mode */
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 5);
	assert_int_equal(read_isr(f, MASTER), 0x28);
	wr(f, MASTER, SPECIFIC_EOI | 5);
	wr(f, MASTER, CLEAR_SMM);
	pulse_irq(f, 6);
	assert_int_equal(f->fm.intr, 0);	/* IR3 in service blocks again */
}

/* ---- spurious interrupts ---- */

static void test_ack_when_level_request_vanished_gives_spurious_7(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, ELCR, 0x20);
	raise_irq(f, 5);
	assert_int_equal(f->fm.intr, 1);
	lower_irq(f, 5);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 7);
	assert_int_equal(read_isr(f, MASTER), 0x00);
}

static void test_ack_when_masked_after_intr_gives_spurious_7(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 4);
	wr(f, MASTER + 1, 0x10);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 7);
	assert_int_equal(read_isr(f, MASTER), 0x00);
	assert_int_equal(read_irr(f, MASTER), 0x10);	/* the request stays */
}

static void test_ack_when_slave_request_vanished_gives_spurious_15(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, ELCR + 1, 0x02);	/* IRQ 9 level */
	raise_irq(f, 9);
	assert_int_equal(f->fm.intr, 1);
	/* The master latched the slave's INT edge on IR2 ... */
	lower_irq(f, 9);
	assert_int_equal(read_irr(f, MASTER), 0x04);
	/* ... so INTR stays up, and INTA finds the slave with nothing. */
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 7);
	assert_int_equal(read_isr(f, SLAVE), 0x00);
	assert_int_equal(read_isr(f, MASTER), 0x04);	/* the master needs its EOI */
	wr(f, MASTER, EOI);
	assert_int_equal(f->fm.intr, 0);
}

static void test_ack_when_slave_masked_after_intr_gives_spurious_15(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 14);
	wr(f, SLAVE + 1, 0x40);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 7);
	assert_int_equal(read_isr(f, SLAVE), 0x00);
}

static void test_ack_when_nothing_requested_gives_spurious_7(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 7);
	assert_int_equal(f->fm.intr, 0);
}

/* ---- cascade ---- */

static void test_cascade_when_slave_acked_sets_both_isrs(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 12);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 4);
	assert_int_equal(read_isr(f, MASTER), 0x04);
	assert_int_equal(read_isr(f, SLAVE), 0x10);
	assert_int_equal(read_irr(f, SLAVE), 0x00);
	wr(f, SLAVE, EOI);
	wr(f, MASTER, EOI);
	assert_int_equal(read_isr(f, MASTER), 0x00);
	assert_int_equal(read_isr(f, SLAVE), 0x00);
}

static void test_cascade_when_lower_slave_ir_waits_for_both_eois(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 8);
	pulse_irq(f, 14);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 0);
	assert_int_equal(f->fm.intr, 0);
	wr(f, SLAVE, EOI);
	assert_int_equal(f->fm.intr, 0);	/* master IR2 still in service */
	wr(f, MASTER, EOI);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 6);
}

static void test_cascade_when_higher_slave_ir_arrives_waits_without_sfnm(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 14);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 6);
	pulse_irq(f, 8);
	assert_int_equal(f->fm.intr, 0);	/* master IR2 in service blocks IR2 */
	wr(f, SLAVE, EOI);
	wr(f, MASTER, EOI);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 0);
}

static void test_sfnm_when_higher_slave_ir_arrives_nests_through_ir2(void **state)
{
	struct fixture *f = *state;

	init_pair_icw4(f, 0x11);	/* SFNM on both (only the master's matters) */
	pulse_irq(f, 14);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 6);
	pulse_irq(f, 15);	/* lower than 14 at the slave: waits */
	assert_int_equal(f->fm.intr, 0);
	pulse_irq(f, 8);	/* higher: through the in-service IR2 */
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 0);
	assert_int_equal(read_isr(f, SLAVE), 0x41);
	pulse_irq(f, 3);	/* master IR3 is still below IR2 */
	assert_int_equal(f->fm.intr, 0);
}

static void test_set_irq_when_irq2_goes_to_irq9(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 2);
	assert_int_equal(read_irr(f, SLAVE), 0x02);
	assert_int_equal(devices_pic_ack(f->p), SBASE + 1);
}

static void test_cascade_when_master_single_ir2_is_plain_input(void **state)
{
	struct fixture *f = *state;

	wr(f, MASTER, 0x13);	/* single: no slave behind IR2 */
	wr(f, MASTER + 1, MBASE);
	wr(f, MASTER + 1, 0x01);
	pulse_irq(f, 10);
	assert_int_equal(devices_pic_ack(f->p), MBASE + 2);
	assert_int_equal(read_isr(f, SLAVE), 0x00);
}

/* ---- the INTR output ---- */

static void test_set_intr_when_output_changes_is_called_once_per_change(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	assert_int_equal(f->fm.set_intr_calls, 0);
	pulse_irq(f, 4);
	assert_int_equal(f->fm.set_intr_calls, 1);
	assert_int_equal(f->fm.intr, 1);
	assert_int_equal(devices_pic_intr(f->p), 1);
	pulse_irq(f, 6);		/* already high: no call */
	assert_int_equal(f->fm.set_intr_calls, 1);
	(void)devices_pic_ack(f->p);	/* 4 in service blocks 6 */
	assert_int_equal(f->fm.set_intr_calls, 2);
	assert_int_equal(f->fm.intr, 0);
	assert_int_equal(devices_pic_intr(f->p), 0);
	wr(f, MASTER, EOI);		/* 6 gets through */
	assert_int_equal(f->fm.set_intr_calls, 3);
	assert_int_equal(f->fm.intr, 1);
	wr(f, MASTER + 1, 0x40);	/* masking drops it */
	assert_int_equal(f->fm.set_intr_calls, 4);
	assert_int_equal(f->fm.intr, 0);
	wr(f, MASTER + 1, 0x40);	/* no change, no call */
	assert_int_equal(f->fm.set_intr_calls, 4);
}

static void test_set_intr_when_slave_irq_raises_intr(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	pulse_irq(f, 15);
	assert_int_equal(f->fm.intr, 1);
	(void)devices_pic_ack(f->p);
	assert_int_equal(f->fm.intr, 0);
}

static void test_create_when_machine_null_still_works(void **state)
{
	struct fixture *f = *state;
	struct devices_bus bus;
	struct devices_pic *p;

	(void)f;
	devices_bus_init(&bus);
	p = devices_pic_create(&bus, NULL);
	assert_non_null(p);
	devices_pic_set_irq(p, 1, 1);
	assert_int_equal(devices_pic_intr(p), 1);
	assert_int_equal(devices_pic_ack(p), 0x01);
	devices_pic_destroy(p);
	assert_int_equal(bus.n, 0);
}

static void test_create_when_elcr_taken_returns_null_and_unwinds(void **state)
{
	struct fixture *f = *state;
	struct devices_bus bus;
	struct devices_port80 *p80;

	(void)f;
	devices_bus_init(&bus);
	p80 = devices_port80_create(&bus, ELCR + 1);
	assert_non_null(p80);
	errno = 0;
	assert_null(devices_pic_create(&bus, NULL));
	assert_int_equal(errno, EEXIST);
	assert_int_equal(bus.n, 1);	/* 0x20 and 0xA0 were given back */
	devices_port80_destroy(p80);
}

static void test_bus_reset_when_called_restores_reset_state(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	wr(f, ELCR, 0x20);
	wr(f, MASTER + 1, 0x12);
	pulse_irq(f, 3);
	(void)devices_pic_ack(f->p);
	devices_bus_reset(&f->bus);
	assert_int_equal(rd(f, ELCR), 0x00);
	assert_int_equal(rd(f, MASTER + 1), 0x00);
	assert_int_equal(read_isr(f, MASTER), 0x00);
	assert_int_equal(f->fm.intr, 0);
	pulse_irq(f, 3);
	assert_int_equal(devices_pic_ack(f->p), 0x03);
}

static void test_word_access_when_at_base_reaches_both_registers(void **state)
{
	struct fixture *f = *state;

	init_pair(f);
	devices_bus_out(&f->bus, MASTER, 0xF0 << 8 | READ_IRR, 2);	/* OCW3, then OCW1 */
	pulse_irq(f, 5);
	assert_int_equal(devices_bus_in(&f->bus, MASTER, 2), 0xF020);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_init_when_linux_sequence_gives_vectors_from_icw2),
		T(test_icw2_when_low_bits_set_ignores_them),
		T(test_init_when_single_skips_icw3),
		T(test_init_when_no_icw4_ends_after_icw3_and_clears_aeoi),
		T(test_icw1_when_written_clears_imr_and_edge_latches),
		T(test_icw1_when_line_held_high_needs_a_fresh_edge),
		T(test_reset_state_is_unmasked_base_0_and_cascaded),
		T(test_edge_when_line_stays_high_interrupts_once),
		T(test_edge_when_pulse_ends_before_ack_keeps_request),
		T(test_level_when_elcr_set_irr_follows_line),
		T(test_level_when_ltim_set_applies_to_every_ir),
		T(test_level_when_line_drops_before_ack_irr_clears),
		T(test_elcr_when_written_forces_piix_edge_bits_to_0),
		T(test_elcr_when_read_as_word_gives_both),
		T(test_imr_when_masked_latches_but_holds_intr),
		T(test_imr_when_master_ir2_masked_holds_slave),
		T(test_priority_when_several_pending_gives_lowest_ir_first),
		T(test_nested_when_higher_arrives_interrupts_lower_in_service),
		T(test_eoi_when_nonspecific_clears_highest_priority_isr),
		T(test_eoi_when_specific_clears_named_isr_bit),
		T(test_eoi_when_nothing_in_service_does_nothing),
		T(test_rotate_on_eoi_when_used_makes_serviced_ir_lowest),
		T(test_set_priority_when_lowest_is_4_makes_5_highest),
		T(test_rotate_on_specific_eoi_when_used_makes_named_ir_lowest),
		T(test_rotate_when_priority_rotated_blocks_by_new_order),
		T(test_aeoi_when_set_leaves_isr_clear),
		T(test_aeoi_when_rotate_set_makes_acked_ir_lowest),
		T(test_aeoi_when_slave_has_two_requests_delivers_both),
		T(test_ocw3_when_rr_selects_irr_or_isr_for_reads),
		T(test_irr_when_slave_requests_shows_ir2_on_master),
		T(test_poll_when_request_returns_level_and_acknowledges),
		T(test_poll_when_no_request_returns_0),
		T(test_poll_when_slave_requests_master_answers_ir2),
		T(test_smm_when_in_service_ir_masked_lets_lower_through),
		T(test_ack_when_level_request_vanished_gives_spurious_7),
		T(test_ack_when_masked_after_intr_gives_spurious_7),
		T(test_ack_when_slave_request_vanished_gives_spurious_15),
		T(test_ack_when_slave_masked_after_intr_gives_spurious_15),
		T(test_ack_when_nothing_requested_gives_spurious_7),
		T(test_cascade_when_slave_acked_sets_both_isrs),
		T(test_cascade_when_lower_slave_ir_waits_for_both_eois),
		T(test_cascade_when_higher_slave_ir_arrives_waits_without_sfnm),
		T(test_sfnm_when_higher_slave_ir_arrives_nests_through_ir2),
		T(test_set_irq_when_irq2_goes_to_irq9),
		T(test_cascade_when_master_single_ir2_is_plain_input),
		T(test_set_intr_when_output_changes_is_called_once_per_change),
		T(test_set_intr_when_slave_irq_raises_intr),
		T(test_create_when_machine_null_still_works),
		T(test_create_when_elcr_taken_returns_null_and_unwinds),
		T(test_bus_reset_when_called_restores_reset_state),
		T(test_word_access_when_at_base_reaches_both_registers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
