/* Linux boot protocol loader (Documentation/arch/x86/boot.rst): a bzImage, 32-bit entry. */
#include "monitor/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The setup header (boot.rst, "The Real-Mode Kernel Header").  The offsets
 * are the same in the file and in boot_params, which holds a copy of the
 * header at 0x1f1 ("32-bit Boot Protocol").
 */
#define HDR_START            0x1f1
#define HDR_SETUP_SECTS      0x1f1
#define HDR_SYSSIZE          0x1f4	/* 4 bytes from 2.04 */
#define HDR_BOOT_FLAG        0x1fe
#define HDR_JUMP             0x200	/* jmp short: 0x202 + its offset is the header's end */
#define HDR_MAGIC            0x202
#define HDR_VERSION          0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS        0x211
#define HDR_CODE32_START     0x214
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c	/* 2.03 */
#define HDR_KERNEL_ALIGNMENT 0x230	/* 2.05 */
#define HDR_RELOCATABLE      0x234	/* 2.05 */
#define HDR_XLOADFLAGS       0x236	/* 2.12 */
#define HDR_CMDLINE_SIZE     0x238	/* 2.06 */
#define HDR_PAYLOAD_OFFSET   0x248	/* 2.08 */
#define HDR_PAYLOAD_LENGTH   0x24c	/* 2.08 */
#define HDR_PREF_ADDRESS     0x258	/* 2.10 */
#define HDR_INIT_SIZE        0x260	/* 2.10 */
#define HDR_NEEDED_END       0x264	/* the header must reach past init_size */

#define HDR_MAGIC_VALUE      0x53726448u	/* "HdrS" */
#define BOOT_FLAG_VALUE      0xAA55u
#define JUMP_OPCODE          0xEBu
#define LOADED_HIGH          0x01u	/* loadflags bit 0: a bzImage */
#define XLF_KERNEL_64        0x01u	/* xloadflags bit 0 */
#define TYPE_OF_LOADER_UNDEF 0xFFu	/* no assigned boot loader ID */
#define SECTOR               512u

/*
 * The oldest protocol bt boots: 2.10 (Linux 2.6.31, 2009) is the first whose
 * header says where the kernel decompresses itself (pref_address) and how
 * much memory that needs (init_size); without them the loader could not
 * place the initrd out of the kernel's way nor tell the user how much RAM
 * to give.  It also has the 4-byte syssize (2.04), initrd_addr_max (2.03)
 * and cmdline_size (2.06).
 */
#define MIN_VERSION 0x020au	/* minor versions count in decimal: 2.10 is 0x020a */

/* boot_params, the "zero page" (Documentation/arch/x86/zero-page.rst and
 * include/uapi/linux/screen_info.h for its first 0x40 bytes). */
#define BP_SIZE           0x1000u
#define BP_EXT_MEM_K      0x002	/* screen_info.ext_mem_k, 16 bits */
#define BP_VIDEO_COLS     0x007	/* screen_info.orig_video_cols */
#define BP_VIDEO_LINES    0x00e	/* screen_info.orig_video_lines */
#define BP_VIDEO_ISVGA    0x00f	/* screen_info.orig_video_isVGA */
#define BP_ALT_MEM_K      0x1e0
#define BP_E820_ENTRIES   0x1e8
#define BP_HDR_LIMIT      0x290	/* edd_mbr_sig_buffer: the header ends before it */
#define BP_E820_TABLE     0x2d0	/* struct e820_entry { u64 addr, size; u32 type; } */
#define E820_ENTRY        20u
#define E820_RAM          1u
#define E820_RESERVED     2u

/* The PC memory map bt gives Linux. */
#define PC_EBDA     0x9fc00u	/* top 1 KiB below 640 KiB: the EBDA, reserved */
#define PC_VGA      0xa0000u	/* VGA window: not in the map (a hole) */
#define PC_BIOS     0xe0000u	/* BIOS area, reserved: where bt's ACPI tables go */
#define PC_HIGH_RAM 0x100000u	/* 1 MiB: where a bzImage's protected-mode code goes */
#define PAGE        4096u

