/* Power-off and reset data from the FADT and DSDT (acpi/power.c): the tables QEMU (SeaBIOS
 * and OVMF) and Bochs gave moat, and DSDTs cut short or lying about \_S5. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <moat/acpi.h>
#include <moat/errno.h>
#include "host_shim.h"
#include "tests/unit/data/acpi_blob.h"
#include "tests/unit/data/acpi_qemu_q35.h"
#include "tests/unit/data/acpi_qemu_q35_ovmf.h"
#include "tests/unit/data/acpi_bochs.h"

/* acpi_power() reads the booted machine's tables; the parser is what is tested here. */
const struct acpi_sdt_header *acpi_find_table(const char *sig, unsigned idx)
{
	return NULL;
}

static const struct acpi_sdt_header *blob(const struct acpi_blob *b, size_t n, const char *sig)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(b[i].sig, sig))
			return (const struct acpi_sdt_header *)b[i].bytes;
	fail_msg("no %s", sig);
	return NULL;
}

#define TABLES(arr) blob(arr, ARRAY_SIZE(arr), "FACP"), blob(arr, ARRAY_SIZE(arr), "DSDT")

/* q35 (ICH9): PM1a control at PMBASE 0x600 + 4, \_S5 sleep type 0, reset register 0xCF9. */
static void test_qemu_q35(void **state)
{
	struct acpi_power pw;

	assert_int_equal(acpi_power_parse(TABLES(acpi_qemu_q35), &pw), 0);
	assert_int_equal(pw.pm1a_cnt, 0x604);
	assert_int_equal(pw.pm1b_cnt, 0);
	assert_true(pw.have_s5);
	assert_int_equal(pw.s5_typ_a, 0);
	assert_true(pw.have_reset);
	assert_int_equal(pw.reset_space, ACPI_GAS_IO);
	assert_int_equal(pw.reset_addr, 0xcf9);
	assert_int_equal(pw.reset_value, 0x0f);
	assert_int_equal(acpi_power_parse(TABLES(acpi_qemu_q35_ovmf), &pw), 0);
	assert_int_equal(pw.pm1a_cnt, 0x604);
	assert_true(pw.have_s5);
	assert_true(pw.have_reset);
	assert_int_equal(pw.reset_addr, 0xcf9);
}

/* Bochs (PIIX4): its DSDT has \_S5 too; its FADT (revision 1) no reset register. */
static void test_bochs(void **state)
{
	struct acpi_power pw;

	assert_int_equal(acpi_power_parse(TABLES(acpi_bochs), &pw), 0);
	assert_true(pw.pm1a_cnt != 0);
	assert_true(pw.have_s5);
	assert_false(pw.have_reset);
}

static u8 *copy_of(const struct acpi_sdt_header *t)
{
	u8 *c = malloc(t->length);

	memcpy(c, t, t->length);
	return c;
}

static u8 *find_s5(u8 *dsdt)
{
	struct acpi_sdt_header *h = (void *)dsdt;

	for (u32 i = 36; i + 4 <= h->length; i++)
		if (!memcmp(dsdt + i, "_S5_", 4))
			return dsdt + i;
	fail_msg("no _S5_ in the captured DSDT");
	return NULL;
}

/* A DSDT ending inside \_S5's package, one without it, one whose sleep type does not fit
 * SLP_TYP, and one whose name is not a Name(): no sleep type, nothing read past the end. */
static void test_bad_s5(void **state)
{
	const struct acpi_sdt_header *fadt = blob(acpi_qemu_q35, ARRAY_SIZE(acpi_qemu_q35), "FACP");
	u8 *d = copy_of(blob(acpi_qemu_q35, ARRAY_SIZE(acpi_qemu_q35), "DSDT"));
	struct acpi_sdt_header *h = (void *)d;
	u32 full = h->length;
	u8 *s5 = find_s5(d);
	struct acpi_power pw;

	for (u32 cut = (u32)(s5 - d) + 1; cut < (u32)(s5 - d) + 9; cut++) {
		u8 *t = malloc(cut);

		memcpy(t, d, cut);
		((struct acpi_sdt_header *)t)->length = cut;
		assert_int_equal(acpi_power_parse(fadt, (void *)t, &pw), 0);
		assert_false(pw.have_s5);
		free(t);
	}
	h->length = full;
	s5[4 + 3] = 0x0a; /* BytePrefix */
	s5[4 + 4] = 9;	  /* SLP_TYP is 3 bits */
	assert_int_equal(acpi_power_parse(fadt, h, &pw), 0);
	assert_false(pw.have_s5);
	memcpy(s5, "_S6_", 4);
	assert_int_equal(acpi_power_parse(fadt, h, &pw), 0);
	assert_false(pw.have_s5);
	memcpy(s5, "_S5_", 4);
	s5[-1] = 0x5b; /* not NameOp */
	assert_int_equal(acpi_power_parse(fadt, h, &pw), 0);
	assert_false(pw.have_s5);
	assert_true(pw.have_reset);
	free(d);
}

/* No FADT: nothing; a FADT without RESET_REG_SUP or too short for the field: no reset. */
static void test_bad_fadt(void **state)
{
	u8 *f = copy_of(blob(acpi_qemu_q35, ARRAY_SIZE(acpi_qemu_q35), "FACP"));
	struct acpi_sdt_header *h = (void *)f;
	struct acpi_power pw;

	assert_int_equal(acpi_power_parse(NULL, NULL, &pw), -ENODEV);
	assert_false(pw.have_s5);
	assert_false(pw.have_reset);
	h->length = 120;
	assert_int_equal(acpi_power_parse(h, NULL, &pw), 0);
	assert_false(pw.have_reset);
	assert_false(pw.have_s5);
	assert_int_equal(pw.pm1a_cnt, 0x604);
	h->length = 244;
	f[113] &= (u8) ~(1u << 2); /* FLAGS bit 10 */
	assert_int_equal(acpi_power_parse(h, NULL, &pw), 0);
	assert_false(pw.have_reset);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qemu_q35),
		cmocka_unit_test(test_bochs),
		cmocka_unit_test(test_bad_s5),
		cmocka_unit_test(test_bad_fadt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
