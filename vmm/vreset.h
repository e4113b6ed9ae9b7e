/* The two ways a PC guest asks for a reset: the reset control register at 0xCF9 (the FADT's
 * reset register, vmm/guest_acpi.h) and the keyboard controller's "pulse output port"
 * command at 0x64. Pure: host unit tests drive it. */
#ifndef VMM_VRESET_H
#define VMM_VRESET_H

#include <moat/bits.h>
#include <moat/types.h>
#include "vmm/guest_acpi.h"

#define VRESET_CF9_PORT GUEST_RESET_PORT
#define VRESET_KBC_PORT 0x64

/* Reset control register (Intel PCH "RST_CNT", I/O 0xCF9) */
#define RST_CNT_SYS_RST BIT(1)	/* hard reset rather than a CPU-only one */
#define RST_CNT_RST_CPU BIT(2)	/* its 0 -> 1 transition starts the reset */
#define RST_CNT_FULL_RST BIT(3) /* power cycle */
#define RST_CNT_MASK (RST_CNT_SYS_RST | RST_CNT_RST_CPU | RST_CNT_FULL_RST)

/* 8042 commands 0xF0-0xFF pulse the output port lines whose bits are 0 in the low nibble
 * for 6 us; line 0 is the CPU reset (0xFE pulses it alone). */
#define KBC_CMD_PULSE_MASK GENMASK(7, 4)
#define KBC_CMD_PULSE 0xf0
#define KBC_PULSE_RESET BIT(0)

struct vreset {
	u8 rst_cnt;
};

/* 0xCF9: one byte. True when the write asks for a reset. */
u8 vreset_cf9_read(const struct vreset *r);
bool vreset_cf9_write(struct vreset *r, u8 val);
/* A byte written to the keyboard controller's command port: true when it pulses reset. */
bool vreset_kbc_command(u8 cmd);

#endif
