import Foundation
import MailAuditConfig
import MailAuditCore
import MailAuditRecords

/// The report as a mail: text and HTML alternatives of one ``RunReport``, and the whole JSON
/// report attached (RFC 2045, 2046, 5322).
enum ReportMessage {
    static func render(_ report: RunReport, configuration: RunConfiguration) throws -> String {
        guard let from = configuration.report.from, !configuration.report.to.isEmpty else { throw RunError.noRelay }
        let json = (try? RunCoding.encoder.encode(report)) ?? Data("{}".utf8)
        let message = MailMessage(
            from: from, to: configuration.report.to, subject: report.subjectLine, date: report.audit.startedAt,
            textBody: RunTextRenderer.render(report), htmlBody: RunHTMLRenderer.render(report),
            attachments: [MailAttachment(filename: "mailaudit-\(report.runID).json", contentType: "application/json", data: json)],
            extraHeaders: [("X-Mailer", "mailaudit \(MailAuditVersion.current)"), ("X-Mailaudit-Run", report.runID)])
        return message.rendered()
    }
}
