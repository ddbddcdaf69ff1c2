// Users of MailAudit see the core values (DomainName, Finding, Severity, ...) without a second import.
@_exported public import MailAuditCore
