/*
 * The corpus engine: runs each case's snippet at CPL 0 (called) or CPL 3 (a
 * process, user.c) with a fault catcher, and prints one line per case:
 *
 *   NAME: vec=V err=E eip=+OFF eflags=F REG=VAL... [EXTRA]     (it faulted)
 *   NAME: done eflags=F REG=VAL... [EXTRA]                      (it ran to the end)
 *
 * OFF is EIP from the snippet's start; REG=VAL are the registers that differ
 * from what the snippet started with (ESP as a difference); EFLAGS leaves out
 * RF, which processors set in a fault's saved image and QEMU does not (SDM
 * vol. 3, 17.3.1.1). Command line: case=PREFIX runs only the cases whose
 * names start with PREFIX, start=N from the Nth (0-based) on; oracle=1 leaves out the cases QEMU gets wrong.
 */
#include "corpus.h"

#define MAX_CASES	1000
#define VEC_IRQ0	0x20

uint8_t cbuf[64] __attribute__((aligned(16)));
struct cregs cx_in, cx_out;
uint32_t cx_saved_esp, cx_target;

static struct ccase cases[MAX_CASES];
static unsigned ncases;
static const struct ccase *cur;
static volatile uint32_t f_vec, f_err, f_eip;
static struct trap_frame f_frame;
static uint32_t f_esp, f_cr2;
static struct user_proc proc;

/*
 * corpus_exec(snip): saves the caller's registers and stack, enters snip with
 * cx_in; corpus_done stores the registers in cx_out; corpus_fault (where the
 * trap hook sends a faulting snippet) just returns.
 */
__asm__(".text\n"
	".globl corpus_exec, corpus_done, corpus_fault\n"
	"corpus_exec:\n"
	"  pushl %ebp; pushl %ebx; pushl %esi; pushl %edi; pushfl\n"
	"  movl 24(%esp), %eax\n"
	"  movl %eax, cx_target\n"
	"  movl %esp, cx_saved_esp\n"
	"  pushl cx_in+32; popfl\n"
	"  movl cx_in+4, %ecx; movl cx_in+8, %edx; movl cx_in+12, %ebx\n"
	"  movl cx_in+20, %ebp; movl cx_in+24, %esi; movl cx_in+28, %edi\n"
	"  movl %esp, cx_in+16\n"
	"  movl cx_in, %eax\n"
	"  jmp *cx_target\n"
	"corpus_done:\n"
	"  movl %eax, cx_out; movl %ecx, cx_out+4; movl %edx, cx_out+8; movl %ebx, cx_out+12\n"
	"  movl %esp, cx_out+16; movl %ebp, cx_out+20; movl %esi, cx_out+24; movl %edi, cx_out+28\n"
	"  pushfl; popl cx_out+32\n"
	"corpus_fault:\n"
	"  movl cx_saved_esp, %esp\n"
	"  popfl; popl %edi; popl %esi; popl %ebx; popl %ebp\n"
	"  ret\n");
void corpus_exec(char *snip);
extern char corpus_fault[];

uint32_t home_ds(unsigned cpl)
{
	return cpl == 3 ? SEL_UDATA : SEL_KDATA;
}

void io_allow(uint16_t port, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		user_io_allow((uint16_t)(port + i), 1);
}

int pend_irq0(void)
{
	pit_program(0, 0, 10);
	for (uint32_t i = 0; i < 10000000u; i++)
		if (pic_read_irr() & 1)
			return 1;
	return 0;
}

/* Records the first event of the snippet and sends it to corpus_fault at its home CPL. */
static void catch(struct trap_frame *f)
{
	f_vec = f->vector;
	f_cr2 = f->vector == VEC_PF ? read_cr2() : 0;
	f_err = f->error;
	f_eip = f->eip;
	f_frame = *f;
	f_esp = (f->cs & 3) ? f->outer_esp : (uint32_t)&f->outer_esp;
	if (f->vector == VEC_IRQ0) {
		pic_set_mask(0xFFFF);
		pic_eoi(0);
	}
	f->eip = (uint32_t)corpus_fault;
	f->cs = cur->cpl == 3 ? SEL_UCODE : SEL_KCODE;
	f->ds = f->es = f->fs = f->gs = home_ds(cur->cpl);
	f->eflags = EFLAGS_BIT1 | (cur->cpl == 3 ? EFLAGS_IF | EFLAGS_IOPL(cur->iopl) : 0);
	if (cur->cpl == 3) {
		/* From CPL 0 (a gate's target) too: IRET to CPL 3 pops these. */
		f->outer_esp = cx_saved_esp;
		f->outer_ss = SEL_UDATA;
	}
}

static int hook(struct trap_frame *f)
{
	if (!cur || f_vec != ~0u)
		return 0;
	catch(f);
	return 1;
}

static enum user_action on_event(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	if (f_vec != ~0u)
		return USER_KILL;
	catch(f);
	return USER_RESUME;
}

static uint32_t r3_entry(uint32_t snip)
{
	corpus_exec((char *)snip);
	return 0;
}

struct ccase *case_add(const char *name, char *snip, unsigned cpl, unsigned iopl)
{
	struct ccase *c;

	if (ncases == MAX_CASES) {
		guest_printf("corpus: more than %u cases\n", MAX_CASES);
		guest_exit(2);
	}
	c = &cases[ncases++];
	memset(c, 0, sizeof(*c));
	strcpy(c->name, name);
	c->snip = snip;
	c->cpl = (uint8_t)cpl;
	c->iopl = (uint8_t)iopl;
	c->ecx = home_ds(cpl);
	return c;
}

static void addf(char *buf, unsigned n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void addf(char *buf, unsigned n, const char *fmt, ...)
{
	unsigned len = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	if (len < n)
		guest_vsnprintf(buf + len, n - len, fmt, ap);
	va_end(ap);
}

static void run(const struct ccase *c)
{
	static char line[320];
	static const char *rn[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
	uint32_t got[8], *in = &cx_in.eax;
	uint32_t eflags;
	unsigned i;

	memset(cbuf, 0xEE, sizeof(cbuf));
	memset(&cx_out, 0, sizeof(cx_out));
	cx_in.eax = c->eax;
	cx_in.ecx = c->ecx;
	cx_in.edx = c->edx;
	cx_in.ebx = IN_EBX;
	cx_in.esi = IN_ESI;
	cx_in.edi = IN_EDI;
	cx_in.ebp = IN_EBP;
	cx_in.eflags = EFLAGS_BIT1 | EFLAGS_IOPL(c->iopl) | c->eflags | (c->cpl == 3 ? EFLAGS_IF : 0);
	f_vec = ~0u;
	cur = c;
	if (c->setup)
		c->setup(c);
	if (c->cpl == 3) {
		user_proc_init(&proc, c->name, r3_entry, (uint32_t)c->snip);
		proc.regs.eflags |= EFLAGS_IOPL(c->iopl);
		proc.on_event = on_event;
		if (user_run(&proc) != USER_EXITED)
			guest_printf("%s: process killed by vector %u\n", c->name, proc.status);
	} else {
		corpus_exec(c->snip);
	}
	cur = NULL;
	cases_reset();

	line[0] = 0;
	if (f_vec != ~0u) {
		addf(line, sizeof(line), "vec=%u", f_vec);
		addf(line, sizeof(line), " err=%x", f_err);
		addf(line, sizeof(line), " eip=+%x", f_eip - (uint32_t)c->snip);
		if (f_vec == VEC_PF)
			addf(line, sizeof(line), " cr2=+%x", f_cr2 - (uint32_t)c->snip);
		got[0] = f_frame.eax; got[1] = f_frame.ecx; got[2] = f_frame.edx; got[3] = f_frame.ebx;
		got[4] = f_esp; got[5] = f_frame.ebp; got[6] = f_frame.esi; got[7] = f_frame.edi;
		eflags = f_frame.eflags;
	} else {
		addf(line, sizeof(line), "done");
		memcpy(got, &cx_out, sizeof(got));
		eflags = cx_out.eflags;
	}
	addf(line, sizeof(line), " eflags=%x", eflags & ~F_RF);
	for (i = 0; i < 8; i++) {
		if (got[i] == in[i])
			continue;
		if (i == 4)
			addf(line, sizeof(line), " esp=%d", (int)(got[i] - in[i]));
		else {
			addf(line, sizeof(line), " %s=%x", rn[i], got[i]);
		}
	}
	if (c->showbuf) {
		addf(line, sizeof(line), " buf=");
		for (i = 0; i < c->showbuf; i++)
			addf(line, sizeof(line), "%02x", cbuf[i]);
	}
	if (c->post) {
		addf(line, sizeof(line), " ");
		c->post(c, line + strlen(line), sizeof(line) - strlen(line));
	}
	guest_printf("%s: %s\n", c->name, line);
}

/* The value of "case=..." on the command line, or "" for all. */
static const char *selection(char *buf, unsigned n)
{
	const char *p = guest_cmdline();
	unsigned i;

	buf[0] = 0;
	for (; *p; p++) {
		if ((p == guest_cmdline() || p[-1] == ' ') && !memcmp(p, "case=", 5)) {
			p += 5;
			for (i = 0; i + 1 < n && p[i] && p[i] != ' ' && p[i] != '*'; i++)
				buf[i] = p[i];
			buf[i] = 0;
			break;
		}
	}
	return buf;
}

int guest_main(uint32_t magic, struct multiboot_info *mbi)
{
	static char sel[64];
	unsigned ran = 0, oracle = guest_arg_u32("oracle", 0), start = guest_arg_u32("start", 0);

	(void)magic;
	(void)mbi;
	user_init();
	pic_remap(0x20, 0x28);
	cases_init();
	guest_trap_hook = hook;
	cases_add_all();
	selection(sel, sizeof(sel));
	guest_printf("corpus: %u cases\n", ncases);
	for (unsigned i = start; i < ncases; i++) {
		if (memcmp(cases[i].name, sel, strlen(sel)))
			continue;
		if (oracle && cases[i].sdm_only) {
			guest_printf("%s: not run under the oracle (sdm-only)\n", cases[i].name);
			continue;
		}
		run(&cases[i]);
		ran++;
	}
	guest_printf("corpus: ran %u\n", ran);
	return 0;
}
