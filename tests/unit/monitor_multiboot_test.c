/* Unit tests for monitor/multiboot.c with synthetic ELF32 and a.out-kludge kernels in temp files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "monitor/monitor.h"

#define MIB (1024u * 1024)
#define RAM (4 * MIB)
#define MB_MAGIC 0x1BADB002u
#define IMG_MAX 0x4000

/* The default synthetic ELF: one PT_LOAD of 0x200 file bytes and 0x1000
 * memory bytes at 1 MiB, read from file offset 0x1000, whose first bytes
 * are the Multiboot header. */
#define SEG_OFF   0x1000u
#define SEG_PADDR 0x100000u
#define SEG_FILE  0x200u
#define SEG_MEM   0x1000u
#define ENTRY     0x10000cu

struct elf_spec {
	uint8_t elf_class;
	uint16_t machine;
	uint32_t phoff;
	uint32_t seg_off, paddr, filesz, memsz, entry;
	uint32_t mb_off;	/* file offset of the Multiboot header */
	uint32_t mb_flags;
	uint32_t mb_checksum_delta;	/* nonzero: corrupt the checksum */
	size_t file_len;	/* 0: up to the end of the segment */
};

struct fixture {
	struct guestmem gm;
	char path[64];
	uint8_t img[IMG_MAX];
	char err[256];
	struct multiboot_boot boot;
};

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void put_mb_header(uint8_t *p, uint32_t flags, uint32_t delta)
{
	put32(p, MB_MAGIC);
	put32(p + 4, flags);
	put32(p + 8, -(MB_MAGIC + flags) + delta);
}

static struct elf_spec default_elf(void)
{
	return (struct elf_spec){
		.elf_class = ELFCLASS32, .machine = EM_386, .phoff = sizeof(Elf32_Ehdr),
		.seg_off = SEG_OFF, .paddr = SEG_PADDR, .filesz = SEG_FILE, .memsz = SEG_MEM,
		.entry = ENTRY, .mb_off = SEG_OFF,
	};
}

/* Lays out the ELF in f->img and returns the file length. */
static size_t build_elf(struct fixture *f, const struct elf_spec *s)
{
	Elf32_Ehdr eh = { 0 };
	Elf32_Phdr ph = { 0 };
	size_t len = s->file_len ? s->file_len : s->seg_off + s->filesz;

	memset(f->img, 0, sizeof(f->img));
	for (uint32_t i = 0; i < s->filesz && s->seg_off + i < IMG_MAX; i++)
		f->img[s->seg_off + i] = (uint8_t)(i * 7 + 1);
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = s->elf_class;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_EXEC;
	eh.e_machine = s->machine;
	eh.e_version = EV_CURRENT;
	eh.e_entry = s->entry;
	eh.e_phoff = s->phoff;
	eh.e_ehsize = sizeof(eh);
	eh.e_phentsize = sizeof(ph);
	eh.e_phnum = 1;
	memcpy(f->img, &eh, sizeof(eh));
	ph.p_type = PT_LOAD;
	ph.p_offset = s->seg_off;
	ph.p_vaddr = s->paddr;
	ph.p_paddr = s->paddr;
	ph.p_filesz = s->filesz;
	ph.p_memsz = s->memsz;
	ph.p_flags = PF_R | PF_W | PF_X;
	if (s->phoff + sizeof(ph) <= IMG_MAX)
		memcpy(f->img + s->phoff, &ph, sizeof(ph));
	put_mb_header(f->img + s->mb_off, s->mb_flags, s->mb_checksum_delta);
	assert_true(len <= IMG_MAX);
	return len;
}

static void write_kernel(struct fixture *f, size_t len)
{
	int fd;

	snprintf(f->path, sizeof(f->path), "/tmp/bt-mbtest-XXXXXX");
	fd = mkstemp(f->path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->img, len), (ssize_t)len);
	close(fd);
}

static int load(struct fixture *f, const char *cmdline)
{
	return monitor_multiboot_load(&f->gm, f->path, cmdline, &f->boot, f->err, sizeof(f->err));
}

static int load_elf_spec(struct fixture *f, const struct elf_spec *s)
{
	write_kernel(f, build_elf(f, s));
	return load(f, "");
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || monitor_guestmem_init(&f->gm, RAM) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->path[0])
		unlink(f->path);
	monitor_guestmem_destroy(&f->gm);
	free(f);
	return 0;
}

