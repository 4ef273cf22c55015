/* One access that may fault, at CPL 0 or 3, and the lines that check its #PF or its value (SDM vol. 3, 4.7, 6.15). */
#include "guest.h"

#define MARK		0x5a5a5a5au
#define CODE_EAX	0x00000badu	/* what code_blob loads into EAX */

/*
 * The probes: EBX = address, EAX = value to write. pr_rd loads EAX from
 * (EBX) with EAX = MARK before; pr_ex jumps to EBX (code_blob there jumps
 * back to ECX = pr_ex_res); pr_push pushes EAX with ESP = EBX. A handler
 * resumes a fault at NAME_res.
 */
__asm__(".text\n"
	".globl pr_rd, pr_rd_at, pr_rd_res\n"
	"pr_rd:\n  movl $0x5a5a5a5a, %eax\npr_rd_at: movl (%ebx), %eax\npr_rd_res: ret\n"
	".globl pr_wr, pr_wr_at, pr_wr_res\n"
	"pr_wr:\npr_wr_at: movl %eax, (%ebx)\npr_wr_res: ret\n"
	".globl pr_ex, pr_ex_at, pr_ex_res\n"
	"pr_ex:\n  movl $0x5a5a5a5a, %eax; movl $pr_ex_res, %ecx\npr_ex_at: jmp *%ebx\npr_ex_res: ret\n"
	".globl pr_push, pr_push_at, pr_push_res\n"
	"pr_push:\n  movl %esp, %esi; movl %ebx, %esp\npr_push_at: pushl %eax\n"
	"pr_push_res: movl %esi, %esp\n  ret\n");
extern char pr_rd[], pr_rd_at[], pr_rd_res[], pr_wr[], pr_wr_at[], pr_wr_res[], pr_ex[], pr_ex_at[],
	pr_ex_res[], pr_push[], pr_push_at[], pr_push_res[];

/* movl $CODE_EAX, %eax; jmp *%ecx */
static const uint8_t code_blob[] = { 0xb8, 0xad, 0x0b, 0x00, 0x00, 0xff, 0xe1 };

static char *const probe_fn[] = { pr_rd, pr_wr, pr_ex, pr_push };
static char *const probe_at[] = { pr_rd_at, pr_wr_at, NULL, pr_push_at };
static char *const probe_res[] = { pr_rd_res, pr_wr_res, pr_ex_res, pr_push_res };

uint32_t *pfc_page(uint32_t tag)
{
	uint32_t *p = pg_alloc_tagged(tag);

	memcpy((uint8_t *)p + PFC_CODE_OFF, code_blob, sizeof(code_blob));
	return p;
}

/* ---- running one case ---- */

static const struct pfc_case *cur;
static uint32_t got_eax;

static uint32_t probe(const struct pfc_case *c)
{
	uint32_t eax;

	__asm__ volatile("call *%1"
			 : "=a"(eax)
			 : "r"(probe_fn[c->acc]), "b"(c->lin), "a"(0xC0DE0000u + c->acc)
			 : "ecx", "edx", "esi", "memory", "cc");
	return eax;
}

static uint32_t ring3_probe(uint32_t arg)
{
	return probe((const struct pfc_case *)arg);
}

/* A fault at CPL 3: noted like trap_catch does it, resumed at the probe's end. */
static enum user_action probe_event(struct user_proc *p, struct trap_frame *f)
{
	(void)p;
	trap_cr2 = read_cr2();
	trap_seen = *f;
	if (++trap_hits > 2)
		return USER_KILL;
	f->eip = (uint32_t)probe_res[cur->acc];
	return USER_RESUME;
}

static void run_case(const struct pfc_case *c)
{
	static struct user_proc proc;
	uint32_t cr0 = read_cr0();

	cur = c;
	if (c->flags & PFC_NOWP)
		write_cr0(cr0 & ~CR0_WP);
	if (c->cpl == 0) {
		trap_catch((uint32_t)probe_res[c->acc]);
		got_eax = probe(c);
		trap_uncatch();
	} else {
		trap_hits = 0;
		trap_cr2 = 0;
		trap_seen.vector = ~0u;
		user_proc_init(&proc, "probe", ring3_probe, (uint32_t)c);
		proc.on_event = probe_event;
		while (user_run(&proc) == USER_READY)
			;
		got_eax = proc.status;
	}
	write_cr0(cr0);
}

void pfc_check(const struct pfc_case *c, volatile uint32_t *(*kview)(uint32_t lin), int sdm)
{
	uint32_t value = 0xC0DE0000u + c->acc, cr2 = c->acc == PFC_PUSH ? c->lin - 4 : c->lin;
	uint32_t eip = c->acc == PFC_EX ? c->lin : (uint32_t)probe_at[c->acc], before;
	volatile uint32_t *mem;
	char what[128];

	if ((c->flags & PFC_SDM_ONLY) && !sdm)
		return;
	mem = kview(cr2);
	before = *mem;
	run_case(c);
	if (c->error == PFC_NOFAULT) {
		if (trap_hits) {
			guest_snprintf(what, sizeof(what), "%s: vector %u error 0x%x CR2 0x%08x, want no fault",
				       c->what, trap_seen.vector, trap_seen.error, trap_cr2);
			check_true(what, 0);
			return;
		}
		guest_snprintf(what, sizeof(what), "%s: no fault, %s", c->what,
			       c->acc == PFC_RD ? "EAX = the word" : c->acc == PFC_WR ? "the word written" :
			       "the code ran");
		mem = kview(cr2);
		if (c->acc == PFC_RD)
			check(what, got_eax, *mem);
		else if (c->acc == PFC_WR)
			check(what, *mem, value);
		else
			check(what, got_eax, CODE_EAX);
		return;
	}
	if ((c->error & PF_RSVD) && !sdm) {
		/*
		 * XXX: QEMU 7.2 leaves P out of a reserved-bit fault (its
		 * mmu_translate sets PG_ERROR_RSVD_MASK alone); the SDM sets it
		 * (4.7: "bit 3 of the error code can be set only if bit 0 is
		 * also set"). sdm=1 compares all of it.
		 */
		guest_snprintf(what, sizeof(what), "%s, error code but P", c->what);
		trap_seen.error &= ~PF_P;
		check_pf(what, eip, cr2, c->error & ~PF_P);
	} else {
		check_pf(c->what, eip, cr2, c->error);
	}
	mem = kview(cr2);
	switch (c->acc) {
	case PFC_RD:
		check("  EAX unchanged", trap_seen.eax, MARK);
		break;
	case PFC_WR:
		check("  memory unchanged (after - before)", *mem - before, 0);
		break;
	case PFC_EX:
		check("  the code there did not run: EAX unchanged", trap_seen.eax, MARK);
		break;
	case PFC_PUSH:
		check_true("  ESP and memory unchanged", trap_seen.outer_esp == c->lin && *mem == before);
		break;
	}
}
