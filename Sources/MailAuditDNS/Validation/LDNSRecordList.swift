import CLDNS
import Foundation
import MailAuditCore

/// An ldns RR list made from records, owned here and freed with it. Records go to ldns in
/// their zone-file form; one that ldns cannot read is left out, and ``count`` shows it.
final class LDNSRecordList {
    let pointer: UnsafeMutablePointer<ldns_rr_list>

    init?(_ records: [DNSRecord]) {
        guard let list = ldns_rr_list_new() else { return nil }
        pointer = list
        for record in records {
            var rr: UnsafeMutablePointer<ldns_rr>?
            if ldns_rr_new_frm_str(&rr, record.description, 0, nil, nil) == LDNS_STATUS_OK, let rr {
                if !ldns_rr_list_push_rr(list, rr) { ldns_rr_free(rr) }
            }
        }
    }

    deinit { ldns_rr_list_deep_free(pointer) }

    var count: Int { ldns_rr_list_rr_count(pointer) }
    func rr(_ index: Int) -> UnsafeMutablePointer<ldns_rr>? { ldns_rr_list_rr(pointer, index) }
}

/// The DNSSEC arithmetic that ldns does for the validator: signatures, DS digests and NSEC3
/// proofs. Each function reads records and returns a verdict; nothing here does I/O.
enum LDNSDNSSEC {
    /// Whether some signature over `rrset` verifies with one of `keys` at `time`; the failure says why.
    static func verify(_ rrset: [DNSRecord], signatures: [DNSRecord], keys: [DNSRecord], at time: Date) -> Result<Void, DNSSECFailure> {
        guard !signatures.isEmpty else { return .failure(DNSSECFailure("no signature (RRSIG) covers it")) }
        guard let set = LDNSRecordList(rrset), let sigs = LDNSRecordList(signatures), let keyList = LDNSRecordList(keys),
              set.count == rrset.count, sigs.count > 0
        else { return .failure(DNSSECFailure("its records could not be read for verification")) }
        let status = ldns_verify_time(set.pointer, sigs.pointer, keyList.pointer, time_t(time.timeIntervalSince1970), nil)
        return status == LDNS_STATUS_OK ? .success(()) : .failure(DNSSECFailure(reason(status)))
    }

    /// The keys among `keys` that one of the `anchors` (DS or DNSKEY records) names.
    static func keys(_ keys: [DNSRecord], matching anchors: [DNSRecord]) -> [DNSRecord] {
        guard let anchorList = LDNSRecordList(anchors) else { return [] }
        return keys.filter { key in
            guard let one = LDNSRecordList([key]), let rr = one.rr(0) else { return false }
            return (0..<anchorList.count).contains { index in
                guard let anchor = anchorList.rr(index) else { return false }
                if ldns_rr_get_type(anchor) == LDNS_RR_TYPE_DNSKEY { return ldns_rr_compare(anchor, rr) == 0 }
                return ldns_rr_compare_ds(rr, anchor)
            }
        }
    }

    /// Whether this validator can use a DS record: its key algorithm is one ldns verifies, and
    /// its digest is SHA-1, SHA-256 or SHA-384 (RFC 4034 §5.1, RFC 4509, RFC 6605).
    static func canUse(_ ds: DelegationSigner) -> Bool {
        [1, 2, 4].contains(ds.digestType) && ldns_key_algo_supported(Int32(ds.algorithm)) != 0
    }

    /// Whether the NSEC3 records prove the answer to `question` (RFC 5155 §8).
    static func nsec3Proves(_ question: DNSQuestion, nxDomain: Bool, nsec3: [DNSRecord], signatures: [DNSRecord]) -> Bool {
        guard let records = LDNSRecordList(nsec3), records.count > 0, let sigs = LDNSRecordList(signatures) else { return false }
        var rr: UnsafeMutablePointer<ldns_rr>?
        guard ldns_rr_new_question_frm_str(&rr, "\(question.name.fqdn) IN \(question.type)", nil, nil) == LDNS_STATUS_OK,
              let rr
        else { return false }
        defer { ldns_rr_free(rr) }
        let rcode = ldns_pkt_rcode(rawValue: nxDomain ? 3 : 0)
        let type = ldns_rr_type(rawValue: UInt32(question.type.rawValue))
        return ldns_dnssec_verify_denial_nsec3(rr, records.pointer, sigs.pointer, rcode, type, !nxDomain) == LDNS_STATUS_OK
    }

    /// Whether `nsec` (an NSEC record) covers `name`: it lies strictly between the owner and the next name.
    static func covers(_ nsec: DNSRecord, _ name: DomainName) -> Bool {
        guard let list = LDNSRecordList([nsec]), let rr = list.rr(0) else { return false }
        var dname: UnsafeMutablePointer<ldns_rdf>?
        guard ldns_str2rdf_dname(&dname, name.fqdn) == LDNS_STATUS_OK, let dname else { return false }
        defer { ldns_rdf_deep_free(dname) }
        return ldns_nsec_covers_name(rr, dname)
    }

    private static func reason(_ status: ldns_status) -> String {
        switch status {
        case LDNS_STATUS_CRYPTO_SIG_EXPIRED: "the signature has expired"
        case LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED: "the signature is not valid yet"
        case LDNS_STATUS_CRYPTO_BOGUS: "the signature does not verify (bad signature)"
        case LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY: "no key has the key tag the signature names"
        case LDNS_STATUS_CRYPTO_NO_TRUSTED_DNSKEY: "no trusted key to verify it with"
        case LDNS_STATUS_CRYPTO_UNKNOWN_ALGO: "the signature uses an algorithm this validator does not know"
        default: ldns_get_errorstr_by_id(status).map { String(cString: $0) } ?? "ldns status \(status.rawValue)"
        }
    }
}

/// Why a DNSSEC check failed, in words for the report.
struct DNSSECFailure: Error, Hashable, Sendable {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}
