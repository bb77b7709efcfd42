import ArgumentParser
import Core

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the SQL migrations that are not applied yet (each in its own transaction).")

    @Option(help: "Directory of NNNN_description.sql files (the release's schema/; relative to where you run it).")
    var schemaDir: String = "schema"

    func run() throws {
        let migrations = try Migrator.load(directory: schemaDir)
        let migrator = Migrator(connection: try operatorConnection())
        let applied = try migrator.apply(migrations)
        print(applied.isEmpty ? "Database is up to date (\(migrations.count) migrations)."
                              : "Applied \(applied.joined(separator: ", ")).")
        let newer = try migrator.unknownVersions(migrations)
        if !newer.isEmpty {
            print("Note: the database also has \(newer.count) migration(s) this release does not know "
                  + "(\(newer.joined(separator: ", "))): a newer release migrated it. Its code may expect that schema.")
        }
    }
}
