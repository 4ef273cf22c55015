/*
 * segments: descriptors as the CPU reads them (SDM vol. 3, 3.4-3.5, 5.1-5.10;
 * vol. 2 LAR, LSL, VERR, VERW, ARPL, MOV, CALL, RET). LAR/LSL/VERR/VERW on a
 * table of descriptors; ARPL; SGDT/SIDT/SLDT/STR/SMSW; segment register loads
 * and their faults at CPL 0 and 1; segments with a non-zero base; far CALL, JMP
 * and RET at CPL 0; a call gate from ring 1 with two parameters and the RET
 * back (stack switch, nulled data segments); PUSH of segment registers in ring
 * 1; the accessed bit.
 *
 * XXX: no limit checks (#GP/#SS for an access beyond a limit, expand-down
 * ranges, PUSH with ESP below an SS limit) and no write-protection checks:
 * QEMU 7.2 (TCG) applies segment bases but checks neither limits nor
 * read-only/execute-only on data accesses, so it cannot be the oracle for them.
 */
#include "lib/guest.h"

#define LAR_MASK	0x00F0FF00	/* SDM LAR: "masked by 00FxFF00H", x undefined */
#define NOT_SET		0xDEADBEEF	/* LAR/LSL leave the destination alone when ZF=0 */

/* Test descriptors (GDT_FREE on). */
#define S_CODE		0x40	/* code XR, DPL 0, flat */
#define S_CODE_XO	0x48	/* code execute-only, DPL 0, limit 0x1234 bytes */
#define S_CONF3		0x50	/* conforming code XR, DPL 3, limit 0xffff */
#define S_DATA		0x58	/* data RW, DPL 0, limit 0xabcde bytes */
#define S_DATA_RO	0x60	/* data RO, DPL 0 */
#define S_EXPDOWN	0x68	/* data RW expand-down, DPL 0, limit 0xfff, B=1 */
#define S_NP		0x70	/* data RW, DPL 0, not present */
#define S_DATA1		0x78	/* data RW, DPL 1 */
#define S_DATA3		0x80	/* data RW, DPL 3 */
#define S_TSS		0x88	/* available 32-bit TSS, limit 0x67 */
#define S_LDT		0x90	/* LDT, 2 entries */
#define S_CALL3		0x98	/* 32-bit call gate, DPL 3, offset < 64 KiB */
#define S_INTGATE	0xA0	/* 32-bit interrupt gate in the GDT */
#define S_TASKGATE	0xA8	/* task gate */
#define S_RESERVED	0xB0	/* system type 8: reserved */
#define S_TSS16		0xB8	/* available 16-bit TSS, limit 0x2b */
#define S_CONF0		0xC0	/* conforming code XR, DPL 0, flat */
#define S_ALIAS		0xC8	/* code XR, DPL 0, flat: target of far jumps */
#define S_GATE1		0xD0	/* 32-bit call gate, DPL 1, to S_ALIAS:gate_target, 2 params */
#define S_FRESH		0xD8	/* data RW, DPL 0, accessed bit clear */
#define S_BASE		0xE0	/* data RW, DPL 0, base = based_area, limit 0xfff */
#define S_TRAPGATE	0xE8	/* 32-bit trap gate */
#define S_CALL16	0xF0	/* 16-bit call gate, DPL 0 */

static uint64_t ldt[2];
static struct tss32 tss;
static uint32_t based_area[16];

/* Segment register loads that may fault: return 1 and resume at *_res if they do. */
#define TRY_LOAD(reg) \
	"try_" #reg ": movl 4(%esp), %eax\n" \
	"  pushl %" #reg "\n" \
	"try_" #reg "_at: movw %ax, %" #reg "\n" \
	"  popl %" #reg "\n" \
	"  xorl %eax, %eax; ret\n" \
	"try_" #reg "_res: popl %" #reg "\n" \
	"  movl $1, %eax; ret\n"
__asm__(".text\n" TRY_LOAD(ds) TRY_LOAD(es) TRY_LOAD(fs) TRY_LOAD(gs) TRY_LOAD(ss));
uint32_t try_ds(uint32_t), try_es(uint32_t), try_fs(uint32_t), try_gs(uint32_t), try_ss(uint32_t);
extern char try_ds_res[], try_es_res[], try_fs_res[], try_gs_res[], try_ss_res[];

