/*
 * bt/console.c: the host end of the guest's serial console, as with
 * `qemu-system-i386 -nographic`: what is typed on stdin goes to COM1's
 * receiver, what the guest transmits already goes to stdout.
 *
 * On a terminal (bt in its foreground), the terminal is put in raw mode so
 * that every key, Ctrl-C included, reaches the guest, and QEMU's escapes
 * work: Ctrl-A x ends bt, Ctrl-A h prints them, Ctrl-A Ctrl-A sends one
 * Ctrl-A.  The terminal is put back on every way out: bt_console_destroy,
 * exit() (atexit), SIGHUP/SIGINT/SIGQUIT/SIGTERM/SIGABRT (a handler that
 * restores it and dies of the signal again), and a fault in bt's own code
 * (the runtime's fatal hook).  Only SIGKILL escapes; `stty sane` mends that.
 *
 * Anything else on stdin (a pipe, a file, /dev/null) is forwarded as it is,
 * without escapes, until EOF; then stdin is no longer polled.
 *
 * Bytes flow with backpressure: the console reads stdin only while it holds
 * nothing the UART has not taken.  What the UART refuses (FIFO full, or
 * loopback) waits here, stdin stays unpolled, and the UART's rx_ready says
 * when to try again, so the rest waits in the host's tty or pipe buffer and
 * nothing typed is lost.  The monitor clock decides when stdin is polled
 * (monitor/clock.c): in HLT and at guest timer ticks.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bt/bt.h"
#include "devices/devices.h"
#include "monitor/monitor.h"
#include "runtime/runtime.h"

/* One read of stdin; the UART takes at most 16 bytes of it at a time. */
#define CONSOLE_READ_MAX 256

struct bt_console {
	struct monitor_vm *vm;
	struct devices_uart16550 *uart;
	struct monitor_input in;
	bool interactive;	/* a terminal in raw mode: escapes apply */
	bool eof;		/* stdin ended (or failed): never polled again */
	struct bt_console_escape esc;
	/* Read from stdin, not yet taken by the UART: pend[off, len). */
	uint8_t pend[CONSOLE_READ_MAX];
	size_t pend_off, pend_len;
};

/* ---- the escape keys, a pure function of the bytes typed ---- */

enum bt_console_key bt_console_escape_feed(struct bt_console_escape *e, uint8_t byte)
{
	if (!e->armed) {
		if (byte != BT_CONSOLE_ESCAPE)
			return BT_CONSOLE_SEND;
		e->armed = true;
		return BT_CONSOLE_DROP;
	}
	e->armed = false;
	switch (byte) {
	case BT_CONSOLE_ESCAPE:
		return BT_CONSOLE_SEND;	/* Ctrl-A Ctrl-A: one Ctrl-A */
	case 'x':
		return BT_CONSOLE_QUIT;
	case 'h':
	case '?':
		return BT_CONSOLE_HELP;
	default:
		return BT_CONSOLE_DROP;	/* as QEMU: an unknown escape is ignored */
	}
}

/* ---- the terminal, and putting it back ---- */

/*
 * One terminal per process, and the signal handlers need it: file scope.
 * console_raw is set before the terminal changes and cleared before it is
 * restored, so a signal in between restores at worst twice.
 */
static struct termios console_saved;
static int console_tty = -1;
static volatile sig_atomic_t console_raw;

void bt_console_restore(void)
{
	if (console_raw) {
		console_raw = 0;
		tcsetattr(console_tty, TCSANOW, &console_saved);
	}
}

/*
 * A signal that ends bt: put the terminal back, then die of the same
 * signal, so the parent sees how bt ended.  SA_RESETHAND has restored the
 * default action and the signal is blocked while its handler runs, so the
 * raise() stays pending until the handler returns, then takes effect.
 */
static void on_fatal_signal(int sig)
{
	int saved_errno = errno;

	bt_console_restore();
	raise(sig);
	errno = saved_errno;
}

static void console_atexit(void)
{
	bt_console_restore();
}

/*
 * SA_ONSTACK: the signal may arrive while translated guest code runs on the
 * guest's stack.  The runtime blocks SIGHUP and SIGQUIT on the vCPU thread
 * (runtime_signals_init), so they are unblocked here, now that they have a
 * handler on the alternate stack.  abort() unblocks SIGABRT itself.
 */
static int console_catch_signals(void)
{
	static const int sigs[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGABRT };
	static bool at_exit;
	struct sigaction sa;
	sigset_t unblock;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_fatal_signal;
	sa.sa_flags = SA_ONSTACK | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&unblock);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		if (sigaction(sigs[i], &sa, NULL) < 0)
			return -errno;
		if (sigs[i] != SIGABRT)
			sigaddset(&unblock, sigs[i]);
	}
	if (!at_exit && atexit(console_atexit) != 0)
		return -ENOMEM;
	at_exit = true;
	runtime_set_fatal_hook(bt_console_restore);
	return pthread_sigmask(SIG_UNBLOCK, &unblock, NULL) ? -EINVAL : 0;
}

