#ifndef MAILAUDIT_FUZZ_DRIVER_H
#define MAILAUDIT_FUZZ_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver (its command line: corpus directories, -runs=, -max_total_time=, ...)
/// with `test` as the fuzz target. The executable's own main calls this, because SwiftPM gives
/// every executable a main of its own (it renames the module's entry point and links
/// --defsym main=MODULE_main), so libFuzzer's main cannot be used.
int mailaudit_fuzz_run(int argc, char **argv, int (*test)(const uint8_t *data, size_t size));

#endif
