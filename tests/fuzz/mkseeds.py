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


@target
def seeds_acpi_table():
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
]


@target
def seeds_config():
    for i, c in enumerate(CONFIGS):
        write("config", f"conf-{i}", c)


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


def main():
    want = sys.argv[1:] or sorted(GEN)
    for t in want:
        d = os.path.join(OUT, t)
        if os.path.isdir(d):
            shutil.rmtree(d)
        GEN[t]()
        print(f"{t}: {len(os.listdir(d))} seeds")


if __name__ == "__main__":
    main()
