/*
 * monitor/paging.c: guest paging as the monitor sees it — translating the
 * linear addresses it accesses for the guest, host faults of translated
 * code in the kernel view (handed to the shadow MMU), redirected accesses
 * (page-table writes and pages the host cannot map, executed against the
 * physmap), adaptive translation of the instructions that keep doing them,
 * and the TLB-visible events (CR0/CR3/CR4 writes, INVLPG).
 */
#include <errno.h>
#include <string.h>

#include "monitor/internal.h"
#include "shadowmm/shadowmm.h"

#define PAGE 4096u

/* An instruction that needed redirecting this often is retranslated with
 * the redirect built in (DESIGN.md §4, adaptive translation). */
#define ADAPT_AFTER 4

static int read_phys(void *ctx, uint64_t gpa, void *buf, size_t n)
{
	return monitor_phys_read(ctx, gpa, buf, n);
}

static int write_phys(void *ctx, uint64_t gpa, const void *buf, size_t n)
{
	return monitor_phys_write(ctx, gpa, buf, n);
}

struct shadowmm_env monitor_paging_env(const struct vcpu *v)
{
	return (struct shadowmm_env){
		.ctx = &v->vm->mem, .read_phys = read_phys, .write_phys = write_phys,
		.cr0 = v->cr0, .cr3 = v->cr3, .cr4 = v->cr4, .efer = v->efer,
		.pdpte = ((v->cr4 & CR4_PAE) && (v->cr0 & CR0_PG)) ? v->pdpte : NULL,
	};
}

/* PDPTE reserved bits with a 36-bit MAXPHYADDR (SDM vol. 3, Table 4-8). */
#define PDPTE_RSVD 0xfffffff0000001e6ull

bool monitor_load_pdptes(struct vcpu *v, uint32_t cr3)
{
	uint64_t e[4];
	if (monitor_phys_read(&v->vm->mem, cr3 & ~0x1fu, e, sizeof(e)) < 0)
		memset(e, 0, sizeof(e));	/* not RAM: reads as not present */
	for (int i = 0; i < 4; i++)
		if ((e[i] & 1) && (e[i] & PDPTE_RSVD))
			return false;
	memcpy(v->pdpte, e, sizeof(e));
	return true;
}

int monitor_translate(struct vcpu *v, uint32_t lin, unsigned access, bool set_ad, uint64_t *gpa,
		      uint32_t *pf_error)
{
	if (!(v->cr0 & CR0_PG)) {
		*gpa = lin;
		return 0;
	}
	struct shadowmm_env env = monitor_paging_env(v);
	struct shadowmm_walk w;
	if (shadowmm_walk(&env, lin, access, set_ad, &w) < 0) {
		*pf_error = w.pf_error;
		return -1;
	}
	*gpa = w.gpa;
	return 0;
}

/* Stores to guest memory that may hit a traced page (a page table, or a
 * page with translated code) go through here, so the shadows follow. */
static int phys_store(struct vcpu *v, uint64_t gpa, const void *src, size_t n)
{
	struct monitor_vm *vm = v->vm;
	uint32_t gpfn = (uint32_t)(gpa >> 12);
	if (vm->sm && (shadowmm_is_table(vm->sm, gpfn) || shadowmm_has_code(vm->sm, gpfn))) {
		uint8_t old[16];
		if (n <= sizeof(old) && monitor_phys_read(&vm->mem, gpa, old, n) == 0) {
			int r = monitor_phys_write(&vm->mem, gpa, src, n);
			if (r == 0)
				shadowmm_phys_written(vm->sm, gpa, old, n);
			return r;
		}
	}
	return monitor_phys_write(&vm->mem, gpa, src, n);
}

/*
 * Guest linear accesses made by the monitor on the guest's behalf: one page
 * at a time through the guest's page tables (setting A/D as the CPU would);
 * a translation failure raises #PF (CR2 = the address) unless `quiet`.
 * Accesses outside RAM see an open bus (there is no MMIO): reads all ones.
 */
int monitor_access_lin(struct vcpu *v, uint32_t lin, void *buf, size_t n, unsigned access,
		       bool quiet)
{
	uint8_t *p = buf;
	bool write = access & SHADOWMM_ACC_WRITE;
	while (n) {
		size_t chunk = PAGE - (lin & (PAGE - 1));
		if (chunk > n)
			chunk = n;
		uint64_t gpa;
		uint32_t pf;
		if (monitor_translate(v, lin, access, true, &gpa, &pf) < 0) {
			if (!quiet) {
				v->cr2 = lin;
				monitor_raise(v, VEC_PF, (int)pf);
			}
			return -EFAULT;
		}
		int r = write ? phys_store(v, gpa, p, chunk) : monitor_phys_read(&v->vm->mem, gpa, p, chunk);
		if (r < 0) {
			/* No RAM and no device there: the bus floats (reads all
			 * ones, writes go nowhere), as on a PC. */
			if (!write)
				memset(p, 0xff, chunk);
			v->vm->open_bus++;
		}
		lin += (uint32_t)chunk;
		p += chunk;
		n -= chunk;
	}
	return 0;
}

