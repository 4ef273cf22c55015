/* monitor/linear.c: guest linear memory as the monitor sees it when emulating. */
#include <errno.h>

#include "monitor/monitor.h"

/*
 * Paging is off, so linear addresses are physical.  An access outside RAM
 * raises nothing on a PC (it reads open bus); bt has no MMIO yet, so the
 * caller treats -EFAULT as a fatal guest error.  XXX: page walks arrive with
 * the shadow MMU.
 */
int monitor_read_lin(struct vcpu *v, uint32_t lin, void *dst, size_t n)
{
	if (monitor_phys_read(&v->vm->mem, lin, dst, n) < 0) {
		monitor_stop(v, 2, "guest read of %zu bytes at 0x%08x is outside guest RAM "
			     "(eip=0x%08x)", n, lin, v->eip);
		return -EFAULT;
	}
	return 0;
}

int monitor_write_lin(struct vcpu *v, uint32_t lin, const void *src, size_t n)
{
	if (monitor_phys_write(&v->vm->mem, lin, src, n) < 0) {
		monitor_stop(v, 2, "guest write of %zu bytes at 0x%08x is outside guest RAM "
			     "(eip=0x%08x)", n, lin, v->eip);
		return -EFAULT;
	}
	return 0;
}

int monitor_peek_lin(struct vcpu *v, uint32_t lin, void *dst, size_t n)
{
	return monitor_phys_read(&v->vm->mem, lin, dst, n);
}
