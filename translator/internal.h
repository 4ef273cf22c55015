/* translator/internal.h: the emitter and the per-unit translation context. */
#ifndef BT_TRANSLATOR_INTERNAL_H
#define BT_TRANSLATOR_INTERNAL_H

#include "translator/translator.h"

/* Host register numbers; guest EAX..EDI live in host 0..7 (ESP in RSP). */
enum { HR_RAX, HR_RCX, HR_RDX, HR_RBX, HR_RSP, HR_RBP, HR_RSI, HR_RDI,
       HR_R8, HR_R9, HR_R10, HR_R11, HR_R12, HR_R13, HR_R14, HR_R15 };

/*
 * Scratch register conventions inside translated code:
 *   r15  the vCPU                     r14  branch target / saved rsp / callout arg
 *   r13  loaded value, IBL index      r12  segment base, IBL entry, spill, resume rip
 *   r11  computed linear address, saved rcx around jrcxz
 */
#define HR_VCPU HR_R15

/* The emitter writes through the cache's writable alias at w and computes
 * branch displacements against the executable alias at x.  Every function
 * returns false once the buffer is full; the unit is then abandoned. */
struct emitter {
	uint8_t *w;
	uint64_t x;
	size_t pos, cap;
	bool full;
};

/* A host memory operand: base/index are host registers or -1. */
struct hmem {
	int base, index, scale;
	int32_t disp;
};

static inline struct hmem hm_base(int base, int32_t disp)
{
	return (struct hmem){ .base = base, .index = -1, .scale = 1, .disp = disp };
}

bool em_u8(struct emitter *e, uint8_t b);
bool em_u16(struct emitter *e, uint16_t v);
bool em_u32(struct emitter *e, uint32_t v);
bool em_u64(struct emitter *e, uint64_t v);
bool em_bytes(struct emitter *e, const uint8_t *p, size_t n);
static inline uint64_t em_xpos(const struct emitter *e) { return e->x + e->pos; }

/*
 * One instruction with a ModRM memory operand:
 *   [legacy prefixes] [0x67 if a32] [REX] opcode ModRM [SIB] [disp]
 * `reg` is the ModRM reg field (a register number or an opcode extension,
 * 0..15).  `a32` gives 32-bit address arithmetic, wrapping at 4 GiB.
 * `rex_forbidden` is set for instructions that name AH/CH/DH/BH, which a
 * REX prefix would turn into SPL/BPL/SIL/DIL; returns false if one is needed.
 */
bool em_mem(struct emitter *e, const uint8_t *pfx, int npfx, bool a32, bool w,
	    const uint8_t *opc, int nopc, int reg, const struct hmem *m);
/* One instruction with a register-direct ModRM (mod = 11). */
bool em_rr(struct emitter *e, const uint8_t *pfx, int npfx, bool w,
	   const uint8_t *opc, int nopc, int reg, int rm);

/* Common forms used by the rewrites. */
bool em_load32(struct emitter *e, int dst, const struct hmem *m, bool a32);	/* mov r32, [m] */
bool em_store32(struct emitter *e, const struct hmem *m, int src, bool a32);	/* mov [m], r32 */
bool em_load64(struct emitter *e, int dst, const struct hmem *m);		/* mov r64, [m] */
bool em_store64(struct emitter *e, const struct hmem *m, int src);		/* mov [m], r64 */
bool em_lea32(struct emitter *e, int dst, const struct hmem *m, bool a32);	/* lea r32, [m] */
bool em_lea64(struct emitter *e, int dst, const struct hmem *m);		/* lea r64, [m] */
bool em_mov32_rr(struct emitter *e, int dst, int src);
bool em_mov64_rr(struct emitter *e, int dst, int src);
bool em_mov32_ri(struct emitter *e, int dst, uint32_t imm);
bool em_mov64_ri(struct emitter *e, int dst, uint64_t imm);
bool em_store8_i(struct emitter *e, const struct hmem *m, uint8_t imm);	/* mov byte [m], imm8 */
bool em_store32_i(struct emitter *e, const struct hmem *m, uint32_t imm, bool a32);
bool em_jmp_mem(struct emitter *e, const struct hmem *m);			/* jmp qword [m] */
bool em_jmp_rel32(struct emitter *e, uint64_t target);
bool em_jcc_rel32(struct emitter *e, int cc, uint64_t target);
/* Pads with NOPs so that the rel32 of an instruction whose rel32 starts
 * `opc_len` bytes from here is 4-byte aligned (atomically patchable). */