/*
 * Where the loader puts its own data, in conventional memory that the map
 * calls RAM.  Nothing here has to stay reserved: startup_32 of the
 * decompressor loads its own GDT before it touches memory, and the kernel
 * copies boot_params and the command line (head_32.S) before it frees any
 * low memory; the decompressor's KASLR keeps clear of both (it reads their
 * addresses from boot_params).  Everything is above 64 KiB because the
 * first accesses of the kernel (startup_32 uses boot_params.scratch as its
 * first stack) should not land below vm.mmap_min_addr, where bt can only
 * emulate them; 0x10000 and 0x20000 are also where kvmtool and QEMU put the
 * real-mode segment and the command line.
 */
#define BOOT_PARAMS_AT 0x10000u
#define BOOT_GDT_AT    (BOOT_PARAMS_AT + BP_SIZE)
#define CMDLINE_AT     0x20000u
#define CMDLINE_ROOM   (PC_EBDA - CMDLINE_AT)

/*
 * The boot GDT: the 32-bit protocol wants __BOOT_CS (0x10) flat 4 GiB
 * execute/read and __BOOT_DS (0x18) flat 4 GiB read/write, as the vCPU's
 * descriptor caches are set at entry (accessed bits already set, so
 * nothing writes to it).
 */
static const uint64_t boot_gdt[] = {
	0,
	0,
	0x00cf9b000000ffffull,	/* 0x10: base 0, limit 4 GiB, 32-bit, code, P, DPL 0 */
	0x00cf93000000ffffull,	/* 0x18: base 0, limit 4 GiB, 32-bit, data, P, DPL 0 */
};

/*
 * The initrd goes as high as it may but stays below 896 MiB: a 32-bit
 * kernel with the default 3G/1G split maps only that much directly, and
 * copies an initrd above it down before it can unpack it (relocate_initrd
 * in arch/x86/kernel/setup.c).  It is also the protocol's initrd ceiling
 * before 2.03 (0x37FFFFFF).
 */
#define INITRD_LOWMEM_END 0x38000000u

struct lx_image {
	const char *path;
	const uint8_t *data;
	uint64_t size;
	char *err;
	size_t errlen;

	/* What the header says, checked. */
	uint16_t version;
	uint32_t setup_size;	/* boot sector + setup code, bytes */
	uint32_t hdr_end;	/* end of the setup header */
	uint32_t pm_size;	/* the protected-mode code: syssize * 16 */
	uint64_t decomp_start, decomp_end;
};

#define set_err(im, ...) monitor_bootfile_err((im)->err, (im)->errlen, (im)->path, __VA_ARGS__)

/* A little-endian field of n bytes (the host is x86-64 like the guest). */
static uint64_t get_le(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, p, n);
	return v;
}

static void put_le(uint8_t *p, uint64_t v, size_t n)
{
	memcpy(p, &v, n);
}

#define get16(p) ((uint32_t)get_le((p), 2))
#define get32(p) ((uint32_t)get_le((p), 4))
#define get64(p) get_le((p), 8)

static uint64_t mib_up(uint64_t bytes)
{
	return (bytes + (1u << 20) - 1) >> 20;
}

