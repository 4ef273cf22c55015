/* monitor/vcpu.c: vCPU reset state, translation mode, stopping, and state dumps. */
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include "monitor/monitor.h"
#include "translator/translator.h"

#define CHECK_OFF(field, off) _Static_assert(offsetof(struct vcpu, field) == (off), #field)
CHECK_OFF(regs, VCPU_REGS);
CHECK_OFF(eip, VCPU_EIP);
CHECK_OFF(aflags, VCPU_AFLAGS);
CHECK_OFF(vflags, VCPU_VFLAGS);
CHECK_OFF(vif, VCPU_VIF);
CHECK_OFF(exit_request, VCPU_EXIT_REQ);
CHECK_OFF(exit_reason, VCPU_EXIT_REASON);
CHECK_OFF(exit_arg, VCPU_EXIT_ARG);
CHECK_OFF(host_rsp, VCPU_HOST_RSP);
CHECK_OFF(resume_rip, VCPU_RESUME_RIP);
CHECK_OFF(ent_exit, VCPU_ENT_EXIT);
CHECK_OFF(ent_callout, VCPU_ENT_CALLOUT);
CHECK_OFF(ent_ibl, VCPU_ENT_IBL);
CHECK_OFF(ibl_table, VCPU_IBL_TABLE);
CHECK_OFF(ibl_mask, VCPU_IBL_MASK);
CHECK_OFF(callout_ea, VCPU_CALLOUT_EA);
CHECK_OFF(seg_base, VCPU_SEG_BASE);
CHECK_OFF(fstack, VCPU_FSTACK);
CHECK_OFF(stat_ibl_hits, VCPU_STAT_IBL_HITS);
CHECK_OFF(seg_lo, VCPU_SEG_LO);
_Static_assert(S_SS == S_SS_INDEX, "translator.h's S_SS_INDEX");
CHECK_OFF(seg_hi, VCPU_SEG_HI);
CHECK_OFF(redirect_ptr, VCPU_REDIRECT_PTR);
CHECK_OFF(tsc_aux, VCPU_TSC_AUX);
_Static_assert(VCPU_FSTACK + sizeof(((struct vcpu *)0)->fstack) == VCPU_FSTACK_TOP, "fstack");

static void set_flat(struct vcpu *v, int s, uint16_t sel, uint16_t attr)
{
	v->seg[s] = (struct vcpu_segment){ .sel = sel, .base = 0, .limit = 0xffffffffu, .attr = attr };
	v->seg_base[s] = 0;
}

/* What Multiboot and the Linux 32-bit boot protocol both start with:
 * CR0.PE=1, paging off, IF=0, flat 4 GiB segments, registers 0.  The
 * selectors are QEMU's (CS 0x10, data 0x18), which Linux requires. */
static void reset_flat(struct vcpu *v, uint32_t eip)
{
	memset(v->regs, 0, sizeof(v->regs));
	v->eip = eip;
	vcpu_set_eflags(v, EFL_FIX1);
	set_flat(v, S_CS, 0x10, 0xc09b);	/* 32-bit, present, DPL 0, code, accessed */
	for (int s = 0; s < S_NSEG; s++)
		if (s != S_CS)
			set_flat(v, s, 0x18, 0xc093);
	v->ldtr = (struct vcpu_segment){ 0 };
	v->tr = (struct vcpu_segment){ .attr = 0x8b, .limit = 0xffff };
	v->cr0 = CR0_PE | CR0_ET;
	v->cr2 = v->cr3 = v->cr4 = 0;
	memset(v->dr, 0, sizeof(v->dr));
	v->dr[6] = 0xffff0ff0u;
	v->dr[7] = 0x400;
	v->pat = 0x0007040600070406ull;	/* power-on PAT (SDM vol. 3, 12.12.4) */
	v->cpl = 0;
}

void monitor_vcpu_reset_multiboot(struct vcpu *v, const struct multiboot_boot *b)
{
	reset_flat(v, b->entry);
	v->regs[R_EAX] = MULTIBOOT_BOOTLOADER_MAGIC;
	v->regs[R_EBX] = b->mbi;
	/* The spec only promises flat segments: the guest loads its own GDT. */
	v->gdtr = (struct vcpu_dtr){ 0, 0 };
	v->idtr = (struct vcpu_dtr){ 0, 0x3ff };
}

void monitor_vcpu_reset_linux(struct vcpu *v, const struct linux_boot *b)
{
	reset_flat(v, b->entry);
	/* "%esi must hold the base address of the struct boot_params; %ebp,
	 * %edi and %ebx must be zero" (boot.rst, 32-bit Boot Protocol). */
	v->regs[R_ESI] = b->boot_params;
	/* A GDT "must be loaded" with __BOOT_CS and __BOOT_DS; no IDT: an
	 * exception before the kernel sets one up is a triple fault. */
	v->gdtr = (struct vcpu_dtr){ b->gdt_base, b->gdt_limit };
	v->idtr = (struct vcpu_dtr){ 0, 0 };
}

