"""The emulator test matrix (DESIGN.md "Test matrix"). Each run boots moat once; its TAP
lines become tests, and `checks` adds host-side checks that read the run's serial log and
what QEMU itself reported (monitor commands)."""
import os
import re
import shutil
import struct
import subprocess
import sys
import time

import harness
import linux_guest
import linux_peer
import os_attack
import mkdmar
import screen

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "linuxref"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import linuxref  # noqa: E402
import bench  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts"))
import mkcpio  # noqa: E402


def check_boot_method(expected):
    def check(r):
        ok = any(f"boot method: {expected}" in ln for ln in r.lines)
        return [[f"{r.name}: host: boot-method-{expected}", "ok" if ok else "fail",
                 "" if ok else f"no 'boot method: {expected}' line"]]
    return check


def check_line(tag, pattern):
    """A host-side check that some serial line matches `pattern` (a regex)."""
    def check(r):
        ok = bool(harness.line_matching(r, pattern))
        return [[f"{r.name}: host: {tag}", "ok" if ok else "fail",
                 "" if ok else f"no line matching {pattern!r}"]]
    return check


def check_lines_in_order(tag, patterns):
    """Each pattern matches a serial line, each after the previous one's first match."""
    def check(r):
        at, missing = -1, None
        for p in patterns:
            rx = re.compile(p)
            nxt = next((i for i, ln in enumerate(r.lines) if i > at and rx.search(ln)), None)
            if nxt is None:
                missing = p
                break
            at = nxt
        return [[f"{r.name}: host: {tag}", "fail" if missing else "ok",
                 f"no line matching {missing!r} after the previous ones" if missing else ""]]
    return check


# CPU 0 sleeps while guests run and serves the igb PF on the PF's own MSI-X, remapped and
# source-checked (QEMU delivers it: no timer needed).
PF_ON_INTERRUPT = [
    check_line("pf-events-on-interrupt",
               r"^pci: 0000:01:00\.0 \(igb-pf\): events through MSI-X entry 0, IRTE \d+ "
               r"\(source ID 0100 verified\), vector 0x[0-9a-f]+ on CPU 0$"),
    check_line("pf-served-on-interrupt",
               r"^pci: 0000:01:00\.0 \(igb-pf\): [1-9]\d* interrupts, served [1-9]\d* "
               r"times \(on interrupt\), [1-9]\d* events$"),
]


# Suite `platform` (guests/lib/platform_suite.c): the devices moat emulates on ports.
PLATFORM_TESTS = ("pit-ch2-countdown", "pit-ch2-out2", "pm-timer-rate", "rtc-time",
                  "rtc-second-is-tsc-second")


# The reference machine's default configuration: each guest on its own CPU (CPU 0 keeps
# the hypervisor's work).
GUESTS_ON_OWN_CPUS = [
    check_line(f"guest-{name}-on-cpu{cpu}", rf"^vmm: guest {name}: running on cpu {cpu}$")
    for name, cpu in (("alpha", 1), ("beta", 2), ("attacker", 3))
] + [
    # ... and each with its own VF of the NIC at 01:00.0 (VF n at 01:10.(2n)), reset and in a
    # domain of its own.
    check_line(f"guest-{name}-owns-vf{n}",
               rf"^vmm: guest {name}: 00:01\.0 is 0000:01:10\.{2 * n}: reset, 1 DMA source\(s\) "
               rf"from 01{0x80 + 2 * n:02x} in domain guest-{name} \(its RAM only\)")
    for n, name in enumerate(("alpha", "beta", "attacker"))
]


# The reference machine's passthrough: alpha and beta drive their own VFs (suite vf) and
# exchange frames; afterwards moat drives two VFs itself (suite igbvf). Each must pass, not
# be skipped.
VF_GUEST_TESTS = ("vf-probe", "vf-reset-mailbox", "vf-dma-tx", "vf-dma-rx", "vf-bulk",
                  "no-exits-datapath", "vf-msix", "vf-flr")
VF_ATTACKS = ("dma-outside-ram", "dma-hypervisor-hpa", "msix-forge-remappable",
              "msix-forge-compat", "tx-mac-spoof", "mac-spoof", "flood", "flr-storm",
              "bar-decode-off", "bar-flr-window", "owner-state-left")
# The attacker's FLR storm (docs/passthrough.md): each reset real, the log limited to a few
# lines a second per device, by moat and by the PF driver.
VF_FLR_STORM_LOGGED = [
    check_line("attacker-flr-log-limited",
               r"^vmm: guest attacker: function level reset of 00:01\.0 \(0000:01:10\.4\), "
               r"\d+ so far \(earlier ones not logged\)$"),
    check_line("attacker-pf-reset-log-limited",
               r"^igb: vf2 \(guest attacker\): function reset seen \(\d+ so far, some not logged\)$"),
    check_line("attacker-flrs-counted",
               r"^vmm: guest attacker: device 00:01\.0: 21 function level resets by the guest, 0 failed$"),
] + [
    check_line(f"{name}-flr-counted",
               rf"^vmm: guest {name}: device 00:01\.0: 1 function level resets by the guest, 0 failed$")
    for name in ("alpha", "beta")
] + [
    # Their BAR out of the nested tables with memory decode off and in their resets
    # (vmm/vbar.c): every access then answered by moat, none other (vf-flr: 2 reads; the
    # attacker's bar-decode-off and bar-flr-window: 5 reads, 2 writes).
    check_line(f"{name}-bar-off-counted",
               rf"^vmm: guest {name}: device 00:01\.0: {n} reads and {w} writes of its BARs "
               r"answered by moat \(memory decode off or in its reset\)$")
    for name, n, w in (("alpha", 2, 0), ("beta", 2, 0), ("attacker", 5, 2))
]
VF_NATIVE_TESTS = ("native-reset-mailbox", "native-dma-tx", "native-dma-rx", "native-bulk",
                   "native-mailbox-rate-limited", "native-released")
VF_PASSTHROUGH = [
    check_line(f"{name}-vf-{t}", rf"^\[{name}\] ok \d+ - vf: {t}$")
    for name in ("alpha", "beta") for t in VF_GUEST_TESTS
] + [
    check_line(f"attacker-{t}", rf"^\[attacker\] ok \d+ - attack: {t}$") for t in VF_ATTACKS
] + VF_FLR_STORM_LOGGED + [
    # The attacker's VF wrote interrupt messages (its head write-back aimed at 0xFEExxxxx):
    # one naming the canary entry moat keeps for the PF, one in compatibility format to the
    # attacker's own CPU. The hypervisor judges; QEMU cannot block either (its devices' DMA
    # carries no requester ID, so no source-ID check; CFI not modelled) and the verdict
    # must say so, having seen the message arrive (docs/igbvf.md).
    check_line("interrupt-canary-armed",
               r"^vmm: interrupt canary: IRTE 0 of 0000:01:00\.0 \(the PF, no guest's\) -> vector "),
    check_line("attacker-msix-forge-remappable-judged",
               r"^ok \d+ - assign: attacker-msix-forge-remappable( # SKIP QEMU: a device's DMA write "
               r"carries no requester ID, so intel-iommu skips source-ID verification: the message "
               r"went through IRTE 0 to vector 0x[0-9a-f]+)?$"),
    check_line("attacker-msix-forge-compat-judged",
               r"^ok \d+ - assign: attacker-msix-forge-compat( # SKIP QEMU does not model CFI: the "
               r"VF's compatibility-format message to APIC 3 vector 0xee was delivered with "
               r"GCMD\.CFI clear)?$"),
]


def check_report_domain_ids(names):
    """The per-guest report names the VT-d domain ID the driver gave the guest's domain."""
    def check(r):
        out = []
        for name in names:
            made = harness.line_matching(r, rf"^vtd: domain (\d+) \(guest-{name}\) created")
            rep = harness.line_matching(
                r, rf"^vmm: guest {name}: device 00:01\.0 = .*, domain (\d+) \(guest-{name}\), faults ")
            did_made = re.search(r"domain (\d+) \(", made[0]).group(1) if made else None
            did_rep = re.search(r", domain (\d+) \(", rep[0]).group(1) if rep else None
            ok = did_made is not None and did_made == did_rep
            out.append([f"{r.name}: host: report-domain-id-{name}", "ok" if ok else "fail",
                        "" if ok else f"created as domain {did_made}, reported as {did_rep}"])
        return out
    return check


# The attacker's user space (ring 3) makes every hypercall (guests/attacker/ring3.c): moat
# refuses each with -EPERM, logs the refusal and counts it; what the calls would have done
# must not happen. The console text and the forged result are markers that must not appear.
# Port I/O and ICEBP from ring 3 stay inside the guest (#GP, #DB) and do not stop it.
RING3_CALLS = 10  # ring3.c calls[]: the 9 numbers with GET_CMDLINE and an unknown one
RING3_TESTS = ("hypercall-from-ring3", "io-from-ring3-faults", "icebp-from-ring3")
RING3_MARKERS = (("console-write", "moat-ring3-console-leak"),
                 ("report", "ring3-forged-report"))


def check_ring3_attacks(guest="attacker"):
    def check(r):
        ran = harness.line_matching(r, rf"^\[{guest}\] (not )?ok \d+ - attack: hypercall-from-ring3$")
        res = []
        for what, marker in RING3_MARKERS:
            leaked = [ln for ln in r.lines if marker in ln]
            ok = bool(ran) and not leaked
            res.append([f"{r.name}: host: ring3-{what}-had-no-effect", "ok" if ok else "fail",
                        "" if ok else leaked[0] if leaked else "the ring-3 test did not run"])
        return res
    return [check] + [
        check_line(f"{guest}-{t}", rf"^\[{guest}\] ok \d+ - attack: {t}$") for t in RING3_TESTS
    ] + [
        check_line(f"{guest}-ring3-refusal-logged",
                   rf"^vmm: warning: guest {guest}: hypercall 1 from CPL 3 at rip 0x[0-9a-f]+ "
                   rf"refused \(-EPERM\)$"),
        check_line(f"{guest}-ring3-refusals-counted",
                   rf"^vmm: stats {guest}: hypercalls refused at CPL > 0: {RING3_CALLS}$")]


# #DB and #AC are intercepted (a self-recursive delivery would otherwise hang the host CPU,
# CVE-2015-8104 / CVE-2015-5307) and reflected: the attacker's single-step #DB reaches it
# intact, and the hypervisor counted it as an exit. Then the CPU attacks
# (guests/attacker/cpu_attacks.c), the same under SVM and VMX: MONITOR/MWAIT, RDTSCP/RDPID
# and RDPMC refused and hidden, WBINVD/INVD exit as NOPs, DR0-DR3 and CR8 the guest's own.
# The attacker stops with DR0-DR3 set and CR8 = 15: its CPU must come back clean (TPR 0,
# no breakpoints) and answer the hypervisor's IPIs (boot: ipi-roundtrip etc. run after).
CPU_ATTACKS = ["db-reflected", "db-ac-intercepted", "mwait-refused", "cache-flush-exits",
               "rdpmc-refused", "tsc-aux-hidden", "debug-regs-own", "cr8-own"]


# QEMU's TCG checks the RDTSC intercept for RDTSCP (helper_rdtscp calls helper_rdtsc), so under
# its SVM RDTSCP runs; the attacker then requires TSC_AUX 0 (moat's reset) and says so.
RDTSCP_QEMU_SKIP = " # SKIP QEMU TCG does not intercept RDTSCP; TSC_AUX read 0 (reset)"


def check_cpu_attacks(guest="attacker", qemu=False):
    skip = {"tsc-aux-hidden": RDTSCP_QEMU_SKIP} if qemu else {}
    return [check_line(f"{guest}-{t}", rf"^\[{guest}\] ok \d+ - attack: {t}{re.escape(skip.get(t, ''))}$")
            for t in CPU_ATTACKS] + \
        [check_tap_passed(t) for t in ("vmm: guest-cpus-clean", "boot: ipi-roundtrip",
                                       "boot: smp-call-async", "boot: cpus-online")]


