import FoundationEssentials

/// Tenants, agents and channel accounts as operators create them (CLI, installers).
/// Every write is an upsert so that provisioning scripts can run again safely.
public struct AdministrationRepository {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public struct Agent: Sendable, Equatable {
        public let id: UUID
        public let tenantID: UUID
        public let email: String
        public let name: String
        public let role: String
        public let status: String
    }

    @discardableResult
    public func upsertTenant(id: UUID?, name: String) throws -> UUID {
        let row = try connection.query("""
            INSERT INTO tenants (id, name) VALUES (coalesce($1::uuid, gen_random_uuid()), $2)
            ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name
            RETURNING id
            """, [id, name]).first!
        return try row.decode("id")
    }

    @discardableResult
    /// A new agent takes role SALES and status ACTIVE unless told otherwise; an existing one keeps what is not given.
    public func upsertAgent(tenantID: UUID, email: String, name: String, role: String?, status: String?) throws -> Agent {
        let row = try connection.query("""
            INSERT INTO sales_agents AS a (tenant_id, email, name, role, status)
            VALUES ($1, lower(btrim($2)), $3, coalesce($4, 'SALES'), coalesce($5, 'ACTIVE'))
            ON CONFLICT (tenant_id, email) DO UPDATE
               SET name = EXCLUDED.name, role = coalesce($4, a.role), status = coalesce($5, a.status)
            RETURNING id, tenant_id, email, name, role, status
            """, [tenantID, email, name, role, status]).first!
        return try Self.agent(row)
    }

    public func agent(tenantID: UUID, email: String) throws -> Agent? {
        try connection.query("""
            SELECT id, tenant_id, email, name, role, status FROM sales_agents
             WHERE tenant_id = $1 AND email = lower(btrim($2))
            """, [tenantID, email]).first.map(Self.agent)
    }

    /// `credentials` holds secrets; it is written here and never read back into a log.
    @discardableResult
    public func upsertChannelAccount(
        tenantID: UUID, channel: String, externalAccountID: String, displayName: String?, credentials: PostgresJSON
    ) throws -> UUID {
        let upserted = try connection.query("""
            INSERT INTO channel_accounts (tenant_id, channel, external_account_id, display_name, credentials)
            VALUES ($1, $2, $3, $4, $5::jsonb)
            ON CONFLICT (channel, external_account_id) DO UPDATE
               -- What the command was not given is kept: rotating a secret must not erase the access token.
               SET display_name = coalesce(EXCLUDED.display_name, channel_accounts.display_name),
                   credentials = channel_accounts.credentials || EXCLUDED.credentials, is_active = true
             WHERE channel_accounts.tenant_id = EXCLUDED.tenant_id
            RETURNING id
            """, [tenantID, channel, externalAccountID, displayName, credentials]).first
        guard let row = upserted else {
            throw AppError.conflict("\(channel) account \(externalAccountID) already belongs to another tenant.")
        }
        return try row.decode("id")
    }

    private static func agent(_ row: PostgresRow) throws -> Agent {
        Agent(id: try row.decode("id"), tenantID: try row.decode("tenant_id"), email: try row.decode("email"),
              name: try row.decode("name"), role: try row.decode("role"), status: try row.decode("status"))
    }
}
