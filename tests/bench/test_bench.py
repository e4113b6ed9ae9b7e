#!/usr/bin/env python3
"""Host unit tests of make bench's parsers and counters, on sample text (no emulator).
They check that figures are read correctly, never what the figures are.
Run: python3 tests/bench/test_bench.py"""
import os
import re
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import linux_bench  # noqa: E402
import linux_vf_bench  # noqa: E402

MiB, GiB = 1 << 20, 1 << 30

MOAT_LOG = """\
iommu: domain hypervisor: maps 0x100000-0x800000
iommu: domain hypervisor: maps 0x1000000-0x40000000
iommu: domain hypervisor: 6 tables, leaves 0 x 1G, 504 x 2M, 1792 x 4K
vmm: guest alpha: RAM 16 MiB at HPA 0x3e800000, nested tables: 0 x 1G, 8 x 2M, 0 x 4K (3 tables)
vmm: guest big: RAM 1024 MiB at HPA 0x40000000, nested tables: 1 x 1G, 0 x 2M, 0 x 4K (2 tables)
vmm: memory: 2 guests hold 1094713344 bytes of RAM and guards, 5 nested table pages
vmm: guest spin: RAM 4 MiB at HPA 0x1000000, nested tables: 0 x 1G, 2 x 2M, 0 x 4K (3 tables)
vmm: stats alpha: shut down; cpu 1, 149 ms; exits: cpuid=7 io=136 hypercall=28; io denied 0, msr refused 4, hypercalls 28; results 8 passed, 0 failed, 0 skipped
vmm: stats spin: stopped; cpu 0, 310 ms; exits: cpuid=1 watchdog=1; io denied 0, msr refused 0, hypercalls 1; results 0 passed, 0 failed, 0 skipped
moat: memory: image 3170304 bytes, allocator handed out 1095159808 of 1040000000 bytes
moat: 3 passed, 0 failed, 0 skipped
""".splitlines()


class MinTables(unittest.TestCase):
    def test_16m_at_zero_needs_three_tables_of_2m_leaves(self):
        self.assertEqual(bench.min_tables([(0, 16 * MiB)]), (3, [0, 8, 0]))

    def test_1g_is_one_leaf_below_the_root_and_a_pdpt(self):
        self.assertEqual(bench.min_tables([(0, GiB)]), (2, [0, 0, 1]))

    def test_without_1g_pages_a_pd_is_needed(self):
        self.assertEqual(bench.min_tables([(0, GiB)], max_leaf=1), (3, [0, 512, 0]))

    def test_unaligned_edges_take_4k_pages(self):
        tables, leaves = bench.min_tables([(0x1000, 4 * MiB + 0x1000)])
        self.assertEqual(leaves, [512, 1, 0])
        self.assertEqual(tables, 5)  # PML4, PDPT, PD, two PTs


class Memory(unittest.TestCase):
    def test_configured_guests_iommu_and_resident(self):
        m = bench.memory(MOAT_LOG)
        self.assertEqual(list(m["guests"]), ["alpha", "big"])  # not the self-test's `spin`
        self.assertEqual(m["guests"]["alpha"]["tables"], 3)
        self.assertEqual(m["guests"]["alpha"]["min_tables"], 3)
        self.assertEqual(m["guests"]["big"]["leaves_1g_2m_4k"], [1, 0, 0])
        self.assertTrue(m["guests"]["big"]["hpa_1g_aligned"])
        d = m["iommu"]["hypervisor"]
        self.assertEqual(d["tables"], 6)
        self.assertEqual(d["mapped_bytes"], 0x700000 + 0x3f000000)
        self.assertEqual(m["resident_bytes"], 3170304 + 1095159808 - 1094713344)

    def test_missing_lines_raise(self):
        with self.assertRaises(bench.Missing):
            bench.memory(MOAT_LOG[:3])


class GuestExits(unittest.TestCase):
    def test_exits_by_reason_of_the_named_guests(self):
        ex = bench.guest_exits(MOAT_LOG, ["alpha"])
        self.assertEqual(ex, {"alpha": {"total": 171, "by_reason": {"cpuid": 7, "io": 136,
                                                                   "hypercall": 28}}})

    def test_a_guest_without_stats_raises(self):
        with self.assertRaises(bench.Missing):
            bench.guest_exits(MOAT_LOG, ["alpha", "big"])


