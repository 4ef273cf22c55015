/* devices/i8042.c: Intel 8042 keyboard controller (PS/2 style) at 0x60/0x64 with an MF2 keyboard and an empty aux port. */
#include "devices/devices.h"

#include <errno.h>
#include <stdlib.h>

/*
 * References: IBM PS/2 Hardware Interface Technical Reference, "Keyboard/
 * Auxiliary Device Controller" (commands, status, command byte, output
 * port) and "Keyboard" (keyboard commands and replies); IBM PC/AT Technical
 * Reference for the AT-compatible subset.
 */

#define KBD_IRQ 1
#define AUX_IRQ 12

/* Status register (port 0x64 read). */
#define STS_OBF		0x01	/* output buffer full */
#define STS_IBF		0x02	/* input buffer full: always 0, we take bytes at once */
#define STS_SYS		0x04	/* system flag: a copy of CTR bit 2 */
#define STS_CMD		0x08	/* A2: the last write was to 0x64 */
#define STS_UNLOCKED	0x10	/* keyboard not inhibited by the keylock */
#define STS_AUXB	0x20	/* the output buffer holds aux data */
#define STS_TIMEOUT	0x40
#define STS_PARITY	0x80

/* Command byte, controller RAM byte 0. */
#define CTR_KBDINT	0x01	/* IRQ 1 when keyboard data is in the buffer */
#define CTR_AUXINT	0x02	/* IRQ 12 when aux data is in the buffer */
#define CTR_SYS		0x04
#define CTR_KBDDIS	0x10	/* keyboard clock held low: it cannot send */
#define CTR_AUXDIS	0x20
#define CTR_XLATE	0x40	/* translate keyboard bytes from set 2 to set 1 */

/* Output port P2. */
#define OUT_RESET	0x01	/* 0 resets the CPU */
#define OUT_A20		0x02
#define OUT_KBD_OBF	0x10	/* drives IRQ 1 */
#define OUT_AUX_OBF	0x20	/* drives IRQ 12 */
/* Not in reset, A20 on (as the machine starts), undefined bits 2-3 high,
 * keyboard clock and data released (high). */
#define OUT_POWER_ON	0xCF

/* Controller commands (port 0x64 write). */
enum {
	CMD_READ_RAM = 0x20,		/* 0x20-0x3F: RAM byte n; 0x20 is the CTR */
	CMD_WRITE_RAM = 0x60,		/* 0x60-0x7F, the byte follows on 0x60 */
	CMD_AUX_DISABLE = 0xA7,
	CMD_AUX_ENABLE = 0xA8,
	CMD_AUX_TEST = 0xA9,
	CMD_SELF_TEST = 0xAA,
	CMD_KBD_TEST = 0xAB,
	CMD_KBD_DISABLE = 0xAD,
	CMD_KBD_ENABLE = 0xAE,
	CMD_READ_OUTPUT = 0xD0,
	CMD_WRITE_OUTPUT = 0xD1,
	CMD_WRITE_KBD_OBUF = 0xD2,
	CMD_WRITE_AUX_OBUF = 0xD3,
	CMD_WRITE_AUX = 0xD4,
	CMD_A20_OFF = 0xDD,
	CMD_A20_ON = 0xDF,
	CMD_PULSE = 0xF0,		/* 0xF0-0xFF: pulse P2 bits 0-3 whose bit is 0 */
};

#define SELF_TEST_OK	0x55
#define IFACE_TEST_OK	0x00
#define AUX_NO_DEVICE	0xFE	/* with STS_TIMEOUT: nothing answered on the aux port */

/* Keyboard commands and replies. */
enum {
	KBD_SET_LEDS = 0xED,
	KBD_ECHO = 0xEE,
	KBD_SCANCODE_SET = 0xF0,
	KBD_IDENTIFY = 0xF2,
	KBD_TYPEMATIC = 0xF3,
	KBD_ENABLE = 0xF4,
	KBD_DISABLE = 0xF5,
	KBD_DEFAULTS = 0xF6,
	KBD_SET3_FIRST = 0xF7,		/* 0xF7-0xFD: scan code set 3 key types */
	KBD_SET3_LAST = 0xFD,
	KBD_RESEND = 0xFE,
	KBD_RESET = 0xFF,

