# Host unit tests (cmocka). Each tests/unit/test_<name>.c is linked with the hypervisor
# sources it names in tests/unit/<name>.srcs (one path per line) and tests/unit/host_shim.c;
# optional extra compiler flags in tests/unit/<name>.cflags (e.g. renaming symbols that
# would clash with the host C library).
UNIT_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Iinclude -I. \
	-DMOAT_HOST_TEST -fsanitize=address,undefined -fno-omit-frame-pointer
UNIT_TESTS  := $(patsubst tests/unit/test_%.c,%,$(wildcard tests/unit/test_*.c))
UNIT_BINS   := $(UNIT_TESTS:%=$(BUILD)/unit/test_%)

.PHONY: unit unit-bin
unit-bin: $(UNIT_BINS)

unit: unit-bin
	@python3 tests/run_all.py --only unit

# A test is compiled and linked in one command, where -MMD would keep one source's headers
# only: `gcc -MM` first lists the headers of all its sources in $(BUILD)/unit/deps/<name>.d
# (the Makefile includes every .d under $(BUILD)), so a changed header rebuilds the tests
# that include it.
$(BUILD)/unit/test_%: tests/unit/test_%.c tests/unit/%.srcs tests/unit/host_shim.c $$(shell cat tests/unit/$$*.srcs 2>/dev/null)
	@mkdir -p $(dir $@) $(BUILD)/unit/deps
	@$(CC) $(UNIT_CFLAGS) $(shell cat tests/unit/$*.cflags 2>/dev/null) -MM -MP -MT $@ $< \
		tests/unit/host_shim.c $(shell cat tests/unit/$*.srcs) > $(BUILD)/unit/deps/$*.d
	$(CC) $(UNIT_CFLAGS) $(shell cat tests/unit/$*.cflags 2>/dev/null) -o $@ $< tests/unit/host_shim.c \
		$(shell cat tests/unit/$*.srcs) -lcmocka
