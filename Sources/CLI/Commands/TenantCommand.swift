import ArgumentParser
import Core

struct TenantCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants.", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant, or rename it when --id exists. Prints its id.")

        @Option(help: "Tenant id (UUID); generated when omitted.") var id: String?
        @Option(help: "Display name.") var name: String

        func validate() throws {
            if name.allSatisfy(\.isWhitespace) { throw ValidationError("--name must not be empty") }
        }

        func run() throws {
            let tenantID = try id.map { try parseUUID($0, "--id") }
            let created = try AdministrationRepository(connection: try operatorConnection())
                .upsertTenant(id: tenantID, name: name)
            print(created.uuidString.lowercased())
        }
    }
}