/* "'path': rest" as the loader formats its errors. */
static void assert_err(struct fixture *f, const char *rest)
{
	char want[256];

	snprintf(want, sizeof(want), "'%s': %s", f->path, rest);
	assert_string_equal(f->err, want);
}

/* ---- ELF loads ---- */

static void test_elf_when_valid_copies_segment_to_paddr(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	assert_int_equal(load_elf_spec(f, &s), 0);
	assert_memory_equal(f->gm.physmap + SEG_PADDR, f->img + SEG_OFF, SEG_FILE);
	assert_int_equal(get32(f->gm.physmap + SEG_PADDR), MB_MAGIC);
}

static void test_elf_when_valid_zeroes_bss(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();
	uint8_t zero[SEG_MEM - SEG_FILE] = { 0 };

	memset(f->gm.physmap + SEG_PADDR - 16, 0xaa, SEG_MEM + 16);
	assert_int_equal(load_elf_spec(f, &s), 0);
	assert_memory_equal(f->gm.physmap + SEG_PADDR + SEG_FILE, zero, sizeof(zero));
	/* Outside the segment nothing is touched. */
	assert_int_equal(f->gm.physmap[SEG_PADDR - 1], 0xaa);
}

static void test_elf_when_valid_reports_entry_and_extent(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	assert_int_equal(load_elf_spec(f, &s), 0);
	assert_int_equal(f->boot.entry, ENTRY);
	assert_int_equal(f->boot.kernel_start, SEG_PADDR);
	assert_int_equal(f->boot.kernel_end, SEG_PADDR + SEG_MEM);
}

static void test_elf_when_loaded_below_640k_loads_and_puts_mbi_at_1m(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.paddr = 0x8000;
	s.entry = 0x8000;
	assert_int_equal(load_elf_spec(f, &s), 0);
	assert_memory_equal(f->gm.physmap + 0x8000, f->img + SEG_OFF, SEG_FILE);
	assert_int_equal(f->boot.mbi, 0x100000);
}

static void test_elf_when_video_flag_set_still_loads(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.mb_flags = 1u << 2 | 1u << 1 | 1u << 0;
	assert_int_equal(load_elf_spec(f, &s), 0);
}

static void test_header_when_stray_magic_precedes_valid_one_loads(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();
	size_t len = build_elf(f, &s);

	/* A lone magic constant with a bad checksum earlier in the file. */
	put32(f->img + 0x800, MB_MAGIC);
	write_kernel(f, len);
	assert_int_equal(load(f, ""), 0);
}

/* ---- the multiboot_info ---- */

static void test_mbi_when_loaded_is_page_aligned_after_kernel(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	assert_int_equal(load_elf_spec(f, &s), 0);
	assert_int_equal(f->boot.mbi % 4096, 0);
	assert_true(f->boot.mbi >= f->boot.kernel_end);
	assert_true(f->boot.mbi < RAM);
}

static void test_mbi_when_loaded_has_flags_and_memory_sizes(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();
	const uint8_t *mbi;

	assert_int_equal(load_elf_spec(f, &s), 0);
	mbi = f->gm.physmap + f->boot.mbi;
	/* MEM | CMDLINE | MMAP | BOOT_LOADER_NAME */
	assert_int_equal(get32(mbi + 0), 0x245);
	assert_int_equal(get32(mbi + 4), 639);
	assert_int_equal(get32(mbi + 8), (RAM - MIB) / 1024);
	assert_int_equal(get32(mbi + 20), 0);	/* no modules */
}

static void test_mbi_when_loaded_has_pc_memory_map(void **state)
{
	static const struct {
		uint64_t base, len;
		uint32_t type;
	} want[] = {
		{ 0, 0x9fc00, 1 },
		{ 0x9fc00, 0x400, 2 },
		{ 0xf0000, 0x10000, 2 },
		{ 0x100000, RAM - MIB, 1 },
	};
	struct fixture *f = *state;
	struct elf_spec s = default_elf();
	const uint8_t *mbi, *e;

	assert_int_equal(load_elf_spec(f, &s), 0);
	mbi = f->gm.physmap + f->boot.mbi;
	assert_int_equal(get32(mbi + 44), 4 * 24);
	e = f->gm.physmap + get32(mbi + 48);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++, e += 24) {
		assert_int_equal(get32(e), 20);
		assert_int_equal(get64(e + 4), want[i].base);
		assert_int_equal(get64(e + 12), want[i].len);
		assert_int_equal(get32(e + 20), want[i].type);
	}
}

