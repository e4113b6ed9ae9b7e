; multiboot2 entry: GRUB leaves us in 32-bit protected mode, paging off, EAX = magic,
; EBX = physical address of the boot information. We build a temporary identity map of
; the first 4 GiB (2 MiB pages), enter long mode and call mb2_entry(magic, info) in C,
; which converts the information to struct boot_info and calls kmain.

MB2_MAGIC        equ 0xE85250D6
MB2_ARCH_I386    equ 0
MB2_TAG_END      equ 0
MB2_TAG_INFO_REQ equ 1
MB2_TAG_MOD_ALIGN equ 6
MB2_HEADER_TAG_OPTIONAL equ 1

COM1             equ 0x3F8

section .multiboot2 align=8
mb2_header:
	dd MB2_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	align 8
	; information request: cmdline(1) modules(3) mmap(6) framebuffer(8) efi64(12)
	; acpi old(14) acpi new(15) efi mmap(17) - all optional
	dw MB2_TAG_INFO_REQ, MB2_HEADER_TAG_OPTIONAL
	dd 8 + 4 * 8
	dd 1, 3, 6, 8, 12, 14, 15, 17
	align 8
	dw MB2_TAG_MOD_ALIGN, MB2_HEADER_TAG_OPTIONAL
	dd 8
	align 8
	dw MB2_TAG_END, 0
	dd 8
mb2_header_end:

section .boot32 progbits alloc exec nowrite align=16
bits 32
global mb2_start32
mb2_start32:
	cli
	cld
	mov esp, boot_stack_top
	mov [mb2_magic], eax
	mov [mb2_info], ebx

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
	mov edi, [mb2_magic]
	mov esi, [mb2_info]
	extern mb2_entry
	call mb2_entry
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
mb2_magic: dd 0
mb2_info:  dd 0

section .bss
align 4096
boot_pml4: resb 4096
boot_pdpt: resb 4096
boot_pd:   resb 4 * 4096
global boot_stack_top
boot_stack: resb 64 * 1024
boot_stack_top:
