/* Freestanding library of the bt test guests: serial console, printf, exit, command line, checks, descriptors. */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "desc.h"
#include "multiboot.h"

/* Port of isa-debug-exit: writing v ends the VM with host status (v << 1) | 1. */
#define GUEST_EXIT_PORT		0xF4
/* Exit code of a guest that took an unexpected exception or interrupt. */
#define GUEST_EXIT_TRAP		0x70

/* The test's own entry point, called by start.S; its return value is the exit code. */
int guest_main(uint32_t magic, struct multiboot_info *mbi);

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

/* serial.c: COM1, polled. */
void serial_init(void);
void serial_putc(char c);
void serial_puts(const char *s);

/* printf.c: %d %i %u %x %X %p %s %c %%, flags '-' '0', width, 'l' (no-op). */
int guest_vprintf(const char *fmt, va_list ap);
int guest_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same into buf (always NUL-terminated if size > 0); returns the full length. */
int guest_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int guest_snprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* exit.c */
void guest_exit(int code) __attribute__((noreturn));

/* cmdline.c: the Multiboot command line and its key=value words. */
const char *guest_cmdline(void);
uint32_t guest_arg_u32(const char *key, uint32_t dflt);

/* idt.c: report any exception or interrupt and exit with GUEST_EXIT_TRAP,
 * unless guest_trap_hook handles it (returns nonzero): then the handler
 * returns with IRET to f->eip with the (possibly edited) frame. */
struct trap_frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;	/* pushal */
	uint32_t gs, fs, es, ds;	/* reloaded from here on return */
	uint32_t vector, error;
	uint32_t eip, cs, eflags;	/* pushed by the CPU */
	uint32_t outer_esp, outer_ss;	/* pushed only if (cs & 3) != 0 */
};
extern int (*guest_trap_hook)(struct trap_frame *f);
void idt_init(void);
/* Sets the DPL of IDT entry vec (who may reach it with INT n, INT3, INTO). */
void idt_set_dpl(unsigned vec, unsigned dpl);

/*
 * check.c: one line per check, "NAME: ok   ..." or "NAME: FAIL ...", and a tally;
 * check_done prints "NAME: N passed, M failed" and returns 1 if any failed.
 * check_range prints the bounds, not the value, so its line is deterministic.
 */
void check_init(const char *test_name);
int check(const char *what, uint32_t got, uint32_t want);
int check_range(const char *what, uint32_t got, uint32_t lo, uint32_t hi);
int check_true(const char *what, int cond);
int check_done(void);
/* Counts a check that printed its own line; returns ok. */
int check_tally(int ok);
/*
 * trap_catch installs a hook that copies each trap's frame to trap_seen, counts
 * it in trap_hits and resumes at resume (or where the frame says if 0);
 * trap_uncatch goes back to the catch-all.
 */
extern struct trap_frame trap_seen;
extern int trap_hits;
extern uint32_t trap_resume;
void trap_catch(uint32_t resume);
void trap_uncatch(void);

/* pic.c: the 8259A pair; masks and IRR/ISR are 16 bits, IRQ 8-15 in the high byte. */
void pic_mask_all(void);
void pic_remap(uint8_t base1, uint8_t base2);	/* and masks everything */
void pic_set_mask(uint16_t mask);
void pic_eoi(unsigned irq);
uint16_t pic_read_irr(void);
uint16_t pic_read_isr(void);

/* pit.c: 8254 channels (mode 0-5, 16-bit count, binary), port 0x61, CMOS RTC. */
#define PIT_HZ		1193182
#define SYS_CTRL_PORT	0x61
void pit_program(unsigned ch, unsigned mode, uint16_t count);
uint16_t pit_latch(unsigned ch);
uint8_t pit_status(unsigned ch);	/* read-back status byte */
void pit_ch2_gate(int on);
int pit_ch2_out(void);
uint8_t rtc_read(uint8_t reg);
uint8_t rtc_seconds(void);
void rtc_wait_tick(void);	/* returns right after the seconds register changed */

/* string.c: what gcc may emit calls to even when freestanding. */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
char *strcpy(char *dst, const char *src);
char *strcat(char *dst, const char *src);

/* init.c: state saved at entry. */
extern uint32_t guest_mb_magic;
extern struct multiboot_info *guest_mbi;

#endif
