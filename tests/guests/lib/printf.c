/* A small printf on the serial port or into a buffer: %d %i %u %x %X %p %s %c %%, flags '-' '0', width, 'l'. */
#include <stdbool.h>

#include "guest.h"

/* Where the characters go: the serial port (buf == NULL) or buf[0..size-1]. */
struct sink {
	char *buf;
	size_t size, len;
};

static int emit(struct sink *out, char c)
{
	if (!out->buf)
		serial_putc(c);
	else if (out->len + 1 < out->size)
		out->buf[out->len] = c;
	out->len++;
	return 1;
}

static int pad(struct sink *out, char c, int n)
{
	int done = 0;

	while (n-- > 0)
		done += emit(out, c);
	return done;
}

/* One field: optional '-' sign, then len characters of s, padded to width. */
static int field(struct sink *out, const char *s, int len, bool neg, int width, bool left, bool zero)
{
	int fill = width - len - neg;
	int done = 0;

	if (!left && !zero)
		done += pad(out, ' ', fill);
	if (neg)
		done += emit(out, '-');
	if (!left && zero)
		done += pad(out, '0', fill);
	for (int i = 0; i < len; i++)
		done += emit(out, s[i]);
	if (left)
		done += pad(out, ' ', fill);
	return done;
}

/* Digits of v in base into the end of buf[12]; returns the first one. */
static char *digits(char *end, uint32_t v, unsigned base, bool upper)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";

	do {
		*--end = set[v % base];
		v /= base;
	} while (v);
	return end;
}

static int format(struct sink *out, const char *fmt, va_list ap)
{
	int done = 0;

	for (; *fmt; fmt++) {
		if (*fmt != '%') {
			done += emit(out, *fmt);
			continue;
		}
		bool left = false, zero = false, neg = false;
		int width = 0;
		char buf[12], *end = buf + sizeof(buf), *s;
		uint32_t u;
		int32_t d;

		for (;; fmt++) {
			if (fmt[1] == '-')
				left = true;
			else if (fmt[1] == '0')
				zero = true;
			else
				break;
		}
		while (fmt[1] >= '0' && fmt[1] <= '9')
			width = width * 10 + (*++fmt - '0');
		while (fmt[1] == 'l')	/* int and long are both 32 bits */
			fmt++;
		switch (*++fmt) {
		case 'd':
		case 'i':
			d = va_arg(ap, int32_t);
			neg = d < 0;
			u = neg ? -(uint32_t)d : (uint32_t)d;
			s = digits(end, u, 10, false);
			done += field(out, s, end - s, neg, width, left, zero);
			break;
		case 'u':
			s = digits(end, va_arg(ap, uint32_t), 10, false);
			done += field(out, s, end - s, false, width, left, zero);
			break;
		case 'x':
		case 'X':
			s = digits(end, va_arg(ap, uint32_t), 16, *fmt == 'X');
			done += field(out, s, end - s, false, width, left, zero);
			break;
		case 'p':
			s = digits(end, (uint32_t)va_arg(ap, void *), 16, false);
			done += field(out, "0x", 2, false, 0, false, false);
			done += field(out, s, end - s, false, width, left, zero);
			break;
		case 's':
			s = va_arg(ap, char *);
			if (!s)
				s = "(null)";
			done += field(out, s, strlen(s), false, width, left, false);
			break;
		case 'c':
			buf[0] = (char)va_arg(ap, int);
			done += field(out, buf, 1, false, width, left, false);
			break;
		case '%':
			done += emit(out, '%');
			break;
		case '\0':
			return done;
		default:	/* unknown: print it as written */
			done += emit(out, '%') + emit(out, *fmt);
			break;
		}
	}
	return done;
}

int guest_vprintf(const char *fmt, va_list ap)
{
	struct sink serial = { NULL, 0, 0 };

	return format(&serial, fmt, ap);
}

int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct sink mem = { buf, size, 0 };
	int n = format(&mem, fmt, ap);

	if (size)
		buf[mem.len < size ? mem.len : size - 1] = '\0';
	return n;
}

int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = guest_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int guest_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = guest_vprintf(fmt, ap);
	va_end(ap);
	return n;
}
