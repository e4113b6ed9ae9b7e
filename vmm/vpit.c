/* The 8254's counters as functions of time: a channel keeps when it (re)started counting
 * and derives its count and OUT at any PIT clock from the mode's definition (datasheet
 * "Operation" section: a count written is loaded into the counting element on the next
 * CLK pulse; modes 0 and 4 count on while the gate is low only after it rises again,
 * modes 2 and 3 restart on the gate's rising edge and hold OUT high while it is low, modes 1
 * and 5 start on that edge). Nothing runs between accesses: the guest's TSC is the clock. */
#include <moat/string.h>
#include "vmm/vclock.h"
#include "vmm/vpit.h"

void vpit_init(struct vpit *p, u64 now, u64 hz)
{
	memset(p, 0, sizeof(*p));
	p->hz = hz;
	p->tsc0 = now;
}

static u64 clock_at(const struct vpit *p, u64 now)
{
	return vclock_ticks(now - p->tsc0, p->hz, VPIT_HZ);
}

static unsigned mode(const struct vpit_channel *c)
{
	unsigned m = (unsigned)FIELD_GET(PIT_CW_MODE, c->cw);

	return m >= 6 ? m - 4 : m; /* x10 and x11: modes 2 and 3 */
}

static u32 modulus(const struct vpit_channel *c)
{
	return c->cw & PIT_CW_BCD ? 10000 : 65536;
}

static bool gate(const struct vpit *p, unsigned n)
{
	return n != 2 || (p->p61 & P61_GATE2); /* channels 0 and 1: tied high on a PC */
}

static bool periodic(unsigned m)
{
	return m == 2 || m == 3;
}

static bool gate_triggered(unsigned m)
{
	return m == 1 || m == 5;
}

/* A count written to a counting mode-2/3 channel takes over at the end of the period. */
static void sync(struct vpit_channel *c, u64 k)
{
	if (c->pending && k > c->reload_at) {
		c->count = c->next_count;
		c->start = c->reload_at;
		c->pending = false;
	}
}

/* Clocks since the channel (re)started; the count is loaded at 1. */
static u64 elapsed(const struct vpit *p, unsigned n, u64 k)
{
	const struct vpit_channel *c = &p->ch[n];
	unsigned m = mode(c);

	if (gate_triggered(m))
		return c->triggered ? k - c->start : 0;
	if (periodic(m))
		return gate(p, n) ? k - c->start : 0;
	return c->done + (gate(p, n) ? k - c->start : 0);
}

/* Not counting: before the first count, mode 0 between a count's two bytes, modes 2 and 3
 * while the gate is low, modes 1 and 5 before their trigger. */
static bool counting(const struct vpit *p, unsigned n)
{
	const struct vpit_channel *c = &p->ch[n];
	unsigned m = mode(c);

	return c->armed && (!periodic(m) || gate(p, n)) && (!gate_triggered(m) || c->triggered);
}

/* Mode 3 counts down by two: even N gives N, N-2, .., 2 with OUT high, then the same with
 * OUT low; odd N loads N, then N-1, N-3, .., 0 with OUT high ((N+1)/2 clocks), then N,
 * N-3, .., 0 with OUT low ((N-1)/2 clocks). */
static u32 square_wave_count(u32 n, u64 e)
{
	u32 pos = (u32)((e - 1) % n), high = (n + 1) / 2;
	bool first = pos < high;
	u32 q = first ? pos : pos - high;

	if (!(n & 1))
		return n - 2 * q;
	if (!q)
		return n;
	return first ? n + 1 - 2 * q : n - 1 - 2 * q;
}

static u16 count_value(struct vpit *p, unsigned n, u64 k)
{
	struct vpit_channel *c = &p->ch[n];
	u32 m = modulus(c), v;
	u64 e;

	sync(c, k);
	if (!counting(p, n))
		return c->held;
	e = elapsed(p, n, k);
	if (!e)
		v = c->count;
	else if (mode(c) == 2)
		v = c->count - (u32)((e - 1) % c->count);
	else if (mode(c) == 3)
		v = square_wave_count(c->count, e);
	else
		v = (u32)((c->count + m - (e - 1) % m) % m);
	return (u16)(v % m);
}

