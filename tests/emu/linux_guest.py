"""Linux guests in the matrix: Debian's stock kernel and the tests/linuxref initramfs as moat
guests (kernel=, initrd=, cmdline=), judged from what Linux itself prints under each guest's
prefix: its banner, the command line and the e820 map moat built, the initrd where moat put
it, moat's ACPI tables; then what the initramfs's /init prints in its Linux-guest mode
(tests/linuxref/guest.sh, kernel command line word `linuxguest`): /init reached, its CPUs
online, its timer ticking, its power-off, and moat's line for the guest's end. A check that
fails says how far Linux got and what stopped it. Refused kernels are judged from moat's
lines."""
import os
import re
import shutil
import sys

import harness

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "linuxref"))
import build as linuxref_build  # noqa: E402

MiB = 1 << 20
# guest.sh's linuxguest.rounds when the word is absent (its net_rounds), linuxguest.mtu's
RESET_ROUNDS = "flr,plain,flr,down,mtu"
RESET_MTU = 9000
# earlyprintk: Linux's boot from its first line; panic=-1: a panic asks for a reboot at once
# (which ends the guest) rather than hanging; linuxguest: /init's Linux-guest mode.
GUEST_CMDLINE = "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr panic=-1 linuxguest"


class LinuxGuest:
    """One Linux guest of a run: its name, CPUs (the configuration's cpu= value), memory;
    with a VF (device=, e.g. 01:00.0/vf0) and guest.sh's network words (net: ip, peer,
    role, ...) for the VF runs."""

    def __init__(self, name, cpus, mem_mib, device=None, net=None):
        self.name, self.cpus, self.mem = name, cpus, mem_mib * MiB
        lo, _, hi = cpus.partition("-")
        self.vcpus = int(hi) - int(lo) + 1 if hi else 1
        self.device, self.net = device, dict(net or {})
        # guest.sh's rounds after the first (linuxguest.rounds; RESET_ROUNDS when not named)
        self.rounds = tuple(k for k in str(self.net.get("rounds", RESET_ROUNDS)).split(",") if k)
        self.cmdline = GUEST_CMDLINE + "".join(f" linuxguest.{k}={v}" for k, v in self.net.items())

    def conf(self, cmdline=None):
        dev = f" device={self.device}" if self.device else ""
        return (f"guest {self.name} memory={self.mem // MiB}M cpu={self.cpus} kernel=vmlinuz "
                f'initrd=initrd.gz cmdline="{cmdline or self.cmdline}"{dev}\n')


# qemu-uefi-linux-guest (issue 15): two Linux guests, web with two vCPUs, and the attacker.
WEB = LinuxGuest("web", "1-2", 256)
APP = LinuxGuest("app", "3", 192)
ATTACKER_CPU = 4
LINUX_GUESTS = (WEB, APP)
LINUX_SMP = ATTACKER_CPU + 1  # QEMU CPUs: moat's CPU 0 and one per vCPU
LINUX_CONF = (
    "# two Linux guests beside the attacker (tests/emu/linux_guest.py)\n"
    + "".join(g.conf() for g in LINUX_GUESTS)
    + f"guest attacker memory=16M cpu={ATTACKER_CPU} image=attacker device=01:00.0/vf2\n")
QEMU_TIMEOUT = 300   # seconds: measured in docs/testing.md ("Linux as a guest")

# qemu-uefi-linux-vf (issue 16): the same two guests, each with a VF of the igb, exchange
# traffic through Debian's igbvf (guest.sh's network mode) beside the attacker with its VF,
# then put igbvf through its reset paths round by round (guest.sh's linuxguest.rounds):
# rmmod/modprobe with and without the VF's FLR between, ip link down/up, a jumbo MTU with
# pings of 8000 bytes both ways. The rounds and the MTU are guest.sh's defaults: moat's
# console line holds 255 characters, and Linux's `Command line:` must fit in one.
VF_WEB = LinuxGuest("web", "1-2", 256, "01:00.0/vf0",
                    dict(ip="10.0.0.1/24", peer="10.0.0.2", role="listen", jumbo=8000))
VF_APP = LinuxGuest("app", "3", 192, "01:00.0/vf1",
                    dict(ip="10.0.0.2/24", peer="10.0.0.1", role="send", jumbo=8000))
