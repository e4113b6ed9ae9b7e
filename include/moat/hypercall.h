/* The hypercall ABI between moat and its guests (docs/hypercalls.md). Shared by the
 * hypervisor and guests/lib.
 *
 * VMMCALL (AMD) or VMCALL (Intel) with RAX = number, RDI, RSI, RDX = arguments;
 * the result comes back in RAX: >= 0 on success, a negative errno on failure. */
#ifndef MOAT_HYPERCALL_H
#define MOAT_HYPERCALL_H

#include <moat/types.h>

/* The product's hypercalls: what a guest needs to run and report. */
#define HC_CONSOLE_WRITE 1 /* rdi = GPA, rsi = length (<= HC_CONSOLE_MAX) */
#define HC_REPORT 2	   /* rdi = status (HC_TEST_*), rsi = GPA of "suite: id", rdx = length */
#define HC_GET_INFO 3	   /* rdi = GPA of a struct moat_guest_info */
#define HC_SHUTDOWN 4	   /* rdi = exit code; does not return */
/* rdi = GPA of a buffer, rsi = its size: the guest's cmdline= from its configuration line,
 * NUL-terminated; returns its length without the NUL, -ERANGE (nothing copied) when the
 * buffer is too small */
#define HC_GET_CMDLINE 5

/* The test range: served only by the test image (tests/hv/hypercalls.c). The product
 * answers every number here, like any unknown number, with -ENOSYS; a guest test that
 * needs one reports itself skipped. */
#define HC_TEST_FIRST 0x1000
#define HC_TEST_LAST 0x10ff
#define HC_ECHO 0x1000 /* rdi = x -> returns x ^ HC_ECHO_MAGIC */
/* rdi = GPA the guest will touch next: announce an expected stop; rsi = GPA of a u64 TSC
 * stamp the guest writes just before that access, or 0 */
#define HC_EXPECT_STOP 0x1001
/* announce: my device will now DMA outside my RAM (rdi = 0), or write the interrupt message
 * rsi to address rdi (0xFEExxxxx) */
#define HC_EXPECT_DMA_FAULT 0x1002
#define HC_GET_EXITS 0x1003 /* rdi = GPA of a struct moat_guest_exits */

/* Not a hypercall but of the test range too: a byte written to this port makes the test
 * image print the writing guest's exits so far by reason, `vmm: exits <guest>: mark <byte>:
 * <reason>=<n> ...` (tests/hv/exits_port.c; the product denies the port like any other). */
#define MOAT_TEST_EXITS_PORT 0x5e0

#define HC_ECHO_MAGIC 0x6d6f6174ULL /* "moat" */
#define HC_CONSOLE_MAX 4096
#define HC_REPORT_MAX 120

#define HC_TEST_PASS 0
#define HC_TEST_FAIL 1
#define HC_TEST_SKIP 2
/* REPORT with this status: RSI = "1..N", the TAP plan: the number of results the guest
 * reported so far (announced when it is done). moat fails the run when it received
 * another number (a report it refused, or one lost). */
#define HC_TEST_PLAN 3

#define MOAT_CPUID_LEAF 0x40000000
#define MOAT_CPUID_SIGNATURE "moatmoatmoat"
/* Leaf 0x40000001: EAX = guest id, EBX = physical CPU, ECX = hypercall instruction. */
#define MOAT_CPUID_INFO 0x40000001
#define MOAT_HC_INSN_VMMCALL 1
#define MOAT_HC_INSN_VMCALL 2
/* Leaf 0x40000010 (VMware's TSC leaf): EAX = the frequency of the TSC the guest reads, in
 * kHz (0: unknown); EBX, ECX, EDX = 0. 0x40000000 EAX names the highest moat leaf. */
#define MOAT_CPUID_TSC 0x40000010
#define MOAT_CPUID_MAX MOAT_CPUID_TSC

struct moat_guest_device {
	u16 segment;
	u8 bus, dev, fn;
	u8 is_vf;
	u16 vf;
};

struct moat_guest_info {
	u32 id;
	u32 cpu;
	u64 ram_size;
	char name[24];
	u32 nr_devices;
	u32 tsc_khz; /* the TSC the guest reads, in kHz (0: unknown) */
	struct moat_guest_device devices[4];
};
SIZE_CHECK(struct moat_guest_info, 80);

/* HC_GET_EXITS: the guest's VM exits so far, by reason (the call itself already counted).
 * These numbers are the ABI's own; moat maps its internal reasons onto them. */
#define MOAT_EXIT_OTHER 0
#define MOAT_EXIT_CPUID 1
#define MOAT_EXIT_IO 2
#define MOAT_EXIT_MSR_READ 3
#define MOAT_EXIT_MSR_WRITE 4
#define MOAT_EXIT_HLT 5
#define MOAT_EXIT_HYPERCALL 6
#define MOAT_EXIT_NPF 7
#define MOAT_EXIT_EXT_INTR 8
#define MOAT_EXIT_NMI 9
#define MOAT_EXIT_EXCEPTION 10
#define MOAT_EXIT_SHUTDOWN 11
#define MOAT_EXIT_WATCHDOG 12
#define MOAT_EXIT_INVALID 13
#define MOAT_EXIT_VIRT_INSN 14
#define MOAT_EXIT_CR_WRITE 15
#define MOAT_EXIT_INSN 16 /* WBINVD, INVD, MONITOR, MWAIT, RDPMC, RDTSCP: answered by policy */
#define MOAT_EXIT_REASONS 17
struct moat_guest_exits {
	u64 total;
	u64 by_reason[MOAT_EXIT_REASONS];
};
SIZE_CHECK(struct moat_guest_exits, 144);

#endif