	KBD_REPLY_BAT_OK = 0xAA,
	KBD_REPLY_ACK = 0xFA,
	KBD_REPLY_RESEND = 0xFE,
	KBD_ID_0 = 0xAB,		/* MF2 keyboard: AB 83 */
	KBD_ID_1 = 0x83,
};

#define KBD_TYPEMATIC_DEFAULT	0x2B	/* 10.9 characters/s after 500 ms */
#define KBD_SET_DEFAULT		2

/* The output buffer and the bytes queued for it.  The controller's own
 * replies, D2/D3 loop-backs and D4 results are always deliverable; the
 * keyboard's bytes wait while the keyboard interface is disabled. */
struct i8042_byte {
	uint8_t data;
	uint8_t status;		/* STS_AUXB, STS_TIMEOUT shown with this byte */
	bool from_kbd;
};

#define I8042_QUEUE_LEN 16	/* the keyboard's own buffer is 16 bytes */

/* The MF2 keyboard behind the controller: only what its commands set. */
struct i8042_kbd {
	uint8_t expect;		/* command waiting for its parameter byte, or 0 */
	bool scanning;
	uint8_t set, leds, typematic;
	uint8_t last_sent;	/* for KBD_RESEND */
};

struct devices_i8042 {
	uint8_t ram[32];	/* ram[0] is the command byte (CTR) */
	uint8_t outport;	/* P2 less the OBF bits, which follow the buffer */
	bool last_write_cmd;	/* STS_CMD */
	uint8_t pending;	/* command waiting for its byte on 0x60, or 0 */

	bool obf;
	struct i8042_byte ob;	/* read again when empty: the latch keeps it */
	struct i8042_byte q[I8042_QUEUE_LEN];
	int nq;

	struct i8042_kbd kbd;
	int irq_level[2];	/* IRQ 1, IRQ 12 */
	const struct devices_machine *m;	/* may be NULL; must outlive the controller */
	uint64_t dropped, unknown_cmds;
};

/* ---- output buffer and interrupts ---- */

static void i8042_set_irq(struct devices_i8042 *k, int which, int level)
{
	static const int irq[2] = { KBD_IRQ, AUX_IRQ };

	if (k->irq_level[which] == level)
		return;
	k->irq_level[which] = level;
	if (k->m && k->m->set_irq)
		k->m->set_irq(k->m->ctx, irq[which], level);
}

/* IRQ 1 or 12 follows OBF for the source of the byte in the buffer, each
 * gated by its CTR enable (PS/2 reference, command byte bits 0-1). */
static void i8042_update_irq(struct devices_i8042 *k)
{
	bool aux = k->ob.status & STS_AUXB;
	uint8_t ctr = k->ram[0];

	i8042_set_irq(k, 0, k->obf && !aux && (ctr & CTR_KBDINT));
	i8042_set_irq(k, 1, k->obf && aux && (ctr & CTR_AUXINT));
}

/* Move the first deliverable queued byte into an empty output buffer. */
static void i8042_refill(struct devices_i8042 *k)
{
	if (k->obf)
		return;
	for (int i = 0; i < k->nq; i++) {
		if (k->q[i].from_kbd && (k->ram[0] & CTR_KBDDIS))
			continue;
		k->ob = k->q[i];
		k->obf = true;
		k->nq--;
		for (int j = i; j < k->nq; j++)
			k->q[j] = k->q[j + 1];
		break;
	}
}

static void i8042_update(struct devices_i8042 *k)
{
	i8042_refill(k);
	i8042_update_irq(k);
}

static void i8042_queue(struct devices_i8042 *k, uint8_t data, uint8_t status, bool from_kbd)
{
	if (k->nq == I8042_QUEUE_LEN) {
		/* XXX: a real keyboard answers an overrun with 0x00; only a guest
		 * that never reads can get here, and it loses the newest byte. */
		k->dropped++;
		return;
	}
	k->q[k->nq++] = (struct i8042_byte){ .data = data, .status = status, .from_kbd = from_kbd };
	i8042_update(k);
}

static void i8042_reply(struct devices_i8042 *k, uint8_t data)
{
	i8042_queue(k, data, 0, false);
}

/* Port 0x60 read.  Taking the byte drops OBF and the IRQ line; a byte
 * queued behind it then refills the buffer and raises the line again, so an
 * edge-triggered 8259 sees one edge per byte. */
