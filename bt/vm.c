/* bt/vm.c: assembling a VM from the options (memory, devices, boot, runtime) and running it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cpuid.h>
#include <x86intrin.h>

#include "bt/bt.h"
#include "devices/devices.h"
#include "monitor/monitor.h"
#include "runtime/runtime.h"

static void vm_request_exit(void *ctx, int status)
{
	struct vcpu *v = ctx;
	monitor_stop(v, status, NULL);
}

/* Guest code fetch for the translator: paging is off, linear = physical. */
static size_t fetch_code(void *ctx, uint32_t eip, uint8_t *buf, size_t len)
{
	struct guestmem *gm = ctx;
	if (eip >= gm->size)
		return 0;
	if (len > gm->size - eip)
		len = (size_t)(gm->size - eip);
	memcpy(buf, gm->physmap + eip, len);
	return len;
}

/* Host CPU features translated code relies on; NULL if all are present. */
static const char *host_lacks(void)
{
	unsigned a, b, c, d;
	/* rorx: the flag-free hash of the inline indirect-branch lookup. */
	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(b & (1u << 8)))
		return "BMI2 (rorx), used by the inline indirect-branch lookup";
	/* LAHF/SAHF in 64-bit mode: guest LAHF/SAHF are copied as they are. */
	if (!__get_cpuid(0x80000001, &a, &b, &c, &d) || !(c & 1))
		return "LAHF/SAHF in 64-bit mode, used by copied guest LAHF/SAHF";
	return NULL;
}

int bt_vm_run(const struct bt_options *o)
{
	static struct monitor_vm vm;	/* one per process: it owns [0, 4 GiB) */
	struct vcpu *v = &vm.cpu;
	struct runtime rt;
	struct multiboot_boot boot;
	char err[256];
	int status = 1, r;

	const char *lack = host_lacks();
	if (lack) {
		fprintf(stderr, "bt: this host CPU lacks %s\n", lack);
		return 1;
	}
	memset(&vm, 0, sizeof(vm));
	v->vm = &vm;
	r = monitor_guestmem_init(&vm.mem, o->mem_mib << 20);
	if (r < 0) {
		fprintf(stderr, "bt: cannot allocate %llu MiB of guest RAM: %s\n",
			(unsigned long long)o->mem_mib, strerror(-r));
		return 1;
	}
	r = monitor_kview_reserve(&vm.mem);
	if (r < 0) {
		if (r == -EEXIST) {
			monitor_kview_conflict_message(&vm.mem, err, sizeof(err));
			fprintf(stderr, "%s\n", err);
		} else {
			fprintf(stderr, "bt: cannot reserve host [0, 4 GiB) for the guest kernel view: %s\n",
				strerror(-r));
		}
		goto out_mem;
	}
	r = monitor_multiboot_load(&vm.mem, o->kernel, o->append, &boot, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bt: %s\n", err);
		goto out_mem;
	}
	r = monitor_kview_map_identity(&vm.mem);
	if (r < 0) {
		fprintf(stderr, "bt: cannot map guest RAM into the kernel view: %s\n", strerror(-r));
		goto out_mem;
	}

	devices_bus_init(&vm.bus);
	vm.machine = (struct devices_machine){ .ctx = v, .request_exit = vm_request_exit };
	struct devices_uart16550 *com1 = devices_uart16550_create(&vm.bus, 0x3f8, 4, STDOUT_FILENO,
								   &vm.machine);
	struct devices_debugexit *dbg = devices_debugexit_create(&vm.bus, 0xf4, &vm.machine);
	struct devices_port80 *p80 = devices_port80_create(&vm.bus, 0x80);
	if (!com1 || !dbg || !p80) {
		fprintf(stderr, "bt: cannot create the PC devices: %s\n", strerror(errno));
		goto out_dev;
	}

	r = runtime_init(&rt, v, o->tcache_mib << 20, (uint32_t)o->tu_max_insns, o->stats,
			 fetch_code, &vm.mem);
	if (r < 0) {
		fprintf(stderr, "bt: cannot set up the translation cache: %s\n", strerror(-r));
		goto out_dev;
	}
	r = runtime_signals_init();
	if (r < 0) {
		fprintf(stderr, "bt: cannot install signal handlers: %s\n", strerror(-r));
		goto out_rt;
	}
	monitor_vcpu_reset_multiboot(v, &boot);
	v->tsc_offset = __rdtsc();
	status = runtime_run(&rt);
	if (o->stats)
		runtime_print_stats(&rt, stderr);
out_rt:
	runtime_destroy(&rt);
out_dev:
	if (com1)
		devices_uart16550_destroy(com1);
	if (dbg)
		devices_debugexit_destroy(dbg);
	if (p80)
		devices_port80_destroy(p80);
out_mem:
	monitor_guestmem_destroy(&vm.mem);
	return status;
}