def dataplane_log(ticks=(2000000, 3000000, 4000000), native_us=(10000, 20000, 40000),
                  received=1000, bad=0, tap="ok", native_tap="ok", exits=None, tsc_tap="ok"):
    """A data path boot's serial lines: alpha sends, beta receives, then moat's native bench
    (TSC at 1 GHz: ticks / 1e6 = ms)."""
    zero = ",".join(["0"] * len(bench.EXIT_REASON_NAMES))
    lines = []
    for i, size in enumerate((64, 512, 1514)):
        lines += [
            f"[beta] bench guest: role=receive size={size} frames=1000 received={received} bad={bad}",
            f"[alpha] bench guest: role=send size={size} frames=1000 ticks={ticks[i]} tsc_khz=1000000",
            f"[beta] bench guest exits: role=receive size={size} by-reason={zero}",
            f"[alpha] bench guest exits: role=send size={size} by-reason={(exits or {}).get(size, zero)}",
            f"[beta] {tap} {5 + i} - bench: dataplane-{size}",
            f"[alpha] ok {5 + i} - bench: dataplane-{size}"]
    lines += [f"igbvf: bench native: 1000 frames of {size} bytes VF0->VF1 in {us} us: 1 frames/s, "
              f"1 bytes/s" for size, us in zip((64, 512, 1514), native_us)]
    lines.append(f"{native_tap} 42 - igbvf: native-bulk")
    return [f"{tsc_tap} 9 - boot: tsc-frequency"] + lines


class DataPath(unittest.TestCase):
    def test_figures_of_one_boot(self):
        exits = {512: "0,0,3,0,0,0,1" + ",0" * (len(bench.EXIT_REASON_NAMES) - 7)}
        d = bench.parse_dataplane(dataplane_log(exits=exits))
        self.assertEqual(sorted(d), [64, 512, 1514])
        self.assertAlmostEqual(d[64]["guest_s"], 0.002)
        self.assertAlmostEqual(d[1514]["native_s"], 0.04)
        self.assertEqual(d[64]["exits"], {"send": {}, "receive": {}})
        self.assertEqual(d[512]["exits"]["send"], {"io": 3, "hypercall": 1})

    def test_aggregate_rates_ratio_and_exits_per_1000_frames(self):
        exits = {512: "0,0,3,0,0,0,1" + ",0" * (len(bench.EXIT_REASON_NAMES) - 7)}
        boots = [bench.parse_dataplane(dataplane_log(exits=exits)),
                 bench.parse_dataplane(dataplane_log(ticks=(4000000, 3000000, 4000000))),
                 bench.parse_dataplane(dataplane_log(ticks=(1000000, 3000000, 4000000)))]
        a = bench.aggregate_dataplane(boots)
        g64, n64 = a["64"]["guest_frames_per_s"], a["64"]["native_frames_per_s"]
        self.assertEqual((g64["median"], g64["min"], g64["max"]), (500000, 250000, 1000000))
        self.assertEqual(n64["median"], 100000)
        self.assertEqual(a["64"]["guest_bytes_per_s"]["median"], 500000 * 64)
        self.assertEqual(a["64"]["ratio"]["median"], 5.0)
        self.assertAlmostEqual(a["1514"]["ratio"]["median"], 10.0)
        e = a["512"]["exits_per_1000_frames"]
        self.assertEqual(e["send"]["by_reason"], {"io": 1.0, "hypercall": 1 / 3})
        self.assertAlmostEqual(e["send"]["total"], 4 / 3)
        self.assertEqual(e["receive"]["total"], 0)

    def test_lost_frames_give_no_number(self):
        with self.assertRaisesRegex(bench.Missing, "received 999 of 1000"):
            bench.parse_dataplane(dataplane_log(received=999))

    def test_damaged_frames_give_no_number(self):
        with self.assertRaisesRegex(bench.Missing, r"\(2 bad\)"):
            bench.parse_dataplane(dataplane_log(bad=2))

    def test_a_failed_guest_test_gives_no_number(self):
        with self.assertRaisesRegex(bench.Missing, "dataplane-64: both guests must pass"):
            bench.parse_dataplane(dataplane_log(tap="not ok"))

    def test_a_skipped_guest_test_gives_no_number(self):
        with self.assertRaisesRegex(bench.Missing, "dataplane-64"):
            bench.parse_dataplane([ln.replace("dataplane-64", "dataplane-64 # SKIP no peer")
                                   for ln in dataplane_log()])

    def test_a_failed_native_bench_gives_no_number(self):
        with self.assertRaisesRegex(bench.Missing, "native-bulk did not pass"):
            bench.parse_dataplane(dataplane_log(native_tap="not ok"))

    def test_a_miscalibrated_tsc_gives_no_number(self):
        with self.assertRaisesRegex(bench.Missing, "tsc-frequency did not pass"):
            bench.parse_dataplane(dataplane_log(tsc_tap="not ok"))

    def test_a_missing_sender_line_gives_no_number(self):
        lines = [ln for ln in dataplane_log() if "role=send size=1514 frames" not in ln]
        with self.assertRaisesRegex(bench.Missing, "1514-byte batch: missing the sender"):
            bench.parse_dataplane(lines)

    def test_missing_exit_counters_give_no_number(self):
        lines = [ln for ln in dataplane_log() if "exits: role=receive size=512" not in ln]
        with self.assertRaisesRegex(bench.Missing, "no exit counters of the receive side"):
            bench.parse_dataplane(lines)

    def test_exit_reason_names_are_the_abis(self):
        # The guest reports exits by the ABI's reason number: the names are MOAT_EXIT_*'s.
        with open(os.path.join(bench.ROOT, "include", "moat", "hypercall.h")) as f:
            src = f.read()
        nr = int(re.search(r"#define MOAT_EXIT_REASONS (\d+)", src).group(1))
        names = [None] * nr
        for name, n in re.findall(r"#define MOAT_EXIT_(\w+) (\d+)", src):
            if name != "REASONS":
                names[int(n)] = name.lower().replace("_", "-")
        self.assertEqual(names, bench.EXIT_REASON_NAMES)


