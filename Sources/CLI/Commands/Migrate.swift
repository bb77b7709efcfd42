import ArgumentParser
import Core

struct Migrate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply the SQL migrations that are not applied yet (each in its own transaction).")

    @Option(help: "Directory of NNNN_description.sql files.")
    var schemaDir: String = "schema"

    func run() throws {
        let migrations = try Migrator.load(directory: schemaDir)
        let applied = try Migrator(connection: try operatorConnection()).apply(migrations)
        print(applied.isEmpty ? "Database is up to date (\(migrations.count) migrations)."
                              : "Applied \(applied.joined(separator: ", ")).")
    }
}