/* ---- redirected accesses ---- */

static unsigned access_of(const struct vcpu *v, const ZydisDecodedOperand *op)
{
	return ((op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) ? SHADOWMM_ACC_WRITE : 0) |
	       (v->cpl == 3 ? SHADOWMM_ACC_USER : 0);
}

/* Where a redirected access outside RAM goes. */
static _Alignas(64) uint8_t open_bus[4096];

int monitor_redirect(struct vcpu *v, const struct translator_callout *co)
{
	const ZydisDecodedOperand *op = NULL;
	for (int i = 0; i < co->in.zi.operand_count; i++)
		if (co->in.ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    co->in.ops[i].visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
			op = &co->in.ops[i];
	v->eip = co->eip;
	if (!op) {
		monitor_stop(v, 2, "internal error: redirected instruction without a memory operand");
		return EXIT_STOP;
	}
	uint32_t size = op->size ? op->size / 8 : 1;
	uint32_t lin = op_linear(v, op);
	uint64_t gpa, gpa_end;
	uint32_t pf;
	unsigned acc = access_of(v, op);
	if (co->kind == CO_REDIRECT_DONE) {
		/* Report what the instruction changed (it wrote through the
		 * physmap pointer the first callout checked). */
		if (v->redirect_n)
			shadowmm_phys_written(v->vm->sm, v->redirect_gpa, v->redirect_old,
					      v->redirect_n);
		v->redirect_n = 0;
		return 0;
	}
	v->vm->redirects++;
	if (monitor_translate(v, lin, acc, true, &gpa, &pf) < 0 ||
	    monitor_translate(v, lin + size - 1, acc, true, &gpa_end, &pf) < 0) {
		v->cr2 = (monitor_translate(v, lin, acc, false, &gpa, &pf) < 0) ? lin
			 : ((lin + size - 1) & ~(PAGE - 1));
		monitor_raise(v, VEC_PF, (int)pf);
		return EXIT_FAULT;
	}
	if (gpa_end == gpa + size - 1 && size <= sizeof(open_bus) &&
	    !monitor_phys_ptr(&v->vm->mem, gpa, 1) && !monitor_phys_ptr(&v->vm->mem, gpa_end, 1)) {
		/* Neither RAM nor a device (there is no MMIO): reads see all
		 * ones, writes are lost.  Linux's stack protector reads
		 * %fs:__stack_chk_guard with paging still off, far above RAM. */
		memset(open_bus, 0xff, size);
		v->redirect_ptr = (uint64_t)(uintptr_t)open_bus;
		v->redirect_n = 0;
		v->vm->open_bus++;
		return 0;
	}
	if (gpa_end != gpa + size - 1 || !monitor_phys_ptr(&v->vm->mem, gpa, size)) {
		monitor_stop(v, 2, "guest access at eip 0x%08x to linear 0x%08x crosses into "
			     "discontiguous or non-RAM memory; not emulated yet", co->eip, lin);
		return EXIT_STOP;
	}
	v->redirect_ptr = (uint64_t)(uintptr_t)monitor_phys_ptr(&v->vm->mem, gpa, size);
	v->redirect_n = 0;
	if ((acc & SHADOWMM_ACC_WRITE) && size <= sizeof(v->redirect_old)) {
		memcpy(v->redirect_old, (void *)(uintptr_t)v->redirect_ptr, size);
		v->redirect_gpa = gpa;
		v->redirect_n = size;
	}
	return 0;
}

/* ---- host faults in the kernel view ---- */

static uint32_t mem_size(const struct translator_insn *in)
{
	for (int i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    in->ops[i].visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
			return in->ops[i].size ? in->ops[i].size / 8 : 0;
	return 0;
}

static bool insn_has_mem(const struct translator_insn *in)
{
	for (int i = 0; i < in->zi.operand_count; i++)
		if (in->ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY &&
		    in->ops[i].visibility == ZYDIS_OPERAND_VISIBILITY_EXPLICIT &&
		    in->ops[i].mem.type == ZYDIS_MEMOP_TYPE_MEM)
			return true;
	return false;
}

static bool adaptive_hit(struct monitor_vm *vm, uint32_t eip)
{
	uint32_t h = (eip * 0x9e3779b1u) >> (32 - MONITOR_ADAPT_BITS);
	for (uint32_t i = 0; i < (1u << MONITOR_ADAPT_BITS); i++) {
		struct monitor_adapt *a = &vm->adapt[(h + i) & ((1u << MONITOR_ADAPT_BITS) - 1)];
		if (a->eip == eip && a->count)
			return ++a->count >= ADAPT_AFTER;
		if (!a->count) {
			a->eip = eip;
			a->count = 1;
			return false;
		}
	}
	return false;
}

bool monitor_adaptive(const struct monitor_vm *vm, uint32_t eip)
{
	uint32_t h = (eip * 0x9e3779b1u) >> (32 - MONITOR_ADAPT_BITS);
	for (uint32_t i = 0; i < (1u << MONITOR_ADAPT_BITS); i++) {
		const struct monitor_adapt *a = &vm->adapt[(h + i) & ((1u << MONITOR_ADAPT_BITS) - 1)];
		if (!a->count)
			return false;
		if (a->eip == eip)
			return a->count >= ADAPT_AFTER;
	}
	return false;
}

/*
 * A host fault at `lin` in translated code.  Returns true if it was about
 * the kernel view (handled: retry, #PF raised, or a redirect requested),
 * false if it is something else.
 */
bool monitor_paging_fault(struct vcpu *v, uint32_t lin, bool write)
{
	struct monitor_vm *vm = v->vm;
	if (!vm->sm)
		return false;
	struct shadowmm_env env = monitor_paging_env(v);
	uint32_t pf;
	/* The faulting instruction: its access size (for writes to pages with
	 * code) and whether it could be redirected. */
	struct translator_insn in;
	uint8_t code[ZYDIS_MAX_INSTRUCTION_LENGTH];
	size_t n = 0;
	while (n < sizeof(code) &&
	       monitor_access_lin(v, v->seg[S_CS].base + v->eip + (uint32_t)n, &code[n], 1,
				  SHADOWMM_ACC_FETCH, true) == 0)
		n++;
	const struct translator_row *row = NULL;
	if (translator_decode(code, n, v->eip, &in) == 0)
		row = translator_classify(&in);
	bool redirectable = row && (row->rule == TR_COPY || row->rule == TR_INCDEC) &&
			    insn_has_mem(&in);
	uint32_t size = redirectable ? mem_size(&in) : 0;
	switch (shadowmm_kernel_fault(vm->sm, &env, lin, write, size, &pf)) {
	case SHADOWMM_RETRY:
		return true;
	case SHADOWMM_GUEST_PF:
		v->cr2 = lin;
		monitor_raise(v, VEC_PF, (int)pf);
		return true;
	case SHADOWMM_REDIRECT:
		break;
	}
	/* Only a ModRM memory operand of a copied instruction can be
	 * redirected; anything else writing a page table means the page is
	 * memory again. */
	if (!redirectable) {
		uint64_t gpa;
		if (monitor_translate(v, lin, 0, false, &gpa, &pf) == 0 &&
		    shadowmm_is_table(vm->sm, (uint32_t)(gpa >> 12))) {
			shadowmm_untrack(vm->sm, (uint32_t)(gpa >> 12));
			return true;
		}
		if (write && monitor_translate(v, lin, 0, false, &gpa, &pf) == 0 &&
		    shadowmm_has_code(vm->sm, (uint32_t)(gpa >> 12)) && vm->code_unprotect) {
			/* A string store or the like on a page with translated code:
			 * its translations go and the page is written freely; the
			 * instruction runs alone in a unit that protects nothing, so
			 * it cannot put the protection back under its own feet. */
			vm->code_unprotect(vm->hook_ctx, (uint32_t)(gpa >> 12));
			v->transient_next = true;
			return true;
		}
		monitor_stop(v, 2, "guest instruction at eip 0x%08x accesses linear 0x%08x, "
			     "which bt cannot map for it (below vm.mmap_min_addr or outside RAM)",
			     v->eip, lin);
		return true;
	}
	v->redirect_next = true;
	vm->redirect_faults++;
	if (adaptive_hit(vm, v->eip) && vm->retranslate)
		vm->retranslate(vm->hook_ctx, v->eip);
	return true;
}

/* ---- TLB-visible events ---- */

void monitor_paging_flush_global(struct vcpu *v)
{
	struct monitor_vm *vm = v->vm;
	if (!vm->sm)
		return;
	struct shadowmm_env env = monitor_paging_env(v), noglobal = env;
	/* The kernel view as after a CR3 write with PGE clear (nothing kept),
	 * then the real environment back. */
	noglobal.cr4 &= ~SHADOWMM_CR4_PGE;
	shadowmm_paging_changed(vm->sm, &noglobal, true, false);
	shadowmm_paging_changed(vm->sm, &env, false, false);
	if (vm->tlb_flush_global)
		vm->tlb_flush_global(vm->hook_ctx);
}

void monitor_paging_changed(struct vcpu *v, bool cr3_write, bool full)
{
	struct monitor_vm *vm = v->vm;
	if (!vm->sm)
		return;
	struct shadowmm_env env = monitor_paging_env(v);
	shadowmm_paging_changed(vm->sm, &env, cr3_write, full);
	if (vm->tlb_changed)
		vm->tlb_changed(vm->hook_ctx, full);
}

void monitor_invlpg(struct vcpu *v, uint32_t lin)
{
	if (v->vm->sm)
		shadowmm_invlpg(v->vm->sm, lin);
}
