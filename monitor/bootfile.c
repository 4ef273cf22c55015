/* Host files the boot loaders read (kernels, initrds), with one-line errors that name them. */
#include "monitor/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void monitor_bootfile_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "'%s': ", path);
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
}

int monitor_bootfile_open(struct monitor_bootfile *f, const char *path, const char *what,
			  char *err, size_t errlen)
{
	struct stat st;
	int ret;

	*f = (struct monitor_bootfile){ .path = path, .what = what, .fd = -1 };
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open %s '%s': %s", what, path, strerror(-ret));
		return ret;
	}
	if (fstat(f->fd, &st) < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot stat %s '%s': %s", what, path, strerror(-ret));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		ret = -EINVAL;
		monitor_bootfile_err(err, errlen, path, "not a regular file");
		goto out_close;
	}
	/* Guest RAM is at most 4 GiB, so a bigger file cannot be loaded; the
	 * bound also keeps the loaders' size arithmetic in range. */
	if ((uint64_t)st.st_size > KVIEW_SIZE) {
		ret = -EFBIG;
		monitor_bootfile_err(err, errlen, path,
				     "file is too large for guest RAM (4 GiB at most)");
		goto out_close;
	}
	f->size = (uint64_t)st.st_size;
	return 0;

out_close:
	monitor_bootfile_close(f);
	return ret;
}

int64_t monitor_bootfile_read(struct monitor_bootfile *f, void *dst, uint64_t n, char *err,
			      size_t errlen)
{
	uint64_t got = 0;

	while (got < n) {
		ssize_t r = pread(f->fd, (uint8_t *)dst + got, n - got, (off_t)got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int ret = -errno;

			snprintf(err, errlen, "cannot read %s '%s': %s", f->what, f->path,
				 strerror(-ret));
			return ret;
		}
		if (r == 0)
			break;	/* shrank under us: the caller decides */
		got += (uint64_t)r;
	}
	return (int64_t)got;
}

void monitor_bootfile_close(struct monitor_bootfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

int monitor_bootfile_slurp(const char *path, const char *what, uint8_t **buf_out,
			   uint64_t *size_out, char *err, size_t errlen)
{
	struct monitor_bootfile f;
	uint8_t *buf;
	int64_t got;
	int ret;

	ret = monitor_bootfile_open(&f, path, what, err, errlen);
	if (ret < 0)
		return ret;
	buf = malloc(f.size ? f.size : 1);
	if (!buf) {
		monitor_bootfile_err(err, errlen, path, "out of memory reading the %s", what);
		monitor_bootfile_close(&f);
		return -ENOMEM;
	}
	got = monitor_bootfile_read(&f, buf, f.size, err, errlen);
	monitor_bootfile_close(&f);
	if (got < 0) {
		free(buf);
		return (int)got;
	}
	*buf_out = buf;
	*size_out = (uint64_t)got;	/* a file that shrank: what we have is the file */
	return 0;
}
