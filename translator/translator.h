/* translator/: decoding guest code, classifying instructions, emitting host code. */
#ifndef BT_TRANSLATOR_H
#define BT_TRANSLATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <Zydis/Zydis.h>

#include "tcache/tcache.h"

/* ---- decoder (translator/decode.c) ---- */

struct translator_insn {
	ZydisDecodedInstruction zi;
	ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
	uint32_t eip;
	uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
};

/* Decodes one 32-bit protected-mode instruction.  Returns 0, -EINVAL when the
 * bytes are not a valid instruction (#UD), -E2BIG when it is longer than 15
 * bytes (#GP(0)), -EAGAIN when more than `len` bytes would be needed. */
int translator_decode(const uint8_t *code, size_t len, uint32_t eip,
		      struct translator_insn *out);

/* Segment register index (S_ES..S_GS, monitor.h order) of a Zydis segment
 * register; ZYDIS_REGISTER_NONE (the default segment) gives S_DS. */
int translator_seg_index(ZydisRegister r);

/* ---- instruction classes (translator/classify.c) ---- */

/* What the translator does with an instruction: the four classes of a
 * VMware-style translator.  IDENT copies (re-encoded for 64-bit mode);
 * INLINE rewrites into an inline host sequence; CALLOUT calls into the
 * monitor and continues; END ends the unit (control transfer or a callout
 * after which the monitor decides where to go). */
enum translator_class { TC_IDENT, TC_INLINE, TC_CALLOUT, TC_END };

/* How an instruction is translated (one per row). */
enum translator_rule {
	TR_COPY,	/* IDENT: same instruction, memory operands re-encoded */
	TR_INCDEC,	/* IDENT: one-byte inc/dec (REX in 64-bit mode) re-encoded */
	TR_STRING,	/* IDENT: string instruction, 32-bit addressing */
	TR_NOREP,	/* IDENT: copied without its F3 prefix */
	TR_PUSH, TR_POP, TR_PUSHA, TR_POPA, TR_ENTER, TR_LEAVE,
	TR_PUSHF, TR_POPF, TR_CLI, TR_STI,
	TR_JMP, TR_JCC, TR_CALL, TR_RET, TR_LOOP, TR_JCXZ,
	TR_CALLOUT,	/* monitor callout, then continue */
	TR_CALLOUT_END,	/* monitor callout, then end the unit */
	TR_UD,		/* raise #UD, as the guest CPU would */
};

/* Monitor callouts; the monitor implements one handler per kind. */
enum translator_callout_kind {
	CO_NONE,
	CO_IO,		/* IN, OUT */
	CO_STRIO,	/* INS, OUTS (with REP) */
	CO_CPUID,
	CO_RDTSC,
	CO_RDMSR, CO_WRMSR,
	CO_MOVCR,	/* MOV to/from CR0/2/3/4 */
	CO_MOVDR,
	CO_DTR,		/* LGDT LIDT SGDT SIDT */
	CO_SEGLOAD,	/* MOV/POP to a segment register, LDS..LSS */
	CO_SEGREAD,	/* MOV from, PUSH of a segment register */
	CO_SYSDESC,	/* LLDT LTR SLDT STR LAR LSL VERR VERW ARPL */
	CO_FARJMP, CO_FARCALL, CO_FARRET, CO_IRET,
	CO_INT,		/* INT n, INT3, INTO, INT1 */
	CO_HLT,
	CO_CACHE,	/* INVD WBINVD INVLPG CLTS LMSW SMSW */
	CO_BCDADJ,	/* DAA DAS AAA AAS AAM AAD: invalid in 64-bit mode */
	CO_BOUND,
	CO_SYSCALLS,	/* SYSENTER SYSEXIT */
	CO_FPU,		/* x87/MMX/SSE: not virtualized yet */
	CO_IFLAGS,	/* CLI STI POPF at CPL > 0 (IOPL-sensitive) */
	CO_LIMIT,	/* a segment limit check failed: #GP(0) or #SS(0) */
	CO_STACK,	/* stack instruction with a non-flat SS, emulated */
	CO_STRING,	/* MOVS..SCAS, XLAT through a non-flat segment, emulated */
	CO_REDIRECT,	/* resolve a redirected operand to a physmap pointer */
	CO_REDIRECT_DONE, /* ... and report the write it made */
	CO_TOOLONG,	/* an instruction longer than 15 bytes: #GP(0) */
	CO_FETCHPF,	/* an instruction running into a page it cannot fetch: #PF */
	CO_UNSUPPORTED,	/* valid, but bt does not virtualize it yet */
	CO_NKINDS
};

