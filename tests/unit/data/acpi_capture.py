#!/usr/bin/env python3
"""Captures the ACPI tables an emulator gives moat, as C arrays for the host unit tests.

Boots build/moat.elf from a GRUB ISO whose command line adds `acpi.dump` (moat then hex-dumps
the RSDP and every table it found), and turns the `acpi: dump ...` lines into a header:

  tests/unit/data/acpi_capture.py qemu-q35   > tests/unit/data/acpi_qemu_q35.h
  tests/unit/data/acpi_capture.py bochs      > tests/unit/data/acpi_bochs.h
  tests/unit/data/acpi_capture.py qemu-q35-ovmf > tests/unit/data/acpi_qemu_q35_ovmf.h
(the OVMF capture boots build/esp with a moat.cmd holding acpi.dump next to BOOTX64.EFI).
"""
import os
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CAP = os.path.join(ROOT, "build", "acpi-capture")
os.environ["BUILD"] = CAP
sys.path.insert(0, os.path.join(ROOT, "tests", "emu"))
import harness  # noqa: E402

HEAD_RE = re.compile(r"^acpi: dump (\S{4}) at (0x[0-9a-f]+|0) length (\d+)$")
LINE_RE = re.compile(r"^acpi: dump \+([0-9a-f]{4})((?: [0-9a-f]{2})+)$")


def build_iso():
    iso = os.path.join(CAP, "iso")
    shutil.rmtree(iso, ignore_errors=True)
    os.makedirs(os.path.join(iso, "boot", "grub"))
    shutil.copy(os.path.join(ROOT, "build", "moat.elf"), os.path.join(iso, "boot", "moat.elf"))
    with open(os.path.join(iso, "boot", "grub", "grub.cfg"), "w") as f:
        f.write("set timeout=0\nmenuentry moat {\n\tmultiboot2 /boot/moat.elf acpi.dump\n\tboot\n}\n")
    subprocess.run(["grub-mkrescue", "-d", "/usr/lib/grub/i386-pc", "-o",
                    os.path.join(CAP, "moat.iso"), iso], check=True, capture_output=True)


def build_esp():
    esp = os.path.join(CAP, "esp")
    shutil.rmtree(esp, ignore_errors=True)
    shutil.copytree(os.path.join(ROOT, "build", "esp"), esp)
    with open(os.path.join(esp, "EFI", "BOOT", "moat.cmd"), "w", newline="") as f:
        f.write("acpi.dump\r\n")


def parse(lines):
    blobs, cur = [], None
    for ln in lines:
        m = HEAD_RE.match(ln)
        if m:
            cur = [m.group(1), int(m.group(2), 16), int(m.group(3)), bytearray()]
            blobs.append(cur)
            continue
        m = LINE_RE.match(ln)
        if m and cur is not None:
            assert int(m.group(1), 16) == len(cur[3]), ln
            cur[3] += bytes(int(x, 16) for x in m.group(2).split())
    for b in blobs:
        assert len(b[3]) == b[2], f"{b[0]}: {len(b[3])} bytes of {b[2]}"
    return blobs


def emit(name, what, blobs):
    out = [f"/* ACPI tables of {what},",
           " * captured by tests/unit/data/acpi_capture.py (moat booted with acpi.dump).",
           "XX
           f"static const struct acpi_blob {name}[] = {{"]
    for sig, pa, length, data in blobs:
        out.append(f"\t{{ \"{sig}\", {pa:#x}, {length}, (const u8[]){{")
        for i in range(0, len(data), 12):
            out.append("\t\t" + " ".join(f"0x{b:02x}," for b in data[i:i + 12]))
        out.append("\t} },")
    out.append("};")
    return "\n".join(out) + "\n"


def main():
    which = sys.argv[1] if len(sys.argv) > 1 else "qemu-q35"
    if which == "qemu-q35-ovmf":
        build_esp()
        r = harness.run_qemu("capture-ovmf", "uefi", "reference", timeout=90)
        print(emit("acpi_qemu_q35_ovmf", "QEMU 10 q35 (reference topology) booted through OVMF",
                   parse(r.lines)))
        return
    build_iso()
    if which == "qemu-q35":
        r = harness.run_qemu("capture-q35", "mb2", "reference", timeout=60)
        print(emit("acpi_qemu_q35", "QEMU 10 q35 (reference topology: 4 CPUs, intel-iommu, "
                   "SeaBIOS + GRUB)", parse(r.lines)))
    elif which == "qemu-q35-smp12":
        r = harness.run_qemu("capture-q35-12", "mb2", "plain", timeout=90, smp=12)
        print(emit("acpi_qemu_q35_smp12", "QEMU 10 q35 with -smp 12", parse(r.lines)))
    elif which == "bochs":
        r = harness.run_bochs("capture-bochs", cpus=3, timeout=240)
        print(emit("acpi_bochs", "Bochs 2.7 (i440fx, 3 CPUs, BIOS-bochs-latest + GRUB)",
                   parse(r.lines)))
    else:
        sys.exit(f"unknown machine {which}")


if __name__ == "__main__":
    main()
