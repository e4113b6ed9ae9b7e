# moat: build, run and test.
#   make          the product: hypervisor (build/moat.elf), UEFI app (build/moat.efi), ESP dir,
#                 GRUB ISO; and the test image (build/moat-test.elf/.efi, its ESP and ISO:
#                 the same objects plus tests/hv, docs/testing.md)
#   make run      boot moat in QEMU (TOPOLOGY=, BOOT=uefi|mb2|pvh), serial on stdout
#   make debug    the same, halted with QEMU's gdbstub waiting; gives the gdb command
#   make help     targets and variables
#   make test     unit tests + every emulator run of the test matrix; ends "N passed, M failed"
#   make unit     host unit tests only (cmocka)
#   make lint     cppcheck + clang-format check
#   make bench    measurements (docs/performance.md): table on stdout, build/bench.json
#   make fuzz     every libFuzzer target for FUZZ_SECONDS each (tests/fuzz, docs/testing.md)
# Missing dependencies are installed by scripts/deps.sh when run as root, before anything
# is compiled; as another user it prints the install command and make stops.

BUILD   ?= build

# Dependencies first: checked (and installed as root) while the Makefile is read, so that
# no rule of any goal runs before them. Goals that compile get the build tools; goals that
# run emulators get everything. Recursive makes and goals that compile nothing skip it.
NO_DEPS_GOALS  := clean lint format deps help
EMU_DEPS_GOALS := run debug test bench
DEPS_GOALS     := $(filter-out $(NO_DEPS_GOALS),$(or $(MAKECMDGOALS),all))
ifneq ($(DEPS_GOALS),)
ifeq ($(MAKELEVEL),0)
DEPS_STATUS := $(shell bash scripts/deps.sh $(if $(filter $(EMU_DEPS_GOALS),$(DEPS_GOALS)),,--build) >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error missing dependencies (scripts/deps.sh said which, above); nothing was built)
endif
endif
endif
CC      := gcc
LD      := ld
NASM    := nasm
OBJCOPY := objcopy

WARN    := -Wall -Wextra -Wno-unused-parameter -Wshadow -Wstrict-prototypes -Wmissing-prototypes
KCFLAGS := -std=gnu11 -O2 -g $(WARN) -ffreestanding -fno-builtin -nostdinc \
	-isystem $(shell $(CC) -print-file-name=include) -Iinclude -I. \
	-fno-pic -fno-pie -mno-red-zone -mcmodel=small -mno-mmx -mno-sse -mno-sse2 -mno-avx \
	-mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fno-omit-frame-pointer -fno-strict-aliasing -ffunction-sections -fdata-sections \
	-DMOAT_HYPERVISOR -MMD -MP
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --gc-sections \
	--no-warn-rwx-segments
NASMFLAGS := -f elf64 -g -Iinclude/