/* What kind of kernel this is, and is it one bt can boot. */
static int check_kind(struct lx_image *im)
{
	const uint8_t *d = im->data;

	if (im->size < HDR_MAGIC + 4 || get32(d + HDR_MAGIC) != HDR_MAGIC_VALUE) {
		set_err(im, "not a Linux kernel: no boot protocol header (\"HdrS\" at 0x202)");
		return -ENOEXEC;
	}
	if (im->size < HDR_NEEDED_END) {
		set_err(im, "truncated bzImage: the file ends inside the setup header");
		return -ENOEXEC;
	}
	if (get16(d + HDR_BOOT_FLAG) != BOOT_FLAG_VALUE) {
		set_err(im, "corrupt bzImage: boot sector flag is 0x%04x, not 0xAA55",
			get16(d + HDR_BOOT_FLAG));
		return -ENOEXEC;
	}
	im->version = (uint16_t)get16(d + HDR_VERSION);
	/* "The kernel is a bzImage kernel if the protocol >= 2.00 and the
	 * 0x01 bit (LOAD_HIGH) in the loadflags field is set." */
	if (im->version >= 0x0200 && !(d[HDR_LOADFLAGS] & LOADED_HIGH)) {
		set_err(im, "a zImage (protected-mode code loaded at 0x10000): bt boots only "
			    "bzImage kernels");
		return -ENOEXEC;
	}
	if (im->version < MIN_VERSION) {
		set_err(im, "Linux boot protocol %u.%02u is too old: bt needs 2.10 (Linux 2.6.31) "
			    "or later", im->version >> 8, im->version & 0xff);
		return -ENOEXEC;
	}
	/*
	 * XLF_KERNEL_64 marks an x86-64 kernel.  Its startup_32 would take the
	 * 32-bit entry and switch to long mode, which bt's vCPU does not have.
	 * XXX: 64-bit kernels with protocol 2.10 or 2.11 (Linux 2.6.31-3.7)
	 * have no xloadflags; they stop in their own CPU check instead.
	 */
	if (im->version >= 0x020c && (get16(d + HDR_XLOADFLAGS) & XLF_KERNEL_64)) {
		set_err(im, "64-bit kernel; bt runs 32-bit guests");
		return -ENOEXEC;
	}
	return 0;
}

/* The file's pieces: setup sectors, header length, protected-mode code. */
static int check_layout(struct lx_image *im)
{
	const uint8_t *d = im->data;
	uint32_t sects = d[HDR_SETUP_SECTS] ? d[HDR_SETUP_SECTS] : 4;	/* 0 means 4 */
	uint64_t pm_size = (uint64_t)get32(d + HDR_SYSSIZE) * 16;
	uint32_t payload_off = get32(d + HDR_PAYLOAD_OFFSET);
	uint32_t payload_len = get32(d + HDR_PAYLOAD_LENGTH);

	im->setup_size = (sects + 1) * SECTOR;
	if (im->setup_size > im->size) {
		set_err(im, "truncated bzImage: its %u setup sectors run past the end of the file",
			sects);
		return -ENOEXEC;
	}
	im->hdr_end = 0x202u + d[HDR_JUMP + 1];
	if (d[HDR_JUMP] != JUMP_OPCODE || im->hdr_end < HDR_NEEDED_END ||
	    im->hdr_end > BP_HDR_LIMIT || im->hdr_end > im->setup_size) {
		set_err(im, "corrupt bzImage: the setup header's length (jump at 0x200: %02x %02x) "
			    "is out of range", d[HDR_JUMP], d[HDR_JUMP + 1]);
		return -ENOEXEC;
	}
	if (pm_size == 0) {
		set_err(im, "corrupt bzImage: syssize is 0");
		return -ENOEXEC;
	}
	/* The file may go on past syssize (a signature appended to a signed
	 * kernel); it may not stop short of it. */
	if (pm_size > im->size - im->setup_size) {
		set_err(im, "truncated bzImage: syssize says 0x%" PRIx64 " bytes of kernel after "
			    "the setup code, the file has 0x%" PRIx64, pm_size,
			im->size - im->setup_size);
		return -ENOEXEC;
	}
	im->pm_size = (uint32_t)pm_size;
	if (payload_len == 0 || (uint64_t)payload_off + payload_len > pm_size) {
		set_err(im, "corrupt bzImage: the compressed kernel (payload_offset 0x%x, "
			    "payload_length 0x%x) is not inside its 0x%" PRIx64 " bytes (syssize)",
			payload_off, payload_len, pm_size);
		return -ENOEXEC;
	}
	if (get32(d + HDR_CODE32_START) != PC_HIGH_RAM) {
		set_err(im, "code32_start is 0x%x: bt loads bzImages at 0x%x and runs no boot "
			    "loader hooks", get32(d + HDR_CODE32_START), PC_HIGH_RAM);
		return -ENOEXEC;
	}
	return 0;
}

