#!/usr/bin/env python3
"""Emulator runs of moat: boots it in QEMU (OVMF, GRUB multiboot2 or PVH -kernel) or Bochs, keeps the
serial log under build/logs/, and judges the run by the serial output contract:
TAP lines from the hypervisor and guests, and the final `moat: N passed, M failed, K skipped`.

Each run yields TAP results named "<run>: <suite>: <test-id>", plus run-level checks
(the summary line was printed, its counts agree with the TAP lines, the exit status agrees,
no CPU exception dump). Topology-specific host-side checks live in checks.py.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build"))
LOGS = os.path.join(BUILD, "logs")

# The emulators (tests substitute fakes: tests/emu/test_emulator_crash.py).
QEMU = os.environ.get("MOAT_QEMU", "qemu-system-x86_64")
BOCHS = os.environ.get("MOAT_BOCHS", "bochs")

# The two images built from one tree (docs/testing.md): the product (moat.elf, moat.efi) and
# the test image (the same objects plus tests/hv). Every run boots one of them.
IMAGES = {
    "product": dict(elf="moat.elf", efi="moat.efi", esp="esp", esp_img="esp.img",
                    iso="moat.iso", usb="usb.img"),
    "test": dict(elf="moat-test.elf", efi="moat-test.efi", esp="esp-test",
                 esp_img="esp-test.img", iso="moat-test.iso", usb="usb-test.img"),
}


# The guest images each one carries as files (guests/guests.mk: PRODUCT_GUESTS, TEST_GUESTS).
IMAGE_GUESTS = {"product": ("cpu", "attacker"), "test": ("cpu", "attacker", "misbehave", "bench")}


def image_path(image, kind):
    """build/ path of one artefact (elf, efi, esp, esp_img, iso, usb) of an image."""
    return os.path.join(BUILD, IMAGES[image][kind])


OVMF_CODE = ["/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_CODE.fd"]
OVMF_VARS = ["/usr/share/OVMF/OVMF_VARS_4M.fd", "/usr/share/OVMF/OVMF_VARS.fd"]

TAP_RE = re.compile(r"^(?:\[([^\]]+)\] )?(not ok|ok) (\d+) - ([^:]+): (\S.*?)(?: # SKIP ?(.*))?$")
SUMMARY_RE = re.compile(r"^moat: (\d+) passed, (\d+) failed, (\d+) skipped$")
# A guest's plan (guests/lib test_plan): the number of results it reported, announced at its end.
PLAN_RE = re.compile(r"^\[([^\]]+)\] 1\.\.(\d+)$")
ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1bc")


def first_existing(paths):
    for p in paths:
        if os.path.exists(p):
            return p
    return None


# ---------------------------------------------------------------------------------------
# QEMU machines. Every topology is a q35 machine; the reference one is FACTS.md section 8.
def topology_args(name, run_dir):
    pcap = os.path.join(run_dir, "wire.pcap")
    igb = lambda nid, bus, mac, extra="": [  # noqa: E731
        "-netdev", f"user,id={nid},restrict=on",
        "-object", f"filter-dump,id=fd_{nid},netdev={nid},file={os.path.join(run_dir, nid + '.pcap')}",
        "-device", f"igb,netdev={nid},bus={bus},mac={mac}{extra}"]
    iommu = ["-device", "intel-iommu,intremap=on"]
    edu = lambda addr, bus="pcie.0": ["-device", f"edu,bus={bus},addr={addr},dma_mask=0xffffffffffffffff"]  # noqa: E731
    topo = {
        # Isolation groups: two conventional PCI devices behind a PCIe-to-PCI bridge issue
        # DMA with the bridge's requester ID (one group; Linux reference in docs/testing.md).
        "edu-pci-bridge": dict(smp=2, mem="512M", args=iommu + [
            "-device", "pcie-pci-bridge,id=br1,bus=pcie.0,addr=0x6"] +
            edu("0x1", "br1") + edu("0x2", "br1")),
        # The reference machine with an IOMMU that does not remap interrupts.
        "reference-noir": dict(smp=4, mem="1024M", args=[
            "-device", "intel-iommu,intremap=off",
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1"] +
            igb("n0", "rp1", "52:54:00:12:34:56")),
        "reference": dict(smp=4, mem="1024M", args=iommu + [
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1"] +
            igb("n0", "rp1", "52:54:00:12:34:56") + edu("0x5")),
        # Two edu devices on pcie.0 for the VT-d tests: each in its own domain.
        "two-edu": dict(smp=2, mem="512M", args=iommu + edu("0x5") + edu("0x6")),
        # 39-bit guest addresses (only 3-level tables), caching mode (not-present entries cached).
        "two-edu-aw39": dict(smp=2, mem="512M",
                             args=["-device", "intel-iommu,intremap=on,aw-bits=39,caching-mode=on"] +
                             edu("0x5") + edu("0x6")),
        # The same with extended interrupt mode: x2APIC destinations in the IRTEs.
        "two-edu-eim": dict(smp=2, mem="512M", args=["-device", "intel-iommu,intremap=on,eim=on"] +
                            edu("0x5") + edu("0x6")),
        "plain": dict(smp=2, mem="512M", args=[]),
        # PCI/SR-IOV layouts: the NIC on the root bus, two NICs, the NIC behind a switch.
        "igb-root": dict(smp=2, mem="512M", args=iommu +
            igb("n0", "pcie.0", "52:54:00:12:34:56", ",addr=0x3") + edu("0x5")),
        "two-igb": dict(smp=2, mem="512M", args=iommu + [
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
            "-device", "pcie-root-port,id=rp2,chassis=2,slot=2"] +
            igb("n0", "rp1", "52:54:00:12:34:56") + igb("n1", "rp2", "52:54:00:12:34:57")),
        "igb-switch": dict(smp=2, mem="512M", args=iommu + [
            "-device", "pcie-root-port,id=rp1,chassis=1,slot=1",
            "-device", "x3130-upstream,id=up1,bus=rp1",
            "-device", "xio3130-downstream,id=dp1,bus=up1,chassis=3,slot=1",
            "-device", "xio3130-downstream,id=dp2,bus=up1,chassis=3,slot=2"] +
            igb("n0", "dp1", "52:54:00:12:34:56")),
    }
    if name is None:
        return sorted(topo)
    if name not in topo:
        raise SystemExit(f"harness: unknown topology {name!r}; known: {', '.join(sorted(topo))}")
    t = topo[name]
    _ = pcap
    return t["smp"], t["mem"], t["args"]


def qemu_argv(boot, topology, run_dir, serial, monitor_sock, smp=None, mem=None, extra=(),
              esp=None, usb_image=None, vga=False, append="", image="test", debug_exit=True):
    """esp: what the boot path loads: the ESP directory or image (uefi), the GRUB ISO (mb2),
    the module archive (pvh: -initrd, a cpio newc archive from scripts/mkcpio.py).
    append: moat's command line for pvh. image: "test" or "product" (IMAGES)."""
    tsmp, tmem, targs = topology_args(topology, run_dir)
    argv = [QEMU, "-machine", "q35", "-accel", "tcg", "-cpu", "max",
            "-smp", str(smp or tsmp), "-m", mem or tmem, "-display", "none", "-no-reboot",
            "-serial", serial, "-monitor", f"unix:{monitor_sock},server,nowait", "-nodefaults"]
    # moat's power-off writes its verdict there (QEMU's exit status); without it moat powers
    # off through ACPI S5 (exit status 0).
    if debug_exit:
        argv += ["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    if boot in ("uefi", "usb-uefi", "usb-grub-efi"):
        code, vars_ = first_existing(OVMF_CODE), first_existing(OVMF_VARS)
        if not code or not vars_:
            raise SystemExit("harness: OVMF not found (install the ovmf package)")
        vcopy = os.path.join(run_dir, "OVMF_VARS.fd")
        shutil.copyfile(vars_, vcopy)
        argv += ["-drive", f"if=pflash,format=raw,readonly=on,file={code}",
                 "-drive", f"if=pflash,format=raw,file={vcopy}"]
    if boot == "uefi":
        argv += ["-drive", f"format=raw,file={esp}" if esp and esp.endswith(".img") else
                 f"format=raw,file=fat:rw:{esp or image_path(image, 'esp')}"]
    elif boot == "pvh":
        argv += ["-kernel", image_path(image, "elf"), "-append", append]
        if esp:
            argv += ["-initrd", esp]
    elif boot == "mb2":
        argv += ["-cdrom", esp if esp and esp.endswith(".iso") else image_path(image, "iso")]
    elif boot.startswith("usb-"):
        # The stick on an xHCI controller, as a removable USB mass-storage device; writes
        # go to a temporary overlay so the image stays as built.
        stick = usb_image or (os.path.join(BUILD, "usb-grub.img") if boot == "usb-grub-efi"
                              else image_path(image, "usb"))
        argv += ["-drive", f"if=none,id=stick,format=raw,file={stick},snapshot=on",
                 "-device", "qemu-xhci,id=xhci",
                 "-device", "usb-storage,bus=xhci.0,drive=stick,removable=on,bootindex=1"]
    else:
        raise SystemExit(f"harness: unknown boot method {boot!r}")
    if vga:
        argv += ["-device", "VGA"]
    return argv + targs + list(extra)


def esp_with_cmdline(name, image, cmdline):
    """A copy of the image's ESP directory with moat.cmd holding `cmdline`."""
    src = image_path(image, "esp")
    esp = os.path.join(BUILD, f"esp-{name}")
    shutil.rmtree(esp, ignore_errors=True)
    shutil.copytree(src, esp)
    with open(os.path.join(esp, "EFI", "BOOT", "moat.cmd"), "w") as f:
        f.write(cmdline + "\n")
    return esp


# ---------------------------------------------------------------------------------------
# The emulator dying on its own (an assertion or a signal inside QEMU or Bochs), as opposed
# to what moat does to the machine (a fault, a triple fault, an exit status): such a run is
# rerun once (matrix.execute, bench.timed_boot, linuxref.boot_linux).
EMU_ABORT_RE = re.compile(r"Assertion .* failed|assertion failed|^qemu[^:]*: fatal:|"
                          r"^ERROR:.*:\d+:|Segmentation fault|core dumped", re.M)


def emulator_crash(what, returncode, output, stopped_by_us=False):
    """A message when the emulator `what` aborted on its own, None otherwise. returncode:
    the process's (negative = killed by that signal), output: its stdout/stderr text;
    stopped_by_us: the harness killed it (time-out, or done with it)."""
    if stopped_by_us or returncode is None:
        return None
    hit = EMU_ABORT_RE.search(output or "")
    if returncode >= 0 and not hit:
        return None
    if returncode < 0:
        try:
            how = f"died of signal {signal.Signals(-returncode).name} (status {returncode})"
        except ValueError:
            how = f"died of signal {-returncode} (status {returncode})"
    else:
        how = f"exited {returncode}"
    lines = [ln.strip() for ln in (output or "").splitlines() if ln.strip() and ln.strip() != "**"]
    said = next((ln for ln in lines if EMU_ABORT_RE.search(ln)), lines[-1] if lines else "")
    return f"{what} {how}" + (f": {said[:300]}" if said else ", nothing on stderr")


def moat_failed_before(lines):
    """Whether a serial log already shows a moat failure (a failed test, a CPU exception
    dump): a crash after one is not retried, so a rerun cannot hide it."""
    return any(re.match(r"^(\[[^\]]+\] )?not ok \d+ - ", ln) or ln.startswith("trap: ")
               for ln in lines)


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def summary_seen(path):
    with open(path, "rb") as f:
        text = ANSI_RE.sub("", f.read().decode(errors="replace")).replace("\r", "\n")
    return any(SUMMARY_RE.match(ln) for ln in text.split("\n"))


def monitor_command(sock_path, cmd, timeout=5.0):
    """Sends one human-monitor command and returns its output (prompt lines stripped)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(sock_path)
    buf = b""
    deadline = time.monotonic() + timeout

    def read_until_prompt():
        nonlocal buf
        while b"(qemu) " not in buf and time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
    read_until_prompt()
    buf = b""
    s.sendall(cmd.encode() + b"\n")
    read_until_prompt()
    s.close()
    text = ANSI_RE.sub("", buf.decode(errors="replace")).replace("\r", "")
    lines = [ln for ln in text.split("\n") if not ln.startswith("(qemu)") and ln.strip() != cmd]
    return "\n".join(lines)


class RunUnavailable(Exception):
    """A run's inputs cannot be had on this machine; str() says why (the run is skipped)."""


class Run:
    """One emulator run and what was read from it."""

    def __init__(self, name):
        self.name = name
        self.dir = os.path.join(LOGS, name)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.serial_path = os.path.join(self.dir, "serial.log")
        self.lines = []
        self.exit_status = None
        self.timed_out = False
        self.elapsed = 0.0
        self.monitor = {}
        self.stopped_by_harness = False
        self.crash = None  # emulator_crash()'s message when the emulator aborted on its own
        self.image = None  # the image booted (IMAGES key), for symbolizing crash dumps
        self.returncode = None

    def read_serial(self):
        with open(self.serial_path, "rb") as f:
            raw = f.read().decode(errors="replace")
        raw = ANSI_RE.sub("", raw).replace("\r", "\n")
        self.lines = [ln for ln in raw.split("\n") if ln.strip()]


def run_qemu(name, boot, topology, timeout=240, console=False, monitor_cmds=(), smp=None,
             mem=None, extra=(), esp=None, usb_image=None, vga=False, at_summary=(), append="",
             image="test", debug_exit=True):
    """at_summary: monitor commands sent once the summary line is on the serial port (moat
    must then halt rather than exit: exit=halt); QEMU is stopped after them."""
    r = Run(name)
    r.image = image
    sock = os.path.join(r.dir, "monitor.sock")
    argv = qemu_argv(boot, topology, r.dir, f"file:{r.serial_path}", sock, smp, mem, extra,
                     esp, usb_image, vga, append, image, debug_exit)
    with open(os.path.join(r.dir, "cmdline"), "w") as f:
        f.write(" ".join(argv) + "\n")
    t0 = time.monotonic()
    errlog = open(os.path.join(r.dir, "qemu.stderr"), "w")
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=errlog, stderr=errlog,
                         start_new_session=True)
    shown = 0
    # Ask the monitor for what QEMU itself reports: a plain command as soon as the monitor is
    # up, a (command, regex) pair as soon as a serial line matches regex (e.g. after moat
    # printed its PCI listing, so firmware and moat have configured the buses by then).
    pending = [c for c in monitor_cmds if isinstance(c, str)]
    waiting = [(c, re.compile(rx)) for c, rx in (x for x in monitor_cmds if not isinstance(x, str))]
    try:
        while p.poll() is None:
            if time.monotonic() - t0 > timeout:
                r.timed_out = True
                break
            if waiting and os.path.exists(r.serial_path):
                with open(r.serial_path, "rb") as f:
                    text = ANSI_RE.sub("", f.read().decode(errors="replace"))
                for c, rx in list(waiting):
                    if rx.search(text):
                        pending.append(c)
                        waiting.remove((c, rx))
            if pending and os.path.exists(sock):
                for c in pending:
                    try:
                        r.monitor[c] = monitor_command(sock, c)
                    except OSError as e:
                        r.monitor[c] = f"monitor error: {e}"
                pending = []
            if at_summary and os.path.exists(r.serial_path) and summary_seen(r.serial_path):
                time.sleep(0.5)  # let the last line reach the framebuffer too
                for c in at_summary:
                    try:
                        r.monitor[c] = monitor_command(sock, c, timeout=20)
                    except OSError as e:
                        r.monitor[c] = f"monitor error: {e}"
                r.stopped_by_harness = True
                break
            if console and os.path.exists(r.serial_path):
                with open(r.serial_path, "rb") as f:
                    f.seek(shown)
                    chunk = f.read()
                    shown += len(chunk)
                    sys.stdout.write(ANSI_RE.sub("", chunk.decode(errors="replace")).replace("\r", ""))
                    sys.stdout.flush()
            time.sleep(0.05 if waiting else 0.2)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        errlog.close()
    r.elapsed = time.monotonic() - t0
    r.returncode = p.returncode
    r.exit_status = None if (r.timed_out or r.stopped_by_harness) else p.returncode
    r.crash = emulator_crash("QEMU", p.returncode, read_text(os.path.join(r.dir, "qemu.stderr")),
                             r.timed_out or r.stopped_by_harness)
    if os.path.exists(r.serial_path):
        if console:
            with open(r.serial_path, "rb") as f:
                f.seek(shown)
                sys.stdout.write(ANSI_RE.sub("", f.read().decode(errors="replace")).replace("\r", ""))
        r.read_serial()
    return r


