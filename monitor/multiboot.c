/* Multiboot v1 loader (spec 0.6.96): ELF32 and a.out-kludge kernels, multiboot_info in guest RAM. */
#include "monitor/internal.h"

#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Multiboot header (spec 3.1.1). */
#define MB_HEADER_MAGIC   0x1BADB002u
#define MB_SEARCH_LIMIT   8192u	/* header lies entirely in the first 8 KiB */
#define MB_HEADER_BASE    12u	/* magic, flags, checksum */
#define MB_HEADER_KLUDGE  32u	/* ... plus header_addr .. entry_addr */
#define MB_FLAG_ALIGN     (1u << 0)	/* page-align modules: we load none */
#define MB_FLAG_MEMINFO   (1u << 1)	/* mem_* wanted: always provided */
#define MB_FLAG_VIDEO     (1u << 2)	/* video mode wanted: ignored, no vbe info */
#define MB_FLAG_AOUT      (1u << 16)	/* load addresses in the header */
#define MB_FLAGS_KNOWN_REQUIRED (MB_FLAG_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO)

/* Boot information (spec 3.3); MULTIBOOT_BOOTLOADER_MAGIC is in monitor.h. */
#define MBI_FLAG_MEM      (1u << 0)
#define MBI_FLAG_CMDLINE  (1u << 2)
#define MBI_FLAG_MMAP     (1u << 6)
#define MBI_FLAG_LOADER   (1u << 9)
#define MBI_SIZE          88u	/* struct multiboot_info up to vbe_interface_len */
#define MBI_OFF_FLAGS     0
#define MBI_OFF_MEM_LOWER 4
#define MBI_OFF_MEM_UPPER 8
#define MBI_OFF_CMDLINE   16
#define MBI_OFF_MMAP_LEN  44
#define MBI_OFF_MMAP_ADDR 48
#define MBI_OFF_LOADER    64
#define MB_MMAP_ENTRY     24u	/* u32 size, u64 base, u64 length, u32 type */
#define MB_MMAP_AVAILABLE 1u
#define MB_MMAP_RESERVED  2u

/* The PC memory layout we describe to the guest. */
#define LOW_RAM_END   0x9FC00u	/* top 1 KiB below 640 KiB is reserved (EBDA) */
#define HOLE_START    0xA0000u	/* VGA window and ROMs */
#define BIOS_START    0xF0000u
#define HIGH_RAM      0x100000u	/* 1 MiB */
#define MB_PAGE       4096u

static const char loader_name[] = "bt";

#define HINT_PLAIN   "load kernels at or above 1 MiB"
#define HINT_HEADERS "it holds the ELF headers; link the kernel with -no-pie"

struct mb_image {
	const char *path;
	const uint8_t *data;
	uint64_t size;
	char *err;
	size_t errlen;
};

#define set_err(im, ...) monitor_bootfile_err((im)->err, (im)->errlen, (im)->path, __VA_ARGS__)

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = v;
	p[1] = v >> 8;
	p[2] = v >> 16;
	p[3] = v >> 24;
}

static void wr64(uint8_t *p, uint64_t v)
{
	wr32(p, (uint32_t)v);
	wr32(p + 4, (uint32_t)(v >> 32));
}

/* "128 MiB" or "1028 KiB": guest RAM as the user gave it. */
static void fmt_ram(char *buf, size_t len, uint64_t size)
{
	if (size % (1024 * 1024) == 0)
		snprintf(buf, len, "%" PRIu64 " MiB", size >> 20);
	else
		snprintf(buf, len, "%" PRIu64 " KiB", size >> 10);
}

/*
 * Finds the Multiboot header: 4-byte aligned, within the first 8 KiB, with
 * magic + flags + checksum == 0 (mod 2^32).  Returns its file offset.
 */
static int find_header(struct mb_image *im, uint32_t *off_out)
{
	uint64_t limit = im->size < MB_SEARCH_LIMIT ? im->size : MB_SEARCH_LIMIT;
	bool saw_magic = false;

	for (uint64_t off = 0; off + MB_HEADER_BASE <= limit; off += 4) {
		const uint8_t *h = im->data + off;

		if (rd32(h) != MB_HEADER_MAGIC)
			continue;
		if ((uint32_t)(rd32(h) + rd32(h + 4) + rd32(h + 8)) != 0) {
			saw_magic = true;
			continue;	/* maybe a stray constant; keep looking */
		}
		*off_out = (uint32_t)off;
		return 0;
	}
	if (saw_magic)
		set_err(im, "Multiboot header checksum is wrong");
	else
		snprintf(im->err, im->errlen,
			 "'%s' is not a Multiboot kernel: no Multiboot header in its first 8 KiB",
			 im->path);
	return -ENOEXEC;
}

