# monitor/: vCPU state, privileged-instruction emulation, guest memory, boot loaders.
LIB_SRCS   += monitor/guestmem.c monitor/bootfile.c monitor/multiboot.c monitor/linuxboot.c \
	      monitor/vcpu.c monitor/operand.c \
	      monitor/linear.c monitor/exceptions.c monitor/descriptors.c monitor/cr.c \
	      monitor/ioport.c monitor/cpuid.c monitor/misc.c monitor/callout.c \
	      monitor/clock.c monitor/debug.c monitor/task.c \
	      monitor/transfer.c monitor/privilege.c monitor/stackemu.c monitor/string.c monitor/user.c monitor/paging.c \
	      monitor/fpu.c monitor/fpuexec.S
UNIT_TESTS += monitor_guestmem_test monitor_multiboot_test monitor_linuxboot_test