static void test_mbi_when_append_given_cmdline_is_path_space_append(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();
	char want[256];

	write_kernel(f, build_elf(f, &s));
	assert_int_equal(load(f, "console=ttyS0 quiet"), 0);
	snprintf(want, sizeof(want), "%s console=ttyS0 quiet", f->path);
	assert_string_equal((const char *)f->gm.physmap + get32(f->gm.physmap + f->boot.mbi + 16),
			    want);
}

static void test_mbi_when_append_empty_cmdline_is_path(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	assert_int_equal(load_elf_spec(f, &s), 0);
	assert_string_equal((const char *)f->gm.physmap + get32(f->gm.physmap + f->boot.mbi + 16),
			    f->path);
}

static void test_mbi_when_loaded_names_boot_loader_bt(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	assert_int_equal(load_elf_spec(f, &s), 0);
	assert_string_equal((const char *)f->gm.physmap + get32(f->gm.physmap + f->boot.mbi + 64),
			    "bt");
}

/* ---- a.out kludge ---- */

#define AOUT_LOAD  0x100000u
#define AOUT_HOFF  0x40u
#define AOUT_LEN   0x300u
#define AOUT_BSS   0x800u
#define AOUT_ENTRY 0x100080u

/* A flat image loaded at 1 MiB with its header at file offset 0x40. */
static size_t build_aout(struct fixture *f, uint32_t load_end, uint32_t bss_end)
{
	uint8_t *h = f->img + AOUT_HOFF;

	memset(f->img, 0, sizeof(f->img));
	for (uint32_t i = 0; i < AOUT_LEN; i++)
		f->img[i] = (uint8_t)(i * 13 + 3);
	put_mb_header(h, 1u << 16, 0);
	put32(h + 12, AOUT_LOAD + AOUT_HOFF);	/* header_addr */
	put32(h + 16, AOUT_LOAD);		/* load_addr */
	put32(h + 20, load_end);		/* load_end_addr */
	put32(h + 24, bss_end);			/* bss_end_addr */
	put32(h + 28, AOUT_ENTRY);		/* entry_addr */
	return AOUT_LEN;
}

static void test_aout_when_valid_loads_at_load_addr(void **state)
{
	struct fixture *f = *state;

	write_kernel(f, build_aout(f, AOUT_LOAD + AOUT_LEN, AOUT_LOAD + AOUT_LEN + AOUT_BSS));
	assert_int_equal(load(f, ""), 0);
	assert_memory_equal(f->gm.physmap + AOUT_LOAD, f->img, AOUT_LEN);
	assert_int_equal(f->boot.entry, AOUT_ENTRY);
	assert_int_equal(f->boot.kernel_start, AOUT_LOAD);
	assert_int_equal(f->boot.kernel_end, AOUT_LOAD + AOUT_LEN + AOUT_BSS);
}

static void test_aout_when_bss_end_given_zeroes_bss(void **state)
{
	struct fixture *f = *state;
	uint8_t zero[AOUT_BSS] = { 0 };

	memset(f->gm.physmap + AOUT_LOAD, 0xaa, AOUT_LEN + AOUT_BSS);
	write_kernel(f, build_aout(f, AOUT_LOAD + AOUT_LEN, AOUT_LOAD + AOUT_LEN + AOUT_BSS));
	assert_int_equal(load(f, ""), 0);
	assert_memory_equal(f->gm.physmap + AOUT_LOAD + AOUT_LEN, zero, AOUT_BSS);
}

static void test_aout_when_load_end_zero_loads_whole_file(void **state)
{
	struct fixture *f = *state;

	write_kernel(f, build_aout(f, 0, 0));
	assert_int_equal(load(f, ""), 0);
	assert_memory_equal(f->gm.physmap + AOUT_LOAD, f->img, AOUT_LEN);
	assert_int_equal(f->boot.kernel_end, AOUT_LOAD + AOUT_LEN);
}

