# The UEFI entry path: a GNU-EFI application that embeds build/moat.elf, loads it, fills
# struct boot_info and jumps to it. Built with the GNU-EFI flags, not the kernel's.
#   build/moat.efi                    the application
#   build/esp/EFI/BOOT/BOOTX64.EFI    ESP directory (QEMU: -drive format=raw,file=fat:rw:build/esp)
#   build/esp.img                     FAT image of that directory (for USB sticks)
# The test image's: build/moat-test.efi (the same objects plus tests/hv/efi, embedding
# build/moat-test.elf), build/esp-test/, build/esp-test.img.

EFI_INC     := /usr/include/efi
EFI_LIBDIR  := /usr/lib
EFI_CFLAGS  := -std=gnu11 -O2 -g $(WARN) -isystem $(EFI_INC) -isystem $(EFI_INC)/x86_64 \
	-Werror=implicit-function-declaration -Iinclude -I. -fpic -ffreestanding -fno-stack-protector -fshort-wchar -mno-red-zone \
	-maccumulate-outgoing-args -fno-strict-aliasing -DEFI_FUNCTION_WRAPPER -DMOAT_EFI \
	-MMD -MP
EFI_LDFLAGS := -nostdlib -shared -Bsymbolic -znocombreloc --no-undefined -T $(EFI_LIBDIR)/elf_x86_64_efi.lds
EFI_SECTIONS := .text .sdata .data .rodata .dynamic .dynsym .rel .rela .rel.* .rela.* .reloc

EFI_SRC := $(sort $(wildcard boot/efi/*.c)) lib/elf.c
EFI_OBJ := $(EFI_SRC:%.c=$(BUILD)/efi/%.o)
EFI_TEST_SRC := $(sort $(wildcard tests/hv/efi/*.c))
EFI_TEST_OBJ := $(EFI_TEST_SRC:%.c=$(BUILD)/efi/%.o)

$(BUILD)/efi/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -c $< -o $@

# .incbin is not seen by -MMD: the image is an explicit prerequisite.
$(BUILD)/efi/payload-%.o: boot/efi/payload.S $(BUILD)/%.elf
	@mkdir -p $(dir $@)
	$(CC) $(EFI_CFLAGS) -DMOAT_ELF_PATH='"$(BUILD)/$*.elf"' -c $< -o $@

$(BUILD)/efi/moat.so: $(EFI_OBJ) $(BUILD)/efi/payload-moat.o
	$(LD) $(EFI_LDFLAGS) $(EFI_LIBDIR)/crt0-efi-x86_64.o $^ -o $@ \
		-L$(EFI_LIBDIR) -lgnuefi -lefi

$(BUILD)/efi/moat-test.so: $(EFI_OBJ) $(EFI_TEST_OBJ) $(BUILD)/efi/payload-moat-test.o
	$(LD) $(EFI_LDFLAGS) $(EFI_LIBDIR)/crt0-efi-x86_64.o $^ -o $@ \
		-L$(EFI_LIBDIR) -lgnuefi -lefi

$(BUILD)/moat.efi $(BUILD)/moat-test.efi: $(BUILD)/%.efi: $(BUILD)/efi/%.so
	$(OBJCOPY) $(addprefix -j ,$(EFI_SECTIONS)) --target efi-app-x86_64 --subsystem=10 $< $@

# The guest images next to the application: the loader hands each <name>.elf over as module
# <name> (boot/efi/files.c).
ESP_GUESTS := $(PRODUCT_GUESTS:%=$(BUILD)/esp/EFI/BOOT/%.elf)
ESP_TEST_GUESTS := $(TEST_GUESTS:%=$(BUILD)/esp-test/EFI/BOOT/%.elf)

$(BUILD)/esp/EFI/BOOT/BOOTX64.EFI: $(BUILD)/moat.efi $(ESP_GUESTS)
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/esp-test/EFI/BOOT/BOOTX64.EFI: $(BUILD)/moat-test.efi $(ESP_TEST_GUESTS)
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/esp/EFI/BOOT/%.elf: $(BUILD)/guests/%.elf
	@mkdir -p $(dir $@)
	cp $< $@

$(BUILD)/esp-test/EFI/BOOT/%.elf: $(BUILD)/guests/%.elf
	@mkdir -p $(dir $@)
	cp $< $@

# FAT image sized to its contents plus 2 MiB (mkfs.fat counts in KiB).
$(BUILD)/esp.img $(BUILD)/esp-test.img: $(BUILD)/%.img: $(BUILD)/%/EFI/BOOT/BOOTX64.EFI
	@rm -f $@
	mkfs.fat -C -n MOAT-ESP $@ $$(( ($$(du -sk $(BUILD)/$* | cut -f1) + 2048 + 1023) / 1024 * 1024 )) >/dev/null
	mcopy -s -i $@ $(BUILD)/$*/EFI ::/

all: $(BUILD)/esp.img $(BUILD)/esp-test.img
