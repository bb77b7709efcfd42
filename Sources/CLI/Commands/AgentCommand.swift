import ArgumentParser
import Core
import Logging

struct AgentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent", abstract: "Manage sales agents.", subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or update an agent of a tenant (unique by email); what is not given stays. Prints its id.")

        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "Login email; tokens name the agent by it.") var email: String
        @Option(help: "Display name.") var name: String
        @Option(help: "SALES, MANAGER or ADMIN (a new agent: SALES; an existing one keeps theirs).") var role: String?
        @Option(help: "ACTIVE or INACTIVE (a new agent: ACTIVE; an existing one keeps theirs).") var status: String?

        func validate() throws {
            if let role, !["SALES", "MANAGER", "ADMIN"].contains(role) {
                throw ValidationError("--role must be SALES, MANAGER or ADMIN")
            }
            if let status, !["ACTIVE", "INACTIVE"].contains(status) {
                throw ValidationError("--status must be ACTIVE or INACTIVE")
            }
            guard email.contains("@") else { throw ValidationError("--email must be an email address") }
        }

        func run() throws {
            let agent = try AdministrationRepository(connection: try operatorConnection()).upsertAgent(
                tenantID: try parseUUID(tenant, "--tenant"), email: email, name: name, role: role, status: status)
            // An agent who may no longer see the tenant also stops seeing its live events: open dashboards' streams
            // end, and their reconnection is refused.
            if status == "INACTIVE" { realtimePublisher().endStreams(ofAgent: agent.id) }
            print(agent.id.uuidString.lowercased())
        }
    }
}

/// The stack's realtime fan-out (HUBCHAT_REALTIME_PUBLISH_URL), or nowhere when it has none.
func realtimePublisher() -> any RealtimePublisher {
    guard let url = Environment.process.string("HUBCHAT_REALTIME_PUBLISH_URL"), let http = try? CurlHTTPClient() else {
        return NoRealtimePublisher()
    }
    return NchanRealtimePublisher(http: http, baseURL: url, logger: Logger(label: "hubchat.cli"))
}
