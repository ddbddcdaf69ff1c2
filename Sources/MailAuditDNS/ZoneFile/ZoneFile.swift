internal import CLDNS
public import MailAuditCore
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One record of a zone file and where it was written.
public struct ZoneFileRecord: Hashable, Sendable {
    public var record: DNSRecord
    /// The file the record is in: the zone file, or a file it `$INCLUDE`s.
    public var file: String
    /// The line its entry starts on (1-based).
    public var line: Int

    public init(record: DNSRecord, file: String, line: Int) {
        self.record = record
        self.file = file
        self.line = line
    }
}

/// Why a zone file could not be read: the file and line, and what ldns (or the reader) said.
public struct ZoneFileError: Error, Hashable, Sendable, CustomStringConvertible {
    public var file: String
    /// The line of the entry that could not be read; nil when the file as a whole is at fault.
    public var line: Int?
    public var reason: String

    public init(file: String, line: Int?, reason: String) {
        self.file = file
        self.line = line
        self.reason = reason
    }

    /// `zone.db:12: Syntax error, could not parse the RR's rdata`, with control characters escaped.
    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)".terminalSafe
    }
}

/// A master file (RFC 1035 §5) read with ldns, copied out into Swift values.
///
/// ```
/// $ORIGIN example.com.
/// $TTL 300
/// @     IN SOA ns hostmaster ( 1 3600 900 604800 300 )
/// @     IN TXT "v=spf1 mx -all"     ; line 4
/// ```
///
/// Each entry (a line, or lines joined by parentheses) is handed to `ldns_rr_new_frm_fp_l`
/// on its own, sharing ldns's `$ORIGIN`, `$TTL` and previous-owner state between calls: ldns
/// does the parsing and the directives, and the reader knows the exact line each record
/// starts on (ldns's own line counter also counts the comments and blank lines around an entry).
/// `$INCLUDE file [origin]` is followed, relative to the including file's directory, at most
/// ``maximumIncludeDepth`` deep and never into a file already being read; in text read from
/// memory it is refused. Records of classes other than IN are skipped.
public struct ZoneFile: Sendable {
    /// The zone's apex: `--origin`, else the SOA owner, else the first `$ORIGIN`.
    public var origin: DomainName
    /// The zone file's path, as given.
    public var path: String
    /// The records in file order.
    public var records: [ZoneFileRecord]

    public static let maximumIncludeDepth = 8

    public init(origin: DomainName, path: String, records: [ZoneFileRecord]) {
        self.origin = origin
        self.path = path
        self.records = records
    }

    /// Reads the file at `path`.
    ///
    /// - Parameter origin: the zone's apex (`--origin`); names without a trailing dot before any `$ORIGIN` are relative to it.
    /// - Throws: ``ZoneFileError`` for an unreadable file, an entry ldns rejects (with its line),
    ///   a record outside the origin, or a zone with neither an SOA record, `$ORIGIN` nor `origin`.
    public static func read(path: String, origin: DomainName? = nil) throws(ZoneFileError) -> ZoneFile {
        var reader = Reader(origin: origin)
        try reader.read(path: path, parseOrigin: origin, depth: 0)
        if let apex = reader.impliedOrigin(given: origin) {
            reader = Reader(origin: apex)
            try reader.read(path: path, parseOrigin: apex, depth: 0)
        }
        return try reader.zone(path: path, origin: origin)
    }

    /// Reads zone text held in memory (tests); `$INCLUDE` is refused.
    public init(parsing text: String, origin: DomainName? = nil, name: String = "<text>") throws(ZoneFileError) {
        var reader = Reader(origin: origin)
        try reader.read(bytes: Array(text.utf8), file: name, parseOrigin: origin, directory: nil, depth: 0)
        if let apex = reader.impliedOrigin(given: origin) {
            reader = Reader(origin: apex)
            try reader.read(bytes: Array(text.utf8), file: name, parseOrigin: apex, directory: nil, depth: 0)
        }
        self = try reader.zone(path: name, origin: origin)
    }

