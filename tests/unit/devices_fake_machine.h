/* tests/unit/devices_fake_machine.h: a machine for device unit tests, with a clock the test moves and a record of what devices asked of it. */
#ifndef BT_TESTS_DEVICES_FAKE_MACHINE_H
#define BT_TESTS_DEVICES_FAKE_MACHINE_H

#include "devices/devices.h"

struct fake_machine {
	uint64_t now;		/* what now_ns returns */
	int level[16];		/* IRQ line levels */
	int edges[16];		/* rising edges seen on each line */
	int resets;		/* request_reset calls */
	int a20_calls, a20;	/* set_a20 calls and the last level */
};

static void fake_set_irq(void *ctx, int irq, int level)
{
	struct fake_machine *fm = ctx;

	assert_in_range(irq, 0, 15);
	if (level && !fm->level[irq])
		fm->edges[irq]++;
	fm->level[irq] = level;
}

static uint64_t fake_now(void *ctx)
{
	return ((struct fake_machine *)ctx)->now;
}

static void fake_request_reset(void *ctx)
{
	((struct fake_machine *)ctx)->resets++;
}

static void fake_set_a20(void *ctx, int on)
{
	struct fake_machine *fm = ctx;

	fm->a20_calls++;
	fm->a20 = on;
}

/* Every callback a device may use, wired to `fm`; A20 starts on, as bt's
 * machine does. */
static inline struct devices_machine fake_machine_init(struct fake_machine *fm)
{
	fm->a20 = 1;
	return (struct devices_machine){
		.ctx = fm, .set_irq = fake_set_irq, .now_ns = fake_now,
		.request_reset = fake_request_reset, .set_a20 = fake_set_a20,
	};
}

#endif