/*
 * Raw input as cfmakeraw() would set it: bytes as typed, no echo (the
 * guest echoes), no line editing, Ctrl-C/Ctrl-Z/Ctrl-\ as bytes rather than
 * signals (ISIG off), Ctrl-S/Ctrl-Q as bytes (IXON off), CR not turned into
 * NL (a serial terminal sends CR for Enter and the guest's tty maps it),
 * 8 bits.  Output processing stays as it was, unlike cfmakeraw(): the
 * guest's driver ends lines with \r\n, for which ONLCR adds only an
 * invisible \r, while bt's own messages on stderr and guests that print a
 * bare \n would otherwise creep across the screen.  QEMU keeps OPOST too.
 */
static int console_raw_mode(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &console_saved) < 0)
		return -errno;
	t = console_saved;
	t.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB);
	t.c_cflag |= CS8;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	console_tty = fd;
	/* What a handler restores is in place before it can see console_raw. */
	atomic_signal_fence(memory_order_seq_cst);
	console_raw = 1;
	if (tcsetattr(fd, TCSANOW, &t) < 0) {
		int e = errno;

		console_raw = 0;
		return -e;
	}
	return 0;
}

/* ---- stdin to the UART ---- */

static void console_help(void)
{
	fprintf(stderr, "\nC-a h    print this help\n"
			"C-a x    exit bt\n"
			"C-a C-a  send C-a to the guest\n");
}

/* Ctrl-A x: the terminal back first, so the line and whatever follows
 * (the shell's prompt) look as usual; bt then exits with status 0. */
static void console_quit(struct bt_console *c)
{
	bt_console_restore();
	fprintf(stderr, "\nbt: terminated by C-a x\n");
	monitor_stop(&c->vm->cpu, 0, NULL);
	c->eof = true;
	c->in.active = false;
}

/* Offers the pending bytes to the UART; stdin is polled again only once it
 * took them all (else rx_ready brings us back). */
static void console_flush(void *ctx)
{
	struct bt_console *c = ctx;

	c->pend_off += devices_uart16550_receive(c->uart, c->pend + c->pend_off,
						 c->pend_len - c->pend_off);
	if (c->pend_off < c->pend_len) {
		c->in.active = false;
		return;
	}
	c->pend_off = c->pend_len = 0;
	c->in.active = !c->eof;
}

/* stdin is readable, at EOF or failed (monitor_input.ready). */
static void console_ready(void *ctx)
{
	struct bt_console *c = ctx;
	ssize_t n = read(c->in.fd, c->pend, sizeof(c->pend));
	size_t kept = 0;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		/* EOF, or an error such as EIO from a terminal that hung up:
		 * nothing more will come. */
		c->eof = true;
		c->in.active = false;
		return;
	}
	for (size_t i = 0; i < (size_t)n; i++) {
		uint8_t b = c->pend[i];

		switch (c->interactive ? bt_console_escape_feed(&c->esc, b) : BT_CONSOLE_SEND) {
		case BT_CONSOLE_SEND:
			c->pend[kept++] = b;
			break;
		case BT_CONSOLE_DROP:
			break;
		case BT_CONSOLE_HELP:
			console_help();
			break;
		case BT_CONSOLE_QUIT:
			console_quit(c);
			return;
		}
	}
	c->pend_off = 0;
	c->pend_len = kept;
	console_flush(c);
}

struct bt_console *bt_console_create(struct monitor_vm *vm, struct devices_uart16550 *uart,
				     int in_fd)
{
	struct bt_console *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return NULL;
	c->vm = vm;
	c->uart = uart;
	c->in = (struct monitor_input){ .fd = in_fd, .active = true, .ready = console_ready,
					.ctx = c };
	if (isatty(in_fd)) {
		/* A terminal whose foreground is another job (`bt run ... &`):
		 * reading would stop bt (SIGTTIN) and raw mode would change the
		 * shell's terminal under it, so no input at all. */
		if (tcgetpgrp(in_fd) != getpgrp()) {
			c->eof = true;
			c->in.active = false;
		} else {
			c->interactive = true;
		}
	}
	if (c->interactive) {
		r = console_catch_signals();
		if (r == 0)
			r = console_raw_mode(in_fd);
		if (r < 0)
			goto out_free;
	}
	r = monitor_clock_add_input(vm, &c->in);
	if (r < 0)
		goto out_restore;
	devices_uart16550_set_rx_ready(uart, console_flush, c);
	return c;

out_restore:
	bt_console_restore();
out_free:
	free(c);
	errno = -r;
	return NULL;
}

void bt_console_destroy(struct bt_console *c)
{
	if (!c)
		return;
	devices_uart16550_set_rx_ready(c->uart, NULL, NULL);
	monitor_clock_remove_input(c->vm, &c->in);
	bt_console_restore();
	free(c);
}
