/* Unit tests for monitor/linuxboot.c with synthetic bzImages (and Debian's, when it is at hand). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/monitor.h"

#define KIB 1024u
#define MIB (1024u * 1024)
#define RAM (32 * MIB)

/*
 * The synthetic bzImage: 4 setup sectors after the boot sector, then
 * PM_SIZE bytes of "protected-mode code" whose payload is described by
 * the header.  It decompresses into [DECOMP, DECOMP + INIT_SIZE).
 */
#define SETUP_SECTS 4u
#define SETUP_SIZE  ((SETUP_SECTS + 1) * 512)
#define PM_SIZE     0x1000u
#define IMG_SIZE    (SETUP_SIZE + PM_SIZE)
#define HDR_LEN     0x6a	/* header ends at 0x202 + 0x6a = 0x26c, as Linux 6.1's */
#define DECOMP      (4 * MIB)
#define INIT_SIZE   (4 * MIB)
#define LOAD        0x100000u

/* Expected values: the loader's fixed layout (monitor/linuxboot.c). */
#define BOOT_PARAMS 0x10000u
#define CMDLINE     0x20000u
#define GDT         0x11000u

/* Debian's i386 kernel, when the Linux boot tests have fetched it. */
#define DEBIAN_KERNEL     "/tmp/lk/kimg/boot/vmlinuz-6.1.0-50-686"
#define DEBIAN_KERNEL_GLOB "cache/linux/*/vmlinuz*"

struct refusal;

struct fixture {
	struct guestmem gm;
	uint8_t img[IMG_SIZE];
	char kernel[64], initrd[64];
	char err[512];
	struct linux_boot boot;
	const struct refusal *row;	/* test_refusal's case */
};

/* Little-endian fields of n bytes, as the header has them. */
static void put(uint8_t *p, size_t n, uint64_t v)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = n; i-- > 0;)
		v = v << 8 | p[i];
	return v;
}

/* A good bzImage, protocol 2.15, in f->img; the tests then break it. */
static void make_image(struct fixture *f)
{
	uint8_t *d = f->img;

	memset(d, 0, sizeof(f->img));
	d[0x1f1] = SETUP_SECTS;
	put(d + 0x1f4, 4, PM_SIZE / 16);	/* syssize */
	put(d + 0x1fa, 2, 0xffff);	/* vid_mode: normal */
	put(d + 0x1fe, 2, 0xaa55);	/* boot_flag */
	d[0x200] = 0xeb;		/* jump: the header ends at 0x202 + HDR_LEN */
	d[0x201] = HDR_LEN;
	memcpy(d + 0x202, "HdrS", 4);
	put(d + 0x206, 2, 0x020f);	/* version 2.15 */
	d[0x211] = 0x01;		/* loadflags: LOADED_HIGH */
	put(d + 0x214, 4, LOAD);	/* code32_start */
	put(d + 0x22c, 4, 0x7fffffff);	/* initrd_addr_max */
	put(d + 0x230, 4, DECOMP);	/* kernel_alignment */
	d[0x234] = 1;			/* relocatable_kernel */
	put(d + 0x238, 4, 2047);	/* cmdline_size */
	put(d + 0x248, 4, 0x94);	/* payload_offset */
	put(d + 0x24c, 4, 0x800);	/* payload_length */
	put(d + 0x258, 4, DECOMP);	/* pref_address (low half) */
	put(d + 0x260, 4, INIT_SIZE);	/* init_size */
	for (uint32_t i = 0; i < PM_SIZE; i++)
		d[SETUP_SIZE + i] = (uint8_t)(i * 13 + 5);
}

