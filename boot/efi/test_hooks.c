/* The product loader's test hooks: none (boot/efi/loader.h, struct efi_test_hooks). Alone in
 * its file: a user in the same file could fold the NULL that the test image replaces. */
#include "boot/efi/loader.h"

const struct efi_test_hooks *const efi_test_hooks __attribute__((weak)) = NULL;