# APIC/SMP corner cases: one CPU, many CPUs, a CPU without x2APIC (xAPIC MMIO mode), and
# a hot-plugged CPU in socket 1 whose APIC ID (259) only x2APIC can address.
SMP_RUNS = [
    dict(name="qemu-mb2-smp1", emulator="qemu", boot="mb2", topology="plain", smp=1,
         checks=[check_line("one-cpu", r"^smp: 1 CPUs online, APIC IDs 0$")]),
    dict(name="qemu-mb2-smp12", emulator="qemu", boot="mb2", topology="plain", smp=12,
         checks=[check_line("twelve-cpus", r"^smp: 12 CPUs online, APIC IDs 0 1 2 .* 11$")]),
    dict(name="qemu-mb2-xapic", emulator="qemu", boot="mb2", topology="plain", smp=4,
         extra=("-cpu", "max,-x2apic"),
         checks=[check_line("xapic-mode", r"^apic: xAPIC mode"),
                 check_line("four-cpus", r"^smp: 4 CPUs online, APIC IDs 0 1 2 3$")]),
    dict(name="qemu-mb2-apicid259", emulator="qemu", boot="mb2", topology="plain", smp=1,
         extra=("-smp", "2,sockets=2,cores=200,threads=1,maxcpus=400",
                "-device", "max-x86_64-cpu,socket-id=1,core-id=3,thread-id=0"),
         checks=[check_line("x2apic-mode", r"^apic: x2APIC mode"),
                 check_line("apic-id-259", r"^smp: 3 CPUs online, APIC IDs 0 1 259$")]),
]


# moat.cmd and moat.conf next to the UEFI application reach moat without a rebuild.
ESP_FILES = {
    "moat.cmd": "# command line for moat (tests/emu/matrix.py)\r\nloglevel=debug\r\n"
                "  efi_test_stale_key tsc_test_wrap\n",
    "moat.conf": "# configuration handed to moat as module \"config\"\n"
                 "guest broken memory=3M cpu=1 image=cpu\r\n"
                 "guest files0 memory=4M cpu=1 image=mycpu\r\n",
    # A guest image next to the application: the module "mycpu" the configuration names.
    "mycpu.elf": ("copy", "guests/cpu.elf"),
}


def esp_with_files(dirname, files, image="test"):
    """A copy of the image's ESP (build/esp-test, build/esp) with extra files next to
    BOOTX64.EFI; returns its path."""
    def prepare():
        esp = os.path.join(harness.BUILD, dirname)
        shutil.rmtree(esp, ignore_errors=True)
        shutil.copytree(harness.image_path(image, "esp"), esp)
        for name, text in files.items():
            dst = os.path.join(esp, "EFI", "BOOT", name)
            if isinstance(text, tuple) and text[0] == "copy":  # ("copy", path under build/)
                shutil.copyfile(os.path.join(harness.BUILD, text[1]), dst)
                continue
            if isinstance(text, tuple) and text[0] == "call":  # ("call", fn making bytes)
                with open(dst, "wb") as f:
                    f.write(text[1]())
                continue
            with open(dst, "w", newline="") as f:
                f.write(text)
        return esp
    return prepare


def bench_bz():
    with open(os.path.join(harness.BUILD, "guests", "bench.bz"), "rb") as f:
        return f.read()


def check_bench_os(r):
    """The bench guest started as an OS guest (guests/bench/apic.c): a figure for each of its
    local APIC's exits (as make bench reads them; the values are not judged here), and the
    test image's exit counter port: between the guest's marks 1 and 2 exactly its 100
    CPUIDs and the second mark's own port write."""
    costs = bench.parse_exit_costs(r.lines)
    missing = [k for k in bench.APIC_KINDS if "median" not in costs.get(k, {})]
    out = [[f"{r.name}: host: apic-exit-figures", "fail" if missing else "ok",
            f"no figure for {', '.join(missing)}: "
            + "; ".join(costs.get(k, {}).get("not_measured", "no line") for k in missing)
            if missing else ""]]
    marks = bench.linux_bench.exit_marks(r.lines, "bench")
    diff = bench.linux_bench.marks_diff(marks, 1, 2)
    ok = diff == {"cpuid": 100, "io": 1}
    out.append([f"{r.name}: host: exits-port-counts", "ok" if ok else "fail",
                "" if ok else f"`vmm: exits bench: mark 1/2` lines {marks}: between them "
                f"{diff}, expected cpuid=100 io=1"])
    return out


def figures_check(r, name, parse):
    """`host: <name>` passes when make bench's parser `parse` finds every figure in the run's
    lines; its failure says which one it missed (bench.Missing)."""
    try:
        parse(r.lines)
        ok, diag = True, ""
    except bench.Missing as e:
        ok, diag = False, str(e)
    return [[f"{r.name}: host: {name}", "ok" if ok else "fail", diag]]


def check_bench_vf_irq(r):
    """make bench's VF interrupt boot, once (guests/bench/vf_irq.c, bench.vf_irq_costs): every
    figure make bench reads is there and can be right (bench.parse_vf_irq: the interrupts all
    taken, moat's count of the VF's messages, at least one exit per interrupt between the
    exit marks, each figure 1,000 samples); not how large they are."""
    return figures_check(r, "vf-irq-figures", bench.parse_vf_irq)


def check_dataplane(r):
    """make bench's data path boot, once: both bench guests' batches and the native ones
    complete and verified, with every figure make bench reads (tests/bench/bench.py)."""
    return figures_check(r, "dataplane-figures", bench.parse_dataplane)


def esp_image_copy():
    """build/esp-test.img (the FAT image as made for USB sticks), copied: firmware may
    write to it."""
    img = os.path.join(harness.BUILD, "esp-run.img")
    shutil.copyfile(harness.image_path("test", "esp_img"), img)
    return img


def check_framebuffer(r):
    """With a VGA device OVMF offers GOP: the loader must hand its framebuffer over."""
    m = [re.search(r"efi: framebuffer ([0-9A-F]+) \((\d+) bytes\) (\d+)x(\d+) pitch (\d+) bpp 32", ln)
         for ln in r.lines]
    m = [x for x in m if x]
    ok = bool(m) and int(m[0].group(1), 16) != 0 and int(m[0].group(5)) >= 4 * int(m[0].group(3)) \
        and int(m[0].group(5)) * int(m[0].group(4)) <= int(m[0].group(2))
    return [[f"{r.name}: host: gop-framebuffer", "ok" if ok else "fail",
             "" if ok else f"framebuffer line: {m[0].group(0) if m else 'none'}"]]


def check_esp_files(r):
    conf = len(ESP_FILES["moat.conf"].encode())
    cmd = any('command line "loglevel=debug efi_test_stale_key' in ln for ln in r.lines)
    # The loader made the first ExitBootServices fail with a stale map key: attempt 2 won.
    retry = any('efi_exit_attempt=2"' in ln for ln in r.lines if ln.startswith("moat: "))
    mods = [ln for ln in r.lines if ln.startswith("moat: module 0:") and ln.endswith('"config"')]
    size = None
    if mods:
        lo, hi = mods[0].split()[3].split("-")
        size = int(hi, 16) - int(lo, 16)
    return [[f"{r.name}: host: cmdline-from-moat.cmd", "ok" if cmd else "fail",
             "" if cmd else "moat did not report the command line of moat.cmd"],
            [f"{r.name}: host: exit-boot-services-retry", "ok" if retry else "fail",
             "" if retry else "moat's command line does not show efi_exit_attempt=2"],
            [f"{r.name}: host: moat.conf-as-config-module", "ok" if size == conf else "fail",
             "" if size == conf else f"config module line {mods[:1]}, expected {conf} bytes"]]


def judge_image_busy(r, expect_exit=True):
    """The loader must refuse to place moat over firmware-owned memory: name the range,
    show the firmware's map there, start nothing (the test hook then powers off)."""
    busy = harness.line_matching(r, r"^efi: the range [0-9A-F]+-[0-9A-F]+ for moat's image is "
                                    r"not free")
    shown = harness.line_matching(r, r"^efi:   [0-9A-F]+-[0-9A-F]+ BootServicesData")
    started = harness.line_matching(r, r"^moat: ")
    return [[f"{r.name}: host: image-range-busy-named", "ok" if busy else "fail",
             "" if busy else "no 'efi: the range ... is not free' line"],
            [f"{r.name}: host: firmware-map-shown", "ok" if shown else "fail",
             "" if shown else "the firmware's descriptors over the range were not printed"],
            [f"{r.name}: host: moat-not-started", "ok" if not started else "fail",
             started[0] if started else ""],
            [f"{r.name}: host: powered-off", "ok" if r.exit_status == 0 else "fail",
             f"exit status {r.exit_status}, timed out {r.timed_out}"]]
# QEMU's `info pci` names classes it knows (16-bit base class + subclass) and prints the
# others as "Class %04d" (decimal).
QEMU_CLASS_NAMES = {
    "Host bridge": 0x0600, "ISA bridge": 0x0601, "PCI bridge": 0x0604, "SATA controller": 0x0106,
    "SMBus": 0x0c05, "Ethernet controller": 0x0200, "VGA controller": 0x0300,
    "Display controller": 0x0380, "IDE controller": 0x0101, "USB controller": 0x0c03,
}
INFO_PCI_DEV_RE = re.compile(r"^\s*Bus\s+(\d+), device\s+(\d+), function (\d+):")
INFO_PCI_ID_RE = re.compile(r"^\s*(.*?): PCI device ([0-9a-f]{4}):([0-9a-f]{4})")
MOAT_PCI_RE = re.compile(r"^pci: ([0-9a-f]{4}):([0-9a-f]{2}):([0-9a-f]{2})\.([0-7]) "
                         r"([0-9a-f]{4}):([0-9a-f]{4}) class ([0-9a-f]{6}) .*?(\bvf\b)?.* owner ")
INFO_PCI = ("info pci", r"pci: \d+ functions listed")


def parse_info_pci(text):
    """{(bus, dev, fn): (vendor, device, class16 or None, class name)} from `info pci`."""
    devs, cur = {}, None
    for ln in text.splitlines():
        m = INFO_PCI_DEV_RE.match(ln)
        if m:
            cur = tuple(int(x) for x in m.groups())
            continue
        m = INFO_PCI_ID_RE.match(ln)
        if m and cur is not None:
            name = m.group(1)
            cm = re.match(r"Class (\d+)$", name)
            cls = int(cm.group(1)) if cm else QEMU_CLASS_NAMES.get(name)
            devs[cur] = (int(m.group(2), 16), int(m.group(3), 16), cls, name)
            cur = None
    return devs


def parse_moat_listing(lines):
    """{(bus, dev, fn): (vendor, device, class24, is_vf)} from moat's `pci: ` listing."""
    devs = {}
    for ln in lines:
        m = MOAT_PCI_RE.match(ln)
        if m:
            g = m.groups()
            devs[(int(g[1], 16), int(g[2], 16), int(g[3], 16))] = (
                int(g[4], 16), int(g[5], 16), int(g[6], 16), ln.split(" owner ")[0].endswith(" vf"))
    return devs