/* Writes len bytes to a new temporary file whose name goes to path. */
static void write_temp(char *path, size_t path_len, const void *data, size_t len)
{
	int fd;

	snprintf(path, path_len, "/tmp/bt-lxtest-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int load_len(struct fixture *f, size_t len, const char *cmdline, const char *initrd)
{
	if (!f->kernel[0])
		write_temp(f->kernel, sizeof(f->kernel), f->img, len);
	return monitor_linux_load(&f->gm, f->kernel, cmdline, initrd, &f->boot, f->err,
				  sizeof(f->err));
}

static int load(struct fixture *f, const char *cmdline)
{
	return load_len(f, IMG_SIZE, cmdline, NULL);
}

/* An initrd of `size` bytes of a pattern, loaded with the good image. */
static int load_initrd(struct fixture *f, size_t size)
{
	uint8_t *data = malloc(size ? size : 1);

	assert_non_null(data);
	for (size_t i = 0; i < size; i++)
		data[i] = (uint8_t)(i * 7 + 3);
	write_temp(f->initrd, sizeof(f->initrd), data, size);
	free(data);
	return load_len(f, IMG_SIZE, "", f->initrd);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || monitor_guestmem_init(&f->gm, RAM) < 0)
		return -1;
	f->row = *state;	/* a refusals[] row, or NULL */
	make_image(f);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->kernel[0])
		unlink(f->kernel);
	if (f->initrd[0])
		unlink(f->initrd);
	monitor_guestmem_destroy(&f->gm);
	free(f);
	return 0;
}

static uint8_t *bp(struct fixture *f)
{
	return f->gm.physmap + f->boot.boot_params;
}

/* ---- a good image ---- */

static void test_load_when_valid_copies_protected_mode_code_to_1m(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "console=ttyS0"), 0);
	assert_memory_equal(f->gm.physmap + LOAD, f->img + SETUP_SIZE, PM_SIZE);
	assert_int_equal(f->boot.entry, LOAD);
	assert_int_equal(f->boot.kernel_end, LOAD + PM_SIZE);
	assert_int_equal(f->boot.version, 0x020f);
}

static void test_load_when_valid_reports_decompression_area(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_int_equal(f->boot.decomp_start, DECOMP);
	assert_int_equal(f->boot.decomp_end, DECOMP + INIT_SIZE);
}

static void test_boot_params_when_loaded_hold_the_setup_header(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_int_equal(f->boot.boot_params, BOOT_PARAMS);
	/* Copied from 0x1f1 up to 0x202 + the jump's byte, except the fields
	 * the loader writes (0x210 type_of_loader .. 0x21f, 0x228). */
	assert_memory_equal(bp(f) + 0x1f1, f->img + 0x1f1, 0x210 - 0x1f1);
	assert_memory_equal(bp(f) + 0x220, f->img + 0x220, 0x228 - 0x220);
	assert_memory_equal(bp(f) + 0x22c, f->img + 0x22c, 0x202 + HDR_LEN - 0x22c);
	/* Past the header, nothing of the file. */
	assert_int_equal(bp(f)[0x202 + HDR_LEN], 0);
	/* The sentinel at 0x1ef stays 0, so Linux trusts the zero page. */
	assert_int_equal(bp(f)[0x1ef], 0);
}

static void test_boot_params_when_loaded_name_loader_undefined(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_int_equal(bp(f)[0x210], 0xff);
	assert_int_equal(bp(f)[0x211] & 0x01, 0x01);	/* LOADED_HIGH kept */
}

static void test_boot_params_when_cmdline_given_point_to_it(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "console=ttyS0 root=/dev/vda"), 0);
	assert_int_equal(get(bp(f) + 0x228, 4), CMDLINE);
	assert_string_equal((char *)f->gm.physmap + CMDLINE, "console=ttyS0 root=/dev/vda");
}

static void test_boot_params_when_cmdline_empty_point_to_empty_string(void **state)
{
	struct fixture *f = *state;

	memset(f->gm.physmap + CMDLINE, 'x', 16);
	assert_int_equal(load(f, ""), 0);
	assert_int_equal(get(bp(f) + 0x228, 4), CMDLINE);
	assert_int_equal(f->gm.physmap[CMDLINE], 0);
}

static void test_boot_params_when_loaded_have_pc_e820_map(void **state)
{
	static const uint64_t want[][3] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x400, 2 },
		{ 0xe0000, 0x20000, 2 },
		{ 0x100000, RAM - 0x100000, 1 },
	};
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_int_equal(bp(f)[0x1e8], 4);
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = bp(f) + 0x2d0 + 20 * i;

		assert_int_equal(get(e, 8), want[i][0]);
		assert_int_equal(get(e + 8, 8), want[i][1]);
		assert_int_equal(get(e + 16, 4), want[i][2]);
	}
	assert_int_equal(get(bp(f) + 0x2d0 + 20 * 4, 8), 0);
}

