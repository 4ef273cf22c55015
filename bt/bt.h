/* bt/: the command line, the option table and VM assembly. */
#ifndef BT_BT_H
#define BT_BT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Every tunable and command-line option is one row here (DynamoRIO optionsx.h
 * style); the parser, --help and the defaults are generated from this table.
 * OPT(field, type, cli name, default, min, max, help)
 * Types: STR (const char *), U64 (uint64_t, range-checked), BOOL (flag).
 */
#define BT_RUN_OPTIONS(OPT)                                                           \
	OPT(kernel, STR, "kernel", NULL, 0, 0,                                        \
	    "kernel to boot: a Linux bzImage or a Multiboot v1 ELF (required)")       \
	OPT(append, STR, "append", "", 0, 0, "kernel command line")                   \
	OPT(initrd, STR, "initrd", NULL, 0, 0,                                        \
	    "initial ramdisk for a Linux kernel")                                     \
	OPT(mem_mib, U64, "mem", 128, 2, 3072, "guest RAM in MiB")                   \
	OPT(stats, BOOL, "stats", 0, 0, 1, "print translation and exit statistics at exit") \
	OPT(tu_max_insns, U64, "tu-max-insns", 64, 1, 1024,                            \
	    "size cap of a translation unit, in guest instructions")                  \
	OPT(tcache_mib, U64, "tcache-mib", 64, 1, 1024,                                \
	    "translation cache size in MiB (full flush when full)")                   \
	OPT(reboot, BOOL, "reboot", 0, 0, 1,                                           \
	    "restart the guest when it resets the machine, instead of exiting")

struct bt_options {
#define BT_OPT_FIELD_STR(f) const char *f;
#define BT_OPT_FIELD_U64(f) uint64_t f;
#define BT_OPT_FIELD_BOOL(f) bool f;
#define BT_OPT_FIELD(f, type, name, def, min, max, help) BT_OPT_FIELD_##type(f)
	BT_RUN_OPTIONS(BT_OPT_FIELD)
#undef BT_OPT_FIELD
};

/* Fills *o with the table's defaults. */
void bt_options_defaults(struct bt_options *o);
/* Parses `bt run` arguments (argv[0] is "run").  Returns 0, 1 when --help was
 * printed, or -1 after printing a one-line error to stderr. */
int bt_options_parse(struct bt_options *o, int argc, char **argv);
void bt_options_usage(FILE *f);

/* Builds the VM described by *o and runs it; returns bt's exit status. */
int bt_vm_run(const struct bt_options *o);

/* ---- the serial console's host end (bt/console.c) ---- */

/* QEMU's -nographic escapes: Ctrl-A, then a key. */
#define BT_CONSOLE_ESCAPE 0x01

enum bt_console_key {
	BT_CONSOLE_SEND,	/* the byte goes to the guest */
	BT_CONSOLE_DROP,	/* swallowed: Ctrl-A itself, or an unknown escape */
	BT_CONSOLE_HELP,	/* Ctrl-A h (or ?): print the escapes */
	BT_CONSOLE_QUIT,	/* Ctrl-A x: end bt with status 0 */
};

struct bt_console_escape {
	bool armed;		/* Ctrl-A seen, the key comes next */
};

/* What to do with one byte typed at the terminal; *e starts zeroed. */
enum bt_console_key bt_console_escape_feed(struct bt_console_escape *e, uint8_t byte);

struct monitor_vm;
struct devices_uart16550;
struct bt_console;

/*
 * Feeds in_fd (stdin) to the UART's receiver through the monitor clock's
 * host inputs.  A terminal goes into raw mode with the escapes, until
 * bt_console_destroy, exit or a fatal signal; anything else is forwarded as
 * it is until EOF.  Call it on the vCPU thread after runtime_signals_init
 * (its signal handlers need the alternate stack, and it unblocks SIGHUP and
 * SIGQUIT, which the runtime blocks).  NULL with errno on failure.
 */
struct bt_console *bt_console_create(struct monitor_vm *vm, struct devices_uart16550 *uart,
				     int in_fd);
void bt_console_destroy(struct bt_console *c);
/* Puts the terminal back as bt found it, if the console changed it.
 * Async-signal-safe; idempotent. */
void bt_console_restore(void);

#endif
