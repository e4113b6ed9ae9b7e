; From 32-bit protected mode (paging off, flat segments, no usable stack) to long mode, for
; the entries that start there: multiboot2 (boot/multiboot2/entry.asm) and PVH
; (boot/pvh/entry.asm). On entry EAX and EBX are what the loader passed and EDX is the C
; function to call: entry(u32 eax, u32 ebx), in 64-bit mode on boot_stack with a temporary
; identity map of the first 4 GiB (2 MiB pages).

COM1             equ 0x3F8

section .boot32 progbits alloc exec nowrite align=16
bits 32
global boot32_to_long
boot32_to_long:
	cli
	cld
	mov esp, boot_stack_top
	mov [boot32_eax], eax
	mov [boot32_ebx], ebx
	mov [boot32_entry], edx

	; long mode available? CPUID 0x80000001 EDX.LM (bit 29)
	mov eax, 0x80000000
	cpuid
	cmp eax, 0x80000001
	jb .no_long_mode
	mov eax, 0x80000001
	cpuid
	test edx, 1 << 29
	jz .no_long_mode

	; PML4[0] -> PDPT; PDPT[0..3] -> PD0..PD3; PDn: 512 x 2 MiB identity
	mov edi, boot_pml4
	mov ecx, 6 * 4096 / 4
	xor eax, eax
	rep stosd
	mov dword [boot_pml4], boot_pdpt + 3
	mov edi, boot_pdpt
	mov eax, boot_pd + 3
	mov ecx, 4
.fill_pdpt:
	mov [edi], eax
	add eax, 4096
	add edi, 8
	loop .fill_pdpt
	mov edi, boot_pd
	mov eax, 0x83            ; P | RW | PS
	xor edx, edx
	mov ecx, 2048
.fill_pd:
	mov [edi], eax
	mov [edi + 4], edx
	add eax, 0x200000
	adc edx, 0
	add edi, 8
	loop .fill_pd

	mov eax, boot_pml4
	mov cr3, eax
	mov eax, cr4
	or eax, 1 << 5           ; PAE
	mov cr4, eax
	mov ecx, 0xC0000080      ; EFER
	rdmsr
	or eax, 1 << 8           ; LME
	wrmsr
	mov eax, cr0
	or eax, (1 << 31) | (1 << 16) | (1 << 5) | 1 ; PG | WP | NE | PE
	mov cr0, eax
	lgdt [boot_gdt_ptr]
	jmp 0x08:.long_mode

.no_long_mode:
	mov esi, msg_no_lm
.puts:
	lodsb
	test al, al
	jz .halt
	mov dx, COM1 + 5
	mov ah, al
.wait_tx:
	in al, dx
	test al, 0x20
	jz .wait_tx
	mov al, ah
	mov dx, COM1
	out dx, al
	jmp .puts
.halt:
	hlt
	jmp .halt

bits 64
.long_mode:
	mov ax, 0x10
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp
	mov edi, [boot32_eax]
	mov esi, [boot32_ebx]
	mov eax, [boot32_entry]
	call rax
.dead:
	hlt
	jmp .dead

section .rodata
msg_no_lm: db "moat: error: this CPU has no 64-bit long mode; halting", 13, 10, 0

section .data
align 16
boot_gdt:
	dq 0
	dq 0x00209A0000000000    ; 0x08: 64-bit code
	dq 0x0000920000000000    ; 0x10: data
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt
boot32_eax:   dd 0
boot32_ebx:   dd 0
boot32_entry: dd 0

section .bss
align 4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd:   resb 4 * 4096
global boot_stack_top
boot_stack: resb 64 * 1024
boot_stack_top:
