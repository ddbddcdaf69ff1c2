import MailAuditCore
import Testing
@testable import MailAuditDNS

@Suite struct NameserverTests {
    @Test(arguments: [
        ("127.0.0.1", "127.0.0.1", 53),
        ("127.0.0.1:5353", "127.0.0.1", 5353),
        (" 192.0.2.53:1 ", "192.0.2.53", 1),
        ("::1", "::1", 53),
        ("[::1]:5353", "::1", 5353),
        ("[::1]", "::1", 53),
        ("2001:db8::53", "2001:db8::53", 53),
        ("[2001:DB8::53]:65535", "2001:db8::53", 65535),
    ])
    func parses(input: String, address: String, port: Int) throws {
        let server = try Nameserver(parsing: input)
        #expect(server.address == IPAddress(address))
        #expect(server.port == port)
        #expect(try Nameserver(parsing: server.description) == server)
    }

    @Test(arguments: [
        ("", NameserverError.empty, "empty"),
        ("dns.example.com", .notAnAddress("dns.example.com"), "a host name"),
        ("localhost:53", .notAnAddress("localhost:53"), "a host name with a port"),
        ("127.0.0.1:0", .badPort("127.0.0.1:0"), "port 0"),
        ("127.0.0.1:65536", .badPort("127.0.0.1:65536"), "a port too large"),
        ("127.0.0.1:", .badPort("127.0.0.1:"), "an empty port"),
        ("127.0.0.1:dns", .badPort("127.0.0.1:dns"), "a service name"),
        ("127.0.0.1:-1", .badPort("127.0.0.1:-1"), "a negative port"),
        ("[::1", .unclosedBracket("[::1"), "an unclosed bracket"),
        ("[::1]x", .notAnAddress("[::1]x"), "junk after the bracket"),
        ("[127.0.0.1]:53", .notAnAddress("[127.0.0.1]:53"), "IPv4 in brackets"),
        ("[::1]:99999", .badPort("[::1]:99999"), "an IPv6 port too large"),
        ("1.2.3", .notAnAddress("1.2.3"), "a short IPv4 address"),
        ("fe80::1%eth0", .notAnAddress("fe80::1%eth0"), "a scoped address"),
    ] as [(String, NameserverError, String)])
    func rejects(input: String, error: NameserverError, reason: String) {
        #expect(throws: error, "\(reason)") { try Nameserver(parsing: input) }
    }

    @Test func errorsSayThatAnIPLiteralIsRequired() {
        #expect(NameserverError.notAnAddress("dns.example").description.contains("host names are not accepted"))
    }

    @Test(arguments: [("127.0.0.1", 53, "127.0.0.1"), ("127.0.0.1", 5353, "127.0.0.1:5353"), ("::1", 53, "::1"), ("::1", 5353, "[::1]:5353")])
    func describes(address: String, port: Int, expected: String) throws {
        #expect(Nameserver(address: try #require(IPAddress(address)), port: port).description == expected)
    }
}

@Suite struct ResolvConfTests {
    @Test func readsNameserversAndOptions() throws {
        let conf = try ResolvConf(parsing: """
            # generated
            search example.com
            nameserver 127.0.0.1
            nameserver   ::1   # loopback
            ; nameserver 192.0.2.1
            nameserver resolver.example
            nameserver 127.0.0.53:5353
            options ndots:1 timeout:1 attempts:4 rotate
            """)
        #expect(conf.nameservers.map(\.description) == ["127.0.0.1", "::1", "127.0.0.53:5353"])
        #expect(conf.timeout == .seconds(1))
        #expect(conf.attempts == 4)
        #expect(conf.skipped == ["resolver.example"])
    }

    @Test func optionsAreOptional() throws {
        let conf = try ResolvConf(parsing: "nameserver 127.0.0.1\noptions timeout:x attempts:0\n")
        #expect(conf.timeout == nil)
        #expect(conf.attempts == nil)
    }

    @Test(arguments: [
        ("", ResolvConfError.noNameserver(skipped: []), "an empty file"),
        ("search example.com\n# nameserver 127.0.0.1\n", .noNameserver(skipped: []), "only a commented nameserver"),
        ("nameserver\n", .noNameserver(skipped: []), "a nameserver line without an address"),
        ("nameserver dns.example\n", .noNameserver(skipped: ["dns.example"]), "only a host name"),
    ] as [(String, ResolvConfError, String)])
    func rejectsFilesWithoutNameservers(text: String, error: ResolvConfError, reason: String) {
        #expect(throws: error, "\(reason)") { try ResolvConf(parsing: text) }
    }

    @Test func reportsAnUnreadableFile() {
        #expect(throws: ResolvConfError.unreadable(path: "/nonexistent/resolv.conf")) {
            try ResolvConf.load(path: "/nonexistent/resolv.conf")
        }
    }
}