/*
 * A piece of the image must fit in guest RAM and avoid the legacy hole:
 * either wholly in low memory below the reserved EBDA kilobyte, or at or
 * above 1 MiB.  The loader's data must never land where the memory map
 * tells the guest there is no RAM.
 */
static int check_placement(struct mb_image *im, const struct guestmem *gm, uint64_t addr,
			   uint64_t size, const char *hint)
{
	char ram[32];

	if (addr > gm->size || size > gm->size - addr) {
		fmt_ram(ram, sizeof(ram), gm->size);
		set_err(im, "segment at 0x%" PRIx64 " size 0x%" PRIx64
			" does not fit in %s of guest RAM", addr, size, ram);
		return -ENOMEM;
	}
	if (addr < HIGH_RAM && addr + size > LOW_RAM_END) {
		set_err(im, "segment at 0x%" PRIx64 " size 0x%" PRIx64
			" overlaps the PC memory hole 0x%x-0x%x (%s)",
			addr, size, LOW_RAM_END, HIGH_RAM - 1, hint);
		return -ENOEXEC;
	}
	return 0;
}

/* Jumping outside RAM with paging off cannot work (a higher-half kernel
 * that put a virtual e_entry in its ELF header, say): say so now. */
static int check_entry(struct mb_image *im, const struct guestmem *gm, uint32_t entry)
{
	if (entry >= gm->size) {
		set_err(im, "entry point 0x%x is outside guest RAM", entry);
		return -ENOEXEC;
	}
	return 0;
}

/* Copies filesz bytes from the file and zeroes the rest up to memsz. */
static void place(struct guestmem *gm, uint64_t addr, const uint8_t *src, uint64_t filesz,
		  uint64_t memsz)
{
	uint8_t *dst = monitor_phys_ptr(gm, addr, memsz);

	/* check_placement() has run; a NULL here is a monitor bug. */
	if (!dst)
		abort();
	memcpy(dst, src, filesz);
	memset(dst + filesz, 0, memsz - filesz);
}

static int load_elf(struct mb_image *im, struct guestmem *gm, struct multiboot_boot *out)
{
	Elf32_Ehdr eh;
	uint64_t start = UINT64_MAX, end = 0, tbl_end;
	int ret;

	if (im->size < EI_NIDENT || memcmp(im->data, ELFMAG, SELFMAG) != 0) {
		set_err(im, "not an ELF file, and its Multiboot header has no load "
			    "addresses (flag 16)");
		return -ENOEXEC;
	}
	if (im->data[EI_CLASS] == ELFCLASS64) {
		set_err(im, "64-bit ELF kernels are not supported (bt runs 32-bit guests)");
		return -ENOEXEC;
	}
	if (im->data[EI_CLASS] != ELFCLASS32) {
		set_err(im, "corrupt ELF: unknown ELF class %u", im->data[EI_CLASS]);
		return -ENOEXEC;
	}
	if (im->data[EI_DATA] != ELFDATA2LSB) {
		set_err(im, "big-endian ELF kernels are not supported");
		return -ENOEXEC;
	}
	if (im->size < sizeof(eh)) {
		set_err(im, "corrupt ELF: file ends inside the ELF header");
		return -ENOEXEC;
	}
	/* memcpy: the host is little-endian x86-64 like the guest. */
	memcpy(&eh, im->data, sizeof(eh));
	if (eh.e_machine != EM_386) {
		set_err(im, "not an i386 kernel (ELF machine %u)", eh.e_machine);
		return -ENOEXEC;
	}
	if (eh.e_type != ET_EXEC) {
		set_err(im, "not an executable ELF file (ELF type %u)", eh.e_type);
		return -ENOEXEC;
	}
	if (eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phnum == 0 || eh.e_phnum == PN_XNUM) {
		set_err(im, "corrupt ELF: bad program header table (%u entries of %u bytes)",
			eh.e_phnum, eh.e_phentsize);
		return -ENOEXEC;
	}
	tbl_end = (uint64_t)eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize;
	if (tbl_end > im->size) {
		set_err(im, "corrupt ELF: program header table runs past the end of the file");
		return -ENOEXEC;
	}

	/* Validate every segment before writing any, so a failed load leaves
	 * guest RAM as it was. */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf32_Phdr ph;

			memcpy(&ph, im->data + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
			if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
				continue;
			if (pass == 1) {
				place(gm, ph.p_paddr, im->data + ph.p_offset, ph.p_filesz,
				      ph.p_memsz);
				continue;
			}
			if (ph.p_filesz > ph.p_memsz) {
				set_err(im, "corrupt ELF: segment %u has more file bytes than "
					    "memory bytes", i);
				return -ENOEXEC;
			}
			if ((uint64_t)ph.p_offset + ph.p_filesz > im->size) {
				set_err(im, "corrupt ELF: segment %u data runs past the end of "
					    "the file", i);
				return -ENOEXEC;
			}
			/* A segment from file offset 0 holds the ELF headers: a
			 * PIE link puts them on the page below the kernel. */
			ret = check_placement(im, gm, ph.p_paddr, ph.p_memsz,
					      ph.p_offset == 0 ? HINT_HEADERS : HINT_PLAIN);
			if (ret < 0)
				return ret;
			if (ph.p_paddr < start)
				start = ph.p_paddr;
			if ((uint64_t)ph.p_paddr + ph.p_memsz > end)
				end = (uint64_t)ph.p_paddr + ph.p_memsz;
		}
		if (pass == 0 && end == 0) {
			set_err(im, "ELF kernel has no loadable segments");
			return -ENOEXEC;
		}
		if (pass == 0 && (ret = check_entry(im, gm, eh.e_entry)) < 0)
			return ret;
	}
	out->entry = eh.e_entry;
	out->kernel_start = (uint32_t)start;
	out->kernel_end = (uint32_t)end;
	return 0;
}

/*
 * The a.out kludge (spec 3.1.3): the header says where its own magic goes
 * (header_addr), so the file offset of load_addr is header_off minus
 * (header_addr - load_addr).  load_end_addr 0 means "to the end of the
 * file", bss_end_addr 0 means no bss.
 */
static int load_aout(struct mb_image *im, struct guestmem *gm, uint32_t hoff,
		     struct multiboot_boot *out)
{
	const uint8_t *h = im->data + hoff;
	uint32_t header_addr = rd32(h + 12), load_addr = rd32(h + 16);
	uint32_t load_end_addr = rd32(h + 20), bss_end_addr = rd32(h + 24);
	uint64_t file_off, load_size, mem_end;
	int ret;

	if ((uint64_t)hoff + MB_HEADER_KLUDGE > MB_SEARCH_LIMIT ||
	    (uint64_t)hoff + MB_HEADER_KLUDGE > im->size) {
		set_err(im, "Multiboot header with load addresses (flag 16) runs past the "
			    "first 8 KiB of the file");
		return -ENOEXEC;
	}
	if (load_addr > header_addr || header_addr - load_addr > hoff) {
		set_err(im, "Multiboot header load_addr 0x%x is not consistent with "
			    "header_addr 0x%x at file offset 0x%x", load_addr, header_addr, hoff);
		return -ENOEXEC;
	}
	file_off = hoff - (header_addr - load_addr);
	if (load_end_addr == 0) {
		load_size = im->size - file_off;
	} else {
		if (load_end_addr < load_addr) {
			set_err(im, "Multiboot header load_end_addr 0x%x is below load_addr 0x%x",
				load_end_addr, load_addr);
			return -ENOEXEC;
		}
		load_size = load_end_addr - load_addr;
		if (file_off + load_size > im->size) {
			set_err(im, "Multiboot header load_end_addr 0x%x runs past the end of "
				    "the file", load_end_addr);
			return -ENOEXEC;
		}
	}
	mem_end = (uint64_t)load_addr + load_size;
	if (bss_end_addr != 0) {
		if (bss_end_addr < mem_end) {
			set_err(im, "Multiboot header bss_end_addr 0x%x is below the end of the "
				    "loaded image 0x%" PRIx64, bss_end_addr, mem_end);
			return -ENOEXEC;
		}
		mem_end = bss_end_addr;
	}
	if (mem_end == load_addr) {
		set_err(im, "Multiboot header load addresses describe an empty image");
		return -ENOEXEC;
	}
	ret = check_placement(im, gm, load_addr, mem_end - load_addr, HINT_PLAIN);
	if (ret < 0)
		return ret;
	ret = check_entry(im, gm, rd32(h + 28));
	if (ret < 0)
		return ret;
	place(gm, load_addr, im->data + file_off, load_size, mem_end - load_addr);
	out->entry = rd32(h + 28);
	out->kernel_start = load_addr;
	out->kernel_end = (uint32_t)mem_end;
	return 0;
}

static uint8_t *put_mmap_entry(uint8_t *p, uint64_t base, uint64_t len, uint32_t type)
{
	/* "size" counts the bytes after itself (spec 3.3, mmap_*). */
	wr32(p, MB_MMAP_ENTRY - 4);
	wr64(p + 4, base);
	wr64(p + 12, len);
	wr32(p + 20, type);
	return p + MB_MMAP_ENTRY;
}

/*
 * Builds the multiboot_info on the first page boundary after the kernel
 * (never below 1 MiB): the struct, then the memory map, the boot loader
 * name and the command line, which GRUB forms as "path args".
 */
