import Crypto
import FoundationEssentials

/// Applies the versioned SQL files of `schema/` in order, each in its own transaction,
/// recording them in `schema_migrations`, so that a second run does nothing.
public struct Migrator {
    public struct Migration: Sendable, Equatable {
        public let version: String
        public let name: String
        public let sql: String
        public var checksum: String {
            Hex.encode(SHA256.hash(data: Data(sql.utf8)))
        }
    }

    public enum Failure: Error, CustomStringConvertible {
        case badFileName(String)
        case duplicateVersion(String)
        case editedAfterApplying(version: String)
        case failed(version: String, underlying: Error)

        public var description: String {
            switch self {
            case .badFileName(let f): return "migration file \(f) must be named NNNN_description.sql"
            case .duplicateVersion(let v): return "two migration files share version \(v)"
            case .editedAfterApplying(let v):
                return "migration \(v) was changed after it was applied; add a new migration instead"
            case .failed(let v, let e): return "migration \(v) failed and was rolled back: \(e)"
            }
        }
    }

    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    /// Reads `NNNN_description.sql` files from a directory, sorted by version.
    public static func load(directory: String) throws -> [Migration] {
        let files = try FileSystemListing.files(in: directory).filter { $0.hasSuffix(".sql") }.sorted()
        var seen = Set<String>()
        return try files.map { file in
            let stem = String(file.dropLast(4))
            guard let underscore = stem.firstIndex(of: "_"), stem[..<underscore].allSatisfy(\.isNumber),
                  !stem[..<underscore].isEmpty
            else { throw Failure.badFileName(file) }
            let version = String(stem[..<underscore])
            guard seen.insert(version).inserted else { throw Failure.duplicateVersion(version) }
            let sql = try String(contentsOfFile: directory + "/" + file, encoding: .utf8)
            return Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql)
        }
    }

    /// Applies what is not applied yet and returns the versions it applied.
    /// Concurrent runs (two deploys at once) serialise on an advisory lock.
    @discardableResult
    public func apply(_ migrations: [Migration]) throws -> [String] {
        // (Quietly: after the first run PostgreSQL would say, as a NOTICE on every run, that the table exists.)
        try connection.runScript("""
            SET client_min_messages = warning;
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version text PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            RESET client_min_messages;
            """)
        try connection.query("SELECT pg_advisory_lock(hashtext('hubchat.migrate'))")
        defer { _ = try? connection.query("SELECT pg_advisory_unlock(hashtext('hubchat.migrate'))") }

        let applied = try connection.query("SELECT version, checksum FROM schema_migrations").rows
        var checksums: [String: String] = [:]
        for row in applied { checksums[try row.decode("version")] = try row.decode("checksum") as String }

        var done: [String] = []
        for migration in migrations {
            if let recorded = checksums[migration.version] {
                guard recorded == migration.checksum else {
                    throw Failure.editedAfterApplying(version: migration.version)
                }
                continue
            }
            do {
                try connection.transaction {
                    try connection.runScript(migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        [migration.version, migration.name, migration.checksum])
                }
            } catch {
                throw Failure.failed(version: migration.version, underlying: error)
            }
            done.append(migration.version)
        }
        return done
    }

    /// Versions the database records that are not among `migrations`: a newer release migrated it.
    public func unknownVersions(_ migrations: [Migration]) throws -> [String] {
        let known = Set(migrations.map(\.version))
        return try connection.query("SELECT version FROM schema_migrations ORDER BY version").rows
            .map { try $0.decode("version") as String }.filter { !known.contains($0) }
    }
}
