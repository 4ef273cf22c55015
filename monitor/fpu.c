/*
 * monitor/fpu.c: the guest's x87/MMX/SSE state, and the FPU instructions
 * of translated (ring-0) code.
 *
 * The state is one FXSAVE image in the vCPU (SDM vol. 1, 10.5.1, the
 * 32-bit layout).  It never lives in the monitor's own FPU registers: a
 * kernel FPU instruction is a callout that loads the image into the host
 * FPU, runs the instruction natively (re-encoded so that its memory
 * operand is a bounce buffer and its general register EAX), stores the
 * image back and restores the monitor's FPU state (monitor/fpuexec.S).
 * Ring-3 code runs with the image loaded into its stub (runtime/user.c
 * moves it only when it changed), so the state follows the guest between
 * address spaces exactly as the guest kernel's FXSAVE/FXRSTOR move it.
 *
 * What the monitor emulates around the native instruction:
 *   - #NM and #UD from CR0.EM/TS/MP and CR4.OSFXSR (SDM vol. 3, 2.5 and
 *     Table 2-2; vol. 1, 13.1 / 11.6.2);
 *   - #MF for a waiting x87 or MMX instruction with an unmasked x87
 *     exception pending (FSW.ES), before it runs (SDM vol. 1, 8.6-8.7);
 *   - #XM (or #UD without CR4.OSXMMEXCPT) for unmasked SIMD exceptions:
 *     the instruction runs with every SIMD exception masked and the
 *     result is kept only if none of the raised ones is unmasked; if one
 *     is, the flags are set as an unmasked run would have set them (SDM
 *     vol. 1, 11.5.1-11.5.3);
 *   - #GP(0) for misaligned 16-byte operands of aligned SSE forms and of
 *     FXSAVE/FXRSTOR, and for reserved MXCSR bits in LDMXCSR/FXRSTOR;
 *   - segment checks and #PF for the memory operand, before anything
 *     changes (stores are probed first);
 *   - EFLAGS: the status flags go in and come back, for the instructions
 *     that read them (FCMOVcc) or write them (FCOMI, FUCOMI, COMISS,
 *     UCOMISS and their variants);
 *   - the x87 instruction and data pointers and the opcode (SDM vol. 1,
 *     8.1.8-8.1.9): the host's are the monitor's addresses, and some
 *     hosts store them only with an exception pending, so they are kept
 *     in the image by the monitor and patched into what FXSAVE/FNSAVE/
 *     FNSTENV store.
 * With CR0.NE=0 a real PC would signal FERR# to the PIC (IRQ 13); bt
 * raises #MF either way, which every protected-mode OS of interest asks
 * for by setting NE.
 *
 * XXX: ring-3 code runs natively, where nothing can make its FPU
 * instructions fault: CR0.TS and CR0.EM (#NM) and CR4.OSFXSR (#UD for
 * SSE) are not enforced there.  A kernel that switches the FPU state
 * lazily (CR0.TS at a switch, the state restored at the #NM of the first
 * FPU instruction: Linux on i386 by default before 4.6) runs a process on
 * the previous one's state.  And what ring-3 FXSAVE/FNSTENV/FNSAVE store
 * has the host's FCS and FDS (0), not the guest's.
 */
#include <errno.h>
#include <stdalign.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "monitor/internal.h"

/* FXSAVE image offsets (SDM vol. 1, Table 10-2, 32-bit form). */
enum { FX_FCW = 0, FX_FSW = 2, FX_FTW = 4, FX_FOP = 6, FX_FIP = 8, FX_FCS = 12, FX_FDP = 16,
       FX_FDS = 20, FX_MXCSR = 24, FX_MXCSR_MASK = 28 };

#define FSW_ES 0x0080u
/* The status flags (CF PF AF ZF SF OF) an FPU instruction may read or write. */
#define EFL_STATUS (EFL_CF | EFL_PF | EFL_AF | EFL_ZF | EFL_SF | EFL_OF)
#define MXCSR_FLAGS 0x003fu
#define MXCSR_MASKS 0x1f80u
#define MXCSR_PRE 0x0007u	/* IE DE ZE: detected before the computation */

void monitor_fpu_run(uint8_t *image, void *mem, uint64_t io[2], const void *snippet,
		     uint8_t *host_save);

static uint32_t mxcsr_mask;		/* the MXCSR bits the guest may set */
static uint8_t *snip_w, *snip_x;	/* one page, mapped writable and executable */