def check_info_pci(r):
    """moat's listing names every function QEMU reports, with the same vendor:device and
    class, and nothing QEMU does not know (VFs: QEMU lists the ones enabled at the time of
    the query, which is right after moat's listing, so they must agree too)."""
    name = f"{r.name}: host: pci-listing-matches-qemu"
    out = r.monitor.get(INFO_PCI[0])
    if not out or out.startswith("monitor error"):
        return [[name, "fail", f"no `info pci` from the monitor ({out!r})"]]
    qemu, moat = parse_info_pci(out), parse_moat_listing(r.lines)
    problems = []
    if not qemu:
        problems.append("`info pci` parsed to nothing")
    # QEMU 10 creates every VF of a PF up front (TotalVFs of them, enabled or not) and
    # `info pci` shows them with the FFFF:FFFF their config space reads: those are slots
    # moat's VFs must fall into, not functions moat must list.
    vf_slots = {bdf for bdf, v in qemu.items() if v[:2] == (0xffff, 0xffff)}
    for bdf, (ven, dev, cls, cname) in sorted(qemu.items()):
        where = "%02x:%02x.%x" % bdf
        if bdf in vf_slots:
            if bdf in moat and not moat[bdf][3]:
                problems.append(f"{where}: a VF slot in QEMU, listed by moat as a non-VF")
            elif bdf in moat and cls is not None and moat[bdf][2] >> 8 != cls:
                problems.append(f"{where}: VF class moat {moat[bdf][2]:06x}, QEMU {cls:04x}")
            continue
        if bdf not in moat:
            problems.append(f"{where} {ven:04x}:{dev:04x} ({cname}) missing from moat's listing")
            continue
        mven, mdev, mcls, _ = moat[bdf]
        if (mven, mdev) != (ven, dev):
            problems.append(f"{where}: moat {mven:04x}:{mdev:04x}, QEMU {ven:04x}:{dev:04x}")
        if cls is None:
            problems.append(f"{where}: QEMU class name {cname!r} unknown to matrix.py")
        elif mcls >> 8 != cls:
            problems.append(f"{where}: moat class {mcls:06x}, QEMU {cls:04x} ({cname})")
    for bdf in sorted(set(moat) - set(qemu)):
        problems.append("%02x:%02x.%x listed by moat, unknown to QEMU" % bdf)
    vfs = sum(1 for v in moat.values() if v[3])
    ok = not problems
    diag = "; ".join(problems[:6]) if problems else ""
    res = [[name, "ok" if ok else "fail", diag]]
    if ok:
        res[0][2] = f"{len(qemu)} functions ({vfs} VFs)"
    return res


def check_sriov_vfs(expect_pfs, numvfs=3):
    """Each of the expected PFs reported its VFs on the `sriov: ` lines, below 4 GiB."""
    def check(r):
        heads = [ln for ln in r.lines if re.match(r"^sriov: \S+ total_vfs=", ln)]
        vfl = [ln for ln in r.lines if re.match(r"^sriov:\s+vf\d+ ", ln)]
        pfs = {ln.split()[1] for ln in heads}
        bars = [int(x, 16) for ln in vfl for x in re.findall(r"bar\d=(0x[0-9a-f]+)", ln)]
        ok = len(pfs) == expect_pfs and all(f"num_vfs={numvfs}" in h for h in heads) and \
            bars and all(b < 1 << 32 for b in bars)
        return [[f"{r.name}: host: sriov-report", "ok" if ok else "fail",
                 "" if ok else f"PFs {sorted(pfs)}, heads {heads[:2]}, bars {[hex(b) for b in bars[:4]]}"]]
    return check


def check_linux(topology):
    """moat's PCI listing and isolation groups equal what a Linux kernel reports on the same
    machine with the same VF count (tests/linuxref; Linux booted once per topology, under
    SeaBIOS: its answer is the same under OVMF, docs/testing.md)."""
    return [linuxref.check_devices_match_linux(topology, boot="mb2", numvfs=3),
            linuxref.check_groups_match_linux(topology, boot="mb2", numvfs=3)]


def check_pci_console(r):
    """console=pci:00:06.0: the PCI serial card carried the run as well as COM1 did (its own
    chardev file under the run's log directory)."""
    name = f"{r.name}: host: pci-serial-console"
    path = os.path.join(r.dir, "pci-serial.log")
    if not os.path.exists(path):
        return [[name, "fail", "QEMU wrote no pci-serial.log"]]
    with open(path, "rb") as f:
        text = f.read().decode(errors="replace").replace("\r", "")
    lines = [ln for ln in text.split("\n") if ln.strip()]
    summary = [ln for ln in r.lines if harness.SUMMARY_RE.match(ln)]
    taps = [ln for ln in r.lines if harness.TAP_RE.match(ln)]
    got_taps = [ln for ln in lines if harness.TAP_RE.match(ln)]
    ok = bool(summary) and summary[-1] in lines and len(got_taps) == len(taps)
    return [[name, "ok" if ok else "fail",
             "" if ok else f"{len(got_taps)} TAP lines of {len(taps)}, summary "
                           f"{'found' if summary and summary[-1] in lines else 'missing'}"]]


def check_gop_console(r):
    """The framebuffer console showed the run: the screenshot has text, and the summary line
    the serial port printed is rendered on it, glyph for glyph."""
    name = f"{r.name}: host: gop-console-summary"
    shot = os.path.join(r.dir, "screen.ppm")
    summary = [ln for ln in r.lines if harness.SUMMARY_RE.match(ln)]
    if not os.path.exists(shot):
        return [[name, "fail", f"no screenshot ({r.monitor})"]]
    if not summary:
        return [[name, "fail", "no summary line on the serial port to look for"]]
    lines = screen.screen_lines(shot)
    lit = screen.lit_fraction(shot)
    found = summary[-1] in lines
    res = [[f"{r.name}: host: gop-console-not-empty", "ok" if lit > 0.002 else "fail",
            f"{lit:.4f} of the screen lit"]]
    res.append([name, "ok" if found else "fail",
                "" if found else f"'{summary[-1]}' not on screen; last lines: {[x for x in lines if x][-3:]}"])
    return res


# A PCI serial card as a second console (console=pci:BDF through moat.cmd).
PCI_CONSOLE_RUN = dict(
    name="qemu-uefi-pci-console", emulator="qemu", boot="uefi", topology="plain", timeout=120,
    prepare=esp_with_files("esp-pci-console", {"moat.cmd": "console=pci:00:06.0\n"}),
    extra=["-chardev", "file,id=pcs,path=" + os.path.join(harness.LOGS, "qemu-uefi-pci-console",
                                                          "pci-serial.log"),
           "-device", "pci-serial,chardev=pcs,addr=0x6"],
    checks=[check_pci_console,
            check_line("pci-console-line", r"^moat: console on PCI serial 0000:00:06\.0 \(I/O ")])

# The USB stick image (make usb) on an xHCI controller: moat.efi under OVMF with a
# framebuffer console, GRUB + multiboot2 under SeaBIOS, GRUB + multiboot2 under OVMF.
USB_RUNS = [
    dict(name="qemu-usb-uefi-gop", emulator="qemu", boot="usb-uefi", topology="reference",
         usb_image="usb-halt.img", vga=True, at_summary=("screendump {dir}/screen.ppm", "quit"),
         checks=[check_boot_method("UEFI"), check_gop_console,
                 check_line("bus-masters-stopped",
                            r"^efi: \d+ PCI functions, bus mastering stopped on [1-9]\d*$")]),
    dict(name="qemu-usb-bios", emulator="qemu", boot="usb-bios", topology="plain",
         checks=[check_boot_method("multiboot2")]),
    dict(name="qemu-usb-grub-efi", emulator="qemu", boot="usb-grub-efi", topology="plain",
         checks=[check_boot_method("multiboot2")]),
]
def pcap_frames(path):
    """Ethernet frames of a classic pcap file (either byte order)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return []
    magic = struct.unpack("<I", data[:4])[0]
    end = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    frames, off = [], 24
    while off + 16 <= len(data):
        incl = struct.unpack(end + "I", data[off + 8:off + 12])[0]
        frames.append(data[off + 16:off + 16 + incl])
        off += 16 + incl
    return frames


def check_pf_frame(netdev="n0", ethertype=0x88b5, payload=b"moat-pf-selftest"):
    """The frame the PF self-test sent from its own pool reached the wire: it is in the
    backend's filter-dump pcap, from the PF's MAC as moat reported it."""
    def check(r):
        name = f"{r.name}: host: pf-frame-on-wire"
        macs = re.findall(r"igb: \S+: up, link \S+, MAC ([0-9a-f:]{17})", "\n".join(r.lines))
        path = os.path.join(r.dir, netdev + ".pcap")
        if not macs:
            return [[name, "fail", "no `igb: ... up` line with the PF MAC"]]
        if not os.path.exists(path):
            return [[name, "fail", f"no {path}"]]
        src = bytes(int(x, 16) for x in macs[0].split(":"))
        frames = pcap_frames(path)
        hit = [fr for fr in frames if len(fr) >= 14 + len(payload) and fr[6:12] == src and
               struct.unpack(">H", fr[12:14])[0] == ethertype and fr[14:14 + len(payload)] == payload]
        return [[name, "ok" if hit else "fail",
                 "" if hit else f"{len(frames)} frames in {netdev}.pcap, none from {macs[0]} "
                                f"with ethertype {ethertype:#x} and the payload"]]
    return check


# Passthrough on two NICs: three guests, each with one VF of each NIC (the two cpu guests
# find each other through NIC 1's switch; the third is the attacker, so that exactly two
# guests look for a peer there).
TWO_NIC_GUESTS = (("g1", 1, 0, "cpu"), ("g2", 2, 1, "cpu"), ("g3", 3, 2, "attacker"))
TWO_NIC_CMD = "config=" + ";".join(
    f"guest,{name},memory=16M,cpu={cpu},image={image},device=01:00.0/vf{vf},device=02:00.0/vf{vf}"
    for name, cpu, vf, image in TWO_NIC_GUESTS) + "\n"
TWO_NIC_CHECKS = [
    check_line(f"{name}-owns-nic{nic}-vf{vf}",
               rf"^vmm: guest {name}: 00:0{nic}\.0 is 0000:0{nic}:10\.{2 * vf}: reset, 1 DMA "
               rf"source\(s\) from 0{nic}{0x80 + 2 * vf:02x} in domain guest-{name} ")
    for name, _, vf, _ in TWO_NIC_GUESTS for nic in (1, 2)
] + [
    check_line(f"{name}-ran", rf"^vmm: stats {name}: "
               rf"{'shut down' if image == 'cpu' else 'stopped'}; cpu {cpu}, "
               rf".*results [1-9]\d* passed, 0 failed")
    for name, cpu, _, image in TWO_NIC_GUESTS
] + [
    # g3 (the attacker) set a multicast list on its VF of NIC 1 (its set-MAC of a free
    # address was refused) and stopped: after the release both PFs must have forgotten it.
    check_line("g3-owner-state-left", r"^\[g3\] ok \d+ - attack: owner-state-left$"),
    check_line("owner-state-forgotten", r"^ok \d+ - igb: vf-owner-state-forgotten$"),
    # g3 sent frames as g1 and g2 from its VF of NIC 1: anti-spoofing is on for the VF
    # pools of both NICs (QEMU does not model the drop itself).
    # g3 asked through its VF of NIC 1 for the MACs of NIC 2's VF0 (g1's) and of its own VF
    # there: MACs are unique across both NICs, so both are refused naming NIC 2.
    check_line("g3-mac-other-nic", r"^\[g3\] ok \d+ - attack: mac-other-nic$"),
    check_line("mac-other-nic-refused",
               r"^igb: warning: vf2 \(guest \w+\): set-MAC 52:54:00:12:57:10 refused: it "
               r"belongs to vf0 of "
               r"the PF 0000:02:00\.0 \(another NIC\)$"),
    check_line("g3-tx-mac-spoof", r"^\[g3\] ok \d+ - attack: tx-mac-spoof$"),
    check_line("tx-spoof-judged",
               r"^ok \d+ - igb: vf-tx-spoof-dropped( # SKIP QEMU: its igb does not "
               r"model transmit anti-spoofing \(DTXSWC 7:0 set for every VF pool; "
               r"WVBR never records a drop\))?$"),
]

# A configuration that would split an isolation group: behind the x3130 switch (no ACS on
# its downstream ports) the PF and its VFs form one group, and the PF stays moat's.
SPLIT_CMD = ("config=guest,alpha,memory=16M,cpu=1,image=cpu,device=03:00.0/vf0;"
             "guest,beta,memory=16M,cpu=2,image=cpu\n")
SPLIT_CHECKS = [
    check_line("split-group-refused",
               r"^vmm: guest alpha not started: isolation group split: .*0000:03:00\.0"),
    check_line("other-guest-runs", r"^vmm: stats beta: shut down; .*results [1-9]\d* passed, 0 failed"),
]


# Isolation groups on the edu-pci-bridge topology: the two edus behind the PCIe-to-PCI
# bridge are one group. Given whole to one guest they are assigned (reset together by the
# bridge's secondary bus reset, as edu has no FLR; their own and the bridge's aliased
# requester IDs in the guest's domain); split across guests, refused, the other guest runs.
EDU_GROUP_WHOLE_CMD = ("config=guest,pair,memory=16M,cpu=1,image=cpu,"
                       "device=01:01.0,device=01:02.0\n")
# Without interrupt remapping a VF could send any interrupt to any CPU: its guest is refused
# (unless iommu.unsafe_interrupts says otherwise), a guest without devices runs.
NOIR_CMD = ("config=guest,vfguest,memory=16M,cpu=1,image=cpu,device=01:00.0/vf0;"
            "guest,plain,memory=16M,cpu=2,image=cpu\n")
EDU_GROUP_SPLIT_CMD = ("config=guest,left,memory=16M,cpu=1,image=cpu,device=01:01.0;"
                       "guest,right,memory=16M,cpu=2,image=cpu,device=01:02.0;"
                       "guest,plain,memory=16M,cpu=3,image=cpu\n")


def check_tap_passed(test_id):
    """The hypervisor's TAP line for test_id must be ok and not skipped on this machine."""
    def check(r):
        lines = harness.line_matching(r, rf"^ok \d+ - {test_id}$")
        return [[f"{r.name}: host: {test_id.replace(': ', '-')}-not-skipped", "ok" if lines else "fail",
                 "" if lines else f"no passing, unskipped '{test_id}' line"]]
    return check


