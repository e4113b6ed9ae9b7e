/* The guest's 8254 programmable interval timer at 0x40-0x43 and the PC's port 0x61 (NMI
 * status and control: channel 2's gate and output, the speaker, the refresh toggle).
 * Channels count at 1.193182 MHz derived from the TSC in modes 0-5, binary or BCD, with
 * the counter latch and read-back commands (Intel 8254 datasheet, 231164). Pure: host unit
 * tests drive it with TSC values of their own. */
#ifndef VMM_VPIT_H
#define VMM_VPIT_H

#include <moat/bits.h>
#include <moat/types.h>

#define VPIT_HZ 1193182u
#define VPIT_PORT_FIRST 0x40 /* counters 0-2 at 0x40-0x42 */
#define VPIT_PORT_CW 0x43
#define VPIT_PORT_61 0x61
#define VPIT_CHANNELS 3

/* Control word (0x43) */
#define PIT_CW_SC GENMASK(7, 6) /* select counter; 3 = read-back command */
#define PIT_CW_RW GENMASK(5, 4) /* 0 = counter latch command */
#define PIT_CW_MODE GENMASK(3, 1)
#define PIT_CW_BCD BIT(0)
#define PIT_SC_READBACK 3
#define PIT_RW_LATCH 0
#define PIT_RW_LSB 1
#define PIT_RW_MSB 2
#define PIT_RW_LSB_MSB 3
/* Read-back command: bits 5 and 4 are active low */
#define PIT_RB_NO_COUNT BIT(5)
#define PIT_RB_NO_STATUS BIT(4)
#define PIT_RB_COUNTERS GENMASK(3, 1) /* bit 1 = counter 0 */
/* Status byte (read-back) */
#define PIT_ST_OUT BIT(7)
#define PIT_ST_NULL_COUNT BIT(6)
#define PIT_ST_CW GENMASK(5, 0) /* RW, mode, BCD as programmed */

/* Port 0x61 */
#define P61_GATE2 BIT(0)
#define P61_SPEAKER BIT(1)
#define P61_PARITY_CHECK_DIS BIT(2)
#define P61_IOCHK_DIS BIT(3)
#define P61_REFRESH BIT(4) /* toggles every 15.08 us (18 PIT clocks) */
#define P61_OUT2 BIT(5)
#define P61_RW GENMASK(3, 0)
#define P61_REFRESH_CLOCKS 18

struct vpit_channel {
	u8 cw;		/* RW, mode, BCD (the status byte's bits 5:0) */
	u32 count;	/* the initial count N: 1..65536 (1..10000 in BCD) */
	bool armed;	/* a count was written since the control word */
	bool triggered; /* modes 1, 5: a gate rising edge since the count */
	u64 start;	/* PIT clock of the last (re)start; the count loads on the next clock */
	u64 done;	/* modes 0, 4: clocks counted before `start` (gate pauses) */
	u16 held;	/* the count shown while not counting */
	bool pending;	/* modes 2, 3: a new count, loaded at the end of the period */
	u32 next_count;
	u64 reload_at; /* ... which is this PIT clock's start value */
	u8 wlow;       /* the low byte of a two-byte write */
	bool wflip, rflip;
	bool latched, latch_msb_next, status_latched;
	u16 latch;
	u8 status;
};

struct vpit {
	u64 hz;	  /* TSC ticks per second */
	u64 tsc0; /* the TSC at PIT clock 0 */
	struct vpit_channel ch[VPIT_CHANNELS];
	u8 p61; /* the writable bits of port 0x61; bit 0 is channel 2's gate */
};

void vpit_init(struct vpit *p, u64 now, u64 hz);
/* One byte at 0x40-0x43 or 0x61 at TSC `now`; false for an access the 8254 does not
 * answer (a read of the control word register, a wider access). */
bool vpit_io(struct vpit *p, u64 now, u16 port, bool in, u8 size, u32 *val);
/* The hook for IRQ0 (an interrupt controller to come): the TSC at which channel 0's OUT
 * next rises after `now` (modes 0, 2, 3, 4), or 0 when it will not by itself. */
u64 vpit_irq0_next(struct vpit *p, u64 now);

#endif
