# Guests: freestanding ELF64 images built here, each shipped as a file of its own (stripped
# of debug info) beside the hypervisor: next to BOOTX64.EFI on the ESP, as GRUB modules in
# the ISO, on the USB stick. A configuration names one with image=<name> (docs/configuration.md).
#   guests/lib/     runtime shared by every guest (+ lib/printf.c, lib/string.c)
#   guests/<name>/  one guest image per directory, named after it
#   build/g/<name>.elf       as linked, with debug info (for gdb and objdump)
#   build/g/<name>.os.elf    the same linked as an OS guest (OS_GUEST_NAMES below)
#   build/guests/<name>.elf  stripped: what the images carry

# Included before the Makefile's first target: keep `all` the default.
.DEFAULT_GOAL := all

GUEST_NAMES  := cpu attacker misbehave bench
# The product's demo configuration runs these (vmm/config.c); the test image carries all.
PRODUCT_GUESTS := cpu attacker
TEST_GUESTS    := $(GUEST_NAMES)
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
# Static pattern rules: with a plain %.elf rule, a fresh tree (no guest object built yet)
# linked <name>.os.elf by it, without the guest's own objects.
$(GUEST_NAMES:%=$(BUILD)/g/%.elf): $(BUILD)/g/%.elf: $$(subst .c,.o,$$(addprefix $(BUILD)/g/,$$(wildcard guests/$$*/*.c))) $(GUEST_LIB_O) guests/lib/guest.ld
	@mkdir -p $(dir $@)
	$(LD) -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
		-T guests/lib/guest.ld -o $@ $(filter %.o,$^)

$(BUILD)/guests/%.elf: $(BUILD)/g/%.elf
	@mkdir -p $(dir $@)
	$(OBJCOPY) --strip-debug $< $@

# OS-guest test images: a guest's objects linked at 1 MiB + 0x200 (guests/lib/os_guest.ld)
# and wrapped in a bzImage (scripts/mkbzimage.py) so that moat starts them as a Linux kernel
# (kernel=): build/guests/<name>.bz, which runs copy next to moat.efi. osattack exists only
# so; bench is both (image=bench for the exit costs, kernel=bench.bz for its local APIC's).
OS_GUEST_NAMES := osattack bench
OS_GUEST_BZ    := $(OS_GUEST_NAMES:%=$(BUILD)/guests/%.bz)

$(OS_GUEST_NAMES:%=$(BUILD)/g/%.os.elf): $(BUILD)/g/%.os.elf: $$(subst .c,.o,$$(addprefix $(BUILD)/g/,$$(wildcard guests/$$*/*.c))) $(GUEST_LIB_O) guests/lib/os_guest.ld
	@mkdir -p $(dir $@)
	$(LD) -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments \
		-T guests/lib/os_guest.ld -o $@ $(filter %.o,$^)

$(BUILD)/guests/%.bz: $(BUILD)/g/%.os.elf scripts/mkbzimage.py
	@mkdir -p $(dir $@)
	python3 scripts/mkbzimage.py $< $@

# Kept for gdb (docs/debugging.md): not an intermediate file make may delete.
.SECONDARY: $(GUEST_NAMES:%=$(BUILD)/g/%.elf) $(OS_GUEST_NAMES:%=$(BUILD)/g/%.os.elf)

all: $(GUEST_ELFS) $(OS_GUEST_BZ)
