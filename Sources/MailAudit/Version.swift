/// mailaudit's version, printed by `--version` and written into every report.
public enum MailAuditVersion {
    public static let current = "0.1.0"
}
