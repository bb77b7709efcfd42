import FoundationEssentials

/// Leads, their activity and agent lookups for assignment, in PostgreSQL.
public struct PostgresLeadRepository: LeadRepository {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    static let columns = """
        l.id, l.tenant_id, l.contact_id, l.source_channel, l.external_user_id, l.name, l.phone, l.email, l.status,
        l.status_changed_at, l.assigned_sales_id, l.assigned_at, l.tags, l.score, l.last_contact_at, l.created_at,
        l.updated_at, \(PostgresKeyset.sortKeyColumn("l.updated_at"))
        """

    public func leads(tenantID: UUID, filter: LeadFilter, page: PageRequest) throws -> [Lead] {
        // Only which filters are present shapes the statement; every value is a parameter. Unnamed statements are
        // planned with their values, so each filter gets the index that matches it.
        var query = PostgresKeysetQuery("SELECT \(Self.columns) FROM leads l WHERE l.tenant_id = $1", [tenantID])
        if let status = filter.status { query.filter("l.status = $?", status.rawValue) }
        if let channel = filter.channel { query.filter("l.source_channel = $?", channel.rawValue) }
        switch filter.assignment {
        case .agent(let id)?: query.filter("l.assigned_sales_id = $?", id)
        case .unassigned?: query.filter("l.assigned_sales_id IS NULL")
        case nil: break
        }
        if let from = filter.lastActivityFrom { query.filter("l.updated_at >= $?", from) }
        if let to = filter.lastActivityTo { query.filter("l.updated_at <= $?", to) }
        let (sql, parameters) = query.page(page, timestamp: "l.updated_at", id: "l.id")
        return try connection.query(sql, parameters).rows.map(Self.lead)
    }

    public func lead(tenantID: UUID, id: UUID, lockForUpdate: Bool) throws -> Lead? {
        try connection.query(
            "SELECT \(Self.columns) FROM leads l WHERE l.tenant_id = $1 AND l.id = $2" + (lockForUpdate ? " FOR NO KEY UPDATE" : ""),
            [tenantID, id]
        ).first.map(Self.lead)
    }

    public func apply(_ change: LeadChange, tenantID: UUID, id: UUID) throws -> Lead {
        let row = try connection.query("""
            UPDATE leads l
               SET status = coalesce($3, l.status),
                   tags = coalesce($4::text[], l.tags),
                   assigned_at = CASE WHEN $5::uuid IS DISTINCT FROM l.assigned_sales_id AND $5::uuid IS NOT NULL
                                      THEN now() ELSE l.assigned_at END,
                   assigned_sales_id = coalesce($5::uuid, l.assigned_sales_id),
                   updated_at = CASE WHEN $6 THEN now() ELSE l.updated_at END
             WHERE l.tenant_id = $1 AND l.id = $2
            RETURNING \(Self.columns)
            """, [tenantID, id, change.status?.rawValue, change.tags.map { PostgresTextArray($0) }, change.assignedSalesID,
                change.touch]
        ).first
        guard let row else { throw AppError.notFound("Lead") }
        return try Self.lead(row)
    }

    public func assignConversations(tenantID: UUID, leadID: UUID, agentID: UUID) throws {
        try connection.query("""
            UPDATE conversations SET assigned_agent_id = $3
             WHERE tenant_id = $1 AND lead_id = $2 AND assigned_agent_id IS DISTINCT FROM $3
            """, [tenantID, leadID, agentID])
    }

    public func record(_ entry: ActivityEntry, tenantID: UUID) throws {
        try connection.query("""
            INSERT INTO activity_logs (tenant_id, lead_id, actor_type, actor_agent_id, type, metadata)
            VALUES ($1, $2, 'AGENT', $3, $4, $5::jsonb)
            """, [tenantID, entry.leadID, entry.actorAgentID, entry.type, PostgresJSON(entry.metadata.serialized())])
    }