VTD_TWO_EDU = ["vtd: dma-ram-device-ram", "vtd: dma-write-unmapped-blocked",
               "vtd: dma-read-unmapped-blocked", "vtd: cross-domain-isolation",
               "vtd: unmap-blocks-next-dma", "vtd: msi-through-irte",
               "vtd: irte-wrong-source-blocked", "vtd: dmar-present", "vtd: units-enabled",
               "vtd: reattach-moves-device", "vtd: ioapic-remappable-entry",
               "vtd: register-invalidation-blocks", "vtd: takeover-from-enabled",
               "vtd: fault-storm-counted", "vtd: detach-and-destroy-block",
               "vtd: fault-overflow-recovers"]

# vtd: takeover-from-enabled switches the live unit to fresh tables through the takeover
# path: translation found on, kept on, and the unit taken over.
VTD_TAKEOVER_LINES = check_lines_in_order("vtd-takeover-kept-translation", [
    r"^vtd: unit \d+: translation found enabled \(GSTS 0x[0-9a-f]+\): switching to moat's "
    r"tables without turning it off$",
    r"^vtd: unit \d+: taken over: translation stayed on, root table 0x[0-9a-f]+, queued "
    r"invalidation on, interrupt remapping on, GSTS 0x[0-9a-f]+$",
    r"^ok \d+ - vtd: takeover-from-enabled$"])


# Firmware shapes QEMU cannot produce, through acpi.override (docs/hardware.md): test DMARs
# built by tests/emu/mkdmar.py from QEMU's own (its unit as the INCLUDE_PCI_ALL one).
# An RMRR for edu 00:05.0 in RAM the firmware's map calls usable: moat withholds it from
# its allocator, identity-maps it for that edu in any domain (vtd: rmrr-identity-mapped),
# and refuses to give that edu to a guest; the other guest runs.
RMRR_BASE, RMRR_SIZE = 0x6000000, 0x10000
RMRR_DMAR_BYTES = len(mkdmar.build(mkdmar.captured_dmar(), rmrrs=[((0, 5, 0), RMRR_BASE, RMRR_SIZE)]))
RMRR_DMAR = ("call", lambda: mkdmar.build(mkdmar.captured_dmar(),
                                          rmrrs=[((0, 5, 0), RMRR_BASE, RMRR_SIZE)]))
RMRR_CMD = ("acpi.override=dmar-rmrr.bin config=guest,holder,memory=16M,cpu=1,image=cpu,"
            "device=00:05.0;guest,plain,memory=16M,cpu=2,image=cpu\n")
RMRR_RANGE = rf"{RMRR_BASE:#x}-{RMRR_BASE + RMRR_SIZE - 1:#x}"
RMRR_CHECKS = [
    check_line("override-module-loaded",
               rf'^efi: dmar-rmrr\.bin \({RMRR_DMAR_BYTES} bytes\) at [0-9A-Fa-f]+ as module "dmar-rmrr\.bin"$'),
    check_line("dmar-overridden",
               rf"^acpi: warning: DMAR overridden by module dmar-rmrr\.bin, {RMRR_DMAR_BYTES} bytes "
               r"\(firmware's at 0x"),
    check_line("dmar-with-rmrr", r"^vtd: DMAR: .* 1 DRHD, 1 RMRR, .* 0 bad structures$"),
    check_line("rmrr-withheld-logged",
               rf"^vtd: warning: RMRR {RMRR_RANGE}: 64 KiB the firmware's memory map calls usable "
               r"RAM, 64 KiB of it withheld from the allocator and from guests$"),
    check_line("rmrr-identity-in-test-domain",
               rf"^vtd: domain \d+: RMRR {RMRR_RANGE} identity-mapped for 0000:00:05\.0$"),
    check_line("rmrr-device-refused",
               rf"^vmm: guest holder not started: device 0000:00:05\.0: the firmware reserves "
               rf"{RMRR_RANGE} for its DMA \(RMRR\)"),
    check_line("other-guest-ran", r"^vmm: stats plain: shut down; .*results [1-9]\d* passed, 0 failed"),
    check_tap_passed("vtd: rmrr-withheld"),
    check_tap_passed("vtd: rmrr-identity-mapped"),
    check_tap_passed("vtd: cross-domain-isolation"),
    check_tap_passed("boot: acpi-checksums"),
]

# A second unit at a register base where nothing answers (the last page of the ECAM window:
# bus ff, device 1f, function 7 does not exist, so it reads all-ones like a master abort),
# with edu 00:06.0 in its scope: reported, the working unit runs, edu 00:06.0 is stopped,
# in no domain and refused to a guest. A corrupted DMAR named first is refused (bad checksum)
# and the next one taken.
DEAD_UNIT_BASE = 0xbffff000
DEAD_DMAR = ("call", lambda: mkdmar.build(mkdmar.captured_dmar(),
                                          dead_units=[(DEAD_UNIT_BASE, [(0, 6, 0)])]))
BAD_DMAR = ("call", lambda: mkdmar.build(mkdmar.captured_dmar(),
                                         dead_units=[(DEAD_UNIT_BASE, [(0, 6, 0)])], corrupt=True))
DEAD_CMD = ("acpi.override=dmar-bad.bin,dmar-dead.bin config=guest,orphan,memory=16M,cpu=1,"
            "image=cpu,device=00:06.0;guest,plain,memory=16M,cpu=2,image=cpu\n")
DEAD_CHECKS = [
    check_line("bad-override-refused",
               r"^acpi: error: \S+:\d+: \[\S+\] table DMAR in module dmar-bad\.bin \(length \d+\): bad checksum"),
    check_line("bad-override-falls-back",
               r"^acpi: error: \S+:\d+: \[\S+\] override dmar-bad\.bin refused: the firmware's table stays"),
    check_line("dmar-overridden",
               r"^acpi: warning: DMAR overridden by module dmar-dead\.bin, \d+ bytes"),
    check_line("dead-unit-reported",
               rf"^vtd: error: \S+:\d+: \[\S+\] unit 0 at {DEAD_UNIT_BASE:#x} does not answer \(VER 0xffffffff, "),
    check_line("units-answering", r"^vtd: warning: 1 of 2 remapping units answer$"),
    check_line("dead-unit-device-stopped",
               r"^iommu: error: \S+:\d+: \[\S+\] 0000:00:06\.0: no remapping unit covers it: bus mastering stopped"),
    check_line("dead-unit-device-refused",
               r"^vmm: guest orphan not started: device 0000:00:06\.0: no remapping unit covers "
               r"0000:00:06\.0"),
    check_line("other-guest-ran", r"^vmm: stats plain: shut down; .*results [1-9]\d* passed, 0 failed"),
    check_tap_passed("vtd: dead-unit-isolated"),
    check_tap_passed("vtd: units-enabled"),
    check_tap_passed("vtd: dma-ram-device-ram"),
    check_tap_passed("vtd: dma-write-unmapped-blocked"),
    check_tap_passed("vtd: msi-through-irte"),
]



def iso_with_modules(dirname, cmdline, modules):
    """A GRUB ISO like build/moat-test.iso whose entry passes `cmdline` and loads each of
    `modules` ({name: ("call", fn making bytes)}) as /boot/<name>, module name <name>."""
    def prepare():
        root = os.path.join(harness.BUILD, dirname)
        shutil.rmtree(root, ignore_errors=True)
        os.makedirs(os.path.join(root, "boot", "grub"))
        shutil.copyfile(harness.image_path("test", "elf"), os.path.join(root, "boot", "moat.elf"))
        # GRUB ends a command at ';': such words are quoted (docs/configuration.md).
        words = " ".join(f"'{w}'" if ";" in w else w for w in cmdline.split())
        lines = ["set timeout=0", "menuentry moat {", f"\tmultiboot2 /boot/moat.elf {words}"]
        for name, (_, make) in modules.items():
            with open(os.path.join(root, "boot", name), "wb") as f:
                f.write(make())
            lines.append(f"\tmodule2 /boot/{name} {name}")
        for g in harness.IMAGE_GUESTS["test"]:
            shutil.copyfile(os.path.join(harness.BUILD, "guests", g + ".elf"),
                            os.path.join(root, "boot", g + ".elf"))
            lines.append(f"\tmodule2 /boot/{g}.elf {g}")
        with open(os.path.join(root, "boot", "grub", "grub.cfg"), "w") as f:
            f.write("\n".join(lines + ["\tboot", "}"]) + "\n")
        iso = root + ".iso"
        subprocess.run(["grub-mkrescue", "-d", "/usr/lib/grub/i386-pc", "-o", iso, root],
                       check=True, capture_output=True)
        return iso
    return prepare


def pvh_archive(name, files):
    """A module archive for the PVH runs (-initrd): files {name: text | ("copy", path under
    build/) | ("call", fn making bytes)} packed by scripts/mkcpio.py; returns its path."""
    def prepare():
        packed = []
        for fname, what in files.items():
            if isinstance(what, tuple) and what[0] == "copy":
                with open(os.path.join(harness.BUILD, what[1]), "rb") as f:
                    packed.append((fname, f.read()))
            elif isinstance(what, tuple) and what[0] == "call":
                packed.append((fname, what[1]()))
            else:
                packed.append((fname, what.encode()))
        # The test image's guests after the files named (their module numbers stay).
        for g in harness.IMAGE_GUESTS["test"]:
            with open(os.path.join(harness.BUILD, "guests", g + ".elf"), "rb") as f:
                packed.append((g + ".elf", f.read()))
        path = os.path.join(harness.BUILD, name + ".cpio")
        with open(path, "wb") as f:
            f.write(mkcpio.archive(packed))
        return path
    return prepare


