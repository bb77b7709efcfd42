import FoundationEssentials

/// Turns `Authorization: Bearer …` and `x-tenant-id` into a `Principal`, or refuses:
/// 401 for a missing, malformed, forged or expired token; 400 for a missing or malformed tenant header;
/// 403 when the caller is not an ACTIVE member of that tenant.
///
/// Membership comes from `sales_agents` (tenant, email). Only when there is no row at all may the token's
/// `app_metadata.role` serve, and only if `app_metadata` also names this tenant (`tenant_id` or `tenant_ids`):
/// an identity provider's server-set claims can admit an operator, never a claim the user wrote
/// (`user_metadata` is never read). An INACTIVE row always refuses, whatever the token says.
public struct AuthenticateAgent {
    let verifier: any AccessTokenVerifier

    public init(verifier: any AccessTokenVerifier) { self.verifier = verifier }

    /// Step one, before any database work.
    public func token(authorization: String?, now: Date = Date()) throws -> VerifiedToken {
        guard let header = authorization?.trimmingCharacters(in: .whitespaces), !header.isEmpty else {
            throw AppError(status: 401, code: "missing_token", message: "Send Authorization: Bearer <token>.")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw AppError(status: 401, code: "missing_token", message: "The Authorization header must be Bearer <token>.")
        }
        return try verifier.verify(String(parts[1]).trimmingCharacters(in: .whitespaces), now: now)
    }

    public static func tenantID(header: String?) throws -> UUID {
        guard let raw = header?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else {
            throw AppError(status: 400, code: "missing_tenant", message: "The x-tenant-id header is required.",
                           details: ["field": ["x-tenant-id"]])
        }
        guard let id = UUID(uuidString: raw) else { throw AppError.invalidField("x-tenant-id", "must be a UUID.") }
        return id
    }

    /// Step two, inside the tenant-scoped transaction.
    public func principal(token: VerifiedToken, tenantID: UUID, directory: any MembershipDirectory) throws -> Principal {
        guard let email = token.email else {
            throw AppError.forbidden("The token carries no email, so it cannot be matched to an agent of this tenant.")
        }
        if let member = try directory.membership(tenantID: tenantID, email: email) {
            guard member.isActive else { throw AppError.forbidden("Your agent account in this tenant is inactive.") }
            return Principal(tenantID: tenantID, agentID: member.agentID, email: email, role: member.role, name: member.name)
        }
        if let role = Self.providerRole(token.appMetadata, tenantID: tenantID) {
            return Principal(tenantID: tenantID, agentID: nil, email: email, role: role)
        }
        throw AppError.forbidden("You are not a member of this tenant.")
    }

    /// `app_metadata.role`, only where `app_metadata` names this tenant.
    static func providerRole(_ metadata: JSONValue?, tenantID: UUID) -> AgentRole? {
        guard let metadata else { return nil }
        let tenant = tenantID.uuidString.lowercased()
        let named = (metadata["tenant_id"]?.stringValue.map { [$0] } ?? [])
            + (metadata["tenant_ids"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        guard named.contains(where: { $0.lowercased() == tenant }) else { return nil }
        return metadata["role"]?.stringValue.flatMap { AgentRole(rawValue: $0.uppercased()) }
    }
}