VF_GUESTS = (VF_WEB, VF_APP)
VF_CONF = (
    "# two Linux guests with a VF each beside the attacker (tests/emu/linux_guest.py)\n"
    + "".join(g.conf() for g in VF_GUESTS)
    + f"guest attacker memory=16M cpu={ATTACKER_CPU} image=attacker device=01:00.0/vf2\n")
VF_TIMEOUT = 480  # seconds: about 200 s at load 8 (docs/testing.md); bounded waits inside guest.sh
BOCHS_TIMEOUT = 900
# bochs-mb2-linux: one Linux guest under VMX (a GRUB module `config`)
BOCHS_WEB = LinuxGuest("web", "1", 192)
BOCHS_CONF = "# one Linux guest under VMX (tests/emu/linux_guest.py)\n" + BOCHS_WEB.conf()
REFUSED_CONF = (
    "# kernels moat must refuse, each with its reason; the cpu guest runs regardless\n"
    "guest notbz memory=256M cpu=1 kernel=initrd.gz\n"
    "guest noinitrd memory=256M cpu=2 kernel=vmlinuz initrd=missing.gz\n"
    "guest small memory=32M cpu=3 kernel=vmlinuz initrd=initrd.gz\n"
    "guest plain memory=16M cpu=4 image=cpu\n")


def linux_files():
    """{"kernel", "initrd", ...} from tests/linuxref/build.py, or RunUnavailable saying why."""
    try:
        return linuxref_build.build()
    except linuxref_build.Unavailable as e:
        raise harness.RunUnavailable(f"Debian's kernel cannot be had: {e}")


def esp_with_linux(dirname, conf, image="test"):
    """The image's ESP (build/esp-test, build/esp) plus vmlinuz, initrd.gz (tests/linuxref)
    and moat.conf."""
    def prepare():
        info = linux_files()
        esp = os.path.join(harness.BUILD, dirname)
        shutil.rmtree(esp, ignore_errors=True)
        shutil.copytree(harness.image_path(image, "esp"), esp)
        boot = os.path.join(esp, "EFI", "BOOT")
        shutil.copyfile(info["kernel"], os.path.join(boot, "vmlinuz"))
        shutil.copyfile(info["initrd"], os.path.join(boot, "initrd.gz"))
        with open(os.path.join(boot, "moat.conf"), "w") as f:
            f.write(conf)
        return esp
    return prepare


def linux_modules(conf):
    """GRUB modules for matrix.iso_with_modules: the configuration, vmlinuz, initrd.gz."""
    def read(key):
        def make():
            with open(linux_files()[key], "rb") as f:
                return f.read()
        return ("call", make)
    return {"config": ("call", lambda: conf.encode()), "vmlinuz": read("kernel"),
            "initrd.gz": read("initrd")}


def expected_e820(ram):
    """The map docs/linux-guest.md promises: moat's canary pages and the legacy hole
    reserved, the rest RAM."""
    return [(0, 0xfff, "reserved"), (0x1000, 0x9efff, "usable"), (0x9f000, 0xfffff, "reserved"),
            (0x100000, ram - 0x1001, "usable"), (ram - 0x1000, ram - 1, "reserved")]


def result(r, tag, ok, why):
    return [f"{r.name}: host: {tag}", "ok" if ok else "fail", "" if ok else why]


def kernel_line(g, rest):
    """A regex for a kernel log line of guest g (`[g] [    1.234567] rest`)."""
    return rf"^\[{g}\] \[\s*[\d.]+\] {rest}"


