/* Multiboot v1 header and information structure (Multiboot Specification 0.6.96). */
#ifndef GUEST_MULTIBOOT_H
#define GUEST_MULTIBOOT_H

#define MB_HEADER_MAGIC		0x1BADB002	/* in the kernel image */
#define MB_BOOT_MAGIC		0x2BADB002	/* in EAX at entry */

/* Header flags (spec 3.1.2); bit 16 (a.out kludge) stays clear: we are ELF. */
#define MB_FLAG_PAGE_ALIGN	(1 << 0)	/* modules on 4 KiB boundaries */
#define MB_FLAG_MEMORY_INFO	(1 << 1)	/* fill mem_lower/upper and mmap */
#define MB_HEADER_FLAGS		(MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMORY_INFO)

/* Information flags (spec 3.3): which fields of struct multiboot_info are valid. */
#define MB_INFO_MEMORY		(1 << 0)
#define MB_INFO_BOOTDEV		(1 << 1)
#define MB_INFO_CMDLINE		(1 << 2)
#define MB_INFO_MODS		(1 << 3)
#define MB_INFO_MMAP		(1 << 6)

#ifndef __ASSEMBLER__
#include <stdint.h>

/* Boot information the loader leaves at EBX (spec 3.3); fields are physical addresses. */
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower;	/* KiB below 1 MiB */
	uint32_t mem_upper;	/* KiB above 1 MiB, up to the first hole */
	uint32_t boot_device;
	uint32_t cmdline;	/* NUL-terminated string */
	uint32_t mods_count;
	uint32_t mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length;
	uint32_t mmap_addr;
	/* drives, config table, boot loader name, APM, VBE: unused by the test guests */
};
#endif

#endif
