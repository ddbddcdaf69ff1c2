import MailAuditCore
import MailAuditRecords
import Testing

@Suite("SPF record parser")
struct SPFParserTests {
    /// (record, canonical form, why it is valid).
    static let goodRecords: [(String, String, String)] = [
        ("v=spf1", "v=spf1", "an empty record is valid and evaluates to neutral"),
        ("v=spf1 -all", "v=spf1 -all", "the simplest policy"),
        ("V=SPF1 +ALL", "v=spf1 all", "version and names are case-insensitive; '+' is the default qualifier"),
        ("v=spf1  a   -all ", "v=spf1 a -all", "terms are separated by one or more spaces; trailing spaces are allowed"),
        ("v=spf1 a:example.com/24//64 -all", "v=spf1 a:example.com/24//64 -all", "dual CIDR on a"),
        ("v=spf1 a/24 mx//64 ~all", "v=spf1 a/24 mx//64 ~all", "CIDR without a domain"),
        ("v=spf1 mx:mail.example.com/0//0 ?all", "v=spf1 mx:mail.example.com/0//0 ?all", "zero lengths are allowed"),
        ("v=spf1 ip4:192.0.2.0/24 ip4:0.0.0.0/0 ip6:2001:DB8::/32 -all",
         "v=spf1 ip4:192.0.2.0/24 ip4:0.0.0.0/0 ip6:2001:db8::/32 -all", "ip6 is shown in RFC 5952 form"),
        ("v=spf1 ip6:::FFFF:1.2.3.4", "v=spf1 ip6:::ffff:1.2.3.4", "an IPv4-mapped ip6 network"),
        ("v=spf1 ip4:1.2.3.4/32 ip6:::1/128", "v=spf1 ip4:1.2.3.4/32 ip6:::1/128", "full-length CIDR is kept as written"),
        ("v=spf1 include:_spf.example.net -all", "v=spf1 include:_spf.example.net -all", "include"),
        ("v=spf1 ptr ptr:example.com -all", "v=spf1 ptr ptr:example.com -all", "ptr with and without a domain"),
        ("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all", "v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d} -all", "macros (RFC 7208 §7.4)"),
        ("v=spf1 exists:%{d}", "v=spf1 exists:%{d}", "a domain-spec may end in a macro"),
        ("v=spf1 redirect=_spf.example.com", "v=spf1 redirect=_spf.example.com", "redirect"),
        ("v=spf1 Redirect=%{d}.d.spf.example.com.", "v=spf1 redirect=%{d}.d.spf.example.com.",
         "modifier names are case-insensitive; a trailing dot is allowed"),
        ("v=spf1 -all EXP=explain._spf.%{d}", "v=spf1 -all exp=explain._spf.%{d}", "exp"),
        ("v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all", "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",
         "an unknown modifier is kept"),
        ("v=spf1 Foo=%{L}%%%_%- -all", "v=spf1 foo=%{L}%%%_%- -all", "unknown modifier values are macro-strings"),
        ("v=spf1 default=+ foo=", "v=spf1 default=+ foo=", "an unknown modifier's value may be anything visible, or empty"),
        ("v=spf1 a:foo:bar/baz.example.com", "v=spf1 a:foo:bar/baz.example.com", "':' and '/' may appear in a domain-spec"),
        ("v=spf1 a:foo.example.xn--zckzah -all", "v=spf1 a:foo.example.xn--zckzah -all", "a top label may contain dashes"),
        ("v=spf1 a:mail.example...com -all", "v=spf1 a:mail.example...com -all",
         "empty labels are valid domain-spec syntax; evaluation treats the name as non-existent"),
        ("v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all",
         "v=spf1 a:macro%%percent%_%_space%-url-space.example.com -all", "%%, %_ and %- escapes"),
        ("v=spf1 redirect=t5.example.com ~all", "v=spf1 redirect=t5.example.com ~all",
         "redirect with all is valid; the redirect is never used (RFC 7208 §5.1)"),
    ]

    @Test("valid records parse and render canonically", arguments: goodRecords)
    func good(_ text: String, _ canonical: String, _ reason: String) throws {
        let record = try SPFRecord(parsing: text)
        #expect(record.description == canonical, "\(reason)")
        #expect(try SPFRecord(parsing: record.description) == record, "round trip: \(reason)")
    }