def check_linux_boot(g, cmdline=None):
    """Linux's early boot under moat's boot protocol, as Linux itself reports it."""
    cmdline = cmdline or g.cmdline

    def check(r):
        n, out = g.name, []
        banner = harness.line_matching(r, kernel_line(n, r"Linux version \d+\.\d+"))
        out.append(result(r, f"{n}-linux-banner", banner, f"no '[{n}] ... Linux version' line"))
        cmd = harness.line_matching(r, kernel_line(n, "Command line: (.*)$"))
        got = cmd[0].split("Command line: ", 1)[1] if cmd else None
        # moat adds its measured TSC rate unless the line names one (docs/linux-guest.md)
        ok = got is not None and re.fullmatch(re.escape(cmdline) + r"( tsc_early_khz=[1-9]\d*)?", got)
        out.append(result(r, f"{n}-linux-command-line", ok,
                          f"Linux saw {got!r}, moat was given {cmdline!r} (plus tsc_early_khz=)"))
        e820_re = re.compile(kernel_line(n, r"BIOS-e820: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\] (\S+)$"))
        e820 = [(int(m.group(1), 16), int(m.group(2), 16), m.group(3))
                for m in (e820_re.match(ln) for ln in r.lines) if m]
        want = expected_e820(g.mem)
        out.append(result(r, f"{n}-linux-e820-as-built", e820 == want,
                          f"Linux saw {e820}, expected {want}"))
        placed = harness.line_matching(r, rf"^vmm: guest {n}: Linux boot protocol 2\.\d+, kernel \d+ KiB "
                                          r"at 0x1000000 \(needs \d+ MiB\), initrd (\d+) KiB at (0x[0-9a-f]+)")
        rd = harness.line_matching(r, kernel_line(n, r"RAMDISK: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]"))
        ok = False
        if placed and rd:
            m1 = re.search(r"initrd (\d+) KiB at (0x[0-9a-f]+)", placed[0])
            m2 = re.search(r"RAMDISK: \[mem (0x[0-9a-f]+)-(0x[0-9a-f]+)\]", rd[0])
            start, end = int(m2.group(1), 16), int(m2.group(2), 16)
            ok = start == int(m1.group(2), 16) and (end + 1 - start) // 1024 >= int(m1.group(1))
        out.append(result(r, f"{n}-linux-initrd-where-placed", ok,
                          f"moat: {placed[:1]}, Linux: {rd[:1]}"))
        # the ACPI tables moat built (vmm/guest_acpi.c), as Linux's ACPICA lists them, unharmed
        acpi_re = re.compile(kernel_line(n, r"ACPI: (RSDP|XSDT|FACP|DSDT|FACS|APIC) 0x([0-9A-F]{16})"))
        acpi = {m.group(1): m.group(2) for m in map(acpi_re.match, r.lines) if m}
        want = {"RSDP", "XSDT", "FACP", "DSDT", "FACS", "APIC"}
        ok = set(acpi) == want and acpi["RSDP"] == "00000000000E0000" and \
            all(0xE0000 <= int(a, 16) < 0xF0000 for a in acpi.values())
        out.append(result(r, f"{n}-linux-acpi-tables", ok, f"Linux listed {acpi}, expected "
                                                           f"{sorted(want)} in 0xE0000-0xEFFFF, the RSDP first"))
        bad = harness.line_matching(r, rf"^\[{n}\] .*ACPI.*(Error|Warning|[Ii]ncorrect checksum|"
                                       r"[Ii]nvalid|[Bb]ad)")
        out.append(result(r, f"{n}-linux-acpi-no-complaint", not bad, bad[0] if bad else ""))
        return out
    return check


GUEST_LINE_RE = re.compile(r"^\[([^\]]+)\] linuxguest: ([\w-]+) ?(.*)$")
# A kernel message printed while the UART drained a line of /init's: what stands before
# the message is the line's start, its rest (if any was still to come) the guest's next
# line that is neither a kernel line nor one of /init's (seen: `down-up 5[   97.549155]
# igbvf ...: Link is Up ...` with nothing after it; `online 0-[ ...] <kernel message>`).
KERNEL_MID_LINE_RE = re.compile(r"\[\s*\d+\.\d+\] ")
KERNEL_LINE_RE = re.compile(r"^\[\s*\d+\.\d+\] ")


def guest_report(r, name):
    """What guest `name`'s /init printed (tests/linuxref/guest.sh): {kind: [rest, ...]},
    a line a kernel message cut put together again."""
    out = {}
    prefix = f"[{name}] "
    mine = [ln[len(prefix):] for ln in r.lines if ln.startswith(prefix)]
    for i, body in enumerate(mine):
        m = GUEST_LINE_RE.match(prefix + body)
        if not m:
            continue
        rest = m.group(3)
        cut = KERNEL_MID_LINE_RE.search(rest)
        if cut:
            rest = rest[:cut.start()]
            for nxt in mine[i + 1:]:
                if KERNEL_LINE_RE.match(nxt):
                    continue
                if not nxt.startswith("linuxguest: "):
                    rest = (rest + nxt) if rest else nxt.lstrip()
                break
        out.setdefault(m.group(2), []).append(rest)
    return out


