/* translator/classify.c: the instruction-class table, the translator's security boundary. */
#include <pthread.h>

#include "translator/translator.h"

/*
 * Every guest instruction falls into exactly one row.  Only rows of class
 * IDENT are copied to the host, and only instructions named in them: a new
 * instruction is #UD until someone decides, here, how to run it.  That is the
 * right answer for any instruction of an extension the virtual CPUID does not
 * advertise, which is the only way the guest can meet one.
 */

#define M(x) ZYDIS_MNEMONIC_##x
#define LIST(...) ((const ZydisMnemonic[]){ __VA_ARGS__, ZYDIS_MNEMONIC_INVALID })

const struct translator_row translator_rows[] = {
	/* ---- IDENT: same semantics in 64-bit mode once memory operands carry
	 * a 0x67 prefix (32-bit address arithmetic, SDM vol. 1, 3.3.7) ---- */
	{ "alu", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(ADD), M(OR), M(ADC), M(SBB), M(AND), M(SUB), M(XOR), M(CMP), M(TEST),
	       M(NOT), M(NEG)), "01 98 78 56 34 12" },
	{ "muldiv", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(MUL), M(IMUL), M(DIV), M(IDIV)), "f7 34 24" },
	{ "mov", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(MOV), M(MOVZX), M(MOVSX), M(LEA), M(XCHG)), "a1 00 10 00 00" },
	{ "atomic", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(CMPXCHG), M(CMPXCHG8B), M(XADD)), "f0 0f b1 0b" },
	{ "bits", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(BT), M(BTS), M(BTR), M(BTC), M(BSF), M(BSR), M(BSWAP)), "0f ab 05 00 20 00 00" },
	{ "shift", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(SHL), M(SHR), M(SAR), M(ROL), M(ROR), M(RCL), M(RCR), M(SHLD), M(SHRD)),
	  "c1 64 24 04 03" },
	{ "convert", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(CBW), M(CWDE), M(CWD), M(CDQ)), "99" },
	{ "setcc", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(SETB), M(SETBE), M(SETL), M(SETLE), M(SETNB), M(SETNBE), M(SETNL),
	       M(SETNLE), M(SETNO), M(SETNP), M(SETNS), M(SETNZ), M(SETO), M(SETP),
	       M(SETS), M(SETZ)), "0f 94 c4" },
	{ "cmovcc", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(CMOVB), M(CMOVBE), M(CMOVL), M(CMOVLE), M(CMOVNB), M(CMOVNBE),
	       M(CMOVNL), M(CMOVNLE), M(CMOVNO), M(CMOVNP), M(CMOVNS), M(CMOVNZ),
	       M(CMOVO), M(CMOVP), M(CMOVS), M(CMOVZ)), "0f 44 05 00 30 00 00" },
	/* F3 0F BC/BD decode as TZCNT/LZCNT (BMI1/ABM), which the virtual CPU
	 * lacks: there the F3 is ignored and they are BSF/BSR, as GCC's
	 * `rep bsf` relies on.  Copied without the F3 so the host, which has
	 * BMI1, runs BSF/BSR too. */
	{ "repbsf", TC_IDENT, TR_NOREP, CO_NONE, LIST(M(TZCNT), M(LZCNT)), "f3 0f bc c1" },
	{ "flagops", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(CLC), M(STC), M(CMC), M(CLD), M(STD), M(LAHF), M(SAHF)), "fd" },
	/* ENDBR32/64 (F3 0F 1E FB/FA) sit in the 0F 1E reserved-NOP space: a
	 * CPU without CET, like the virtual one, runs them as NOPs (Debian's
	 * libgcc is built with them). */
	{ "nop", TC_IDENT, TR_COPY, CO_NONE, LIST(M(NOP), M(PAUSE), M(ENDBR32), M(ENDBR64)),
	  "f3 90" },
	/* One-byte INC/DEC (0x40-0x4f) are REX prefixes in 64-bit mode. */
	{ "incdec", TC_IDENT, TR_INCDEC, CO_NONE, LIST(M(INC), M(DEC)), "43" },
	/* String instructions use ESI/EDI/ECX under a 0x67 prefix. */
	{ "string", TC_IDENT, TR_STRING, CO_NONE,
	  LIST(M(MOVSB), M(MOVSW), M(MOVSD), M(STOSB), M(STOSW), M(STOSD), M(LODSB),
	       M(LODSW), M(LODSD), M(CMPSB), M(CMPSW), M(CMPSD), M(SCASB), M(SCASW),
	       M(SCASD), M(XLAT)), "f3 a5" },

	/* ---- INLINE rewrites: the stack is the guest's ESP, 4 bytes a slot ---- */
	{ "push", TC_INLINE, TR_PUSH, CO_NONE, LIST(M(PUSH)), "53" },
	{ "pop", TC_INLINE, TR_POP, CO_NONE, LIST(M(POP)), "5b" },
	{ "pusha", TC_INLINE, TR_PUSHA, CO_NONE, LIST(M(PUSHAD), M(PUSHA)), "60" },
	{ "popa", TC_INLINE, TR_POPA, CO_NONE, LIST(M(POPAD), M(POPA)), "61" },
	{ "enter", TC_INLINE, TR_ENTER, CO_NONE, LIST(M(ENTER)), "c8 10 00 00" },
	{ "leave", TC_INLINE, TR_LEAVE, CO_NONE, LIST(M(LEAVE)), "c9" },
	/* EFLAGS: arithmetic flags from the host, IF/IOPL/TF/AC... virtual. */
	{ "pushf", TC_INLINE, TR_PUSHF, CO_NONE, LIST(M(PUSHFD), M(PUSHF)), "9c" },
	{ "popf", TC_END, TR_POPF, CO_NONE, LIST(M(POPFD), M(POPF)), "9d" },
	{ "cli", TC_INLINE, TR_CLI, CO_NONE, LIST(M(CLI)), "fa" },
	{ "sti", TC_END, TR_STI, CO_NONE, LIST(M(STI)), "fb" },

	/* ---- END: near control transfers, chained or looked up inline ---- */
	{ "jmp", TC_END, TR_JMP, CO_NONE, LIST(M(JMP)), "eb fe" },
	{ "jcc", TC_END, TR_JCC, CO_NONE,
	  LIST(M(JB), M(JBE), M(JL), M(JLE), M(JNB), M(JNBE), M(JNL), M(JNLE), M(JNO),
	       M(JNP), M(JNS), M(JNZ), M(JO), M(JP), M(JS), M(JZ)), "74 10" },
	{ "call", TC_END, TR_CALL, CO_NONE, LIST(M(CALL)), "e8 00 01 00 00" },
	{ "ret", TC_END, TR_RET, CO_NONE, LIST(M(RET)), "c3" },
	{ "loop", TC_END, TR_LOOP, CO_NONE, LIST(M(LOOP), M(LOOPE), M(LOOPNE)), "e2 fe" },
	{ "jcxz", TC_END, TR_JCXZ, CO_NONE, LIST(M(JECXZ), M(JCXZ)), "e3 10" },

	/* ---- CALLOUT: sensitive or privileged, emulated by the monitor ---- */
	{ "io", TC_CALLOUT, TR_CALLOUT, CO_IO, LIST(M(IN), M(OUT)), "ee" },
	{ "strio", TC_CALLOUT, TR_CALLOUT, CO_STRIO,
	  LIST(M(INSB), M(INSW), M(INSD), M(OUTSB), M(OUTSW), M(OUTSD)), "f3 6e" },
	{ "cpuid", TC_CALLOUT, TR_CALLOUT, CO_CPUID, LIST(M(CPUID)), "0f a2" },
	{ "rdtsc", TC_CALLOUT, TR_CALLOUT, CO_RDTSC, LIST(M(RDTSC), M(RDTSCP)), "0f 31" },
	{ "msr", TC_CALLOUT, TR_CALLOUT, CO_RDMSR, LIST(M(RDMSR), M(WRMSR)), "0f 32" },
	{ "movcr", TC_END, TR_CALLOUT_END, CO_MOVCR, NULL, "0f 22 c0" },
	{ "movdr", TC_CALLOUT, TR_CALLOUT, CO_MOVDR, NULL, "0f 21 f8" },
	{ "dtr", TC_CALLOUT, TR_CALLOUT, CO_DTR,
	  LIST(M(LGDT), M(LIDT), M(SGDT), M(SIDT)), "0f 01 15 00 40 00 00" },
	{ "segload", TC_END, TR_CALLOUT_END, CO_SEGLOAD,
	  LIST(M(LDS), M(LES), M(LFS), M(LGS), M(LSS)), "8e d8" },
	{ "segread", TC_CALLOUT, TR_CALLOUT, CO_SEGREAD, NULL, "8c d8" },
	{ "sysdesc", TC_CALLOUT, TR_CALLOUT, CO_SYSDESC,
	  LIST(M(LLDT), M(LTR), M(SLDT), M(STR), M(LAR), M(LSL), M(VERR), M(VERW),
	       M(ARPL)), "0f 00 d8" },
	{ "farjmp", TC_END, TR_CALLOUT_END, CO_FARJMP, NULL, "ea 00 00 10 00 08 00" },
	{ "farcall", TC_END, TR_CALLOUT_END, CO_FARCALL, NULL, "9a 00 00 10 00 08 00" },
	{ "farret", TC_END, TR_CALLOUT_END, CO_FARRET, NULL, "cb" },
	{ "iret", TC_END, TR_CALLOUT_END, CO_IRET, LIST(M(IRETD), M(IRET)), "cf" },
	{ "int", TC_END, TR_CALLOUT_END, CO_INT, LIST(M(INT), M(INT3), M(INTO), M(INT1)), "cd 80" },
	{ "hlt", TC_END, TR_CALLOUT_END, CO_HLT, LIST(M(HLT)), "f4" },
	{ "cache", TC_END, TR_CALLOUT_END, CO_CACHE,
	  LIST(M(INVD), M(WBINVD), M(INVLPG), M(CLTS), M(LMSW), M(SMSW)), "0f 09" },
	/* Invalid in 64-bit mode, so never copyable; emulated. */
	{ "bcd", TC_CALLOUT, TR_CALLOUT, CO_BCDADJ,
	  LIST(M(DAA), M(DAS), M(AAA), M(AAS), M(AAM), M(AAD)), "27" },
	{ "bound", TC_END, TR_CALLOUT_END, CO_BOUND, LIST(M(BOUND)), "62 05 00 50 00 00" },
	{ "sysenter", TC_END, TR_CALLOUT_END, CO_SYSCALLS, LIST(M(SYSENTER), M(SYSEXIT)), "0f 34" },
	/* x87/MMX/SSE/SSE2 (the FPU state lives in the vCPU: monitor/fpu.c),
	 * but not the ones that leave it alone, which are copied. */
	{ "fpu", TC_CALLOUT, TR_CALLOUT, CO_FPU, NULL, "d9 e8" },
	{ "fence", TC_IDENT, TR_COPY, CO_NONE,
	  LIST(M(LFENCE), M(MFENCE), M(SFENCE), M(PREFETCHNTA), M(PREFETCHT0), M(PREFETCHT1),
	       M(PREFETCHT2), M(MOVNTI)), "0f ae e8" },
	{ "ud", TC_END, TR_UD, CO_NONE, LIST(M(UD0), M(UD1), M(UD2)), "0f 0b" },
};
const size_t translator_nrows = sizeof(translator_rows) / sizeof(translator_rows[0]);

static const struct translator_row *by_mnemonic[ZYDIS_MNEMONIC_MAX_VALUE + 1];
static const struct translator_row *row_ud, *row_movcr, *row_movdr, *row_segload,
	*row_segread, *row_farjmp, *row_farcall, *row_farret, *row_fpu, *row_fence;
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static const struct translator_row *row_named(const char *name)
{
	for (size_t i = 0; i < translator_nrows; i++)
		if (__builtin_strcmp(translator_rows[i].name, name) == 0)
			return &translator_rows[i];
	__builtin_trap();
}

static void table_init(void)
{
	for (size_t i = 0; i < translator_nrows; i++) {
		const ZydisMnemonic *m = translator_rows[i].mnemonics;
		for (; m && *m != ZYDIS_MNEMONIC_INVALID; m++)
			by_mnemonic[*m] = &translator_rows[i];
	}
	row_ud = row_named("ud");
	row_movcr = row_named("movcr");
	row_movdr = row_named("movdr");
	row_segload = row_named("segload");
	row_segread = row_named("segread");
	row_farjmp = row_named("farjmp");
	row_farcall = row_named("farcall");
	row_farret = row_named("farret");
	row_fpu = row_named("fpu");
	row_fence = row_named("fence");
}

/* The extensions the virtual CPU advertises that use the FPU state. */
static bool is_fpu_ext(ZydisISAExt x)
{
	switch (x) {
	case ZYDIS_ISA_EXT_X87: case ZYDIS_ISA_EXT_MMX: case ZYDIS_ISA_EXT_SSE:
	case ZYDIS_ISA_EXT_SSE2:
		return true;
	default:
		return false;
	}
}

