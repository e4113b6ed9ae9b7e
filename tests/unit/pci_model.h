/* A PCI configuration-space model for host tests: a 4 KiB byte array per function with a
 * write mask (what software may change), bridges that route to their secondary bus, and
 * SR-IOV PFs whose VFs answer once VF Enable is set, in one or several PCI segments. The contents
 * follow what QEMU 10's q35 host bridge, pcie-root-port, x3130 switch ports, igb (82576) and edu
 * expose. */
#ifndef TESTS_PCI_MODEL_H
#define TESTS_PCI_MODEL_H

#include <moat/types.h>

#define MODEL_MAX_FNS 32

struct model_fn {
	bool used;
	u16 seg;     /* PCI segment (a root function's, or its bridge's) */
	int parent;  /* index of the bridge above, -1 on the root bus */
	u8 root_bus; /* bus number when parent == -1 */
	u8 dev, fn;
	u8 cfg[4096];
	u8 wmask[4096];
	u16 sriov_pos;		   /* PFs: SR-IOV capability offset */
	bool sized_with_decode_on; /* a BAR saw all ones while decode was on */
};

struct model {
	struct model_fn fn[MODEL_MAX_FNS];
	u8 vf_cfg[4096];       /* what every VF of an igb PF shows */
	unsigned writes;       /* config writes seen */
	u32 segments;	       /* bit n: segment n has config space (segment 0 after reset) */
	u16 build_seg;	       /* segment the next root-bus function is built in */
	unsigned seg_reads[4]; /* config reads per segment (0-3) */
};

extern struct model model;

void model_reset(void);
/* Functions built from now on (on a root bus) live in `seg`, which gets config space. */
void model_segment(u16 seg);
/* Installs the model as moat's config backend (4 KiB per function, segments of model.segments). */
void model_install(void);

/* Builders; each returns the function's index. */
int model_host_bridge(void);
int model_root_port(int parent, u8 dev, u8 sec, u8 sub);
int model_switch_up(int parent, u8 sec, u8 sub);
int model_switch_down(int parent, u8 dev, u8 sec, u8 sub);
int model_igb(int parent, u8 bus, u8 dev);
int model_edu(u8 dev);

/* Raw helpers. After changing model.fn[] (cfg, root_bus, ...) other than through these,
 * call model_changed(): the RID lookup is cached. */
void model_changed(void);
void model_set(int idx, u16 off, unsigned width, u32 val);
u32 model_get(int idx, u16 off, unsigned width);
/* A BAR of `size` bytes at reg (0x10 + 4n), type bits and address; 64-bit uses two regs. */
void model_bar(int idx, u16 reg, u64 size, u32 type_bits, u64 addr);
/* Sets a bridge's memory (pref = prefetchable) window; base > limit closes it. */
void model_window(int idx, bool pref, u64 base, u64 limit);
/* The bus a function currently answers on (-1 when unreachable). */
int model_bus_of(int idx);

#endif