def stopped_at(r, name):
    """How far guest `name` got and what stopped it, in a sentence (the furthest point, for
    a failing check's diagnostic and the lead's progress report)."""
    mine = [ln for ln in r.lines if ln.startswith(f"[{name}] ")]
    kernel = [ln for ln in mine if re.match(r"^\[[^\]]+\] \[\s*[\d.]+\] ", ln)]
    last = mine[-1] if mine else f"no line from [{name}]"
    bits = [f"{len(mine)} lines from Linux, the last: {last!r}"]
    if kernel and kernel[-1] != last:
        bits.append(f"its last kernel line: {kernel[-1]!r}")
    if not any(ln.startswith(f"[{name}] linuxguest: ") for ln in mine):
        if any(re.match(r"^\[[^\]]+\] \[\s*[\d.]+\] Run /init as init process", ln) for ln in kernel):
            bits.append("Linux started /init ('Run /init as init process') but nothing /init printed "
                        "reached the console (its output goes through the UART's interrupt)")
    stop = harness.line_matching(r, rf"^vmm: guest {name} stopped: |^vmm: stats {name}: ")
    if stop:
        bits.append(f"moat: {stop[0]!r}")
    elif r.timed_out:
        bits.append(f"moat never ended the guest (the run timed out after {r.elapsed:.0f} s)")
    return "; ".join(bits)


def _uptimes(rep):
    ups = {}
    for x in rep.get("uptime", []):
        k, _, v = x.partition(" ")
        try:
            ups[k] = float(v)
        except ValueError:
            pass
    return ups


def _loc(rep):
    """{reading: [local timer interrupts per CPU]} from the `interrupts k LOC: ...` lines."""
    loc = {}
    for x in rep.get("interrupts", []):
        f = x.split()
        if len(f) > 2 and f[1] == "LOC:":
            loc[f[0]] = [int(v) for v in f[2:] if v.isdigit()]
    return loc


def check_linux_runs(g):
    """Guest g reaches /init, shows its vCPUs online, its timer ticking (uptime and every
    CPU's local timer count rising over two readings 2 s apart) and powers off: Linux says
    `reboot: Power down`, moat logs the ACPI S5 power-off (vmm/platform.c) and ends the
    guest as shut down (its stats line)."""
    def check(r):
        n, out = g.name, []
        rep = guest_report(r, n)
        where = stopped_at(r, n)
        out.append(result(r, f"{n}-reached-init", "init" in rep,
                          f"no '[{n}] linuxguest: init' line: {where}"))
        # guest.sh shows them twice (a kernel message can cut one line); every whole
        # reading must be the expected one
        got = tuple(rep.get(k, []) for k in ("nproc", "cpuinfo", "online"))
        online = "0" if g.vcpus == 1 else f"0-{g.vcpus - 1}"
        ok = all(got) and all(set(v) == {want} for v, want in
                              zip(got, (str(g.vcpus), str(g.vcpus), online)))
        out.append(result(r, f"{n}-cpus-online", ok,
                          f"nproc, /proc/cpuinfo, online = {got}, expected {g.vcpus}, {g.vcpus}, "
                          f"{online} (cpu={g.cpus})" + ("" if "nproc" in rep else f": {where}")))
        ups, loc = _uptimes(rep), _loc(rep)
        ticking = "1" in ups and "2" in ups and ups["2"] - ups["1"] >= 1.0 and \
            "1" in loc and "2" in loc and len(loc["1"]) == len(loc["2"]) == g.vcpus and \
            all(b > a for a, b in zip(loc["1"], loc["2"]))
        out.append(result(r, f"{n}-timer-ticking", ticking,
                          f"uptime readings {ups}, local timer interrupts per CPU {loc} (2 s apart: "
                          f"uptime must rise by 1 s or more and every CPU's count rise): {where}"))
        want = ["^" + re.escape(f"[{n}] linuxguest: poweroff") + "$", kernel_line(n, r"reboot: Power down"),
                rf"^vmm: guest {n} powered off \(ACPI S5\)$", rf"^vmm: stats {n}: shut down; ",
                # its end is its one result in moat's summary (vmm/vmm.c os_guest_verdict)
                "^" + re.escape(f"[{n}] ok 1 - guest: ended") + "$"]
        missing = [w for w in want if not harness.line_matching(r, w)]
        out.append(result(r, f"{n}-powered-off", not missing,
                          f"no line matching {missing[0]!r}: {where}" if missing else ""))
        return out
    return check


