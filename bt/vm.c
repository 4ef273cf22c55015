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

static void vm_set_irq(void *ctx, int irq, int level)
{
	struct vcpu *v = ctx;
	if (v->vm->pic)
		devices_pic_set_irq(v->vm->pic, irq, level);
}

/* The PIC's INTR pin: translated code notices at its next unit boundary. */
static void vm_set_intr(void *ctx, int level)
{
	struct vcpu *v = ctx;
	v->intr = (uint8_t)(level != 0);
	if (level && !v->in_service)
		v->exit_request = 1;
}

static uint64_t vm_now_ns(void *ctx)
{
	struct vcpu *v = ctx;
	return monitor_now_ns(v->vm);
}

/* Exit status after a guest-requested reset without --reboot: 0, as
 * QEMU's -no-reboot gives (a reboot is a clean way for a guest to end). */
#define RESET_EXIT_STATUS 0

static void vm_request_reset(void *ctx)
{
	struct vcpu *v = ctx;
	v->reset_requested = true;
	monitor_stop(v, RESET_EXIT_STATUS, NULL);
}

/*
 * bt does not mask address bit 20: every protected-mode guest enables A20
 * before it matters, and masking it would mean remapping the kernel view.
 * Record what the guest asked for, and say so once if it turns A20 off.
 */
static struct devices_i8042 *vm_kbc;
static struct devices_port92 *vm_p92;

static void vm_set_a20(void *ctx, int on)
{
	struct vcpu *v = ctx;
	static bool warned;
	/* A20 is on if either the i8042 output port or port 0x92 has it on,
	 * as PC chipsets OR the two. */
	(void)on;
	v->vm->a20 = (vm_kbc && devices_i8042_a20(vm_kbc)) || (vm_p92 && devices_port92_a20(vm_p92));
	if (!v->vm->a20 && !warned) {
		warned = true;
		fprintf(stderr, "bt: the guest disabled A20; bt keeps it enabled\n");
	}
}

/* CMOS bytes a PC BIOS leaves for the OS (memory sizes, equipment). */
static void fill_cmos(struct devices_rtc *rtc, uint64_t ram)
{
	uint64_t ext_kib = ram > (1u << 20) ? (ram - (1u << 20)) >> 10 : 0;
	uint64_t above16 = ram > (16u << 20) ? (ram - (16u << 20)) >> 16 : 0;
	if (ext_kib > 0xffff)
		ext_kib = 0xffff;
	if (above16 > 0xffff)
		above16 = 0xffff;
	devices_rtc_set_cmos(rtc, 0x15, 640 & 0xff);	/* base memory, KiB */
	devices_rtc_set_cmos(rtc, 0x16, 640 >> 8);
	devices_rtc_set_cmos(rtc, 0x17, (uint8_t)ext_kib);	/* extended memory, KiB */
	devices_rtc_set_cmos(rtc, 0x18, (uint8_t)(ext_kib >> 8));
	devices_rtc_set_cmos(rtc, 0x30, (uint8_t)ext_kib);
	devices_rtc_set_cmos(rtc, 0x31, (uint8_t)(ext_kib >> 8));
	devices_rtc_set_cmos(rtc, 0x34, (uint8_t)above16);	/* above 16 MiB, 64 KiB units */
	devices_rtc_set_cmos(rtc, 0x35, (uint8_t)(above16 >> 8));
	devices_rtc_set_cmos(rtc, 0x10, 0);	/* no floppy drives */
	devices_rtc_set_cmos(rtc, 0x12, 0);	/* no hard disks */
	devices_rtc_set_cmos(rtc, 0x14, 0);	/* equipment: no x87, EGA/VGA class */
	/* The checksum of 0x10-0x2D (of what is set above: 0x15-0x18), high
	 * byte first at 0x2E. */
	uint16_t sum = (uint16_t)((640 & 0xff) + (640 >> 8) + (ext_kib & 0xff) + (ext_kib >> 8));
	devices_rtc_set_cmos(rtc, 0x2e, (uint8_t)(sum >> 8));
	devices_rtc_set_cmos(rtc, 0x2f, (uint8_t)sum);
}