static uint8_t i8042_read_data(struct devices_i8042 *k)
{
	uint8_t v = k->ob.data;

	if (k->obf) {
		k->obf = false;
		i8042_update_irq(k);
		i8042_update(k);
	}
	return v;
}

static uint8_t i8042_status(const struct devices_i8042 *k)
{
	uint8_t s = STS_UNLOCKED;

	if (k->obf)
		s |= STS_OBF | (k->ob.status & (STS_AUXB | STS_TIMEOUT));
	if (k->ram[0] & CTR_SYS)
		s |= STS_SYS;
	if (k->last_write_cmd)
		s |= STS_CMD;
	return s;
}

/* ---- the keyboard ---- */

/*
 * With CTR.XLATE the controller passes keyboard bytes through its set 2 ->
 * set 1 table.  Bytes from 0x84 up pass unchanged; of the bytes this
 * keyboard sends, the second ID byte (0x83, set 2's F7) and the scan code
 * set numbers (set 2 codes 01-03) are the ones the table changes.
 * XXX: only those: this keyboard sends no scan codes.
 */
static uint8_t i8042_translate(const struct devices_i8042 *k, uint8_t b)
{
	if (!(k->ram[0] & CTR_XLATE))
		return b;
	switch (b) {
	case 0x01: return 0x43;
	case 0x02: return 0x41;
	case 0x03: return 0x3F;
	case 0x83: return 0x41;
	}
	return b;
}

static void kbd_send(struct devices_i8042 *k, uint8_t b)
{
	k->kbd.last_sent = b;
	i8042_queue(k, i8042_translate(k, b), 0, true);
}

static void kbd_defaults(struct i8042_kbd *kbd)
{
	kbd->set = KBD_SET_DEFAULT;
	kbd->typematic = KBD_TYPEMATIC_DEFAULT;
	kbd->expect = 0;
}

/* The parameter byte of ED, F3 or F0. */
static void kbd_write_param(struct devices_i8042 *k, uint8_t cmd, uint8_t v)
{
	switch (cmd) {
	case KBD_SET_LEDS:
		k->kbd.leds = v & 0x07;
		kbd_send(k, KBD_REPLY_ACK);
		break;
	case KBD_TYPEMATIC:
		k->kbd.typematic = v & 0x7F;
		kbd_send(k, KBD_REPLY_ACK);
		break;
	case KBD_SCANCODE_SET:
		if (v > 3) {
			kbd_send(k, KBD_REPLY_RESEND);
			break;
		}
		kbd_send(k, KBD_REPLY_ACK);
		if (v == 0)
			kbd_send(k, k->kbd.set);
		else
			k->kbd.set = v;
		break;
	}
}

/* A byte the host sends the keyboard (PS/2 reference, "Keyboard Commands"). */
static void kbd_write(struct devices_i8042 *k, uint8_t v)
{
	uint8_t expect = k->kbd.expect;

	if (expect) {
		k->kbd.expect = 0;
		kbd_write_param(k, expect, v);
		return;
	}
	switch (v) {
	case KBD_SET_LEDS:
	case KBD_TYPEMATIC:
	case KBD_SCANCODE_SET:
		k->kbd.expect = v;
		kbd_send(k, KBD_REPLY_ACK);
		break;
	case KBD_ECHO:
		kbd_send(k, KBD_ECHO);
		break;
	case KBD_IDENTIFY:
		kbd_send(k, KBD_REPLY_ACK);
		kbd_send(k, KBD_ID_0);
		kbd_send(k, KBD_ID_1);
		break;
	case KBD_ENABLE:
		k->kbd.scanning = true;
		kbd_send(k, KBD_REPLY_ACK);
		break;
	case KBD_DISABLE:
		kbd_defaults(&k->kbd);
		k->kbd.scanning = false;
		kbd_send(k, KBD_REPLY_ACK);
		break;
	case KBD_DEFAULTS:
		kbd_defaults(&k->kbd);
		kbd_send(k, KBD_REPLY_ACK);
		break;
	case KBD_RESEND:
		kbd_send(k, k->kbd.last_sent);
		break;
	case KBD_RESET:
		/* XXX: the basic assurance test takes 300-500 ms on a real
		 * keyboard; its result is here at once. */
		kbd_defaults(&k->kbd);
		k->kbd.scanning = true;
		k->kbd.leds = 0;
		kbd_send(k, KBD_REPLY_ACK);
		kbd_send(k, KBD_REPLY_BAT_OK);
		break;
	default:
		if (v >= KBD_SET3_FIRST && v <= KBD_SET3_LAST)
			kbd_send(k, KBD_REPLY_ACK);	/* accepted, no effect in set 2 */
		else
			kbd_send(k, KBD_REPLY_RESEND);
		break;
	}
}