def _vf_index(g):
    m = re.search(r"/vf(\d+)$", g.device or "")
    return int(m.group(1)) if m else None


def _msix_totals(rep, k):
    """{vector name: interrupts summed over the CPUs} from the `msix k <line>` lines."""
    out = {}
    for x in rep.get("msix", []):
        f = x.split()
        if len(f) > 3 and f[0] == k and f[1].endswith(":"):
            counts = [int(v) for v in f[2:] if v.isdigit()]
            out[f[-1]] = sum(counts)
    return out


def _msix_per_cpu(rep, k, ncpu):
    """{vector name: [interrupts on CPU 0, 1, ...]} from the `msix k <line>` lines."""
    out = {}
    for x in rep.get("msix", []):
        f = x.split()
        if len(f) > 2 + ncpu and f[0] == k and all(v.isdigit() for v in f[2:2 + ncpu]):
            out[f[-1]] = [int(v) for v in f[2:2 + ncpu]]
    return out


def _linux_irqs_seen(rep, g):
    """Interrupts of the VF Linux counted in all, at least: /proc/interrupts restarts its
    counts with each load of igbvf (new IRQs), so the last reading of each load is summed.
    Loads: the first (round 1), then one per reload round (flr, plain)."""
    loads = [["1b", "1a"]]
    for k, kind in enumerate(g.rounds, 2):
        if kind in ("flr", "plain"):
            loads.append([])
        loads[-1] += [f"{k}b", f"{k}a"]
    total = 0
    for readings in loads:
        got = [t for t in (_msix_totals(rep, x) for x in readings) if t]
        total += sum(got[-1].values()) if got else 0
    return total


def _rising(rep, k):
    """(tx and rx of the VF counted more interrupts after round k's traffic than before,
    before, after)."""
    before, after = _msix_totals(rep, f"{k}b"), _msix_totals(rep, f"{k}a")
    vecs = [v for v in after if v.endswith(("-tx-0", "-rx-0"))]
    return len(vecs) == 2 and all(after[v] > before.get(v, after[v]) for v in vecs), before, after


ROUND_TAGS = {"flr": "vf-reload-flr", "plain": "vf-reload", "down": "vf-down-up", "mtu": "vf-mtu"}