# The PVH path (QEMU -kernel): moat.conf and a guest image in the -initrd archive, the
# command line from -append.
PVH_FILES = {
    "moat.conf": ESP_FILES["moat.conf"],
    "mycpu.elf": ("copy", "guests/cpu.elf"),
}
PVH_FILES_CHECKS = [
    check_line("cmdline-from-append", r'^moat: moat hypervisor starting \(PVH boot\), command line '
                                      r'"loglevel=debug tsc_test_wrap"$'),
    check_line("config-module-from-archive",
               rf'^moat: module 0: 0x[0-9a-f]+-0x[0-9a-f]+ "config"$'),
    check_line("guest-image-module-from-archive",
               r'^moat: module 1: 0x[0-9a-f]+-0x[0-9a-f]+ "mycpu"$'),
    lambda r: check_modules_boot_data(r),
    check_line("config-from-moat-conf", r"^vmm: configuration from module config: 2 guests, 1 errors$"),
    check_line("guest-from-moat-conf", r"^vmm: guest files0 shut down"),
    check_line("rsdp-from-start-info", r"^acpi: RSDP revision \d+ "),
]


def check_modules_boot_data(r):
    """Every module lies in a range the memory map calls boot data (not the allocator's)."""
    kept = [tuple(int(x, 16) for x in ln.split()[2].split("-"))
            for ln in harness.line_matching(r, r"^moat: mem: [0-9a-f]+-[0-9a-f]+ boot data$")]
    mods = [tuple(int(x, 16) for x in ln.split()[3].split("-"))
            for ln in harness.line_matching(r, r"^moat: module \d+: ")]
    bad = [m for m in mods if not any(lo <= m[0] and m[1] - 1 <= hi for lo, hi in kept)]
    ok = bool(mods) and not bad
    return [[f"{r.name}: host: modules-kept-from-allocator", "ok" if ok else "fail",
             "" if ok else f"modules {mods}, boot data {kept}"]]


def check_no_line(tag, pattern):
    """A host-side check that no serial line matches `pattern`."""
    def check(r):
        bad = harness.line_matching(r, pattern)
        return [[f"{r.name}: host: {tag}", "fail" if bad else "ok", bad[0] if bad else ""]]
    return check


# The multiboot2 path (GRUB modules, SeaBIOS): both shapes in one DMAR. SeaBIOS booted from
# the AHCI controller 00:1f.2 and left it mastering; in the dead unit's scope, moat must
# stop it itself (no loader did).
MB2_SHAPES_DMAR = ("call", lambda: mkdmar.build(
    mkdmar.captured_dmar(), rmrrs=[((0, 5, 0), RMRR_BASE, RMRR_SIZE)],
    dead_units=[(DEAD_UNIT_BASE, [(0, 6, 0), (0, 0x1f, 2)])]))
MB2_SHAPES_CMD = ("vtd_test_fw_enabled acpi.override=dmar-shapes.bin config=guest,holder,memory=16M,cpu=1,image=cpu,"
                  "device=00:05.0;guest,orphan,memory=16M,cpu=2,image=cpu,device=00:06.0;"
                  "guest,plain,memory=16M,cpu=3,image=cpu")
MB2_SHAPES_CHECKS = [
    check_line("dmar-overridden",
               r"^acpi: warning: DMAR overridden by module dmar-shapes\.bin, \d+ bytes"),
    check_line("ahci-bus-master-stopped",
               r"^iommu: error: \S+:\d+: \[\S+\] 0000:00:1f\.2: no remapping unit covers it: "
               r"bus mastering stopped \(it was on\)"),
    check_line("rmrr-device-refused",
               rf"^vmm: guest holder not started: device 0000:00:05\.0: the firmware reserves "
               rf"{RMRR_RANGE} for its DMA \(RMRR\)"),
    check_line("dead-unit-device-refused",
               r"^vmm: guest orphan not started: device 0000:00:06\.0: no remapping unit covers "),
    check_line("other-guest-ran", r"^vmm: stats plain: shut down; .*results [1-9]\d* passed, 0 failed"),
    check_tap_passed("vtd: rmrr-withheld"),
    check_tap_passed("vtd: rmrr-identity-mapped"),
    check_tap_passed("vtd: dead-unit-isolated"),
    check_tap_passed("vtd: units-enabled"),
    # vtd_test_fw_enabled: the live unit is left translating (empty root table, queue,
    # interrupt remapping) before bring-up, as pre-boot DMA
    # protection leaves it; bring-up takes it over with translation kept on, before the
    # driver registers; the dead unit is left alone.
    check_lines_in_order("fw-enabled-unit-taken-over", [
        r"^vtd: unit (\d+): test hook: left translating as pre-boot DMA protection would: "
        r"empty root table 0x[0-9a-f]+, queue 0x[0-9a-f]+, interrupt remapping table "
        r"0x[0-9a-f]+, GSTS 0x[0-9a-f]+$",
        r"^vtd: unit \d+: translation found enabled \(GSTS 0x[0-9a-f]+\): switching to moat's "
        r"tables without turning it off$",
        r"^vtd: unit \d+: taken over: translation stayed on, root table 0x[0-9a-f]+, queued "
        r"invalidation on, interrupt remapping on, GSTS 0x[0-9a-f]+$",
        r"^iommu: Intel VT-d remapping hardware registered$"]),
]

# The configuration decides the VFs: two guests name VF 5 and VF 6 of the 82576 (more than
# the default 3), so SR-IOV enables 7 of its 8; both are given and drive them.
HIGH_VFS_CMD = ("config=guest,alpha,memory=16M,cpu=1,image=cpu,device=01:00.0/vf5;"
                "guest,beta,memory=16M,cpu=2,image=cpu,device=01:00.0/vf6\n")
HIGH_VFS_CHECKS = [
    check_line("seven-vfs-enabled",
               r"^sriov: 0000:01:00\.0 total_vfs=8 num_vfs=7 offset=0x80 stride=2 "),
    check_line("alpha-owns-vf5",
               r"^vmm: guest alpha: 00:01\.0 is 0000:01:11\.2: reset, 1 DMA source\(s\) from 018a "
               r"in domain guest-alpha \(its RAM only\)"),
    check_line("beta-owns-vf6",
               r"^vmm: guest beta: 00:01\.0 is 0000:01:11\.4: reset, 1 DMA source\(s\) from 018c "
               r"in domain guest-beta \(its RAM only\)"),
] + [check_line(f"{g}-vf-{t}", rf"^\[{g}\] ok \d+ - vf: {t}$")
     for g in ("alpha", "beta") for t in ("vf-probe", "vf-reset-mailbox", "vf-bulk")] + [
    check_line(f"{g}-ran", rf"^vmm: stats {g}: shut down; .*results [1-9]\d* passed, 0 failed")
    for g in ("alpha", "beta")]

# Boot fails closed: a DMAR whose only unit does not answer (the IOMMU is there but cannot
# be set up). The guest with a device is refused for it, naming the failed step; the guest
# without one runs.
BROKEN_IOMMU_DMAR = ("call", lambda: mkdmar.build(mkdmar.captured_dmar(),
                                                  all_dead_base=DEAD_UNIT_BASE))
BROKEN_IOMMU_CMD = ("acpi.override=dmar-broken.bin config=guest,holder,memory=16M,cpu=1,image=cpu,"
                    "device=00:05.0;guest,plain,memory=16M,cpu=2,image=cpu\n")
BROKEN_IOMMU_CHECKS = [
    check_line("iommu-step-failed",
               r"^moat: error: \S+:\d+: \[\S+\] boot step failed: IOMMU bring-up \(-5\): a "
               r"device's DMA and interrupts cannot be confined; no guest with a device will run$"),
    check_line("device-guest-refused",
               r"^vmm: guest holder not started: boot step failed: IOMMU bring-up \(-5\)"),
    check_line("plain-guest-ran",
               r"^vmm: stats plain: shut down; .*results [1-9]\d* passed, 0 failed"),
    check_line("dmar-present-skipped",
               r"^ok \d+ - vtd: dmar-present # SKIP the IOMMU boot step failed \(-5\): guests "
               r"with devices are refused for it$"),
]

FIRMWARE_SHAPE_RUNS = [
    dict(name="qemu-uefi-rmrr", emulator="qemu", boot="uefi", topology="two-edu", smp=3,
         expect_not_ok=(r"\[holder\] guest: not-started",),
         prepare=esp_with_files("esp-rmrr", {"moat.cmd": RMRR_CMD, "dmar-rmrr.bin": RMRR_DMAR}),
         checks=RMRR_CHECKS),
    dict(name="qemu-uefi-dead-unit", emulator="qemu", boot="uefi", topology="two-edu", smp=3,
         expect_not_ok=(r"\[orphan\] guest: not-started",),
         prepare=esp_with_files("esp-dead-unit", {"moat.cmd": DEAD_CMD, "dmar-bad.bin": BAD_DMAR,
                                                  "dmar-dead.bin": DEAD_DMAR}),
         checks=DEAD_CHECKS),
    dict(name="qemu-mb2-firmware-shapes", emulator="qemu", boot="mb2", topology="two-edu", smp=4,
         expect_not_ok=(r"\[holder\] guest: not-started", r"\[orphan\] guest: not-started"),
         prepare=iso_with_modules("iso-firmware-shapes", MB2_SHAPES_CMD,
                                  {"dmar-shapes.bin": MB2_SHAPES_DMAR}),
         checks=MB2_SHAPES_CHECKS),
    dict(name="qemu-uefi-high-vfs", emulator="qemu", boot="uefi", topology="reference",
         prepare=esp_with_files("esp-high-vfs", {"moat.cmd": HIGH_VFS_CMD}),
         checks=HIGH_VFS_CHECKS),
    dict(name="qemu-uefi-iommu-broken", emulator="qemu", boot="uefi", topology="two-edu", smp=3,
         prepare=esp_with_files("esp-iommu-broken", {"moat.cmd": BROKEN_IOMMU_CMD,
                                                     "dmar-broken.bin": BROKEN_IOMMU_DMAR}),
         expect_not_ok=(r"\[holder\] guest: not-started",), checks=BROKEN_IOMMU_CHECKS),
]


# DMA default-deny (docs/passthrough.md): the PF gets a domain of moat's own when the test
# image first sends from it (its transmit ring); the edu nobody owns writes into moat's image and into a running
# guest's RAM: both blocked, each a fault against 00:05.0, the canaries intact.
DMA_DEFAULT_DENY = [
    # The VF BAR rule is QEMU's model's, named (a real 82576 keeps a 64-bit placement).
    check_line("vf-bar-rule-qemu-igb",
               r"^sriov: 0000:01:00\.0: VF BARs below 4 GiB: QEMU's igb model \(8086:10c9 "
               r"subsystem 1af4:1100 rev 01\)"),
    check_line("dma-default-deny",
               r"^iommu: DMA default-deny: [1-9]\d* PCI functions blocked \(no domain\), \d+ in "
               r"domains of moat's own buffers, 0 with their firmware-reserved ranges only$"),
    check_line("pf-own-dma-domain",
               r"^vtd: 0000:01:00\.0 attached to domain \d+ \(own-0000:01:00\.0\) on unit 0$"),
    check_tap_passed("vtd: unowned-dma-blocked"),
    check_line("unowned-dma-fault-reported",
               r"^vtd: warning: unit 0: fault: write by 0000:00:05\.0 \(domain none: nobody gave "
               r"it DMA, blocked\) at address 0x[0-9a-f]+: reason 0x[12], "),
]


# The product image (make's moat.efi and moat.iso: no self-test, no test hook, no test
# hypercall; docs/testing.md "Two images") on the reference machine, both boot paths: it
# boots, the demo guests run on their CPUs with their VFs and report, no hypervisor TAP line
# appears, and the summary line follows (judged as every run: counts match the TAP lines).
def check_no_hypervisor_tap(r):
    own = [ln for ln in r.lines if harness.TAP_RE.match(ln) and not ln.startswith("[")]
    return [[f"{r.name}: host: no-hypervisor-self-test", "fail" if own else "ok",
             own[0] if own else ""]]