    /// The records at `name` of `type`, in file order.
    public func records(at name: DomainName, _ type: RRType) -> [ZoneFileRecord] {
        records.filter { $0.record.name == name && $0.record.type == type }
    }

    /// The zone's SOA record, if it has one.
    public var soa: ZoneFileRecord? { records.first { $0.record.type == .soa } }
}

/// Reads files into records, one entry at a time.
private struct Reader {
    let givenOrigin: DomainName?
    var records: [ZoneFileRecord] = []
    var firstDirectiveOrigin: DomainName?
    /// A `$ORIGIN` came before the first record.
    var originFirst = false
    var reading: [String] = []

    init(origin: DomainName?) { givenOrigin = origin }

    mutating func read(path: String, parseOrigin: DomainName?, depth: Int) throws(ZoneFileError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ZoneFileError(file: path, line: nil, reason: "cannot be read")
        }
        let directory = (path as NSString).deletingLastPathComponent
        try read(bytes: Array(data), file: path, parseOrigin: parseOrigin, directory: directory, depth: depth)
    }

    mutating func read(bytes: [UInt8], file: String, parseOrigin: DomainName?, directory: String?, depth: Int) throws(ZoneFileError) {
        let canonical = directory == nil ? file : URL(fileURLWithPath: file).standardizedFileURL.path
        guard !reading.contains(canonical) else {
            throw ZoneFileError(file: file, line: nil, reason: "is included from itself ($INCLUDE loop)")
        }
        reading.append(canonical)
        defer { reading.removeLast() }
        // ldns keeps these between entries; we own `origin` and `previous` and free them at the end.
        var ttl: UInt32 = 3600
        var origin: UnsafeMutablePointer<ldns_rdf>? = nil
        var previous: UnsafeMutablePointer<ldns_rdf>? = nil
        defer {
            if let origin { ldns_rdf_deep_free(origin) }
            if let previous { ldns_rdf_deep_free(previous) }
        }
        if let parseOrigin {
            // ldns_dname_new_frm_str allocates; freed above (or by ldns when a $ORIGIN replaces it).
            origin = ldns_dname_new_frm_str(parseOrigin.fqdn)
        }
        for entry in ZoneEntries.split(bytes) {
            if let include = ZoneEntries.include(entry.bytes) {
                guard let directory else {
                    throw ZoneFileError(file: file, line: entry.line, reason: "$INCLUDE is not supported in zone text read from memory")
                }
                guard !include.path.isEmpty else {
                    throw ZoneFileError(file: file, line: entry.line, reason: "$INCLUDE needs a file name")
                }
                guard depth < ZoneFile.maximumIncludeDepth else {
                    throw ZoneFileError(file: file, line: entry.line, reason: "$INCLUDE nested more than \(ZoneFile.maximumIncludeDepth) deep")
                }
                let target = include.path.hasPrefix("/") ? include.path : (directory as NSString).appendingPathComponent(include.path)
                var includedOrigin = currentOrigin(origin) ?? parseOrigin
                if let text = include.origin {
                    do throws(DomainNameError) { includedOrigin = try DomainName(parsing: text) } catch {
                        throw ZoneFileError(file: file, line: entry.line, reason: "$INCLUDE origin \"\(text)\": \(error)")
                    }
                }
                try read(path: target, parseOrigin: includedOrigin, depth: depth + 1)
                continue
            }
            try parse(entry, file: file, ttl: &ttl, origin: &origin, previous: &previous)
        }
    }

    private mutating func parse(
        _ entry: ZoneEntries.Entry, file: String, ttl: inout UInt32,
        origin: inout UnsafeMutablePointer<ldns_rdf>?, previous: inout UnsafeMutablePointer<ldns_rdf>?
    ) throws(ZoneFileError) {
        // ldns would read a NUL as the end of a word; a zone file is text.
        if entry.bytes.contains(0) {
            throw ZoneFileError(file: file, line: entry.line, reason: "a NUL byte: a zone file is text")
        }
        if let type = ZoneEntries.reservedCertificateType(entry.bytes) {
            throw ZoneFileError(file: file, line: entry.line, reason: "CERT certificate type \(type) is 0, which is reserved (RFC 4398 §2.1)")
        }
        var text = entry.bytes + [0x0A]
        var lineInEntry: Int32 = 0
        var rr: UnsafeMutablePointer<ldns_rr>? = nil
        // fmemopen reads our buffer without copying it; fclose releases the stream (not the buffer).
        let status: ldns_status? = text.withUnsafeMutableBytes { buffer -> ldns_status? in
            guard let stream = fmemopen(buffer.baseAddress, buffer.count, "r") else { return nil }
            defer { fclose(stream) }
            // On success ldns allocates `rr` (freed below with ldns_rr_free). It replaces `origin`
            // on $ORIGIN and `previous` on each owner, freeing the old ones.
            return ldns_rr_new_frm_fp_l(&rr, stream, &ttl, &origin, &previous, &lineInEntry)
        }
        defer { if let rr { ldns_rr_free(rr) } }
        guard let status else { throw ZoneFileError(file: file, line: entry.line, reason: "cannot buffer the entry") }
        switch status {
        case LDNS_STATUS_OK:
            guard let rr else { return }
            guard ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN else { return }
            let record: DNSRecord
            do throws(CodecError) { record = try LDNSCodec.record(rr) } catch {
                throw ZoneFileError(file: file, line: entry.line, reason: error.reason)
            }
            records.append(ZoneFileRecord(record: record, file: file, line: entry.line))
        case LDNS_STATUS_SYNTAX_ORIGIN:
            if firstDirectiveOrigin == nil { firstDirectiveOrigin = currentOrigin(origin) }
            if records.isEmpty { originFirst = true }
        case LDNS_STATUS_SYNTAX_TTL, LDNS_STATUS_SYNTAX_EMPTY:
            return
        default:
            let text = ldns_get_errorstr_by_id(status).map { String(cString: $0) } ?? "ldns status \(status.rawValue)"
            throw ZoneFileError(file: file, line: entry.line + max(0, Int(lineInEntry) - 1), reason: text)
        }
    }

    private func currentOrigin(_ origin: UnsafeMutablePointer<ldns_rdf>?) -> DomainName? {
        guard let origin else { return nil }
        return try? LDNSCodec.domainName(origin)
    }

    /// Without `--origin` or a leading `$ORIGIN`, relative names were read against the root: when
    /// the SOA owner is written in full, the file is read again with it as the origin.
    func impliedOrigin(given: DomainName?) -> DomainName? {
        guard given == nil, !originFirst, let soa = records.first(where: { $0.record.type == .soa })?.record.name,
              soa != .root else { return nil }
        return soa
    }

    /// The zone: its apex, and every record at or below it.
    func zone(path: String, origin: DomainName?) throws(ZoneFileError) -> ZoneFile {
        let soa = records.first { $0.record.type == .soa }
        guard let apex = origin ?? soa?.record.name ?? firstDirectiveOrigin else {
            throw ZoneFileError(file: path, line: nil, reason: "no SOA record and no $ORIGIN: give --origin")
        }
        guard apex != .root else {
            throw ZoneFileError(file: path, line: nil, reason: "the zone's origin would be the root: give --origin, or start the file with $ORIGIN")
        }
        if let outside = records.first(where: { !$0.record.name.isSubdomain(of: apex) }) {
            throw ZoneFileError(file: outside.file, line: outside.line,
                                reason: "\(outside.record.name.fqdn) is outside the zone \(apex.fqdn)")
        }
        return ZoneFile(origin: apex, path: path, records: records)
    }
}
