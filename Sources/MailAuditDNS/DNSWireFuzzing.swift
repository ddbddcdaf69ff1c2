import MailAuditCore

/// The DNS reply decoder as the fuzz targets under `fuzz/` reach it: the ldns codec and the
/// answer building stay internal, and this is their one public door (see docs/fuzzing.md).
public enum DNSWireFuzzing {
    /// Decodes `bytes` as a DNS message the way a reply from the network is decoded, builds the
    /// answer to its own question (CNAME chains followed, as for a real query), and renders every
    /// record and the answer as text.
    ///
    /// - Returns: the length in bytes of all that text, or nil when the codec rejected the bytes
    ///   (a malformed message is a nil; nothing here may trap, which is what the fuzzer checks).
    public static func decode(_ bytes: [UInt8]) -> Int? {
        guard let reply = try? LDNSCodec.decodeReply(bytes) else { return nil }
        var rendered = 0
        for record in reply.answers + reply.authority {
            rendered += record.description.utf8.count
        }
        if let question = reply.question {
            rendered += "\(reply.answer(for: question))".utf8.count
        }
        return rendered
    }
}
