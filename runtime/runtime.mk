# runtime/: entry/exit stubs, callouts, signal handling, the dispatcher, stub processes.
LIB_SRCS += runtime/entry.S runtime/signals.c runtime/dispatch.c runtime/stub.c \
            runtime/user.c runtime/mmu.c \
            runtime/stubimage.S

# The stub program: freestanding x86-64, no libc, linked above 4 GiB (stubctl.h),
# never touching FPU/SSE registers (they hold the guest's).
STUB_ELF    := $(BUILD)/runtime/stub.elf
STUB_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -I. -ffreestanding -fno-builtin \
               -fno-pie -fno-pic -mcmodel=large -fno-stack-protector -mgeneral-regs-only \
               -fno-asynchronous-unwind-tables -fcf-protection=none -MMD -MP
STUB_LDFLAGS := -nostdlib -static -no-pie -Wl,-Ttext-segment=0x1000000000 \
                -Wl,--build-id=none -Wl,-z,noexecstack

$(STUB_ELF): runtime/stubproc.c runtime/stubproc.S runtime/stubctl.h
	@mkdir -p $(dir $@)
	@echo "  STUB    $@"
	$(Q)$(CC) $(STUB_CFLAGS) $(STUB_LDFLAGS) -o $@ runtime/stubproc.c runtime/stubproc.S

$(BUILD)/obj/runtime/stubimage.o: runtime/stubimage.S $(STUB_ELF)
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(ASFLAGS) -DSTUB_ELF='"$(STUB_ELF)"' -c -o $@ $<
