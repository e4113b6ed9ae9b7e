/* Reset requests: RST_CNT at 0xCF9 and the 8042's output-port pulse. moat has no
 * controller behind 0x60/0x64 (the FADT says there is no 8042): only the reset command is
 * recognised, because Linux's reboot falls back to it. */
#include "vmm/vreset.h"

u8 vreset_cf9_read(const struct vreset *r)
{
	return r->rst_cnt;
}

bool vreset_cf9_write(struct vreset *r, u8 val)
{
	bool edge = (val & RST_CNT_RST_CPU) && !(r->rst_cnt & RST_CNT_RST_CPU);

	r->rst_cnt = val & RST_CNT_MASK;
	return edge;
}

bool vreset_kbc_command(u8 cmd)
{
	return (cmd & KBC_CMD_PULSE_MASK) == KBC_CMD_PULSE && !(cmd & KBC_PULSE_RESET);
}