static void test_boot_params_when_loaded_have_memory_sizes(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_int_equal(bp(f)[2] | bp(f)[3] << 8, (RAM - MIB) / KIB);	/* ext_mem_k */
	assert_int_equal(get(bp(f) + 0x1e0, 4), (RAM - MIB) / KIB);	/* alt_mem_k */
}

static void test_boot_params_when_loaded_describe_no_video(void **state)
{
	struct fixture *f = *state;

	memset(f->gm.physmap + BOOT_PARAMS, 0x55, 0x1000);
	assert_int_equal(load(f, ""), 0);
	assert_int_equal(bp(f)[0x0f], 0);	/* orig_video_isVGA */
	assert_int_equal(bp(f)[0x0e], 0);	/* orig_video_lines */
	assert_int_equal(bp(f)[0x07], 0);	/* orig_video_cols */
	assert_int_equal(bp(f)[0x06], 0);	/* orig_video_mode */
}

static void test_boot_params_when_no_initrd_have_no_ramdisk(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_int_equal(get(bp(f) + 0x218, 4), 0);
	assert_int_equal(get(bp(f) + 0x21c, 4), 0);
	assert_int_equal(f->boot.initrd_start, 0);
	assert_int_equal(f->boot.initrd_size, 0);
}

static void test_gdt_when_loaded_has_flat_boot_cs_and_ds(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, ""), 0);
	assert_int_equal(f->boot.gdt_base, GDT);
	assert_int_equal(f->boot.gdt_limit, 4 * 8 - 1);
	assert_int_equal(get(f->gm.physmap + GDT + 0x10, 8), 0x00cf9b000000ffffull);
	assert_int_equal(get(f->gm.physmap + GDT + 0x18, 8), 0x00cf93000000ffffull);
}

static void test_load_when_file_longer_than_syssize_loads(void **state)
{
	struct fixture *f = *state;
	uint8_t longer[IMG_SIZE + 512];

	/* A signed kernel carries its signature after syssize. */
	memcpy(longer, f->img, IMG_SIZE);
	memset(longer + IMG_SIZE, 0xee, 512);
	write_temp(f->kernel, sizeof(f->kernel), longer, sizeof(longer));
	assert_int_equal(load(f, ""), 0);
	assert_int_equal(f->gm.physmap[LOAD + PM_SIZE], 0);
}

static void test_load_when_setup_sects_zero_means_four(void **state)
{
	struct fixture *f = *state;

	f->img[0x1f1] = 0;
	assert_int_equal(load(f, ""), 0);
	assert_memory_equal(f->gm.physmap + LOAD, f->img + SETUP_SIZE, PM_SIZE);
}

static void test_load_when_cmdline_at_cmdline_size_loads(void **state)
{
	struct fixture *f = *state;
	char cmd[65];

	put(f->img + 0x238, 4, 64);
	memset(cmd, 'a', 64);
	cmd[64] = '\0';
	assert_int_equal(load(f, cmd), 0);
	assert_string_equal((char *)f->gm.physmap + CMDLINE, cmd);
}

/* ---- the vCPU at entry ---- */

static void test_reset_when_linux_enters_32bit_protocol_state(void **state)
{
	struct fixture *f = *state;
	struct vcpu *v = calloc(1, sizeof(*v));

	assert_non_null(v);
	memset(v->regs, 0x77, sizeof(v->regs));
	assert_int_equal(load(f, ""), 0);
	monitor_vcpu_reset_linux(v, &f->boot);
	assert_int_equal(v->eip, LOAD);
	assert_int_equal(v->regs[R_ESI], BOOT_PARAMS);
	assert_int_equal(v->regs[R_EBP], 0);
	assert_int_equal(v->regs[R_EDI], 0);
	assert_int_equal(v->regs[R_EBX], 0);
	assert_int_equal(v->seg[S_CS].sel, 0x10);
	assert_int_equal(v->seg[S_CS].attr, 0xc09b);
	for (int s = 0; s < S_NSEG; s++) {
		if (s != S_CS) {
			assert_int_equal(v->seg[s].sel, 0x18);
			assert_int_equal(v->seg[s].attr, 0xc093);
		}
		assert_int_equal(v->seg[s].base, 0);
		assert_int_equal(v->seg[s].limit, 0xffffffffu);
	}
	assert_int_equal(v->gdtr.base, GDT);
	assert_int_equal(v->gdtr.limit, 31);
	assert_int_equal(v->idtr.limit, 0);
	assert_int_equal(v->cr0 & (CR0_PE | CR0_PG), CR0_PE);
	assert_int_equal(vcpu_get_eflags(v) & EFL_IF, 0);
	assert_int_equal(v->cpl, 0);
	free(v);
}