/*
 * Where the kernel decompresses itself, and whether guest RAM holds it.
 * boot.rst (init_size): runtime_start is the load address aligned up to
 * kernel_alignment for a relocatable kernel, pref_address otherwise; a
 * relocatable kernel never goes below its LOAD_PHYSICAL_ADDR either, which
 * is what pref_address holds (head_32.S of the decompressor).
 */
static int check_memory(struct lx_image *im, const struct guestmem *gm)
{
	const uint8_t *d = im->data;
	uint64_t start = get64(d + HDR_PREF_ADDRESS), align = get32(d + HDR_KERNEL_ALIGNMENT);
	uint32_t init_size = get32(d + HDR_INIT_SIZE);
	uint64_t need;

	if (init_size == 0) {
		set_err(im, "corrupt bzImage: init_size is 0");
		return -ENOEXEC;
	}
	if (start == 0)
		start = PC_HIGH_RAM;
	if (d[HDR_RELOCATABLE]) {
		uint64_t aligned;

		if (align == 0 || (align & (align - 1)) != 0) {
			set_err(im, "corrupt bzImage: kernel_alignment 0x%" PRIx64
				" is not a power of two", align);
			return -ENOEXEC;
		}
		aligned = (PC_HIGH_RAM + align - 1) & ~(align - 1);
		if (aligned > start)
			start = aligned;
	}
	if (start < PC_HIGH_RAM || start + init_size > KVIEW_SIZE) {
		set_err(im, "the kernel wants to run at 0x%" PRIx64 " (pref_address) with 0x%x "
			    "bytes (init_size): not in 32-bit memory above 1 MiB", start,
			init_size);
		return -ENOEXEC;
	}
	im->decomp_start = start;
	im->decomp_end = start + init_size;
	need = im->decomp_end;
	if (PC_HIGH_RAM + (uint64_t)im->pm_size > need)
		need = PC_HIGH_RAM + (uint64_t)im->pm_size;
	if (need > gm->size) {
		set_err(im, "the kernel decompresses itself into 0x%" PRIx64 "-0x%" PRIx64
			" (pref_address, init_size), beyond the %" PRIu64 " MiB of guest RAM: "
			"use --mem %" PRIu64 " or more", im->decomp_start, im->decomp_end - 1,
			gm->size >> 20, mib_up(need));
		return -ENOMEM;
	}
	return 0;
}

/* cmdline_size: "the maximum size of the command line without the
 * terminating zero". */
static int check_cmdline(struct lx_image *im, const char *cmdline)
{
	uint32_t max = get32(im->data + HDR_CMDLINE_SIZE);
	size_t len = strlen(cmdline);

	if (max > CMDLINE_ROOM - 1)
		max = CMDLINE_ROOM - 1;
	if (len > max) {
		set_err(im, "the kernel command line is %zu bytes; this kernel takes at most %u "
			    "(cmdline_size)", len, max);
		return -E2BIG;
	}
	return 0;
}

/*
 * The highest page-aligned place for `size` bytes of initrd below `top`
 * that keeps clear of the kernel: its protected-mode code at 1 MiB (it
 * runs from there until it has moved itself) and the area it decompresses
 * into.  Returns 0 if there is none.
 */
static uint64_t place_initrd(const struct lx_image *im, uint64_t size, uint64_t top)
{
	/* The free gaps, highest first. */
	const uint64_t gaps[2][2] = {
		{ im->decomp_end, top },
		{ PC_HIGH_RAM + im->pm_size, im->decomp_start },
	};

	for (int i = 0; i < 2; i++) {
		uint64_t lo = (gaps[i][0] + PAGE - 1) & ~(uint64_t)(PAGE - 1);
		uint64_t hi = gaps[i][1] < top ? gaps[i][1] : top;

		if (hi > lo && hi - lo >= size)
			return (hi - size) & ~(uint64_t)(PAGE - 1);
	}
	return 0;
}

