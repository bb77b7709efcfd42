import ArgumentParser
import Core

struct ChannelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "channel", abstract: "Manage channel accounts (LINE channels, Facebook pages, Instagram accounts).",
        subcommands: [Add.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect a provider account to a tenant, or update the credentials given (others are kept). Prints its id.")

        @Option(help: "Tenant id.") var tenant: String
        @Option(help: "LINE, FACEBOOK or INSTAGRAM.") var channel: String
        @Option(help: "LINE bot user id (webhook destination), Facebook page id, or Instagram account id.")
        var externalId: String
        @Option(help: "Display name.") var name: String?
        @Option(help: "LINE channel secret, or the Meta app secret (webhook signatures).") var secret: String
        @Option(help: "LINE channel access token, or the Page access token.") var accessToken: String?
        @Option(help: "Meta webhook verify token.") var verifyToken: String?

        func validate() throws {
            guard ["LINE", "FACEBOOK", "INSTAGRAM"].contains(channel) else {
                throw ValidationError("--channel must be LINE, FACEBOOK or INSTAGRAM")
            }
        }

        func run() throws {
            var credentials: [String: String] = [:]
            if channel == "LINE" {
                credentials["channelSecret"] = secret
                credentials["channelAccessToken"] = accessToken
            } else {
                credentials["appSecret"] = secret
                credentials["pageAccessToken"] = accessToken
                credentials["verifyToken"] = verifyToken
            }
            let id = try AdministrationRepository(connection: try operatorConnection()).upsertChannelAccount(
                tenantID: try parseUUID(tenant, "--tenant"), channel: channel, externalAccountID: externalId,
                displayName: name, credentials: try PostgresJSON(encoding: credentials))
            print(id.uuidString.lowercased())
        }
    }
}
