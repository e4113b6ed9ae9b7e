; Guest code for the backend self-tests of OS-guest operations (backend_selftest.c), under
; either backend. The main block is copied to BT_CODE and runs in 64-bit mode with the
; guest's identity page tables; the real-mode block is copied to BT_REAL and entered as an
; application processor after INIT/SIPI. Hypercalls go through stubs whose VMMCALL the host
; turns into VMCALL under VMX (bt_hc64, bt_hc16, bt_hc_lm). Each step ends in the exit the
; host expects next.
section .rodata

global bt_start, bt_end, bt_hc64, bt_sti_window, bt_sti_window_open, bt_sti_window_spin
global bt_shadow
global bt_shadow_sti_exit, bt_shadow_movss_exit, bt_spin, bt_nmi, bt_nmi_handler
global bt_intr_handler, bt_gp_handler, bt_xsetbv, bt_npt_unmap, bt_npt_reread
global bt_real, bt_real_end, bt_hc16, bt_hc_lm

BT_GDT equ 0x5000
BT_IDTR equ 0x8010		; the IDT's pseudo-descriptor, written by the host
BT_NMI_COUNT equ 0x8020
BT_PROBE equ 0x9000		; a page the host takes out of the nested tables
BT_PML4 equ 0x1000
BT_REAL equ 0x7000
SEL_CODE64 equ 0x08
SEL_DATA equ 0x10
SEL_CODE32 equ 0x18

bits 64
bt_start:
bt_hc64:
	vmmcall
	ret

; The interrupt window: requested while IF=0, it opens after STI's one-instruction shadow.
bt_sti_window:
	lidt [BT_IDTR]
	cli
	mov eax, 1
	call bt_hc64			; IF=0: nothing can be injected; the host asks for the window
	xor ebx, ebx
	sti
	mov ebx, 2			; in STI's shadow
bt_sti_window_open:
	mov ecx, 3
bt_sti_window_spin:
	jmp bt_sti_window_spin

; Exits inside an STI and a MOV SS shadow with RFLAGS.IF set.
bt_shadow:
	lidt [BT_IDTR]
	mov ax, SEL_DATA
	cli
	sti
bt_shadow_sti_exit:
	out 0x80, al
	nop
	mov ss, ax
bt_shadow_movss_exit:
	out 0x80, al
	mov eax, 4
	call bt_hc64
	jmp bt_spin

bt_spin:
	jmp bt_spin			; only a timer ends this

; NMI injection: the handler counts, reports and returns with IRET.
bt_nmi:
	lidt [BT_IDTR]
	mov eax, 7
	call bt_hc64			; the host injects an NMI
	mov eax, 8
	call bt_hc64			; after the handler's IRET
	jmp bt_nmi

bt_nmi_handler:
	inc qword [BT_NMI_COUNT]
	mov eax, 2
	call bt_hc64			; inside the handler: another NMI must wait
	iretq

bt_intr_handler:
	mov eax, 0x40
	call bt_hc64
	iretq

bt_gp_handler:
	pop rbx				; error code
	mov eax, 13
	call bt_hc64
	add qword [rsp], 3		; past the XSETBV
	iretq

; XSETBV: an accepted value, then one the architecture refuses (x87 clear): #GP.
bt_xsetbv:
	lidt [BT_IDTR]
	mov rax, cr4
	or rax, 1 << 18			; CR4.OSXSAVE
	mov cr4, rax
	xor ecx, ecx
	xor edx, edx
	mov eax, 3			; x87 | SSE
	xsetbv
	xor ecx, ecx
	xgetbv
	mov ebx, eax
	mov eax, 0x21
	call bt_hc64
	xor ecx, ecx
	xor edx, edx
	mov eax, 2			; SSE without x87
	xsetbv
	xor ecx, ecx
	xgetbv
	mov ebx, eax
	mov eax, 0x22
	call bt_hc64
	jmp bt_spin

; A nested translation the CPU has used, then removed by the host: the next access must
; fault, not go through a stale TLB entry (vmm/npt_flush.c).
bt_npt_unmap:
	mov rbx, [BT_PROBE]
	mov eax, 0x30
	call bt_hc64			; the host unmaps BT_PROBE's page
bt_npt_reread:
	mov rbx, [BT_PROBE]		; a nested page fault; mapped again, then read
	mov eax, 0x31
	call bt_hc64
	jmp bt_spin
bt_end:

; An application processor's start (Linux's trampoline_64.S, reduced): real mode at
; BT_REAL:0, then protected mode through LMSW and its own GDT, then long mode through CR4.PAE,
; CR3, EFER.LME and CR0.PG.
bits 16
bt_real:
	cli
	mov ax, cs
	mov ds, ax
	mov eax, 0x16
bt_hc16:
	vmmcall				; real mode, EDX as INIT left it
	lgdt [bt_real_gdtr - bt_real]
	mov dx, 1
	lmsw dx				; CR0.PE
	jmp dword SEL_CODE32:(BT_REAL + bt_pm32 - bt_real)
bits 32
bt_pm32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, (1 << 5) | (1 << 7) | (1 << 9) | (1 << 10)	; PAE PGE OSFXSR OSXMMEXCPT
	mov cr4, eax
	mov eax, BT_PML4
	mov cr3, eax
	mov ecx, 0xc0000080
	mov eax, (1 << 0) | (1 << 8) | (1 << 11)	; EFER: SCE LME NXE
	xor edx, edx
	wrmsr
	mov eax, 0x80050033		; CR0: PE MP ET NE WP AM PG
	mov cr0, eax
	jmp dword SEL_CODE64:(BT_REAL + bt_lm64 - bt_real)
bits 64
bt_lm64:
	mov eax, 0x64
bt_hc_lm:
	vmmcall				; in long mode
	jmp bt_lm64
bt_real_gdtr:
	dw 31
	dd BT_GDT
bt_real_end:

section .note.GNU-stack noalloc noexec nowrite progbits