bool em_align_rel32(struct emitter *e, int opc_len);
/* Sets the rel32 ending at buffer offset `end` (the instruction's end) to target. */
void em_fix_rel32(struct emitter *e, size_t end, uint64_t target);

/* ---- translation of one unit (translate.c and the rule files) ---- */

#define TCTX_MAX_LINKS 4
#define TCTX_MAX_PCMAP 1100

struct tctx {
	struct translator *t;
	struct emitter e;
	struct tcache_unit *u;
	uint32_t mode;
	uint32_t eip, next_eip;	/* of the instruction being translated */
	bool ended;
	/* Direct exits: rel32 end offsets to point at their stubs later. */
	struct {
		size_t rel_end;
		uint32_t target;
		bool check;
	} exits[TCTX_MAX_LINKS];
	int nexits;
	struct tcache_pcmap pcmap[TCTX_MAX_PCMAP];
	uint32_t npcmap;
	/* The instruction being emitted accesses memory through the physmap
	 * pointer in vcpu->redirect_ptr (TMODE_REDIRECT, adaptive sites). */
	bool redirect;
};

/* Records that host code from here on belongs to the current guest insn,
 * with a fault fixup. */
void tctx_mark(struct tctx *c, uint8_t fixup, uint8_t reg);
/* Leaves translated code for the dispatcher with an exit reason (EXIT_*)
 * and guest eip `target` as its argument (does not end the unit). */
bool tctx_leave(struct tctx *c, int reason, uint32_t target);
/* Ends the unit with a chainable direct exit to guest eip `target`. */
bool tctx_exit_direct(struct tctx *c, uint32_t target);
/* Same, but the target is entered through its exit-request check. */
bool tctx_exit_checked(struct tctx *c, uint32_t target);
/* Ends the unit with a conditional pair of exits (jcc cc -> taken, else fall). */
bool tctx_exit_jcc(struct tctx *c, int cc, uint32_t taken, uint32_t fall);
/* Ends the unit: jumps to the guest EIP in r14d through the inline lookup. */
bool tctx_exit_indirect(struct tctx *c);
/* Emits a callout to the monitor for `in`; execution resumes after it. */
bool tctx_callout(struct tctx *c, enum translator_callout_kind kind,
		  const struct translator_insn *in);

/* Rules (ident.c, stack.c, branch.c, system.c). */
bool tr_ident(struct tctx *c, const struct translator_insn *in, const struct translator_row *row);
bool tr_stack(struct tctx *c, const struct translator_insn *in, const struct translator_row *row);
bool tr_branch(struct tctx *c, const struct translator_insn *in, const struct translator_row *row);
bool tr_system(struct tctx *c, const struct translator_insn *in, const struct translator_row *row);

/* Checks the offset in r11d against segment s's limit for a `size`-byte
 * access (TMODE_SEGLIMIT); a violation calls the monitor (CO_LIMIT). */
bool emit_limit_check(struct tctx *c, const struct translator_insn *in, int s, uint32_t size);
/* The explicit memory operand of in, or NULL. */
const ZydisDecodedOperand *insn_mem_operand(const struct translator_insn *in);
/* Host register number of a 32/16/8-bit guest GPR (AH..BH -> 0..3), or -1. */
int insn_gpr(ZydisRegister r);
/*
 * Emits `in`'s memory operand access: either directly (flat segment) or
 * through r11 = linear address.  opc/reg replace the instruction's own
 * opcode and ModRM reg (pass the instruction's for a copy).  disp_adj is
 * added to the displacement (POP [ESP+x] addresses after the increment).
 */
bool emit_guest_mem(struct tctx *c, const struct translator_insn *in,
		    const ZydisDecodedOperand *mop, const uint8_t *pfx, int npfx,
		    const uint8_t *opc, int nopc, int reg, int32_t disp_adj,
		    const uint8_t *tail, int ntail);

#endif
