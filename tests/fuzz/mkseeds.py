#!/usr/bin/env python3
"""Writes the seed corpora in tests/fuzz/corpus/<target>/ (committed; run again after a
target's input format changes): ACPI tables captured from QEMU q35 (SeaBIOS and OVMF) and
Bochs (tests/unit/data), QEMU's DMAR, multiboot2 information as GRUB builds it, UEFI memory
maps as OVMF reports them, the guest images moat builds (build/guests/*.elf, `make` first),
configuration and command-line text from docs/configuration.md, PCI topologies of the
reference machines, VF mailbox sequences of the igbvf driver, real instruction encodings.

  tests/fuzz/mkseeds.py [target...]"""
import os
import re
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(ROOT, "tests", "unit", "data")
OUT = os.path.join(ROOT, "tests", "fuzz", "corpus")
GEN = {}


def target(fn):
    GEN[fn.__name__.replace("seeds_", "")] = fn
    return fn


def csum(b, at):
    b[at] = 0
    b[at] = (-sum(b)) & 0xff


def blobs(header):
    """[(sig, pa, bytes)] from a tests/unit/data/acpi_*.h capture."""
    text = open(os.path.join(DATA, header)).read()
    out = []
    for m in re.finditer(r'\{"(\w{4})", (0x[0-9a-f]+), (\d+),\s*\(const u8\[\]\)\{([^}]*)\}', text):
        b = bytes(int(x, 16) for x in re.findall(r"0x[0-9a-f]+", m.group(4)))
        assert len(b) == int(m.group(3)), m.group(1)
        out.append((m.group(1), int(m.group(2), 16), b))
    return out


def dmar_bytes():
    text = open(os.path.join(DATA, "qemu_dmar.h")).read()
    body = text.split("{", 1)[1].split("}", 1)[0]
    return bytes(int(x, 16) for x in re.findall(r"0x[0-9a-f]+", body))


ACPI_BASE = 0xE0000


def flat_acpi(bl, dsdt_len=64):
    """The captured tables relocated into one image at ACPI_BASE (RSDP first), pointers
    rewritten, checksums right; the DSDT cut to dsdt_len bytes (its AML is not parsed)."""
    rsdp = bytearray([b for s, pa, b in bl if s == "RSDP"][0])
    rsdp += bytes(36 - len(rsdp))
    img = bytearray(rsdp) + bytes(28)
    where = {}
    tables = [(s, pa, bytearray(b)) for s, pa, b in bl if s != "RSDP"]
    for s, pa, b in tables:
        if s == "DSDT":
            del b[dsdt_len:]
            struct.pack_into("<I", b, 4, len(b))
        where[pa] = ACPI_BASE + len(img)
        img += b + bytes((-len(b)) % 16)
    def reloc(p):
        return where.get(p, p)
    for s, pa, b in tables:
        off = where[pa] - ACPI_BASE
        t = img[off:off + len(b)]
        if s in ("RSDT", "XSDT"):
            w = 4 if s == "RSDT" else 8
            for e in range(36, len(t), w):
                v = int.from_bytes(t[e:e + w], "little")
                t[e:e + w] = reloc(v).to_bytes(w, "little")
        if s == "FACP":
            for o, w in ((36, 4), (40, 4), (132, 8), (140, 8)):
                if o + w <= len(t):
                    v = int.from_bytes(t[o:o + w], "little")
                    if v:
                        t[o:o + w] = reloc(v).to_bytes(w, "little")
        csum(t, 9)
        img[off:off + len(b)] = t
    r = img[:36]
    struct.pack_into("<I", r, 16, reloc(struct.unpack_from("<I", r, 16)[0]))
    if r[15] >= 2:
        struct.pack_into("<Q", r, 24, reloc(struct.unpack_from("<Q", r, 24)[0]))
        struct.pack_into("<I", r, 20, 36)
    b20 = r[:20]
    csum(b20, 8)
    r[:20] = b20
    csum(r, 32) if r[15] >= 2 else None
    img[:36] = r
    return bytes(img)


def write(t, name, data):
    d = os.path.join(OUT, t)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


CAPTURES = (("qemu-q35-seabios", "acpi_qemu_q35.h"), ("qemu-q35-ovmf", "acpi_qemu_q35_ovmf.h"),
            ("bochs", "acpi_bochs.h"))


@target
def seeds_acpi():
    for name, h in CAPTURES:
        img = flat_acpi(blobs(h))
        write("acpi", f"{name}-in-memory-fixsum", bytes([1]) + img)
        write("acpi", f"{name}-in-memory", bytes([0]) + img)
        write("acpi", f"{name}-copy20", bytes([2 | 1]) + img)
        write("acpi", f"{name}-copy36", bytes([4 | 1]) + img)
        write("acpi", f"{name}-scan", bytes([6 | 1]) + img)


def sdt(sig, body, rev=1):
    t = bytearray(sig + struct.pack("<IBB6s8sIII", 36 + len(body), rev, 0, b"MOAT  ", b"FUZZSEED", 1, 0, 1) + body)
    csum(t, 9)
    return bytes(t)


