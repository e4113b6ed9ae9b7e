; VM entry and exit for the VMX backend.
;
; u64 vmx_enter(struct vmx_gprs *gprs, u64 launched)
;   Saves the host's callee-saved registers, records RSP as the VMCS host RSP when it
;   differs from the one last written to this VMCS (gprs->host_rsp), loads the guest GPRs and executes VMLAUNCH or VMRESUME. A VM exit continues at vmx_exit_stub
;   (the VMCS host RIP) with RSP as recorded; it saves the guest GPRs and returns 0.
;   If the instruction fails it falls through and returns its RFLAGS (CF or ZF set).
bits 64
section .text

VMCS_HOST_RSP equ 0x6c14

%define G(r) (r * 8)
REG_RAX equ 0
REG_RCX equ 1
REG_RDX equ 2
REG_RBX equ 3
REG_RBP equ 5
REG_RSI equ 6
REG_RDI equ 7
HOST_RSP_SLOT equ 16			; struct vmx_gprs: host_rsp after the 16 GPRs

global vmx_enter
global vmx_exit_stub

vmx_enter:
	push rbp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push rdi			; gprs pointer, found again at [rsp] after the exit
	cmp rsp, [rdi + G(HOST_RSP_SLOT)]
	je .host_rsp_set
	mov rax, VMCS_HOST_RSP
	vmwrite rax, rsp
	jbe .fail
	mov [rdi + G(HOST_RSP_SLOT)], rsp
.host_rsp_set:
	mov rax, rsi			; launched?
	mov rcx, [rdi + G(REG_RCX)]
	mov rdx, [rdi + G(REG_RDX)]
	mov rbx, [rdi + G(REG_RBX)]
	mov rbp, [rdi + G(REG_RBP)]
	mov rsi, [rdi + G(REG_RSI)]
	mov r8,  [rdi + G(8)]
	mov r9,  [rdi + G(9)]
	mov r10, [rdi + G(10)]
	mov r11, [rdi + G(11)]
	mov r12, [rdi + G(12)]
	mov r13, [rdi + G(13)]
	mov r14, [rdi + G(14)]
	mov r15, [rdi + G(15)]
	test rax, rax
	mov rax, [rdi + G(REG_RAX)]		; mov leaves the flags of the test alone
	mov rdi, [rdi + G(REG_RDI)]
	jnz .resume
	vmlaunch
	jmp .fail
.resume:
	vmresume
.fail:
	pushfq
	pop rax
	and rax, 0x41			; CF | ZF
	jnz .out
	mov rax, 0x40			; a failure that set neither flag: report VMfailValid
.out:
	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

vmx_exit_stub:
	push rdi			; guest RDI
	mov rdi, [rsp + 8]		; gprs pointer
	mov [rdi + G(REG_RAX)], rax
	mov [rdi + G(REG_RCX)], rcx
	mov [rdi + G(REG_RDX)], rdx
	mov [rdi + G(REG_RBX)], rbx
	mov [rdi + G(REG_RBP)], rbp
	mov [rdi + G(REG_RSI)], rsi
	mov [rdi + G(8)], r8
	mov [rdi + G(9)], r9
	mov [rdi + G(10)], r10
	mov [rdi + G(11)], r11
	mov [rdi + G(12)], r12
	mov [rdi + G(13)], r13
	mov [rdi + G(14)], r14
	mov [rdi + G(15)], r15
	pop rax
	mov [rdi + G(REG_RDI)], rax
	xor eax, eax
	add rsp, 8
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

section .note.GNU-stack noalloc noexec nowrite progbits