static uint16_t get16(const uint8_t *p) { uint16_t x; memcpy(&x, p, 2); return x; }
static uint32_t get32(const uint8_t *p) { uint32_t x; memcpy(&x, p, 4); return x; }
static void put16(uint8_t *p, uint16_t x) { memcpy(p, &x, 2); }
static void put32(uint8_t *p, uint32_t x) { memcpy(p, &x, 4); }

/*
 * The host's MXCSR_MASK, as a freshly FXSAVEd image reports it (0 means
 * the default 0xFFBF: SDM vol. 1, 11.6.6).  The guest sees an Intel CPU,
 * so only bits 0-15 are offered (not AMD's misaligned-SSE mode, bit 17).
 */
static int fpu_init_once(void)
{
	if (snip_x)
		return 0;
	alignas(16) uint8_t img[512];
	__asm__ volatile("fxsave %0" : "=m"(img));
	uint32_t m = get32(img + FX_MXCSR_MASK);
	mxcsr_mask = (m ? m : 0xffbfu) & 0xffffu;

	int fd = memfd_create("bt-fpu-snippet", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, 4096) < 0) {
		close(fd);
		return -errno;
	}
	void *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	void *x = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	close(fd);
	if (w == MAP_FAILED || x == MAP_FAILED)
		return -ENOMEM;
	snip_w = w;
	snip_x = x;
	return 0;
}

/* The state after RESET (SDM vol. 3, Table 9-1): FCW 0040H, every tag
 * "zero" (so all registers valid in the abridged tag word), MXCSR 1F80H. */
void monitor_fpu_reset(struct vcpu *v)
{
	if (fpu_init_once() < 0)
		mxcsr_mask = 0xffbfu;
	memset(v->fpu, 0, sizeof(v->fpu));
	put16(v->fpu + FX_FCW, 0x0040);
	v->fpu[FX_FTW] = 0xff;
	put32(v->fpu + FX_MXCSR, 0x1f80);
	put32(v->fpu + FX_MXCSR_MASK, mxcsr_mask);
	v->fpu_gen = 1;
}

void monitor_fpu_ensure(struct vcpu *v)
{
	if (v->fpu_gen == 0)
		monitor_fpu_reset(v);
}

void monitor_fpu_changed(struct vcpu *v)
{
	/* An image that came from a stub is untrusted (an escaped guest can
	 * write the control page): reserved MXCSR bits would make the next
	 * FXRSTOR in the monitor #GP. */
	put32(v->fpu + FX_MXCSR, get32(v->fpu + FX_MXCSR) & mxcsr_mask);
	put32(v->fpu + FX_MXCSR_MASK, mxcsr_mask);
	v->fpu_gen++;
}

/* ---- classification ---- */

static bool has_mmx_operand(const struct translator_insn *in)
{
	for (int i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
		    ZydisRegisterGetClass(in->ops[i].reg.value) == ZYDIS_REGCLASS_MMX)
			return true;
	return false;
}

/* x87 instructions that do not wait for a pending unmasked exception
 * (SDM vol. 1, 8.3.12), and FXSAVE/FXRSTOR, which do not either. */
static bool nonwaiting(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_FNINIT: case ZYDIS_MNEMONIC_FNCLEX: case ZYDIS_MNEMONIC_FNSTSW:
	case ZYDIS_MNEMONIC_FNSTCW: case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FNSAVE:
	case ZYDIS_MNEMONIC_FXSAVE: case ZYDIS_MNEMONIC_FXRSTOR:
		return true;
	default:
		return false;
	}
}

/* x87 control instructions leave the instruction and data pointers and the
 * opcode alone (SDM vol. 1, 8.1.8-8.1.9). */
static bool x87_control(ZydisMnemonic m)
{
	switch (m) {
	case ZYDIS_MNEMONIC_FNINIT: case ZYDIS_MNEMONIC_FLDCW: case ZYDIS_MNEMONIC_FNSTCW:
	case ZYDIS_MNEMONIC_FNSTSW: case ZYDIS_MNEMONIC_FNCLEX: case ZYDIS_MNEMONIC_FLDENV:
	case ZYDIS_MNEMONIC_FNSTENV: case ZYDIS_MNEMONIC_FRSTOR: case ZYDIS_MNEMONIC_FNSAVE:
	case ZYDIS_MNEMONIC_FINCSTP: case ZYDIS_MNEMONIC_FDECSTP: case ZYDIS_MNEMONIC_FFREE:
	case ZYDIS_MNEMONIC_FNOP: case ZYDIS_MNEMONIC_FWAIT:
		return true;
	default:
		return false;
	}
}