@target
def seeds_acpi_table():
    # Shapes the captures lack: x2APIC CPUs (IDs above 255, as QEMU's hot-plugged socket
    # gives), more CPUs, IOAPICs and overrides than moat keeps; MCFGs of several segments,
    # too many entries, a partial entry.
    lapic = lambda uid, aid, fl=1: bytes([0, 8, uid, aid]) + struct.pack("<I", fl)
    x2 = lambda aid, uid, fl=1: bytes([9, 16, 0, 0]) + struct.pack("<III", aid, fl, uid)
    ioapic = lambda i: bytes([1, 12, i, 0]) + struct.pack("<II", 0xfec00000 + i * 0x1000, i * 24)
    iso = lambda src: bytes([2, 10, 0, src]) + struct.pack("<IH", src, 0)
    madt = lambda ents: bytes([1]) + sdt(b"APIC", struct.pack("<II", 0xfee00000, 1) + b"".join(ents), 4)
    write("acpi_table", "madt-x2apic", madt([lapic(0, 0), x2(259, 1), x2(260, 2, 2), ioapic(0), iso(0)]))
    write("acpi_table", "madt-300-cpus", madt([x2(i, i) for i in range(300)]))
    write("acpi_table", "madt-10-ioapics-20-isos", madt([ioapic(i) for i in range(10)] + [iso(i) for i in range(20)]))
    write("acpi_table", "madt-lapic-addr-override", madt([bytes([5, 12, 0, 0]) + struct.pack("<Q", 0xfee10000), lapic(0, 0)]))
    seg = lambda base, s, b0, b1: struct.pack("<QHBBI", base, s, b0, b1, 0)
    write("acpi_table", "mcfg-two-segments", bytes([1]) + sdt(b"MCFG", bytes(8) + seg(0xb0000000, 0, 0, 255) + seg(0xc0000000, 1, 0, 63)))
    write("acpi_table", "mcfg-10-entries", bytes([1]) + sdt(b"MCFG", bytes(8) + b"".join(seg(0xb0000000 + i * 0x1000000, i, 0, 15) for i in range(10))))
    write("acpi_table", "mcfg-partial-entry", bytes([1]) + sdt(b"MCFG", bytes(8) + seg(0xb0000000, 0, 0, 255)[:10]))
    write("acpi_table", "mcfg-short", bytes([1]) + sdt(b"MCFG", bytes(4)))
    for name, h in CAPTURES:
        for s, pa, b in blobs(h):
            if s in ("APIC", "MCFG", "DMAR", "HPET", "WAET", "FACP", "XSDT", "RSDT"):
                write("acpi_table", f"{name}-{s}", bytes([1]) + b)
                write("acpi_table", f"{name}-{s}-nofix", bytes([0]) + b)


@target
def seeds_dmar():
    d = dmar_bytes()
    write("dmar", "qemu-intel-iommu", d)
    # The shapes tests/emu/mkdmar.py builds from it for the emulator runs.
    sys.path.insert(0, os.path.join(ROOT, "tests", "emu"))
    import mkdmar  # noqa: E402
    write("dmar", "mkdmar-rmrr", mkdmar.build(d, rmrrs=(((0, 5, 0), 0x6000000, 0x10000),)))
    write("dmar", "mkdmar-dead-unit", mkdmar.build(d, dead_units=((0xbffff000, ((0, 6, 0), (0, 0x1f, 2))),)))
    write("dmar", "mkdmar-bad-sum", mkdmar.build(d, corrupt=True))
    # Two units, a second segment, an RMRR, a bridge scope with a path of two (8.3.1).
    bridge = bytes([2, 10, 0, 0, 0, 0, 1, 0, 2, 0])
    extra = (mkdmar.drhd(0, 0xfed91000, mkdmar.endpoint_scope(0, 2, 0) + bridge) +
             mkdmar.drhd(1, 0xfed92000, b"", segment=1) +
             mkdmar.rmrr(0x7000000, 0x4000, mkdmar.endpoint_scope(0, 2, 0)))
    t = bytearray(d + extra)
    struct.pack_into("<I", t, 4, len(t))
    csum(t, 9)
    write("dmar", "two-units-two-segments", bytes(t))


def mb2_tag(t, payload):
    size = 8 + len(payload)
    return struct.pack("<II", t, size) + payload + bytes((-size) % 8)


def mb2_info(tags):
    body = b"".join(tags) + mb2_tag(0, b"")
    return struct.pack("<II", 8 + len(body), 0) + body


