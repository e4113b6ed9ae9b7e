; PVH entry (Xen's HVM direct boot ABI, used by QEMU's -kernel for an ELF with this note):
; 32-bit protected mode, paging off, flat CS/DS/ES/SS, EBX = physical address of struct
; hvm_start_info, no stack. boot32_to_long (arch/x86/boot32.asm) enters long mode and calls
; pvh_entry(eax, start_info) in C (boot/pvh/pvh_entry.c).

XEN_ELFNOTE_PHYS32_ENTRY equ 18

; The note is read from a PT_NOTE program header (arch/x86/moat.ld): name "Xen", type 18,
; descriptor = the 32-bit physical entry address.
section .note.Xen note alloc noexec nowrite align=4
	dd 4
	dd 4
	dd XEN_ELFNOTE_PHYS32_ENTRY
	db "Xen", 0
	dd pvh_start32

section .boot32 progbits alloc exec nowrite align=16
bits 32
global pvh_start32
extern boot32_to_long, pvh_entry
pvh_start32:
	mov edx, pvh_entry
	jmp boot32_to_long
