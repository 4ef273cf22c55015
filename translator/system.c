/* translator/system.c: CLI/STI inline against the virtual IF, and monitor callouts. */
#include "monitor/monitor.h"
#include "translator/internal.h"

bool tr_system(struct tctx *c, const struct translator_insn *in, const struct translator_row *row)
{
	struct hmem vif = hm_base(HR_VCPU, VCPU_VIF);
	switch (row->rule) {
	case TR_CLI:
		return em_store8_i(&c->e, &vif, 0);
	case TR_STI: {
		/*
		 * STI delays interrupts until after the next instruction (SDM
		 * vol. 2, STI; vol. 3, 6.8.3).  With nothing waiting on INTR the
		 * unit simply goes on (chained, no check); with an interrupt
		 * waiting it leaves so the dispatcher runs exactly one more
		 * instruction before taking it.  The INTR test is a jrcxz so the
		 * guest's flags stay untouched.
		 */
		struct emitter *e = &c->e;
		struct hmem intr = hm_base(HR_VCPU, VCPU_INTR);
		static const uint8_t movzx8[] = { 0x0f, 0xb6 };
		if (!em_store8_i(e, &vif, 1) || !em_mov64_rr(e, HR_R11, HR_RCX) ||
		    !em_mem(e, NULL, 0, false, false, movzx8, 2, HR_RCX, &intr) ||
		    !em_u8(e, 0xe3) || !em_u8(e, 0))
			return false;
		size_t jr = e->pos;
		if (!em_mov64_rr(e, HR_RCX, HR_R11) || !tctx_leave(c, EXIT_SHADOW, c->next_eip))
			return false;
		e->w[jr - 1] = (uint8_t)(e->pos - jr);
		return em_mov64_rr(e, HR_RCX, HR_R11) && tctx_exit_direct(c, c->next_eip);
	}
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