/* ---- refused kernels ---- */

static void test_probe_when_bzimage_says_linux(void **state)
{
	struct fixture *f = *state;

	write_temp(f->kernel, sizeof(f->kernel), f->img, IMG_SIZE);
	assert_int_equal(monitor_linux_probe(f->kernel), 1);
}

static void test_probe_when_no_hdrs_says_not_linux(void **state)
{
	struct fixture *f = *state;

	memcpy(f->img + 0x202, "HdrX", 4);
	write_temp(f->kernel, sizeof(f->kernel), f->img, IMG_SIZE);
	assert_int_equal(monitor_linux_probe(f->kernel), 0);
	write_temp(f->initrd, sizeof(f->initrd), f->img, 0x100);	/* shorter than 0x206 */
	assert_int_equal(monitor_linux_probe(f->initrd), 0);
}

static void test_probe_when_missing_returns_enoent(void **state)
{
	(void)state;
	assert_int_equal(monitor_linux_probe("/nonexistent/bt-vmlinuz"), -ENOENT);
}

/*
 * Kernels the loader refuses, one header field (or the file's length)
 * changed from the good image each; every row is a test of its own.
 */
struct refusal {
	const char *name;
	uint32_t off, size;	/* the field changed (size 0: none) */
	uint64_t value;
	size_t file_len;	/* 0: the whole image */
	int ret;
	const char *msg;	/* after "'path': " */
};

static const struct refusal refusals[] = {
	{ "test_load_when_magic_bad_fails", 0x202, 4, 0x58726448, 0, -ENOEXEC,
	  "not a Linux kernel: no boot protocol header (\"HdrS\" at 0x202)" },
	{ "test_load_when_boot_flag_bad_fails", 0x1fe, 2, 0x1234, 0, -ENOEXEC,
	  "corrupt bzImage: boot sector flag is 0x1234, not 0xAA55" },
	{ "test_load_when_protocol_old_fails", 0x206, 2, 0x0209, 0, -ENOEXEC,
	  "Linux boot protocol 2.09 is too old: bt needs 2.10 (Linux 2.6.31) or later" },
	{ "test_load_when_zimage_fails", 0x211, 1, 0, 0, -ENOEXEC,
	  "a zImage (protected-mode code loaded at 0x10000): bt boots only bzImage kernels" },
	/* XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G */
	{ "test_load_when_64bit_kernel_fails", 0x236, 2, 0x0003, 0, -ENOEXEC,
	  "64-bit kernel; bt runs 32-bit guests" },
	{ "test_load_when_truncated_in_protected_mode_code_fails", 0, 0, 0, IMG_SIZE - 1, -ENOEXEC,
	  "truncated bzImage: syssize says 0x1000 bytes of kernel after the setup code, the "
	  "file has 0xfff" },
	{ "test_load_when_setup_sects_past_eof_fails", 0x1f1, 1, 200, 0, -ENOEXEC,
	  "truncated bzImage: its 200 setup sectors run past the end of the file" },
	{ "test_load_when_file_ends_in_header_fails", 0, 0, 0, 0x240, -ENOEXEC,
	  "truncated bzImage: the file ends inside the setup header" },
	{ "test_load_when_syssize_zero_fails", 0x1f4, 4, 0, 0, -ENOEXEC,
	  "corrupt bzImage: syssize is 0" },
	{ "test_load_when_syssize_huge_fails_without_overflow", 0x1f4, 4, 0xffffffff, 0, -ENOEXEC,
	  "truncated bzImage: syssize says 0xffffffff0 bytes of kernel after the setup code, "
	  "the file has 0x1000" },
	/* The header would end before init_size. */
	{ "test_load_when_header_length_out_of_range_fails", 0x201, 1, 0x10, 0, -ENOEXEC,
	  "corrupt bzImage: the setup header's length (jump at 0x200: eb 10) is out of range" },
	{ "test_load_when_payload_outside_syssize_fails", 0x24c, 4, PM_SIZE, 0, -ENOEXEC,
	  "corrupt bzImage: the compressed kernel (payload_offset 0x94, payload_length 0x1000) "
	  "is not inside its 0x1000 bytes (syssize)" },
	{ "test_load_when_code32_start_moved_fails", 0x214, 4, 0x200000, 0, -ENOEXEC,
	  "code32_start is 0x200000: bt loads bzImages at 0x100000 and runs no boot loader hooks" },
	{ "test_load_when_init_size_zero_fails", 0x260, 4, 0, 0, -ENOEXEC,
	  "corrupt bzImage: init_size is 0" },
	{ "test_load_when_alignment_not_power_of_two_fails", 0x230, 4, 0x300000, 0, -ENOEXEC,
	  "corrupt bzImage: kernel_alignment 0x300000 is not a power of two" },
	{ "test_load_when_ram_too_small_names_minimum_mem", 0x260, 4, 40 * MIB, 0, -ENOMEM,
	  "the kernel decompresses itself into 0x400000-0x2bfffff (pref_address, init_size), "
	  "beyond the 32 MiB of guest RAM: use --mem 44 or more" },
};