@target
def seeds_mb2():
    ram = [(0, 0x9fc00, 1), (0x9fc00, 0x400, 2), (0xf0000, 0x10000, 2), (0x100000, 0x3fee0000, 1),
           (0x3ffe0000, 0x20000, 2), (0xfeffc000, 0x4000, 2), (0xfffc0000, 0x40000, 2)]
    mmap = struct.pack("<II", 24, 0) + b"".join(struct.pack("<QQII", a, l, t, 0) for a, l, t in ram)
    rsdp_v1 = [b for s, pa, b in blobs("acpi_qemu_q35.h") if s == "RSDP"][0]
    rsdp_v2 = [b for s, pa, b in blobs("acpi_qemu_q35_ovmf.h") if s == "RSDP"][0]
    fb = struct.pack("<QIIIBBH6B", 0xfd000000, 4096, 1024, 768, 32, 1, 0, 16, 8, 8, 8, 0, 8)
    efi = [(7, 0, 0x9f), (2, 0x100000, 0x700), (4, 0x800000, 0x1000), (9, 0x3f700000, 0x10),
           (10, 0x3f710000, 0x20), (11, 0xffc00000, 0x400)]
    efimap = struct.pack("<II", 48, 1) + b"".join(
        struct.pack("<IIQQQQ", t, 0, a, 0, n, 0xf) + bytes(8) for t, a, n in efi)
    grub_bios = [mb2_tag(1, b"serial=0x3f8 acpi.override=dmar.bin config=guest,a,memory=16M,cpu=1,image=cpu\0"),
                 mb2_tag(2, b"GRUB 2.06\0"),
                 mb2_tag(3, struct.pack("<II", 0x200000, 0x2000f0) + b"dmar.bin\0"),
                 mb2_tag(3, struct.pack("<II", 0x201000, 0x201400) + b"moat.conf\0"),
                 mb2_tag(4, struct.pack("<II", 639, 1047424)),
                 mb2_tag(5, struct.pack("<III", 0x80, 0xffffffff, 0xffffffff)),
                 mb2_tag(6, mmap), mb2_tag(8, fb), mb2_tag(14, rsdp_v1),
                 mb2_tag(21, struct.pack("<I", 0x100000))]
    write("mb2", "grub-seabios", mb2_info(grub_bios))
    grub_efi = [mb2_tag(1, b"loglevel=debug\0"), mb2_tag(12, struct.pack("<Q", 0x3f9ee018)),
                mb2_tag(15, rsdp_v2), mb2_tag(17, efimap), mb2_tag(8, fb), mb2_tag(18, b""),
                mb2_tag(20, struct.pack("<Q", 0x3e000000))]
    write("mb2", "grub-efi-no-mmap", mb2_info(grub_efi))
    write("mb2", "grub-efi-both-maps", mb2_info(grub_efi + [mb2_tag(6, mmap)]))
    write("mb2", "bochs-minimal", mb2_info([mb2_tag(1, b"\0"), mb2_tag(6, mmap[:8 + 24 * 3])]))
    write("mb2", "rsdp-old-then-new", mb2_info([mb2_tag(14, rsdp_v1), mb2_tag(15, rsdp_v2)]))


def strip_elf(src):
    tmp = os.path.join(ROOT, "build", "fuzz", "seed.elf")
    os.makedirs(os.path.dirname(tmp), exist_ok=True)
    subprocess.run(["objcopy", "--strip-all", src, tmp], check=True)
    return open(tmp, "rb").read()


def tiny_elf(segs, entry, phoff=64):
    """An ELF64 x86-64 executable with these (flags, paddr, data, memsz) segments."""
    data_off = phoff + 56 * len(segs)
    ph, body = b"", b""
    for flags, paddr, data, memsz in segs:
        ph += struct.pack("<IIQQQQQQ", 1, flags, data_off + len(body), paddr, paddr, len(data), memsz, 0x1000)
        body += data
    eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, entry, phoff, 0, 0, 64, 56, len(segs), 64, 0, 0)
    return eh + bytes(phoff - 64) + ph + body


@target
def seeds_elf():
    for g in ("cpu", "attacker", "misbehave", "bench"):
        p = os.path.join(ROOT, "build", "guests", g + ".elf")
        if os.path.exists(p):
            write("elf", f"guest-{g}", bytes([14]) + strip_elf(p))
    write("elf", "tiny-text-bss", bytes([0]) + tiny_elf(
        [(5, 0x100000, b"\xf4\xeb\xfd", 16), (6, 0x101000, b"\x01\x02", 0x2000)], 0x100000))
    write("elf", "tiny-phoff-72", bytes([3]) + tiny_elf([(5, 0x100000, b"\x90\xf4", 2)], 0x100001, 72))