static int load_initrd(struct lx_image *im, struct guestmem *gm, const char *path,
		       struct linux_boot *out)
{
	struct monitor_bootfile f;
	/* initrd_addr_max is the highest byte the initrd may occupy. */
	uint64_t limit = (uint64_t)get32(im->data + HDR_INITRD_ADDR_MAX) + 1, at, need;
	int64_t got;
	int ret;

	ret = monitor_bootfile_open(&f, path, "initrd", im->err, im->errlen);
	if (ret < 0)
		return ret;
	if (f.size == 0) {
		snprintf(im->err, im->errlen, "initrd '%s' is empty", path);
		ret = -EINVAL;
		goto out_close;
	}
	if (INITRD_LOWMEM_END < limit)
		limit = INITRD_LOWMEM_END;
	at = place_initrd(im, f.size, limit < gm->size ? limit : gm->size);
	if (at == 0) {
		/* More RAM helps only if the initrd then fits above the kernel. */
		need = ((im->decomp_end + PAGE - 1) & ~(uint64_t)(PAGE - 1)) + f.size;
		if (need > limit)
			snprintf(im->err, im->errlen, "initrd '%s' (%" PRIu64 " bytes) does not "
				 "fit beside the kernel below 0x%" PRIx64 ", the highest address "
				 "this kernel takes an initrd at", path, f.size, limit);
		else
			snprintf(im->err, im->errlen, "initrd '%s' (%" PRIu64 " bytes) does not "
				 "fit in %" PRIu64 " MiB of guest RAM beside the kernel: use "
				 "--mem %" PRIu64 " or more", path, f.size, gm->size >> 20,
				 mib_up(need));
		ret = -ENOMEM;
		goto out_close;
	}
	got = monitor_bootfile_read(&f, monitor_phys_ptr(gm, at, f.size), f.size, im->err,
				    im->errlen);
	if (got >= 0 && (uint64_t)got != f.size) {
		snprintf(im->err, im->errlen, "initrd '%s' shrank while bt was reading it", path);
		got = -EIO;
	}
	if (got < 0) {
		ret = (int)got;
		goto out_close;
	}
	out->initrd_start = (uint32_t)at;
	out->initrd_size = (uint32_t)f.size;
	ret = 0;

out_close:
	monitor_bootfile_close(&f);
	return ret;
}

static uint8_t *put_e820(uint8_t *p, uint64_t addr, uint64_t size, uint32_t type)
{
	put_le(p, addr, 8);
	put_le(p + 8, size, 8);
	put_le(p + 16, type, 4);
	return p + E820_ENTRY;
}

/*
 * boot_params as the 32-bit boot protocol asks: zeroed, the setup header
 * copied in from the file, the loader's fields of the header written
 * (type_of_loader, cmd_line_ptr, ramdisk_*), and the zero page's own
 * fields: memory sizes and the e820 map.  screen_info says there is no
 * video: with orig_video_lines and orig_video_cols 0 neither the
 * decompressor nor vgacon write to a VGA text buffer (bt has none).
 */
