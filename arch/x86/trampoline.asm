; AP start-up trampoline. trampoline_start..trampoline_end is copied to a page below
; 1 MiB and entered by SIPI in real mode at CS = page >> 4, IP = 0. Before each SIPI the
; BSP fills trampoline_gdtr_base (linear address of the copied GDT) and the parameter
; block (struct trampoline_params in arch/x86/trampoline.h).

CR0_PE    equ 1 << 0
CR0_MP    equ 1 << 1
CR0_ET    equ 1 << 4
CR0_NE    equ 1 << 5
CR0_WP    equ 1 << 16
CR0_PG    equ 1 << 31
CR4_PAE   equ 1 << 5
MSR_EFER  equ 0xC0000080

SEL_CODE32 equ 0x08
SEL_DATA   equ 0x10
SEL_CODE64 equ 0x18

; struct trampoline_params
TP_CR3     equ 0
TP_EFER    equ 4
TP_STACK   equ 8
TP_PERCPU  equ 16
TP_ALIVE   equ 24

extern ap_main

; Only copied, never executed in place.
section .rodata align=16
bits 16
align 16
global trampoline_start, trampoline_end, trampoline_gdt, trampoline_gdtr_base, trampoline_params
trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	xor ebx, ebx
	mov bx, ax
	shl ebx, 4                      ; EBX = linear address of the trampoline page
	lgdt [tr_gdtr - trampoline_start]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword SEL_CODE32:ap_start32 ; into the image, still without paging

align 16
trampoline_gdt:
tr_gdt:
	dq 0
	dq 0x00CF9A000000FFFF           ; 0x08: 32-bit code, flat 4 GiB
	dq 0x00CF92000000FFFF           ; 0x10: data, flat 4 GiB
	dq 0x00209A0000000000           ; 0x18: 64-bit code
tr_gdt_end:
tr_gdtr:
	dw tr_gdt_end - tr_gdt - 1
trampoline_gdtr_base:
	dd 0
align 8
trampoline_params:
	times 32 db 0
trampoline_end:

section .text
bits 32
; EBX = trampoline page. Long mode on the BSP's tables (SDM Vol. 3A 9.8.5): PAE, CR3,
; EFER.LME (and NXE, which the tables' NX bits need), then paging.
ap_start32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	lea esi, [ebx + (trampoline_params - trampoline_start)]
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [esi + TP_CR3]
	mov cr3, eax
	mov ecx, MSR_EFER
	mov eax, [esi + TP_EFER]
	xor edx, edx
	wrmsr
	; also clears CD and NW, which INIT leaves set
	mov eax, CR0_PG | CR0_WP | CR0_NE | CR0_ET | CR0_MP | CR0_PE
	mov cr0, eax
	jmp SEL_CODE64:ap_start64

bits 64
ap_start64:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov esi, esi
	mov rsp, [rsi + TP_STACK]
	mov rdi, [rsi + TP_PERCPU]
	mov dword [rsi + TP_ALIVE], 1
	xor ebp, ebp
	call ap_main
.dead:
	cli
	hlt
	jmp .dead