def check_product_guests(r):
    """Each demo guest reported results and ended; the attacker where it announced."""
    out = []
    for name in ("alpha", "beta", "attacker"):
        ran = harness.line_matching(r, rf"^\[{name}\] ok \d+ - ")
        ended = harness.line_matching(
            r, rf"^vmm: stats {name}: {'stopped' if name == 'attacker' else 'shut down'};")
        ok = bool(ran) and bool(ended)
        out.append([f"{r.name}: host: guest-{name}-ran-and-ended", "ok" if ok else "fail",
                    "" if ok else f"results {len(ran)}, end line {'seen' if ended else 'missing'}"])
    return out


# What the guests cannot check without the test range of hypercalls is skipped, saying so.
NO_TEST_HC = "the product image has no test hypercalls (HC_GET_EXITS)"
PRODUCT_CHECKS = [check_no_hypervisor_tap, check_product_guests] + GUESTS_ON_OWN_CPUS + \
    PF_ON_INTERRUPT + [
    check_line(f"{name}-vf-{t}", rf"^\[{name}\] ok \d+ - vf: {t}$")
    for name in ("alpha", "beta") for t in VF_GUEST_TESTS if t != "no-exits-datapath"
] + [
    check_line(f"{name}-no-exits-datapath-skipped",
               rf"^\[{name}\] ok \d+ - vf: no-exits-datapath # SKIP {re.escape(NO_TEST_HC)}$")
    for name in ("alpha", "beta")
] + [
    check_line(f"attacker-{t}", rf"^\[attacker\] ok \d+ - attack: {t}$") for t in VF_ATTACKS
] + VF_FLR_STORM_LOGGED + [
    check_line("attacker-stopped-past-ram",
               r"^vmm: guest attacker stopped: nested page fault at GPA 0x1000000 \(read\)"),
    check_line("test-hypercalls-absent", r"^\[alpha\] ok \d+ - cpu: hypercall-roundtrip$"),
] + check_ring3_attacks()

PRODUCT_RUNS = [
    dict(name="qemu-uefi-product", emulator="qemu", boot="uefi", topology="reference",
         image="product", checks=[check_boot_method("UEFI")] + PRODUCT_CHECKS),
    dict(name="qemu-mb2-product", emulator="qemu", boot="mb2", topology="reference",
         image="product", checks=[check_boot_method("multiboot2")] + PRODUCT_CHECKS),
]


# What the product does at run time (docs/configuration.md): a guest runs until it ends,
# with no time limit; a configured guest that cannot start is a failure; the run ends the way
# exit= says, seen from the host. Product image, PVH boot (the command line is -append).
COMPUTE_S = 150  # longer than the former 120-s limit on every guest


def check_exit_status(want):
    def check(r):
        ok = r.exit_status == want
        return [[f"{r.name}: host: qemu-exit-status-{want}", "ok" if ok else "fail",
                 f"QEMU exit status {r.exit_status} (timed out {r.timed_out}, stopped by the "
                 f"harness {r.stopped_by_harness})"]]
    return check


def check_halted(r):
    """QEMU was still there after the summary, its CPU 0 halted (`info registers`: HLT=1)."""
    regs = r.monitor.get("info registers", "")
    ok = r.stopped_by_harness and re.search(r"\bHLT=1\b", regs) is not None
    return [[f"{r.name}: host: cpu0-halted-after-summary", "ok" if ok else "fail",
             "" if ok else f"exit status {r.exit_status}, monitor: {regs[:200]!r}"]]


def check_summary_failed(at_least):
    def check(r):
        m = [harness.SUMMARY_RE.match(ln) for ln in r.lines]
        m = [x for x in m if x]
        ok = bool(m) and int(m[-1].group(2)) >= at_least
        return [[f"{r.name}: host: summary-counts-{at_least}-failed", "ok" if ok else "fail",
                 m[-1].group(0) if m else "no summary line"]]
    return check


def judge_no_exit_status(r, expect_exit=True):
    """These runs end the machine without the debug-exit verdict (ACPI S5, reset)."""
    return harness.judge(r, expect_exit=False)


RUNTIME_RUNS = [
    dict(name="qemu-pvh-long-compute", emulator="qemu", boot="pvh", topology="plain",
         image="product", timeout=COMPUTE_S + 180,
         prepare=pvh_archive("pvh-long-compute", {}),  # the guest images, misbehave among them
         append=f"config=guest,compute-{COMPUTE_S},memory=16M,cpu=1,image=misbehave",
         checks=[check_line("guest-computed",
                            rf"^\[compute-{COMPUTE_S}\] ok 1 - misbehave: "
                            rf"computed-{COMPUTE_S}s-without-exits$"),
                 check_line("guest-shut-down-after-150s",
                            rf"^vmm: stats compute-{COMPUTE_S}: shut down; cpu 1, "
                            r"(1[5-9]\d|[2-9]\d\d)\d\d\d ms; exits: "),
                 check_no_line("no-watchdog-exit", rf"^vmm: stats compute-{COMPUTE_S}: .*watchdog="),
                 check_no_line("never-stopped", rf"^vmm: guest compute-{COMPUTE_S} stopped")]),
    # -cpu qemu64: SVM without nested paging, so no backend: the built-in guest is a failure.
    dict(name="qemu-pvh-no-backend", emulator="qemu", boot="pvh", topology="plain",
         image="product", extra=("-cpu", "qemu64"),
         expect_not_ok=(r"\[alpha\] guest: not-started",),
         checks=[check_line("no-backend", r"^vmm: no usable virtualization backend"),
                 check_line("alpha-refused",
                            r"^vmm: guest alpha not started: no usable virtualization backend"),
                 check_summary_failed(1)]),
    # Memory set-up fails (test word boot_test_memory_fails): no configuration is even read,
    # and the run ends as a failure, never as an empty pass.
    dict(name="qemu-pvh-memory-fails", emulator="qemu", boot="pvh", topology="plain",
         append="boot_test_memory_fails",
         expect_not_ok=(r"moat: machine-set-up",),
         checks=[check_line("set-up-failure-line", r"^not ok 1 - moat: machine-set-up$"),
                 check_summary_failed(1)]),
    # No usable PIT window at all (test word tsc_test_no_pit): the TSC from the ACPI PM timer,
    # and the guests run (a loaded host once made every PIT window wrap).
    dict(name="qemu-pvh-tsc-pm-fallback", emulator="qemu", boot="pvh", topology="plain",
         prepare=pvh_archive("pvh-tsc-pm", {}), append="tsc_test_no_pit",
         checks=[check_line("tsc-from-pm-timer", r"^tsc: warning: the PIT gave no usable window: "
                                                 r"TSC \d+\.\d{3} MHz from the ACPI PM timer$"),
                 check_line("tsc-check-skipped-saying-why",
                            r"^ok \d+ - boot: tsc-frequency # SKIP the TSC was calibrated against "
                            r"the PM timer itself"),
                 check_line("guest-ran", r"^vmm: stats \S+: shut down; .*results [1-9]\d* passed, "
                                         r"0 failed")]),
    dict(name="qemu-pvh-end-halt", emulator="qemu", boot="pvh", topology="plain", smp=1,
         image="product", append="exit=halt", at_summary=("info registers",),
         checks=[check_halted, check_line("halt-said", r"^moat: halted \(exit=halt\)$")]),
    dict(name="qemu-pvh-end-poweroff", emulator="qemu", boot="pvh", topology="plain", smp=1,
         image="product", append="exit=poweroff",
         checks=[check_exit_status(1),
                 check_line("debug-exit", r"^moat: powering off: QEMU debug exit \(port 0xf4 <- 0\)$")]),
    dict(name="qemu-pvh-end-poweroff-acpi", emulator="qemu", boot="pvh", topology="plain", smp=1,
         image="product", append="exit=poweroff", debug_exit=False, judge=judge_no_exit_status,
         checks=[check_exit_status(0),
                 check_line("acpi-s5", r"^moat: powering off: ACPI S5 \(PM1a_CNT 0x604 <- SLP_TYP 0 "
                                       r"\| SLP_EN\)$")]),
    # -no-reboot: QEMU exits (status 0) at the reset instead of booting again.
    dict(name="qemu-pvh-end-reboot", emulator="qemu", boot="pvh", topology="plain", smp=1,
         image="product", append="exit=reboot", judge=judge_no_exit_status,
         checks=[check_exit_status(0),
                 check_line("acpi-reset-register",
                            r"^moat: rebooting: ACPI reset register \(I/O 0xcf9 <- 0xf\)$"),
                 check_no_line("no-fallback-needed", r"^moat: rebooting: reset control port")]),
]


# One Linux guest under VMX + EPT (issue 15): to /init, timer ticking, power-off. First in
# RUNS: once Linux boots it is the longest run (minutes of Bochs), so it overlaps the rest.
BOCHS_LINUX_RUN = dict(
    name="bochs-mb2-linux", emulator="bochs", cpus=2, timeout=linux_guest.BOCHS_TIMEOUT,
    prepare=iso_with_modules("iso-linux", "", linux_guest.linux_modules(linux_guest.BOCHS_CONF)),
    checks=[check_line("backend-vmx", r"^vmm: backend vmx: nested tables ept, 4 levels")] +
    linux_guest.BOCHS_CHECKS)


# The misbehaving OS guest under VMX + EPT (tests/emu/os_attack.py).
BOCHS_OS_ATTACK_RUN = dict(
    name="bochs-mb2-os-attacker", emulator="bochs", cpus=os_attack.SMP,
    timeout=os_attack.BOCHS_TIMEOUT,
    prepare=iso_with_modules("iso-os-attacker", "", os_attack.MODULES),
    checks=[check_line("backend-vmx", r"^vmm: backend vmx: nested tables ept, 4 levels"),
            os_attack.check_os_attack, os_attack.check_ipis_counted],
    expect_not_ok=os_attack.EXPECT_NOT_OK)


# The bench guest as an OS guest under VMX + EPT (check_bench_os).
BOCHS_BENCH_OS_RUN = dict(
    name="bochs-mb2-bench-os", emulator="bochs", cpus=2, timeout=300,
    prepare=iso_with_modules("iso-bench-os", "", {
        "config": ("call", lambda: bench.BENCH_OS_CONF.encode()),
        "bench.bz": ("call", bench_bz)}),
    checks=[check_line("backend-vmx", r"^vmm: backend vmx: nested tables ept, 4 levels"),
            check_bench_os])