def check_linux_vf(g):
    """Guest g drives its VF with Debian's igbvf (guest.sh's network mode): the driver
    bound an interface, its MAC is the one moat's PF assigned the guest's VF (moat's `igb:
    vfN reset: MAC` lines, and igbvf's own `Address:`, at every probe), another MAC is
    refused (NACK, logged by moat's PF with the guest's name; igbvf keeps the assigned one),
    the link came up with the address, the peer answered, every ping of the first round
    (linuxguest.pings) came back, the VF's MSI-X vectors (tx and rx) counted interrupts
    between the two readings, moat refused none of its MSI-X entries and counted at least
    as many messages of the device as Linux did over all the driver's loads (each through
    its IRTE and host vector), none to no vCPU. Then each round of g.rounds (guest.sh's
    linuxguest.rounds) has its check `<g>-<tag>-<k>`: the reset path taken (`reload k
    rmmod+flr+modprobe` or `rmmod+modprobe`, `down-up k`, `mtu k <linuxguest.mtu>`), the
    link up again with the address and the MAC moat assigned, 10 pings of 10 back, tx and
    rx counting interrupts over them; with linuxguest.jumbo after the mtu round
    (`<g>-vf-jumbo-ping-<k>`) 5 pings of that many bytes back with more than 1514 bytes per
    frame each way (not fragmented); and `<g>-vf-net-done`: every step ran, none failed."""
    def check(r):
        n, out = g.name, []
        rep = guest_report(r, n)
        where = stopped_at(r, n)
        fails = rep.get("net-fail", [])
        why = (f"guest.sh: net-fail {fails[0]}; " if fails else "") + where

        def res(tag, ok, diag):
            out.append(result(r, f"{n}-{tag}", ok, f"{diag}: {why}" if not ok else ""))

        def field(kind, k):
            """The rest of round k's `kind k ...` lines."""
            return [x.split(" ", 1)[1] if " " in x else "" for x in rep.get(kind, [])
                    if x.split(" ", 1)[0] == str(k)]
        iface = rep.get("net-iface", [])
        res("vf-probed", bool(iface) and iface[0].split()[1:] == ["0000:00:01.0"],
            f"igbvf bound no interface to 0000:00:01.0 (net-iface {iface}, net-driver {rep.get('net-driver')})")
        vf = _vf_index(g)
        moat = sorted({m.group(1) for m in (re.match(rf"^igb: vf{vf} reset: MAC ([0-9a-f:]{{17}})", ln)
                                            for ln in r.lines) if m})
        addr = [m.group(1) for m in (re.match(kernel_line(n, r"igbvf \S+: Address: ([0-9a-f:]{17})$"), ln)
                                     for ln in r.lines) if m]
        macs = rep.get("mac", [])
        ok = len(moat) == 1 and macs and all(x == moat[0] for x in macs) and addr and \
            all(x == moat[0] for x in addr)
        # igbvf's reset handshake at probe failed: it says so and takes a random MAC
        still = harness.line_matching(r, kernel_line(n, r"igbvf \S+: PF still"))
        res("vf-mac-assigned", ok, f"guest's MAC {macs}, igbvf's Address: {addr}, moat's PF assigned vf{vf} {moat}"
                                   + (f"; igbvf: {still[0]!r}" if still else ""))
        # a MAC of its own choosing: NACK from moat's PF (logged with the guest's name),
        # igbvf keeps the assigned MAC and `ip` reports the failure
        refused = harness.line_matching(r, rf"^igb: warning: vf{vf} \(guest {n}\): set-MAC 02:6d:6f:61:74:01 "
                                           r"refused: moat assigned it ")
        mr = rep.get("mac-refused", [""])[0].split(" ", 1)
        res("vf-mac-change-refused", bool(refused) and len(moat) == 1 and mr[0] == moat[0],
            f"guest.sh: mac-refused {mr}, moat's refusal {refused[:1]}")
        ok = field("link", 1)[:1] and field("link", 1)[0].startswith("up ") and field("addr", 1) == [g.net["ip"]]
        res("vf-link-up", bool(ok), f"link {rep.get('link')}, addr {rep.get('addr')}")
        pings = int(g.net.get("pings", 100))
        p1 = field("ping", 1)
        res("ping-peer", p1 == [f"{pings} {pings}"],
            f"first round to {g.net['peer']}: transmitted, received {p1}, expected {pings} {pings}")
        ok, before, after = _rising(rep, 1)
        refused = harness.line_matching(r, rf"^vmm: guest {n}: MSI-X entry \d+ of .* refused")
        # every interrupt Linux counted came through moat's remapped path: moat's count of
        # the device's messages (at the guest's end, so also those after the reading)
        dev = harness.line_matching(r, rf"^vmm: guest {n}: device 00:01\.0 = .*, MSI-X messages (\d+) "
                                       r"\((\d+) naming none of its vCPUs\)$")
        m = re.search(r"MSI-X messages (\d+) \((\d+) naming", dev[0]) if dev else None
        seen = _linux_irqs_seen(rep, g)
        moat_ok = bool(m) and int(m.group(1)) >= seen and int(m.group(2)) == 0
        res("vf-msix-counting", ok and not refused and moat_ok,
            f"VF vectors in /proc/interrupts before {before}, after {after} (tx and rx must rise); moat "
            f"delivered {m.group(1) + ' messages, ' + m.group(2) + ' to no vCPU' if m else 'no count'} "
            f"(at least the {seen} Linux counted over all loads of igbvf, none lost)"
            + (f"; moat: {refused[0]!r}" if refused else ""))
        if g.vcpus > 1:
            # each moved vector counted on the CPU it was moved to (Linux masked the entry,
            # rewrote its message and unmasked it; moat took the new message)
            moves = [x.split() for x in rep.get("affinity", [])]
            b, a = _msix_per_cpu(rep, "1b", g.vcpus), _msix_per_cpu(rep, "1a", g.vcpus)
            ok = len(moves) == 2 and all(
                len(mv) == 3 and mv[2].isdigit() and int(mv[2]) < g.vcpus and mv[0] in a and mv[0] in b
                and a[mv[0]][int(mv[2])] > b[mv[0]][int(mv[2])] for mv in moves)
            res("vf-msix-moved", ok, f"moved (vector, from, to) {moves}; per CPU before {b}, after {a}: "
                                     "each moved vector must count on its new CPU")
        for k, kind in enumerate(g.rounds, 2):
            if kind in ("flr", "plain"):
                want = ("reload", ["rmmod+flr+modprobe" if kind == "flr" else "rmmod+modprobe"])
            elif kind == "down":
                want = ("down-up", [""])
            else:
                want = ("mtu", [str(g.net.get("mtu", RESET_MTU))])
            did = field(want[0], k)
            link = field("link", k)
            rising, before, after = _rising(rep, k)
            ok = did == want[1] and len(link) == 1 and link[0].startswith("up ") and \
                field("addr", k) == [g.net["ip"]] and field("ping", k) == ["10 10"] and rising
            res(f"{ROUND_TAGS.get(kind, kind)}-{k}", ok,
                f"round {k} ({kind}): {want[0]} {did} (expected {want[1]}), link {link}, addr {field('addr', k)}, "
                f"ping {field('ping', k)} (expected 10 10), VF vectors before {before}, after {after} "
                "(tx and rx must rise)")
            if kind == "mtu" and g.net.get("jumbo"):
                j = field("jumbo", k)
                f = j[0].split() if j else []
                ok = len(f) == 6 and all(v.isdigit() for v in f) and f[:2] == ["5", "5"] and \
                    all(int(f[p]) and int(f[b]) > 1514 * int(f[p]) for b, p in ((2, 3), (4, 5)))
                res(f"vf-jumbo-ping-{k}", ok,
                    f"pings of {g.net['jumbo']} bytes after the MTU change: (transmitted, received, tx bytes, tx "
                    f"packets, rx bytes, rx packets) {f}: expected 5 5 and more than 1514 bytes per packet each way")
        res("vf-net-done", "net-done" in rep and not fails,
            f"net-done {'net-done' in rep}, net-fail {fails}")
        return out
    return check


