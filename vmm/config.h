/* Guest configuration: a small line-based text format (docs/configuration.md).
 *
 *   # two test guests and an attacker
 *   guest alpha memory=16M cpu=1 image=cpu
 *   guest beta  memory=16M cpu=2 image=cpu device=01:00.0/vf1
 *
 *   guest web memory=256M cpu=3-4 kernel=vmlinuz initrd=initrd.gz cmdline="console=ttyS0"
 *
 * Fields are separated by blanks or commas, lines by newlines or ';' (so the whole text
 * fits on the command line as config=guest,alpha,memory=16M,cpu=1,image=cpu;...); a value
 * in double quotes keeps its blanks, commas and semicolons. */
#ifndef VMM_CONFIG_H
#define VMM_CONFIG_H

#include <moat/types.h>

#define CFG_MAX_GUESTS 8
#define CFG_NAME_MAX 24
#define CFG_IMAGE_MAX 32
#define CFG_CMDLINE_MAX 512 /* a Linux guest's command line, without the NUL */
#define CFG_MAX_DEVICES 4
#define CFG_MAX_VCPUS 4 /* vCPUs of one guest, each on its own CPU */
#define CFG_MIN_MEMORY (2 * MiB)
#define CFG_MAX_MEMORY (64 * GiB)
/* The no-exit watchdog's longest budget: the SVM watchdog's one-shot APIC timer count
 * covers about 68 s at QEMU's 1 GHz APIC clock. */
#define CFG_MAX_WATCHDOG_US (60 * 1000 * 1000ULL)

enum cfg_device_kind { CFG_DEV_BDF = 1, CFG_DEV_VF = 2 };

struct cfg_device {
	u8 kind; /* enum cfg_device_kind */
	u16 segment;
	u8 bus, dev, fn; /* the device, or for CFG_DEV_VF the physical function */
	u16 vf;		 /* VF index (CFG_DEV_VF) */
};

struct guest_config {
	char name[CFG_NAME_MAX];
	u64 memory;
	/* cpu=: the physical CPUs of its vCPUs, vCPU i on cpus[i] (the boot vCPU first); a
	 * moat image runs on one, an OS guest (kernel=) on up to CFG_MAX_VCPUS */
	u32 cpus[CFG_MAX_VCPUS];
	u32 nr_cpus;
	char image[CFG_IMAGE_MAX];
	/* A Linux guest (kernel= instead of image=): its bzImage, initrd and command line. */
	char kernel[CFG_IMAGE_MAX];
	char initrd[CFG_IMAGE_MAX];
	char cmdline[CFG_CMDLINE_MAX];
	u32 nr_devices;
	struct cfg_device devices[CFG_MAX_DEVICES];
	u64 watchdog_us; /* watchdog=: longest run without an exit before the guest is stopped;
			  * 0 = off (the default) */
	u32 line;	 /* where it was defined */
	bool valid;
};

struct vmm_config {
	u32 nr_guests;
	struct guest_config guests[CFG_MAX_GUESTS];
	u32 nr_errors;
	char last_error[160];
};

/* The built-in demo configuration, derived from the machine: alpha, beta and the attacker
 * (in that order, as many as there are CPUs), guest i on cpus[i]; with pf each also gets VF
 * i of it (the caller passes one only when all three guests fit and the PF has their VFs,
 * so that alpha and beta find each other). Returns the text's length. */
#define CFG_BUILTIN_GUESTS 3u
size_t config_builtin(char *buf, size_t size, const u32 *cpus, unsigned nr_cpus,
		      const struct cfg_device *pf);

/* Parses `len` bytes of `text` into cfg. Every bad line is logged as
 * "config: <source> line N: <what is wrong>" and its guest is marked invalid (it stays in
 * the list so that it can be reported as not started). Returns the number of errors. */
u32 config_parse(struct vmm_config *cfg, const char *source, const char *text, size_t len);
/* "01:00.0", "0000:01:00.0/vf2" -> "0000:01:00.0/vf2" */
void config_device_str(const struct cfg_device *d, char *buf, size_t size);

#endif