static uint64_t desc(uint32_t base, uint32_t limit, unsigned access, unsigned flags)
{
	return seg_desc(base, limit, access, flags);
}

extern char gate_target[];

static void setup_gdt(void)
{
	gdt_set(S_CODE, desc(0, 0xFFFFF, D_P | D_CODE_XR, D_G | D_DB));
	gdt_set(S_CODE_XO, desc(0, 0x1234, D_P | D_CODE_XO, D_DB));
	gdt_set(S_CONF3, desc(0, 0xFFFF, D_P | D_DPL(3) | D_CODE_XR_C, D_DB));
	gdt_set(S_DATA, desc(0, 0xABCDE, D_P | D_DATA_RW, D_DB));
	gdt_set(S_DATA_RO, desc(0, 0xFFFFF, D_P | D_DATA_RO, D_G | D_DB));
	gdt_set(S_EXPDOWN, desc(0, 0xFFF, D_P | D_DATA_RW_ED, D_DB));
	gdt_set(S_NP, desc(0, 0xFFFFF, D_DATA_RW, D_G | D_DB));
	gdt_set(S_DATA1, desc(0, 0xFFFFF, D_P | D_DPL(1) | D_DATA_RW, D_G | D_DB));
	gdt_set(S_DATA3, desc(0, 0xFFFFF, D_P | D_DPL(3) | D_DATA_RW, D_G | D_DB));
	gdt_set(S_TSS, desc((uint32_t)&tss, sizeof(tss) - 1, D_P | D_TSS32, 0));
	gdt_set(S_LDT, desc((uint32_t)ldt, sizeof(ldt) - 1, D_P | D_LDT, 0));
	gdt_set(S_CALL3, gate_desc(GDT_KCODE, 0x1234, D_P | D_DPL(3) | D_CALL32, 0));
	gdt_set(S_INTGATE, gate_desc(GDT_KCODE, 0x1234, D_P | D_INT32, 0));
	gdt_set(S_TASKGATE, gate_desc(S_TSS, 0, D_P | D_TASK, 0));
	gdt_set(S_RESERVED, desc(0, 0xFFFF, D_P | 0x8, 0));
	gdt_set(S_TSS16, desc((uint32_t)&tss, 0x2B, D_P | D_TSS16, 0));
	gdt_set(S_CONF0, desc(0, 0xFFFFF, D_P | D_CODE_XR_C, D_G | D_DB));
	gdt_set(S_ALIAS, desc(0, 0xFFFFF, D_P | D_CODE_XR, D_G | D_DB));
	gdt_set(S_GATE1, gate_desc(S_ALIAS, (uint32_t)gate_target, D_P | D_DPL(1) | D_CALL32, 2));
	gdt_set(S_FRESH, desc(0, 0xFFFFF, D_P | D_DATA_RW, D_G | D_DB));
	gdt_set(S_BASE, desc((uint32_t)based_area, sizeof(based_area) - 1, D_P | D_DATA_RW, D_DB));
	gdt_set(S_TRAPGATE, gate_desc(GDT_KCODE, 0x1234, D_P | D_TRAP32, 0));
	gdt_set(S_CALL16, gate_desc(GDT_KCODE, 0x1234, D_P | D_CALL16, 0));
	ldt[0] = desc(0, 0xFFFFF, D_P | D_DATA_RW, D_G | D_DB);
}

static int lar(uint32_t sel, uint32_t *v)
{
	uint8_t zf;
	uint32_t r = NOT_SET;

	__asm__ volatile("larl %2, %0; setz %1" : "+r"(r), "=q"(zf) : "r"(sel) : "cc");
	*v = zf ? r & LAR_MASK : r;
	return zf;
}

static int lsl(uint32_t sel, uint32_t *v)
{
	uint8_t zf;
	uint32_t r = NOT_SET;

	__asm__ volatile("lsll %2, %0; setz %1" : "+r"(r), "=q"(zf) : "r"(sel) : "cc");
	*v = r;
	return zf;
}

