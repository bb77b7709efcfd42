import FoundationEssentials

/// What a verified bearer token says about its holder. Only these claims are ever read.
public struct VerifiedToken: Sendable, Equatable {
    public let subject: String?
    /// Lower-cased and trimmed; membership is looked up by (tenant, email).
    public let email: String?
    /// `app_metadata`: set by the identity provider's server side, never by the user.
    /// `user_metadata` is deliberately not carried: the user can edit it, so it must grant nothing.
    public let appMetadata: JSONValue?

    public init(subject: String?, email: String?, appMetadata: JSONValue?) {
        self.subject = subject
        self.email = email
        self.appMetadata = appMetadata
    }
}

/// Verifies a bearer token locally (no call to the identity provider per request).
/// Throws `AppError` 401 with a message that says what was wrong, never the token itself.
public protocol AccessTokenVerifier {
    func verify(_ token: String, now: Date) throws -> VerifiedToken
}

/// An agent's membership of a tenant, as stored in `sales_agents`.
public struct Membership: Sendable, Equatable {
    public let agentID: UUID
    public let tenantID: UUID
    public let email: String
    public let name: String
    public let role: AgentRole
    public let isActive: Bool

    public init(agentID: UUID, tenantID: UUID, email: String, name: String, role: AgentRole, isActive: Bool) {
        self.agentID = agentID
        self.tenantID = tenantID
        self.email = email
        self.name = name
        self.role = role
        self.isActive = isActive
    }
}

/// Looks up memberships; runs inside the request's tenant-scoped transaction.
public protocol MembershipDirectory {
    func membership(tenantID: UUID, email: String) throws -> Membership?
}

/// Who is calling, for which tenant, in which role: the outcome of authentication.
public struct Principal: Sendable, Equatable {
    public let tenantID: UUID
    /// The caller's `sales_agents` row; nil only when the role came from `app_metadata`.
    public let agentID: UUID?
    public let email: String
    public let role: AgentRole
    /// The agent's name, when the role came from a `sales_agents` row.
    public let name: String?

    public init(tenantID: UUID, agentID: UUID?, email: String, role: AgentRole, name: String? = nil) {
        self.tenantID = tenantID
        self.agentID = agentID
        self.email = email
        self.role = role
        self.name = name
    }

    /// 403 unless the caller's role is one of `roles`.
    public func require(_ roles: Set<AgentRole>) throws {
        guard roles.contains(role) else {
            let names = AgentRole.allCases.filter(roles.contains).map(\.rawValue).joined(separator: " or ")
            throw AppError.forbidden("This action needs the \(names) role; you are \(role.rawValue).")
        }
    }
}

/// `GET /api/me`: who the dashboard is talking as.
public struct CallerProfile: Encodable, Sendable, Equatable {
    public let tenantId: String
    public let agentId: String?
    public let email: String
    public let name: String?
    public let role: AgentRole

    public init(_ p: Principal) {
        tenantId = p.tenantID.uuidString.lowercased()
        agentId = p.agentID?.uuidString.lowercased()
        email = p.email
        name = p.name
        role = p.role
    }

    enum CodingKeys: String, CodingKey { case tenantId, agentId, email, name, role }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tenantId, forKey: .tenantId)
        try c.encode(agentId, forKey: .agentId)
        try c.encode(email, forKey: .email)
        try c.encode(name, forKey: .name)
        try c.encode(role, forKey: .role)
    }
}
