; Guest entry (docs/hypercalls.md "Entry"): 64-bit mode, moat's boot page tables, RDI = the
; guest's id. Sets up a stack, clears .bss and calls guest_lib_start(id).

section .text.start
bits 64

extern guest_lib_start
extern __bss_start, __bss_end
global _start, guest_stack_bottom, guest_stack_top

_start:
	cli
	lea rsp, [rel guest_stack_top]
	mov rbx, rdi
	lea rdi, [rel __bss_start]
	lea rcx, [rel __bss_end]
	sub rcx, rdi
	shr rcx, 3
	xor eax, eax
	rep stosq
	mov rdi, rbx
	call guest_lib_start
.hang:
	hlt
	jmp .hang

section .bss
align 4096
guest_stack_bottom:
	resb 16384
guest_stack_top:
