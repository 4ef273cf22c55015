/*
 * seglimits: segment limits, write protection and unusable segments on data
 * accesses at CPL 0 (SDM vol. 3, 5.3 "Limit checking", 5.4 "Type checking",
 * 3.4.2 null selectors, 6.15 #GP/#SS), and the RF image of faults
 * (18.3.1.1).
 *
 * The oracle is the SDM, not QEMU: QEMU 7.2 (TCG) applies segment bases but
 * checks neither limits nor read-only/execute-only on data accesses, and
 * pushes RF=0 for every fault.  tests/guests/seglimits.oracle says so, and
 * tests/run-all.sh runs this guest under bt only, against the golden file
 * below, whose every line was checked against those sections by hand:
 *   - an expand-up segment allows offsets 0..limit: an access of n bytes at
 *     offset o faults iff o + n - 1 > limit (so a dword straddling the limit
 *     faults even though its first byte is inside);
 *   - an expand-down segment allows limit+1..0xFFFF (B=0) or ..0xFFFFFFFF;
 *   - the fault is #GP(0) for DS/ES/FS/GS and #SS(0) for SS-relative
 *     accesses; the instruction has no effect (memory and registers as
 *     before) and the pushed EIP is the instruction's;
 *   - a write through a read-only data segment or through CS (code is never
 *     writable) is #GP(0), reads through them work;
 *   - any access through a null selector in DS..GS is #GP(0).
 */
#include "lib/guest.h"

#define S_LIM		0x40	/* data RW, base = area, limit 0xfff (byte granular) */
#define S_RO		0x48	/* data RO, base = area, limit 0xfff */
#define S_DOWN		0x50	/* data RW expand-down, B=0, base = area - 0x1000, limit 0xfff */
#define S_SSLIM		0x58	/* data RW, base 0, 4 KiB-granular limit a little above ESP */

#define NONE		0xff

static uint8_t area[0x10000] __attribute__((aligned(4096)));

/*
 * One case: loads `seg` with the selector in EAX, then runs one access at
 * label *_at with EBX the offset and ECX the value; a fault resumes at
 * *_res.  Both labels restore the segment register.
 */
#define CASE(n, seg, insn) \
	".globl " #n "\n" #n ":\n" \
	"  pushl %" seg "\n" \
	"  movw %ax, %" seg "\n" \
	#n "_at: " insn "\n" \
	#n "_res: popl %" seg "\n" \
	"  ret\n"
__asm__(".text\n"
	CASE(ds_rd8, "ds", "movb (%ebx), %cl")
	CASE(ds_rd32, "ds", "movl (%ebx), %ecx")
	CASE(es_wr32, "es", "movl %ecx, %es:(%ebx)")
	CASE(fs_wr16, "fs", "movw %cx, %fs:(%ebx)")
	CASE(gs_rmw32, "gs", "addl %ecx, %gs:(%ebx)")
	CASE(ds_cmp32, "ds", "cmpl %ecx, (%ebx)")
	CASE(ds_push32, "ds", "pushl (%ebx); popl %ecx")
	CASE(ds_wr8, "ds", "movb %cl, (%ebx)")
	CASE(cs_wr32, "ds", "movl %ecx, %cs:(%ebx)")
	CASE(cs_rd32, "ds", "movl %cs:(%ebx), %ecx"));
void ds_rd8(void), ds_rd32(void), es_wr32(void), fs_wr16(void), gs_rmw32(void);
void ds_cmp32(void), ds_push32(void), ds_wr8(void), cs_wr32(void), cs_rd32(void);
extern char ds_rd8_at[], ds_rd8_res[], ds_rd32_at[], ds_rd32_res[], es_wr32_at[],
	es_wr32_res[], fs_wr16_at[], fs_wr16_res[], gs_rmw32_at[], gs_rmw32_res[],
	ds_cmp32_at[], ds_cmp32_res[], ds_push32_at[], ds_push32_res[], ds_wr8_at[],
	ds_wr8_res[], cs_wr32_at[], cs_wr32_res[], cs_rd32_at[], cs_rd32_res[];

/* SS-relative: SS loaded with S_SSLIM around one explicit access. */
__asm__(".text\n"
	".globl ss_rd32\nss_rd32:\n"
	"  pushl %ss\n"
	"  movw %ax, %ss\n"
	"ss_rd32_at: movl %ss:(%ebx), %ecx\n"
	"ss_rd32_res: popl %ss\n"
	"  ret\n");
void ss_rd32(void);
extern char ss_rd32_at[], ss_rd32_res[];

struct tcase {
	const char *what;
	void (*fn)(void);
	const char *at, *res;
	uint16_t sel;
	uint32_t off, ecx;
	uint8_t vector;	/* NONE: no fault */
};

static uint32_t run(const struct tcase *t)
{
	uint32_t ecx = t->ecx;

	trap_catch((uint32_t)t->res);
	__asm__ volatile("call *%[fn]"
			 : "+c"(ecx)
			 : [fn] "r"(t->fn), "a"((uint32_t)t->sel), "b"(t->off)
			 : "edx", "esi", "edi", "memory", "cc");
	trap_uncatch();
	return ecx;
}

