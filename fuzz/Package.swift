// swift-tools-version:6.0
// libFuzzer targets for mailaudit's parsers, one executable each. A package of its own, so the
// main package's `swift build` and `swift test` never build them; it reaches the parsers through
// the main package's library products. Built and run by scripts/fuzz (see docs/fuzzing.md):
//
//   swift build -c release --package-path fuzz --build-path .build-fuzz \
//     -Xswiftc -sanitize=fuzzer,address --product fuzz-spf
//
// Each target's main.swift runs libFuzzer's driver (LLVMFuzzerRunDriver, through CFuzzDriver) rather
// than relying on libFuzzer's main: SwiftPM links every executable with a main of its own.
import PackageDescription

/// Each target: its name (fuzz-NAME, corpus in corpus/NAME) and the mailaudit products it reads.
let targets: [(name: String, products: [String])] = [
    ("dns-wire", ["MailAuditParsers"]),
    ("spf", ["MailAuditParsers"]),
    ("dmarc", ["MailAuditParsers"]),
    ("dkim", ["MailAuditParsers"]),
    ("smtp", ["MailAuditParsers"]),
    ("certificate", ["MailAuditParsers"]),
    ("mta-sts", ["MailAuditParsers"]),
    ("config", ["MailAuditParsers"]),
    ("zone-file", ["MailAuditParsers"]),
]

let package = Package(
    name: "mailaudit-fuzz",
    platforms: [.macOS(.v15)],
    products: targets.map { .executable(name: "fuzz-\($0.name)", targets: ["fuzz-\($0.name)"]) },
    dependencies: [.package(name: "mailaudit", path: "..")],
    targets: [.target(name: "CFuzzDriver")] + targets.map { target in
        .executableTarget(
            name: "fuzz-\(target.name)",
            dependencies: ["CFuzzDriver"] + target.products.map { .product(name: $0, package: "mailaudit") },
            swiftSettings: [.enableUpcomingFeature("InternalImportsByDefault")])
    },
    swiftLanguageModes: [.v6]
)
