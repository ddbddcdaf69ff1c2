internal import CLDNS

/// Facts about the DNS library mailaudit is linked against.
public enum DNSLibrary {
    /// For example "ldns 1.8.3".
    public static var versionString: String {
        // ldns_version returns a pointer to a static string: never freed.
        guard let text = ldns_version() else { return "ldns (unknown version)" }
        return "ldns " + String(cString: text)
    }
}