@target
def seeds_efi_mmap():
    # OVMF's map of the q35 reference machine (types, starts, pages) as moat's loader sees it.
    ovmf = [(3, 0x0, 1), (7, 0x1000, 0x9f), (7, 0x100000, 0x700), (10, 0x800000, 8),
            (7, 0x808000, 3), (10, 0x80b000, 1), (7, 0x80c000, 5), (10, 0x810000, 0xf0),
            (4, 0x900000, 0xb00), (7, 0x1400000, 0x3d8e5), (1, 0x3ecf5000, 0x20),
            (4, 0x3ed15000, 0x3ab), (3, 0x3f0c0000, 0xa0), (6, 0x3f160000, 0x80),
            (5, 0x3f1e0000, 0x30), (0, 0x3f210000, 0x5d), (9, 0x3f773000, 0xb),
            (10, 0x3f77e000, 0x82), (4, 0x3f800000, 0x7a0), (6, 0x3ffa0000, 0x60),
            (0, 0xb0000000, 0x10000), (11, 0xffc00000, 0x400)]
    for ds in (40, 48):
        m = b"".join(struct.pack("<IIQQQQ", t, 0, a, 0, n, 0xf) + bytes(ds - 40) for t, a, n in ovmf)
        keep = struct.pack("<QQ", 0x1000000, 0x200000) + struct.pack("<QQ", 0x9000, 0x1000)
        write("efi_mmap", f"ovmf-q35-desc{ds}", bytes([ds - 24, 64, 2]) + keep + m)
        write("efi_mmap", f"ovmf-q35-desc{ds}-out8", bytes([ds - 24, 8, 0]) + m + b"\xee" * 5)
    ov = [(7, 0x100000, 0x100), (9, 0x180000, 0x10), (0, 0x100000, 0x10), (7, 0x200001, 4),
          (7, 0xfffffffffffff000, 2), (14, 0x40000000, 0x100)]
    m = b"".join(struct.pack("<IIQQQQ", t, 0, a, 0, n, a and (1 << 18)) for t, a, n in ov)
    write("efi_mmap", "overlaps-invalid", bytes([16, 16, 0]) + m)


CONFIGS = [
    b"# QEMU reference machine: CPU 0 runs moat, one guest per other CPU\n"
    b"guest alpha memory=16M cpu=1 image=cpu device=01:00.0/vf0\n"
    b"guest beta memory=16M cpu=2 image=cpu device=01:00.0/vf1\n"
    b"guest attacker memory=16M cpu=3 image=attacker device=01:00.0/vf2\n",
    b"guest,alpha,memory=16M,cpu=1,image=cpu;guest,beta,memory=16M,cpu=2,image=cpu",
    b"guest a memory=2M cpu=63 image=mycpu device=0000:00:05.0 device=0001:02:00.1/vf7\r\n"
    b"guest b memory=64G cpu=2 image=bench\n\n# comment\nguest bad memory=1K cpu=0\n",
    b"guest x memory=16M cpu=1 image=cpu device=00:05.0 device=00:06.0 device=01:00.0/vf0 "
    b"device=01:00.0/vf1 device=01:00.0/vf2\n",
    b"guest lin memory=256M cpu=1 kernel=bzImage initrd=initrd.cpio "
    b"cmdline=\"console=ttyS0 quiet rdinit=/init\" watchdog=10s device=01:00.0/vf0\n"
    b"guest w memory=16M cpu=2 image=cpu watchdog=500ms\nguest o memory=16M cpu=3 image=my.elf watchdog=off\n"
    b"guest bad1 memory=16M cpu=4 kernel=.hidden watchdog=61s\nguest bad2 memory=16M cpu=5 image=cpu kernel=k\n",
]


@target
def seeds_config():
    # The first bytes also drive the built-in configuration (see tests/fuzz/config.c);
    # they are text here, which is fine for both.
    for i, c in enumerate(CONFIGS):
        write("config", f"conf-{i}", c)
    write("config", "builtin-3cpus-pf", bytes([150, 3, 1, 1, 2, 3, 0, 0, 0, 1, 0, 0]) + b"\n" + CONFIGS[0])


@target
def seeds_cmdline():
    lines = [b"serial=0x3f8,115200 loglevel=debug exit=qemu acpi.override=dmar-rmrr.bin,dmar-bad.bin",
             b"# moat.cmd\nconfig=guest,alpha,memory=16M,cpu=1,image=cpu\n\tfbcon=off\r\nsriov.numvfs=7\n",
             b"console=pci:00:06.0,115200 console=mmio:0xfe000000:2 acpi.dump efi_test_stale_key"]
    for i, l in enumerate(lines):
        write("cmdline", f"text-{i}", bytes([0xfe]) + l)
        write("cmdline", f"text-{i}-cap16", bytes([0x20]) + l)
        write("cmdline", f"ucs2-{i}", bytes([0xff]) + ("\\EFI\\BOOT\\BOOTX64.EFI " + l.decode()).encode("utf-16-le"))


def mbx_msg(vf, words):
    return bytes([0, vf, len(words)]) + b"".join(struct.pack("<I", w) for w in words)


def mac_words(m):
    return [m[0] | m[1] << 8 | m[2] << 16 | m[3] << 24, m[4] | m[5] << 8]


