; multiboot2 entry: GRUB leaves us in 32-bit protected mode, paging off, EAX = magic,
; EBX = physical address of the boot information. boot32_to_long (arch/x86/boot32.asm)
; enters long mode and calls mb2_entry(magic, info) in C, which converts the information
; to struct boot_info and calls kmain.

MB2_MAGIC        equ 0xE85250D6
MB2_ARCH_I386    equ 0
MB2_TAG_END      equ 0
MB2_TAG_INFO_REQ equ 1
MB2_TAG_MOD_ALIGN equ 6
MB2_HEADER_TAG_OPTIONAL equ 1


section .multiboot2 align=8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	align 8
	; information request: cmdline(1) modules(3) mmap(6) framebuffer(8) efi64(12)
	; acpi old(14) acpi new(15) efi mmap(17) - all optional
	dw MB2_TAG_INFO_REQ, MB2_HEADER_TAG_OPTIONAL
	dd 8 + 4 * 8
	dd 1, 3, 6, 8, 12, 14, 15, 17
	align 8
	dw MB2_TAG_MOD_ALIGN, MB2_HEADER_TAG_OPTIONAL
	dd 8
	align 8
	dw MB2_TAG_END, 0
	dd 8
mb2_header_end:

section .boot32 progbits alloc exec nowrite align=16
bits 32
global mb2_start32
extern boot32_to_long, mb2_entry
mb2_start32:
	mov edx, mb2_entry
	jmp boot32_to_long
