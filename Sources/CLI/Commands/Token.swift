import ArgumentParser
import Core

struct Token: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Mint a bearer token (HS256, HUBCHAT_JWT_SECRET) for an agent of a tenant. Prints the token.")

    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "The agent's email.") var email: String
    @Option(help: "Lifetime in hours.") var ttlHours: Int = 12

    func run() throws {
        let secret = try Environment.process.required("HUBCHAT_JWT_SECRET")
        let tenantID = try parseUUID(tenant, "--tenant")
        guard let agent = try AdministrationRepository(connection: try operatorConnection())
            .agent(tenantID: tenantID, email: email)
        else { throw ValidationError("no agent \(email) in tenant \(tenant); add it with `hubchat agent add`") }
        guard (1...24 * 366).contains(ttlHours) else { throw ValidationError("--ttl-hours must be 1...8784") }
        // The claims the API checks (HUBCHAT_JWT_ISSUER, the first of HUBCHAT_JWT_AUDIENCE), so the token passes.
        let env = Environment.process
        let audience = env.string("HUBCHAT_JWT_AUDIENCE", default: "authenticated")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty && $0 != "*" }
        print(try JWTMinter(secret: secret).mint(
            subject: agent.id.uuidString.lowercased(), email: agent.email, tenantID: nil, ttlSeconds: ttlHours * 3600,
            issuer: env.string("HUBCHAT_JWT_ISSUER") ?? "hubchat", audience: audience ?? "authenticated"))
    }
}
