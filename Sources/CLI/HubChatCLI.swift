import ArgumentParser
import Core
import Logging

@main
struct HubChatCLI: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hubchat",
        abstract: "Operate HubChat: migrate the database, provision tenants, agents and channel accounts, mint tokens, "
            + "replay dead letters.",
        subcommands: [Migrate.self, TenantCommand.self, AgentCommand.self, ChannelCommand.self, Token.self,
                      DeadLettersCommand.self, LoadTestCommand.self, ValidateCommand.self])
}

/// The database connection the CLI works through: system scope, since an operator
/// provisions across tenants.
func operatorConnection() throws -> PostgresConnection {
    let env = Environment.process
    let url = try env.required("DATABASE_URL")
    return try PostgresConnection(settings: .init(
        url: url, applicationName: "hubchat-cli", statementTimeoutMilliseconds: 600_000, systemScope: true))
}

func parseUUID(_ text: String, _ option: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else { throw ValidationError("\(option) must be a UUID") }
    return id
}

import FoundationEssentials