class Lines(unittest.TestCase):
    def count(self, name, text):
        with tempfile.TemporaryDirectory() as d:
            p = os.path.join(d, name)
            with open(p, "w") as f:
                f.write(text)
            return bench.code_lines(p)

    def test_c_comments_and_blanks_do_not_count(self):
        text = "/* head\n * more\n */\n\nint a; /* tail */\n// line\nint b; // x\n/* a */ int c;\n"
        self.assertEqual(self.count("x.c", text), 3)

    def test_nasm_comments(self):
        self.assertEqual(self.count("x.asm", "; c\n\nmov eax, 1 ; x\n  ; y\nret\n"), 2)


class ExitCosts(unittest.TestCase):
    LINES = [
        "[bench] bench: exit=cpuid n=1000 min=700 median=771 max=900 raw-median=790 baseline=19 "
        "baseline-spread=0",
        "[bench] bench: exit=apic-timer unavailable: no TSC-deadline timer or the local APIC "
        "disabled",
        "[bench] bench: exit=apic-eoi n=1000 min=200 median=250 max=300 raw-median=270 baseline=20 "
        "baseline-spread=0"]

    def test_measured_and_unavailable(self):
        out = bench.parse_exit_costs(self.LINES)
        self.assertEqual(out["cpuid"]["median"], 771)
        self.assertEqual(out["apic-eoi"]["median"], 250)
        self.assertIn("no TSC-deadline timer", out["apic-timer"]["not_measured"])
        self.assertNotIn("npf", out)


def guest(init=None, start=None, state=None, exits=None, run_init=None, where="w", marks=None,
          uptime=None):
    return {"init_s": init, "moat_to_init_s": init - start if init and start else None,
            "run_init": run_init, "state": state, "exits": exits, "where": where,
            "exit_marks": marks or {}, "mark_uptime": uptime or {}}


