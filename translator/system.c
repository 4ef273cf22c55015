/* translator/system.c: CLI/STI inline against the virtual IF, and monitor callouts. */
#include "monitor/monitor.h"
#include "translator/internal.h"

bool tr_system(struct tctx *c, const struct translator_insn *in, const struct translator_row *row)
{
	struct hmem vif = hm_base(HR_VCPU, VCPU_VIF);
	switch (row->rule) {
	case TR_CLI:
		/* XXX: CPL > 0 needs CPL <= IOPL, else #GP; rings 1-3 come later. */
		return em_store8_i(&c->e, &vif, 0);
	case TR_STI:
		/*
		 * STI delays interrupts by one instruction (SDM vol. 2, STI).
		 * The unit ends after STI; the next unit's entry check is where
		 * a pending interrupt is taken.  XXX: that check comes before
		 * the shadowed instruction, not after; the exact shadow arrives
		 * with interrupt delivery.
		 */
		return em_store8_i(&c->e, &vif, 1) && tctx_exit_checked(c, c->next_eip);
	case TR_CALLOUT:
		return tctx_callout(c, row->callout, in);
	case TR_CALLOUT_END:
		/* The monitor returns here only if execution simply continues
		 * at the next instruction; otherwise it leaves translated code. */
		return tctx_callout(c, row->callout, in) && tctx_exit_checked(c, c->next_eip);
	case TR_UD:
	default:
		c->ended = true;
		return tctx_callout(c, CO_NONE, in);
	}
}
