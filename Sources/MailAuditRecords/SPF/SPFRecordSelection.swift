public import MailAuditCore

/// The SPF record chosen among the TXT records at a name (RFC 7208 §4.5).
///
/// Each TXT record's strings are joined with no separator (§3.3). A record is an SPF record
/// when it starts with `v=spf1`, in any case, followed by a space or the end. Other TXT
/// records are ignored.
///
/// ```swift
/// let selection = SPFRecordSelection(txtStrings: [[Array("v=spf1 ".utf8), Array("-all".utf8)], [Array("google-site-verification=…".utf8)]])
/// selection.outcome   // .record("v=spf1 -all")
/// ```
public struct SPFRecordSelection: Hashable, Sendable {
    /// Every TXT record, joined, in the order given.
    public let texts: [String]
    /// The TXT records that start with `v=spf1`, in the order given.
    public let candidates: [String]

    /// Selects among TXT records given as their raw character-strings.
    public init(txtStrings: [[[UInt8]]]) {
        var texts: [String] = []
        var candidates: [String] = []
        for strings in txtStrings {
            let bytes = Array(strings.joined())
            let text = String(decoding: bytes, as: UTF8.self)
            texts.append(text)
            if Self.isSPF(bytes) { candidates.append(text) }
        }
        self.texts = texts
        self.candidates = candidates
    }

    /// Selects among the TXT records of an answer; records of other types are ignored.
    public init(records: [DNSRecord]) {
        self.init(txtStrings: records.compactMap { if case .txt(let strings) = $0.data { strings } else { nil } })
    }

    /// What the selection found. `.none`: no record starts with `v=spf1`, and check_host()
    /// returns "none"; `.record`: exactly one SPF record; `.multiple`: more than one, and
    /// check_host() returns "permerror" (§4.5).
    public typealias Outcome = RecordSelectionOutcome

    /// None, one, or several SPF records.
    public var outcome: Outcome { Outcome(candidates: candidates) }

    /// The single SPF record, or nil when there is none or more than one.
    public var selected: String? { outcome.selected }

    /// `v=spf1` in any case, then a space or the end (§4.5).
    static func isSPF(_ bytes: [UInt8]) -> Bool {
        let version = Array("v=spf1".utf8)
        guard bytes.count >= version.count else { return false }
        for (byte, expected) in zip(bytes, version) {
            let lower = (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
            if lower != expected { return false }
        }
        return bytes.count == version.count || bytes[version.count] == UInt8(ascii: " ")
    }
}

/// An estimate of the DNS reply that carries a TXT RRset, against the 512-octet limit of DNS
/// over UDP without EDNS that RFC 7208 §3.4 asks publishers to stay within.
///
/// The estimate counts what a server must put in the reply: the 12-octet header, the question
/// (the name in wire form plus type and class), and one answer record per TXT record, each with
/// a compressed owner name (a 2-octet pointer), type, class, TTL and RDLENGTH (10 octets) and
/// the RDATA (each character-string plus its length octet). Authority and additional records
/// and an EDNS OPT record are left out: a server drops those before it truncates. The answer
/// holds every TXT record at the name, not only the SPF one, which is why unrelated
/// verification records can push an SPF answer over the limit.
public enum SPFAnswerSize {
    /// The classic limit for a DNS message over UDP (RFC 1035 §4.2.1).
    public static let udpLimit = 512

    /// The estimated size in octets of the reply to `name TXT` that holds `txtStrings`.
    public static func estimate(name: DomainName, txtStrings: [[[UInt8]]]) -> Int {
        let header = 12
        let nameLength = name.labels.reduce(1) { $0 + $1.utf8.count + 1 }
        let question = nameLength + 4
        let answers = txtStrings.reduce(0) { total, strings in
            total + 2 + 10 + strings.reduce(0) { $0 + 1 + $1.count } + (strings.isEmpty ? 1 : 0)
        }
        return header + question + answers
    }

    /// True when the reply would not fit in 512 octets, so resolvers must retry over TCP.
    public static func exceedsUDPLimit(name: DomainName, txtStrings: [[[UInt8]]]) -> Bool {
        estimate(name: name, txtStrings: txtStrings) > udpLimit
    }
}
