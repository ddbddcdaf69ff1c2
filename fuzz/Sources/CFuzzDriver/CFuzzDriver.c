#include "CFuzzDriver.h"

// In libclang_rt.fuzzer, linked by -sanitize=fuzzer (LLVM's "using libFuzzer as a library").
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test)(const uint8_t *data, size_t size));

int mailaudit_fuzz_run(int argc, char **argv, int (*test)(const uint8_t *data, size_t size)) {
    return LLVMFuzzerRunDriver(&argc, &argv, test);
}