BOCHSRC = """\
megs: {megs}
cpu: model={model}, count={cpus}, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path={iso}, status=inserted
boot: cdrom
display_library: rfb, options="timeout=0"
port_e9_hack: enabled=1
com1: enabled=1, mode=file, dev={serial}
clock: sync=none, time0=local
log: {log}
panic: action=fatal
error: action=report
info: action=ignore
debug: action=ignore
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
speaker: enabled=0
"""


def run_bochs(name, cpus=3, megs=512, model="corei7_haswell_4770", timeout=300, console=False,
              image="test", iso=None):
    r = Run(name)
    r.image = image
    rc = os.path.join(r.dir, "bochsrc")
    with open(rc, "w") as f:
        f.write(BOCHSRC.format(megs=megs, model=model, cpus=cpus, iso=iso or image_path(image, "iso"),
                               serial=r.serial_path, log=os.path.join(r.dir, "bochs.log")))
    cont = os.path.join(r.dir, "cont.rc")
    with open(cont, "w") as f:
        f.write("c\n")
    t0 = time.monotonic()
    out = open(os.path.join(r.dir, "bochs.stdout"), "w")
    p = subprocess.Popen([BOCHS, "-q", "-f", rc, "-rc", cont], stdin=subprocess.DEVNULL,
                         stdout=out, stderr=out, start_new_session=True, cwd=r.dir)
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        r.timed_out = True
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    out.close()
    r.elapsed = time.monotonic() - t0
    r.returncode = p.returncode
    # Bochs always exits 1; the serial log is the verdict. It aborting on its own is not.
    r.crash = emulator_crash("Bochs", p.returncode, read_text(os.path.join(r.dir, "bochs.stdout")),
                             r.timed_out)
    r.exit_status = None
    if os.path.exists(r.serial_path):
        r.read_serial()
        if console:
            sys.stdout.write("\n".join(r.lines) + "\n")
    return r


