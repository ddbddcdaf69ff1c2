internal import COpenSSL

/// Facts about the TLS library mailaudit is linked against.
public enum TLSLibrary {
    /// The linked OpenSSL's version text, for `--version` (for example "OpenSSL 3.0.19 ...").
    public static var versionString: String {
        // OpenSSL_version returns a pointer to a static string: never freed.
        guard let text = OpenSSL_version(OPENSSL_VERSION) else { return "OpenSSL (unknown version)" }
        return String(cString: text)
    }
}
