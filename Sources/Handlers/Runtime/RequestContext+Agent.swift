import Core
import FoundationEssentials

/// A request's credentials, checked before anything else about the request: a verified token and the tenant
/// it asks to act in. Membership is not known yet (that needs the database).
struct Caller {
    let token: VerifiedToken
    let tenantID: UUID
}

extension RequestContext {
    /// Step one of every REST route, before its input is parsed: 401 for a missing or bad token, 400 for a
    /// missing or malformed `x-tenant-id`. No database work.
    func caller(_ request: Request) throws -> Caller {
        let token = try AuthenticateAgent(verifier: tokenVerifier).token(authorization: request.header("authorization"))
        return Caller(token: token, tenantID: try AuthenticateAgent.tenantID(header: request.header("x-tenant-id")))
    }

    /// Runs `body` as the calling agent, in one transaction that row-level security scopes to the caller's tenant.
    /// Membership and role are read from `sales_agents` inside that transaction (403 when not an ACTIVE member or
    /// not in `roles`), so the check and the work see the same state.
    func run<T>(as caller: Caller, roles: Set<AgentRole> = AgentRole.everyone,
                _ body: (Principal, PostgresConnection) throws -> T) throws -> T {
        let db = try database()
        return try db.transaction(tenant: caller.tenantID) {
            let principal = try AuthenticateAgent(verifier: tokenVerifier).principal(
                token: caller.token, tenantID: caller.tenantID, directory: PostgresMembershipDirectory(connection: db))
            try principal.require(roles)
            logger[metadataKey: "tenantId"] = .string(caller.tenantID.uuidString.lowercased())
            if let agent = principal.agentID { logger[metadataKey: "agentId"] = .string(agent.uuidString.lowercased()) }
            return try body(principal, db)
        }
    }
}
