#ifndef CORE_END_H
#define CORE_END_H

/* "qemu" or "bochs" when moat recognises the emulator it runs in, else NULL. */
const char *emulator_name(void);
const char *exit_method(void);
void moat_finish(void) __attribute__((noreturn));

#endif