void monitor_vcpu_restart(struct vcpu *v)
{
	v->stopping = v->reset_requested = false;
	v->exit_status = 0;
	v->exit_request = 0;
	v->exc_pending = false;
	v->exc_nesting = 0;
	v->halted = v->shadow = v->shadow_ss = v->delivered = false;
	v->fault_sig = 0;
	v->dbg_nacc = 0;
	v->tsc_aux = 0;
	v->sysenter_cs = v->sysenter_esp = v->sysenter_eip = 0;
	memset(v->mtrr, 0, sizeof(v->mtrr));
	v->misc_enable_flipped = 0;
	v->fpu_gen = 0;	/* the RESET FPU state, materialized on first use */
}

/*
 * The bounds translated code checks for segment s, and whether it needs to:
 * a flat 4 GiB expand-up segment needs no check, which is what every
 * mainstream 32-bit kernel runs with.  An unusable (null) data segment
 * gets bounds that nothing satisfies, so any access through it is #GP(0)
 * (SDM vol. 3, 3.4.2).
 */
static bool seg_bounds(struct vcpu *v, int s)
{
	const struct vcpu_segment *g = &v->seg[s];
	bool expand_down = (g->attr & 0x18) == 0x10 && (g->attr & 0x4);
	bool exec_only = (g->attr & 0x18) == 0x18 && !(g->attr & 0x2);
	if ((s != S_CS && s != S_SS && (g->sel & 0xfffc) == 0) || (s != S_CS && exec_only)) {
		v->seg_lo[s] = 0xffffffffu;
		v->seg_hi[s] = 0;
		return true;
	}
	if (expand_down) {
		v->seg_lo[s] = g->limit + 1;	/* limit 0xffffffff: nothing is valid */
		v->seg_hi[s] = (g->attr & 0x4000) ? 0xffffffffu : 0xffffu;
		if (g->limit == 0xffffffffu)
			v->seg_hi[s] = 0;
		return true;
	}
	v->seg_lo[s] = 0;
	v->seg_hi[s] = g->limit;
	return g->limit != 0xffffffffu;
}

uint32_t monitor_tmode(struct vcpu *v)
{
	uint32_t m = 0;
	for (int s = 0; s < S_NSEG; s++) {
		v->seg_base[s] = v->seg[s].base;
		if (v->seg_base[s])
			m |= TMODE_SEGBASE(s);
		if (s != S_CS && seg_bounds(v, s))
			m |= TMODE_SEGLIMIT(s);
		/* Writable: a data segment with W (SDM vol. 3, 3.4.5.1). */
		if ((v->seg[s].attr & 0x1a) != 0x12)
			m |= TMODE_SEGRO(s);
	}
	if (v->cpl)
		m |= TMODE_CPLNZ;
	if (v->tsc_offset)
		m |= TMODE_TSC_OFFSET;
	/* One instruction at a time while anything must be checked between
	 * instructions: TF, breakpoints, RF (cleared after one instruction),
	 * an interrupt shadow. */
	if ((v->vflags & (EFL_TF | EFL_RF)) || v->shadow || monitor_debug_armed(v))
		m |= TMODE_SINGLE;
	return m;
}

void monitor_stop(struct vcpu *v, int status, const char *fmt, ...)
{
	if (fmt && !v->stopping) {
		va_list ap;
		fputs("bt: ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
	if (!v->stopping) {
		v->stopping = true;
		v->exit_status = status;
	}
	v->exit_request = 1;
}

void monitor_dump_state(const struct vcpu *v, FILE *f)
{
	static const char *const rn[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };
	static const char *const sn[S_NSEG] = { "es", "cs", "ss", "ds", "fs", "gs" };
	fprintf(f, "  eip=%08x eflags=%08x cpl=%u\n", v->eip, vcpu_get_eflags(v), v->cpl);
	for (int i = 0; i < 8; i++)
		fprintf(f, "%s%s=%08x", i % 4 ? " " : "  ", rn[i], v->regs[i]), i % 4 == 3 ? fputc('\n', f) : 0;
	for (int s = 0; s < S_NSEG; s++)
		fprintf(f, "  %s=%04x base=%08x limit=%08x attr=%04x\n", sn[s], v->seg[s].sel,
			v->seg[s].base, v->seg[s].limit, v->seg[s].attr);
	fprintf(f, "  gdtr=%08x/%04x idtr=%08x/%04x ldtr=%04x tr=%04x\n", v->gdtr.base, v->gdtr.limit,
		v->idtr.base, v->idtr.limit, v->ldtr.sel, v->tr.sel);
	fprintf(f, "  cr0=%08x cr2=%08x cr3=%08x cr4=%08x\n", v->cr0, v->cr2, v->cr3, v->cr4);
	fprintf(f, "  dr0=%08x dr1=%08x dr2=%08x dr3=%08x dr6=%08x dr7=%08x\n", v->dr[0], v->dr[1],
		v->dr[2], v->dr[3], v->dr[6], v->dr[7]);
	if (v->vm && v->vm->dump_recent)
		v->vm->dump_recent(v->vm->dump_ctx, f);
}