struct translator_row {
	const char *name;
	enum translator_class cls;
	enum translator_rule rule;
	enum translator_callout_kind callout;
	const ZydisMnemonic *mnemonics;	/* terminated by ZYDIS_MNEMONIC_INVALID */
	const char *sample;	/* hex bytes of one member, for the unit tests */
};

extern const struct translator_row translator_rows[];
extern const size_t translator_nrows;

/* The row an instruction belongs to; never NULL (unknown -> the #UD row). */
const struct translator_row *translator_classify(const struct translator_insn *in);
const char *translator_class_name(enum translator_class c);
const char *translator_callout_name(enum translator_callout_kind k);

/*
 * A callout record, kept in the cache arena: what the monitor needs to
 * emulate the instruction with the guest registers saved in the vCPU.
 */
struct translator_callout {
	enum translator_callout_kind kind;
	uint32_t eip, next_eip;
	struct translator_insn in;
};

/* ---- the translator (translator/translate.c) ---- */

/* Mode bits that change how code is translated; part of the cache key. */
#define TMODE_SEGBASE(s) (1u << (s))	/* segment s (S_ES..S_GS) has a nonzero base */
#define TMODE_SEGBASE_ALL 0x3fu
#define TMODE_STATS      (1u << 8)	/* emit inline counters for --stats */
/* One instruction per unit, every exit back to the dispatcher (EXIT_STEP):
 * for TF single-stepping, debug breakpoints and interrupt shadows. */
#define TMODE_SINGLE     (1u << 9)
/* CPL is not 0: CLI, STI and POPF depend on IOPL and become callouts. */
#define TMODE_CPLNZ      (1u << 10)
/* Segment s (S_ES..S_GS) is not flat 4 GiB: accesses through it check the
 * bounds in vcpu seg_lo/seg_hi; stack instructions with such an SS (or one
 * with a base) are emulated by the monitor (CO_STACK). */
#define TMODE_SEGLIMIT(s) (1u << (11 + (s)))
/* Segment s may not be written (read-only data, code): every write through
 * it is #GP(0), raised through CO_LIMIT without touching memory. */
#define TMODE_SEGRO(s) (1u << (17 + (s)))
/* The (single) instruction's memory operand is redirected through the
 * physmap: a page-table write or a page the host cannot map. */
#define TMODE_REDIRECT   (1u << 23)
/* The guest TSC is not the host's (the guest wrote IA32_TSC): RDTSC is a
 * callout even at CPL 0, where otherwise it is copied. */
#define TMODE_TSC_OFFSET (1u << 24)
#define TMODE_SS_NONFLAT (TMODE_SEGBASE(S_SS_INDEX) | TMODE_SEGLIMIT(S_SS_INDEX))
#define S_SS_INDEX 2

/* Reads guest code at linear address eip; returns the number of bytes
 * readable (0 if eip itself is not). */
typedef size_t (*translator_fetch_fn)(void *ctx, uint32_t eip, uint8_t *buf, size_t len);

struct translator {
	struct tcache *tc;
	translator_fetch_fn fetch;
	void *fetch_ctx;
	/* Adaptive translation: true if the instruction at eip keeps faulting
	 * on a traced page and is to be emitted redirected (may be NULL). */
	bool (*adaptive)(void *ctx, uint32_t eip);
	void *adaptive_ctx;
	uint32_t max_insns;
	uint64_t callouts_by_kind[CO_NKINDS]; /* translated callout sites */
};

/* Translates the unit at eip; returns NULL if the cache is full (flush and
 * retry) — a unit that cannot be decoded still translates (into #UD). */
struct tcache_unit *translator_translate(struct translator *t, uint32_t eip, uint32_t mode);

/* Emits the runtime's shared stubs at the start of the cache (IBL miss).
 * Returns the end offset. */
size_t translator_emit_runtime_stubs(struct tcache *tc);

/* Worst-case bytes of host code for one guest instruction, and for a unit's
 * tail (exit stubs). */
#define TRANSLATOR_MAX_INSN_BYTES 160
#define TRANSLATOR_UNIT_SLACK 256

#endif
