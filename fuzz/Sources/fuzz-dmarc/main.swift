import CFuzzDriver
#if canImport(Glibc)
import Glibc
#endif

// libFuzzer's driver, with this target's fuzz function (see CFuzzDriver.h).
exit(mailaudit_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in
    guard let data else { return 0 }
    return fuzz(data, size)
})