/* Legacy SSE forms with a 16-byte memory operand must be 16-byte aligned,
 * except the explicitly unaligned moves (SDM vol. 1, 11.4.1, 12.2.1). */
static bool needs_align16(const struct translator_insn *in, const ZydisDecodedOperand *mem)
{
	switch (in->zi.mnemonic) {
	case ZYDIS_MNEMONIC_FXSAVE: case ZYDIS_MNEMONIC_FXRSTOR:
		return true;
	case ZYDIS_MNEMONIC_MOVUPS: case ZYDIS_MNEMONIC_MOVUPD: case ZYDIS_MNEMONIC_MOVDQU:
	case ZYDIS_MNEMONIC_LDDQU: case ZYDIS_MNEMONIC_MASKMOVDQU:
		return false;
	default:
		return mem->size == 128;
	}
}

/* The exception CR0/CR4 make the instruction raise before anything else,
 * or -1 (SDM vol. 3, 2.5 Table 2-2; vol. 2, the instructions' pages). */
static int availability_fault(const struct vcpu *v, const struct translator_insn *in)
{
	ZydisMnemonic m = in->zi.mnemonic;
	ZydisISAExt ext = in->zi.meta.isa_ext;
	bool em = v->cr0 & CR0_EM, ts = v->cr0 & CR0_TS;
	if (m == ZYDIS_MNEMONIC_FWAIT)
		return ts && (v->cr0 & CR0_MP) ? VEC_NM : -1;
	if (ext == ZYDIS_ISA_EXT_X87 || m == ZYDIS_MNEMONIC_FXSAVE || m == ZYDIS_MNEMONIC_FXRSTOR)
		return em || ts ? VEC_NM : -1;
	if (ext == ZYDIS_ISA_EXT_MMX)
		return em ? VEC_UD : ts ? VEC_NM : -1;
	/* SSE and SSE2, including the ones on MMX registers. */
	if (em || !(v->cr4 & CR4_OSFXSR))
		return VEC_UD;
	return ts ? VEC_NM : -1;
}

/* ---- the x87 pointers, kept by the monitor ---- */

struct x87_ptrs {
	uint32_t fip, fdp;
	uint16_t fcs, fds, fop;
};

static struct x87_ptrs fx_ptrs(const uint8_t *img)
{
	return (struct x87_ptrs){ get32(img + FX_FIP), get32(img + FX_FDP), get16(img + FX_FCS),
				  get16(img + FX_FDS), get16(img + FX_FOP) & 0x7ff };
}

static void fx_put_ptrs(uint8_t *img, const struct x87_ptrs *p)
{
	put32(img + FX_FIP, p->fip);
	put16(img + FX_FCS, p->fcs);
	put32(img + FX_FDP, p->fdp);
	put16(img + FX_FDS, p->fds);
	put16(img + FX_FOP, p->fop);
}

/*
 * The image a stub stored after ring-3 code ran.  Its FCS and FDS are the
 * host's: the stub's LDT aliases (monitor/user.c) or, as soon as the host
 * kernel saved the state in its 64-bit form (every signal does), 0.  If
 * the code ran a non-control x87 instruction (FIP, FOP or FDP moved), they
 * become the guest's CS and, if FDP moved, DS; otherwise they stay what
 * the vCPU had.  XXX: a ring-3 far transfer to another CS, or a memory
 * operand through another segment register, is not seen.
 */
void monitor_fpu_from_user(struct vcpu *v, const uint8_t img[512], uint16_t cs, uint16_t ds)
{
	struct x87_ptrs old = fx_ptrs(v->fpu), p = fx_ptrs(img);
	bool ran = p.fip != old.fip || p.fop != old.fop || p.fdp != old.fdp;
	p.fcs = ran ? cs : old.fcs;
	p.fds = ran && p.fdp != old.fdp ? ds : old.fds;
	memcpy(v->fpu, img, sizeof(v->fpu));
	fx_put_ptrs(v->fpu, &p);
	monitor_fpu_changed(v);
}

/* The x87 environment in memory, protected mode (SDM vol. 1, Figures 8-9
 * and 8-10): 28 bytes with a 32-bit operand size, 14 with 16. */
static struct x87_ptrs env_ptrs(const uint8_t *e, bool o16)
{
	if (o16)
		return (struct x87_ptrs){ get16(e + 6), get16(e + 10), get16(e + 8), get16(e + 12), 0 };
	return (struct x87_ptrs){ get32(e + 12), get32(e + 20), get16(e + 16), get16(e + 24),
				  (uint16_t)(get32(e + 16) >> 16) & 0x7ff };
}

static void env_put_ptrs(uint8_t *e, bool o16, const struct x87_ptrs *p)
{
	if (o16) {
		put16(e + 6, (uint16_t)p->fip);
		put16(e + 8, p->fcs);
		put16(e + 10, (uint16_t)p->fdp);
		put16(e + 12, p->fds);
		return;
	}
	put32(e + 12, p->fip);
	put32(e + 16, p->fcs | (uint32_t)p->fop << 16);
	put32(e + 20, p->fdp);
	put32(e + 24, p->fds);
}

/* ---- the native run ---- */

/* Stores are checked before anything changes: a #PF on the store must
 * leave the FPU state as it was. */
static int probe_write(struct vcpu *v, uint32_t lin, size_t n)
{
	uint32_t end = lin + (uint32_t)n - 1;
	for (uint32_t p = lin;; p = (p & ~0xfffu) + 0x1000) {
		uint64_t gpa;
		uint32_t pf;
		unsigned acc = SHADOWMM_ACC_WRITE | (v->cpl == 3 ? SHADOWMM_ACC_USER : 0);
		if (monitor_translate(v, p, acc, false, &gpa, &pf) < 0) {
			v->cr2 = p;
			monitor_raise(v, VEC_PF, (int)pf);
			return -EFAULT;
		}
		if ((p & ~0xfffu) == (end & ~0xfffu))
			return 0;
	}
}

/* Builds "push [rdx+8]; popfq; mov eax,[rdx]; insn'; mov [rdx],eax;
 * pushfq; pop [rdx+8]; ret" where insn' is the guest instruction without
 * segment/address-size prefixes, its memory operand replaced by [rsi]
 * (ModRM mod=00 rm=110, no SIB or displacement) and its general register
 * operand, if any, renamed to EAX; [rdx] holds that register and [rdx+8]
 * RFLAGS with the guest's status flags.  An implicit [EDI] operand
 * (MASKMOVQ, MASKMOVDQU) gets "mov rdi,rsi" first (monitor_fpu_run saves
 * RDI).  The x87, MMX and SSE/SSE2 encodings mean the same in 64-bit mode
 * without REX. */
static size_t build_snippet(const struct translator_insn *in, int gpr_enc, bool edi_mem,
			    uint8_t *out)
{
	const ZydisDecodedInstruction *zi = &in->zi;
	size_t n = 0;
	static const uint8_t pro[] = { 0xff, 0x72, 0x08, 0x9d, 0x8b, 0x02 };
	static const uint8_t epi[] = { 0x89, 0x02, 0x9c, 0x8f, 0x42, 0x08, 0xc3 };
	static const uint8_t mov_rdi_rsi[] = { 0x48, 0x89, 0xf7 };
	memcpy(out, pro, sizeof(pro));
	n += sizeof(pro);
	if (edi_mem) {
		memcpy(out + n, mov_rdi_rsi, sizeof(mov_rdi_rsi));
		n += sizeof(mov_rdi_rsi);
	}
	for (int i = 0; i < zi->raw.prefix_count; i++) {
		uint8_t p = zi->raw.prefixes[i].value;
		if (p == 0x66 || p == 0xf2 || p == 0xf3)
			out[n++] = p;
	}
	bool has_modrm = zi->attributes & ZYDIS_ATTRIB_HAS_MODRM;
	size_t op_end = has_modrm ? zi->raw.modrm.offset
		      : zi->raw.imm[0].size ? zi->raw.imm[0].offset : zi->length;
	for (size_t i = zi->raw.prefix_count; i < op_end; i++)
		out[n++] = in->bytes[i];
	if (has_modrm) {
		uint8_t modrm = in->bytes[zi->raw.modrm.offset];
		if ((modrm >> 6) != 3)
			modrm = (uint8_t)((modrm & 0x38) | 0x06);
		else if (gpr_enc == ZYDIS_OPERAND_ENCODING_MODRM_RM)
			modrm &= 0xf8;
		if (gpr_enc == ZYDIS_OPERAND_ENCODING_MODRM_REG)
			modrm &= 0xc7;
		out[n++] = modrm;
	}
	for (int k = 0; k < 2; k++)
		for (int i = 0; i < zi->raw.imm[k].size / 8; i++)
			out[n++] = in->bytes[zi->raw.imm[k].offset + i];
	memcpy(out + n, epi, sizeof(epi));
	return n + sizeof(epi);
}

