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

#endif