# ---------------------------------------------------------------------------------------
def judge(r, expect_exit=True):
    """TAP results of one run: [(name, status, diagnostic)] with status ok|fail|skip."""
    results = []
    counts = {"ok": 0, "fail": 0, "skip": 0}
    hv = {"ok": 0, "fail": 0, "skip": 0}
    summary = None
    trap = None
    diag_for = None
    per_guest = {}  # TAP lines seen so far, per guest
    plans = []      # (guest, announced, TAP lines of that guest before the plan)
    for ln in r.lines:
        m = TAP_RE.match(ln)
        if m:
            guest, verdict, _num, suite, tid, skip = m.groups()
            st = "skip" if skip is not None else ("ok" if verdict == "ok" else "fail")
            who = f"[{guest}] " if guest else ""
            results.append([f"{r.name}: {who}{suite}: {tid}", st, skip or ""])
            counts[st] += 1
            if not guest:
                hv[st] += 1
            else:
                per_guest[guest] = per_guest.get(guest, 0) + 1
            diag_for = results[-1] if st == "fail" else None
            continue
        m = PLAN_RE.match(ln)
        if m:
            plans.append((m.group(1), int(m.group(2)), per_guest.get(m.group(1), 0)))
        if diag_for is not None and re.match(r"^(\[[^\]]+\] )?# ", ln):
            diag_for[2] += ln.split("# ", 1)[1] + " "
            continue
        diag_for = None
        m = SUMMARY_RE.match(ln)
        if m:
            summary = tuple(int(x) for x in m.groups())
        if ln.startswith("trap: cpu") and trap is None:
            trap = ln
    tail = " | ".join(r.lines[-3:]) if r.lines else "no serial output"
    results.append([f"{r.name}: run: summary-line", "ok" if summary else "fail",
                    "" if summary else ("timed out; " if r.timed_out else "") + "last lines: " + tail])
    if summary:
        agree = summary == (counts["ok"], counts["fail"], counts["skip"])
        results.append([f"{r.name}: run: summary-matches-tap", "ok" if agree else "fail",
                        "" if agree else f"summary {summary} vs TAP lines {counts}"])
    if trap:
        trap += trap_where(r)
    results.append([f"{r.name}: run: no-cpu-exception", "ok" if trap is None else "fail", trap or ""])
    # A guest's announced results and the ones that reached the log must agree: a report
    # moat refused (e.g. a skip reason with a second '#') vanishes otherwise.
    for guest, announced, seen in plans:
        results.append([f"{r.name}: run: [{guest}] results-complete",
                        "ok" if announced == seen else "fail",
                        "" if announced == seen else
                        f"the guest announced {announced} results, the log has {seen}"])

    if expect_exit and r.exit_status is not None and summary:
        want = 3 if summary[1] else 1
        results.append([f"{r.name}: run: exit-status", "ok" if r.exit_status == want else "fail",
                        f"QEMU exit status {r.exit_status}, expected {want}"])
    if r.timed_out:
        results.append([f"{r.name}: run: finished-in-time", "fail", f"killed after {r.elapsed:.0f} s"])
    return results


