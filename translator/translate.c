/* translator/translate.c: the translation driver (unit start, per-instruction hooks, unit stop). */
#include <errno.h>
#include <string.h>

#include "monitor/monitor.h"
#include "translator/internal.h"

#define PAGE_SIZE 4096u

void tctx_mark(struct tctx *c, uint8_t fixup, uint8_t reg)
{
	if (c->npcmap >= TCTX_MAX_PCMAP) {
		c->e.full = true;
		return;
	}
	c->pcmap[c->npcmap++] = (struct tcache_pcmap){
		.host_off = (uint32_t)c->e.pos, .eip = c->eip, .fixup = fixup, .fixup_reg = reg,
	};
}

bool tctx_leave(struct tctx *c, int reason, uint32_t target)
{
	struct emitter *e = &c->e;
	struct hmem ent = hm_base(HR_VCPU, VCPU_ENT_EXIT);
	return em_mov32_ri(e, HR_R13, (uint32_t)reason) && em_mov64_ri(e, HR_R14, target) &&
	       em_jmp_mem(e, &ent);
}

/*
 * A chainable exit: an aligned jmp rel32 that first points at a stub.  In a
 * single-instruction unit every exit leaves for the dispatcher instead, which
 * raises the single-step trap or ends the interrupt shadow there.
 */
static bool exit_jump(struct tctx *c, int cc, uint32_t target, bool check)
{
	if (c->mode & TMODE_SINGLE) {
		struct emitter *e = &c->e;
		if (cc < 0)
			return tctx_leave(c, EXIT_STEP, target);
		/* jcc taken ; leave(fall) ; taken: (the caller leaves to `fall`) */
		if (!em_jcc_rel32(e, cc, em_xpos(e)))
			return false;
		size_t rel = e->pos;
		if (!tctx_leave(c, EXIT_STEP, target))
			return false;
		/* Swap roles: the jcc skips the taken leave, so invert it. */
		e->w[rel - 5] ^= 1;
		em_fix_rel32(e, rel, em_xpos(e));
		return true;
	}
	if (c->nexits >= TCTX_MAX_LINKS) {
		c->e.full = true;
		return false;
	}
	struct emitter *e = &c->e;
	bool ok = cc < 0 ? em_align_rel32(e, 1) && em_jmp_rel32(e, em_xpos(e))
			 : em_align_rel32(e, 2) && em_jcc_rel32(e, cc, em_xpos(e));
	if (!ok)
		return false;
	c->exits[c->nexits].rel_end = e->pos;
	c->exits[c->nexits].target = target;
	c->exits[c->nexits].check = check;
	c->nexits++;
	return true;
}

bool tctx_exit_direct(struct tctx *c, uint32_t target)
{
	c->ended = true;
	return exit_jump(c, -1, target, false);
}

bool tctx_exit_checked(struct tctx *c, uint32_t target)
{
	c->ended = true;
	return exit_jump(c, -1, target, true);
}

bool tctx_exit_jcc(struct tctx *c, int cc, uint32_t taken, uint32_t fall)
{
	c->ended = true;
	return exit_jump(c, cc, taken, false) && exit_jump(c, -1, fall, false);
}

/*
 * Indirect branch through the inline lookup table (guest EIP in r14d).
 * Entries hold -eip so that `lea ecx, [rcx + r14]` is zero exactly on a hit:
 * the guest's arithmetic flags are live in RFLAGS, so the test must not
 * touch them, and jrcxz is the flag-free conditional branch.  Empty entries
 * point at the miss stub, so a false "hit" on one is still correct.
 */
bool tctx_exit_indirect(struct tctx *c)
{
	struct emitter *e = &c->e;
	static const uint8_t movzx[] = { 0x0f, 0xb7 };
	struct hmem tbl = hm_base(HR_VCPU, VCPU_IBL_TABLE);
	struct hmem ent = { HR_R12, HR_R13, 8, 0 };
	struct hmem key = hm_base(HR_R12, 0);
	struct hmem sum = { HR_RCX, HR_R14, 1, 0 };
	/* rorx r13d, r14d, 16 (VEX.LZ.F2.0F3A.W0 F0 /r ib): flag-free rotate. */
	static const uint8_t rorx16[] = { 0xc4, 0x43, 0x7b, 0xf0, 0xee, 0x10 };
	struct hmem fold = { HR_R13, HR_R14, 1, 0 };
	c->ended = true;
	if (c->mode & TMODE_SINGLE) {
		struct hmem ent = hm_base(HR_VCPU, VCPU_ENT_EXIT);
		return em_mov32_ri(e, HR_R13, EXIT_STEP) && em_jmp_mem(e, &ent);
	}
	if (!em_bytes(e, rorx16, sizeof(rorx16)) ||
	    !em_lea32(e, HR_R13, &fold, false) ||			/* r13d = eip + rol(eip, 16) */
	    !em_rr(e, NULL, 0, false, movzx, 2, HR_R13, HR_R13) ||	/* movzx r13d, r13w */
	    !em_load64(e, HR_R12, &tbl) ||
	    !em_lea64(e, HR_R12, &ent) || !em_lea64(e, HR_R12, &ent) ||	/* r12 = table + idx*16 */
	    !em_mov64_rr(e, HR_R11, HR_RCX) ||
	    !em_load32(e, HR_RCX, &key, false) ||
	    !em_lea32(e, HR_RCX, &sum, false) ||
	    !em_u8(e, 0xe3) || !em_u8(e, 0))	/* jrcxz hit */
		return false;
	size_t jr = e->pos;
	struct hmem miss = hm_base(HR_VCPU, VCPU_ENT_IBL);
	if (!em_mov64_rr(e, HR_RCX, HR_R11) || !em_jmp_mem(e, &miss))
		return false;
	e->w[jr - 1] = (uint8_t)(e->pos - jr);
	if (!em_mov64_rr(e, HR_RCX, HR_R11))
		return false;
	if (c->mode & TMODE_STATS) {
		struct hmem cnt = hm_base(HR_VCPU, VCPU_STAT_IBL_HITS);
		struct hmem inc = hm_base(HR_R13, 1);
		if (!em_load64(e, HR_R13, &cnt) || !em_lea64(e, HR_R13, &inc) ||
		    !em_store64(e, &cnt, HR_R13))
			return false;
	}
	struct hmem host = hm_base(HR_R12, 8);
	return em_jmp_mem(e, &host);
}

bool tctx_callout(struct tctx *c, enum translator_callout_kind kind,
		  const struct translator_insn *in)
{
	struct translator_callout *co = tcache_alloc(c->t->tc, sizeof(*co));
	if (!co) {
		c->e.full = true;
		return false;
	}
	co->kind = kind;
	co->eip = in->eip;
	co->next_eip = in->eip + in->zi.length;
	co->in = *in;
	c->t->callouts_by_kind[kind]++;
	struct emitter *e = &c->e;
	/* r14 = record, r12 = where to resume; the stub saves the guest state
	 * and switches to the monitor's stack (runtime/entry.S). */
	static const uint8_t lea_rip[] = { 0x4c, 0x8d, 0x25 };	/* lea r12, [rip+disp32] */
	struct hmem ent = hm_base(HR_VCPU, VCPU_ENT_CALLOUT);
	if (!em_mov64_ri(e, HR_R14, (uint64_t)(uintptr_t)co) || !em_bytes(e, lea_rip, 3) ||
	    !em_u32(e, 4) || !em_jmp_mem(e, &ent))
		return false;
	return true;
}

/* Unit prologue: leave if the monitor asked (timer, device, kick). */
static bool unit_start(struct tctx *c, size_t *req_jmp_end)
{
	struct emitter *e = &c->e;
	struct hmem req = hm_base(HR_VCPU, VCPU_EXIT_REQ);
	static const uint8_t movzx8[] = { 0x0f, 0xb6 };
	if (!em_mov64_rr(e, HR_R11, HR_RCX) ||
	    !em_mem(e, NULL, 0, false, false, movzx8, 2, HR_RCX, &req) ||	/* movzx ecx, byte [req] */
	    !em_u8(e, 0xe3) || !em_u8(e, 5) ||	/* jrcxz over the jmp */
	    !em_jmp_rel32(e, 0))
		return false;
	*req_jmp_end = e->pos;
	return em_mov64_rr(e, HR_RCX, HR_R11);
}

/* Unit epilogue: the cold stubs that direct exits and the prologue use. */
static bool unit_stop(struct tctx *c, size_t req_jmp_end, struct tcache_link *links)
{
	struct emitter *e = &c->e;
	struct hmem ent = hm_base(HR_VCPU, VCPU_ENT_EXIT);

	em_fix_rel32(e, req_jmp_end, em_xpos(e));
	if (!em_mov64_rr(e, HR_RCX, HR_R11) || !em_mov32_ri(e, HR_R13, EXIT_REQUEST) ||
	    !em_mov64_ri(e, HR_R14, c->u->eip) || !em_jmp_mem(e, &ent))
		return false;
	for (int i = 0; i < c->nexits; i++) {
		struct tcache_link *l = &links[i];
		size_t stub = e->pos;
		em_fix_rel32(e, c->exits[i].rel_end, em_xpos(e));
		if (!em_mov32_ri(e, HR_R13, EXIT_LINK) ||
		    !em_mov64_ri(e, HR_R14, (uint64_t)(uintptr_t)l) || !em_jmp_mem(e, &ent))
			return false;
		*l = (struct tcache_link){
			.from = c->u,
			.target_eip = c->exits[i].target,
			.rel32_off = (uint32_t)(c->t->tc->used + c->exits[i].rel_end - 4),
			.stub_off = (uint32_t)(c->t->tc->used + stub),
			.check = c->exits[i].check,
		};
	}
	return true;
}