const struct translator_row *translator_classify(const struct translator_insn *in)
{
	pthread_once(&table_once, table_init);
	const ZydisDecodedInstruction *zi = &in->zi;

	/* The same mnemonic means different things with system registers. */
	for (int i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->type != ZYDIS_OPERAND_TYPE_REGISTER ||
		    op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN)
			continue;
		switch (ZydisRegisterGetClass(op->reg.value)) {
		case ZYDIS_REGCLASS_CONTROL:
			return row_movcr;
		case ZYDIS_REGCLASS_DEBUG:
			return row_movdr;
		case ZYDIS_REGCLASS_SEGMENT:
			if (zi->mnemonic == ZYDIS_MNEMONIC_MOV || zi->mnemonic == ZYDIS_MNEMONIC_POP ||
			    zi->mnemonic == ZYDIS_MNEMONIC_PUSH)
				return (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
					       zi->mnemonic != ZYDIS_MNEMONIC_PUSH
					       ? row_segload : row_segread;
			break;
		case ZYDIS_REGCLASS_TEST:
			return row_ud;	/* MOV TRn: gone since the Pentium (#UD) */
		default:
			break;
		}
	}
	if (zi->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) {
		if (zi->mnemonic == ZYDIS_MNEMONIC_JMP)
			return row_farjmp;
		if (zi->mnemonic == ZYDIS_MNEMONIC_CALL)
			return row_farcall;
		if (zi->mnemonic == ZYDIS_MNEMONIC_RET)
			return row_farret;
	}
	if (is_fpu_ext(zi->meta.isa_ext)) {
		return by_mnemonic[zi->mnemonic] == row_fence ? row_fence : row_fpu;
	}
	if (zi->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY &&
	    zi->encoding != ZYDIS_INSTRUCTION_ENCODING_3DNOW)
		return row_ud;	/* VEX/EVEX/XOP: no AVX advertised */
	const struct translator_row *r = by_mnemonic[zi->mnemonic];
	/* SSE3 and later: not advertised, so #UD is what the guest CPU would
	 * raise (MOVSD/CMPSD of SSE2 went to the FPU row above by extension,
	 * not to the string row their mnemonic shares). */
	if (zi->meta.isa_ext == ZYDIS_ISA_EXT_SSE3 ||
	    zi->meta.isa_ext == ZYDIS_ISA_EXT_SSSE3 || zi->meta.isa_ext == ZYDIS_ISA_EXT_SSE4)
		return row_ud;
	return r ? r : row_ud;
}

const char *translator_class_name(enum translator_class c)
{
	static const char *const n[] = { "ident", "inline", "callout", "end" };
	return n[c];
}

const char *translator_callout_name(enum translator_callout_kind k)
{
	static const char *const n[CO_NKINDS] = {
		[CO_NONE] = "none", [CO_IO] = "in/out", [CO_STRIO] = "ins/outs",
		[CO_CPUID] = "cpuid", [CO_RDTSC] = "rdtsc", [CO_RDMSR] = "rdmsr/wrmsr",
		[CO_WRMSR] = "wrmsr", [CO_MOVCR] = "mov crN", [CO_MOVDR] = "mov drN",
		[CO_DTR] = "lgdt/lidt/sgdt/sidt", [CO_SEGLOAD] = "segment load",
		[CO_SEGREAD] = "segment read", [CO_SYSDESC] = "lldt/ltr/lar/lsl/verr/verw",
		[CO_FARJMP] = "far jmp", [CO_FARCALL] = "far call", [CO_FARRET] = "far ret",
		[CO_IRET] = "iret", [CO_INT] = "int n", [CO_HLT] = "hlt",
		[CO_CACHE] = "invlpg/wbinvd/clts/lmsw/smsw", [CO_BCDADJ] = "daa/das/aaa/aas/aam/aad",
		[CO_BOUND] = "bound", [CO_SYSCALLS] = "sysenter/sysexit", [CO_FPU] = "x87/sse",
		[CO_IFLAGS] = "cli/sti/popf at cpl>0", [CO_LIMIT] = "segment limit fault",
		[CO_STACK] = "stack op, non-flat ss", [CO_STRING] = "string op, non-flat segment",
		[CO_REDIRECT] = "redirected access", [CO_REDIRECT_DONE] = "redirected access done",
		[CO_TOOLONG] = "instruction too long", [CO_FETCHPF] = "instruction fetch fault",
		[CO_UNSUPPORTED] = "unsupported",
	};
	return k < CO_NKINDS && n[k] ? n[k] : "?";
}