static void one(const struct tcase *t)
{
	uint32_t before = 0, after = 0;
	/* The area bytes the case may touch (offset relative to the selector's base). */
	uint8_t *p = t->sel == S_DOWN ? area - 0x1000 + t->off : area + t->off;
	int in_area = t->sel == S_LIM || t->sel == S_RO || t->sel == S_DOWN;

	if (in_area && p >= area && p + 4 <= area + sizeof(area))
		memcpy(&before, p, 4);
	uint32_t ecx = run(t);
	if (in_area && p >= area && p + 4 <= area + sizeof(area))
		memcpy(&after, p, 4);
	guest_printf("seglimits: %s:\n", t->what);
	if (t->vector == NONE) {
		check("  faults", trap_hits, 0);
		return;
	}
	check("  faults", trap_hits, 1);
	check("  vector", trap_seen.vector, t->vector);
	check("  error code", trap_seen.error, 0);
	check("  EIP - label", trap_seen.eip - (uint32_t)t->at, 0);
	check("  RF pushed (SDM 18.3.1.1: 1 for faults)", trap_seen.eflags >> 16 & 1, 1);
	check("  ECX unchanged", ecx, t->ecx);
	check("  memory unchanged", after, before);
}

static void fill(void)
{
	for (unsigned i = 0; i < sizeof(area); i++)
		area[i] = (uint8_t)(i * 7 + 1);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	uint32_t a = (uint32_t)area, esp, sslim;

	__asm__ volatile("movl %%esp, %0" : "=r"(esp));
	/* G=1: the limit is (field << 12) | 0xfff; the stack stays inside it. */
	sslim = (((esp + 0x4000) >> 12) << 12) | 0xfff;

	(void)magic;
	(void)mbi;
	check_init("seglimits");
	gdt_set(S_LIM, seg_desc(a, 0xfff, D_P | D_DATA_RW, D_DB));
	gdt_set(S_RO, seg_desc(a, 0xfff, D_P | D_DATA_RO, D_DB));
	gdt_set(S_DOWN, seg_desc(a - 0x1000, 0xfff, D_P | D_DATA_RW_ED, 0));
	gdt_set(S_SSLIM, seg_desc(0, sslim >> 12, D_P | D_DATA_RW, D_G | D_DB));
	fill();

#define T(w, f, sel, off, ecx, vec) { w, f, f##_at, f##_res, sel, off, ecx, vec }
	const struct tcase cases[] = {
		T("byte read at the limit", ds_rd8, S_LIM, 0xfff, 0, NONE),
		T("byte read one past the limit", ds_rd8, S_LIM, 0x1000, 0x55, 13),
		T("dword read ending at the limit", ds_rd32, S_LIM, 0xffc, 0, NONE),
		T("dword read straddling the limit", ds_rd32, S_LIM, 0xffd, 0x55, 13),
		T("dword read at offset 0xffffffff (wraps)", ds_rd32, S_LIM, 0xffffffff, 0x55, 13),
		T("ES dword write past the limit", es_wr32, S_LIM, 0x1000, 0x12345678, 13),
		T("ES dword write inside", es_wr32, S_LIM, 0x800, 0x12345678, NONE),
		T("FS word write straddling the limit", fs_wr16, S_LIM, 0xfff, 0x1234, 13),
		T("GS read-modify-write past the limit", gs_rmw32, S_LIM, 0x2000, 1, 13),
		T("CMP with a memory operand past the limit", ds_cmp32, S_LIM, 0x1000, 0, 13),
		T("PUSH of a memory operand past the limit", ds_push32, S_LIM, 0x1000, 0x55, 13),
		T("expand-down: byte at the limit", ds_rd8, S_DOWN, 0xfff, 0x55, 13),
		T("expand-down: byte just above the limit", ds_rd8, S_DOWN, 0x1000, 0, NONE),
		T("expand-down: byte at 0xffff (B=0 top)", ds_rd8, S_DOWN, 0xffff, 0, NONE),
		T("expand-down: dword past 0xffff (B=0 top)", ds_rd32, S_DOWN, 0xfffe, 0x55, 13),
		T("read-only: read", ds_rd32, S_RO, 0x100, 0, NONE),
		T("read-only: write", ds_wr8, S_RO, 0x100, 0x99, 13),
		T("read-only: read-modify-write", gs_rmw32, S_RO, 0x100, 1, 13),
		T("write through CS", cs_wr32, S_LIM, a + 0x100, 0x99, 13),
		T("read through CS", cs_rd32, S_LIM, (uint32_t)cs_rd32, 0, NONE),
		T("null DS: read", ds_rd32, 0, a, 0x55, 13),
		T("null ES: write", es_wr32, 0, a, 0x55, 13),
		T("SS-relative read beyond the SS limit", ss_rd32, S_SSLIM, sslim + 1, 0x55, 12),
		T("SS-relative read inside the SS limit", ss_rd32, S_SSLIM, a, 0, NONE),
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		one(&cases[i]);
	return check_done();
}
