/*
 * monitor/user.c: guest user mode run directly in a stub (DESIGN.md §3):
 * the host form of the guest's CPL-3 state on the way in, and on the way
 * out the guest event each kind of exit stands for.
 *
 * Segments.  Guest selectors index the guest's GDT/LDT, but the host CPU
 * looks them up in the stub's.  Every segment register the guest enters
 * ring 3 with gets an LDT slot holding a descriptor made from its hidden
 * cache (which is what the guest CPU would use, whatever the tables say
 * now): guest LDT selectors keep their index, GDT selector i uses slot
 * MONITOR_LDT_ALIAS + i.  Guest code that loads a selector itself loads it
 * from the host's tables; at the next exit the monitor looks the selector
 * up in the guest's tables, and a fault that such a load caused is not
 * delivered but retried with the guest's descriptor in place.
 * What remains visible: ring-3 code that reads a segment register it did
 * not load itself (MOV r, Sreg; PUSH Sreg) sees the LDT alias, not the
 * guest's selector; and the host's UMIP handling answers SGDT/SIDT/SMSW in
 * compatibility mode with the host kernel's dummy values.
 */
#include <string.h>

#include "monitor/internal.h"

#define SEL_TI 4u

static uint16_t slot_of(uint16_t guest_sel)
{
	uint16_t idx = guest_sel >> 3;
	return (guest_sel & SEL_TI) ? idx : (uint16_t)(MONITOR_LDT_ALIAS + idx);
}

/* modify_ldt's user_desc flags for a segment cache (SDM vol. 3, 3.4.5). */
static struct monitor_ldt_entry ldt_entry(uint16_t slot, const struct vcpu_segment *g)
{
	unsigned type = g->attr & 0xf;
	bool code = type & 8;
	bool gran = g->attr & 0x8000;
	uint32_t contents = code ? 2 : ((type & 4) ? 1 : 0);	/* conforming becomes plain code:
								 * modify_ldt refuses present
								 * conforming segments, and at
								 * CPL 3 they behave alike */
	uint32_t flags = (g->attr & 0x4000 ? 1u : 0) |	/* seg_32bit */
			 contents << 1 |
			 ((type & 2) ? 0 : 1u) << 3 |		/* read_exec_only */
			 (gran ? 1u : 0) << 4 |			/* limit_in_pages */
			 ((g->attr & 0x80) ? 0 : 1u) << 5 |	/* seg_not_present */
			 ((g->attr & 0x1000) ? 1u : 0) << 6;	/* useable (AVL) */
	if (!(g->attr & 0x10))
		flags |= 1u << 5;	/* a system descriptor cannot be a segment */
	return (struct monitor_ldt_entry){
		.slot = slot, .base = g->base, .limit = gran ? g->limit >> 12 : g->limit,
		.flags = flags,
	};
}

void monitor_user_prepare(struct vcpu *v, struct monitor_user *u)
{
	memcpy(u->regs, v->regs, sizeof(u->regs));
	u->eip = v->eip;
	/* Arithmetic flags, DF, TF and ID as the guest has them; AC only if
	 * the guest enabled alignment checking (the host's CR0.AM is on); IF
	 * is always 1 in the host, IOPL 0 (the guest's are virtual). */
	uint32_t f = vcpu_get_eflags(v);
	uint32_t keep = EFL_ARITH | EFL_TF | EFL_ID | ((v->cr0 & CR0_AM) ? EFL_AC : 0);
	u->eflags = (f & keep) | EFL_IF | EFL_FIX1;
	u->nldt = 0;
	for (int s = 0; s < S_NSEG; s++) {
		const struct vcpu_segment *g = &v->seg[s];
		u->guest_sel[s] = g->sel;
		if ((g->sel & 0xfffc) == 0 && s != S_CS && s != S_SS) {
			u->sel[s] = 0;
			continue;
		}
		uint16_t slot = slot_of(g->sel);
		u->sel[s] = (uint16_t)(slot << 3 | SEL_TI | 3);
		u->ldt[u->nldt++] = ldt_entry(slot, g);
	}
}