static bool out(struct vpit *p, unsigned n, u64 k)
{
	struct vpit_channel *c = &p->ch[n];
	unsigned m = mode(c);
	u64 e;

	sync(c, k);
	if (!c->armed)
		return m != 0;
	e = elapsed(p, n, k);
	switch (m) {
	case 0: return e >= (u64)c->count + 1;
	case 1: return !(c->triggered && e >= 1 && e <= c->count);
	case 2: return !gate(p, n) || !e || (e - 1) % c->count != c->count - 1;
	case 3: return !gate(p, n) || !e || (e - 1) % c->count < (c->count + 1) / 2;
	case 4: return e != (u64)c->count + 1;
	default: return !(c->triggered && e == (u64)c->count + 1);
	}
}

static u16 to_bcd(u16 v)
{
	return (u16)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

static u16 from_bcd(u16 v)
{
	return (u16)((v >> 12) * 1000 + ((v >> 8) & 0xf) * 100 + ((v >> 4) & 0xf) * 10 + (v & 0xf));
}

static u16 shown(const struct vpit_channel *c, u16 v)
{
	return c->cw & PIT_CW_BCD ? to_bcd(v) : v;
}

static void latch_count(struct vpit *p, unsigned n, u64 k)
{
	struct vpit_channel *c = &p->ch[n];

	if (c->latched)
		return; /* a second latch before the first is read is ignored */
	c->latch = shown(c, count_value(p, n, k));
	c->latched = true;
	c->latch_msb_next = FIELD_GET(PIT_CW_RW, c->cw) == PIT_RW_MSB;
}

static bool null_count(struct vpit *p, unsigned n, u64 k)
{
	struct vpit_channel *c = &p->ch[n];

	sync(c, k);
	if (!c->armed || c->pending)
		return true;
	if (gate_triggered(mode(c)))
		return !c->triggered || k == c->start;
	return k == c->start && !c->done;
}

static void read_back(struct vpit *p, u8 cmd, u64 k)
{
	for (unsigned n = 0; n < VPIT_CHANNELS; n++) {
		struct vpit_channel *c = &p->ch[n];

		if (!(FIELD_GET(PIT_RB_COUNTERS, cmd) & BIT(n)))
			continue;
		if (!(cmd & PIT_RB_NO_STATUS) && !c->status_latched) {
			c->status = (u8)((out(p, n, k) ? PIT_ST_OUT : 0) |
					 (null_count(p, n, k) ? PIT_ST_NULL_COUNT : 0) |
					 (c->cw & PIT_ST_CW));
			c->status_latched = true;
		}
		if (!(cmd & PIT_RB_NO_COUNT))
			latch_count(p, n, k);
	}
}

static void control_word(struct vpit *p, u8 val, u64 k)
{
	unsigned n = (unsigned)FIELD_GET(PIT_CW_SC, val);
	struct vpit_channel *c;

	if (n == PIT_SC_READBACK) {
		read_back(p, val, k);
		return;
	}
	c = &p->ch[n];
	if (FIELD_GET(PIT_CW_RW, val) == PIT_RW_LATCH) {
		latch_count(p, n, k);
		return;
	}
	c->held = count_value(p, n, k);
	c->cw = val & PIT_ST_CW;
	c->armed = c->triggered = c->pending = false;
	c->wflip = c->rflip = c->latched = c->status_latched = false;
}

static void load_count(struct vpit *p, unsigned n, u16 raw, u64 k)
{
	struct vpit_channel *c = &p->ch[n];
	u32 count = c->cw & PIT_CW_BCD ? from_bcd(raw) % 10000 : raw;
	u64 e;

	if (!count)
		count = modulus(c);
	sync(c, k);
	if (periodic(mode(c)) && counting(p, n) && (e = elapsed(p, n, k)) >= 1) {
		c->pending = true;
		c->next_count = count;
		c->reload_at = c->start + ((e - 1) / c->count + 1) * c->count;
		return;
	}
	c->count = count;
	c->armed = true;
	c->triggered = c->pending = false;
	c->start = k;
	c->done = 0;
	c->held = (u16)(count % modulus(c));
}

static void write_count(struct vpit *p, unsigned n, u8 val, u64 k)
{
	struct vpit_channel *c = &p->ch[n];

	switch (FIELD_GET(PIT_CW_RW, c->cw)) {
	case PIT_RW_LSB: load_count(p, n, val, k); break;
	case PIT_RW_MSB: load_count(p, n, (u16)(val << 8), k); break;
	case PIT_RW_LSB_MSB:
		if (!c->wflip) {
			c->wlow = val;
			c->wflip = true;
			/* mode 0: writing the first byte stops the count */
			if (mode(c) == 0 && c->armed) {
				c->held = count_value(p, n, k);
				c->armed = false;
			}
			break;
		}
		c->wflip = false;
		load_count(p, n, (u16)(c->wlow | val << 8), k);
		break;
	default: break; /* no control word yet */
	}
}

static u8 read_count(struct vpit *p, unsigned n, u64 k)
{
	struct vpit_channel *c = &p->ch[n];
	unsigned rw = (unsigned)FIELD_GET(PIT_CW_RW, c->cw);
	u16 v;

	if (c->status_latched) {
		c->status_latched = false;
		return c->status;
	}
	if (c->latched) {
		bool msb = c->latch_msb_next;

		if (rw == PIT_RW_LSB_MSB && !msb)
			c->latch_msb_next = true;
		else
			c->latched = false;
		return (u8)(msb ? c->latch >> 8 : c->latch);
	}
	v = shown(c, count_value(p, n, k));
	if (rw == PIT_RW_MSB)
		return (u8)(v >> 8);
	if (rw == PIT_RW_LSB_MSB) {
		c->rflip = !c->rflip;
		return (u8)(c->rflip ? v : v >> 8);
	}
	return (u8)v;
}

/* Channel 2's gate from port 0x61 bit 0, changed at clock k (p61 still the old value). */
static void gate2_change(struct vpit *p, bool rising, u64 k)
{
	struct vpit_channel *c = &p->ch[2];
	unsigned m = mode(c);

	sync(c, k);
	if (!c->armed)
		return;
	if (gate_triggered(m)) {
		if (rising) {
			c->triggered = true;
			c->start = k;
		}
	} else if (periodic(m)) {
		if (rising) {
			if (c->pending)
				c->count = c->next_count;
			c->pending = false;
			c->start = k;
		} else {
			c->held = count_value(p, 2, k);
		}
	} else if (rising) {
		c->start = k;
	} else {
		c->done = elapsed(p, 2, k);
	}
}

static u8 port61_read(struct vpit *p, u64 k)
{
	return (u8)((p->p61 & P61_RW) | ((k / P61_REFRESH_CLOCKS) & 1 ? P61_REFRESH : 0) |
		    (out(p, 2, k) ? P61_OUT2 : 0));
}

bool vpit_io(struct vpit *p, u64 now, u16 port, bool in, u8 size, u32 *val)
{
	u64 k = clock_at(p, now);

	if (size != 1)
		return false;
	if (port == VPIT_PORT_61) {
		if (in) {
			*val = port61_read(p, k);
		} else {
			bool g = *val & P61_GATE2;

			if (g != !!(p->p61 & P61_GATE2))
				gate2_change(p, g, k);
			p->p61 = (u8)(*val & P61_RW);
		}
		return true;
	}
	if (port == VPIT_PORT_CW) {
		if (in)
			return false; /* the control word register cannot be read */
		control_word(p, (u8)*val, k);
		return true;
	}
	if (port < VPIT_PORT_FIRST || port >= VPIT_PORT_FIRST + VPIT_CHANNELS)
		return false;
	if (in)
		*val = read_count(p, port - VPIT_PORT_FIRST, k);
	else
		write_count(p, port - VPIT_PORT_FIRST, (u8)*val, k);
	return true;
}

u64 vpit_irq0_next(struct vpit *p, u64 now)
{
	struct vpit_channel *c = &p->ch[0];
	u64 k = clock_at(p, now), e, edge;

	sync(c, k);
	if (!c->armed)
		return 0;
	e = elapsed(p, 0, k);
	switch (mode(c)) {
	case 0: edge = (u64)c->count + 1; break;
	case 2:
	case 3: edge = e ? ((e - 1) / c->count + 1) * c->count + 1 : (u64)c->count + 1; break;
	case 4: edge = (u64)c->count + 2; break;
	default: return 0;
	}
	if (edge <= e)
		return 0;
	return p->tsc0 + vclock_tsc(c->start + edge - c->done, p->hz, VPIT_HZ);
}
