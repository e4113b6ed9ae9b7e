/* The guest configuration parser, including malformed input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "vmm/config.h"
#include "host_shim.h"

static struct vmm_config cfg;

static u32 parse(const char *text)
{
	return config_parse(&cfg, "test", text, strlen(text));
}

/* The built-in demo: the reference machine's text is what the matrix checks (alpha, beta,
 * attacker on CPUs 1-3 with VFs 0-2 of 01:00.0); fewer CPUs, fewer guests; no PF, no
 * devices. */
static void test_builtin_config(void **state)
{
	static const u32 cpus[] = {1, 2, 3, 5};
	struct cfg_device pf = {.kind = CFG_DEV_BDF, .bus = 1};
	char buf[512];
	size_t n;

	n = config_builtin(buf, sizeof(buf), cpus, 4, &pf);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf, "guest alpha memory=16M cpu=1 image=cpu device=0000:01:00.0/vf0\n"
				 "guest beta memory=16M cpu=2 image=cpu device=0000:01:00.0/vf1\n"
				 "guest attacker memory=16M cpu=3 image=attacker "
				 "device=0000:01:00.0/vf2\n");
	assert_int_equal(config_parse(&cfg, "built-in", buf, n), 0);
	assert_int_equal(cfg.nr_guests, 3);
	assert_string_equal(cfg.guests[2].name, "attacker");
	assert_int_equal(cfg.guests[2].nr_cpus, 1);
	assert_int_equal(cfg.guests[2].cpus[0], 3);
	assert_string_equal(cfg.guests[2].image, "attacker");
	assert_int_equal(cfg.guests[2].devices[0].kind, CFG_DEV_VF);
	assert_int_equal(cfg.guests[2].devices[0].vf, 2);
	for (u32 i = 0; i < cfg.nr_guests; i++)
		assert_true(cfg.guests[i].valid);

	pf = (struct cfg_device){.kind = CFG_DEV_BDF, .segment = 1, .bus = 3, .dev = 2, .fn = 1};
	config_builtin(buf, sizeof(buf), (const u32[]){4, 7}, 2, &pf);
	assert_string_equal(buf, "guest alpha memory=16M cpu=4 image=cpu device=0001:03:02.1/vf0\n"
				 "guest beta memory=16M cpu=7 image=cpu device=0001:03:02.1/vf1\n");
	config_builtin(buf, sizeof(buf), cpus, 3, NULL);
	assert_string_equal(buf, "guest alpha memory=16M cpu=1 image=cpu\n"
				 "guest beta memory=16M cpu=2 image=cpu\n"
				 "guest attacker memory=16M cpu=3 image=attacker\n");
	assert_int_equal(config_builtin(buf, sizeof(buf), cpus, 0, NULL), 0);
	assert_string_equal(buf, "");
	/* a short buffer is cut, never overrun */
	n = config_builtin(buf, 20, cpus, 3, NULL);
	assert_int_equal(n, 19);
	assert_int_equal(strlen(buf), 19);
}

static void test_devices(void **state)
{
	char buf[40];

	assert_int_equal(parse("guest g memory=4M cpu=1 image=cpu device=01:00.0/vf3 "
			       "device=0001:02:1f.7, device=00:05.0"),
			 0);
	assert_int_equal(cfg.guests[0].nr_devices, 3);
	assert_int_equal(cfg.guests[0].devices[0].kind, CFG_DEV_VF);
	assert_int_equal(cfg.guests[0].devices[0].bus, 1);
	assert_int_equal(cfg.guests[0].devices[0].vf, 3);
	assert_int_equal(cfg.guests[0].devices[1].kind, CFG_DEV_BDF);
	assert_int_equal(cfg.guests[0].devices[1].segment, 1);
	assert_int_equal(cfg.guests[0].devices[1].dev, 0x1f);
	assert_int_equal(cfg.guests[0].devices[1].fn, 7);
	config_device_str(&cfg.guests[0].devices[0], buf, sizeof(buf));
	assert_string_equal(buf, "0000:01:00.0/vf3");
	config_device_str(&cfg.guests[0].devices[2], buf, sizeof(buf));
	assert_string_equal(buf, "0000:00:05.0");
}

