/*
 * macro: the macro workloads as one static 32-bit program, run natively on the host
 * and inside the Linux guest under bt and under QEMU. `macro NAME...` (or `macro
 * all`) runs each workload and prints
 *
 *   bench NAME: X ns/op
 *
 * with the time from clock_gettime(CLOCK_MONOTONIC) around a fixed number of
 * operations (a guest's clock is host time under bt and under QEMU TCG without
 * icount alike). What an operation is, per workload, is in the table below and in
 * bench/README.md. Environment: BENCH_TMP (a tmpfs directory, /tmp), BUSYBOX
 * (/bin/busybox), SCALE (multiplies every count, 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

static const char *tmpdir = "/tmp", *busybox = "/bin/busybox", *self;
static unsigned scale = 1;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "macro: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void wait_ok(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		die("child failed");
}

/* Each returns the operations it made. */
/* n times: fork, the child exits at once or execs this program with "nop", waitpid. */
static unsigned spawn_wait(unsigned n, int exec)
{
	for (unsigned i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			if (exec)
				execl(self, self, "nop", (char *)NULL);
			_exit(exec ? 127 : 0);
		}
		wait_ok(pid);
	}
	return n;
}

static unsigned w_fork(void)
{
	return spawn_wait(200 * scale, 0);
}

static unsigned w_exec(void)
{
	return spawn_wait(100 * scale, 1);
}

/* 8 MiB of fresh anonymous memory written a word per page; an op is one page. */
static unsigned w_pagefault(void)
{
	const size_t len = 8u << 20;
	unsigned reps = 4 * scale;

	for (unsigned r = 0; r < reps; r++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (p == MAP_FAILED)
			die("mmap");
		for (size_t o = 0; o < len; o += 4096)
			*(volatile uint32_t *)(p + o) = (uint32_t)o;
		munmap(p, len);
	}
	return reps * (unsigned)(len / 4096);
}