static int verr(uint32_t sel)
{
	uint8_t zf;

	__asm__ volatile("verr %w1; setz %0" : "=q"(zf) : "r"(sel) : "cc");
	return zf;
}

static int verw(uint32_t sel)
{
	uint8_t zf;

	__asm__ volatile("verw %w1; setz %0" : "=q"(zf) : "r"(sel) : "cc");
	return zf;
}

/* One row: selector, what it is, LAR value (NOT_SET: ZF=0), LSL value (ditto), VERR, VERW. */
static const struct row {
	uint16_t sel;
	const char *what;
	uint32_t lar, lsl;
	int r, w;
} rows[] = {
	{ 0x00, "null", NOT_SET, NOT_SET, 0, 0 },
	{ S_CODE, "code XR DPL 0", 0x00C09A00, 0xFFFFFFFF, 1, 0 },
	{ S_CODE_XO, "code XO DPL 0", 0x00409800, 0x1234, 0, 0 },
	{ S_CONF3, "conforming XR DPL 3", 0x0040FE00, 0xFFFF, 1, 0 },
	{ S_CONF0 | 3, "conforming XR DPL 0, RPL 3", 0x00C09E00, 0xFFFFFFFF, 1, 0 },
	{ S_DATA, "data RW DPL 0", 0x00409200, 0xABCDE, 1, 1 },
	{ S_DATA_RO, "data RO DPL 0", 0x00C09000, 0xFFFFFFFF, 1, 0 },
	{ S_EXPDOWN, "data RW expand-down", 0x00409600, 0xFFF, 1, 1 },
	{ S_NP, "data RW not present", 0x00C01200, 0xFFFFFFFF, 1, 1 },
	{ S_DATA1, "data DPL 1, RPL 0", 0x00C0B200, 0xFFFFFFFF, 1, 1 },
	{ S_DATA1 | 1, "data DPL 1, RPL 1", 0x00C0B200, 0xFFFFFFFF, 1, 1 },
	{ S_DATA1 | 2, "data DPL 1, RPL 2 > DPL", NOT_SET, NOT_SET, 0, 0 },
	{ S_DATA3 | 3, "data DPL 3, RPL 3", 0x00C0F200, 0xFFFFFFFF, 1, 1 },
	{ GDT_KDATA | 3, "data DPL 0, RPL 3 > DPL", NOT_SET, NOT_SET, 0, 0 },
	{ S_TSS, "TSS32 available", 0x00008900, 0x67, 0, 0 },
	{ GDT_TSS, "TSS32 busy (TR)", 0x00008B00, 0x67, 0, 0 },
	{ S_TSS16, "TSS16 available", 0x00008100, 0x2B, 0, 0 },
	{ S_LDT, "LDT", 0x00008200, 0xF, 0, 0 },
	{ S_CALL3, "call gate 32 DPL 3", 0x0000EC00, NOT_SET, 0, 0 },
	{ S_CALL16, "call gate 16", 0x00008400, NOT_SET, 0, 0 },
	{ S_TASKGATE, "task gate", 0x00008500, NOT_SET, 0, 0 },
	{ S_INTGATE, "interrupt gate", NOT_SET, NOT_SET, 0, 0 },
	{ S_TRAPGATE, "trap gate", NOT_SET, NOT_SET, 0, 0 },
	{ S_RESERVED, "system type 8 (reserved)", NOT_SET, NOT_SET, 0, 0 },
	{ 0x3F8, "beyond the GDT limit", NOT_SET, NOT_SET, 0, 0 },
};

static void access_rights(void)
{
	char what[96];

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct row *r = &rows[i];
		uint32_t v;
		int zf;

#define WHAT(op) (guest_printf("segments: %s 0x%02x (%s):\n", op, r->sel, r->what), \
		  strcpy(what, "  " op))
		zf = lar(r->sel, &v);
		check(WHAT("LAR"), zf, r->lar != NOT_SET);
		check("    value (masked with 0x00f0ff00)", v, r->lar);
		zf = lsl(r->sel, &v);
		check(WHAT("LSL"), zf, r->lsl != NOT_SET);
		check("    value", v, r->lsl);
		check(WHAT("VERR"), verr(r->sel), r->r);
		check(WHAT("VERW"), verw(r->sel), r->w);
