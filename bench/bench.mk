# bench/: the benchmark harness (bench/README.md). `make bench` runs bench/run.sh, which
# prints the table and writes $(BUILD)/bench/results.csv and results.png; it is not
# part of `make test`.

BENCH_DIR := $(BUILD)/bench
# Static 32-bit programs run natively (macro also inside the Linux guest).
MACRO_CFLAGS := -m32 -O2 -static -std=gnu11 -D_GNU_SOURCE -Wall -Wextra -Werror

$(BENCH_DIR)/nano/%.o: bench/nano/%.c
	@mkdir -p $(dir $@)
	@echo "  GUESTCC $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/nano/%.o: bench/nano/%.S
	@mkdir -p $(dir $@)
	@echo "  GUESTAS $<"
	$(Q)$(GUEST_CC) $(GUEST_CFLAGS) -c -o $@ $<

$(BENCH_DIR)/nano/nano.elf: $(BENCH_DIR)/nano/nano.o $(BENCH_DIR)/nano/loops.o $(GUEST_LIB_OBJS) \
                            tests/guests/lib/guest.ld
	@echo "  GUESTLD $@"
	$(Q)$(GUEST_CC) $(GUEST_LDFLAGS) -o $@ $(filter %.o,$^) -lgcc

# The same loops.S, assembled for the host with the native program.
$(BENCH_DIR)/nano/nano-native: bench/nano/native.c bench/nano/loops.S bench/nano/loops.h
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(GUEST_CC) $(MACRO_CFLAGS) -o $@ $(filter %.c %.S,$^)

$(BENCH_DIR)/macro/macro: bench/macro/macro.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(GUEST_CC) $(MACRO_CFLAGS) -o $@ $<

-include $(BENCH_DIR)/nano/nano.d $(BENCH_DIR)/nano/loops.d

BENCH_BINS := $(BENCH_DIR)/nano/nano.elf $(BENCH_DIR)/nano/nano-native $(BENCH_DIR)/macro/macro

.PHONY: bench bench-bins
bench-bins: $(BENCH_BINS)

bench: $(BUILD)/bt $(BENCH_BINS)
	$(Q)BUILD=$(BUILD) bench/run.sh
