/* Guest RAM as one memfd: the physmap, the kernel-view reservation and its identity mapping. */
#include "monitor/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define GM_PAGE_SIZE 4096ull
/* Linux's own default for vm.mmap_min_addr on x86; used if /proc says nothing. */
#define GM_DEFAULT_MIN_ADDR 65536ull

static uint64_t page_align_up(uint64_t v)
{
	return (v + GM_PAGE_SIZE - 1) & ~(GM_PAGE_SIZE - 1);
}

/* The lowest address the host lets us map; the kernel view starts there. */
static uint64_t read_mmap_min_addr(void)
{
	unsigned long long v;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "re");

	if (!f)
		return GM_DEFAULT_MIN_ADDR;
	if (fscanf(f, "%llu", &v) != 1)
		v = GM_DEFAULT_MIN_ADDR;
	fclose(f);
	/* Even where the host allows page 0, keep it out of the kernel view so
	 * that a NULL dereference in the monitor still faults. */
	if (v < GM_PAGE_SIZE)
		v = GM_PAGE_SIZE;
	return page_align_up(v);
}

static uint64_t kview_end(void)
{
	return KVIEW_SIZE + KVIEW_GUARD;
}

int monitor_guestmem_init(struct guestmem *gm, uint64_t size)
{
	int fd, ret;
	void *p;

	memset(gm, 0, sizeof(*gm));
	gm->memfd = -1;
	/* Guest physical addresses are 32 bits and RAM is mapped by page. */
	if (size == 0 || size > KVIEW_SIZE || size % GM_PAGE_SIZE)
		return -EINVAL;

	fd = memfd_create("bt-guest-ram", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size) < 0) {
		ret = -errno;
		goto out_close;
	}
	/* No address hint: the host puts it high, far from the kernel view. */
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		ret = -errno;
		goto out_close;
	}

	gm->memfd = fd;
	gm->physmap = p;
	gm->size = size;
	gm->min_addr = read_mmap_min_addr();
	gm->kview_reserved = false;
	return 0;

out_close:
	close(fd);
	return ret;
}

void monitor_guestmem_destroy(struct guestmem *gm)
{
	/* Unmapping the reservation also removes the identity mapping inside it. */
	if (gm->kview_reserved)
		munmap((void *)(uintptr_t)gm->min_addr, kview_end() - gm->min_addr);
	/* memfd and physmap are set together by a successful init only, so a
	 * zeroed or failed-init struct never closes fd 0. */
	if (gm->physmap) {
		munmap(gm->physmap, gm->size);
		close(gm->memfd);
	}
	memset(gm, 0, sizeof(*gm));
	gm->memfd = -1;
}

int monitor_kview_reserve(struct guestmem *gm)
{
	uint64_t start = gm->min_addr, len;
	void *p;

	if (gm->kview_reserved)
		return -EEXIST;
	if (start == 0 || start >= KVIEW_SIZE)
		return -EINVAL;
	len = kview_end() - start;
	/*
	 * PROT_NONE and NORESERVE: this only claims the addresses so that no
	 * library or heap of ours lands below 4 GiB; pages arrive later one by
	 * one with MAP_FIXED over it.
	 */
	p = mmap((void *)(uintptr_t)start, len, PROT_NONE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	if ((uintptr_t)p != start) {
		/* Kernels before 4.17 take the flag as a mere hint; a different
		 * address means something already sits in the range. */
		munmap(p, len);
		return -EEXIST;
	}
	gm->kview_reserved = true;
	return 0;
}

int monitor_kview_map_identity(struct guestmem *gm)
{
	uint64_t start = gm->min_addr, end = gm->size;
	void *p;

	/* MAP_FIXED outside our own reservation could clobber monitor memory. */
	if (!gm->kview_reserved || !gm->physmap)
		return -EINVAL;
	if (end > KVIEW_SIZE)
		end = KVIEW_SIZE;
	if (start >= end)
		return 0;	/* all of RAM is below mmap_min_addr: nothing to map */
	/*
	 * Paging off: linear == physical, so RAM page N sits at host address N.
	 * Read/write only; guest code never executes from the kernel view, it
	 * runs translated.  Pages below min_addr stay PROT_NONE (emulated).
	 */
	p = mmap((void *)(uintptr_t)start, end - start, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, gm->memfd, (off_t)start);
	if (p == MAP_FAILED)
		return -errno;
	return 0;
}

/* Range check without overflow: [gpa, gpa + n) within [0, size). */
static bool phys_range_ok(const struct guestmem *gm, uint64_t gpa, uint64_t n)
{
	return gm->physmap && gpa <= gm->size && n <= gm->size - gpa;
}

void *monitor_phys_ptr(const struct guestmem *gm, uint64_t gpa, uint64_t n)
{
	if (!phys_range_ok(gm, gpa, n))
		return NULL;
	return gm->physmap + gpa;
}

int monitor_phys_read(const struct guestmem *gm, uint64_t gpa, void *dst, size_t n)
{
	if (!phys_range_ok(gm, gpa, n))
		return -EFAULT;
	memcpy(dst, gm->physmap + gpa, n);
	return 0;
}

int monitor_phys_write(struct guestmem *gm, uint64_t gpa, const void *src, size_t n)
{
	if (!phys_range_ok(gm, gpa, n))
		return -EFAULT;
	memcpy(gm->physmap + gpa, src, n);
	return 0;
}

/*
 * Finds the first mapping in /proc/self/maps that overlaps the kernel-view
 * range.  Lines look like "lo-hi perms offset dev inode   path".
 */
static int find_occupant(const struct guestmem *gm, uint64_t *lo_out, char *name, size_t len)
{
	uint64_t start = gm->min_addr ? gm->min_addr : GM_PAGE_SIZE, end = kview_end();
	char line[4096];
	FILE *f = fopen("/proc/self/maps", "re");
	int ret = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		uint64_t lo, hi;
		int pathpos = 0;
		char *nl;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %*s %*s %*s %n", &lo, &hi,
			   &pathpos) < 2)
			continue;
		if (hi <= start || lo >= end)
			continue;
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (pathpos > 0 && line[pathpos] != '\0')
			snprintf(name, len, "%s", line + pathpos);
		else
			snprintf(name, len, "anonymous memory");
		*lo_out = lo;
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

int monitor_kview_occupant(const struct guestmem *gm, char *name, size_t len)
{
	uint64_t lo;

	return find_occupant(gm, &lo, name, len);
}

void monitor_kview_conflict_message(const struct guestmem *gm, char *buf, size_t len)
{
	char name[512];
	uint64_t lo = 0;

	if (find_occupant(gm, &lo, name, sizeof(name)) < 0)
		snprintf(name, sizeof(name), "unknown mapping");
	snprintf(buf, len,
		 "bt: host range [0x%" PRIx64 ",0x%" PRIx64
		 ") needed for the guest kernel view is already mapped (%s at 0x%" PRIx64 ")",
		 gm->min_addr, kview_end(), name, lo);
}
