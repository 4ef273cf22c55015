/* monitor/linear.c: guest linear memory as the monitor sees it when emulating. */
#include <errno.h>

#include "monitor/monitor.h"
#include "shadowmm/shadowmm.h"

/*
 * Accesses the monitor makes for the guest (descriptor tables, the TSS,
 * exception frames, emulated instructions' operands) are supervisor
 * accesses through the guest's page tables (monitor/paging.c); with paging
 * off linear = physical.
 */
int monitor_read_lin(struct vcpu *v, uint32_t lin, void *dst, size_t n)
{
	return monitor_access_lin(v, lin, dst, n, 0, false);
}

int monitor_write_lin(struct vcpu *v, uint32_t lin, const void *src, size_t n)
{
	return monitor_access_lin(v, lin, (void *)src, n, SHADOWMM_ACC_WRITE, false);
}

int monitor_peek_lin(struct vcpu *v, uint32_t lin, void *dst, size_t n)
{
	return monitor_access_lin(v, lin, dst, n, 0, true);
}
