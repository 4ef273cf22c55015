/* The Multiboot command line: words separated by spaces, some of them key=value. */
#include "guest.h"

const char *guest_cmdline(void)
{
	if (guest_mb_magic != MB_BOOT_MAGIC || !guest_mbi ||
	    !(guest_mbi->flags & MB_INFO_CMDLINE) || !guest_mbi->cmdline)
		return "";
	return (const char *)guest_mbi->cmdline;
}

/* Decimal, or hexadecimal after 0x; stops at the first other character. */
static uint32_t parse_u32(const char *s)
{
	uint32_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		for (s += 2;; s++) {
			if (*s >= '0' && *s <= '9')
				v = v * 16 + (uint32_t)(*s - '0');
			else if ((*s | 0x20) >= 'a' && (*s | 0x20) <= 'f')
				v = v * 16 + (uint32_t)((*s | 0x20) - 'a' + 10);
			else
				return v;
		}
	}
	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (uint32_t)(*s - '0');
	return v;
}

/*
 * The value of the last word "key=value"; dflt if there is none. Loaders may put
 * the kernel's path first (QEMU does); it is a word like any other.
 */
uint32_t guest_arg_u32(const char *key, uint32_t dflt)
{
	const char *p = guest_cmdline();
	size_t klen = strlen(key);
	uint32_t v = dflt;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, key, klen) && p[klen] == '=')
			v = parse_u32(p + klen + 1);
		while (*p && *p != ' ')
			p++;
	}
	return v;
}
