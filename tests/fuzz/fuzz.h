/* Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c): the entry point and a
 * reader that takes typed values from the fuzzer's bytes. A value past the end of the
 * input reads as zero; nothing here clamps a size for the code under test. */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <moat/types.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct fin {
	const u8 *p;
	size_t n;
};

static inline u64 fin_take(struct fin *f, unsigned bytes)
{
	u64 v = 0;

	for (unsigned i = 0; i < bytes && f->n; i++, f->p++, f->n--)
		v |= (u64)*f->p << (8 * i);
	return v;
}

static inline u8 fin_u8(struct fin *f)
{
	return (u8)fin_take(f, 1);
}

static inline u16 fin_u16(struct fin *f)
{
	return (u16)fin_take(f, 2);
}

static inline u32 fin_u32(struct fin *f)
{
	return (u32)fin_take(f, 4);
}

static inline u64 fin_u64(struct fin *f)
{
	return fin_take(f, 8);
}

/* Up to `max` bytes copied out (fewer at the end of the input); returns how many. */
static inline size_t fin_bytes(struct fin *f, void *out, size_t max)
{
	size_t n = f->n < max ? f->n : max;

	for (size_t i = 0; i < n; i++)
		((u8 *)out)[i] = f->p[i];
	f->p += n;
	f->n -= n;
	return n;
}

#endif
