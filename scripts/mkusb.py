#!/usr/bin/env python3
"""Builds moat's USB stick image: a GPT disk that boots on UEFI and on BIOS machines.

  partition 1  BIOS boot partition: GRUB's core.img for BIOS machines
  partition 2  EFI system partition (FAT, label MOAT):
                 EFI/BOOT/BOOTX64.EFI   moat's UEFI application (the default on UEFI)
                 EFI/BOOT/moat.conf     configuration read by it (if given)
                 EFI/BOOT/<name>.elf    guest images, handed over as module <name>
                 EFI/moat/grubx64.efi   GRUB for UEFI: the multiboot2 alternative
                 boot/moat.elf          the hypervisor for GRUB's multiboot2 entry
                 boot/moat.conf         the same configuration, as a GRUB module
                 boot/guests/<name>.elf the same guest images, as GRUB modules <name>
                 boot/grub/grub.cfg     GRUB's menu (BIOS and UEFI)
  LBA 0        protective MBR carrying GRUB's boot.img for BIOS machines

Written with `dd if=build/usb.img of=/dev/sdX bs=4M conv=fsync`. Only Debian's GRUB
images, mkfs.fat and mtools are used; no root, loop devices or partitioning tools.

  mkusb.py --efi build/moat.efi --elf build/moat.elf --out build/usb.img
           [--guest build/guests/cpu.elf ...] [--config moat.conf] [--default-efi moat|grub]
"""
import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid
import zlib

SECTOR = 512
GRUB_PC = "/usr/lib/grub/i386-pc"
GRUB_EFI = "/usr/lib/grub/x86_64-efi"
LABEL = "MOAT"

BIOS_BOOT_TYPE = uuid.UUID("21686148-6449-6e6f-744e-656564454649")
ESP_TYPE = uuid.UUID("c12a7328-f81f-11d2-ba4b-00a0c93ec93b")
NS = uuid.UUID("6d6f6174-0000-4000-8000-757362696d67")  # fixed: reproducible images

# GRUB boot.img fields patched by grub-bios-setup (include/grub/i386/pc/boot.h)
BOOT_KERNEL_SECTOR = 0x5c
BOOT_DRIVE = 0x64
BOOT_DRIVE_CHECK = 0x66
BOOT_CODE_END = 0x1b8      # boot code ends where the disk signature starts
# diskboot.img ends with a block list {u64 start; u16 len; u16 segment} (boot.h)
BLOCKLIST_OFF = SECTOR - 12
KERNEL_SEG = 0x800


