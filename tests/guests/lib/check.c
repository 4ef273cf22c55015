/* Check lines ("NAME: ok   what = value" / "NAME: FAIL ..."), their tally, and a hook that catches expected traps. */
#include "guest.h"

static const char *name = "guest";
static int passed, failed;

struct trap_frame trap_seen;
uint32_t trap_cr2;
int trap_hits;
uint32_t trap_resume;

void check_init(const char *test_name)
{
	name = test_name;
	passed = failed = 0;
}

int check_tally(int ok)
{
	if (ok)
		passed++;
	else
		failed++;
	return ok;
}

int check(const char *what, uint32_t got, uint32_t want)
{
	if (check_tally(got == want))
		guest_printf("%s: ok   %s = 0x%08x\n", name, what, got);
	else
		guest_printf("%s: FAIL %s = 0x%08x, want 0x%08x\n", name, what, got, want);
	return got == want;
}

int check_range(const char *what, uint32_t got, uint32_t lo, uint32_t hi)
{
	int ok = got >= lo && got <= hi;

	if (check_tally(ok))
		guest_printf("%s: ok   %s in [%u,%u]\n", name, what, lo, hi);
	else
		guest_printf("%s: FAIL %s = %u, want [%u,%u]\n", name, what, got, lo, hi);
	return ok;
}

int check_true(const char *what, int cond)
{
	guest_printf("%s: %s %s\n", name, check_tally(cond) ? "ok  " : "FAIL", what);
	return cond;
}

int check_done(void)
{
	guest_printf("%s: %d passed, %d failed\n", name, passed, failed);
	return failed ? 1 : 0;
}

int check_pf(const char *what, uint32_t eip, uint32_t cr2, uint32_t error)
{
	int ok = trap_hits == 1 && trap_seen.vector == 14 && trap_seen.error == error &&
		 trap_cr2 == cr2 && trap_seen.eip == eip;

	if (check_tally(ok))
		guest_printf("%s: ok   %s: #PF error 0x%x CR2 0x%08x at the instruction\n", name, what, error,
			     cr2);
	else
		guest_printf("%s: FAIL %s: %d traps, vector %u error 0x%x CR2 0x%08x EIP - insn %d; "
			     "want #PF error 0x%x CR2 0x%08x\n", name, what, trap_hits, trap_seen.vector,
			     trap_seen.error, trap_cr2, (int)(trap_seen.eip - eip), error, cr2);
	return ok;
}

static int catch_hook(struct trap_frame *f)
{
	/* Before anything here can fault and change it. */
	trap_cr2 = read_cr2();
	trap_seen = *f;
	trap_hits++;
	if (trap_resume)
		f->eip = trap_resume;
	return 1;
}

void trap_catch(uint32_t resume)
{
	trap_hits = 0;
	trap_cr2 = 0;
	trap_resume = resume;
	memset(&trap_seen, 0, sizeof(trap_seen));
	trap_seen.vector = ~0u;
	guest_trap_hook = catch_hook;
}

void trap_uncatch(void)
{
	guest_trap_hook = 0;
}