class ExitMarks(unittest.TestCase):
    LOG = [
        "vmm: exits web: mark 1: cpuid=1054 io=1300 npf=2000 timer=900",
        "[web] linuxguest: exits-mark 1 3.50",
        "vmm: exits other: mark 2: cpuid=5",
        "vmm: exits web: mark 2: cpuid=1054 io=1310 npf=2004 timer=1200 hlt=280",
        "vmm: exits web: mark 2: cpuid=9999",
        "vmm: exits web: mark 3: none"]

    def test_marks_by_guest_first_line_of_each(self):
        m = linux_bench.exit_marks(self.LOG, "web")
        self.assertEqual(sorted(m), [1, 2, 3])
        self.assertEqual(m[2]["cpuid"], 1054)
        self.assertEqual(m[3], {})
        self.assertEqual(linux_bench.exit_marks(self.LOG, "other"), {2: {"cpuid": 5}})

    def test_difference_leaves_out_reasons_without_exits(self):
        m = linux_bench.exit_marks(self.LOG, "web")
        self.assertEqual(linux_bench.marks_diff(m, 1, 2),
                         {"hlt": 280, "io": 10, "npf": 4, "timer": 300})
        self.assertIsNone(linux_bench.marks_diff(m, 1, 4))

    def test_guest_run_reads_marks_and_linux_uptime(self):
        g = linux_bench.guest_run(self.LOG + ["[web] linuxguest: exits-mark 2 13.50"], {}, "I",
                                  "S", "w")
        self.assertEqual(g["mark_uptime"], {1: 3.5, 2: 13.5})
        self.assertEqual(g["exit_marks"][1]["timer"], 900)


class LinuxGuest(unittest.TestCase):
    LOG = [
        "moat: moat hypervisor starting (UEFI boot)",
        "[web] linuxguest: init 6.1.0-57-amd64",
        "[web] linuxguest: run-init 2.123456",
        "vmm: guest web powered off (ACPI S5)",
        "vmm: stats web: shut down; cpu 1, 9000 ms; exits: cpuid=600 io=900 msr-read=3; io denied 0, "
        "msr refused 5, hypercalls 0; results 0 passed, 0 failed, 0 skipped"]

    def test_guest_run(self):
        g = linux_bench.guest_run(self.LOG, {"I": 20.0, "S": 8.0}, "I", "S", "where")
        self.assertEqual((g["init_s"], g["moat_to_init_s"], g["run_init"], g["state"]),
                         (20.0, 12.0, 2.123456, "shut down"))
        self.assertEqual(g["exits"], {"cpuid": 600, "io": 900, "msr-read": 3})
        g = linux_bench.guest_run(self.LOG[:1], {"S": 8.0}, "I", "S", "stopped at the LAPIC")
        self.assertEqual((g["init_s"], g["state"], g["exits"]), (None, None, None))

    def test_bare_run_init_ignores_guest_lines(self):
        self.assertIsNone(linux_bench.bare_run_init(self.LOG))
        self.assertEqual(linux_bench.bare_run_init(["\x1b[2Jlinuxguest: run-init 1.5"]), 1.5)

    def test_boot_ratio_of_medians(self):
        runs = [guest(20.0, 8.0), guest(30.0, 9.0), guest(25.0, 10.0)]
        b = linux_bench.boot_figures(runs, [10.0, 12.5, 50.0])
        self.assertEqual(b["moat"]["median"], 25.0)
        self.assertEqual(b["moat_from_its_start"]["median"], 15.0)
        self.assertEqual(b["ratio"], 2.0)

    def test_not_reached_is_not_a_number(self):
        runs = [guest(20.0, 8.0), guest(where="stopped: nested page fault at GPA 0xfee00020",
                                        state="stopped", exits={"cpuid": 5, "npf": 1})]
        b = linux_bench.boot_figures(runs, [10.0, 12.0])
        self.assertEqual(list(b), ["not_measured"])
        self.assertIn("0xfee00020", b["not_measured"])
        e = linux_bench.exit_figures(runs, None, 10)
        self.assertIn("not_measured", e["boot"])
        self.assertEqual(e["boot"]["until_stopped"]["by_reason"], {"cpuid": 5, "npf": 1})
        self.assertIn("not_measured", e["idle"])
        self.assertEqual(sorted(linux_bench.icount_figures(runs[1], 1.0)), ["bare_ns", "not_measured"])

    def test_reached_init_but_not_powered_off(self):
        runs = [guest(20.0, 8.0, state="stopped", exits={"npf": 1}, where="stopped: x")]
        self.assertIn("did not power off", linux_bench.exit_figures(runs, None, 10)["boot"]["not_measured"])

    def test_idle_is_between_the_marks_scaled_to_10s_of_linux_clock(self):
        boot = [guest(20.0, 8.0, "shut down", {"io": 100, "msr-write": 10}),
                guest(20.0, 8.0, "shut down", {"io": 120, "msr-write": 12}),
                guest(20.0, 8.0, "shut down", {"io": 110, "msr-write": 11})]
        idle = guest(20.0, 8.0, "shut down", {"io": 9999},
                     marks={1: {"io": 50, "timer": 900}, 2: {"io": 52, "timer": 1400, "hlt": 250}},
                     uptime={1: 3.0, 2: 23.0})
        e = linux_bench.exit_figures(boot, idle, 10)
        self.assertEqual(e["boot"]["by_reason"], {"io": 110, "msr-write": 11})
        self.assertEqual(e["idle"]["by_reason"], {"hlt": 250, "io": 2, "timer": 500})
        self.assertEqual(e["idle"]["total"], 752)
        self.assertEqual(e["idle"]["per_10s"], {"hlt": 125, "io": 1, "timer": 250})
        self.assertEqual(e["idle"]["per_second"], 37.6)

    def test_idle_without_marks_is_no_figure(self):
        boot = [guest(20.0, 8.0, "shut down", {"timer": 1118})]
        idle = guest(20.0, 8.0, "shut down", {"timer": 274}, marks={1: {"timer": 3}})
        e = linux_bench.exit_figures(boot, idle, 10)["idle"]
        self.assertIn("no exit counter lines for marks 1 and 2", e["not_measured"])
        self.assertNotIn("by_reason", e)
        self.assertIn("did not finish", linux_bench.exit_figures(boot, None, 10)["idle"]["not_measured"])

    def test_icount_ratio(self):
        f = linux_bench.icount_figures(guest(20.0, 8.0, "shut down", {}, run_init=3.0), 2.0)
        self.assertEqual((f["guest_ns"], f["bare_ns"], f["ratio"]), (3e9, 2e9, 1.5))


