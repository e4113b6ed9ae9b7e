; Guest code for the VMX backend self-tests (vmx_selftest.c). Copied into a test guest's
; RAM at TG_CODE_GPA and run in 64-bit mode with the guest's identity page tables; only
; relative jumps and absolute guest-physical addresses are used. Each step ends in the exit
; the host expects next.
bits 64
section .rodata

global vmx_tg_start, vmx_tg_end, vmx_tg_isolation, vmx_tg_triple, vmx_tg_real
global vmx_tg_spin, vmx_tg_ud_handler, vmx_tg_gp_handler, vmx_tg_msr, vmx_tg_cr
global vmx_tg_intr, vmx_tg_intr_handler, vmx_tg_vmxon, vmx_tg_fetch

TG_MISSING equ 0x200010		; first GPA the host's EPT leaves unmapped
TG_SCRATCH equ 0x8000

vmx_tg_start:
	mov eax, 0x4d4f4154		; CPUID leaf "MOAT", subleaf 7
	mov ecx, 7
	cpuid
	mov rax, rbx			; hypercall echoes what the host put in RBX
	vmcall
	mov al, 0x5a
	out 0x80, al			; OUT imm8, byte
	mov dx, 0x3fd
	in ax, dx			; IN DX, word
	lea rsi, [rel tg_bytes]
	mov ecx, 2
	mov dx, 0x80
	rep outsb			; string, REP
	mov ecx, 0x277
	rdmsr
	mov ecx, 0xc0000081
	mov eax, 0x22222222
	mov edx, 0x11111111
	wrmsr
	mov rax, [TG_MISSING]		; EPT violation: read, not present
	mov rbx, rax
	mov eax, 2
	vmcall
	mov qword [TG_MISSING + 8], 0x77	; EPT violation: write to a read-only page
	mov rbx, [TG_MISSING + 8]
	mov eax, 3
	vmcall
	ud2				; #UD handled by the guest's own IDT, no exit
	hlt
vmx_tg_spin:
	jmp vmx_tg_spin			; only the watchdog ends this
tg_bytes:
	db 0x11, 0x22

vmx_tg_ud_handler:
	mov eax, 6
	vmcall
	add qword [rsp], 2		; past the ud2
	iretq

vmx_tg_gp_handler:
	pop rbx				; error code
	mov eax, 13
	vmcall
	iretq

vmx_tg_isolation:
	mov rax, [TG_SCRATCH]
	vmcall
	jmp vmx_tg_isolation

vmx_tg_msr:				; STAR passed through: the guest's own copy
	mov ecx, 0xc0000081
	mov eax, 0x12345678
	mov edx, 0x00230010
	wrmsr
	vmcall
	mov ecx, 0xc0000081
	rdmsr
	vmcall
	jmp vmx_tg_msr

vmx_tg_cr:				; CR0.NE is VMX's, CR4.VMXE reserved for guests
	mov rax, cr0
	and rax, ~0x20
	mov cr0, rax
	mov rbx, cr0
	mov eax, 1
	vmcall
	mov rax, cr4
	or rax, 0x2000
	mov cr4, rax			; #GP, reported by the guest's handler
	jmp vmx_tg_cr

vmx_tg_intr:				; interrupts on, then wait for the host's
	sti
	nop
	mov eax, 5
	vmcall
.wait:
	jmp .wait

vmx_tg_intr_handler:
	mov eax, 0x40
	vmcall
	iretq

vmx_tg_vmxon:				; VMX is hidden: the core answers with #UD
	vmxon [TG_SCRATCH]
.after:
	jmp .after

vmx_tg_fetch:				; jump into the page EPT maps without execute
	mov rax, TG_MISSING & ~0xfff
	jmp rax

vmx_tg_triple:
	ud2				; no IDT: #UD -> #GP -> #DF -> shutdown

vmx_tg_real:
bits 16
	mov al, 'R'
	out 0x80, al
	hlt
bits 64
vmx_tg_end:
