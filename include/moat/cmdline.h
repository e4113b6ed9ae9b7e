/* The hypervisor command line: space-separated key=value words (or bare flags).
 *   serial=<port>[,<baud>]  console UART (default 0x3f8,115200; serial=off for none), or
 *     serial=mmio:<addr>[:<regshift>][,<baud>] for a memory-mapped 16550
 *   console=mmio:<addr>[:<regshift>][,<baud>] | console=pci:[SSSS:]BB:DD.F[,<baud>]
 *                           one more console: a memory-mapped UART, or a PCI serial card
 *   loglevel=err|warn|info|debug
 *   exit=auto|qemu|bochs|halt|reboot   what to do after the summary line
 *   fbcon=off               no framebuffer console even if firmware handed one over
 *   sriov.numvfs=<n>        VFs to enable on every SR-IOV PF (default 3, capped at TotalVFs;
 *                           more than TotalVFs is refused with a message)
 *   acpi.override=<module>[,<module>...]  ACPI tables from boot modules in place of the
 *                           firmware's (validated; a bad one is refused: acpi/acpi.c)
 */
#ifndef MOAT_CMDLINE_H
#define MOAT_CMDLINE_H

#include <moat/types.h>

void cmdline_set(const char *s);
/* Copies the value of `key` into buf. Returns the value length, or -ENOENT. A bare word
 * `key` yields "". */
int cmdline_get(const char *key, char *buf, size_t size);
bool cmdline_has(const char *key);

#endif
