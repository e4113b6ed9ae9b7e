/* 16550 UART: console specifications, and the register layout in memory space. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <moat/errno.h>
#include "arch/x86/serial.h"

static void test_parse_specs(void **state)
{
	u8 space, shift;
	u64 base;
	u32 baud;

	assert_int_equal(uart_parse_spec("0x2f8", &space, &base, &shift, &baud), 0);
	assert_int_equal(space, UART_PIO);
	assert_int_equal(base, 0x2f8);
	assert_int_equal(baud, 115200);
	assert_int_equal(uart_parse_spec("0x3f8,9600", &space, &base, &shift, &baud), 0);
	assert_int_equal(baud, 9600);
	assert_int_equal(uart_parse_spec("mmio:0xfe040000:2,57600", &space, &base, &shift, &baud),
			 0);
	assert_int_equal(space, UART_MMIO);
	assert_int_equal(base, 0xfe040000);
	assert_int_equal(shift, 2);
	assert_int_equal(baud, 57600);
	assert_int_equal(uart_parse_spec("mmio:0xfe040000", &space, &base, &shift, &baud), 0);
	assert_int_equal(shift, 0);
	/* Refused: no address, a port beyond I/O space, a shift too large, a baud rate the
	 * 115200 Hz divisor cannot make, trailing junk. */
	assert_int_equal(uart_parse_spec("mmio:", &space, &base, &shift, &baud), -EINVAL);
	assert_int_equal(uart_parse_spec("0x10000", &space, &base, &shift, &baud), -EINVAL);
	assert_int_equal(uart_parse_spec("mmio:0x1000:4", &space, &base, &shift, &baud), -EINVAL);
	assert_int_equal(uart_parse_spec("0x3f8,7000", &space, &base, &shift, &baud), -EINVAL);
	assert_int_equal(uart_parse_spec("0x3f8,0", &space, &base, &shift, &baud), -EINVAL);
	assert_int_equal(uart_parse_spec("0x3f8x", &space, &base, &shift, &baud), -EINVAL);
	assert_int_equal(uart_parse_spec("com1", &space, &base, &shift, &baud), -EINVAL);
	(void)state;
}

/* A memory-mapped UART with registers 4 bytes apart, modelled by a byte array: the scratch
 * register keeps what is written, LSR says the transmitter is empty. */
static u8 regs[8 << 2];

static void test_mmio_layout(void **state)
{
	struct uart16550 u;
	u64 base = (u64)(uintptr_t)regs;

	memset(regs, 0, sizeof(regs));
	regs[5 << 2] = 0x20; /* LSR.THRE */
	assert_int_equal(uart16550_init(&u, UART_MMIO, base, 2, 9600), 0);
	assert_true(u.present);
	assert_int_equal(regs[3 << 2], 0x03); /* LCR 8N1, DLAB off again */
	assert_int_equal(regs[1 << 2], 0);    /* IER (DLM was 0 too) */
	assert_int_equal(regs[4 << 2], 0x0b); /* MCR DTR|RTS|OUT2 */
	assert_int_equal(regs[7 << 2], 0x5a); /* scratch probe */
	uart16550_write(&u, "ok\n", 3);
	assert_int_equal(regs[0], '\n'); /* last byte written to THR */
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_specs),
		cmocka_unit_test(test_mmio_layout),
	};
	return cmocka_run_group_tests_name("uart", tests, NULL, NULL);
}