#undef WHAT
	}
}

static void arpl_checks(void)
{
	static const struct {
		uint16_t dst, src, want;
		int zf;
	} t[] = {
		{ 0x0010, 0x0003, 0x0013, 1 },
		{ 0x0013, 0x0001, 0x0013, 0 },
		{ 0x0022, 0x0022, 0x0022, 0 },
		{ 0xFFF8, 0x1231, 0xFFF9, 1 },
	};

	for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint16_t d = t[i].dst;
		uint8_t zf;

		__asm__ volatile("arpl %w2, %w0; setz %1" : "+r"(d), "=q"(zf) : "r"(t[i].src) : "cc");
		guest_printf("segments: ARPL 0x%04x, 0x%04x:\n", t[i].dst, t[i].src);
		check("  result", d, t[i].want);
		check("  ZF", zf, t[i].zf);
	}
}

struct dtr {
	uint16_t limit;
	uint32_t base;
} __attribute__((packed));

static void table_registers(void)
{
	struct dtr g, saved, probe = { 0x123, 0x45678 }, got;
	uint16_t ldtr, msw;
	uint32_t cr0;

	__asm__ volatile("sgdt %0" : "=m"(g));
	check("SGDT limit", g.limit, GDT_ENTRIES * 8 - 1);
	check("SGDT base - guest_gdt", g.base - (uint32_t)guest_gdt, 0);
	/* Nothing may fault while this IDT is loaded. */
	__asm__ volatile("sidt %0; lidt %2; sidt %1; lidt %0" : "=m"(saved), "=m"(got) : "m"(probe));
	check("SIDT limit after LIDT", got.limit, 0x123);
	check("SIDT base after LIDT", got.base, 0x45678);
	check("STR", read_tr(), GDT_TSS);
	__asm__ volatile("sldt %0" : "=r"(ldtr));
	check("SLDT before LLDT", ldtr, 0);
	__asm__ volatile("lldt %w0" : : "r"(S_LDT));
	__asm__ volatile("sldt %0" : "=r"(ldtr));
	check("SLDT after LLDT", ldtr, S_LDT);
	check("LDT selector 0x04 loads into FS", try_fs(0x04), 0);
	__asm__ volatile("lldt %w0" : : "r"(0));
	__asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
	__asm__ volatile("smsw %0" : "=m"(msw));
	check("SMSW = low word of CR0", msw, cr0 & 0xFFFF);
	check("  PE", msw & 1, 1);
	__asm__ volatile("movl %1, %%cr0; smsw %0; clts" : "=m"(msw) : "r"(cr0 | 8));
	check("SMSW after setting CR0.TS", msw & 8, 8);
}

/* Segment register loads: which fault, with what (SDM vol. 2, MOV; vol. 3, 5.5-5.6). */
struct load {
	uint32_t (*fn)(uint32_t);
	const char *reg;
	uint16_t sel;
	const char *what;
	uint32_t vector, error;	/* vector ~0: no fault */
};
#define OK	(~0u)

static void run_loads(const struct load *t, unsigned n, char *const *res, int ring)
{
	for (unsigned i = 0; i < n; i++) {
		uint32_t faulted;

		trap_catch(0);
		trap_resume = (uint32_t)res[i];
		faulted = t[i].fn(t[i].sel);
		trap_uncatch();
		guest_printf("segments: CPL %d MOV %s, 0x%02x (%s):\n", ring, t[i].reg, t[i].sel, t[i].what);
		if (t[i].vector == OK) {
			check("  faults", faulted, 0);
			continue;
		}
		check("  vector", faulted ? trap_seen.vector : OK, t[i].vector);
		check("  error code", trap_seen.error, t[i].error);
	}
}