def check_transfer(sender, listener):
    """What the sender sent (linuxguest.mib MiB of random bytes) arrived whole at the
    listener: both sha256 sums and sizes printed by guest.sh agree."""
    def check(r):
        tx = guest_report(r, sender.name).get("tx-sha256", [])
        rx = guest_report(r, listener.name).get("rx-sha256", [])
        size = int(sender.net.get("mib", 4)) * MiB
        ok = len(tx) == 1 and tx == rx and tx[0].split()[1:] == [str(size)] and len(tx[0].split()[0]) == 64
        return [result(r, f"{sender.name}-to-{listener.name}-tcp-checksum", ok,
                       f"{sender.name} sent {tx}, {listener.name} received {rx} (sha256 bytes, {size} "
                       f"expected): {stopped_at(r, listener.name)}")]
    return check


def check_attacker_beside_linux(r):
    att = harness.line_matching(r, r"^vmm: stats attacker: stopped; .*results [1-9]\d* passed, "
                                   r"0 failed")
    return [result(r, "attacker-beside-linux", att,
                   "the attacker did not finish its attacks with 0 failed")]


LINUX_GUEST_CHECKS = [c for g in LINUX_GUESTS for c in (check_linux_boot(g), check_linux_runs(g))] + \
    [check_attacker_beside_linux]
BOCHS_CHECKS = [check_linux_boot(BOCHS_WEB), check_linux_runs(BOCHS_WEB)]
VF_CHECKS = [c for g in VF_GUESTS for c in (check_linux_boot(g), check_linux_runs(g), check_linux_vf(g))] + \
    [check_transfer(VF_APP, VF_WEB), check_attacker_beside_linux]


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