    public func activity(tenantID: UUID, leadID: UUID, page: PageRequest) throws -> [ActivityItem] {
        let (sql, parameters) = PostgresKeysetQuery("""
            SELECT a.id, a.type, a.actor_type, a.actor_agent_id, a.conversation_id, a.message_id, a.metadata::text AS metadata,
                   a.created_at, \(PostgresKeyset.sortKeyColumn("a.created_at"))
              FROM activity_logs a
             WHERE a.tenant_id = $1 AND a.lead_id = $2
            """, [tenantID, leadID]).page(page, timestamp: "a.created_at", id: "a.id")
        return try connection.query(sql, parameters).rows.map { row in
            ActivityItem(
                id: try row.decode("id"), type: try row.decode("type"), actorType: try row.decode("actor_type"),
                actorAgentId: try row.decodeIfPresent("actor_agent_id"), conversationId: try row.decodeIfPresent("conversation_id"),
                messageId: try row.decodeIfPresent("message_id"),
                metadata: (try? JSONValue.parse(try row.decode("metadata") as String)) ?? .object([:]),
                createdAt: try row.decode("created_at"), sortKey: try PostgresKeyset.cursor(row))
        }
    }

    public func agent(tenantID: UUID, id: UUID) throws -> Membership? {
        try connection.query("""
            SELECT id, tenant_id, email, name, role, status FROM sales_agents WHERE tenant_id = $1 AND id = $2
            """, [tenantID, id]).first.map(PostgresMembershipDirectory.membership)
    }

    public func leastLoadedActiveAgent(tenantID: UUID) throws -> Membership? {
        // Automatic assignments of one tenant take turns until their transactions end: two at once would count the
        // same loads and pile leads on one agent. (A statement after the lock reads what the one before committed.)
        try connection.query("SELECT pg_advisory_xact_lock(hashtextextended('hubchat:auto-assign:' || $1::text, 0))",
                             [tenantID])
        // Sales agents first, then whoever carries the fewest open leads (an index-only count per agent on
        // leads_assigned_list_idx), oldest agent first on a tie.
        return try connection.query("""
            SELECT a.id, a.tenant_id, a.email, a.name, a.role, a.status
              FROM sales_agents a
             WHERE a.tenant_id = $1 AND a.status = 'ACTIVE'
             ORDER BY a.role <> 'SALES',
                      (SELECT count(*) FROM leads l
                        WHERE l.tenant_id = $1 AND l.assigned_sales_id = a.id AND l.status NOT IN ('WON', 'LOST')),
                      a.created_at, a.id
             LIMIT 1
            """, [tenantID]).first.map(PostgresMembershipDirectory.membership)
    }

    static func lead(_ row: PostgresRow) throws -> Lead {
        guard let channel = Channel(rawValue: try row.decode("source_channel")),
              let status = LeadStatus(rawValue: try row.decode("status"))
        else { throw PostgresError.decoding(column: "status", message: "unknown channel or status") }
        return Lead(
            id: try row.decode("id"), tenantId: try row.decode("tenant_id"), contactId: try row.decodeIfPresent("contact_id"),
            sourceChannel: channel, externalUserId: try row.decode("external_user_id"), name: try row.decodeIfPresent("name"),
            phone: try row.decodeIfPresent("phone"), email: try row.decodeIfPresent("email"), status: status,
            statusChangedAt: try row.decode("status_changed_at"), assignedSalesId: try row.decodeIfPresent("assigned_sales_id"),
            assignedAt: try row.decodeIfPresent("assigned_at"), tags: try row.decode("tags"), score: try row.decode("score"),
            lastContactAt: try row.decodeIfPresent("last_contact_at"), createdAt: try row.decode("created_at"),
            updatedAt: try row.decode("updated_at"), sortKey: try PostgresKeyset.cursor(row))
    }
}

/// `sales_agents` as the authentication step reads it.
public struct PostgresMembershipDirectory: MembershipDirectory {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    static let statement = PreparedStatement("membership_by_email", """
        SELECT id, tenant_id, email, name, role, status FROM sales_agents WHERE tenant_id = $1 AND email = $2
        """)

    public func membership(tenantID: UUID, email: String) throws -> Membership? {
        try connection.query(Self.statement, [tenantID, email]).first.map(Self.membership)
    }

    static func membership(_ row: PostgresRow) throws -> Membership {
        guard let role = AgentRole(rawValue: try row.decode("role")) else {
            throw PostgresError.decoding(column: "role", message: "unknown role")
        }
        return Membership(agentID: try row.decode("id"), tenantID: try row.decode("tenant_id"), email: try row.decode("email"),
                          name: try row.decode("name"), role: role, isActive: try row.decode("status") == "ACTIVE")
    }
}