/* Guest code fetch for the translator: through the guest's page tables,
 * page by page, up to the first byte that cannot be fetched (the unit then
 * ends before it, or raises the #PF if it is the first instruction). */
static size_t fetch_code(void *ctx, uint32_t eip, uint8_t *buf, size_t len)
{
	struct vcpu *v = ctx;
	uint32_t lin = v->seg[S_CS].base + eip;
	size_t got = 0;
	while (got < len) {
		size_t chunk = 4096 - ((lin + got) & 4095);
		if (chunk > len - got)
			chunk = len - got;
		if (monitor_access_lin(v, lin + (uint32_t)got, buf + got, chunk, SHADOWMM_ACC_FETCH,
				       true) < 0)
			break;
		got += chunk;
	}
	return got;
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

/* The kernel as loaded: which boot protocol, and its entry state. */
struct vm_boot {
	bool is_linux;
	struct linux_boot lx;
	struct multiboot_boot mb;
};

/* Loads the kernel: a Linux bzImage if it has the boot protocol header,
 * else a Multiboot kernel (whose loader also reports unreadable files). */
static int vm_load(struct monitor_vm *vm, const struct bt_options *o, struct vm_boot *b,
		   char *err, size_t len)
{
	int r = monitor_linux_probe(o->kernel);

	b->is_linux = r > 0;
	if (b->is_linux)
		return monitor_linux_load(&vm->mem, o->kernel, o->append, o->initrd, &b->lx, err,
					  len);
	if (r == 0 && o->initrd) {
		snprintf(err, len, "--initrd needs a Linux kernel: '%s' has no Linux boot protocol "
			 "header (bt passes no Multiboot modules)", o->kernel);
		return -EINVAL;
	}
	return monitor_multiboot_load(&vm->mem, o->kernel, o->append, &b->mb, err, len);
}

static void vm_reset_cpu(struct vcpu *v, const struct vm_boot *b)
{
	if (b->is_linux)
		monitor_vcpu_reset_linux(v, &b->lx);
	else
		monitor_vcpu_reset_multiboot(v, &b->mb);
}

int bt_vm_run(const struct bt_options *o)
{
	static struct monitor_vm vm;	/* one per process: it owns [0, 4 GiB) */
	struct vcpu *v = &vm.cpu;
	struct runtime rt;
	struct vm_boot boot;
	char err[512];
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
	r = vm_load(&vm, o, &boot, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "bt: %s\n", err);
		goto out_mem;
	}
	r = monitor_kview_map_identity(&vm.mem);
	if (r < 0) {
		fprintf(stderr, "bt: cannot map guest RAM into the kernel view: %s\n", strerror(-r));
		goto out_mem;
	}

	/* The clock first: devices read it when they are created. */
	r = monitor_clock_init(&vm);
	if (r < 0) {
		fprintf(stderr, "bt: cannot create the host timer for the guest clock: %s\n",
			strerror(-r));
		goto out_mem;
	}
	devices_bus_init(&vm.bus);
	vm.machine = (struct devices_machine){
		.ctx = v, .request_exit = vm_request_exit, .set_irq = vm_set_irq,
		.set_intr = vm_set_intr, .now_ns = vm_now_ns, .request_reset = vm_request_reset,
		.set_a20 = vm_set_a20,
	};
	vm.a20 = true;
	vm.pic = devices_pic_create(&vm.bus, &vm.machine);
	struct devices_pit *pit = devices_pit_create(&vm.bus, &vm.machine);
	struct devices_rtc *rtc = devices_rtc_create(&vm.bus, &vm.machine);
	struct devices_i8042 *kbc = devices_i8042_create(&vm.bus, &vm.machine);
	struct devices_port92 *p92 = devices_port92_create(&vm.bus, &vm.machine);
	struct devices_uart16550 *com1 = devices_uart16550_create(&vm.bus, 0x3f8, 4, STDOUT_FILENO,
								   &vm.machine);
	struct devices_debugexit *dbg = devices_debugexit_create(&vm.bus, 0xf4, &vm.machine);
	struct devices_port80 *p80 = devices_port80_create(&vm.bus, 0x80);
	struct devices_pci *pci = devices_pci_create(&vm.bus, &vm.machine);
	struct devices_acpi *acpi = devices_acpi_create(&vm.bus, &vm.machine);
	if (!vm.pic || !pit || !rtc || !kbc || !p92 || !com1 || !dbg || !p80 || !pci || !acpi) {
		fprintf(stderr, "bt: cannot create the PC devices: %s\n", strerror(errno));
		goto out_dev;
	}
	fill_cmos(rtc, vm.mem.size);
	r = devices_acpi_build_tables(vm.mem.physmap, vm.mem.size);
	if (r < 0) {
		fprintf(stderr, "bt: cannot build the ACPI tables: %s\n", strerror(-r));
		goto out_dev;
	}
	vm_kbc = kbc;
	vm_p92 = p92;

	r = runtime_init(&rt, v, o->tcache_mib << 20, (uint32_t)o->tu_max_insns, o->stats,
			 fetch_code, v);
	if (r < 0) {
		fprintf(stderr, "bt: cannot set up the translation cache: %s\n", strerror(-r));
		goto out_dev;
	}
	r = runtime_signals_init();
	if (r < 0) {
		fprintf(stderr, "bt: cannot install signal handlers: %s\n", strerror(-r));
		goto out_rt;
	}
	vm.dump_recent = runtime_dump_recent;
	vm.dump_ctx = &rt;

	/* The serial console's host end: stdin to COM1 (bt/console.c). */
	struct bt_console *console = bt_console_create(&vm, com1, STDIN_FILENO);
	if (!console) {
		fprintf(stderr, "bt: cannot set up the console on stdin: %s\n", strerror(errno));
		goto out_rt;
	}

	vm_reset_cpu(v, &boot);
	/* The guest's TSC is the host's: ring-3 code reads it directly. */
	v->tsc_offset = 0;
	for (;;) {
		status = runtime_run(&rt);
		if (!v->reset_requested || !o->reboot)
			break;
		/* A machine reset with --reboot: devices and CPU to their reset
		 * state, the kernel loaded afresh, translations dropped. */
		runtime_reset(&rt);
		devices_bus_reset(&vm.bus);
		r = vm_load(&vm, o, &boot, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "bt: reboot: %s\n", err);
			status = 1;
			break;
		}
		devices_acpi_build_tables(vm.mem.physmap, vm.mem.size);	/* cannot fail twice */
		monitor_vcpu_restart(v);
		vm_reset_cpu(v, &boot);
		monitor_paging_changed(v, false, true);
	}
	bt_console_destroy(console);	/* the terminal back before anything else is said */
	if (o->stats)
		runtime_print_stats(&rt, stderr);
out_rt:
	runtime_destroy(&rt);
out_dev:
	if (acpi)
		devices_acpi_destroy(acpi);
	if (pci)
		devices_pci_destroy(pci);
	if (com1)
		devices_uart16550_destroy(com1);
	if (dbg)
		devices_debugexit_destroy(dbg);
	if (p80)
		devices_port80_destroy(p80);
	if (p92)
		devices_port92_destroy(p92);
	if (kbc)
		devices_i8042_destroy(kbc);
	if (rtc)
		devices_rtc_destroy(rtc);
	if (pit)
		devices_pit_destroy(pit);
	if (vm.pic)
		devices_pic_destroy(vm.pic);
out_mem:
	monitor_clock_destroy(&vm);
	monitor_guestmem_destroy(&vm.mem);
	return status;
}