RUNS = [BOCHS_LINUX_RUN, BOCHS_OS_ATTACK_RUN, BOCHS_BENCH_OS_RUN,
    dict(name="qemu-uefi-reference", emulator="qemu", boot="uefi", topology="reference",
         monitor=(INFO_PCI,),
         checks=[check_boot_method("UEFI"), check_info_pci, check_sriov_vfs(1),
                 check_pf_frame(),
                 # Firmware leaves devices mastering (OVMF: the igb PF, edu, AHCI): the loader
                 # stops them before the hand-over, none refusing.
                 check_line("bus-masters-stopped",
                            r"^efi: \d+ PCI functions, bus mastering stopped on [1-9]\d*$"),
                 check_line("igb-bus-master-stopped",
                            r"^efi: bus mastering stopped on 0000:01:00\.0$")] +
         check_linux("reference")),
    dict(name="qemu-uefi-files", emulator="qemu", boot="uefi", topology="plain",
         timeout=120, expect_not_ok=(r"\[broken\] guest: not-started",),
         prepare=esp_with_files("esp-files", ESP_FILES), extra=["-device", "VGA"],
         checks=[check_boot_method("UEFI"), check_esp_files, check_framebuffer,
                 check_line("config-from-moat-conf",
                            r"^vmm: configuration from module config: 2 guests, 1 errors$"),
                 check_line("bad-config-line-named",
                            r"^config: warning: module config line 2: memory '3M' must be"),
                 check_line("guest-image-next-to-app",
                            r'^efi: mycpu\.elf \(\d+ bytes\) at [0-9a-fA-F]+ as module "mycpu"'),
                 check_line("guest-from-moat-conf", r"^vmm: guest files0 shut down"),
                 # tsc_test_wrap stalls 3 of the PIT windows past the 16-bit wrap: dropped,
                 # and boot: tsc-frequency (against the PM timer) still passes.
                 check_line("tsc-wrapped-pit-windows-dropped",
                            r"^tsc: PIT calibration: [3-9] of \d+ windows dropped"),
                 check_tap_passed("boot: tsc-frequency")]),
    dict(name="qemu-uefi-image-busy", emulator="qemu", boot="uefi", topology="plain",
         timeout=120,
         prepare=esp_with_files("esp-image-busy", {"moat.cmd": "efi_test_image_busy\n"}),
         judge=judge_image_busy),
    dict(name="qemu-uefi-esp-img", emulator="qemu", boot="uefi", topology="plain",
         timeout=120, prepare=esp_image_copy, checks=[check_boot_method("UEFI")]),
    dict(name="qemu-mb2-reference", emulator="qemu", boot="mb2", topology="reference",
         monitor=(INFO_PCI,),
         checks=[check_boot_method("multiboot2"), check_info_pci, check_sriov_vfs(1),
                 check_pf_frame()] + check_linux("reference")),
    # PVH (QEMU -kernel moat.elf): the reference machine with the built-in configuration,
    # and a configuration plus guest image handed over in the -initrd archive.
    dict(name="qemu-pvh-reference", emulator="qemu", boot="pvh", topology="reference",
         monitor=(INFO_PCI,), prepare=pvh_archive("pvh-reference", {}),
         checks=[check_boot_method("PVH"), check_info_pci, check_sriov_vfs(1),
                 check_pf_frame(), check_no_line("no-boot-problem", r"what the PVH loader handed over"),
                 check_tap_passed("boot: pvh-fw-cfg-e820")]),
    # The PF's interrupt left unrouted at the device (test word pci_test_no_pf_irq): moat
    # says so once and serves the mailboxes from CPU 0's timer; every VF test still passes.
    dict(name="qemu-pvh-pf-timer", emulator="qemu", boot="pvh", topology="reference",
         append="pci_test_no_pf_irq", prepare=pvh_archive("pvh-pf-timer", {}),
         checks=[check_line("pf-timer-fallback-said",
                            r"^pci: warning: 0000:01:00\.0 \(igb-pf\): the device did not deliver the "
                            r"interrupt it was made to raise \(MSI-X entry 0, vector 0x[0-9a-f]+\) within "
                            r"50 ms: served every 1000 us from CPU 0's timer$"),
                 check_line("pf-served-by-timer",
                            r"^pci: 0000:01:00\.0 \(igb-pf\): 0 interrupts, served [1-9]\d* times "
                            r"\(timer\), [1-9]\d* events$")] +
         [check_line(f"{name}-vf-{t}", rf"^\[{name}\] ok \d+ - vf: {t}$")
          for name in ("alpha", "beta") for t in VF_GUEST_TESTS] +
         [check_tap_passed(f"igbvf: {t}") for t in VF_NATIVE_TESTS]),
    dict(name="qemu-pvh-files", emulator="qemu", boot="pvh", topology="two-edu", timeout=180,
         append="loglevel=debug tsc_test_wrap", prepare=pvh_archive("pvh-files", PVH_FILES),
         expect_not_ok=(r"\[broken\] guest: not-started",),
         checks=[check_boot_method("PVH"),
                 check_no_line("no-boot-problem", r"what the PVH loader handed over")] +
         PVH_FILES_CHECKS + [check_tap_passed("vtd: dma-ram-device-ram"),
                             check_tap_passed("boot: pvh-fw-cfg-e820")]),
    dict(name="qemu-mb2-igb-root", emulator="qemu", boot="mb2", topology="igb-root",
         monitor=(INFO_PCI,), checks=[check_info_pci, check_sriov_vfs(1), check_pf_frame()] +
                                      check_linux("igb-root")),
    dict(name="qemu-mb2-two-igb", emulator="qemu", boot="mb2", topology="two-igb",
         monitor=(INFO_PCI,), checks=[check_info_pci, check_sriov_vfs(2), check_pf_frame()] +
                                      check_linux("two-igb")),
    dict(name="qemu-mb2-igb-switch", emulator="qemu", boot="mb2", topology="igb-switch",
         monitor=(INFO_PCI,), checks=[check_info_pci, check_sriov_vfs(1), check_pf_frame()] +
                                      check_linux("igb-switch")),
    # The same layouts under OVMF, which puts VF BARs above 4 GiB: moat must move them.
    dict(name="qemu-uefi-igb-root", emulator="qemu", boot="uefi", topology="igb-root",
         monitor=(INFO_PCI,), checks=[check_info_pci, check_sriov_vfs(1), check_pf_frame()] +
                                      check_linux("igb-root")),
    dict(name="qemu-uefi-two-igb", emulator="qemu", boot="uefi", topology="two-igb",
         monitor=(INFO_PCI,), checks=[check_info_pci, check_sriov_vfs(2), check_pf_frame()] +
                                      check_linux("two-igb")),
    dict(name="qemu-uefi-igb-switch", emulator="qemu", boot="uefi", topology="igb-switch",
         monitor=(INFO_PCI,), checks=[check_info_pci, check_sriov_vfs(1), check_pf_frame()] +
                                      check_linux("igb-switch")),
    # Isolation groups: two edu devices behind a PCIe-to-PCI bridge are one group with the
    # bridge (as Linux says); one domain confines both through their aliased requester ID,
    # and splitting the group is refused.
    dict(name="qemu-mb2-edu-pci-bridge", emulator="qemu", boot="mb2", topology="edu-pci-bridge",
         checks=[check_tap_passed("vtd: group-domain-confines-dma"),
                 check_tap_passed("pci: group-split-refused"),
                 check_line("edu-group", r"^pci: group \d+: 0000:00:06\.0 0000:01:01\.0 "
                                         r"0000:01:02\.0 \(requester ID aliased by PCIe-to-PCI "
                                         r"bridge 0000:00:06\.0\)$")] +
         check_linux("edu-pci-bridge")),
    dict(name="qemu-uefi-two-igb-assign", emulator="qemu", boot="uefi", topology="two-igb", smp=4,
         prepare=esp_with_files("esp-two-igb-assign", {"moat.cmd": TWO_NIC_CMD}),
         checks=TWO_NIC_CHECKS),
    dict(name="qemu-uefi-igb-switch-split", emulator="qemu", boot="uefi", topology="igb-switch",
         smp=3, expect_not_ok=(r"\[alpha\] guest: not-started",),
         prepare=esp_with_files("esp-igb-switch-split", {"moat.cmd": SPLIT_CMD}),
         checks=SPLIT_CHECKS),
    dict(name="qemu-uefi-edu-group-whole", emulator="qemu", boot="uefi", topology="edu-pci-bridge",
         prepare=esp_with_files("esp-edu-group-whole", {"moat.cmd": EDU_GROUP_WHOLE_CMD}),
         checks=[check_line("group-bus-reset", r"^pci: 0000:00:06\.0: secondary bus reset \(2 functions below\)$"),
                 check_line("edu-1-assigned", r"^vmm: guest pair: device 00:01\.0 = 0000:01:01\.0 "),
                 check_line("edu-2-assigned", r"^vmm: guest pair: device 00:02\.0 = 0000:01:02\.0 "),
                 check_line("pair-ran", r"^vmm: stats pair: shut down; .*results [1-9]\d* passed, 0 failed")]),
    dict(name="qemu-uefi-noir-refused", emulator="qemu", boot="uefi", topology="reference-noir",
         expect_not_ok=(r"\[vfguest\] guest: not-started",),
         prepare=esp_with_files("esp-noir", {"moat.cmd": NOIR_CMD}),
         checks=[check_line("vf-guest-refused",
                            r"^vmm: guest vfguest not started: the IOMMU does not remap interrupts"),
                 check_line("plain-guest-ran",
                            r"^vmm: stats plain: shut down; .*results [1-9]\d* passed, 0 failed")]),
    dict(name="qemu-uefi-edu-group-split", emulator="qemu", boot="uefi", topology="edu-pci-bridge",
         smp=4, expect_not_ok=(r"\[(left|right)\] guest: not-started",),
         prepare=esp_with_files("esp-edu-group-split", {"moat.cmd": EDU_GROUP_SPLIT_CMD}),
         checks=[check_line("split-refused",
                            r"^vmm: guest (left|right) not started: isolation group split: "),
                 check_line("other-guest-ran",
                            r"^vmm: stats plain: shut down; .*results [1-9]\d* passed, 0 failed")]),
    # make bench's data path machine: two bench guests with VF0 and VF1, alpha sending.
    dict(name="qemu-uefi-bench-dataplane", emulator="qemu", boot="uefi", topology="reference",
         prepare=esp_with_files("esp-bench-dataplane-test", {"moat.cmd": bench.DATAPLANE_CMD + "\n"}),
         checks=[check_line(f"{g}-dataplane-{n}", rf"^\[{g}\] ok \d+ - bench: dataplane-{n}$")
                 for g in ("alpha", "beta") for n in bench.DATAPLANE_SIZES] +
         [check_tap_passed("igbvf: native-bulk"), check_dataplane]),
    dict(name="qemu-mb2-two-edu", emulator="qemu", boot="mb2", topology="two-edu",
         checks=[check_tap_passed(t) for t in VTD_TWO_EDU] + [VTD_TAKEOVER_LINES] +
         [check_line("vtd-xapic-irte", r"^vtd: unit 0: interrupt remapping: .* xAPIC destinations")]),
    # RAM above 4 GiB: the tests' pages (taken from the top) and the canaries sit there.
    dict(name="qemu-mb2-two-edu-6g", emulator="qemu", boot="mb2", topology="two-edu", mem="6G",
         checks=[check_tap_passed(t) for t in VTD_TWO_EDU]),
    dict(name="qemu-mb2-two-edu-aw39", emulator="qemu", boot="mb2", topology="two-edu-aw39",
         checks=[check_tap_passed(t) for t in VTD_TWO_EDU] +
         [check_line("vtd-3-level", r"^vtd: common: 3-level second-level tables \(agaw 39 bits\)"),
          check_line("vtd-caching-mode", r"^vtd: unit 0: .* caching mode yes$")]),
    dict(name="qemu-mb2-two-edu-eim", emulator="qemu", boot="mb2", topology="two-edu-eim",
         checks=[check_tap_passed(t) for t in VTD_TWO_EDU] +
         [check_line("vtd-eim", r"^vtd: unit 0: interrupt remapping: .* x2APIC \(EIM\) destinations")]),
    # Bochs: the VMX backend. One CPU for moat and one per guest of the default
    # configuration (alpha, beta, attacker), all running at once under VMX + EPT.
    dict(name="bochs-mb2", emulator="bochs", cpus=4,
         checks=[check_boot_method("multiboot2"),
                 check_line("backend-vmx", r"^vmm: backend vmx: nested tables ept, 4 levels"),
                 check_line("alpha-on-cpu1", r"^vmm: guest alpha: running on cpu 1$"),
                 check_line("beta-on-cpu2", r"^vmm: guest beta: running on cpu 2$"),
                 check_line("alpha-cpu-suite", r"^vmm: stats alpha: shut down; .*results [1-9]\d* passed, 0 failed"),
                 check_line("beta-cpu-suite", r"^vmm: stats beta: shut down; .*results [1-9]\d* passed, 0 failed"),
                 # the platform devices under VMX, judged, not skipped
                 *[check_line(f"{g}-platform-{t}", rf"^\[{g}\] ok \d+ - platform: {t}$")
                   for g in ("alpha", "beta") for t in PLATFORM_TESTS],
                 check_line("attacker-stopped-by-ept",
                            r"^vmm: guest attacker stopped: nested page fault at GPA 0x"),
                 *check_ring3_attacks(),
                 *check_cpu_attacks(),
                 check_line("vtd-dmar-absent",
                            r"^ok \d+ - vtd: dmar-present # SKIP no ACPI DMAR table")]),
    # A CPU model whose CPUID 0x16 claims a 3,500 MHz base frequency while its TSC runs at
    # Bochs's 50 MHz ips: moat measures, refuses the claim and says so; every timeout then
    # rests on the measured rate (boot: tsc-frequency checks it against the PM timer), and a
    # guest runs under VMX on this second model.
    dict(name="bochs-mb2-tsc-claim", emulator="bochs", cpus=2, model="corei7_skylake_x",
         prepare=iso_with_modules("iso-tsc-claim",
                                  "config=guest,plain,memory=16M,cpu=1,image=cpu", {}),
         checks=[check_line("tsc-claim-refused",
                            r"^tsc: warning: CPUID 0x16 claims 3500\.000 MHz but the PIT measures "
                            r"(4[89]|5[01])\.\d{3} MHz \(more than 5% apart\): the measurement is used$"),
                 check_line("tsc-measured", r"^tsc: TSC (4[89]|5[01])\.\d{3} MHz \(PIT\)$"),
                 check_tap_passed("boot: tsc-frequency"),
                 check_line("backend-vmx", r"^vmm: backend vmx: nested tables ept, 4 levels"),
                 check_line("plain-ran", r"^vmm: stats plain: shut down; .*results [1-9]\d* passed, 0 failed")]),
    # Unmodified Linux (Debian's kernel, tests/linuxref's initramfs in its Linux-guest mode)
    # as two guests beside the attacker (issue 15): judged by what Linux prints under each
    # prefix, to /init, CPUs online, timer ticking and power-off; kernels moat must refuse.
    dict(name="qemu-uefi-linux-guest", emulator="qemu", boot="uefi", topology="reference",
         smp=linux_guest.LINUX_SMP, timeout=linux_guest.QEMU_TIMEOUT,
         prepare=linux_guest.esp_with_linux("esp-linux-guest", linux_guest.LINUX_CONF),
         checks=linux_guest.LINUX_GUEST_CHECKS),
    dict(name="qemu-uefi-linux-vf", emulator="qemu", boot="uefi", topology="reference",
         smp=linux_guest.LINUX_SMP, timeout=linux_guest.VF_TIMEOUT,
         prepare=linux_guest.esp_with_linux("esp-linux-vf", linux_guest.VF_CONF),
         # web's two vCPUs: its VF's vectors target both CPUs, all freed when it ends
         checks=linux_guest.VF_CHECKS + [check_tap_passed("vmm: host-vectors-returned")]),
    # A Linux guest with a VF pings the cpu guest with a VF: Debian's igbvf and moat's own VF
    # driver on one wire (issue 16, tests/emu/linux_peer.py).
    dict(name="qemu-uefi-linux-ping-moat", emulator="qemu", boot="uefi", topology="reference",
         smp=linux_peer.SMP, timeout=linux_peer.TIMEOUT,
         prepare=linux_guest.esp_with_linux("esp-linux-ping-moat", linux_peer.CONF),
         checks=linux_peer.CHECKS),
    dict(name="qemu-uefi-linux-refused", emulator="qemu", boot="uefi", topology="plain", smp=5,
         mem="1024M",
         prepare=linux_guest.esp_with_linux("esp-linux-refused", linux_guest.REFUSED_CONF),
         judge=linux_guest.judge_refused, checks=[linux_guest.check_refused],
         expect_not_ok=tuple(rf"\[{g}\] guest: not-started" for g in ("notbz", "noinitrd", "small"))),
    # The bench guest as an OS guest (build/guests/bench.bz): its local APIC's exit costs as
    # make bench takes them (not judged here) and the test image's exit counter port.
    dict(name="qemu-uefi-bench-os", emulator="qemu", boot="uefi", topology="plain", smp=2,
         prepare=esp_with_files("esp-bench-os", {"moat.conf": bench.BENCH_OS_CONF,
                                                 "bench.bz": ("copy", "guests/bench.bz")}),
         checks=[check_bench_os]),
    # make bench's VF interrupt boot (without -icount): the bench guest as an OS guest with
    # VF0 raises its VF's MSI-X interrupt 1,000 times and times it (check_bench_vf_irq).
    dict(name="qemu-uefi-bench-vf-irq", emulator="qemu", boot="uefi", topology="reference", smp=2,
         prepare=esp_with_files("esp-bench-vf-irq-test", {"moat.conf": bench.VF_IRQ_CONF,
                                                          "bench.bz": ("copy", "guests/bench.bz")}),
         checks=[check_bench_vf_irq]),
    # A misbehaving OS guest (guests/osattack as a bzImage) beside a cpu guest: it affects
    # only itself (tests/emu/os_attack.py).
    dict(name="qemu-uefi-os-attacker", emulator="qemu", boot="uefi", topology="plain",
         smp=os_attack.SMP, timeout=os_attack.TIMEOUT,
         prepare=esp_with_files("esp-os-attacker", {"moat.conf": os_attack.CONF,
                                                    "osattack.bz": ("copy", "guests/osattack.bz")}),
         checks=[os_attack.check_os_attack, os_attack.check_ipis_counted],
         expect_not_ok=os_attack.EXPECT_NOT_OK),
] + SMP_RUNS + USB_RUNS + [PCI_CONSOLE_RUN] + FIRMWARE_SHAPE_RUNS + PRODUCT_RUNS + RUNTIME_RUNS + [
    # More than 4 GiB of RAM: q35 puts 2 GiB below the PCI hole and the rest above 4 GiB.
    dict(name="qemu-mb2-6g", emulator="qemu", boot="mb2", topology="plain", mem="6G",
         checks=[check_line("ram-above-4g", r"^moat: memory: .* usable (6[01]\d\d|5\d\d\d) MiB")]),
    dict(name="qemu-uefi-6g", emulator="qemu", boot="uefi", topology="plain", mem="6G",
         checks=[check_line("ram-above-4g", r"^moat: memory: .* usable (6[01]\d\d|5\d\d\d) MiB")]),
    # The PCI hole starts at 2 GiB and the PF's transmit ring lies above 4 GiB.
    dict(name="qemu-mb2-reference-6g", emulator="qemu", boot="mb2", topology="reference",
         mem="6G", monitor=(INFO_PCI,),
         checks=[check_info_pci, check_sriov_vfs(1), check_pf_frame(),
                 check_line("pf-ring-above-4g", r"^igb: .* PF frame sent on pool \d+ \(ring 0x[1-9a-f][0-9a-f]{8,}\)")]),
]