/* ---- the controller ---- */

static void i8042_set_a20(struct devices_i8042 *k, bool on)
{
	bool was = k->outport & OUT_A20;

	if (on)
		k->outport |= OUT_A20;
	else
		k->outport &= (uint8_t)~OUT_A20;
	if (on != was && k->m && k->m->set_a20)
		k->m->set_a20(k->m->ctx, on);
}

static void i8042_request_reset(struct devices_i8042 *k)
{
	if (k->m && k->m->request_reset)
		k->m->request_reset(k->m->ctx);
}

/* P2 as read by D0: bits 4-5 are the buffer-full lines to IRQ 1 and 12. */
static uint8_t i8042_read_outport(const struct devices_i8042 *k)
{
	uint8_t v = k->outport;

	if (k->obf)
		v |= (k->ob.status & STS_AUXB) ? OUT_AUX_OBF : OUT_KBD_OBF;
	return v;
}

static void i8042_write_outport(struct devices_i8042 *k, uint8_t v)
{
	i8042_set_a20(k, v & OUT_A20);
	k->outport = v & (uint8_t)~(OUT_KBD_OBF | OUT_AUX_OBF);
	if (!(v & OUT_RESET))
		i8042_request_reset(k);
}

/* The byte on 0x60 that a pending controller command was waiting for. */
static void i8042_write_param(struct devices_i8042 *k, uint8_t cmd, uint8_t v)
{
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
		k->ram[cmd & 0x1F] = v;
		i8042_update(k);	/* CTR may have changed enables */
		return;
	}
	switch (cmd) {
	case CMD_WRITE_OUTPUT:
		i8042_write_outport(k, v);
		break;
	case CMD_WRITE_KBD_OBUF:
		i8042_queue(k, v, 0, false);
		break;
	case CMD_WRITE_AUX_OBUF:
		i8042_queue(k, v, STS_AUXB, false);
		break;
	case CMD_WRITE_AUX:
		/* No device on the aux port: the transmission times out, as on a
		 * PC with no mouse plugged in.  Linux's psmouse then gives up. */
		i8042_queue(k, AUX_NO_DEVICE, STS_AUXB | STS_TIMEOUT, false);
		break;
	}
}

static void i8042_write_cmd(struct devices_i8042 *k, uint8_t cmd)
{
	k->pending = 0;		/* a new command abandons one waiting for data */
	if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + 0x20) {
		i8042_reply(k, k->ram[cmd & 0x1F]);
		return;
	}
	if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + 0x20) {
		k->pending = cmd;
		return;
	}
	if (cmd >= CMD_PULSE) {
		/* Bits 0-3 clear are pulsed low for 6 us; only P2 bit 0, the
		 * CPU reset, has an effect worth modelling. */
		if (!(cmd & OUT_RESET))
			i8042_request_reset(k);
		return;
	}
	switch (cmd) {
	case CMD_AUX_DISABLE:
		k->ram[0] |= CTR_AUXDIS;
		break;
	case CMD_AUX_ENABLE:
		k->ram[0] &= (uint8_t)~CTR_AUXDIS;
		break;
	case CMD_AUX_TEST:
	case CMD_KBD_TEST:
		i8042_reply(k, IFACE_TEST_OK);
		break;
	case CMD_SELF_TEST:
		k->ram[0] |= CTR_SYS;
		i8042_reply(k, SELF_TEST_OK);
		break;
	case CMD_KBD_DISABLE:
		k->ram[0] |= CTR_KBDDIS;
		break;
	case CMD_KBD_ENABLE:
		k->ram[0] &= (uint8_t)~CTR_KBDDIS;
		break;
	case CMD_READ_OUTPUT:
		i8042_reply(k, i8042_read_outport(k));
		break;
	case CMD_WRITE_OUTPUT:
	case CMD_WRITE_KBD_OBUF:
	case CMD_WRITE_AUX_OBUF:
	case CMD_WRITE_AUX:
		k->pending = cmd;
		break;
	case CMD_A20_OFF:
		i8042_set_a20(k, false);
		break;
	case CMD_A20_ON:
		i8042_set_a20(k, true);
		break;
	default:
		/* Vendor commands (passwords, version, input port...): ignored,
		 * as an 8042 without them does. */
		k->unknown_cmds++;
		break;
	}
	i8042_update(k);
}