#define LD(r, sel, what, v, e) { try_##r, #r, sel, what, v, e }
static const struct load loads0[] = {
	LD(ds, 0, "null", OK, 0),
	LD(ds, S_CODE, "readable code", OK, 0),
	LD(ds, S_CONF0 | 3, "conforming readable code, RPL 3", OK, 0),
	LD(ds, S_DATA1 | 1, "data DPL 1, RPL 1", OK, 0),
	LD(ds, S_CODE_XO, "execute-only code", 13, S_CODE_XO),
	LD(ds, S_TSS, "TSS", 13, S_TSS),
	LD(ds, S_DATA1 | 2, "data DPL 1, RPL 2", 13, S_DATA1),
	LD(ds, 0x0C, "LDT selector, LDTR null", 13, 0x0C),
	LD(ds, 0x3F8, "beyond the GDT limit", 13, 0x3F8),
	LD(ds, S_NP, "not present", 11, S_NP),
	LD(es, S_NP | 1, "not present, RPL 1 > DPL: #GP before #NP", 13, S_NP),
	LD(fs, S_NP, "not present", 11, S_NP),
	LD(gs, S_NP, "not present", 11, S_NP),
	LD(fs, 0, "null", OK, 0),
	LD(gs, S_DATA_RO, "read-only data", OK, 0),
	LD(ss, GDT_KDATA, "flat data RW DPL 0", OK, 0),
	LD(ss, 0, "null", 13, 0),
	LD(ss, GDT_KDATA | 3, "RPL 3 != CPL", 13, GDT_KDATA),
	LD(ss, S_DATA1 | 0, "DPL 1 != CPL", 13, S_DATA1),
	LD(ss, S_DATA_RO, "read-only data", 13, S_DATA_RO),
	LD(ss, S_CODE, "code", 13, S_CODE),
	LD(ss, S_NP, "not present", 12, S_NP),
};
static const struct load loads1[] = {
	LD(ds, GDT_R1DATA | 1, "data DPL 1", OK, 0),
	LD(ds, S_DATA3 | 3, "data DPL 3, RPL 3", OK, 0),
	LD(ds, S_CONF0 | 1, "conforming readable code DPL 0", OK, 0),
	LD(ds, GDT_KDATA | 1, "data DPL 0 < CPL", 13, GDT_KDATA),
	LD(es, S_CODE | 1, "code DPL 0 < CPL", 13, S_CODE),
	LD(ss, GDT_KDATA, "DPL 0, RPL 0 != CPL", 13, GDT_KDATA),
	LD(ss, GDT_R1DATA | 1, "DPL 1, RPL 1", OK, 0),
};

static char *res_of(uint32_t (*fn)(uint32_t))
{
	return fn == try_ds ? try_ds_res : fn == try_es ? try_es_res : fn == try_fs ? try_fs_res :
	       fn == try_gs ? try_gs_res : try_ss_res;
}

static uint32_t ring1_loads(void)
{
	char *res[sizeof(loads1) / sizeof(loads1[0])];

	for (unsigned i = 0; i < sizeof(loads1) / sizeof(loads1[0]); i++)
		res[i] = res_of(loads1[i].fn);
	run_loads(loads1, sizeof(loads1) / sizeof(loads1[0]), res, 1);
	return 0;
}

static void segment_loads(void)
{
	char *res[sizeof(loads0) / sizeof(loads0[0])];

	for (unsigned i = 0; i < sizeof(loads0) / sizeof(loads0[0]); i++)
		res[i] = res_of(loads0[i].fn);
	run_loads(loads0, sizeof(loads0) / sizeof(loads0[0]), res, 0);
	ring_call(1, ring1_loads);
}

/* Reads through a segment whose base is based_area: offset 4k is based_area[k]. */
#define READ_VIA(reg) \
	"peek_" #reg ": movl 4(%esp), %ecx; movl 8(%esp), %edx\n" \
	"  pushl %" #reg "; movw %dx, %" #reg "\n" \
	"  movl %" #reg ":(%ecx), %eax\n" \
	"  popl %" #reg "; ret\n"
__asm__(".text\n" READ_VIA(ds) READ_VIA(es) READ_VIA(fs) READ_VIA(gs)
	"write_gs: movl 4(%esp), %ecx; movl 8(%esp), %edx; movl 12(%esp), %eax\n"
	"  pushl %gs; movw %dx, %gs; movl %eax, %gs:(%ecx); popl %gs; ret\n");
uint32_t peek_ds(uint32_t off, uint32_t sel), peek_es(uint32_t off, uint32_t sel),
	peek_fs(uint32_t off, uint32_t sel), peek_gs(uint32_t off, uint32_t sel);