static void test_aout_when_header_addr_below_load_addr_fails(void **state)
{
	struct fixture *f = *state;
	size_t len = build_aout(f, 0, 0);

	put32(f->img + AOUT_HOFF + 12, AOUT_LOAD - 4);	/* header_addr */
	write_kernel(f, len);
	assert_int_equal(load(f, ""), -ENOEXEC);
	assert_non_null(strstr(f->err, "load_addr"));
}

static void test_aout_when_load_end_past_eof_fails(void **state)
{
	struct fixture *f = *state;

	write_kernel(f, build_aout(f, AOUT_LOAD + AOUT_LEN + 1, 0));
	assert_int_equal(load(f, ""), -ENOEXEC);
	assert_err(f, "Multiboot header load_end_addr 0x100301 runs past the end of the file");
}

/* ---- rejected files ---- */

static void test_load_when_file_missing_fails_with_enoent(void **state)
{
	struct fixture *f = *state;

	snprintf(f->path, sizeof(f->path), "/nonexistent/bt-kernel");
	assert_int_equal(load(f, ""), -ENOENT);
	assert_string_equal(f->err,
			    "cannot open kernel '/nonexistent/bt-kernel': No such file or directory");
	f->path[0] = '\0';
}

static void test_header_when_absent_fails(void **state)
{
	struct fixture *f = *state;
	char want[256];

	memset(f->img, 0x90, 0x3000);
	write_kernel(f, 0x3000);
	assert_int_equal(load(f, ""), -ENOEXEC);
	snprintf(want, sizeof(want),
		 "'%s' is not a Multiboot kernel: no Multiboot header in its first 8 KiB", f->path);
	assert_string_equal(f->err, want);
}

static void test_header_when_file_empty_fails(void **state)
{
	struct fixture *f = *state;

	write_kernel(f, 0);
	assert_int_equal(load(f, ""), -ENOEXEC);
	assert_non_null(strstr(f->err, "no Multiboot header"));
}

static void test_header_when_checksum_wrong_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.mb_checksum_delta = 1;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_err(f, "Multiboot header checksum is wrong");
}

static void test_header_when_past_8k_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.seg_off = 0x2000;
	s.mb_off = 0x2000;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_non_null(strstr(f->err, "no Multiboot header in its first 8 KiB"));
}

static void test_header_when_last_word_before_8k_loads(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	/* 12 bytes ending exactly at 8 KiB are inside the search window. */
	s.seg_off = 0x1f00;
	s.mb_off = 0x2000 - 12;
	assert_int_equal(load_elf_spec(f, &s), 0);
}

static void test_header_when_unknown_required_flag_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.mb_flags = 1u << 3;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_err(f, "Multiboot header requires features bt does not support (flags 0x8)");
}

static void test_elf_when_truncated_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.file_len = SEG_OFF + SEG_FILE / 2;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_err(f, "corrupt ELF: segment 0 data runs past the end of the file");
}

static void test_elf_when_program_headers_past_eof_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.phoff = SEG_OFF + SEG_FILE - 16;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_err(f, "corrupt ELF: program header table runs past the end of the file");
}

static void test_elf_when_phoff_huge_fails_without_overflow(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();
	size_t len = build_elf(f, &s);

	put32(f->img + offsetof(Elf32_Ehdr, e_phoff), 0xffffffe0u);
	write_kernel(f, len);
	assert_int_equal(load(f, ""), -ENOEXEC);
	assert_err(f, "corrupt ELF: program header table runs past the end of the file");
}

static void test_elf_when_segment_does_not_fit_ram_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.memsz = 8 * MIB;
	assert_int_equal(load_elf_spec(f, &s), -ENOMEM);
	assert_err(f, "segment at 0x100000 size 0x800000 does not fit in 4 MiB of guest RAM");
}

static void test_elf_when_segment_wraps_4g_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.paddr = 0xfffff000u;
	s.memsz = 0x2000;
	assert_int_equal(load_elf_spec(f, &s), -ENOMEM);
}

static void test_elf_when_segment_in_vga_hole_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.paddr = 0xb8000;
	s.entry = 0xb8000;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_non_null(strstr(f->err, "segment at 0xb8000 size 0x1000 overlaps the PC memory hole"));
}

