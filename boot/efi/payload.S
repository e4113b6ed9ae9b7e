/* The hypervisor image, byte for byte the build's moat.elf (path given by the build). */
	.section .rodata.moat_elf, "a"
	.balign 16
	.global moat_elf_start
moat_elf_start:
	.incbin MOAT_ELF_PATH
moat_elf_end:

	.section .rodata.moat_elf_size, "a"
	.balign 8
	.global moat_elf_size
moat_elf_size:
	.quad moat_elf_end - moat_elf_start
	.section .note.GNU-stack, "", @progbits