def run(*argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode:
        sys.exit(f"mkusb: {' '.join(argv)} failed: {r.stderr.strip()}")
    return r.stdout


def early_cfg(tmp):
    path = os.path.join(tmp, "early.cfg")
    with open(path, "w") as f:
        f.write(f"search --no-floppy --label --set=root {LABEL}\n"
                "set prefix=($root)/boot/grub\n"
                "configfile $prefix/grub.cfg\n")
    return path


def grub_bios_core(tmp):
    out = os.path.join(tmp, "core.img")
    run("grub-mkimage", "-O", "i386-pc", "-d", GRUB_PC, "-o", out, "-c", early_cfg(tmp),
        "-p", "/boot/grub", "biosdisk", "part_gpt", "fat", "search", "search_label", "configfile",
        "normal", "multiboot2", "test", "echo")
    return open(out, "rb").read()


def grub_efi(tmp):
    out = os.path.join(tmp, "grubx64.efi")
    run("grub-mkimage", "-O", "x86_64-efi", "-d", GRUB_EFI, "-o", out, "-c", early_cfg(tmp),
        "-p", "/boot/grub", "part_gpt", "fat", "search", "search_label", "configfile", "normal",
        "multiboot2", "test", "echo", "efi_gop")
    return out


GRUB_CFG = """\
set timeout=3
set default=0
menuentry "moat (multiboot2)" {{
	multiboot2 /boot/moat.elf
	if [ -f /boot/moat.conf ]; then module2 /boot/moat.conf config; fi
{guests}	boot
}}
"""


def guest_name(path):
    """build/guests/cpu.elf -> cpu: the module name a configuration's image= names."""
    return os.path.basename(path)[:-len(".elf")] if path.endswith(".elf") else os.path.basename(path)


def make_esp(tmp, size, files):
    img = os.path.join(tmp, "esp.img")
    run("mkfs.fat", "-C", "-n", LABEL, img, str(size // 1024))
    dirs = sorted({os.path.dirname(dst) for dst in files})
    made = set()
    for d in dirs:
        parts = d.split("/")
        for i in range(1, len(parts) + 1):
            p = "/".join(parts[:i])
            if p and p not in made:
                run("mmd", "-i", img, "::/" + p)
                made.add(p)
    for dst, src in files.items():
        run("mcopy", "-i", img, src, "::/" + dst)
    return open(img, "rb").read()


def gpt_entry(type_guid, part_guid, first, last, name):
    return (type_guid.bytes_le + part_guid.bytes_le + struct.pack("<QQQ", first, last, 0) +
            name.encode("utf-16-le").ljust(72, b"\0"))


def gpt_header(current, backup, first_usable, last_usable, disk_guid, entries_lba, entries):
    crc_entries = zlib.crc32(entries)
    hdr = struct.pack("<8sIIIIQQQQ16sQIII", b"EFI PART", 0x10000, 92, 0, 0, current, backup,
                      first_usable, last_usable, disk_guid.bytes_le, entries_lba, 128, 128,
                      crc_entries)
    hdr = hdr[:16] + struct.pack("<I", zlib.crc32(hdr)) + hdr[20:]
    return hdr.ljust(SECTOR, b"\0")


def build(a):
    total = a.size_mib * 1024 * 1024
    sectors = total // SECTOR
    bios_first, bios_last = 34, 2047
    esp_first, esp_last = 2048, sectors - 34
    with tempfile.TemporaryDirectory() as tmp:
        core = grub_bios_core(tmp)
        if len(core) > (bios_last - bios_first + 1) * SECTOR:
            sys.exit(f"mkusb: GRUB core.img ({len(core)} bytes) does not fit the BIOS boot partition")
        grubefi = grub_efi(tmp)
        cfg = os.path.join(tmp, "grub.cfg")
        with open(cfg, "w") as f:
            f.write(GRUB_CFG.format(guests="".join(
                f"\tmodule2 /boot/guests/{guest_name(g)}.elf {guest_name(g)}\n" for g in a.guest)))
        default = a.efi if a.default_efi == "moat" else grubefi
        files = {"EFI/BOOT/BOOTX64.EFI": default, "EFI/moat/grubx64.efi": grubefi,
                 "EFI/moat/moat.efi": a.efi, "boot/moat.elf": a.elf, "boot/grub/grub.cfg": cfg}
        for g in a.guest:
            files[f"EFI/BOOT/{guest_name(g)}.elf"] = g
            files[f"boot/guests/{guest_name(g)}.elf"] = g
        if a.config:
            files["EFI/BOOT/moat.conf"] = a.config
            files["boot/moat.conf"] = a.config
        if a.cmdline:
            cmd = os.path.join(tmp, "moat.cmd")
            with open(cmd, "w") as f:
                f.write(a.cmdline + "\n")
            files["EFI/BOOT/moat.cmd"] = cmd
        esp = make_esp(tmp, (esp_last - esp_first + 1) * SECTOR, files)

    disk = bytearray(total)
    # Protective MBR with GRUB's boot code: one 0xEE partition over the whole disk.
    boot = bytearray(open(os.path.join(GRUB_PC, "boot.img"), "rb").read())
    struct.pack_into("<Q", boot, BOOT_KERNEL_SECTOR, bios_first)
    boot[BOOT_DRIVE] = 0xff                       # use the drive the BIOS booted from
    boot[BOOT_DRIVE_CHECK:BOOT_DRIVE_CHECK + 2] = b"\x90\x90"  # hard disk: skip the check
    disk[0:BOOT_CODE_END] = boot[0:BOOT_CODE_END]
    struct.pack_into("<8BII", disk, 0x1be, 0, 0, 2, 0, 0xee, 0xff, 0xff, 0xff, 1,
                     min(sectors - 1, 0xffffffff))
    disk[0x1fe:0x200] = b"\x55\xaa"
    # core.img: its first sector (diskboot.img) loads the rest through its block list.
    core = bytearray(core)
    n = (len(core) + SECTOR - 1) // SECTOR
    struct.pack_into("<QHH", core, BLOCKLIST_OFF, bios_first + 1, n - 1, KERNEL_SEG + 0x20)
    disk[bios_first * SECTOR:bios_first * SECTOR + len(core)] = core
    disk[esp_first * SECTOR:esp_first * SECTOR + len(esp)] = esp

    disk_guid = uuid.uuid5(NS, "disk")
    entries = (gpt_entry(BIOS_BOOT_TYPE, uuid.uuid5(NS, "bios"), bios_first, bios_last, "BIOS boot") +
               gpt_entry(ESP_TYPE, uuid.uuid5(NS, "esp"), esp_first, esp_last, "EFI system"))
    entries = entries.ljust(128 * 128, b"\0")
    last_usable = sectors - 34
    disk[SECTOR:2 * SECTOR] = gpt_header(1, sectors - 1, 34, last_usable, disk_guid, 2, entries)
    disk[2 * SECTOR:2 * SECTOR + len(entries)] = entries
    disk[(sectors - 33) * SECTOR:(sectors - 1) * SECTOR] = entries
    disk[(sectors - 1) * SECTOR:] = gpt_header(sectors - 1, 1, 34, last_usable, disk_guid,
                                               sectors - 33, entries)
    tmp_out = a.out + ".tmp"
    with open(tmp_out, "wb") as f:
        f.write(disk)
    os.replace(tmp_out, a.out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--efi", required=True)
    ap.add_argument("--elf", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--config")
    ap.add_argument("--guest", action="append", default=[],
                    help="a guest image <name>.elf (repeatable): module <name> on both paths")
    ap.add_argument("--cmdline", help="written to EFI/BOOT/moat.cmd")
    ap.add_argument("--default-efi", choices=["moat", "grub"], default="moat")
    ap.add_argument("--size-mib", type=int, default=64)
    a = ap.parse_args()
    for p in (a.efi, a.elf) + ((a.config,) if a.config else ()):
        if not os.path.exists(p):
            sys.exit(f"mkusb: {p} not found")
    for tool in ("grub-mkimage", "mkfs.fat", "mcopy", "mmd"):
        if not shutil.which(tool):
            sys.exit(f"mkusb: {tool} not found (see scripts/deps.sh)")
    build(a)


if __name__ == "__main__":
    main()
