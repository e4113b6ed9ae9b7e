; 64-bit entry used by moat's UEFI application after ExitBootServices: RDI = struct
; boot_info *. Firmware's GDT, stack and page tables live in memory moat will reuse, so the
; first thing done is to move onto moat's own GDT and stack (page tables follow in C,
; from a pool inside the image).

section .moat_header progbits alloc noexec nowrite align=8
global moat_header
moat_header:
	db "MOATHDR1"
	dq kernel_entry64
	extern __image_start, __image_end
	dq __image_start
	dq __image_end

section .text
bits 64
global kernel_entry64
extern boot_stack_top
extern kmain
kernel_entry64:
	cli
	cld
	lgdt [rel entry_gdt_ptr]
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp
	; reload CS through a far return
	lea rax, [rel .cs_loaded]
	push 0x08
	push rax
	retfq
.cs_loaded:
	call kmain
.dead:
	hlt
	jmp .dead

section .data
align 16
entry_gdt:
	dq 0
	dq 0x00209A0000000000
	dq 0x0000920000000000
entry_gdt_end:
entry_gdt_ptr:
	dw entry_gdt_end - entry_gdt - 1
	dq entry_gdt
