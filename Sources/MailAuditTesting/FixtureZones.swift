public import Foundation

/// The fixture zones of `Tests/IntegrationTests/Zones/`, one small zone per scenario under
/// `.test`, plus reverse zones for the loopback addresses they use (see the README there).
public enum FixtureZones {
    /// The zones directory: the copy inside `bundle` (pass `.module` from IntegrationTests),
    /// or else the one in the source tree this file was compiled from.
    ///
    /// - Throws: ``HarnessError/zoneDirectory(_:)`` when neither exists.
    public static func directory(bundle: Bundle? = nil) throws(HarnessError) -> URL {
        if let url = bundle?.url(forResource: "Zones", withExtension: nil), isDirectory(url) { return url }
        let fromSource = sourceTreeDirectory
        guard isDirectory(fromSource) else {
            throw .zoneDirectory("no Zones resource in the bundle and no \(fromSource.path)")
        }
        return fromSource
    }

    /// `Tests/IntegrationTests/Zones` in the checkout this file was compiled from, for the
    /// benchmark and demos, which have no test bundle.
    public static var sourceTreeDirectory: URL {
        URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()  // MailAuditTesting
            .deletingLastPathComponent()  // Sources
            .deletingLastPathComponent()  // package root
            .appendingPathComponent("Tests/IntegrationTests/Zones")
    }

    /// Every fixture zone, ready for ``NSDServer/init(zones:executable:startTimeout:)``.
    ///
    /// - Throws: ``HarnessError/zoneDirectory(_:)`` when the directory cannot be found or read.
    public static func all(bundle: Bundle? = nil) throws(HarnessError) -> [NSDServer.Zone] {
        try zones(in: directory(bundle: bundle))
    }

    /// One ``NSDServer/Zone`` per `*.zone` file in `directory`, sorted by name; the zone
    /// name is the file name without `.zone`.
    ///
    /// - Throws: ``HarnessError/zoneDirectory(_:)`` when it cannot be read or has no zone file.
    public static func zones(in directory: URL) throws(HarnessError) -> [NSDServer.Zone] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .zoneDirectory("cannot read \(directory.path): \(error)")
        }
        let zones = names.filter { $0.hasSuffix(".zone") }.sorted().map { file in
            NSDServer.Zone.file(String(file.dropLast(".zone".count)), directory.appendingPathComponent(file))
        }
        guard !zones.isEmpty else { throw .zoneDirectory("no *.zone file in \(directory.path)") }
        return zones
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