/* A byte back and forth between two processes over two pipes; an op is a round trip. */
static unsigned w_pipe(void)
{
	unsigned n = 2000 * scale;
	int ab[2], ba[2];
	char c = 0;
	pid_t pid;

	if (pipe(ab) || pipe(ba))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		for (unsigned i = 0; i < n; i++)
			if (read(ab[0], &c, 1) != 1 || write(ba[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	for (unsigned i = 0; i < n; i++)
		if (write(ab[1], &c, 1) != 1 || read(ba[0], &c, 1) != 1)
			die("pipe ping-pong");
	wait_ok(pid);
	close(ab[0]), close(ab[1]), close(ba[0]), close(ba[1]);
	return n;
}

/* A CPU-bound integer kernel: xorshift32 into a 4 KiB histogram; an op is one step. */
static volatile uint32_t sink;
static unsigned w_int(void)
{
	unsigned n = 30000000 * scale;
	uint32_t x = 2463534242u, hist[1024] = { 0 }, sum = 0;

	for (unsigned i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		hist[x & 1023] += x >> 28;
	}
	for (unsigned i = 0; i < 1024; i++)
		sum += hist[i] * i;
	sink = sum;
	return n;
}

/* When the timed part of the running workload began: run() sets it, and a
 * workload whose set-up is not what it measures sets it again after that. */
static uint64_t t_start;

/* memcpy between two 4 MiB buffers; an op is one MiB copied.  The buffers'
 * first touch (page faults, measured by "pagefault") is not timed. */
static unsigned w_memcpy(void)
{
	const size_t len = 4u << 20;
	unsigned reps = 40 * scale;
	char *a = malloc(len), *b = malloc(len);

	if (!a || !b)
		die("malloc");
	memset(a, 1, len);
	memset(b, 2, len);
	t_start = now_ns();
	for (unsigned r = 0; r < reps; r++) {
		memcpy(r & 1 ? a : b, r & 1 ? b : a, len);
		__asm__ volatile("" : : "r"(a), "r"(b) : "memory");
	}
	sink = (uint32_t)a[len / 2] + (uint32_t)b[len / 3];
	free(a);
	free(b);
	return reps * (unsigned)(len >> 20);
}

/* busybox gzip -c of a generated, half-compressible 2 MiB file; an op is one MiB. */
static unsigned w_gzip(void)
{
	const size_t len = 2u << 20;
	unsigned reps = scale, mib = (unsigned)(len >> 20);
	char path[256], *buf = malloc(len);
	uint32_t x = 1;
	int fd;

	if (!buf)
		die("malloc");
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (char)("etaoin shrdlu\n"[(x >> 16) % 14] + ((x >> 28) == 0 ? (x >> 20) % 26 : 0));
	}
	snprintf(path, sizeof(path), "%s/macro-gzip.%d", tmpdir, (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len || close(fd))
		die(path);
	free(buf);
	for (unsigned r = 0; r < reps; r++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			int out = open("/dev/null", O_WRONLY);

			if (out < 0 || dup2(out, 1) < 0)
				_exit(126);
			execl(busybox, "gzip", "-c", path, (char *)NULL);
			_exit(127);
		}
		wait_ok(pid);
	}
	unlink(path);
	return reps * mib;
}

/* A 1 MiB file written and read back in 4 KiB blocks, then removed; an op is a block each way. */
static unsigned w_fileio(void)
{
	static char block[4096];
	unsigned reps = 16 * scale, blocks = 256;
	char path[256];

	snprintf(path, sizeof(path), "%s/macro-file.%d", tmpdir, (int)getpid());
	for (unsigned r = 0; r < reps; r++) {
		int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);

		if (fd < 0)
			die(path);
		for (unsigned i = 0; i < blocks; i++) {
			block[0] = (char)i;
			if (write(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
				die("write");
		}
		if (lseek(fd, 0, SEEK_SET) != 0)
			die("lseek");
		for (unsigned i = 0; i < blocks; i++)
			if (read(fd, block, sizeof(block)) != (ssize_t)sizeof(block))
				die("read");
		close(fd);
		unlink(path);
	}
	return reps * blocks;
}

static const struct workload {
	const char *name;
	unsigned (*run)(void);
} workloads[] = {
	{ "fork", w_fork },		/* fork + _exit + waitpid */
	{ "exec", w_exec },		/* fork + execve of this program + waitpid */
	{ "pagefault", w_pagefault },	/* a first write to an anonymous page */
	{ "pipe", w_pipe },		/* a pipe round trip between two processes */
	{ "int", w_int },		/* a step of the integer kernel */
	{ "memcpy", w_memcpy },		/* a MiB copied */
	{ "gzip", w_gzip },		/* a MiB compressed by busybox gzip */
	{ "fileio", w_fileio },		/* 4 KiB written and read back in tmpfs */
};

static void run(const struct workload *w)
{
	t_start = now_ns();
	unsigned n = w->run();

	printf("bench %s: %.2f ns/op\n", w->name, (double)(now_ns() - t_start) / n);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *e;

	self = argv[0];
	if (argc > 1 && !strcmp(argv[1], "nop"))
		return 0;
	if ((e = getenv("BENCH_TMP")))
		tmpdir = e;
	if ((e = getenv("BUSYBOX")))
		busybox = e;
	if ((e = getenv("SCALE")))
		scale = (unsigned)strtoul(e, NULL, 0);
	for (int i = 1; i < argc; i++) {
		int found = 0;

		for (size_t k = 0; k < sizeof(workloads) / sizeof(workloads[0]); k++)
			if (!strcmp(argv[i], "all") || !strcmp(argv[i], workloads[k].name)) {
				run(&workloads[k]);
				found = 1;
			}
		if (!found) {
			fprintf(stderr, "macro: no workload %s\n", argv[i]);
			return 2;
		}
	}
	return 0;
}