KDIRS   := boot/multiboot2 boot/pvh arch core acpi pci iommu vmm lib
-include guests/guests.mk
KSRC_C  := $(sort $(shell find $(KDIRS) -name '*.c' 2>/dev/null))
KSRC_S  := $(sort $(shell find $(KDIRS) -name '*.asm' 2>/dev/null))
KOBJ    := $(KSRC_C:%.c=$(BUILD)/k/%.o) $(KSRC_S:%.asm=$(BUILD)/k/%.o)
# The test image: the product's objects (compiled once) plus tests/hv, chosen at link time.
# Self-tests of one order run in link order: the files that register them come first, in
# the order of the rooms they test (boot, arch, iommu, pci, vmm).
TSELFTEST_ORDER := boot smp tsc vmx vtd_ioapic vtd groups igb igbvf pci assign vmm
TSRC_FIRST := $(TSELFTEST_ORDER:%=tests/hv/%_selftest.c)
TSRC_C  := $(TSRC_FIRST) $(filter-out $(TSRC_FIRST),$(sort $(wildcard tests/hv/*.c)))
TSRC_S  := $(sort $(wildcard tests/hv/*.asm))
TOBJ    := $(TSRC_C:%.c=$(BUILD)/k/%.o) $(TSRC_S:%.asm=$(BUILD)/k/%.o)

.PHONY: all deps run debug help test unit lint format clean bench usb

# make run / make debug: the machine (a topology of tests/emu/harness.py, as the matrix
# names them), the boot path, the image; for BOOT=pvh the command line and the modules
# (files packed into the -initrd archive: moat.conf -> config, <name>.elf -> <name>).
TOPOLOGY ?= reference
BOOT     ?= uefi
IMAGE    ?= product
CMDLINE  ?=
MODULES  ?=
TIMEOUT  ?= 3600
GDBPORT  ?= 1234
RUN_ARGS = --boot $(BOOT) --topology $(TOPOLOGY) --image $(IMAGE) \
	$(if $(CMDLINE),--append "$(CMDLINE)") $(if $(MODULES),--modules "$(MODULES)")
all: $(BUILD)/moat.elf $(BUILD)/moat.efi $(BUILD)/esp/EFI/BOOT/BOOTX64.EFI $(BUILD)/moat.iso \
	$(BUILD)/moat-test.elf $(BUILD)/moat-test.efi $(BUILD)/esp-test/EFI/BOOT/BOOTX64.EFI \
	$(BUILD)/moat-test.iso

deps:
	@bash scripts/deps.sh

# The framebuffer console's glyphs: GRUB's 8x16 ASCII font (grub-common).
GRUB_FONT_HEADER ?= /usr/share/grub/ascii.h
$(BUILD)/k/core/fbcon.o: KCFLAGS += -DFBCON_FONT_HEADER='"$(GRUB_FONT_HEADER)"'

$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

$(BUILD)/moat.elf: $(KOBJ) arch/x86/moat.ld
	$(LD) $(KLDFLAGS) -T arch/x86/moat.ld -Map $(BUILD)/moat.map -o $@ $(KOBJ)

$(BUILD)/moat-test.elf: $(KOBJ) $(TOBJ) arch/x86/moat.ld
	$(LD) $(KLDFLAGS) -T arch/x86/moat.ld -Map $(BUILD)/moat-test.map -o $@ $(KOBJ) $(TOBJ)

-include boot/efi/efi.mk
.SECONDEXPANSION:
-include tests/unit/unit.mk
-include tests/fuzz/fuzz.mk

# GRUB ISO for BIOS machines (QEMU SeaBIOS, Bochs): multiboot2 entry, the image's guests as
# modules (boot/guests/<name>.elf, module <name>). The test image's ISO carries moat-test.elf
# under the same name.
ISO_GUESTS_moat := $(PRODUCT_GUESTS)
ISO_GUESTS_moat-test := $(TEST_GUESTS)
$(BUILD)/moat.iso $(BUILD)/moat-test.iso: $(BUILD)/%.iso: $(BUILD)/%.elf boot/multiboot2/grub.cfg $(GUEST_ELFS)
	@rm -rf $(BUILD)/iso-$* && mkdir -p $(BUILD)/iso-$*/boot/grub $(BUILD)/iso-$*/boot/guests
	cp $(BUILD)/$*.elf $(BUILD)/iso-$*/boot/moat.elf
	cp $(ISO_GUESTS_$*:%=$(BUILD)/guests/%.elf) $(BUILD)/iso-$*/boot/guests/
	cp boot/multiboot2/grub.cfg $(BUILD)/iso-$*/boot/grub/grub.cfg
	grub-mkrescue -d /usr/lib/grub/i386-pc -o $@ $(BUILD)/iso-$* >$(BUILD)/grub-mkrescue-$*.log 2>&1 \
		|| { cat $(BUILD)/grub-mkrescue-$*.log; exit 1; }

# USB stick image (GPT: UEFI moat.efi, GRUB for UEFI and BIOS with multiboot2); see
# docs/hardware.md. A moat.conf at the top of the tree is put on the stick.
USB_CONFIG := $(if $(wildcard moat.conf),--config moat.conf)
usb: $(BUILD)/usb.img
$(BUILD)/usb.img: $(BUILD)/moat.efi $(BUILD)/moat.elf scripts/mkusb.py $(wildcard moat.conf) $(GUEST_ELFS)
	python3 scripts/mkusb.py --efi $(BUILD)/moat.efi --elf $(BUILD)/moat.elf --out $@ $(USB_CONFIG) \
		$(PRODUCT_GUESTS:%=--guest $(BUILD)/guests/%.elf)
# The test image's sticks: as usb.img; GRUB as the UEFI default; moat halting after its
# summary (so the test can take a screenshot of the framebuffer console before QEMU is
# stopped).
TEST_STICK := --efi $(BUILD)/moat-test.efi --elf $(BUILD)/moat-test.elf \
	$(TEST_GUESTS:%=--guest $(BUILD)/guests/%.elf)
TEST_STICK_DEPS := $(BUILD)/moat-test.efi $(BUILD)/moat-test.elf scripts/mkusb.py $(GUEST_ELFS)
$(BUILD)/usb-test.img: $(TEST_STICK_DEPS)
	python3 scripts/mkusb.py $(TEST_STICK) --out $@
$(BUILD)/usb-grub.img: $(TEST_STICK_DEPS)
	python3 scripts/mkusb.py $(TEST_STICK) --out $@ --default-efi grub
$(BUILD)/usb-halt.img: $(TEST_STICK_DEPS)
	python3 scripts/mkusb.py $(TEST_STICK) --out $@ --cmdline exit=halt
TEST_IMAGES := $(BUILD)/usb.img $(BUILD)/usb-test.img $(BUILD)/usb-grub.img $(BUILD)/usb-halt.img

# The dependency check again as the recipe's first step, then the build: what `make run`
# does first is visible in its own steps too (make -n run).
run:
	@bash scripts/deps.sh
	@$(MAKE) --no-print-directory all
	python3 tests/emu/harness.py --name run --emulator qemu $(RUN_ARGS) --timeout $(TIMEOUT) --console \
		--cmdline exit=poweroff

debug: all
	python3 scripts/debug.py $(RUN_ARGS) --port $(GDBPORT)

help:
	@echo 'Targets:'
	@echo '  make              build: build/moat.elf, moat.efi, esp/, moat.iso (product) and'
	@echo '                    build/moat-test.elf/.efi/.iso, esp-test/ (test image)'
	@echo '  make run          boot moat in QEMU, serial on stdout; moat powers off at the end'
	@echo '                    (exit=poweroff), so QEMU exits with the verdict'
	@echo '  make debug        boot moat in QEMU halted, gdbstub on localhost:$(GDBPORT); runs gdb'
	@echo '                    with the symbols when gdb and a terminal are there, else prints'
	@echo '                    the command (docs/debugging.md)'
	@echo '  make test         unit tests + every run of the emulator matrix; a table of runs,'
	@echo '                    failures, skips per reason; last line "N passed, M failed, K skipped"'
	@echo '  make unit         host unit tests only (cmocka + Python)'
	@echo '  make bench        measurements (docs/performance.md): build/bench.json'
	@echo '  make usb          build/usb.img, a stick for real machines (docs/hardware.md)'
	@echo '  make fuzz         every libFuzzer target (tests/fuzz) for FUZZ_SECONDS each, then a'
	@echo '                    table; make fuzz-cov: line coverage from the corpora (clang)'
	@echo '  make lint         cppcheck + clang-format check;  make format: clang-format -i'
	@echo '  make deps         install missing dependencies (as root);  make clean'
	@echo 'Variables:'
	@echo '  TOPOLOGY=name     run/debug: the QEMU machine (default reference): $(TOPOLOGIES)'
	@echo '  BOOT=uefi|mb2|pvh run/debug: OVMF + moat.efi, SeaBIOS + GRUB multiboot2, or'
	@echo '                    QEMU -kernel moat.elf (PVH; docs/boot.md). Default uefi'
	@echo '  IMAGE=product|test run/debug: the product or the test image (tests/hv). Default product'
	@echo '  CMDLINE="..."     BOOT=pvh: moat'"'"'s command line (-append)'
	@echo '  MODULES="f ..."   BOOT=pvh: files for the -initrd archive ([name=]path; moat.conf is'
	@echo '                    the configuration, <name>.elf the guest image <name>)'
	@echo '  TIMEOUT=s         run: stop QEMU after s seconds (default 3600)'
	@echo '  GDBPORT=n         debug: the gdbstub port (default 1234)'
	@echo '  VERBOSE=1         test/unit: print the whole TAP stream too'
	@echo '  MOAT_TEST_JOBS=n  test: runs at a time (default 2)'
	@echo '  FUZZ_SECONDS=s    fuzz: seconds per target (default 60)'
	@echo '  FUZZ_TARGETS="t ..." fuzz, fuzz-cov: only these targets (tests/fuzz/<t>.c)'
	@echo 'One run of the matrix: python3 tests/run_all.py --only <run> (names in tests/emu/matrix.py)'

TOPOLOGIES = $(shell python3 tests/emu/harness.py --list-topologies 2>/dev/null)

test:
	@$(MAKE) --no-print-directory all unit-bin $(TEST_IMAGES)
	python3 tests/run_all.py

bench:
	@$(MAKE) --no-print-directory all
	python3 tests/bench/bench.py

lint:
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr -Iinclude -I. -D__x86_64__ --suppress=missingIncludeSystem $(KDIRS) boot/efi guests tests/hv
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' -type f 2>/dev/null)