    /// (record, 1-based term index, expected reason, why it is invalid).
    static let badRecords: [(String, Int, SPFParseError.Reason, String)] = [
        ("v=spf10 -all", 0, .notSPFVersion, "the version must be followed by a space or the end"),
        ("spf1 -all", 0, .notSPFVersion, "no version tag"),
        (" v=spf1 -all", 0, .notSPFVersion, "the record must start with the version"),
        ("v=spf1 ip4:1.2.3.4 -all moo", 3, .unknownMechanism("moo"), "errors after all are still errors (RFC 7208 §4.6)"),
        ("v=spf1 moo.cow/far_out=man:dog/cat", 1, .unknownMechanism("moo.cow"), "'/' before '=' makes it no modifier"),
        ("v=spf1 1up=foo", 1, .badModifierName("1up"), "a modifier name starts with a letter"),
        ("v=spf1 =all", 1, .badModifierName(""), "a modifier name cannot be empty"),
        ("v=spf1 redirect:example.com", 1, .unknownMechanism("redirect"), "redirect is a modifier"),
        ("v=spf1 -all.", 1, .unknownMechanism("all."), "all takes nothing after it"),
        ("v=spf1 -all:foobar", 1, .unexpectedArgument("all"), "all takes no domain"),
        ("v=spf1 -all/8", 1, .unexpectedArgument("all"), "all takes no CIDR"),
        ("v=spf1 - all", 1, .missingMechanism, "a qualifier alone"),
        ("v=spf1 +:example.com", 1, .missingMechanism, "no mechanism name"),
        ("v=spf1 ptr/0 -all", 1, .unexpectedCIDR("ptr"), "ptr takes no CIDR"),
        ("v=spf1 ptr:", 1, .emptyDomainSpec, "ptr: needs a domain"),
        ("v=spf1 include +all", 1, .missingDomainSpec("include"), "include needs a domain"),
        ("v=spf1 include: -all", 1, .emptyDomainSpec, "include: with nothing after"),
        ("v=spf1 include:ip5.example.com/24 -all", 1, .badDomainEnd("ip5.example.com/24"), "include takes no CIDR"),
        ("v=spf1 exists", 1, .missingDomainSpec("exists"), "exists needs a domain"),
        ("v=spf1 exists:mail.example.com/24", 1, .badDomainEnd("mail.example.com/24"), "exists takes no CIDR"),
        ("v=spf1 a:", 1, .emptyDomainSpec, "a: with nothing after"),
        ("v=spf1 a:foo-bar -all", 1, .badDomainEnd("foo-bar"), "a domain-spec needs a dot and a top label"),
        ("v=spf1 a:museum", 1, .badDomainEnd("museum"), "a top label alone is not enough"),
        ("v=spf1 a:museum.", 1, .badDomainEnd("museum."), "a trailing dot does not help"),
        ("v=spf1 a:abc.123", 1, .badDomainEnd("abc.123"), "a top label cannot be all digits"),
        ("v=spf1 a:111.222.33.44", 1, .badDomainEnd("111.222.33.44"), "an address is not a domain"),
        ("v=spf1 a:example.-com", 1, .badDomainEnd("example.-com"), "a top label cannot start with a dash"),
        ("v=spf1 a:example.com:8080", 1, .badDomainEnd("example.com:8080"), "no port in a top label"),
        ("v=spf1 a/33 -all", 1, .cidrTooLong("/33", maximum: 32), "IPv4 CIDR over 32"),
        ("v=spf1 mx//129 -all", 1, .cidrTooLong("/129", maximum: 128), "IPv6 CIDR over 128"),
        ("v=spf1 a/24/64 -all", 1, .badCIDR("/24/64"), "the IPv6 length needs '//'"),
        ("v=spf1 ip4:1.2.3.4/032 -all", 1, .cidrLeadingZero("/032"), "the suite refuses leading zeros"),
        ("v=spf1 ip4:1.2.3.4/33 -all", 1, .cidrTooLong("/33", maximum: 32), "ip4 CIDR over 32"),
        ("v=spf1 ip4:1.2.3.4//32", 1, .dualCIDRNotAllowed("ip4"), "ip4 takes one length"),
        ("v=spf1 ip4:1.2.3.4/", 1, .badCIDR("/"), "a slash needs digits"),
        ("v=spf1 ip4:1.2.3", 1, .badIPv4("1.2.3"), "parts of an address cannot be left out"),
        ("v=spf1 ip4:1.2.3.4:8080", 1, .badIPv4("1.2.3.4:8080"), "no port"),
        ("v=spf1 ip4:01.2.3.4", 1, .badIPv4("01.2.3.4"), "qnum has no leading zeros"),
        ("v=spf1 ip4:256.1.1.1", 1, .badIPv4("256.1.1.1"), "qnum is at most 255"),
        ("v=spf1 ip4:::1", 1, .badIPv4("::1"), "ip4 takes IPv4 only"),
        ("v=spf1 ip4", 1, .missingNetwork("ip4"), "ip4 needs a network"),
        ("v=spf1 -all ip6", 2, .missingNetwork("ip6"), "ip6 needs a network"),
        ("v=spf1 ip6::CAFE::BABE", 1, .badIPv6(":CAFE::BABE"), "not an IPv6 address"),
        ("v=spf1 ip6:1.2.3.4", 1, .badIPv6("1.2.3.4"), "ip6 takes IPv6 only"),
        ("v=spf1 ip6:::1.1.1.1/129", 1, .cidrTooLong("/129", maximum: 128), "ip6 CIDR over 128"),
        ("v=spf1 ip6:::1.1.1.1//33", 1, .dualCIDRNotAllowed("ip6"), "ip6 takes one length"),
        ("v=spf1 exists:%(ir).sbl.example.com", 1,
         .badMacro(SPFMacroError(offset: 0, reason: .badMacroCharacter("("))), "'%' must be followed by {, %, _ or -"),
        ("v=spf1 exists:foo%.sbl.example.com", 1,
         .badMacro(SPFMacroError(offset: 3, reason: .badMacroCharacter("."))), "a stray '%' inside a name"),
        ("v=spf1 exists:foo.example.com%", 1,
         .badMacro(SPFMacroError(offset: 15, reason: .loneMacroCharacter)), "a '%' at the end"),
        ("v=spf1 a:%{a}.example.com", 1,
         .badMacro(SPFMacroError(offset: 2, reason: .unknownMacroLetter("a"))), "'a' is no macro letter"),
        ("v=spf1 -all exp=%{r}.example.com", 2,
         .badMacro(SPFMacroError(offset: 2, reason: .explanationOnlyLetter("r"))), "r is for explanation text only"),
        ("v=spf1 exists:%{d0}.example.com", 1,
         .badMacro(SPFMacroError(offset: 3, reason: .zeroTransformer)), "the digit transformer is nonzero"),
        ("v=spf1 exists:%{d2!}.example.com", 1,
         .badMacro(SPFMacroError(offset: 4, reason: .badDelimiter("!"))), "'!' is no delimiter"),
        ("v=spf1 exists:%{d", 1, .badMacro(SPFMacroError(offset: 0, reason: .unterminatedMacro)), "no closing brace"),
        ("v=spf1 -all foo=%abc", 2, .badMacro(SPFMacroError(offset: 0, reason: .badMacroCharacter("a"))),
         "unknown modifiers need valid macro syntax"),
        ("v=spf1 exp= -all", 1, .emptyDomainSpec, "exp= needs a domain (the suite's erratum)"),
        ("v=spf1 exp=-all", 1, .badDomainEnd("-all"), "exp is not a greedy unknown modifier"),
        ("v=spf1 ?all redirect=", 2, .emptyDomainSpec, "redirect= needs a domain"),
        ("v=spf1 redirect=-all ?all", 1, .badDomainEnd("-all"), "redirect is not a greedy unknown modifier"),
        ("v=spf1 redirect=a.example.com -all redirect=a.example.com", 3, .duplicateModifier("redirect"), "redirect twice"),
        ("v=spf1 exp=a.example.com -all exp=b.example.com", 3, .duplicateModifier("exp"), "exp twice"),
        ("v=spf1 a:ctrl.example.com\rptr -all", 1, .forbiddenCharacter("\r"), "terms are separated by spaces only"),
        ("v=spf1 ip4:192.0.2.5\n include:example.net ~all", 1, .forbiddenCharacter("\n"), "a newline is no separator"),
        ("v=spf1 a:foo.example.com\0", 1, .forbiddenCharacter("\0"), "a NUL cannot appear"),
        ("v=spf1 \u{80}a:example.net -all", 1, .nonASCII("\u{80}"), "SPF records are 7-bit ASCII"),
        ("v=spf1 a:\u{EF}\u{BB}\u{BF}garbage.example.net -all", 1, .nonASCII("\u{EF}"), "no byte-order mark either"),
    ]

