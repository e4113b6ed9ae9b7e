/* The attacker guest's suites, one file per target. */
#ifndef GUESTS_ATTACKER_ATTACKER_H
#define GUESTS_ATTACKER_ATTACKER_H

#include "guests/lib/guest.h"

/* guests/attacker/cfg_attacks.c */
void attack_cfg_foreign(void);
void attack_bar_remap(void);

/* guests/attacker/vf_attacks.c */
void attack_dma_outside_ram(void);
void attack_dma_hypervisor_hpa(void);
void attack_mac_spoof(void);
void attack_mac_other_nic(void);
void attack_tx_mac_spoof(void);
void attack_mailbox_flood(void);
void attack_flr_storm(void);
void attack_bar_decode_off(void);
void attack_bar_flr_window(void);
void attack_owner_state_left(void);
void attack_msix_forge_remappable(void);
void attack_msix_forge_compat(void);

/* guests/attacker/cpu_attacks.c */
void attack_cpu_insns(void);
void attack_cpu_leftovers(void);

/* guests/attacker/ring3.c */
void attack_ring3(void);

#endif