void write_gs(uint32_t off, uint32_t sel, uint32_t v);

static void based_segments(void)
{
	for (unsigned i = 0; i < 16; i++)
		based_area[i] = 0xA0000000 + i;
	check("DS base: offset 0x08", peek_ds(0x08, S_BASE), 0xA0000002);
	check("ES base: offset 0x0c", peek_es(0x0C, S_BASE), 0xA0000003);
	check("FS base: offset 0x3c", peek_fs(0x3C, S_BASE), 0xA000000F);
	check("GS base: offset 0x00", peek_gs(0x00, S_BASE), 0xA0000000);
	write_gs(0x14, S_BASE, 0x5555AAAA);
	check("GS base: write at 0x14 lands in based_area[5]", based_area[5], 0x5555AAAA);
}

/* Far transfers at CPL 0: the callee looks at what the far CALL pushed. */
__asm__(
	".text\n"
	"far_callee: movl (%esp), %eax; movl %eax, far_eip\n"
	"  movl 4(%esp), %eax; movl %eax, far_cs\n"
	"  movw %cs, %ax; movzwl %ax, %eax; movl %eax, far_incs\n"
	"  lret\n"
	"far_callee_ret8: movl 8(%esp), %eax; movl %eax, far_arg\n"
	"  lret $8\n"
	"far_direct: lcall $8, $far_callee\n"
	"far_direct_ret: ret\n"
	"far_indirect: lcall *far_ptr\n"
	"far_indirect_ret: ret\n"
	"far_params: movl %esp, far_esp0; pushl $0x22; pushl $0x11\n"
	"  lcall $8, $far_callee_ret8\n"
	"  movl %esp, far_esp1; ret\n"
	"far_jumps: ljmp $0xc8, $1f\n"
	"1: movw %cs, %ax; movzwl %ax, %eax; movl %eax, far_incs\n"
	"  ljmp *far_back\n"
	"far_jumps_back: ret\n"
	".data\n.balign 4\n"
	"far_ptr: .long far_callee; .word 0xc8\n"
	".balign 4\n"
	"far_back: .long far_jumps_back; .word 8\n"
	".text\n");
void far_direct(void), far_indirect(void), far_params(void), far_jumps(void);
extern char far_direct_ret[], far_indirect_ret[];
uint32_t far_eip, far_cs, far_incs, far_arg, far_esp0, far_esp1;

static void far_transfers(void)
{
	far_direct();
	check("far CALL ptr16:32: pushed EIP - return label", far_eip - (uint32_t)far_direct_ret, 0);
	check("  pushed CS (low 16 bits)", far_cs & 0xFFFF, GDT_KCODE);
	check("  CS in the callee", far_incs, GDT_KCODE);
	far_indirect();
	check("far CALL m16:32 to another code segment: pushed EIP - return label",
	      far_eip - (uint32_t)far_indirect_ret, 0);
	check("  pushed CS (low 16 bits)", far_cs & 0xFFFF, GDT_KCODE);
	check("  CS in the callee", far_incs, S_ALIAS);
	check("  CS after far RET", read_cs(), GDT_KCODE);
	far_params();
	check("far RET 8: argument seen by the callee", far_arg, 0x11);
	check("  ESP after RET 8 and the CALL = ESP before the pushes", far_esp0 - far_esp1, 0);
	far_jumps();
	check("far JMP ptr16:32: CS after", far_incs, S_ALIAS);
	check("far JMP m16:32 back: CS after", read_cs(), GDT_KCODE);
}

/*
 * Ring 1 calls through a call gate (DPL 1, 2 parameters) into ring 0 (SDM vol.
 * 3, 5.8.5-5.8.6): the CPU switches to SS0:ESP0, pushes the caller's SS and ESP,
 * copies the two parameters, pushes CS and EIP. The callee loads ES with a DPL 0
 * segment and FS with a DPL 1 one; RET 8 back to ring 1 must null ES (DPL < CPL)
 * and keep FS (5.8.6 step 7).
 */