static void test_cmdline_form(void **state)
{
	assert_int_equal(parse("guest,a,memory=2M,cpu=1,image=cpu;guest,b,memory=1G,cpu=2,image=x"),
			 0);
	assert_int_equal(cfg.nr_guests, 2);
	assert_int_equal(cfg.guests[1].memory, 1ULL << 30);
	assert_true(cfg.guests[1].valid);
}

static void test_comments_and_blank_lines(void **state)
{
	assert_int_equal(parse("\n# c\n   \nguest a memory=2M cpu=1 image=cpu # trailing\n\n"), 0);
	assert_int_equal(cfg.nr_guests, 1);
	assert_true(cfg.guests[0].valid);
}

/* Each bad line: one error naming the line, that guest invalid, the good one still valid. */
static void expect_bad(const char *bad_line, const char *needle)
{
	char text[2048];

	snprintf(text, sizeof(text), "guest good memory=2M cpu=1 image=cpu\n%s\n", bad_line);
	assert_true(parse(text) >= 1);
	assert_true(cfg.guests[0].valid);
	if (cfg.nr_guests > 1)
		assert_false(cfg.guests[1].valid);
	if (!strstr(cfg.last_error, "line 2") || !strstr(cfg.last_error, needle))
		fail_msg("error '%s' should name line 2 and '%s'", cfg.last_error, needle);
}

