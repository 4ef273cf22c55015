# bt: root Makefile. Each directory contributes one <dir>/<dir>.mk that appends
# to the variables below; objects land under build/ mirroring the sources.
# `make V=1` shows the commands.

CC       ?= gcc
BUILD    ?= build
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -MMD -MP \
            -fno-strict-aliasing
ASFLAGS  += -I. -MMD -MP
LDLIBS   += -lZydis -lcapstone

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Sources that make up the monitor library (everything but bt's main()).
LIB_SRCS :=
# Sources of the bt executable proper.
BT_SRCS :=
# Unit tests: names of tests/unit/<name>.c; each links against libbt.a + cmocka.
UNIT_TESTS :=
# Targets that `make test` runs after the unit tests.
TEST_TARGETS :=

all: $(BUILD)/bt

include bt/bt.mk
include translator/translator.mk
include tcache/tcache.mk
include runtime/runtime.mk
include monitor/monitor.mk
include shadowmm/shadowmm.mk
include devices/devices.mk
include tests/tests.mk
include tests/decoders/decoders.mk
include bench/bench.mk

obj = $(patsubst %,$(BUILD)/obj/%.o,$(basename $(1)))
LIB_OBJS := $(call obj,$(LIB_SRCS))
BT_OBJS  := $(call obj,$(BT_SRCS))

$(BUILD)/libbt.a: $(LIB_OBJS)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bt: $(BT_OBJS) $(BUILD)/libbt.a
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(BT_OBJS) $(BUILD)/libbt.a $(LDLIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/obj/%.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(ASFLAGS) -c -o $@ $<

UNIT_BINS := $(patsubst %,$(BUILD)/tests/unit/%,$(UNIT_TESTS))

$(BUILD)/tests/unit/%: tests/unit/%.c $(BUILD)/libbt.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libbt.a $(LDLIBS) -lcmocka

unit: $(UNIT_BINS)
	$(Q)tests/run-unit.sh $(UNIT_BINS)

test: all $(UNIT_BINS) $(TEST_TARGETS)
	$(Q)tests/run-all.sh

setup:
	$(Q)scripts/setup.sh

clean:
	rm -rf $(BUILD)

.PHONY: all test unit setup clean
.DELETE_ON_ERROR:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

# The README's main command: boot Debian's i386 kernel (linux-image-686) to a busybox
# shell on the serial console; scripts/linux-image.sh downloads and caches it in
# cache/linux/. VMM=qemu boots the same image under qemu-system-i386 -accel tcg;
# LINUX_APPEND is the kernel command line, MEM the guest RAM in MiB (256).
VMM          ?= bt
LINUX_APPEND ?= console=ttyS0 loglevel=6 panic=-1
LINUX_CACHE  ?= cache/linux

run: $(if $(filter bt,$(VMM)),$(BUILD)/bt)
	$(Q)LINUX_CACHE=$(LINUX_CACHE) scripts/linux-image.sh
	$(Q)tests/linux/run-linux.sh --$(VMM) $(LINUX_CACHE)/vmlinuz $(LINUX_CACHE)/initrd.gz \
		"$(LINUX_APPEND)"

# The demo guest: it ends through isa-debug-exit with 0, which bt (like QEMU)
# reports as status 1.
run-demo: $(BUILD)/bt $(BUILD)/tests/guests/hello.elf
	$(Q)$(BUILD)/bt run --kernel $(BUILD)/tests/guests/hello.elf || [ $$? -eq 1 ]

.PHONY: run run-demo
