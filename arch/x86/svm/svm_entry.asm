; VMRUN with the guest registers VMRUN does not switch (APM Vol. 2, 15.5).
; void svm_vmrun(u64 vmcb_pa, u64 *gprs, u64 host_save_pa)
; gprs: the guest's GPRs indexed by enum vmm_reg (RAX..R15; the RSP slot unused, RSP is in the
; VMCB). RAX goes through the VMCB's save area, where VMRUN and #VMEXIT switch it.
; The host's FS/GS/TR/LDTR/KernelGSBase/syscall MSRs are kept in a per-CPU VMCB-format area
; (VMSAVE before, VMLOAD after): VMRUN itself does not switch them.

section .text
bits 64

%define G_RAX 0
%define G_RCX 8
%define G_RDX 16
%define G_RBX 24
%define G_RBP 40
%define G_RSI 48
%define G_RDI 56
%define G_R8 64
%define G_R9 72
%define G_R10 80
%define G_R11 88
%define G_R12 96
%define G_R13 104
%define G_R14 112
%define G_R15 120

%define VMCB_RAX 0x5f8

global svm_vmrun
svm_vmrun:
	push rbx
	push rbp
	push r12
	push r13
	push r14
	push r15
	push rdx		; host save area
	push rsi		; gprs
	push rdi		; vmcb

	clgi
	mov rax, rdx
	vmsave		; host FS/GS/TR/... into the host save area
	; Physical interrupts exit the guest only while host IF=1 (V_INTR_MASKING); GIF=0
	; holds them off on the host side until STGI below.
	sti

	mov rax, [rsi + G_RAX]
	mov [rdi + VMCB_RAX], rax
	mov rax, rdi
	vmload
	mov rbx, [rsi + G_RBX]
	mov rcx, [rsi + G_RCX]
	mov rdx, [rsi + G_RDX]
	mov rdi, [rsi + G_RDI]
	mov rbp, [rsi + G_RBP]
	mov r8, [rsi + G_R8]
	mov r9, [rsi + G_R9]
	mov r10, [rsi + G_R10]
	mov r11, [rsi + G_R11]
	mov r12, [rsi + G_R12]
	mov r13, [rsi + G_R13]
	mov r14, [rsi + G_R14]
	mov r15, [rsi + G_R15]
	mov rsi, [rsi + G_RSI]
	vmrun
	vmsave

	mov rax, [rsp + 8]	; gprs
	mov [rax + G_RBX], rbx
	mov [rax + G_RCX], rcx
	mov [rax + G_RDX], rdx
	mov [rax + G_RSI], rsi
	mov [rax + G_RDI], rdi
	mov [rax + G_RBP], rbp
	mov [rax + G_R8], r8
	mov [rax + G_R9], r9
	mov [rax + G_R10], r10
	mov [rax + G_R11], r11
	mov [rax + G_R12], r12
	mov [rax + G_R13], r13
	mov [rax + G_R14], r14
	mov [rax + G_R15], r15
	mov rcx, [rsp]		; vmcb
	mov rcx, [rcx + VMCB_RAX]
	mov [rax + G_RAX], rcx

	cli
	mov rax, [rsp + 16]	; host save area
	vmload
	stgi

	add rsp, 24
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbp
	pop rbx
	ret
