# tests/: test guests (freestanding Multiboot kernels) and the native build of arith.
# See Makefile for the variables this appends to; tests/run-all.sh runs everything.

# Scripts run by `make test` find build products through $BUILD.
export BUILD

GUEST_CC     ?= gcc
GUEST_CFLAGS := -m32 -O2 -g -std=gnu11 -Wall -Wextra -Werror -ffreestanding -fno-pic \
                -fno-pie -fno-stack-protector -mgeneral-regs-only \
                -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
                -nostdlib -Itests/guests -MMD -MP
GUEST_LDFLAGS := -m32 -nostdlib -static -no-pie -Wl,--build-id=none \
                 -Wl,--no-warn-rwx-segments \
                 -Wl,-z,max-page-size=0x1000 -Wl,-T,tests/guests/lib/guest.ld
NATIVE_CFLAGS := -m32 -O2 -g -std=gnu11 -Wall -Wextra -Werror -fno-pie -no-pie -static

# Number of generated functions in arith (a few basic blocks each).
ARITH_BLOCKS ?= 2048

GUESTS := hello arith clisti faults triple reset vectors pit intshadow segments tss irqcost seglimits sdmonly \
          userirq vectors-ring3 user userbench escape pagebench lowpage paging pferr accdirty procs smc \
          pae fpu echo

GUEST_DIR      := $(BUILD)/tests/guests
GUEST_LIB_SRCS := $(wildcard tests/guests/lib/*.c tests/guests/lib/*.S)
GUEST_LIB_OBJS := $(patsubst tests/guests/%,$(GUEST_DIR)/%.o,$(basename $(GUEST_LIB_SRCS)))

TEST_TARGETS += $(GUESTS:%=$(GUEST_DIR)/%.elf) $(GUEST_DIR)/arith-native $(GUEST_DIR)/user-native \
                $(GUEST_DIR)/userbench-native

# More specific than the root's $(BUILD)/%.o rules, so these win for guest objects.
$(GUEST_DIR)/%.o: tests/guests/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_DIR)/%.o: tests/guests/%.S
	@mkdir -p $(dir $@)
	@echo "  GUESTAS $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

# Keep the objects make would otherwise delete as intermediates.
.SECONDARY: $(GUEST_LIB_OBJS) $(GUESTS:%=$(GUEST_DIR)/%.o)

$(GUEST_DIR)/%.elf: $(GUEST_DIR)/%.o $(GUEST_LIB_OBJS) tests/guests/lib/guest.ld
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^) -lgcc

# arith's generated blocks: one source, compiled for the guest and for the host.
$(GUEST_DIR)/arith-blocks.c: tests/guests/gen-blocks.sh tests/tests.mk
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)tests/guests/gen-blocks.sh $(ARITH_BLOCKS) > $@.tmp && mv $@.tmp $@

$(GUEST_DIR)/arith-blocks.o: $(GUEST_DIR)/arith-blocks.c
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(GUEST_DIR)/arith.elf: $(GUEST_DIR)/arith-blocks.o

$(GUEST_DIR)/arith-native: tests/guests/arith.c $(GUEST_DIR)/arith-blocks.c
	@echo "  CC      $@"
	$(Q)$(GUEST_CC) $(NATIVE_CFLAGS) -DARITH_NATIVE -o $@ $^

# user's compute programs: one source, linked into the guest and built for the host.
$(GUEST_DIR)/user.elf: $(GUEST_DIR)/user-compute.o

$(GUEST_DIR)/user-native: tests/guests/user-compute.c tests/guests/user-compute.h
	@echo "  CC      $@"
	$(Q)$(GUEST_CC) $(NATIVE_CFLAGS) -DUSER_NATIVE -o $@ $<

# userbench's compute loop and the host's getppid(), for comparison with the guest's numbers.
$(GUEST_DIR)/userbench-native: tests/guests/userbench.c
	@echo "  CC      $@"
	$(Q)$(GUEST_CC) $(NATIVE_CFLAGS) -DUSERBENCH_NATIVE -o $@ $<

.PHONY: guests
guests: $(GUESTS:%=$(GUEST_DIR)/%.elf) $(GUEST_DIR)/arith-native $(GUEST_DIR)/user-native \
        $(GUEST_DIR)/userbench-native

# ---- tests/corpus: the sensitive-instruction corpus (tests/corpus/README) ----
# One guest, tests/corpus/guest/*.c on the test guests' lib; `make corpus-oracle`
# rewrites tests/corpus/expected.out from QEMU, `make test` compares bt with it.
CORPUS_DIR  := $(BUILD)/tests/corpus
CORPUS_SRCS := $(wildcard tests/corpus/guest/*.c)
CORPUS_OBJS := $(patsubst tests/corpus/guest/%.c,$(CORPUS_DIR)/%.o,$(CORPUS_SRCS))

TEST_TARGETS += $(CORPUS_DIR)/corpus.elf

$(CORPUS_DIR)/%.o: tests/corpus/guest/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -Itests/corpus/guest -c -o $@ $<

$(CORPUS_DIR)/corpus.elf: $(CORPUS_OBJS) $(GUEST_LIB_OBJS) tests/guests/lib/guest.ld
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^) -lgcc

-include $(CORPUS_OBJS:.o=.d)

.PHONY: corpus-oracle
corpus-oracle: $(CORPUS_DIR)/corpus.elf
	tests/corpus/run.sh --oracle