@target
def seeds_igb_mbx():
    """What lib/igbvf.c (the guests' VF driver, and Linux's igbvf) sends: reset, set-MAC,
    multicast list, LPE; and what a hostile guest sends (VLAN, promiscuous, unknown,
    before the reset, another VF's address, a flood)."""
    reset = mbx_msg(1, [0x01])
    write("igb_mbx", "driver-bringup", bytes([2]) + reset +
          mbx_msg(1, [0x02] + mac_words([0x02, 0x11, 0x22, 0x33, 0x44, 0x55])) +
          mbx_msg(1, [0x03 | 3 << 16, 0x0123 | 0x0456 << 16, 0x0fff]) +
          mbx_msg(1, [0x05, 1518]))
    write("igb_mbx", "hostile", bytes([2]) + mbx_msg(0, [0x02] + mac_words([2, 1, 2, 3, 4, 5])) +
          mbx_msg(0, [0x01]) + mbx_msg(0, [0x04, 5]) + mbx_msg(0, [0x06]) + mbx_msg(0, [0x7f]) +
          mbx_msg(0, [0x02] + mac_words([0x52, 0x54, 0x00, 0x12, 0x56, 0x11])) +
          mbx_msg(0, [0x02] + mac_words([0x52, 0x54, 0x00, 0x12, 0x34, 0x56])) +
          mbx_msg(0, [0x03 | 31 << 16] + [0xffffffff] * 15) + mbx_msg(0, [0x05, 9019]))
    write("igb_mbx", "flood-then-time", bytes([2]) + reset * 12 + bytes([3]) + struct.pack("<I", 30000) + reset)
    write("igb_mbx", "vflr-and-spoof", bytes([7]) + mbx_msg(6, [0x01]) +
          mbx_msg(6, [0x03 | 2 << 16, 0x00010002]) + bytes([1]) + struct.pack("<I", 0x40) +
          bytes([2, 0x40]) + struct.pack("<I", 0x80004040) + mbx_msg(6, [0x05, 64]) + mbx_msg(7, [0x01]))


@target
def seeds_pci():
    """The four topologies as the builders make them (the reference machine, igb on the root
    bus, the x3130 switch, two igbs), with the VFs moat enables by default (3) and more,
    and a few lies: a capability list looping on itself, an extended capability pointing
    into the header, a VF BAR of 2^63 bytes, an MSI-X BIR of a BAR that does not exist."""
    for shape in range(4):
        write("pci", f"shape{shape}-3vfs", bytes([shape, 3]))
        write("pci", f"shape{shape}-7vfs-resets", bytes([shape, 0x80 | 7]))
    # (function, offset | 0x1000 for the write mask, value)
    def p(*patches):
        return b"".join(struct.pack("<BHB", f, o, v) for f, o, v in patches)
    write("pci", "cap-loop", bytes([0, 3]) + p((2, 0x41, 0x40)))
    write("pci", "ecap-into-header", bytes([0, 3]) + p((2, 0x102, 0x01), (2, 0x103, 0x00)))
    write("pci", "vf-bar-huge", bytes([0, 3]) + p((2, 0x160 + 0x24 + 7, 0x80), (2, 0x1160 + 0x24 + 7, 0x00)))
    write("pci", "msix-bir-7", bytes([1, 3]) + p((1, 0x74, 0x07), (1, 0x78, 0x06)))
    write("pci", "numvfs-stride-0", bytes([0, 5]) + p((2, 0x160 + 0x16, 0), (2, 0x160 + 0x14, 0)))
    write("pci", "vf-offset-overflow", bytes([3, 7]) + p((2, 0x160 + 0x15, 0xff), (4, 0x160 + 0x15, 0xff)))


