#ifndef CORE_EXIT_H
#define CORE_EXIT_H

const char *exit_method(void);
void moat_finish(void) __attribute__((noreturn));

#endif