static void i8042_write_data(struct devices_i8042 *k, uint8_t v)
{
	uint8_t cmd = k->pending;

	k->pending = 0;
	if (cmd)
		i8042_write_param(k, cmd, v);
	else
		kbd_write(k, v);
}

/*
 * Power-on state.  XXX: there is no BIOS POST before the guest, so the
 * controller starts as QEMU's (our oracle) does: both interrupts enabled,
 * no translation, system flag clear until a self-test; A20 on.
 */
static void i8042_reset(struct devices_i8042 *k)
{
	for (unsigned i = 0; i < sizeof(k->ram); i++)
		k->ram[i] = 0;
	k->ram[0] = CTR_KBDINT | CTR_AUXINT;
	k->outport = OUT_POWER_ON;
	k->last_write_cmd = false;
	k->pending = 0;
	k->obf = false;
	k->ob = (struct i8042_byte){ 0 };
	k->nq = 0;
	k->kbd = (struct i8042_kbd){ .scanning = true };
	kbd_defaults(&k->kbd);
	i8042_update_irq(k);
}

/* ---- port glue: one byte-wide register at 0x60 and one at 0x64 ---- */

/* The upper bytes of a wider access are other ports (0x61 is port B). */
static uint32_t i8042_float_above(int size)
{
	return size == 1 ? 0 : size == 2 ? 0xFF00u : 0xFFFFFF00u;
}

static uint32_t i8042_data_port_read(void *s, uint16_t offset, int size)
{
	(void)offset;
	return i8042_float_above(size) | i8042_read_data(s);
}

static void i8042_data_port_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_i8042 *k = s;

	(void)offset;
	(void)size;
	k->last_write_cmd = false;
	i8042_write_data(k, (uint8_t)value);
}

static uint32_t i8042_cmd_port_read(void *s, uint16_t offset, int size)
{
	(void)offset;
	return i8042_float_above(size) | i8042_status(s);
}

static void i8042_cmd_port_write(void *s, uint16_t offset, uint32_t value, int size)
{
	struct devices_i8042 *k = s;

	(void)offset;
	(void)size;
	k->last_write_cmd = true;
	i8042_write_cmd(k, (uint8_t)value);
}

static void i8042_port_reset(void *s)
{
	i8042_reset(s);
}

static const struct devices_ops i8042_data_ops = {
	.name = "i8042-data",
	.read = i8042_data_port_read,
	.write = i8042_data_port_write,
	.reset = i8042_port_reset,
};

/* No reset here: the data port's resets the controller once per bus reset. */
static const struct devices_ops i8042_cmd_ops = {
	.name = "i8042-cmd",
	.read = i8042_cmd_port_read,
	.write = i8042_cmd_port_write,
};

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT 0x64

struct devices_i8042 *devices_i8042_create(struct devices_bus *bus,
					   const struct devices_machine *m)
{
	struct devices_i8042 *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return NULL;
	k->m = m;
	i8042_reset(k);
	ret = devices_bus_register(bus, I8042_DATA_PORT, 1, &i8042_data_ops, k);
	if (ret < 0)
		goto out_free;
	ret = devices_bus_register(bus, I8042_CMD_PORT, 1, &i8042_cmd_ops, k);
	if (ret < 0)
		goto out_data;
	return k;

out_data:
	devices_bus_unregister(bus, I8042_DATA_PORT);
out_free:
	free(k);
	errno = -ret;
	return NULL;
}

void devices_i8042_destroy(struct devices_i8042 *k)
{
	free(k);
}

int devices_i8042_a20(const struct devices_i8042 *k)
{
	return (k->outport & OUT_A20) != 0;
}