for _run in RUNS:
    if _run["name"] in ("qemu-uefi-reference", "qemu-mb2-reference", "qemu-pvh-reference"):
        _run["checks"] = _run["checks"] + GUESTS_ON_OWN_CPUS + VF_PASSTHROUGH + \
            [check_report_domain_ids(("alpha", "beta", "attacker"))] + \
            [check_tap_passed(f"igbvf: {t}") for t in VF_NATIVE_TESTS] + check_ring3_attacks() + \
            [check_tap_passed("igb: vf-owner-state-forgotten"),
             *PF_ON_INTERRUPT,
             # anti-spoofing on for every VF pool (a failure otherwise); QEMU does not
             # model the drop itself (see docs/igbvf.md)
             check_line("tx-spoof-judged",
                        r"^ok \d+ - igb: vf-tx-spoof-dropped( # SKIP QEMU: its igb does not "
                        r"model transmit anti-spoofing \(DTXSWC 7:0 set for every VF pool; "
                        r"WVBR never records a drop\))?$")] + \
            check_cpu_attacks(qemu=True) + DMA_DEFAULT_DENY


def expect_not_ok(results, run, patterns):
    """A configured guest that moat refused is a failure of its run (`not ok - guest: <name>`,
    counted in the summary). Runs that refuse a guest on purpose name it here: that failure
    is the expected outcome, and its absence (the guest started) is a failure."""
    for pat in patterns:
        rx = re.compile(pat)
        hits = [res for res in results if res[0].startswith(f"{run}: ") and
                rx.fullmatch(res[0][len(run) + 2:])]
        if not hits:
            results.append([f"{run}: run: expected-not-ok {pat}", "fail",
                            "no TAP line for it: the refusal was not counted"])
        for res in hits:
            if res[1] == "fail":
                res[1], res[2] = "ok", "expected failure (counted in the summary): " + res[2]
            else:
                res[1], res[2] = "fail", f"expected 'not ok', got {res[1]}"
    return results


def attempt(spec):
    """One boot of a run: (harness.Run, results)."""
    esp = spec["prepare"]() if "prepare" in spec else None
    if spec["emulator"] == "qemu":
        r = harness.run_qemu(spec["name"], spec["boot"], spec["topology"],
                             timeout=spec.get("timeout", 300),
                             monitor_cmds=spec.get("monitor", ()), smp=spec.get("smp"),
                             mem=spec.get("mem"), extra=spec.get("extra", ()), esp=esp,
                             usb_image=os.path.join(harness.BUILD, spec["usb_image"])
                             if spec.get("usb_image") else None,
                             vga=spec.get("vga", False), append=spec.get("append", ""),
                             at_summary=[c.format(dir=os.path.join(harness.LOGS, spec["name"]))
                                         for c in spec.get("at_summary", ())],
                             image=spec.get("image", "test"),
                             debug_exit=spec.get("debug_exit", True))
    else:
        r = harness.run_bochs(spec["name"], cpus=spec.get("cpus", 3), megs=spec.get("megs", 512),
                              timeout=spec.get("timeout", 420), image=spec.get("image", "test"),
                              iso=esp, **({"model": spec["model"]} if "model" in spec else {}))
    results = spec.get("judge", harness.judge)(r, expect_exit=spec["emulator"] == "qemu")
    for c in spec.get("checks", ()):
        results += c(r)
    return r, expect_not_ok(results, spec["name"], spec.get("expect_not_ok", ()))


def boot_path(spec):
    return spec.get("boot", "mb2") if spec["emulator"] == "qemu" else f"{spec['emulator']}-mb2"


def run(spec):
    """One run of the matrix: {name, boot, results, seconds, note}. An emulator that aborts
    on its own (harness.emulator_crash) is rerun once, unless moat had already failed in
    that boot; a second abort fails the run with the emulator's message. The first
    attempt's logs stay in build/logs/<run>.crash1/."""
    t0 = time.monotonic()
    first = None
    while True:
        try:
            r, results = attempt(spec)
        except harness.RunUnavailable as e:  # its inputs cannot be had here: skipped
            return dict(name=spec["name"], boot=boot_path(spec), seconds=time.monotonic() - t0,
                        results=[[f"{spec['name']}: run: inputs", "skip", str(e)]], note="")
        if not r.crash:
            break
        if first is None and not harness.moat_failed_before(r.lines):
            first = r.crash
            kept = r.dir + ".crash1"
            shutil.rmtree(kept, ignore_errors=True)
            os.rename(r.dir, kept)
            continue
        results.append([f"{r.name}: run: emulator-alive", "fail",
                        (f"again after a rerun (first: {first}); " if first else
                         "after moat had already failed, so not rerun; ") + r.crash])
        break
    note = ""
    if first:
        note = f"emulator crashed, {'crashed again' if r.crash else 'rerun once'}: {first}"
    return dict(name=spec["name"], boot=boot_path(spec), results=results,
                seconds=time.monotonic() - t0, note=note)


def execute(spec):
    return run(spec)["results"]