/* Runs the row the fixture was set up with. */
static void test_refusal(void **state)
{
	struct fixture *f = *state;
	const struct refusal *r = f->row;
	char want[512];

	if (r->size)
		put(f->img + r->off, r->size, r->value);
	assert_int_equal(load_len(f, r->file_len ? r->file_len : IMG_SIZE, "", NULL), r->ret);
	snprintf(want, sizeof(want), "'%s': %s", f->kernel, r->msg);
	assert_string_equal(f->err, want);
	/* Nothing is loaded from a refused kernel. */
	assert_int_equal(f->gm.physmap[LOAD], 0);
}

static void test_load_when_protocol_2_10_loads(void **state)
{
	struct fixture *f = *state;

	/* No xloadflags before 2.12: bit 0 there is not XLF_KERNEL_64. */
	put(f->img + 0x206, 2, 0x020a);
	put(f->img + 0x236, 2, 0x0001);
	assert_int_equal(load(f, ""), 0);
}

static void test_load_when_init_size_odd_rounds_minimum_mem_up(void **state)
{
	struct fixture *f = *state;

	put(f->img + 0x258, 4, 16 * MIB);	/* decompresses into 16 MiB .. 36 MiB + 1 */
	put(f->img + 0x260, 4, 20 * MIB + 1);
	assert_int_equal(load(f, ""), -ENOMEM);
	assert_non_null(strstr(f->err, "into 0x1000000-0x2400000 (pref_address, init_size), "
				       "beyond the 32 MiB of guest RAM: use --mem 37 or more"));
}

static void test_load_when_relocatable_aligns_runtime_start_up(void **state)
{
	struct fixture *f = *state;

	/* runtime_start = align_up(1 MiB, kernel_alignment) when that is
	 * above pref_address (boot.rst, init_size). */
	put(f->img + 0x258, 4, 0);
	put(f->img + 0x230, 4, 8 * MIB);
	assert_int_equal(load(f, ""), 0);
	assert_int_equal(f->boot.decomp_start, 8 * MIB);
}

static void test_load_when_cmdline_too_long_fails_and_leaves_ram(void **state)
{
	struct fixture *f = *state;
	char cmd[66];

	put(f->img + 0x238, 4, 64);
	memset(cmd, 'a', 65);
	cmd[65] = '\0';
	assert_int_equal(load(f, cmd), -E2BIG);
	assert_non_null(strstr(f->err, "': the kernel command line is 65 bytes; this kernel takes "
				       "at most 64 (cmdline_size)"));
	assert_int_equal(f->gm.physmap[LOAD], 0);
	assert_int_equal(f->gm.physmap[BOOT_PARAMS + 0x210], 0);
}

/* ---- the initrd ---- */

static void test_initrd_when_small_goes_page_aligned_at_top_of_ram(void **state)
{
	struct fixture *f = *state;
	uint32_t want = (RAM - 10000) & ~4095u;

	assert_int_equal(load_initrd(f, 10000), 0);
	assert_int_equal(f->boot.initrd_start, want);
	assert_int_equal(f->boot.initrd_size, 10000);
	assert_int_equal(get(bp(f) + 0x218, 4), want);
	assert_int_equal(get(bp(f) + 0x21c, 4), 10000);
	assert_int_equal(f->gm.physmap[want], 3);
	assert_int_equal(f->gm.physmap[want + 9999], (uint8_t)(9999 * 7 + 3));
}

