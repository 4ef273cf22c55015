/* The `bt run` option parser, --help and defaults, all generated from BT_RUN_OPTIONS. */
#include "bt/bt.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

enum opt_type { OPT_STR, OPT_U64, OPT_BOOL };

/* One row of BT_RUN_OPTIONS in a form the parser can walk. */
struct opt_desc {
	const char *name;
	enum opt_type type;
	size_t offset;
	const char *def_str;
	uint64_t def_num;
	uint64_t min, max;
	const char *help;
};

#define OPT_DEF_STR(d)  .def_str = (d)
#define OPT_DEF_U64(d)  .def_num = (d)
#define OPT_DEF_BOOL(d) .def_num = (d)
#define OPT_ROW(f_, t_, n_, d_, lo_, hi_, h_)                                       \
	{ .name = n_, .type = OPT_##t_, .offset = offsetof(struct bt_options, f_),   \
	  OPT_DEF_##t_(d_), .min = lo_, .max = hi_, .help = h_ },

static const struct opt_desc opt_table[] = { BT_RUN_OPTIONS(OPT_ROW) };

#define OPT_COUNT (sizeof(opt_table) / sizeof(opt_table[0]))

void bt_options_defaults(struct bt_options *o)
{
	memset(o, 0, sizeof(*o));
#define OPT_SET_DEFAULT(f_, t_, n_, d_, lo_, hi_, h_) o->f_ = d_;
	BT_RUN_OPTIONS(OPT_SET_DEFAULT)
#undef OPT_SET_DEFAULT
}

static const char *metavar(const struct opt_desc *d)
{
	switch (d->type) {
	case OPT_STR:
		return " STR";
	case OPT_U64:
		return " N";
	case OPT_BOOL:
		break;
	}
	return "";
}

void bt_options_usage(FILE *f)
{
	fprintf(f, "usage: bt run --kernel FILE [options]\n\n"
		   "Boots a 32-bit Linux bzImage or Multiboot kernel in a new virtual machine.\n"
		   "\noptions:\n");
	for (size_t i = 0; i < OPT_COUNT; i++) {
		const struct opt_desc *d = &opt_table[i];
		char left[64];

		snprintf(left, sizeof(left), "--%s%s", d->name, metavar(d));
		fprintf(f, "  %-20s %s", left, d->help);
		switch (d->type) {
		case OPT_STR:
			if (d->def_str)
				fprintf(f, " (default \"%s\")", d->def_str);
			break;
		case OPT_U64:
			fprintf(f, " (default %" PRIu64 ", %" PRIu64 "..%" PRIu64 ")", d->def_num,
				d->min, d->max);
			break;
		case OPT_BOOL:
			fprintf(f, " (default %s)", d->def_num ? "on" : "off");
			break;
		}
		fputc('\n', f);
	}
	fprintf(f, "  %-20s %s\n", "-h, --help", "print this help and exit");
	fprintf(f, "\nValues are given as --name VALUE or --name=VALUE; numbers are decimal.\n");
}

static const struct opt_desc *find_opt(const char *name, size_t len)
{
	for (size_t i = 0; i < OPT_COUNT; i++)
		if (strlen(opt_table[i].name) == len && memcmp(opt_table[i].name, name, len) == 0)
			return &opt_table[i];
	return NULL;
}

/* Strict decimal: digits only, no sign, no spaces, no overflow.  Returns
 * 0, -1 for junk, -2 for a number too large for 64 bits. */
static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned digit;

		if (*s < '0' || *s > '9')
			return -1;
		digit = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -2;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

static int set_value(struct bt_options *o, const struct opt_desc *d, const char *val)
{
	char *field = (char *)o + d->offset;
	uint64_t v;
	int ret;

	switch (d->type) {
	case OPT_STR:
		*(const char **)field = val;
		return 0;
	case OPT_U64:
		ret = parse_u64(val, &v);
		if (ret == -1) {
			fprintf(stderr, "bt: --%s '%s' is not a decimal number\n", d->name, val);
			return -1;
		}
		if (ret < 0 || v < d->min || v > d->max) {
			fprintf(stderr, "bt: --%s %s is out of range (%" PRIu64 "..%" PRIu64 ")\n",
				d->name, val, d->min, d->max);
			return -1;
		}
		*(uint64_t *)field = v;
		return 0;
	case OPT_BOOL:
		*(bool *)field = true;
		return 0;
	}
	return -1;
}

int bt_options_parse(struct bt_options *o, int argc, char **argv)
{
	bt_options_defaults(o);
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *name, *eq, *val;
		const struct opt_desc *d;
		size_t len;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			bt_options_usage(stdout);
			return 1;
		}
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
			fprintf(stderr, "bt: unexpected argument '%s' (see bt run --help)\n", arg);
			return -1;
		}
		name = arg + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		d = find_opt(name, len);
		if (!d) {
			fprintf(stderr, "bt: unknown option '--%.*s' (see bt run --help)\n", (int)len,
				name);
			return -1;
		}
		if (d->type == OPT_BOOL) {
			if (eq) {
				fprintf(stderr, "bt: --%s takes no value\n", d->name);
				return -1;
			}
			val = NULL;
		} else if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			fprintf(stderr, "bt: --%s needs a value\n", d->name);
			return -1;
		}
		if (set_value(o, d, val) < 0)
			return -1;
	}
	if (!o->kernel || !o->kernel[0]) {
		fprintf(stderr, "bt: run needs --kernel FILE\n");
		return -1;
	}
	return 0;
}