/* The guest selector a host selector found at an exit stands for, and
 * whether it is one of the host's own GDT selectors (loaded by guest code,
 * so the host descriptor was in effect). */
static uint16_t guest_selector(uint16_t h, bool *host_gdt)
{
	*host_gdt = false;
	if ((h & 0xfffc) == 0)
		return h;
	if (h & SEL_TI) {
		uint16_t slot = h >> 3;
		if (slot >= MONITOR_LDT_ALIAS)
			return (uint16_t)(((slot - MONITOR_LDT_ALIAS) << 3) | (h & 3));
		return h;
	}
	*host_gdt = true;
	return h;
}

/* The hidden cache for a selector guest code loaded itself: the guest's
 * descriptor if there is a usable one, else an unusable segment. */
static void load_quietly(struct vcpu *v, int s, uint16_t sel)
{
	uint64_t d;
	if ((sel & 0xfffc) != 0 && desc_read(v, sel, &d) == 0 && (d & (1ull << 44)) &&
	    (d & (1ull << 47))) {
		monitor_seg_cache(v, s, sel, d);
		return;
	}
	v->seg[s] = (struct vcpu_segment){ .sel = sel };
	v->seg_base[s] = 0;
}

/* Takes the registers, flags and segments back; returns true if a segment
 * register held a host GDT descriptor (a fault may be the host's doing). */
static bool take_state(struct vcpu *v, const struct monitor_user *u,
		       const struct monitor_user_exit *e)
{
	memcpy(v->regs, e->regs, sizeof(v->regs));
	v->eip = e->eip;
	v->aflags = e->eflags & EFL_ARITH;
	uint32_t mine = EFL_TF | EFL_ID | ((v->cr0 & CR0_AM) ? EFL_AC : 0);
	v->vflags = (v->vflags & ~mine) | (e->eflags & mine);
	bool repaired = false;
	for (int s = 0; s < S_NSEG; s++) {
		if (e->sel[s] == u->sel[s])
			continue;
		bool host_gdt;
		uint16_t g = guest_selector(e->sel[s], &host_gdt);
		repaired |= host_gdt;
		if (g == u->guest_sel[s])
			continue;
		load_quietly(v, s, g);
	}
	if (v->seg[S_CS].sel & 3)
		v->cpl = v->seg[S_CS].sel & 3;
	return repaired;
}

/* Decodes the guest instruction at eip (for emulating it). */
static int decode_at(struct vcpu *v, uint32_t eip, struct translator_insn *in)
{
	uint8_t code[ZYDIS_MAX_INSTRUCTION_LENGTH];
	size_t n = 0;
	uint32_t lin = v->seg[S_CS].base + eip;
	while (n < sizeof(code) && monitor_peek_lin(v, lin + (uint32_t)n, &code[n], 1) == 0)
		n++;
	return translator_decode(code, n, eip, in);
}

/*
 * A #GP/#NP/#SS/#TS from guest code: if the instruction is one the monitor
 * emulates anyway (I/O, IOPL-sensitive, privileged, segment loads, INT n,
 * CPUID under faulting), run it with the guest's semantics, which raise
 * the right guest fault or do the work; otherwise the host's fault is the
 * guest's (limits and types come from the guest's own descriptors).
 */
static void emulate_or_fault(struct vcpu *v, int vec, uint32_t err)
{
	struct translator_callout co;
	memset(&co, 0, sizeof(co));
	if (decode_at(v, v->eip, &co.in) == 0) {
		const struct translator_row *row = translator_classify(&co.in);
		enum translator_callout_kind k = row->callout;
		if (row->rule == TR_CLI || row->rule == TR_STI || row->rule == TR_POPF)
			k = CO_IFLAGS;
		if (vec == VEC_UD && k != CO_SYSCALLS)
			k = CO_NONE;
		if (k != CO_NONE && k != CO_FPU && k != CO_UNSUPPORTED && k != CO_BCDADJ) {
			co.kind = k;
			co.eip = v->eip;
			co.next_eip = v->eip + co.in.zi.length;
			if (monitor_callout(v, &co) == 0)
				v->eip = co.next_eip;
			return;
		}
	}
	monitor_raise(v, vec, err == ~0u ? -1 : (int)err);
}