@target
def seeds_exit_decode():
    """Exits as the VMX backend (Bochs) and the SVM backend (QEMU TCG) hand them over for
    moat's guests: port I/O on CF8/CFC and COM1, EPT violations / NPFs on the MSI-X page,
    CPUID, RDMSR/WRMSR, VMCALL/VMMCALL, HLT, #PF, a triple fault, a failed entry."""
    def vmx(reason, qual=0, gpa=0, intr=0, err=0, rip=0x100123, ilen=2, rax=0, rcx=0, rdx=0):
        regs = [rax, rcx, rdx] + [0] * 14
        return bytes([0]) + struct.pack("<IQQIIQI", reason, qual, gpa, intr, err, rip, ilen) + \
            b"".join(struct.pack("<Q", r) for r in regs)
    io_q = lambda port, size, inn: (size - 1) | (8 if inn else 0) | port << 16
    write("exit_decode", "vmx-in-cfc", vmx(30, io_q(0xcfc, 4, True), ilen=1))
    write("exit_decode", "vmx-out-cf8", vmx(30, io_q(0xcf8, 4, False), ilen=1))
    write("exit_decode", "vmx-out-com1", vmx(30, io_q(0x3f8, 1, False), ilen=1))
    write("exit_decode", "vmx-rep-outsb", vmx(30, io_q(0x3f8, 1, False) | 0x30, ilen=2))
    write("exit_decode", "vmx-ept-msix", vmx(48, 0x182, 0xc0004008, ilen=0))
    write("exit_decode", "vmx-cpuid", vmx(10, rax=1))
    write("exit_decode", "vmx-rdmsr", vmx(31, rcx=0x1b))
    write("exit_decode", "vmx-wrmsr", vmx(32, rcx=0x277, rax=0x0007040600070406, rdx=0x00070406))
    write("exit_decode", "vmx-vmcall", vmx(18, ilen=3, rax=1))
    write("exit_decode", "vmx-pf", vmx(0, 0x7ff000, intr=0x80000b0e, err=2))
    write("exit_decode", "vmx-triple", vmx(2))
    write("exit_decode", "vmx-entry-fail", vmx(0x80000021))
    write("exit_decode", "vmx-preempt", vmx(52))
    def svm(code, i1=0, i2=0, nrip=0, rip=0x100123, rax=0, rcx=0, rdx=0, nrips=False):
        return bytes([1 | (2 if nrips else 0)]) + struct.pack("<QQQQQQQQQQQQ", code, i1, i2, nrip, rip, rax, rcx, rdx,
                                                              0x1500, 0x80000011, 0x1000, 0x20)
    ioio = lambda port, size, inn: port << 16 | (1 << (4 + size // 2)) | (1 if inn else 0)
    write("exit_decode", "svm-in-cfc", svm(0x7b, ioio(0xcfc, 4, True), 0x100124))
    write("exit_decode", "svm-out-com1", svm(0x7b, ioio(0x3f8, 1, False), 0x100124))
    write("exit_decode", "svm-npf-msix", svm(0x400, 0x7, 0xc0004008))
    write("exit_decode", "svm-cpuid", svm(0x72, rax=0x80000001))
    write("exit_decode", "svm-msr-write", svm(0x7c, 1, rcx=0xc0000080, rax=0x1500, nrips=True, nrip=0x100125))
    write("exit_decode", "svm-vmmcall", svm(0x81))
    write("exit_decode", "svm-hlt", svm(0x78))
    write("exit_decode", "svm-pf", svm(0x4e, 2, 0x7ff000))
    write("exit_decode", "svm-shutdown", svm(0x7f))
    write("exit_decode", "svm-invalid", svm(0xffffffffffffffff))
    write("exit_decode", "svm-vmrun", svm(0x80))


# guests/lib's MSI-X accessors and what a compiler makes of a plain MMIO load or store.
MOVS = [("load-rdi", "8b07"), ("store-rdi", "8937"), ("store-imm", "c70701000000"),
        ("load-r8d", "448b07"), ("store-r9", "41890f"), ("load-disp8", "8b470c"),
        ("load-disp32", "8b8700100000"), ("load-sib", "8b0424"), ("load-sib-disp8", "8b442408"),
        ("load-rip-rel", "8b05f40f0000"), ("store-sib-nobase", "89042500400000"),
        ("refused-rex-w", "488b07"), ("refused-16bit", "668907"), ("refused-8bit", "8807"),
        ("refused-movs", "a5"), ("refused-imm-reg1", "c70f01000000")]


def guest_ram():
    """Page tables packed low (the seeds stay small): PML4 at 0, PDPT at 0x1000, PD at
    0x2000, a page table at 0x3000 mapping 0-0xffff one to one; code goes at 0x3800."""
    ram = bytearray(0x3900)
    struct.pack_into("<Q", ram, 0x0000, 0x1003)
    struct.pack_into("<Q", ram, 0x1000, 0x2003)
    struct.pack_into("<Q", ram, 0x2000, 0x3003)
    for i in range(16):
        struct.pack_into("<Q", ram, 0x3000 + 8 * i, (i << 12) | 3)
    return ram


CODE = 0x3800


@target
def seeds_mmio():
    regs = b"".join(struct.pack("<Q", 0x1111 * i) for i in range(16))
    for name, hexcode in MOVS:
        code = bytes.fromhex(hexcode)
        ram = guest_ram()
        ram[CODE:CODE + len(code)] = code
        head = bytes([len(code)]) + code + struct.pack("<QQH", 0, CODE, 0x10) + regs
        write("mmio", name, head + bytes(ram))
    # An instruction that runs off the end of its page into one that is not mapped.
    ram = guest_ram()
    ram[0x2ffe:0x3000] = bytes.fromhex("8b87")
    struct.pack_into("<Q", ram, 0x3000 + 8 * 3, 0)
    write("mmio", "insn-crosses-unmapped", bytes([2]) + bytes.fromhex("8b87") +
          struct.pack("<QQH", 0, 0x2ffe, 0) + regs + bytes(ram))
    # A 2 MiB leaf.
    ram = guest_ram()
    struct.pack_into("<Q", ram, 0x2000, 0x83)
    ram[CODE:CODE + 2] = bytes.fromhex("8937")
    write("mmio", "two-mib-page", bytes([2]) + bytes.fromhex("8937") + struct.pack("<QQH", 0, CODE, 4) + regs + bytes(ram))


@target
def seeds_guest_exits():
    """What moat's own guests do (the cpu, attacker and bench guests): CF8/CFC probing of
    00:01.0, BAR sizing, enabling memory decode and MSI-X, writing and unmasking a table
    entry through MOV, hypercalls with their buffers, CPUID and MSRs; and the attacker's
    variants."""
    def io(port_sel, size_i, inn, val):
        return bytes([0, port_sel, size_i | (4 if inn else 0)]) + struct.pack("<I", val)
    def cfg(addr, off, size_i, inn, val=0):
        return bytes([1]) + struct.pack("<I", addr) + bytes([off << 4 | size_i | (4 if inn else 0)]) + struct.pack("<I", val)
    def npf(off, code, regs=(0,) * 8):
        c = bytes.fromhex(code)
        return bytes([2, 0]) + struct.pack("<H", off) + bytes([2]) + c + bytes([0x90] * (15 - len(c))) + \
            b"".join(struct.pack("<I", r) for r in regs)
    def hc(nr, rdi=0, rsi=0, rdx=0, buf=b"", cpl=0):
        return bytes([3, len(buf), nr]) + struct.pack("<QQQ", rdi, rsi, rdx) + bytes([cpl]) + buf
    A = lambda dev, reg: 0x80000000 | dev << 11 | reg
    probe = (cfg(A(0, 0), 0, 2, True) + cfg(A(1, 0), 0, 2, True) + cfg(A(1, 8), 0, 2, True) +
             cfg(A(1, 0x34), 0, 0, True) + cfg(A(1, 0x70), 2, 1, True) + cfg(A(2, 0), 0, 2, True))
    sizing = (cfg(A(1, 0x10), 0, 2, False, 0xffffffff) + cfg(A(1, 0x10), 0, 2, True) +
              cfg(A(1, 0x10), 0, 2, False, 0xc0000000) + cfg(A(1, 0x1c), 0, 2, False, 0xffffffff) +
              cfg(A(1, 0x1c), 0, 2, True) + cfg(A(1, 0x1c), 0, 2, False, 0xc0004000))
    enable = cfg(A(1, 4), 0, 1, False, 0x6) + cfg(A(1, 0x70), 2, 1, False, 0x8000)
    entry = (npf(0, "c70710e0effe") + npf(4, "c70700000000") + npf(8, "8937", (0, 0, 0, 0, 0, 0, 0x41, 0)) +
             npf(12, "c70700000000") + npf(12, "8b07") + npf(0x2000, "8b07"))
    write("guest_exits", "vf-driver-bringup", bytes([0]) + probe + sizing + enable + entry)
    text = b"ok 1 - cpu: cpuid\n"
    write("guest_exits", "hypercalls", bytes([0]) + hc(0, 0x1234) + hc(1, 0x9000, len(text), buf=text) +
          hc(2, 0, 0x9000, 10, buf=b"cpu: cpuid\0") + hc(3, 0x9000) + hc(7, 0x9000) + hc(1, 0xfff0, 0x100) +
          hc(5, 0x9000, 0) + hc(6, 0xfee00000, 0x41) + hc(4, 0))
    write("guest_exits", "com1-and-cpuid-msr", bytes([0]) + io(5, 0, False, ord("o")) + io(5, 0, False, ord("k")) +
          io(5, 0, False, 10) + io(10, 0, True, 0) + io(8, 0, False, 0x80) + io(5, 0, False, 1) +
          bytes([4]) + struct.pack("<II", 1, 0) + bytes([4]) + struct.pack("<II", 0x40000000, 0) +
          bytes([5, 0]) + struct.pack("<IQ", 0x1b, 0) + bytes([5, 1]) + struct.pack("<IQ", 0xc0000080, 0x500))
    write("guest_exits", "attacker", bytes([0]) + io(0x80, 2, False, 0) + b"\x70\x00" +
          cfg(A(1, 0x10), 0, 2, False, 0xfe000000) + cfg(A(1, 0x74), 0, 2, False, 0) +
          cfg(0x80010000, 0, 2, True) + cfg(A(1, 0x100), 0, 2, True) + cfg(A(1, 2), 0, 1, True) +
          hc(1, 0x9000, 0x1000) + hc(3, 0x20000) + hc(1, 0x9000, 4, cpl=3, buf=b"evil") +
          npf(0x2001, "8b07") + npf(0, "488b07") + bytes([6, 11, 0]) + bytes(13))
    write("guest_exits", "cfg-patched-msix-size", bytes([2]) + struct.pack("<HB", 0x72, 0xff) +
          struct.pack("<HB", 0x73, 0x07) + probe + enable + npf(0x7f0, "8b07"))


def bzimage(setup_sects=3, pm_size=8192, version=0x020F, xloadflags=0x3, reloc=1):
    """A bzImage header shaped like Debian's kernel (boot.rst field offsets)."""
    img = bytearray((setup_sects + 1) * 512 + pm_size)
    struct.pack_into("<B", img, 0x1F1, setup_sects)
    struct.pack_into("<I", img, 0x1F4, pm_size // 16)
    struct.pack_into("<HBB", img, 0x1FE, 0xAA55, 0xEB, 0x6A)
    struct.pack_into("<IH", img, 0x202, 0x53726448, version)
    struct.pack_into("<B", img, 0x211, 1)
    struct.pack_into("<IIBBHI", img, 0x22C, 0x7FFFFFFF, 0x200000, reloc, 0, xloadflags, 2047)
    struct.pack_into("<QI", img, 0x258, 0x1000000, 0x2000000)
    return bytes(img)


@target
def seeds_linux_boot():
    # control: RAM (MiB - 16), initrd bytes, command line length; then the image
    ctl = struct.pack("<HIH", 240, 3 << 20, 60)
    write("linux_boot", "debian-like", ctl + bzimage())
    write("linux_boot", "setup-sects-0", ctl + bzimage(setup_sects=0, pm_size=7680))
    write("linux_boot", "fixed-address", ctl + bzimage(reloc=0))
    write("linux_boot", "too-small", struct.pack("<HIH", 0, 1 << 20, 0) + bzimage())
    write("linux_boot", "protocol-2.11", ctl + bzimage(version=0x020B))


@target
def seeds_guest_acpi():
    ids = bytes(range(0, 128, 2))
    for n, cap in ((1, 0xFFFF), (2, 0x400), (64, 0xFFFF), (65, 0xFFFF), (4, 100)):
        write("guest_acpi", f"cpus-{n}-room-{cap:#x}",
              struct.pack("<BIHI", n, 0xFEE00000, cap, 0xE0000 >> 4) + ids)
    # with the I/O APIC an OS guest gets (ID 0), and with an ID its register cannot hold
    for n, io_id in ((1, 0), (2, 0), (2, 16)):
        write("guest_acpi", f"cpus-{n}-ioapic-id-{io_id}",
              struct.pack("<BIHI", n, 0xFEE00000, 0xFFFF, 0xE0000 >> 4) + ids +
              struct.pack("<IB", 0xFEC00000, io_id))


def main():
    want = sys.argv[1:] or sorted(GEN)
    for t in want:
        d = os.path.join(OUT, t)
        if os.path.isdir(d):
            shutil.rmtree(d)
        GEN[t]()
        print(f"{t}: {len(os.listdir(d))} seeds")



@target
def seeds_vlapic():
    # Event encodings of tests/fuzz/vlapic.c, in the sequences Linux 6.1 runs.
    w = lambda cpu, off, v: struct.pack("<BBHI", 0, cpu, off, v)
    r = lambda cpu, off: struct.pack("<BBH", 1, cpu, off)
    wrmsr = lambda cpu, which, v: struct.pack("<BBBQ", 2, cpu, which, v)
    rdmsr = lambda cpu, which: struct.pack("<BBB", 3, cpu, which)
    time = lambda t: struct.pack("<BB", 4, 0) + struct.pack("<I", t)[:3]
    step = lambda cpu: struct.pack("<BB", 5, cpu)
    events = lambda cpu: struct.pack("<BB", 8, cpu)
    setup = r(0, 0x30) + w(0, 0xf0, 0x3ff) + w(0, 0x370, 0xfe) + w(0, 0x350, 0x700) + w(0, 0x360, 0x400)
    write("vlapic", "linux-tsc-deadline", setup + w(0, 0x320, 0x400ec) + rdmsr(0, 0) +
          wrmsr(0, 1, 1000000 + 5000) + time(6000) + step(0) + w(0, 0xb0, 0))
    write("vlapic", "linux-periodic-divide16", setup + w(0, 0x3e0, 3) + w(0, 0x320, 0x200ef) +
          w(0, 0x380, 100) + time(100 * 16 * 25 + 7) + r(0, 0x390) + step(0) + w(0, 0xb0, 0) +
          time(1 << 23) + step(0))
    write("vlapic", "linux-ap-wakeup", setup + w(0, 0x310, 1 << 24) + w(0, 0x300, 0xc500) +
          w(0, 0x300, 0x8500) + events(1) + w(0, 0x300, 0x69a) + w(0, 0x300, 0x69a) + events(1) +
          w(0, 0x280, 0) + r(0, 0x280))
    write("vlapic", "x2apic-ipis", wrmsr(1, 0, 0xfee00c00) + wrmsr(1, 0x0f, 0x1ff) +
          wrmsr(1, 0x3f, 0x44) + step(1) + wrmsr(1, 0x30, (2 << 32) | 0x4051) +
          wrmsr(1, 0x30, 0xc0041) + wrmsr(1, 0x0b, 0) + rdmsr(1, 0x0b) + wrmsr(1, 0, 0xfee00000))
    write("vlapic", "device-messages", setup + w(1, 0xf0, 0x1ff) + w(1, 0xd0, 2 << 24) +
          struct.pack("<BBIBBB", 7, 0, 2, 1, 0, 0x61) + struct.pack("<BBBB", 6, 1, 0x30, 1) +
          step(1) + step(1) + w(1, 0xb0, 0) + w(1, 0xb0, 0))

if __name__ == "__main__":
    main()