static void build_boot_params(const struct lx_image *im, struct guestmem *gm,
			      const struct linux_boot *b)
{
	uint8_t *bp = monitor_phys_ptr(gm, BOOT_PARAMS_AT, BP_SIZE);
	uint64_t ext_k = (gm->size - PC_HIGH_RAM) >> 10;
	uint8_t *e;

	memset(bp, 0, BP_SIZE);
	memcpy(bp + HDR_START, im->data + HDR_START, im->hdr_end - HDR_START);
	bp[HDR_TYPE_OF_LOADER] = TYPE_OF_LOADER_UNDEF;
	put_le(bp + HDR_CMD_LINE_PTR, CMDLINE_AT, 4);
	put_le(bp + HDR_RAMDISK_IMAGE, b->initrd_start, 4);
	put_le(bp + HDR_RAMDISK_SIZE, b->initrd_size, 4);

	bp[BP_VIDEO_ISVGA] = 0;
	bp[BP_VIDEO_LINES] = 0;
	bp[BP_VIDEO_COLS] = 0;
	put_le(bp + BP_EXT_MEM_K, ext_k > 0xffff ? 0xffff : (uint16_t)ext_k, 2);
	put_le(bp + BP_ALT_MEM_K, (uint32_t)ext_k, 4);

	e = bp + BP_E820_TABLE;
	e = put_e820(e, 0, PC_EBDA, E820_RAM);
	e = put_e820(e, PC_EBDA, PC_VGA - PC_EBDA, E820_RESERVED);
	e = put_e820(e, PC_BIOS, PC_HIGH_RAM - PC_BIOS, E820_RESERVED);
	e = put_e820(e, PC_HIGH_RAM, gm->size - PC_HIGH_RAM, E820_RAM);
	bp[BP_E820_ENTRIES] = (uint8_t)((e - (bp + BP_E820_TABLE)) / E820_ENTRY);
}

int monitor_linux_probe(const char *path)
{
	struct monitor_bootfile f;
	uint8_t magic[4];
	char err[8];
	bool is_linux = false;
	int ret;

	ret = monitor_bootfile_open(&f, path, "kernel", err, sizeof(err));
	if (ret < 0)
		return ret;
	if (f.size >= HDR_MAGIC + sizeof(magic) &&
	    pread(f.fd, magic, sizeof(magic), HDR_MAGIC) == (ssize_t)sizeof(magic))
		is_linux = get32(magic) == HDR_MAGIC_VALUE;
	monitor_bootfile_close(&f);
	return is_linux;
}

int monitor_linux_load(struct guestmem *gm, const char *path, const char *cmdline,
		       const char *initrd, struct linux_boot *out, char *err, size_t errlen)
{
	char dummy[1];
	struct lx_image im = { .path = path, .err = err, .errlen = errlen };
	struct linux_boot boot = { 0 };
	uint8_t *buf = NULL;
	int ret;

	if (!err || errlen == 0) {
		im.err = dummy;
		im.errlen = sizeof(dummy);
	}
	im.err[0] = '\0';
	if (!cmdline)
		cmdline = "";

	ret = monitor_bootfile_slurp(path, "kernel", &buf, &im.size, im.err, im.errlen);
	if (ret < 0)
		return ret;
	im.data = buf;
	if ((ret = check_kind(&im)) < 0 || (ret = check_layout(&im)) < 0 ||
	    (ret = check_memory(&im, gm)) < 0 || (ret = check_cmdline(&im, cmdline)) < 0)
		goto out_free;
	/* Everything is checked but the initrd, which is read straight
	 * into guest RAM once its place is known. */
	if (initrd && (ret = load_initrd(&im, gm, initrd, &boot)) < 0)
		goto out_free;

	memcpy(monitor_phys_ptr(gm, PC_HIGH_RAM, im.pm_size), im.data + im.setup_size, im.pm_size);
	memcpy(monitor_phys_ptr(gm, CMDLINE_AT, strlen(cmdline) + 1), cmdline, strlen(cmdline) + 1);
	memcpy(monitor_phys_ptr(gm, BOOT_GDT_AT, sizeof(boot_gdt)), boot_gdt, sizeof(boot_gdt));
	boot.entry = PC_HIGH_RAM;
	boot.boot_params = BOOT_PARAMS_AT;
	boot.gdt_base = BOOT_GDT_AT;
	boot.gdt_limit = sizeof(boot_gdt) - 1;
	boot.version = im.version;
	boot.kernel_end = PC_HIGH_RAM + im.pm_size;
	boot.decomp_start = (uint32_t)im.decomp_start;
	boot.decomp_end = (uint32_t)im.decomp_end;
	build_boot_params(&im, gm, &boot);
	*out = boot;
	ret = 0;

out_free:
	free(buf);
	return ret;
}