static int fault(struct vcpu *v, int vec, int err)
{
	monitor_raise(v, vec, err);
	return EXIT_FAULT;
}

int monitor_fpu(struct vcpu *v, const struct translator_callout *co)
{
	const struct translator_insn *in = &co->in;
	const ZydisDecodedInstruction *zi = &in->zi;
	ZydisMnemonic m = zi->mnemonic;
	v->eip = co->eip;
	monitor_fpu_ensure(v);
	if (!snip_x && fpu_init_once() < 0) {
		monitor_stop(v, 1, "cannot map the FPU instruction buffer");
		return EXIT_STOP;
	}

	int vec = availability_fault(v, in);
	if (vec >= 0)
		return fault(v, vec, -1);
	bool x87 = zi->meta.isa_ext == ZYDIS_ISA_EXT_X87;
	bool mmx = zi->meta.isa_ext == ZYDIS_ISA_EXT_MMX || has_mmx_operand(in);
	if ((x87 || mmx) && !nonwaiting(m) && (get16(v->fpu + FX_FSW) & FSW_ES))
		return fault(v, VEC_MF, -1);
	if (m == ZYDIS_MNEMONIC_FWAIT)
		return 0;

	/* The operands: at most one memory and one general register. */
	const ZydisDecodedOperand *mem = NULL, *gpr = NULL;
	bool edi_mem = false;	/* MASKMOVQ/MASKMOVDQU: the implicit [EDI] */
	for (int i = 0; i < zi->operand_count; i++) {
		const ZydisDecodedOperand *op = &in->ops[i];
		if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
			if (mem)
				goto unsupported;
			if (op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN) {
				if (m != ZYDIS_MNEMONIC_MASKMOVQ && m != ZYDIS_MNEMONIC_MASKMOVDQU)
					goto unsupported;
				edi_mem = true;
			}
			mem = op;
		} else if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
			ZydisRegisterClass c = ZydisRegisterGetClass(op->reg.value);
			if (c == ZYDIS_REGCLASS_GPR32 || c == ZYDIS_REGCLASS_GPR16 ||
			    c == ZYDIS_REGCLASS_GPR8) {
				if (gpr)
					goto unsupported;
				gpr = op;
			}
		}
	}

	alignas(64) static uint8_t membuf[512];
	alignas(16) uint8_t img[512], host[512];
	uint32_t lin = 0, off = 0, size = 0;
	int seg = S_DS;
	bool store = false;
	if (mem) {
		size = mem->size / 8;
		if (size == 0 || size > sizeof(membuf))
			goto unsupported;
		seg = translator_seg_index(mem->mem.segment);
		lin = op_linear(v, mem);
		off = lin - v->seg[seg].base;
		store = mem->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE;
		if (!op_check_access(v, seg, off, size, store))
			return EXIT_FAULT;
		if (needs_align16(in, mem) && (lin & 15))
			return fault(v, VEC_GP, 0);
		/* A store is probed first (its #PF is a write's), then reads
		 * the old bytes too: MASKMOVQ/MASKMOVDQU write only some of
		 * them, and an x87 store that an unmasked exception
		 * suppresses none (SDM vol. 1, 8.5). */
		if (store && probe_write(v, lin, size) < 0)
			return EXIT_FAULT;
		memset(membuf, 0, sizeof(membuf));
		if ((mem->actions & ZYDIS_OPERAND_ACTION_MASK_READ) || store) {
			if (monitor_read_lin(v, lin, membuf, size) < 0)
				return monitor_op_fail(v);
		}
	}
	/* Reserved MXCSR bits are #GP(0) (SDM vol. 2, LDMXCSR, FXRSTOR). */
	if ((m == ZYDIS_MNEMONIC_LDMXCSR && (get32(membuf) & ~mxcsr_mask)) ||
	    (m == ZYDIS_MNEMONIC_FXRSTOR && (get32(membuf + FX_MXCSR) & ~mxcsr_mask)))
		return fault(v, VEC_GP, 0);

	/* The register and RFLAGS (IF and bit 1 as the host has them; POPFQ
	 * at CPL 3 leaves IF alone anyway; DF stays clear for the C ABI). */
	uint64_t io[2] = { gpr ? op_reg_read(v, gpr->reg.value) : 0,
			   EFL_IF | EFL_FIX1 | (v->aflags & EFL_STATUS) };
	size_t len = build_snippet(in, gpr ? gpr->encoding : ZYDIS_OPERAND_ENCODING_NONE, edi_mem,
				   snip_w);
	(void)len;

	memcpy(img, v->fpu, sizeof(img));
	struct x87_ptrs ptrs = fx_ptrs(img);
	bool simd = !x87 && m != ZYDIS_MNEMONIC_LDMXCSR && m != ZYDIS_MNEMONIC_STMXCSR &&
		    m != ZYDIS_MNEMONIC_FXSAVE && m != ZYDIS_MNEMONIC_FXRSTOR &&
		    m != ZYDIS_MNEMONIC_EMMS;
	uint32_t mxcsr = get32(img + FX_MXCSR);
	if (simd)
		put32(img + FX_MXCSR, (mxcsr | MXCSR_MASKS) & ~MXCSR_FLAGS);

	monitor_fpu_run(img, membuf, io, snip_x, host);
	v->vm->fpu_runs++;

	if (simd) {
		uint32_t raised = get32(img + FX_MXCSR) & MXCSR_FLAGS;
		uint32_t unmasked = raised & ~(mxcsr >> 7) & MXCSR_FLAGS;
		if (unmasked) {
			/* No result.  An unmasked pre-computation exception
			 * (IE, DE, ZE) means no computation either, so only
			 * the pre-computation flags are set; an unmasked
			 * post-computation one (OE, UE, PE) sets every flag
			 * detected (SDM vol. 1, 11.5.2). */
			if (unmasked & MXCSR_PRE)
				raised &= MXCSR_PRE;
			put32(v->fpu + FX_MXCSR, mxcsr | raised);
			v->fpu_gen++;
			return fault(v, (v->cr4 & CR4_OSXMMEXCPT) ? VEC_XM : VEC_UD, -1);
		}
		put32(img + FX_MXCSR, mxcsr | raised);
	}

	/* The pointers: loaded by FXRSTOR/FLDENV/FRSTOR, set by non-control
	 * x87 instructions, otherwise unchanged. */
	bool o16 = zi->operand_width == 16;
	if (m == ZYDIS_MNEMONIC_FXRSTOR)
		ptrs = fx_ptrs(membuf);
	else if (m == ZYDIS_MNEMONIC_FLDENV || m == ZYDIS_MNEMONIC_FRSTOR)
		ptrs = env_ptrs(membuf, o16);
	else if (m == ZYDIS_MNEMONIC_FNINIT || m == ZYDIS_MNEMONIC_FNSAVE)
		ptrs = (struct x87_ptrs){ 0 };	/* FNSAVE then initializes the FPU */
	else if (x87 && !x87_control(m)) {
		uint8_t op0 = in->bytes[zi->raw.prefix_count];
		uint8_t modrm = (zi->attributes & ZYDIS_ATTRIB_HAS_MODRM)
					? in->bytes[zi->raw.modrm.offset] : in->bytes[zi->raw.prefix_count + 1];
		ptrs.fip = co->eip;
		ptrs.fcs = v->seg[S_CS].sel;
		ptrs.fop = (uint16_t)(((op0 & 7u) << 8) | modrm);
		if (mem) {
			ptrs.fdp = off;
			ptrs.fds = v->seg[seg].sel;
		}
	}
	if (m == ZYDIS_MNEMONIC_FXSAVE) {
		struct x87_ptrs cur = fx_ptrs(v->fpu);
		fx_put_ptrs(membuf, &cur);
		put32(membuf + FX_MXCSR_MASK, mxcsr_mask);
	} else if (m == ZYDIS_MNEMONIC_FNSTENV || m == ZYDIS_MNEMONIC_FNSAVE) {
		struct x87_ptrs old = fx_ptrs(v->fpu);
		env_put_ptrs(membuf, o16, &old);
	}
	fx_put_ptrs(img, &ptrs);

	if (store && monitor_write_lin(v, lin, membuf, size) < 0)
		return monitor_op_fail(v);
	if (gpr && (gpr->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
		op_reg_write(v, gpr->reg.value, (uint32_t)io[0]);
	v->aflags = (v->aflags & ~EFL_STATUS) | ((uint32_t)io[1] & EFL_STATUS);
	memcpy(v->fpu, img, sizeof(img));
	monitor_fpu_changed(v);
	return 0;

unsupported:
	monitor_stop(v, 2, "guest executed %s at eip 0x%08x, an FPU instruction form bt does not "
		     "virtualize", ZydisMnemonicGetString(m), co->eip);
	return EXIT_STOP;
}
