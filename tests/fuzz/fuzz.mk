# Fuzz targets (docs/testing.md, "Fuzzing"). Each tests/fuzz/<t>.c defines LLVMFuzzerTestOneInput
# and is linked with the hypervisor sources named in tests/fuzz/<t>.srcs, the unit tests'
# host shim and moat's own string and printf (every target renames the C library's string
# functions to moat's, as tests/unit/libc.cflags does).
#   make fuzz            every target under libFuzzer for FUZZ_SECONDS (default 60) each
#   make fuzz FUZZ_TARGETS="mb2 elf"   only those
#   make fuzz-cov        line coverage of each target's files from its grown corpus
# `make unit` builds each target with tests/fuzz/replay.c under gcc + ASan + UBSan
# (build/unit/test_fuzz_<t>) and replays the seed corpus and the regression inputs; its
# headers are listed in build/unit/deps/fuzz_<t>.d (as tests/unit/unit.mk does).
FUZZ_ALL     := $(patsubst tests/fuzz/%.srcs,%,$(wildcard tests/fuzz/*.srcs))
FUZZ_TARGETS ?= $(FUZZ_ALL)
FUZZ_SECONDS ?= 60
FUZZ_CLANG   ?= clang
FUZZ_RENAME  := -fno-builtin -Dmemset=moat_memset -Dmemcpy=moat_memcpy -Dmemmove=moat_memmove \
	-Dmemcmp=moat_memcmp -Dstrlen=moat_strlen -Dstrnlen=moat_strnlen -Dstrcmp=moat_strcmp \
	-Dstrncmp=moat_strncmp -Dstrchr=moat_strchr -Dstrlcpy=moat_strlcpy \
	-Dvsnprintf=moat_vsnprintf -Dsnprintf=moat_snprintf -Dstrstr=moat_strstr
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -Wall -Wextra -Wno-unused-parameter -Iinclude -I. \
	-Itests/unit -Itests/fuzz -DMOAT_HOST_TEST -DMOAT_FUZZ -fno-omit-frame-pointer $(FUZZ_RENAME)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
# A .srcs line may end in a comment: '# cov' marks a file whose coverage make fuzz-cov reports.
fuzz_list     = $(shell sed 's/[#].*//' tests/fuzz/$(1).srcs)
fuzz_srcs     = tests/fuzz/$(1).c $(sort tests/unit/host_shim.c lib/string.c lib/printf.c \
	$(call fuzz_list,$(1)))
FUZZ_REPLAY  := $(FUZZ_ALL:%=$(BUILD)/unit/test_fuzz_%)

.PHONY: fuzz fuzz-bin fuzz-cov
unit-bin: $(FUZZ_REPLAY)

$(BUILD)/unit/test_fuzz_%: tests/fuzz/%.c tests/fuzz/%.srcs tests/fuzz/replay.c tests/fuzz/fuzz.h \
		tests/unit/host_shim.c $$(call fuzz_list,$$*)
	@mkdir -p $(dir $@) $(BUILD)/unit/deps
	@$(CC) $(FUZZ_CFLAGS) $(shell cat tests/fuzz/$*.cflags 2>/dev/null) -MM -MP -MT $@ \
		-DFUZZ_NAME='"$*"' -DFUZZ_DIR='"$(CURDIR)/tests/fuzz"' tests/fuzz/replay.c \
		$(call fuzz_srcs,$*) > $(BUILD)/unit/deps/fuzz_$*.d
	$(CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(shell cat tests/fuzz/$*.cflags 2>/dev/null) \
		-DFUZZ_NAME='"$*"' -DFUZZ_DIR='"$(CURDIR)/tests/fuzz"' -o $@ \
		tests/fuzz/replay.c $(call fuzz_srcs,$*)

$(BUILD)/fuzz/bin/%: tests/fuzz/%.c tests/fuzz/%.srcs tests/fuzz/fuzz.h tests/fuzz/cov_ignore.txt tests/unit/host_shim.c \
		$$(call fuzz_list,$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-fsanitize-coverage-ignorelist=tests/fuzz/cov_ignore.txt \
		$(shell cat tests/fuzz/$*.cflags 2>/dev/null) -o $@ $(call fuzz_srcs,$*)

# Coverage build: clang source-based coverage, the replay main, no sanitizers.
$(BUILD)/fuzz/cov/%: tests/fuzz/%.c tests/fuzz/%.srcs tests/fuzz/replay.c tests/fuzz/fuzz.h \
		tests/unit/host_shim.c $$(call fuzz_list,$$*)
	@mkdir -p $(dir $@)
	$(FUZZ_CLANG) $(FUZZ_CFLAGS) -fprofile-instr-generate -fcoverage-mapping \
		$(shell cat tests/fuzz/$*.cflags 2>/dev/null) -DFUZZ_NAME='"$*"' \
		-DFUZZ_DIR='"$(CURDIR)/tests/fuzz"' -o $@ tests/fuzz/replay.c $(call fuzz_srcs,$*)

fuzz-bin: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/bin/%)

fuzz:
	@bash scripts/deps.sh --fuzz
	@$(MAKE) --no-print-directory fuzz-bin FUZZ_TARGETS="$(FUZZ_TARGETS)"
	python3 tests/fuzz/run_fuzz.py --seconds $(FUZZ_SECONDS) $(FUZZ_TARGETS)

fuzz-cov:
	@bash scripts/deps.sh --fuzz
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=$(BUILD)/fuzz/cov/%)
	python3 tests/fuzz/run_fuzz.py --cov $(FUZZ_TARGETS)
