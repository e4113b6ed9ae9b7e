"""Linux guests in the matrix: Debian's stock kernel and the tests/linuxref initramfs as a
moat guest (kernel=, initrd=, cmdline=), judged from what Linux itself prints under the
guest's prefix: its banner, the command line and the e820 map moat built, and the initrd
where moat put it. Refused kernels are judged from moat's lines."""
import os
import re
import shutil
import sys

import harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "linuxref"))
import build as linuxref_build  # noqa: E402

MiB = 1 << 20
WEB_MEM = 256 * MiB
WEB_CMDLINE = "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr"
LINUX_CONF = (
    "# a Linux guest beside the attacker (tests/emu/linux_guest.py)\n"
    f'guest web memory=256M cpu=1 kernel=vmlinuz initrd=initrd.gz cmdline="{WEB_CMDLINE}"\n'
    "guest attacker memory=16M cpu=2 image=attacker device=01:00.0/vf2\n")
REFUSED_CONF = (
    "# kernels moat must refuse, each with its reason; the cpu guest runs regardless\n"
    "guest notbz memory=256M cpu=1 kernel=initrd.gz\n"
    "guest noinitrd memory=256M cpu=2 kernel=vmlinuz initrd=missing.gz\n"
    "guest small memory=32M cpu=3 kernel=vmlinuz initrd=initrd.gz\n"
    "guest plain memory=16M cpu=4 image=cpu\n")


def esp_with_linux(dirname, conf):
    """build/esp plus vmlinuz, initrd.gz (tests/linuxref) and moat.conf."""
    def prepare():
        try:
            info = linuxref_build.build()
        except linuxref_build.Unavailable as e:
            raise harness.RunUnavailable(f"Debian's kernel cannot be had: {e}")
        esp = os.path.join(harness.BUILD, dirname)
        shutil.rmtree(esp, ignore_errors=True)
        shutil.copytree(harness.image_path("test", "esp"), esp)
        boot = os.path.join(esp, "EFI", "BOOT")
        shutil.copyfile(info["kernel"], os.path.join(boot, "vmlinuz"))
        shutil.copyfile(info["initrd"], os.path.join(boot, "initrd.gz"))
        with open(os.path.join(boot, "moat.conf"), "w") as f:
            f.write(conf)
        return esp
    return prepare


def expected_e820(ram):
    """The map docs/linux-guest.md promises: moat's canary pages and the legacy hole
    reserved, the rest RAM."""
    return [(0, 0xfff, "reserved"), (0x1000, 0x9efff, "usable"), (0x9f000, 0xfffff, "reserved"),
            (0x100000, ram - 0x1001, "usable"), (ram - 0x1000, ram - 1, "reserved")]


E820_RE = re.compile(r"^\[web\] \[\s*[\d.]+\] BIOS-e820: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (\S+)$")


def result(r, tag, ok, why):
    return [f"{r.name}: host: {tag}", "ok" if ok else "fail", "" if ok else why]


def check_linux_boot(r):
    out = []
    banner = harness.line_matching(r, r"^\[web\] \[\s*[\d.]+\] Linux version \d+\.\d+")
    out.append(result(r, "linux-banner", banner, "no '[web] ... Linux version' line"))
    cmd = harness.line_matching(r, r"^\[web\] \[\s*[\d.]+\] Command line: (.*)$")
    got = cmd[0].split("Command line: ", 1)[1] if cmd else None
    out.append(result(r, "linux-command-line", got == WEB_CMDLINE,
                      f"Linux saw {got!r}, moat was given {WEB_CMDLINE!r}"))
    e820 = [(int(m.group(1), 16), int(m.group(2), 16), m.group(3))
            for m in (E820_RE.match(ln) for ln in r.lines) if m]
    want = expected_e820(WEB_MEM)
    out.append(result(r, "linux-e820-as-built", e820 == want, f"Linux saw {e820}, expected {want}"))
    placed = harness.line_matching(r, r"^vmm: guest web: Linux boot protocol 2\.\d+, kernel \d+ KiB "
                                      r"at 0x1000000 \(needs \d+ MiB\), initrd (\d+) KiB at (0x[0-9a-f]+)")
    rd = harness.line_matching(r, r"^\[web\] \[\s*[\d.]+\] RAMDISK: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]")
    ok = False
    if placed and rd:
        m1 = re.search(r"initrd (\d+) KiB at (0x[0-9a-f]+)", placed[0])
        m2 = re.search(r"RAMDISK: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]", rd[0])
        start, end = int(m2.group(1), 16), int(m2.group(2), 16)
        ok = start == int(m1.group(2), 16) and (end + 1 - start) // 1024 >= int(m1.group(1))
    out.append(result(r, "linux-initrd-where-placed", ok,
                      f"moat: {placed[:1]}, Linux: {rd[:1]}"))
    # the ACPI tables moat built (vmm/guest_acpi.c), as Linux's ACPICA lists them, unharmed
    acpi = {m.group(1): m.group(2) for m in (
        re.match(r"^\[web\] \[\s*[\d.]+\] ACPI: (RSDP|XSDT|FACP|DSDT|FACS|APIC) 0x([0-9A-F]{16})", ln)
        for ln in r.lines) if m}
    want = {"RSDP", "XSDT", "FACP", "DSDT", "FACS", "APIC"}
    ok = set(acpi) == want and acpi["RSDP"] == "00000000000E0000" and \
        all(0xE0000 <= int(a, 16) < 0xF0000 for a in acpi.values())
    out.append(result(r, "linux-acpi-tables", ok, f"Linux listed {acpi}, expected {sorted(want)} "
                                                  f"in 0xE0000-0xEFFFF, the RSDP first"))
    bad = harness.line_matching(r, r"^\[web\] .*ACPI.*(Error|Warning|[Ii]ncorrect checksum|"
                                   r"[Ii]nvalid|[Bb]ad)")
    out.append(result(r, "linux-acpi-no-complaint", not bad, bad[0] if bad else ""))
    att = harness.line_matching(r, r"^vmm: stats attacker: stopped; .*results [1-9]\d* passed, "
                                   r"0 failed")
    out.append(result(r, "attacker-beside-linux", att,
                      "the attacker did not finish its attacks with 0 failed"))
    return out


def check_refused(r):
    out = []
    for tag, pat in (
            ("not-a-bzimage-refused",
             r"^vmm: error: linux_guest\.c:\d+: .*guest notbz: kernel 'initrd\.gz' refused: not a bzImage"),
            ("missing-initrd-refused",
             r"^vmm: error: linux_guest\.c:\d+: .*guest noinitrd: no initrd 'missing\.gz'"),
            ("too-small-refused",
             r"^vmm: error: linux_guest\.c:\d+: .*guest small: kernel 'vmlinuz' refused: .*give (it|the guest) more memory"),
            ("plain-guest-ran", r"^vmm: stats plain: shut down; .*results [1-9]\d* passed, 0 failed")):
        out.append(result(r, tag, harness.line_matching(r, pat), f"no line matching {pat!r}"))
    return out


def judge_refused(r, expect_exit=True):
    """Three configured guests are refused on purpose: the self-test that counts guests that
    could not be built must say exactly that, and is then the run's only failure."""
    res = harness.judge(r, expect_exit)
    for x in res:
        if x[0].endswith("vmm: guests-ran") and x[1] == "fail" and "3 configured guests could not be built" in x[2]:
            x[1], x[2] = "ok", "failed as it must: 3 configured guests refused"
    return res
