; Guest runtime: hypercall instructions, segment reload, exception entry stubs.

section .text
bits 64

; long hc_vmmcall(nr, a0, a1, a2) / hc_vmcall(...): RAX = nr, RDI, RSI, RDX = arguments.
global hc_vmmcall, hc_vmcall
hc_vmmcall:
	mov rax, rdi
	mov rdi, rsi
	mov rsi, rdx
	mov rdx, rcx
	vmmcall
	ret
hc_vmcall:
	mov rax, rdi
	mov rdi, rsi
	mov rsi, rdx
	mov rdx, rcx
	vmcall
	ret

; void guest_load_segments(void): CS = 0x08, data segments = 0x10 after LGDT.
global guest_load_segments
guest_load_segments:
	push 0x08
	lea rax, [rel .reload]
	push rax
	retfq
.reload:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov fs, ax
	mov gs, ax
	ret

; Exception stubs: push a dummy error code where the CPU pushes none, then the vector.
extern guest_exception
%macro STUB 2
exc_stub_%1:
%if %2 == 0
	push 0
%endif
	push %1
	jmp exc_common
%endmacro

%assign v 0
%rep 32
%if v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30
	STUB v, 1
%else
	STUB v, 0
%endif
%assign v v+1
%endrep

exc_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	mov rdi, rsp
	cld
	call guest_exception
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16
	iretq

; Device interrupt stubs (vectors GUEST_IRQ_BASE..+3, injected by moat: no local APIC
; EOI): count the vector and return.
extern guest_irq_count
%macro IRQSTUB 1
irq_stub_%1:
	lock inc qword [rel guest_irq_count + 8 * %1]
	iretq
%endmacro
%assign v 0
%rep 4
	IRQSTUB v
%assign v v+1
%endrep

section .rodata
global guest_irq_stubs
guest_irq_stubs:
%assign v 0
%rep 4
	dq irq_stub_ %+ v
%assign v v+1
%endrep

global guest_exc_stubs
guest_exc_stubs:
%assign v 0
%rep 32
	dq exc_stub_ %+ v
%assign v v+1
%endrep
