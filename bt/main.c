/* bt's entry point: dispatches the subcommand (`bt run`, help, version). */
#include "bt/bt.h"

#include <string.h>

#define BT_VERSION "0.1"

/* Exit status for a bad command line, as most Unix tools use. */
#define BT_EXIT_USAGE 2

static void usage(FILE *f)
{
	fprintf(f, "usage: bt <command> [options]\n\n"
		   "bt runs 32-bit x86 guest kernels by binary translation, in user space.\n\n"
		   "commands:\n"
		   "  run        boot a Multiboot kernel (see `bt run --help` for its options)\n"
		   "  help       print this help (`bt help run` for run's options)\n\n"
		   "  -h, --help     print this help\n"
		   "  --version      print bt's version\n");
}

static int cmd_run(int argc, char **argv)
{
	struct bt_options opts;
	int ret = bt_options_parse(&opts, argc, argv);

	if (ret > 0)
		return 0;	/* --help was printed */
	if (ret < 0)
		return BT_EXIT_USAGE;
	return bt_vm_run(&opts);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fprintf(stderr, "bt: missing command (see bt --help)\n");
		return BT_EXIT_USAGE;
	}
	cmd = argv[1];
	if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 ||
	    (strcmp(cmd, "help") == 0 && argc == 2)) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "help") == 0) {
		if (argc == 3 && strcmp(argv[2], "run") == 0) {
			bt_options_usage(stdout);
			return 0;
		}
		fprintf(stderr, "bt: no help for '%s' (see bt --help)\n", argv[2]);
		return BT_EXIT_USAGE;
	}
	if (strcmp(cmd, "--version") == 0) {
		printf("bt %s\n", BT_VERSION);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	fprintf(stderr, "bt: unknown command '%s' (see bt --help)\n", cmd);
	return BT_EXIT_USAGE;
}
