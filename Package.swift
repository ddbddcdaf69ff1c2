// swift-tools-version:6.0
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "mailaudit",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mailaudit", targets: ["mailaudit"]),
        .library(name: "MailAudit", targets: ["MailAudit"]),
        // The parsers and the config reader (with the modules they need, SMTP's included) and none of the
        // history stores, for the libFuzzer targets of fuzz/Package.swift (a package of its own).
        .library(name: "MailAuditParsers", targets: ["MailAuditCore", "MailAuditRecords", "MailAuditDNS", "MailAuditTLS", "MailAuditConfig"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        // Run history: SQLite (embedded, the default) and PostgreSQL (one history for several machines).
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.21.0"),
        // Test-only: reads the RFC 7208 conformance suite (YAML).
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.0"),
    ],
    targets: [
        .systemLibrary(name: "CLDNS", pkgConfig: "ldns", providers: [.apt(["libldns-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),

        // Values, findings and the resolver protocol. No I/O, no C.
        .target(name: "MailAuditCore", swiftSettings: strict),
        // Pure parsers and evaluators per standard (SPF/, later DMARC/, DKIM/). No C modules, no sockets:
        // lookups go through the Resolver protocol only.
        .target(name: "MailAuditRecords", dependencies: ["MailAuditCore"], swiftSettings: strict),
        // The only user of CLDNS: the ldns codec, UDP/TCP transports, the caching resolver.
        .target(
            name: "MailAuditDNS",
            dependencies: [
                "MailAuditCore", "CLDNS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        // The only user of COpenSSL: TLS over a socket, certificate facts, public keys.
        .target(name: "MailAuditTLS", dependencies: ["MailAuditCore", "COpenSSL"], swiftSettings: strict),
        // The SMTP session (EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA) over plain sockets and MailAuditTLS.
        // Replies, capabilities and the reply-code table are pure values in MailAuditRecords/SMTP.
        .target(name: "MailAuditSMTP", dependencies: ["MailAuditCore", "MailAuditRecords", "MailAuditTLS"], swiftSettings: strict),
        // The scheduled run's configuration (mailaudit.toml) read into a value. Apart from MailAudit so
        // that the config fuzz target builds without the history stores' dependencies.
        .target(
            name: "MailAuditConfig", dependencies: ["MailAuditCore", "MailAuditRecords", "MailAuditDNS", "MailAuditSMTP"],
            swiftSettings: strict),
        // Where runs are kept: one store protocol, SQLite through GRDB and PostgreSQL through postgres-nio.
        .target(
            name: "MailAuditHistory",
            dependencies: [
                "MailAuditCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strict),
        // Checks, the auditor, the renderers, relay diagnosis, and scheduled runs (diff, report mail; the config is MailAuditConfig).
        .target(
            name: "MailAudit",
            dependencies: [
                "MailAuditCore", "MailAuditRecords", "MailAuditDNS", "MailAuditTLS", "MailAuditSMTP", "MailAuditHistory",
                "MailAuditConfig",
            ],
            swiftSettings: strict),
        // Test doubles and local server launchers, shipped beside the core.
        .target(
            name: "MailAuditTesting",
            dependencies: [
                "MailAuditCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        // Report fixtures shared by the unit and the integration tests.
        .target(name: "MailAuditFixtures", dependencies: ["MailAudit", "MailAuditCore"], swiftSettings: strict),
        .executableTarget(
            name: "mailaudit",
            dependencies: ["MailAudit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: strict),
        .executableTarget(
            name: "mailaudit-benchmark",
            dependencies: ["MailAudit", "MailAuditTesting"],
            path: "benchmarks/Sources/mailaudit-benchmark",
            swiftSettings: strict),
        // The offline demo: NSD serving examples/zones, a test CA and a Postfix lab, then the real binary.
        .executableTarget(
            name: "mailaudit-demo",
            dependencies: ["MailAuditTesting"],
            path: "examples/Sources/mailaudit-demo",
            swiftSettings: strict),
        .testTarget(
            name: "MailAuditTests",
            dependencies: ["MailAudit", "MailAuditHistory", "MailAuditTesting", "MailAuditFixtures", .product(name: "Yams", package: "Yams")],
            exclude: ["Render/Golden"],
            resources: [.copy("SPF/Suite"), .copy("TOML/toml-test")],
            swiftSettings: strict),
        .testTarget(
            name: "IntegrationTests",
            dependencies: ["MailAudit", "MailAuditHistory", "MailAuditTesting", "MailAuditFixtures", "mailaudit"],
            resources: [.copy("Zones")],
            swiftSettings: strict),
    ],
    swiftLanguageModes: [.v6]
)