class LinuxDataPath(unittest.TestCase):
    SHA = "ab" * 32
    LOG = [
        "vmm: exits app: mark 11: cpuid=1500 io=40000 msr-write=2000 npf=3000 ext-intr=100",
        "vmm: npfs app: mark 11: local-apic=2900 msix=100",
        "vmm: exits web: mark 11: cpuid=1600 io=41000 npf=3100 ext-intr=90 irq-window=10",
        "vmm: npfs web: mark 11: local-apic=3000 ioapic=100",
        "vmm: exits app: mark 11: cpuid=1500 io=40010 msr-write=2001 npf=3000 ext-intr=100",  # a retry
        "vmm: npfs app: mark 11: local-apic=2900 msix=100",
        "vmm: exits app: mark 12: cpuid=1500 io=40011 msr-write=2401 npf=4000 ext-intr=1100",
        "vmm: npfs app: mark 12: local-apic=3900 msix=100",
        "[app] linuxguest: sent 2",
        f"[app] linuxguest: tx-sha256 {SHA} 4194304",
        "[app] linuxguest: xfer-mark 11 60.25 100 50 400",
        "[app] linuxguest: xfer-mark 12 62.25 1100 3050 1400",
        "vmm: exits web: mark 12: cpuid=1600 io=41001 npf=3600 ext-intr=590 irq-window=10",
        "vmm: npfs web: mark 12: local-apic=3496 ioapic=100 bar=4",
        f"[web] linuxguest: rx-sha256 {SHA} 4194304",
        "[web] linuxguest: xfer-mark 11 50.0 10 20 30",
        "[web] linuxguest: xfer-mark 12 70.0 3010 1020 530"]

    def test_figures(self):
        f = linux_vf_bench.transfer_figures(self.LOG, "app", "web")
        self.assertNotIn("not_measured", f)
        self.assertEqual((f["bytes"], f["seconds"], f["bytes_per_s"]), (4194304, 2.0, 2097152.0))
        app, web = f["guests"]["app"], f["guests"]["web"]
        # the last mark 11 of a retried connection; mark 12's own port write taken off io
        self.assertEqual(app["exits"]["by_reason"], {"ext-intr": 1000, "msr-write": 400, "npf": 1000})
        self.assertEqual((app["frames_rx"], app["frames_tx"], app["interrupts"]), (1000, 3000, 1000))
        self.assertEqual(app["exits_per_1000_frames"]["total"], 600.0)
        self.assertEqual(app["exits_per_1000_frames"]["by_reason"]["npf"], 250.0)
        self.assertEqual(app["exits_per_interrupt"]["total"], 2.4)
        self.assertEqual(app["interrupts_per_1000_frames"], 250.0)
        self.assertEqual(web["exits"]["by_reason"], {"ext-intr": 500, "npf": 500})
        self.assertEqual(web["exits_per_interrupt"]["by_reason"], {"ext-intr": 1.0, "npf": 1.0})
        self.assertEqual(web["seconds"], 20.0)

    def test_exit_classes(self):
        f = linux_vf_bench.transfer_figures(self.LOG, "app", "web")
        app, web = f["guests"]["app"], f["guests"]["web"]
        # app: ext-intr 1000, msr-write 400, npf 1000 (all on the local APIC page) for 4000 frames
        self.assertEqual(app["exits_per_1000_frames_by_class"],
                         {"frames": 0.0, "delivery": 500.0, "timer": 100.0, "io": 0.0,
                          "cpuid": 0.0, "other": 0.0})
        # web: 4 of its 500 npf hit a BAR while unmapped: on the path of frames (4000 frames)
        self.assertEqual(web["exits_per_1000_frames_by_class"]["frames"], 1.0)
        self.assertEqual(web["exits_per_1000_frames_by_class"]["delivery"], (500 + 496) / 4)
        # the npf split decides: BAR and MSI-X table faults are the path of frames, the local
        # APIC page's delivery, the I/O APIC's and unknown reasons other
        self.assertEqual(linux_vf_bench.exit_classes(
            {"npf": 30, "ext-intr": 10, "irq-window": 2, "io": 7, "hlt": 3, "timer": 1,
             "cpuid": 4, "xsetbv": 1}, {"local-apic": 10, "bar": 15, "msix": 3, "ioapic": 2}),
            {"frames": 18, "delivery": 22, "timer": 4, "io": 7, "cpuid": 4, "other": 3})
        self.assertEqual(linux_vf_bench.exit_classes({"npf": 5}, {"local-apic": 5})["frames"], 0)
        # the split read a moment after the exits (other vCPUs ran on): the local APIC page
        # takes the rest, the others are counted as split
        self.assertEqual(linux_vf_bench.exit_classes(
            {"npf": 10}, {"local-apic": 9, "bar": 3}), {"frames": 3, "delivery": 7, "timer": 0,
                                                       "io": 0, "cpuid": 0, "other": 0})
        self.assertEqual(linux_vf_bench.exit_classes({"npf": 10}, {"local-apic": 12})["delivery"], 10)
        # npf exits without any split is no figure
        self.assertIsNone(linux_vf_bench.exit_classes({"npf": 5}, {}))
        self.assertEqual(linux_vf_bench.exit_classes({"io": 5}, {})["io"], 5)
        log = [ln for ln in self.LOG if not ln.startswith("vmm: npfs web")]
        web = linux_vf_bench.transfer_figures(log, "app", "web")["guests"]["web"]
        self.assertIn("no 'vmm: npfs' mark lines", web["exits_per_1000_frames_by_class"]["not_measured"])
        for g in (app, f["guests"]["web"]):
            self.assertAlmostEqual(sum(g["exits_per_1000_frames_by_class"].values()),
                                   g["exits_per_1000_frames"]["total"])

    def test_zero_exits_is_a_figure(self):
        log = [ln.replace("io=40011 msr-write=2401 npf=4000 ext-intr=1100", "io=40011 msr-write=2001 "
                          "npf=3000 ext-intr=100") for ln in self.LOG]
        app = linux_vf_bench.transfer_figures(log, "app", "web")["guests"]["app"]
        self.assertEqual(app["exits_per_1000_frames"], {"total": 0.0, "by_reason": {}})

    def test_damaged_transfer_is_no_figure(self):
        log = [ln.replace(f"rx-sha256 {self.SHA}", "rx-sha256 " + "cd" * 32) for ln in self.LOG]
        f = linux_vf_bench.transfer_figures(log, "app", "web")
        self.assertIn("did not arrive intact", f["not_measured"])
        self.assertEqual(len(bench.linux_data_path_errors(f)), 1)
        log = [ln for ln in self.LOG if "rx-sha256" not in ln]
        f = linux_vf_bench.transfer_figures(log, "app", "web")
        self.assertIn("did not happen", f["not_measured"])
        self.assertEqual(bench.linux_data_path_errors(f), [])

    def test_without_the_exit_port_no_figure(self):
        log = [ln for ln in self.LOG if not ln.startswith(("vmm: exits web", "vmm: npfs web"))]
        f = linux_vf_bench.transfer_figures(log, "app", "web")
        self.assertEqual(list(f), ["not_measured"])
        self.assertIn("vmm: exits web: mark 11/12", f["not_measured"])
        log = [ln for ln in self.LOG if "xfer-mark 12" not in ln]
        self.assertIn("no xfer-mark lines", linux_vf_bench.transfer_figures(log, "app", "web")["not_measured"])

    def test_counters_going_down_is_no_figure(self):
        log = [ln.replace("npf=4000", "npf=2000") for ln in self.LOG]
        app = linux_vf_bench.transfer_figures(log, "app", "web")["guests"]["app"]
        self.assertIn("went down", app["not_measured"])

    def test_no_interrupt_no_per_interrupt_figure(self):
        log = [ln.replace("3050 1400", "3050 400") for ln in self.LOG]
        app = linux_vf_bench.transfer_figures(log, "app", "web")["guests"]["app"]
        self.assertIn("not_measured", app["exits_per_interrupt"])
        self.assertEqual(app["exits_per_1000_frames"]["total"], 600.0)

    def test_table_rows(self):
        rows = []
        f = linux_vf_bench.transfer_figures(self.LOG, "app", "web")
        f.update(sender="app", receiver="web")
        bench.add_linux_vf_rows(lambda a, b: rows.append((a, b)), f, None)
        text = "\n".join(f"{a}: {b}" for a, b in rows)
        self.assertIn("2.00 MiB/s", text)
        self.assertIn("exits per 1,000 frames, app (send): 600 (ext-intr=250 msr-write=100 npf=250)", text)
        self.assertIn("1000 MSI-X interrupts (250 per 1,000 frames); exits per interrupt 2.4 "
                      "(ext-intr=1 msr-write=0.4 npf=1)", text)
        self.assertIn("moat's own guests and native: not measured yet", text)
        self.assertIn("    path of frames (goal 0): 0\n    interrupt delivery and local APIC: 500\n"
                      "    timer and idle: 100\n", text)
        self.assertIn("exit classes: path of frames: nested page faults on the VF's BARs", text)
        self.assertIn("instructions per interrupt: not measured yet: ", text)
        rows.clear()
        bench.add_linux_vf_rows(lambda a, b: rows.append((a, b)), f, None,
                                bench.parse_vf_irq(VfIrq.LOG))
        self.assertIn(("  instructions per interrupt", bench.vf_irq_instructions(
            bench.parse_vf_irq(VfIrq.LOG))), rows)
        rows.clear()
        bench.add_linux_vf_rows(lambda a, b: rows.append((a, b)),
                                {"not_measured": "web: stopped", "sender": "app", "receiver": "web"}, None)
        self.assertEqual(rows, [("Linux guests' data path, TCP app -> web", "not measured yet: web: stopped")])