/*
 * The first instruction of the unit cannot be run: `kind` says what it
 * raises.  CO_NONE: the bytes do not decode (#UD).  CO_TOOLONG: more than 15
 * bytes (#GP(0)).  CO_FETCHPF: the instruction runs past the `n` bytes that
 * could be fetched into a page that cannot be; the fetch of the whole
 * instruction faults before any of it executes, so the monitor raises that
 * #PF (CR2 = eip + n, SDM vol. 3, 4.7).  The record's length is `n` there.
 */
static bool tr_undecodable(struct tctx *c, enum translator_callout_kind kind, uint32_t eip,
			   const uint8_t *bytes, size_t n)
{
	struct translator_insn in;
	memset(&in, 0, sizeof(in));
	in.eip = eip;
	in.zi.length = kind == CO_FETCHPF ? (uint8_t)n : 0;
	memcpy(in.bytes, bytes, n < sizeof(in.bytes) ? n : sizeof(in.bytes));
	c->ended = true;
	return tctx_callout(c, kind, &in);
}

static bool uses_stack(enum translator_rule r)
{
	switch (r) {
	case TR_PUSH: case TR_POP: case TR_PUSHA: case TR_POPA: case TR_ENTER: case TR_LEAVE:
	case TR_PUSHF: case TR_POPF: case TR_CALL: case TR_RET:
		return true;
	default:
		return false;
	}
}

static bool translate_insn(struct tctx *c, const struct translator_insn *in)
{
	const struct translator_row *row = translator_classify(in);
	c->redirect = (row->rule == TR_COPY || row->rule == TR_INCDEC) && insn_mem_operand(in) &&
		      ((c->mode & TMODE_REDIRECT) ||
		       (c->t->adaptive && c->t->adaptive(c->t->adaptive_ctx, in->eip)));
	if ((c->mode & TMODE_CPLNZ) &&
	    (row->rule == TR_CLI || row->rule == TR_STI || row->rule == TR_POPF)) {
		/* Outside ring 0 these depend on IOPL (SDM vol. 3, 6.8.1; vol. 2,
		 * POPF): rare there, so the monitor does them. */
		return tctx_callout(c, CO_IFLAGS, in) && tctx_exit_checked(c, c->next_eip);
	}
	if ((c->mode & TMODE_SS_NONFLAT) && uses_stack(row->rule)) {
		/* The rewrites address the stack as [esp]: with a based or
		 * limited SS the monitor runs these (rare) instead. */
		return tctx_callout(c, CO_STACK, in) && tctx_exit_checked(c, c->next_eip);
	}
	if ((in->zi.mnemonic == ZYDIS_MNEMONIC_RDTSC || in->zi.mnemonic == ZYDIS_MNEMONIC_RDTSCP) &&
	    !(c->mode & (TMODE_CPLNZ | TMODE_TSC_OFFSET))) {
		/* At CPL 0 CR4.TSD does not apply (SDM vol. 2, RDTSC, RDTSCP)
		 * and the guest's TSC is the host's: the instruction itself,
		 * and for RDTSCP the guest's IA32_TSC_AUX in ECX instead of the
		 * host's.  (Linux reads the TSC with RDTSCP millions of times
		 * while booting.) */
		if (in->zi.mnemonic == ZYDIS_MNEMONIC_RDTSC)
			return tr_ident(c, in, row);
		static const uint8_t rdtscp[] = { 0x0f, 0x01, 0xf9 };
		struct hmem aux = hm_base(HR_VCPU, VCPU_TSC_AUX);
		return em_bytes(&c->e, rdtscp, sizeof(rdtscp)) && em_load32(&c->e, HR_RCX, &aux, false);
	}
	switch (row->rule) {
	case TR_COPY: case TR_INCDEC: case TR_STRING: case TR_NOREP:
		return tr_ident(c, in, row);
	case TR_PUSH: case TR_POP: case TR_PUSHA: case TR_POPA: case TR_ENTER:
	case TR_LEAVE: case TR_PUSHF: case TR_POPF:
		return tr_stack(c, in, row);
	case TR_JMP: case TR_JCC: case TR_CALL: case TR_RET: case TR_LOOP: case TR_JCXZ:
		return tr_branch(c, in, row);
	default:
		return tr_system(c, in, row);
	}
}

struct tcache_unit *translator_translate(struct translator *t, uint32_t eip, uint32_t mode)
{
	struct tcache *tc = t->tc;
	size_t need = (size_t)t->max_insns * TRANSLATOR_MAX_INSN_BYTES + TRANSLATOR_UNIT_SLACK;
	if (!tcache_has_room(tc, need))
		return NULL;
	static __thread struct tctx ctx;	/* large; one translation at a time per thread */
	struct tctx *c = &ctx;
	struct tcache_unit *u = tcache_alloc(tc, sizeof(*u));
	if (!u)
		return NULL;
	memset(c, 0, offsetof(struct tctx, pcmap));
	c->npcmap = 0;
	c->t = t;
	c->u = u;
	c->mode = mode;
	c->e = (struct emitter){ .w = tc->w + tc->used, .x = tcache_xaddr(tc, tc->used),
				 .cap = need };
	memset(u, 0, sizeof(*u));
	u->eip = eip;
	u->mode = mode;

	/* Guest code up to the end of the page, plus what an instruction that
	 * straddles into the next page needs. */
	uint8_t code[PAGE_SIZE + ZYDIS_MAX_INSTRUCTION_LENGTH];
	uint32_t page_end = (eip & ~(PAGE_SIZE - 1)) + PAGE_SIZE;
	size_t want = (size_t)(page_end - eip) + ZYDIS_MAX_INSTRUCTION_LENGTH;
	if (page_end == 0)	/* the last page of the 4 GiB space */
		want = (size_t)(0u - eip);
	size_t have = t->fetch(t->fetch_ctx, eip, code, want);

	size_t req_end = 0;
	if (!unit_start(c, &req_end))
		return NULL;
	u->body_off = (uint32_t)c->e.pos;
	uint32_t off = 0;
	for (uint32_t n = 0; !c->ended; n++) {
		uint32_t cur = eip + off;
		uint32_t cap = (mode & TMODE_SINGLE) ? 1 : t->max_insns;
		if (n == cap || (n > 0 && ((cur ^ eip) & ~(PAGE_SIZE - 1)))) {
			/* Size cap or page boundary: continue in the next unit. */
			c->eip = cur;
			if (!tctx_exit_direct(c, cur))
				return NULL;
			break;
		}
		struct translator_insn in;
		c->eip = cur;
		int r = off < have ? translator_decode(code + off, have - off, cur, &in) : -EAGAIN;
		tctx_mark(c, TCACHE_FIXUP_NONE, 0);
		if (r < 0) {
			/* Undecodable, too long, or not fetchable to its end: the
			 * fault here if it is the first instruction, else end the
			 * unit so the fault is raised with precise state. */
			if (n > 0) {
				c->npcmap--;
				if (!tctx_exit_direct(c, cur))
					return NULL;
				break;
			}
			enum translator_callout_kind kind = r == -E2BIG ? CO_TOOLONG
							  : r == -EAGAIN ? CO_FETCHPF : CO_NONE;
			if (!tr_undecodable(c, kind, cur, code + off, off < have ? have - off : 0))
				return NULL;
			break;
		}
		c->next_eip = cur + in.zi.length;
		if (!translate_insn(c, &in))
			return NULL;
		off += in.zi.length;
		u->ninsns++;
	}
	struct tcache_link *links = c->nexits ? tcache_alloc(tc, sizeof(*links) * c->nexits) : NULL;
	if ((c->nexits && !links) || !unit_stop(c, req_end, links) || c->e.full)
		return NULL;
	u->guest_len = off;
	u->links = links;
	u->nlinks = (uint32_t)c->nexits;
	u->pcmap = tcache_alloc(tc, sizeof(*u->pcmap) * (c->npcmap ? c->npcmap : 1));
	if (!u->pcmap)
		return NULL;
	memcpy(u->pcmap, c->pcmap, sizeof(*u->pcmap) * c->npcmap);
	u->npcmap = c->npcmap;
	tcache_commit(tc, u, c->e.pos);
	return u;
}

size_t translator_emit_runtime_stubs(struct tcache *tc)
{
	/* The IBL miss stub: empty table entries point here. */
	struct emitter e = { .w = tc->w, .x = tcache_xaddr(tc, 0), .cap = 64 };
	struct hmem miss = hm_base(HR_VCPU, VCPU_ENT_IBL);
	em_jmp_mem(&e, &miss);
	tc->ibl_miss_stub = tcache_xaddr(tc, 0);
	return (e.pos + 63) & ~(size_t)63;
}