    @Test("invalid records are refused with the term and the reason", arguments: badRecords)
    func bad(_ text: String, _ termIndex: Int, _ reason: SPFParseError.Reason, _ why: String) {
        #expect(throws: SPFParseError.self, "\(why)") { try SPFRecord(parsing: text) }
        do throws(SPFParseError) {
            _ = try SPFRecord(parsing: text)
        } catch {
            #expect(error.reason == reason, "\(why): \(error)")
            #expect(error.termIndex == termIndex, "\(why): \(error)")
        }
    }

    @Test("errors give the character offset in the record")
    func offsets() throws {
        let cases: [(String, Int, Int, String)] = [
            ("v=spf1 ip4:1.2.3.4 -all moo", 3, 24, "moo"),
            ("v=spf1 ip4:1.2.3.4/032", 1, 18, "ip4:1.2.3.4/032"),
            ("v=spf1 exists:foo%.sbl.example.com", 1, 17, "exists:foo%.sbl.example.com"),
            ("v=spf1   a:ctrl.example.com\rptr", 1, 27, "a:ctrl.example.com\rptr"),
            ("v=spf1 a mx -all exp=x.example.com exp=y.example.com", 5, 35, "exp=y.example.com"),
        ]
        for (text, termIndex, offset, term) in cases {
            do throws(SPFParseError) {
                _ = try SPFRecord(parsing: text)
                Issue.record("\(text) parsed")
            } catch {
                #expect(error.termIndex == termIndex, "\(error)")
                #expect(error.offset == offset, "\(error)")
                #expect(error.term == term, "\(error)")
            }
        }
        do throws(SPFParseError) {
            _ = try SPFRecord(parsing: "v=spf1 ip4:192.0.2.1/33")
            Issue.record("a CIDR length of 33 parsed")
        } catch {
            #expect(error.description == "term 1 \"ip4:192.0.2.1/33\", offset 20: the CIDR length \"/33\" is more than 32")
        }
    }

