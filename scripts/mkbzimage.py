#!/usr/bin/env python3
"""Wrap a test guest (an ELF64 linked at 1 MiB + 0x200, entry there) in the smallest bzImage
moat's vmm/linux_boot.c linux_check() takes: a one-sector setup part holding the setup header
(boot protocol 2.15, 64-bit entry, loaded high, not relocatable, pref_address 1 MiB) and the
protected-mode part moat loads at pref_address, whose 64-bit entry is 0x200 bytes in
(Documentation/arch/x86/boot.rst). The guest's .bss is counted in init_size, not stored.

usage: mkbzimage.py guest.elf out.bz"""
import struct
import sys

LOAD = 0x100000
ENTRY64 = 0x200
SETUP_SECTS = 1
SECTOR = 512
PT_LOAD = 1


def segments(elf):
    if elf[:4] != b"\x7fELF" or elf[4] != 2:
        sys.exit("mkbzimage: not an ELF64 file")
    entry, phoff = struct.unpack_from("<QQ", elf, 0x18)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    segs = []
    for i in range(phnum):
        ptype, _flags, off, vaddr, _paddr, filesz, memsz, _align = \
            struct.unpack_from("<IIQQQQQQ", elf, phoff + i * phentsize)
        if ptype == PT_LOAD and memsz:
            segs.append((vaddr, elf[off:off + filesz], memsz))
    return entry, segs


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1], "rb") as f:
        entry, segs = segments(f.read())
    if entry != LOAD + ENTRY64:
        sys.exit(f"mkbzimage: entry {entry:#x}, the boot protocol's 64-bit entry is {LOAD + ENTRY64:#x}")
    if not segs or min(v for v, _, _ in segs) < LOAD:
        sys.exit(f"mkbzimage: a segment below {LOAD:#x}")
    file_end = max(v + len(d) for v, d, _ in segs)
    mem_end = max(v + m for v, _, m in segs)
    pm = bytearray(file_end - LOAD)
    for v, d, _ in segs:
        pm[v - LOAD:v - LOAD + len(d)] = d
    pm += bytes(-len(pm) % 16)
    setup = bytearray((SETUP_SECTS + 1) * SECTOR)
    struct.pack_into("<B", setup, 0x1f1, SETUP_SECTS)
    struct.pack_into("<I", setup, 0x1f4, len(pm) // 16)        # syssize
    struct.pack_into("<H", setup, 0x1fe, 0xaa55)               # boot_flag
    struct.pack_into("<H", setup, 0x200, 0x6aeb)               # jump over the header
    struct.pack_into("<4s", setup, 0x202, b"HdrS")
    struct.pack_into("<H", setup, 0x206, 0x020f)               # version 2.15
    struct.pack_into("<B", setup, 0x211, 0x01)                 # loadflags: LOADED_HIGH
    struct.pack_into("<I", setup, 0x214, LOAD)                 # code32_start
    struct.pack_into("<I", setup, 0x22c, 0x7fffffff)           # initrd_addr_max
    struct.pack_into("<I", setup, 0x230, 0x200000)             # kernel_alignment
    struct.pack_into("<B", setup, 0x234, 0)                    # relocatable_kernel: no
    struct.pack_into("<H", setup, 0x236, 0x0001)               # xloadflags: XLF_KERNEL_64
    struct.pack_into("<I", setup, 0x238, 255)                  # cmdline_size
    struct.pack_into("<Q", setup, 0x258, LOAD)                 # pref_address
    struct.pack_into("<I", setup, 0x260, max(mem_end - LOAD, len(pm)))  # init_size
    with open(sys.argv[2], "wb") as f:
        f.write(setup + pm)


if __name__ == "__main__":
    main()