/* Reports of ended stubs: a guest that keeps trying gets the first few,
 * then a note that the rest are counted in --stats only. */
#define BAD_STUB_REPORTS 10

static void bad_stub(struct vcpu *v, const struct monitor_user *u, const char *what, int sig)
{
	static unsigned reports;
	if (reports < BAD_STUB_REPORTS) {
		fprintf(stderr, "bt: guest user code at eip 0x%08x %s", u->eip, what);
		if (sig)
			fprintf(stderr, " (signal %d)", sig);
		fprintf(stderr, "; its stub is ended and the guest gets #GP(0)\n");
	} else if (reports == BAD_STUB_REPORTS) {
		fprintf(stderr, "bt: more ended stubs are not reported (see --stats)\n");
	}
	reports++;
	/* Nothing the stub reported can be trusted: the guest's state is the
	 * one it entered ring 3 with. */
	memcpy(v->regs, u->regs, sizeof(v->regs));
	v->eip = u->eip;
	monitor_raise(v, VEC_GP, 0);
}

/*
 * INT1/ICEBP (F1) is a trap: the #DB's return EIP is after the instruction
 * (SDM vol. 2, INTn/INTO/INT3/INT1; vol. 3, 6.15 "Interrupt 1", 17.3.1.2).
 * Some hosts (seen under a nested hypervisor) report the trap with EIP still
 * at the F1: true if that is what the stub reported.  XXX: an F1 right after
 * another F1 is taken as reported correctly.
 */
static bool icebp_reported_at(struct vcpu *v)
{
	uint8_t b[2] = { 0, 0 };
	uint32_t lin = v->seg[S_CS].base + v->eip;
	return monitor_peek_lin(v, lin, &b[1], 1) == 0 && b[1] == 0xf1 &&
	       (monitor_peek_lin(v, lin - 1, &b[0], 1) < 0 || b[0] != 0xf1);
}