static void test_elf_when_segment_straddles_640k_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.paddr = 0x9f800;
	s.entry = 0x9f800;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_non_null(strstr(f->err, "overlaps the PC memory hole"));
}

static void test_elf_when_header_segment_below_1m_fails_with_pie_hint(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	/* What a PIE link at 1 MiB produces: the ELF headers on the page below. */
	s.seg_off = 0;
	s.paddr = 0xff000;
	s.filesz = 0x200;
	s.memsz = 0x200;
	s.mb_off = 0x100;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_err(f, "segment at 0xff000 size 0x200 overlaps the PC memory hole 0x9fc00-0xfffff "
		      "(it holds the ELF headers; link the kernel with -no-pie)");
}

static void test_elf_when_segment_fails_ram_is_untouched(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.memsz = 8 * MIB;
	assert_int_equal(load_elf_spec(f, &s), -ENOMEM);
	assert_int_equal(get32(f->gm.physmap + SEG_PADDR), 0);
}

static void test_elf_when_64bit_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.elf_class = ELFCLASS64;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_err(f, "64-bit ELF kernels are not supported (bt runs 32-bit guests)");
}

static void test_elf_when_machine_not_386_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.machine = EM_ARM;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_err(f, "not an i386 kernel (ELF machine 40)");
}

static void test_elf_when_entry_outside_ram_fails(void **state)
{
	struct fixture *f = *state;
	struct elf_spec s = default_elf();

	s.entry = 0xc0100000u;
	assert_int_equal(load_elf_spec(f, &s), -ENOEXEC);
	assert_err(f, "entry point 0xc0100000 is outside guest RAM");
}

static void test_load_when_not_elf_and_no_kludge_fails(void **state)
{
	struct fixture *f = *state;

	memset(f->img, 0, 0x100);
	put_mb_header(f->img + 0x10, 0, 0);
	write_kernel(f, 0x100);
	assert_int_equal(load(f, ""), -ENOEXEC);
	assert_non_null(strstr(f->err, "not an ELF file"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_elf_when_valid_copies_segment_to_paddr),
		T(test_elf_when_valid_zeroes_bss),
		T(test_elf_when_valid_reports_entry_and_extent),
		T(test_elf_when_loaded_below_640k_loads_and_puts_mbi_at_1m),
		T(test_elf_when_video_flag_set_still_loads),
		T(test_header_when_stray_magic_precedes_valid_one_loads),
		T(test_mbi_when_loaded_is_page_aligned_after_kernel),
		T(test_mbi_when_loaded_has_flags_and_memory_sizes),
		T(test_mbi_when_loaded_has_pc_memory_map),
		T(test_mbi_when_append_given_cmdline_is_path_space_append),
		T(test_mbi_when_append_empty_cmdline_is_path),
		T(test_mbi_when_loaded_names_boot_loader_bt),
		T(test_aout_when_valid_loads_at_load_addr),
		T(test_aout_when_bss_end_given_zeroes_bss),
		T(test_aout_when_load_end_zero_loads_whole_file),
		T(test_aout_when_header_addr_below_load_addr_fails),
		T(test_aout_when_load_end_past_eof_fails),
		T(test_load_when_file_missing_fails_with_enoent),
		T(test_header_when_absent_fails),
		T(test_header_when_file_empty_fails),
		T(test_header_when_checksum_wrong_fails),
		T(test_header_when_past_8k_fails),
		T(test_header_when_last_word_before_8k_loads),
		T(test_header_when_unknown_required_flag_fails),
		T(test_elf_when_truncated_fails),
		T(test_elf_when_program_headers_past_eof_fails),
		T(test_elf_when_phoff_huge_fails_without_overflow),
		T(test_elf_when_segment_does_not_fit_ram_fails),
		T(test_elf_when_segment_wraps_4g_fails),
		T(test_elf_when_segment_in_vga_hole_fails),
		T(test_elf_when_segment_straddles_640k_fails),
		T(test_elf_when_header_segment_below_1m_fails_with_pie_hint),
		T(test_elf_when_segment_fails_ram_is_untouched),
		T(test_elf_when_64bit_fails),
		T(test_elf_when_machine_not_386_fails),
		T(test_elf_when_entry_outside_ram_fails),
		T(test_load_when_not_elf_and_no_kludge_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