__asm__(
	".text\n"
	"gate_target:\n"
	"  movl %esp, gate_esp\n"
	"  movl (%esp), %eax; movl %eax, gate_frame\n"
	"  movl 4(%esp), %eax; movl %eax, gate_frame + 4\n"
	"  movl 8(%esp), %eax; movl %eax, gate_frame + 8\n"
	"  movl 12(%esp), %eax; movl %eax, gate_frame + 12\n"
	"  movl 16(%esp), %eax; movl %eax, gate_frame + 16\n"
	"  movl 20(%esp), %eax; movl %eax, gate_frame + 20\n"
	"  movw %cs, %ax; movzwl %ax, %eax; movl %eax, gate_cs\n"
	"  movw $0x10, %ax; movw %ax, %es\n"
	"  movw $0x21, %ax; movw %ax, %fs\n"
	"  lret $8\n"
	"ring1_gate: pushl %ebx\n"
	"  movl %esp, gate_caller_esp\n"
	"  pushl $0x2222; pushl $0x1111\n"
	"  lcall $0xd1, $0\n"
	"ring1_gate_ret: movl %esp, gate_after_esp\n"
	"  movw %es, %ax; movzwl %ax, %eax; movl %eax, gate_es\n"
	"  movw %fs, %ax; movzwl %ax, %eax; movl %eax, gate_fs\n"
	"  movw %cs, %ax; movzwl %ax, %eax; movl %eax, gate_after_cs\n"
	"  movw $0x21, %ax; movw %ax, %es\n"
	"  popl %ebx; ret\n");
uint32_t ring1_gate(void);
extern char ring1_gate_ret[];
uint32_t gate_esp, gate_frame[6], gate_cs, gate_caller_esp, gate_after_esp, gate_es, gate_fs,
	gate_after_cs;

static void call_gate(void)
{
	ring_call(1, ring1_gate);
	check("call gate from ring 1: CS in the callee", gate_cs, S_ALIAS);
	check("  ESP in the callee = ESP0 - 24", (uint32_t)guest_stack0_top - gate_esp, 24);
	check("  pushed EIP - return label", gate_frame[0] - (uint32_t)ring1_gate_ret, 0);
	check("  pushed CS", gate_frame[1] & 0xFFFF, GDT_R1CODE | 1);
	check("  parameter 1", gate_frame[2], 0x1111);
	check("  parameter 2", gate_frame[3], 0x2222);
	check("  pushed ESP = caller's ESP after its pushes", gate_caller_esp - 8 - gate_frame[4], 0);
	check("  pushed SS", gate_frame[5] & 0xFFFF, GDT_R1DATA | 1);
	check("RET 8 to ring 1: CS", gate_after_cs, GDT_R1CODE | 1);
	check("  ESP = before the parameter pushes", gate_caller_esp - gate_after_esp, 0);
	check("  ES (DPL 0) nulled", gate_es, 0);
	check("  FS (DPL 1) kept", gate_fs, GDT_R1DATA | 1);
}

/* PUSH of a segment register in ring 1: the selectors carry RPL = CPL = 1. */
static uint32_t ring1_push(void)
{
	uint32_t cs, ss, ds;

	__asm__ volatile("pushl %%cs; popl %0; pushl %%ss; popl %1; pushl %%ds; popl %2"
			 : "=r"(cs), "=r"(ss), "=r"(ds));
	return (cs & 0xFFFF) << 16 | (ss & 0xFF) << 8 | (ds & 0xFF);
}

static void accessed_bit(void)
{
	uint64_t before = gdt_get(S_FRESH);

	check("accessed bit before a load", (uint32_t)(before >> 40) & 1, 0);
	try_ds(S_FRESH);
	check("accessed bit after MOV DS", (uint32_t)(gdt_get(S_FRESH) >> 40) & 1, 1);
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	(void)magic;
	(void)mbi;
	check_init("segments");
	pic_mask_all();
	tss_init();
	setup_gdt();
	access_rights();
	arpl_checks();
	table_registers();
	segment_loads();
	based_segments();
	far_transfers();
	call_gate();
	check("PUSH CS, SS, DS in ring 1 (CS << 16 | SS << 8 | DS)", ring_call(1, ring1_push),
	      (GDT_R1CODE | 1) << 16 | (GDT_R1DATA | 1) << 8 | (GDT_R1DATA | 1));
	accessed_bit();
	return check_done();
}