static void test_initrd_when_addr_max_low_stays_below_it(void **state)
{
	struct fixture *f = *state;

	put(f->img + 0x22c, 4, 24 * MIB - 1);	/* initrd_addr_max: highest byte */
	assert_int_equal(load_initrd(f, 2 * MIB), 0);
	assert_int_equal(f->boot.initrd_start, 22 * MIB);
}

static void test_initrd_when_no_room_above_kernel_goes_below_it(void **state)
{
	struct fixture *f = *state;

	/* Above the decompression area (4-8 MiB) nothing is allowed: the
	 * initrd goes between the protected-mode code and it. */
	put(f->img + 0x22c, 4, 8 * MIB - 1);
	assert_int_equal(load_initrd(f, 2 * MIB), 0);
	assert_int_equal(f->boot.initrd_start, 2 * MIB);
	assert_true(f->boot.initrd_start >= f->boot.kernel_end);
	assert_true(f->boot.initrd_start + f->boot.initrd_size <= f->boot.decomp_start);
}

static void test_initrd_when_too_big_names_minimum_mem(void **state)
{
	struct fixture *f = *state;
	char want[512];

	assert_int_equal(load_initrd(f, 30 * MIB), -ENOMEM);
	snprintf(want, sizeof(want), "initrd '%s' (31457280 bytes) does not fit in 32 MiB of "
		 "guest RAM beside the kernel: use --mem 38 or more", f->initrd);
	assert_string_equal(f->err, want);
}

static void test_initrd_when_only_overlapping_places_left_fails(void **state)
{
	struct fixture *f = *state;
	char want[512];

	/* 3 MiB fits neither between 1 MiB + 4 KiB and 4 MiB nor above
	 * 8 MiB under initrd_addr_max: it would overlap the kernel. */
	put(f->img + 0x22c, 4, 8 * MIB + 2 * MIB - 1);
	assert_int_equal(load_initrd(f, 3 * MIB), -ENOMEM);
	snprintf(want, sizeof(want), "initrd '%s' (3145728 bytes) does not fit beside the kernel "
		 "below 0xa00000, the highest address this kernel takes an initrd at", f->initrd);
	assert_string_equal(f->err, want);
}

static void test_initrd_when_missing_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_len(f, IMG_SIZE, "", "/nonexistent/bt-initrd"), -ENOENT);
	assert_string_equal(f->err, "cannot open initrd '/nonexistent/bt-initrd': No such file or "
				    "directory");
}

static void test_initrd_when_empty_fails(void **state)
{
	struct fixture *f = *state;
	char want[512];

	assert_int_equal(load_initrd(f, 0), -EINVAL);
	snprintf(want, sizeof(want), "initrd '%s' is empty", f->initrd);
	assert_string_equal(f->err, want);
}

static void test_initrd_when_a_directory_fails(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_len(f, IMG_SIZE, "", "/tmp"), -EINVAL);
	assert_string_equal(f->err, "'/tmp': not a regular file");
}

/* ---- Debian's kernel ---- */

/* The path of Debian's i386 bzImage if it is here, else NULL. */
static const char *debian_kernel(char *buf, size_t len)
{
	glob_t g;
	const char *found = NULL;

	if (glob(DEBIAN_KERNEL_GLOB, 0, NULL, &g) == 0 && g.gl_pathc > 0) {
		snprintf(buf, len, "%s", g.gl_pathv[0]);
		found = buf;
	}
	globfree(&g);
	if (!found && access(DEBIAN_KERNEL, R_OK) == 0) {
		snprintf(buf, len, "%s", DEBIAN_KERNEL);
		found = buf;
	}
	return found;
}