void monitor_user_exit(struct vcpu *v, const struct monitor_user *u,
		       const struct monitor_user_exit *e)
{
	switch (e->why) {
	case USER_ESCAPE:
		bad_stub(v, u, "left 32-bit compatibility mode or forged its stub's control page", 0);
		return;
	case USER_DIED:
		bad_stub(v, u, "killed its stub (a forbidden host system call or mapping change)",
			 e->death_signal);
		return;
	case USER_HUNG:
		bad_stub(v, u, "left its stub unable to answer", 0);
		return;
	default:
		break;
	}
	bool host_segment = take_state(v, u, e);
	switch (e->why) {
	case USER_KICK:
		return;		/* monitor_service takes the interrupt */
	case USER_SYSCALL: {
		/*
		 * An i386 system call reached the host kernel.  INT 0x80 is, for the
		 * guest, INT 0x80 through its own IDT (DPL checked), returning after
		 * the instruction.  SYSCALL (0F 05; compatibility-mode SYSCALL
		 * enters the host's i386 path on AMD) is #UD on the virtual Intel
		 * CPU.  Anything else is SYSENTER (on Intel hosts), whose effect
		 * needs no return address: the guest's SYSENTER MSRs decide.
		 */
		uint8_t b[2] = { 0, 0 };
		uint32_t next = v->eip;
		monitor_peek_lin(v, v->seg[S_CS].base + next - 2, b, 2);
		v->eip = next - 2;	/* where a fault is reported */
		if (b[0] == 0xcd && b[1] == 0x80) {
			monitor_deliver(v, 0x80, -1, next, DELIVER_SOFT);
		} else if (b[0] == 0x0f && b[1] == 0x05) {
			monitor_raise(v, VEC_UD, -1);
		} else {
			struct translator_callout co = { .kind = CO_SYSCALLS, .eip = v->eip,
							 .next_eip = next };
			co.in.zi.mnemonic = ZYDIS_MNEMONIC_SYSENTER;
			monitor_callout(v, &co);
		}
		return;
	}
	default:
		break;
	}

	/* A host signal in guest code: by its vector (SDM vol. 3, Table 6-1). */
	switch (e->trapno) {
	case VEC_DE: case VEC_BR: case VEC_MF:
		monitor_raise(v, (int)e->trapno, -1);
		return;
	case VEC_XM:
		/* The host has OSXMMEXCPT; without it the guest CPU raises #UD
		 * for an unmasked SIMD exception (SDM vol. 3, 2.5). */
		monitor_raise(v, (v->cr4 & CR4_OSXMMEXCPT) ? VEC_XM : VEC_UD, -1);
		return;
	case VEC_UD:
		/* SYSENTER is #UD in compatibility mode on AMD hosts; the guest
		 * CPU has it.  Other #UDs are the guest's. */
		emulate_or_fault(v, VEC_UD, ~0u);
		return;
	case VEC_DB: {
		/* Single-step or INT1/ICEBP: both are traps.  TF in the flags the
		 * host saved means single-step (ring-3 code may have set TF itself
		 * with POPF, so the flags it entered with do not tell). */
		if (e->eflags & EFL_TF)
			v->dr[6] |= 0x4000;	/* BS */
		else if (icebp_reported_at(v))
			v->eip++;
		monitor_deliver(v, VEC_DB, -1, v->eip, DELIVER_EXT);
		return;
	}
	case VEC_BP:
	case VEC_OF: {
		/* INT3 / INTO (or INT 3 / INT 4): software interrupts with their
		 * gate's DPL checked; the host reports EIP past the instruction,
		 * a fault in delivery (#GP for the DPL) is reported at it. */
		uint8_t b = 0;
		uint32_t next = v->eip;
		monitor_peek_lin(v, v->seg[S_CS].base + next - 1, &b, 1);
		v->eip = next - ((b == 0xcc || b == 0xce) ? 1 : 2);
		monitor_deliver(v, (int)e->trapno, -1, next, DELIVER_SOFT);
		return;
	}
	case VEC_AC:
		if ((v->cr0 & CR0_AM) && (v->vflags & EFL_AC)) {
			monitor_raise(v, VEC_AC, 0);
		} else {
			/* The host checks alignment whenever AC is set; the guest
			 * did not ask for it. */
			v->vflags &= ~EFL_AC;
		}
		return;
	case VEC_TS: case VEC_NP: case VEC_SS: case VEC_GP:
		if (host_segment)
			return;	/* retried with the guest's descriptor */
		emulate_or_fault(v, (int)e->trapno, e->err);
		return;
	case VEC_PF: {
		if (host_segment)
			return;
		/* A hidden fault (the stub lacks a page the guest maps, or a write
		 * to a page with translated code) is filled and retried; a true
		 * one is the guest's #PF (SDM vol. 3, 4.7). */
		uint32_t pf = 0;
		/* The host's error code says what the access was: W (bit 1) and
		 * I/D (bit 4: an instruction fetch, the host runs with NX). */
		unsigned acc = ((e->err & 2) ? SHADOWMM_ACC_WRITE : 0) |
			       ((e->err & 16) ? SHADOWMM_ACC_FETCH : 0);
		int r = e->addr < (1ull << 32)
				? v->vm->user_fill(v->vm->hook_ctx, (uint32_t)e->addr, acc, &pf) : -2;
		if (r == 0)
			return;
		if (r == -2 || !(v->cr0 & CR0_PG)) {
			/* Paging off: the user view maps all of guest RAM, so this is
			 * an access outside RAM (or below vm.mmap_min_addr). */
			monitor_stop(v, 2, "guest user code at eip 0x%08x accessed 0x%08llx, outside "
				     "guest RAM; not emulated yet", v->eip, (unsigned long long)e->addr);
			return;
		}
		v->cr2 = (uint32_t)e->addr;
		monitor_raise(v, VEC_PF, (int)pf);
		return;
	}
	default:
		monitor_stop(v, 2, "guest user code at eip 0x%08x raised host signal %u (vector %u); "
			     "not virtualized", v->eip, e->signo, e->trapno);
		return;
	}
}