    @Test("the parsed structure")
    func structure() throws {
        let record = try SPFRecord(parsing: "v=spf1 ~a:%{d}/24//64 mx ip4:192.0.2.0/24 include:_spf.example.net redirect=x.example.com exp=e.%{d2}")
        #expect(record.directives.count == 4)
        #expect(record.directives[0].qualifier == .softfail)
        #expect(record.directives[0].mechanism
            == .a(SPFMacroString(tokens: [.macro(SPFMacro(letter: .d))]), SPFDualCIDR(ip4: 24, ip6: 64)))
        #expect(record.directives[1].mechanism == .mx(nil, .none))
        #expect(record.directives[2].mechanism == .ip4(IPAddress("192.0.2.0")!, prefixLength: 24))
        #expect(record.redirect == SPFMacroString(literal: "x.example.com"))
        #expect(record.explanation?.description == "e.%{d2}")
        #expect(record.lookupTermCount == 4)
        #expect(!record.hasAll)
    }

    @Test("values built in code round-trip through their rendering")
    func builtRoundTrip() throws {
        let record = SPFRecord(terms: [
            .directive(SPFDirective(.neutral, .exists(SPFMacroString(tokens: [
                .macro(SPFMacro(letter: .i, reversed: true)), .literal("."), .literal("_spf."),
                .macro(SPFMacro(letter: .d, rightParts: 2)),
            ])))),
            .directive(SPFDirective(.pass, .a(nil, SPFDualCIDR(ip6: 48)))),
            .directive(SPFDirective(.fail, .ip6(IPAddress("2001:db8::")!, prefixLength: 32))),
            .modifier(.unknown(name: "moo", value: SPFMacroString(tokens: [.percent, .space, .urlSpace, .literal("x")]))),
            .directive(SPFDirective(.fail, .all)),
        ])
        #expect(record.description == "v=spf1 ?exists:%{ir}._spf.%{d2} a//48 -ip6:2001:db8::/32 moo=%%%_%-x -all")
        #expect(try SPFRecord(parsing: record.description) == record)
    }

    // MARK: - Macros (RFC 7208 §7.4)

    static let example = SPFMacroContext(
        sender: "strong-bad@email.example.com", localPart: "strong-bad", senderDomain: "email.example.com",
        domain: "email.example.com", ip: IPAddress("192.0.2.3")!, helo: "mx.example.org",
        validatedName: "mx.example.org", receiver: "receiver.example.net", timestamp: 1_400_000_000)

    /// RFC 7208 §7.4, first table, with <sender> strong-bad@email.example.com.
    static let macroTable: [(String, String)] = [
        ("%{s}", "strong-bad@email.example.com"),
        ("%{o}", "email.example.com"),
        ("%{d}", "email.example.com"),
        ("%{d4}", "email.example.com"),
        ("%{d3}", "email.example.com"),
        ("%{d2}", "example.com"),
        ("%{d1}", "com"),
        ("%{dr}", "com.example.email"),
        ("%{d2r}", "example.email"),
        ("%{l}", "strong-bad"),
        ("%{l-}", "strong.bad"),
        ("%{lr}", "strong-bad"),
        ("%{lr-}", "bad.strong"),
        ("%{l1r-}", "strong"),
        // RFC 7208 §7.4, second table, IPv4 client 192.0.2.3.
        ("%{ir}.%{v}._spf.%{d2}", "3.2.0.192.in-addr._spf.example.com"),
        ("%{lr-}.lp._spf.%{d2}", "bad.strong.lp._spf.example.com"),
        ("%{lr-}.lp.%{ir}.%{v}._spf.%{d2}", "bad.strong.lp.3.2.0.192.in-addr._spf.example.com"),
        ("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", "3.2.0.192.in-addr.strong.lp._spf.example.com"),
        ("%{d2}.trusted-domains.example.net", "example.com.trusted-domains.example.net"),
        // Others from §7.3.
        ("%{p}", "mx.example.org"),
        ("%{h}", "mx.example.org"),
        ("%{i}", "192.0.2.3"),
        ("%%%_%-", "% %20"),
        ("%{d999}", "email.example.com"),
        ("%{l2r+-}", "bad.strong"),
    ]

    @Test("macro expansion as in RFC 7208 §7.4", arguments: macroTable)
    func macro(_ text: String, _ expansion: String) throws {
        let macro = try SPFMacroString(parsing: text)
        #expect(macro.expand(in: Self.example) == expansion)
        #expect(try SPFMacroString(parsing: macro.description) == macro)
    }

    @Test("IPv6 expands to nibbles (RFC 7208 §7.4)")
    func ipv6Macro() throws {
        var context = Self.example
        context.ip = IPAddress("2001:db8::cb01")!
        let macro = try SPFMacroString(parsing: "%{ir}.%{v}._spf.%{d2}")
        // 2001:0db8:0000:…:cb01 reversed, one nibble a label: 4 + 20 zeros + 8 nibbles.
        let nibbles = ["1", "0", "b", "c"] + Array(repeating: "0", count: 20) + ["8", "b", "d", "0", "1", "0", "0", "2"]
        #expect(macro.expand(in: context) == nibbles.joined(separator: ".") + ".ip6._spf.example.com")
        let explanation = try SPFMacroString(parsing: "%{c} is queried as %{ir}.%{v}.arpa", allowsSpaces: true, allowsExplanationLetters: true)
        #expect(explanation.expand(in: context).hasPrefix("2001:db8::cb01 is queried as 1.0.b.c."))
    }

    @Test("upper-case letters URL-escape the expansion (RFC 7208 §7.3)")
    func urlEscape() throws {
        var context = Self.example
        context.localPart = "~jack&jill=up-a_b3.c"
        let macro = try SPFMacroString(parsing: "http://example.com/why.html?l=%{L}", allowsSpaces: true, allowsExplanationLetters: true)
        #expect(macro.expand(in: context) == "http://example.com/why.html?l=~jack%26jill%3Dup-a_b3.c")
        context.helo = "JUMPIN' JUPITER"
        #expect(try SPFMacroString(parsing: "%{H}").expand(in: context) == "JUMPIN%27%20JUPITER")
    }

    @Test("c, r and t only in explanation text")
    func explanationLetters() throws {
        let text = "%{c} rejected by %{r} at %{t}"
        let macro = try SPFMacroString(parsing: text, allowsSpaces: true, allowsExplanationLetters: true)
        #expect(macro.expand(in: Self.example) == "192.0.2.3 rejected by receiver.example.net at 1400000000")
        #expect(throws: SPFMacroError.self) { try SPFMacroString(parsing: "%{c}.example.com") }
        #expect(throws: SPFMacroError.self) { try SPFMacroString(parsing: "a b") }
    }

    /// (expanded name, the name looked up, or nil when none can be, why).
    static let expansions: [(String, String?, String)] = [
        ("example.com.", "example.com", "one trailing dot is dropped (RFC 7208 §7.3)"),
        ("Mail.Example.COM", "mail.example.com", "case is folded"),
        ("a..example.com", nil, "an empty label cannot be looked up"),
        (String(repeating: "a", count: 64) + ".example.com", nil, "a label over 63 octets cannot be looked up"),
        (Array(repeating: "abcdefghi", count: 30).joined(separator: ".") + ".example.com",
         Array(repeating: "abcdefghi", count: 24).joined(separator: ".") + ".example.com",
         "over 253 characters, labels are removed from the left (RFC 7208 §7.3)"),
    ]

    @Test("expanded names are truncated and checked", arguments: expansions)
    func targetNames(_ expansion: String, _ name: String?, _ why: String) {
        #expect(SPFEvaluator.domainName(fromExpansion: expansion)?.description == name, "\(why)")
    }
}