static int build_mbi(struct mb_image *im, struct guestmem *gm, const char *cmdline,
		     struct multiboot_boot *out)
{
	static const uint32_t nr_mmap = 4;
	uint64_t base, mmap_at, name_at, cmd_at, total, path_len, args_len;
	bool has_args = cmdline && cmdline[0];
	uint8_t *mbi, *p;

	base = out->kernel_end > HIGH_RAM ? out->kernel_end : HIGH_RAM;
	base = (base + MB_PAGE - 1) & ~(uint64_t)(MB_PAGE - 1);
	path_len = strlen(im->path);
	args_len = has_args ? strlen(cmdline) : 0;
	mmap_at = base + MBI_SIZE;
	name_at = mmap_at + nr_mmap * MB_MMAP_ENTRY;
	cmd_at = name_at + sizeof(loader_name);
	total = cmd_at + path_len + (has_args ? 1 + args_len : 0) + 1 - base;

	mbi = monitor_phys_ptr(gm, base, total);
	if (!mbi || gm->size <= HIGH_RAM) {
		char ram[32];

		fmt_ram(ram, sizeof(ram), gm->size);
		set_err(im, "no room for the Multiboot information (%" PRIu64 " bytes at 0x%"
			PRIx64 ") in %s of guest RAM", total, base, ram);
		return -ENOMEM;
	}
	memset(mbi, 0, total);
	wr32(mbi + MBI_OFF_FLAGS, MBI_FLAG_MEM | MBI_FLAG_CMDLINE | MBI_FLAG_MMAP | MBI_FLAG_LOADER);
	wr32(mbi + MBI_OFF_MEM_LOWER, LOW_RAM_END / 1024);
	wr32(mbi + MBI_OFF_MEM_UPPER, (uint32_t)((gm->size - HIGH_RAM) / 1024));
	wr32(mbi + MBI_OFF_CMDLINE, (uint32_t)cmd_at);
	wr32(mbi + MBI_OFF_MMAP_LEN, nr_mmap * MB_MMAP_ENTRY);
	wr32(mbi + MBI_OFF_MMAP_ADDR, (uint32_t)mmap_at);
	wr32(mbi + MBI_OFF_LOADER, (uint32_t)name_at);

	p = mbi + (mmap_at - base);
	p = put_mmap_entry(p, 0, LOW_RAM_END, MB_MMAP_AVAILABLE);
	p = put_mmap_entry(p, LOW_RAM_END, HOLE_START - LOW_RAM_END, MB_MMAP_RESERVED);
	p = put_mmap_entry(p, BIOS_START, HIGH_RAM - BIOS_START, MB_MMAP_RESERVED);
	put_mmap_entry(p, HIGH_RAM, gm->size - HIGH_RAM, MB_MMAP_AVAILABLE);

	memcpy(mbi + (name_at - base), loader_name, sizeof(loader_name));
	p = mbi + (cmd_at - base);
	memcpy(p, im->path, path_len);
	if (has_args) {
		p[path_len] = ' ';
		memcpy(p + path_len + 1, cmdline, args_len);
	}
	/* The trailing NUL is already there from the memset. */
	out->mbi = (uint32_t)base;
	return 0;
}

int monitor_multiboot_load(struct guestmem *gm, const char *path, const char *cmdline,
			   struct multiboot_boot *out, char *err, size_t errlen)
{
	char dummy[1];
	struct mb_image im = { .path = path, .err = err, .errlen = errlen };
	struct multiboot_boot boot = { 0 };
	uint8_t *buf = NULL;
	uint32_t hoff, flags;
	int ret;

	if (!err || errlen == 0) {
		im.err = dummy;
		im.errlen = sizeof(dummy);
	}
	im.err[0] = '\0';

	ret = monitor_bootfile_slurp(path, "kernel", &buf, &im.size, im.err, im.errlen);
	if (ret < 0)
		return ret;
	im.data = buf;
	ret = find_header(&im, &hoff);
	if (ret < 0)
		goto out_free;
	flags = rd32(im.data + hoff + 4);
	if (flags & 0xFFFFu & ~MB_FLAGS_KNOWN_REQUIRED) {
		set_err(&im, "Multiboot header requires features bt does not support (flags 0x%x)",
			flags);
		ret = -ENOEXEC;
		goto out_free;
	}
	/* With flag 16 the header's addresses win over the ELF headers (spec 3.1.2). */
	if (flags & MB_FLAG_AOUT)
		ret = load_aout(&im, gm, hoff, &boot);
	else
		ret = load_elf(&im, gm, &boot);
	if (ret < 0)
		goto out_free;
	ret = build_mbi(&im, gm, cmdline, &boot);
	if (ret < 0)
		goto out_free;
	*out = boot;
	ret = 0;

out_free:
	free(buf);
	return ret;
}