def trap_where(r):
    """' at function+offset' for the rip of the run's first crash dump (scripts/symbolize.py
    on the image booted), or '' when it cannot be named."""
    rip = next((ln for ln in r.lines if ln.startswith("trap:  rip ")), None)
    elf = image_path(r.image, "elf") if r.image else None
    if not rip or not elf or not os.path.exists(elf):
        return ""
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    import symbolize
    try:
        where = symbolize.Symbols.from_elf(elf).lookup(int(rip.split()[2], 16))
    except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
        return ""
    return f" (rip at {where})" if where else ""


def line_matching(r, pattern):
    rx = re.compile(pattern)
    return [ln for ln in r.lines if rx.search(ln)]


if __name__ == "__main__":
    import argparse
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--name", default="manual")
    ap.add_argument("--emulator", choices=["qemu", "bochs"], default="qemu")
    ap.add_argument("--boot", choices=["uefi", "mb2", "pvh"], default="uefi")
    ap.add_argument("--topology", default="reference")
    ap.add_argument("--timeout", type=int, default=300)
    ap.add_argument("--console", action="store_true", help="copy the serial output to stdout")
    ap.add_argument("--image", choices=sorted(IMAGES), default="product",
                    help="the product (make's moat.efi/.iso) or the test image")
    ap.add_argument("--cmdline", default="",
                    help="words added to moat's command line (uefi: moat.cmd in a copy of the "
                         "ESP; pvh: after --append)")
    ap.add_argument("--append", default="", help="pvh: moat's command line")
    ap.add_argument("--modules", default="",
                    help="pvh: files (blank-separated, [name=]path) packed into the -initrd archive")
    ap.add_argument("--list-topologies", action="store_true", help="print the topology names")
    a = ap.parse_args()
    if a.list_topologies:
        print(" ".join(topology_args(None, "")))
        sys.exit(0)
    esp = None
    if a.boot == "pvh":
        # The image's guest images always go into the archive, as they lie next to moat.efi
        # and in the ISO, after --modules (moat takes the first module of a name: yours).
        sys.path.insert(0, os.path.join(ROOT, "scripts"))
        import mkcpio
        esp = os.path.join(BUILD, f"{a.name}-modules.cpio")
        guests = [os.path.join(BUILD, "guests", g + ".elf") for g in IMAGE_GUESTS[a.image]]
        mkcpio.main([esp] + a.modules.split() + guests)
    elif a.modules.split():
        ap.error("--modules is for --boot pvh (uefi: files next to BOOTX64.EFI, mb2: grub.cfg)")
    if a.emulator == "qemu":
        if a.cmdline and a.boot == "uefi":
            esp = esp_with_cmdline(a.name, a.image, a.cmdline)
        elif a.cmdline and a.boot != "pvh":
            print(f"harness: --cmdline is not passed on {a.boot} (GRUB's entry has its own)")
        append = " ".join(x for x in (a.append, a.cmdline if a.boot == "pvh" else "") if x)
        run = run_qemu(a.name, a.boot, a.topology, a.timeout, a.console, image=a.image,
                       append=append, esp=esp)
    else:
        run = run_bochs(a.name, timeout=a.timeout, console=a.console, image=a.image)
    res = judge(run)
    bad = [x for x in res if x[1] == "fail"]
    for name, st, diag in bad:
        print(f"harness: FAILED {name}: {diag}")
    print(f"harness: serial log in {run.serial_path}")
    sys.exit(1 if bad else 0)