static void test_debian_kernel_when_present_loads_with_128m(void **state)
{
	struct fixture *f = *state;
	struct guestmem gm;
	char path[512];
	const uint8_t *p;

	if (!debian_kernel(path, sizeof(path)))
		skip();
	assert_int_equal(monitor_linux_probe(path), 1);
	assert_int_equal(monitor_guestmem_init(&gm, 128 * MIB), 0);
	assert_int_equal(monitor_linux_load(&gm, path, "console=ttyS0", NULL, &f->boot, f->err,
					    sizeof(f->err)), 0);
	p = gm.physmap + f->boot.boot_params;
	assert_int_equal(get(p + 0x202, 4), 0x53726448);	/* HdrS copied */
	assert_true(f->boot.version >= 0x020a);
	assert_int_equal(p[0x210], 0xff);
	/* A 686 kernel runs at 16 MiB (CONFIG_PHYSICAL_START) and needs more
	 * than 16 MiB there to decompress. */
	assert_int_equal(f->boot.decomp_start, 16 * MIB);
	assert_true(f->boot.decomp_end > 32 * MIB);
	assert_true(f->boot.kernel_end > LOAD + MIB);
	assert_int_equal(p[0x1e8], 4);
	assert_string_equal((char *)gm.physmap + get(p + 0x228, 4), "console=ttyS0");
	monitor_guestmem_destroy(&gm);
}

static void test_debian_kernel_when_ram_32m_asks_for_more(void **state)
{
	struct fixture *f = *state;
	struct guestmem gm;
	char path[512];

	if (!debian_kernel(path, sizeof(path)))
		skip();
	assert_int_equal(monitor_guestmem_init(&gm, 32 * MIB), 0);
	assert_int_equal(monitor_linux_load(&gm, path, "", NULL, &f->boot, f->err, sizeof(f->err)),
			 -ENOMEM);
	assert_non_null(strstr(f->err, "beyond the 32 MiB of guest RAM: use --mem "));
	monitor_guestmem_destroy(&gm);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define NREFUSALS (sizeof(refusals) / sizeof(refusals[0]))

int main(void)
{
	const struct CMUnitTest named[] = {
		T(test_load_when_valid_copies_protected_mode_code_to_1m),
		T(test_load_when_valid_reports_decompression_area),
		T(test_boot_params_when_loaded_hold_the_setup_header),
		T(test_boot_params_when_loaded_name_loader_undefined),
		T(test_boot_params_when_cmdline_given_point_to_it),
		T(test_boot_params_when_cmdline_empty_point_to_empty_string),
		T(test_boot_params_when_loaded_have_pc_e820_map),
		T(test_boot_params_when_loaded_have_memory_sizes),
		T(test_boot_params_when_loaded_describe_no_video),
		T(test_boot_params_when_no_initrd_have_no_ramdisk),
		T(test_gdt_when_loaded_has_flat_boot_cs_and_ds),
		T(test_load_when_file_longer_than_syssize_loads),
		T(test_load_when_setup_sects_zero_means_four),
		T(test_load_when_cmdline_at_cmdline_size_loads),
		T(test_reset_when_linux_enters_32bit_protocol_state),
		T(test_probe_when_bzimage_says_linux),
		T(test_probe_when_no_hdrs_says_not_linux),
		T(test_probe_when_missing_returns_enoent),
		T(test_load_when_protocol_2_10_loads),
		T(test_load_when_init_size_odd_rounds_minimum_mem_up),
		T(test_load_when_relocatable_aligns_runtime_start_up),
		T(test_load_when_cmdline_too_long_fails_and_leaves_ram),
		T(test_initrd_when_small_goes_page_aligned_at_top_of_ram),
		T(test_initrd_when_addr_max_low_stays_below_it),
		T(test_initrd_when_no_room_above_kernel_goes_below_it),
		T(test_initrd_when_too_big_names_minimum_mem),
		T(test_initrd_when_only_overlapping_places_left_fails),
		T(test_initrd_when_missing_fails),
		T(test_initrd_when_empty_fails),
		T(test_initrd_when_a_directory_fails),
		T(test_debian_kernel_when_present_loads_with_128m),
		T(test_debian_kernel_when_ram_32m_asks_for_more),
	};
	struct CMUnitTest tests[sizeof(named) / sizeof(named[0]) + NREFUSALS];
	size_t n = 0;

	for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		tests[n++] = named[i];
	for (size_t i = 0; i < NREFUSALS; i++)
		tests[n++] = (struct CMUnitTest){
			.name = refusals[i].name, .test_func = test_refusal, .setup_func = setup,
			.teardown_func = teardown, .initial_state = (void *)&refusals[i],
		};
	return _cmocka_run_group_tests("monitor_linuxboot", tests, n, NULL, NULL);
}
