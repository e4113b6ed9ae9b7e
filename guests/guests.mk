# Test guests: freestanding ELF64 images built here and embedded in the hypervisor
# (section .guest_images, table guest_image_table used by vmm/vmm.c).
#   guests/lib/     runtime shared by every guest (+ lib/printf.c, lib/string.c)
#   guests/<name>/  one guest image per directory, named after it

# Included before the Makefile's first target: keep `all` the default.
.DEFAULT_GOAL := all

GUEST_NAMES  := cpu attacker misbehave bench
GUEST_CFLAGS := $(filter-out -DMOAT_HYPERVISOR -ffunction-sections -fdata-sections,$(KCFLAGS)) \
	-DMOAT_GUEST -fno-delete-null-pointer-checks
GUEST_LIB_C  := $(wildcard guests/lib/*.c) lib/printf.c lib/string.c lib/igbvf.c
GUEST_LIB_S  := $(wildcard guests/lib/*.asm)
GUEST_LIB_O  := $(GUEST_LIB_C:%.c=$(BUILD)/g/%.o) $(GUEST_LIB_S:%.asm=$(BUILD)/g/%.o)
GUEST_ELFS   := $(GUEST_NAMES:%=$(BUILD)/guests/%.elf)

$(BUILD)/g/%.o: %.c guests/guests.mk
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/g/%.o: %.asm guests/guests.mk
	@mkdir -p $(dir $@)
	$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) $< -o $@

.SECONDEXPANSION:
$(BUILD)/guests/%.elf: $$(subst .c,.o,$$(addprefix $(BUILD)/g/,$$(wildcard guests/$$*/*.c))) $(GUEST_LIB_O) guests/lib/guest.ld
	@mkdir -p $(dir $@)
	$(LD) -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
		-T guests/lib/guest.ld -o $@ $(filter %.o,$^)

$(BUILD)/guests/images.asm: guests/guests.mk
	@mkdir -p $(dir $@)
	@{ echo 'section .guest_images progbits alloc noexec nowrite align=16'; \
	  for g in $(GUEST_NAMES); do \
		echo "img_$$g: incbin \"$(BUILD)/guests/$$g.elf\""; echo "img_$${g}_end:"; \
		echo "align 16"; done; \
	  echo 'section .rodata'; \
	  for g in $(GUEST_NAMES); do echo "name_$$g: db \"$$g\", 0"; done; \
	  echo 'align 8'; echo 'global guest_image_table'; echo 'guest_image_table:'; \
	  for g in $(GUEST_NAMES); do echo "dq name_$$g, img_$$g, img_$${g}_end"; done; \
	  echo 'dq 0, 0, 0'; } > $@

$(BUILD)/guests/images.o: $(BUILD)/guests/images.asm $(GUEST_ELFS)
	$(NASM) -f elf64 $< -o $@

GUEST_BLOBS += $(BUILD)/guests/images.o