static void test_malformed(void **state)
{
	expect_bad("guest x memory=3M cpu=2 image=cpu", "multiple of 2M");
	expect_bad("guest x memory=lots cpu=2 image=cpu", "not a size");
	expect_bad("guest x memory=1M cpu=2 image=cpu", "between 2M");
	expect_bad("guest x memory=128G cpu=2 image=cpu", "between 2M");
	expect_bad("guest x memory=2M cpu=0 image=cpu", "cpu 0");
	expect_bad("guest x memory=2M cpu=abc image=cpu", "not a number");
	expect_bad("guest x memory=2M cpu=64 image=cpu", "out of range");
	expect_bad("guest x memory=2M cpu=1 image=cpu", "already given");
	expect_bad("guest good memory=2M cpu=2 image=cpu", "already defined");
	expect_bad("guest x memory=2M cpu=2", "lacks image=");
	expect_bad("guest x cpu=2 image=cpu", "lacks memory=");
	expect_bad("guest x memory=2M image=cpu", "lacks cpu=");
	expect_bad("guest x memory=2M cpu=2 image=../etc", "not a valid image");
	expect_bad("guest x memory=2M cpu=2 image=cpu colour=red", "unknown key 'colour'");
	expect_bad("guest x memory=2M cpu=2 image=cpu memory", "not key=value");
	expect_bad("guest x memory= cpu=2 image=cpu", "has no value");
	expect_bad("guest x memory=2M cpu=2 image=cpu device=1:2", "device '1:2'");
	expect_bad("guest x memory=2M cpu=2 image=cpu device=01:20.0", "device");
	expect_bad("guest x memory=2M cpu=2 image=cpu device=01:00.8", "device");
	expect_bad("guest x memory=2M cpu=2 image=cpu device=01:00.0/vf", "device");
	expect_bad("guest x memory=2M cpu=2 image=cpu device=01:00.0/vf999", "device");
	expect_bad("guest x memory=2M cpu=2 image=cpu device=10000:01:00.0", "device");
	expect_bad("guest x memory=2M cpu=2 image=cpu watchdog=10", "watchdog '10' is not a time");
	expect_bad("guest x memory=2M cpu=2 image=cpu watchdog=5m", "watchdog '5m' is not a time");
	expect_bad("guest x memory=2M cpu=2 image=cpu watchdog=soon", "not a time");
	expect_bad("guest x memory=2M cpu=2 image=cpu watchdog=-1s", "not a time");
	expect_bad("guest x memory=2M cpu=2 image=cpu watchdog=0s", "between 1ms and 60s");
	expect_bad("guest x memory=2M cpu=2 image=cpu watchdog=61s", "between 1ms and 60s");
	expect_bad("guest x memory=2M cpu=2 image=cpu watchdog=99999999999999999999ms",
		   "not a time");
	expect_bad("guest bad!name memory=2M cpu=2 image=cpu", "name 'bad!name' is invalid");
	expect_bad("guest", "without a name");
	expect_bad("guest memory=2M cpu=2 image=cpu", "without a name");
	expect_bad("vm x memory=2M", "unknown statement 'vm'");
	expect_bad(
		"guest x memory=2M cpu=2 image=cpu a=1 b=1 c=1 d=1 e=1 f=1 g=1 h=1 i=1 j=1 k=1 l=1",
		"too many fields");
	expect_bad("guest x memory=2M cpu=2 "
		   "image=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		   "not a valid image");
}

static void test_linux_guest(void **state)
{
	assert_int_equal(
		parse("guest web memory=256M cpu=1 kernel=vmlinuz initrd=initrd.gz "
		      "cmdline=\"console=ttyS0,115200 quiet; panic=-1\" device=01:00.0/vf0"),
		0);
	assert_int_equal(cfg.nr_guests, 1);
	assert_true(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].kernel, "vmlinuz");
	assert_string_equal(cfg.guests[0].initrd, "initrd.gz");
	assert_string_equal(cfg.guests[0].cmdline, "console=ttyS0,115200 quiet; panic=-1");
	assert_string_equal(cfg.guests[0].image, "");
	assert_int_equal(cfg.guests[0].nr_devices, 1);
	/* the command-line form: commas separate fields, quotes keep them */
	assert_int_equal(parse("guest,a,memory=128M,cpu=1,kernel=bz,cmdline=\"a,b c\";guest,b,"
			       "memory=2M,cpu=2,image=cpu"),
			 0);
	assert_int_equal(cfg.nr_guests, 2);
	assert_string_equal(cfg.guests[0].cmdline, "a,b c");
	assert_true(cfg.guests[1].valid);
	/* no initrd, no command line */
	assert_int_equal(parse("guest k memory=64M cpu=1 kernel=vmlinuz-6.1.0"), 0);
	assert_true(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].cmdline, "");
	/* a moat image takes a command line too (HC_GET_CMDLINE), never an initrd */
	assert_int_equal(parse("guest p memory=16M cpu=1 image=cpu cmdline=\"vf.ip=10.16.0.3 "
			       "vf.echoes=100\" device=01:00.0/vf1"),
			 0);
	assert_true(cfg.guests[0].valid);
	assert_string_equal(cfg.guests[0].cmdline, "vf.ip=10.16.0.3 vf.echoes=100");
	assert_string_equal(cfg.guests[0].image, "cpu");
}

static void test_linux_guest_malformed(void **state)
{
	char line[700];

	expect_bad("guest x memory=64M cpu=2 image=cpu kernel=vmlinuz", "both image= and kernel=");
	expect_bad("guest x memory=64M cpu=2 initrd=i.gz", "lacks image= (or kernel=");
	expect_bad("guest x memory=64M cpu=2 image=cpu initrd=i.gz", "goes with kernel=");
	expect_bad("guest x memory=64M cpu=2 kernel=.hidden", "not a valid file name");
	expect_bad("guest x memory=64M cpu=2 kernel=a/b", "not a valid file name");
	expect_bad("guest x memory=64M cpu=2 kernel=k initrd=../i", "not a valid file name");
	expect_bad("guest x memory=64M cpu=2 kernel=k cmdline=\"console=ttyS0", "no closing");
	expect_bad("guest x memory=64M cpu=2 kernel=k cmdline=\"a\tb\"", "not printable");
	memset(line, 0, sizeof(line));
	strcpy(line, "guest x memory=64M cpu=2 kernel=k cmdline=\"");
	memset(line + strlen(line), 'a', 600);
	strcat(line, "\"");
	expect_bad(line, "longer than 511");
	memset(line, 'b', 699);
	line[699] = 0;
	memcpy(line, "guest x cmdline=\"", 17);
	assert_int_equal(parse(line), 1);
	memset(line, 0, sizeof(line));
}