class VfIrq(unittest.TestCase):
    """The VF interrupt's figures (bench.parse_vf_irq) on a bench-vf-irq log."""
    LOG = """\
vmm: guest bench: running on cpu 1
vmm: exits bench: mark 3: cpuid=2 io=163 hypercall=1 npf=5
vmm: exits bench: mark 4: cpuid=2 io=164 hypercall=1 npf=1005 ext-intr=1000
[bench] bench: vf-irq exits-marks 3 and 4 around 1000 interrupts, 1000 taken
[bench] bench: exit=vf-irq-return n=1000 min=1957 median=1957 max=1990 raw-median=1962 baseline=5 baseline-spread=0
[bench] bench: exit=vf-irq n=1000 min=678 median=678 max=700 raw-median=683 baseline=5 baseline-spread=0
[bench] bench: exit=vf-irq-eoi n=1000 min=1260 median=1260 max=1260 raw-median=1267 baseline=7 baseline-spread=0
[bench] ok 1 - bench: vf-irq-costs
vmm: guest bench shut down (code 0)
vmm: guest bench: device 00:01.0 = 0000:01:10.0 (8086:10ca), domain 1 (guest-bench), faults 0, IRTEs 1, interrupts injected 0, MSI-X entries refused 0, BAR writes refused 0, foreign config writes 0, MSI-X messages 1000 (0 naming none of its vCPUs)
""".splitlines()

    def parse(self, log):
        return bench.parse_vf_irq(log)

    def missing(self, log):
        with self.assertRaises(bench.Missing) as cm:
            bench.parse_vf_irq(log)
        return str(cm.exception)

    def test_figures_and_exits_per_interrupt(self):
        f = self.parse(self.LOG)
        self.assertEqual((f["n"], f["msix_messages"]), (1000, 1000))
        self.assertEqual(f["costs"]["vf-irq"], {"n": 1000, "min": 678, "median": 678, "max": 700,
                                                "raw_median": 683, "baseline": 5})
        self.assertEqual(f["costs"]["vf-irq-eoi"]["median"], 1260)
        self.assertEqual(f["costs"]["vf-irq-return"]["max"], 1990)
        # mark 4's own port write taken off io
        self.assertEqual(f["exits"], {"total": 2000, "by_reason": {"ext-intr": 1000, "npf": 1000}})
        self.assertEqual(f["exits_per_interrupt"], {"total": 2.0,
                                                    "by_reason": {"ext-intr": 1.0, "npf": 1.0}})

    def test_a_kind_unavailable_is_missing(self):
        log = [ln for ln in self.LOG if "exit=vf-irq-eoi" not in ln] + [
            "[bench] bench: exit=vf-irq-eoi unavailable: the VF has no MSI-X table"]
        self.assertIn("vf-irq-eoi: the VF has no MSI-X table", self.missing(log))
        self.assertIn("no line", self.missing([ln for ln in self.LOG if "exit=vf-irq " not in ln]))

    def test_without_marks_or_device_line_no_figure(self):
        self.assertIn("mark 3/4", self.missing([ln for ln in self.LOG if "mark 4" not in ln]))
        self.assertIn("exits-marks", self.missing([ln for ln in self.LOG if "exits-marks" not in ln]))
        self.assertIn("no MSI-X messages",
                      self.missing([ln for ln in self.LOG if "device 00:01.0" not in ln]))

    def test_implausible_counts_are_missing(self):
        self.assertIn("fewer than the 1000", self.missing(
            [ln.replace("1000 taken", "999 taken") for ln in self.LOG]))
        self.assertIn("moat counted 10 MSI-X", self.missing(
            [ln.replace("MSI-X messages 1000", "MSI-X messages 10") for ln in self.LOG]))
        # no exit for the interrupts: they cannot have gone through moat
        self.assertIn("at least", self.missing(
            [ln.replace(" npf=1005 ext-intr=1000", " npf=5") for ln in self.LOG]))
        self.assertIn("went down", self.missing(
            [ln.replace("npf=1005", "npf=4") for ln in self.LOG]))
        self.assertIn("min <= median", self.missing(
            [ln.replace("exit=vf-irq n=1000 min=678", "exit=vf-irq n=1000 min=0") for ln in self.LOG]))
        self.assertIn("includes it", self.missing(
            [ln.replace("vf-irq-return n=1000 min=1957 median=1957", "vf-irq-return n=1000 min=600 "
                        "median=600") for ln in self.LOG]))

    def test_table_rows(self):
        rows = []
        vi = self.parse(self.LOG)
        bench.add_vf_irq_rows(lambda a, b: rows.append((a, b)), vi)
        text = "\n".join(f"{a}: {b}" for a, b in rows)
        self.assertIn("store to the handler (VT-d, host vector, exit, injection): 678 instructions "
                      "(min 678, max 700, n=1000)", text)
        self.assertIn("the handler's EOI (xAPIC page): 1,260 instructions", text)
        self.assertIn("store to the return (the whole interrupt): 1,957 instructions", text)
        self.assertIn("exits per interrupt: 2 (ext-intr=1 npf=1)", text)
        self.assertIn("VMX (Bochs): not measured: Bochs (VMX) has no IOMMU", text)
        self.assertTrue(bench.vf_irq_instructions(vi).startswith("1,957 in moat"))
        rows.clear()
        bench.add_vf_irq_rows(lambda a, b: rows.append((a, b)), {"not_measured": "boot timed out"})
        self.assertIn("not measured yet: boot timed out", rows[0][1])
        self.assertEqual(bench.vf_irq_instructions(None),
                         "not measured yet: the VF interrupt boot was not run")


if __name__ == "__main__":
    unittest.main(verbosity=2)
