# tests/decoders/: the Zydis/Capstone cross-check (issue 7 item 3). tests/run-all.sh
# runs $(BUILD)/tests/decoders/crosscheck on its seeded random strings and on the hex
# files built here; see the head of tests/decoders/crosscheck.c (--count N for more).
DECODERS_DIR := $(BUILD)/tests/decoders

TEST_TARGETS += $(DECODERS_DIR)/crosscheck $(DECODERS_DIR)/guests.hex $(DECODERS_DIR)/corpus.hex

$(DECODERS_DIR)/crosscheck: tests/decoders/crosscheck.c $(BUILD)/libbt.a
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libbt.a $(LDLIBS)

# The instructions of the test guests, one hex line each (objdump's view of their code).
$(DECODERS_DIR)/guests.hex: tests/decoders/guest-insns.sh $(GUESTS:%=$(GUEST_DIR)/%.elf)
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)tests/decoders/guest-insns.sh $(filter %.elf,$^) > $@.tmp && mv $@.tmp $@

# The instructions of the sensitive-instruction corpus (tests/corpus), the same way.
$(DECODERS_DIR)/corpus.hex: tests/decoders/guest-insns.sh $(CORPUS_DIR)/corpus.elf
	@mkdir -p $(dir $@)
	@echo "  GEN     $@"
	$(Q)tests/decoders/guest-insns.sh $(filter %.elf,$^) > $@.tmp && mv $@.tmp $@