/* cpu= names the CPUs of a guest's vCPUs: one, a range, a list (commas continue it), in the
 * order given; several only for an OS guest (kernel=), none shared between guests. */
static void test_cpu_lists(void **state)
{
	assert_int_equal(parse("guest a memory=64M cpu=1-2 kernel=vmlinuz\n"
			       "guest b memory=64M cpu=3,5 kernel=vmlinuz\n"
			       "guest c memory=2M cpu=4 image=cpu\n"
			       "guest d memory=64M cpu=\"9,7-8\" kernel=vmlinuz\n"
			       "guest e memory=64M cpu=6 10 kernel=vmlinuz"),
			 0);
	assert_int_equal(cfg.guests[0].nr_cpus, 2);
	assert_int_equal(cfg.guests[0].cpus[0], 1);
	assert_int_equal(cfg.guests[0].cpus[1], 2);
	assert_int_equal(cfg.guests[1].nr_cpus, 2);
	assert_int_equal(cfg.guests[1].cpus[0], 3);
	assert_int_equal(cfg.guests[1].cpus[1], 5);
	assert_int_equal(cfg.guests[2].nr_cpus, 1);
	assert_int_equal(cfg.guests[2].cpus[0], 4);
	assert_int_equal(cfg.guests[3].nr_cpus, 3);
	assert_int_equal(cfg.guests[3].cpus[0], 9);
	assert_int_equal(cfg.guests[3].cpus[1], 7);
	assert_int_equal(cfg.guests[3].cpus[2], 8);
	assert_int_equal(cfg.guests[4].nr_cpus, 2);
	assert_int_equal(cfg.guests[4].cpus[1], 10);
	for (u32 i = 0; i < cfg.nr_guests; i++)
		assert_true(cfg.guests[i].valid);
	/* the command-line form: the list runs on over the commas */
	assert_int_equal(parse("guest,w,memory=64M,cpu=2,3,kernel=bz;guest,x,memory=2M,cpu=4,"
			       "image=cpu"),
			 0);
	assert_int_equal(cfg.guests[0].nr_cpus, 2);
	assert_int_equal(cfg.guests[0].cpus[1], 3);
	assert_int_equal(cfg.guests[1].nr_cpus, 1);
	assert_int_equal(cfg.guests[1].cpus[0], 4);
	/* the most vCPUs a guest may have */
	assert_int_equal(parse("guest a memory=64M cpu=1-4 kernel=k"), 0);
	assert_int_equal(cfg.guests[0].nr_cpus, CFG_MAX_VCPUS);
}

static void test_cpu_lists_malformed(void **state)
{
	expect_bad("guest x memory=64M cpu=2-3 image=cpu", "only an OS guest (kernel=)");
	expect_bad("guest x memory=64M cpu=2,4 image=cpu", "has 2 CPUs");
	expect_bad("guest x memory=64M cpu=1-2 kernel=k", "cpu 1 is already given to guest 'good'");
	expect_bad("guest x memory=64M cpu=3,1 kernel=k", "cpu 1 is already given");
	expect_bad("guest x memory=64M cpu=2-6 kernel=k", "more than 4 CPUs");
	expect_bad("guest x memory=64M cpu=2,3,4,5,6 kernel=k", "more than 4 CPUs");
	expect_bad("guest x memory=64M cpu=2-63 kernel=k", "more than 4 CPUs");
	expect_bad("guest x memory=64M cpu=2,2 kernel=k", "cpu 2 is named twice");
	expect_bad("guest x memory=64M cpu=2-3,3 kernel=k", "cpu 3 is named twice");
	expect_bad("guest x memory=64M cpu=3-2 kernel=k", "runs backwards");
	expect_bad("guest x memory=64M cpu=0-2 kernel=k", "cpu 0 belongs");
	expect_bad("guest x memory=64M cpu=2,0 kernel=k", "cpu 0 belongs");
	expect_bad("guest x memory=64M cpu=2-64 kernel=k", "out of range");
	expect_bad("guest x memory=64M cpu=2- kernel=k", "not a number, a list or a range");
	expect_bad("guest x memory=64M cpu=2x kernel=k", "not a number, a list or a range");
	expect_bad("guest x memory=64M cpu=2 3x kernel=k", "not a number, a list or a range");
	expect_bad("guest x memory=64M cpu=\"2,\" kernel=k", "not a number, a list or a range");
	expect_bad("guest x memory=64M cpu=\"2;3\" kernel=k", "not a number, a list or a range");
	/* a guest whose line is bad takes no CPU from the guests after it */
	assert_int_equal(parse("guest a memory=64M cpu=2-3 image=cpu\n"
			       "guest b memory=64M cpu=3 image=cpu"),
			 1);
	assert_false(cfg.guests[0].valid);
	assert_true(cfg.guests[1].valid);
}

static void test_line_too_long(void **state)
{
	static char line[1100];

	memset(line, ' ', sizeof(line) - 1);
	memcpy(line, "guest x", 7);
	assert_int_equal(parse(line), 1);
	assert_non_null(strstr(cfg.last_error, "longer than 1023"));
}

/* The no-exit watchdog: off unless the line asks for it, in seconds or milliseconds. */
static void test_watchdog(void **state)
{
	assert_int_equal(parse("guest a memory=2M cpu=1 image=cpu\n"
			       "guest b memory=2M cpu=2 image=cpu watchdog=10s\n"
			       "guest c memory=2M cpu=3 image=cpu watchdog=250ms\n"
			       "guest d memory=2M cpu=4 image=cpu watchdog=off\n"
			       "guest e memory=2M cpu=5 image=cpu watchdog=60s\n"
			       "guest f memory=2M cpu=6 image=cpu watchdog=1ms"),
			 0);
	assert_int_equal(cfg.guests[0].watchdog_us, 0);
	assert_int_equal(cfg.guests[1].watchdog_us, 10000000);
	assert_int_equal(cfg.guests[2].watchdog_us, 250000);
	assert_int_equal(cfg.guests[3].watchdog_us, 0);
	assert_int_equal(cfg.guests[4].watchdog_us, 60000000);
	assert_int_equal(cfg.guests[5].watchdog_us, 1000);
	for (u32 i = 0; i < cfg.nr_guests; i++)
		assert_true(cfg.guests[i].valid);
}

static void test_too_many_guests(void **state)
{
	char text[1024] = "";

	for (int i = 0; i < CFG_MAX_GUESTS + 1; i++) {
		char l[80];

		snprintf(l, sizeof(l), "guest g%d memory=2M cpu=%d image=cpu\n", i, i + 1);
		strcat(text, l);
	}
	assert_int_equal(parse(text), 1);
	assert_int_equal(cfg.nr_guests, CFG_MAX_GUESTS);
	assert_non_null(strstr(cfg.last_error, "line 9"));
}

static void test_binary_garbage(void **state)
{
	static const char junk[] = "\x01\x02guest\xff\xfe memory=\x80";

	assert_true(config_parse(&cfg, "junk", junk, sizeof(junk) - 1) >= 1);
	for (u32 i = 0; i < cfg.nr_guests; i++)
		assert_false(cfg.guests[i].valid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtin_config),
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_cmdline_form),
		cmocka_unit_test(test_comments_and_blank_lines),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_watchdog),
		cmocka_unit_test(test_too_many_guests),
		cmocka_unit_test(test_linux_guest),
		cmocka_unit_test(test_linux_guest_malformed),
		cmocka_unit_test(test_cpu_lists),
		cmocka_unit_test(test_cpu_lists_malformed),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_binary_garbage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
