import FoundationEssentials

/// The dashboard's aggregates, each a grouped count PostgreSQL answers from an index (no row reaches the
/// application that is not already a total). On a tenant with 100k leads and 1M messages see docs/benchmarks.md.
public struct PostgresDashboardMetrics: DashboardMetricsQuery {
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    /// Agents shown: every ACTIVE agent, and inactive ones that still hold leads. Bounded: a tenant with more
    /// agents than this gets the busiest ones.
    static let agentLimit = 500

    public func metrics(tenantID: UUID, periodDays: Int) throws -> DashboardMetrics {
        var leadCounts: [LeadStatus: Int] = [:]
        for row in try connection.query(
            "SELECT status, count(*)::int8 AS n FROM leads WHERE tenant_id = $1 GROUP BY status", [tenantID]).rows {
            if let status = LeadStatus(rawValue: try row.decode("status")) { leadCounts[status] = try row.decode("n") }
        }

        let agents = try connection.query("""
            WITH per_agent AS (
                SELECT assigned_sales_id AS agent_id, count(*) AS assigned,
                       count(*) FILTER (WHERE status IN ('CONTACTED', 'QUALIFIED', 'PROPOSAL_SENT', 'NEGOTIATION', 'WON'))
                           AS contacted,
                       count(*) FILTER (WHERE status = 'WON') AS won
                  FROM leads WHERE tenant_id = $1 AND assigned_sales_id IS NOT NULL
                 GROUP BY assigned_sales_id
            ), open_threads AS (
                SELECT assigned_agent_id AS agent_id, count(*) AS open
                  FROM conversations WHERE tenant_id = $1 AND status = 'OPEN' AND assigned_agent_id IS NOT NULL
                 GROUP BY assigned_agent_id
            )
            SELECT a.id, a.name, a.email, a.role, a.status, coalesce(p.assigned, 0)::int8 AS assigned,
                   coalesce(p.contacted, 0)::int8 AS contacted, coalesce(p.won, 0)::int8 AS won,
                   coalesce(o.open, 0)::int8 AS open
              FROM sales_agents a
              LEFT JOIN per_agent p ON p.agent_id = a.id
              LEFT JOIN open_threads o ON o.agent_id = a.id
             WHERE a.tenant_id = $1 AND (a.status = 'ACTIVE' OR p.assigned > 0)
             ORDER BY coalesce(p.assigned, 0) DESC, a.name, a.id
             LIMIT $2
            """, [tenantID, Self.agentLimit]).rows.map { row in
            DashboardMetrics.AgentPerformance(
                id: try row.decode("id"), name: try row.decode("name"), email: try row.decode("email"),
                role: AgentRole(rawValue: try row.decode("role")) ?? .sales, status: try row.decode("status"),
                assignedLeads: try row.decode("assigned"), contactedLeads: try row.decode("contacted"),
                wonLeads: try row.decode("won"), activeConversations: try row.decode("open"))
        }

        var inbound = 0, outbound = 0
        var inboundByChannel: [Channel: Int] = [:]
        for row in try connection.query("""
            SELECT direction, channel, count(*)::int8 AS n FROM messages
             WHERE tenant_id = $1 AND created_at >= now() - make_interval(days => $2)
             GROUP BY direction, channel
            """, [tenantID, periodDays]).rows {
            let n: Int = try row.decode("n")
            if try row.decode("direction") == "INBOUND" {
                inbound += n
                if let channel = Channel(rawValue: try row.decode("channel")) { inboundByChannel[channel, default: 0] += n }
            } else {
                outbound += n
            }
        }

        let totals = try connection.query("""
            SELECT (SELECT count(*) FROM contact_identities WHERE tenant_id = $1)::int8 AS identities,
                   (SELECT count(*) FROM conversations WHERE tenant_id = $1 AND status = 'OPEN')::int8 AS open
            """, [tenantID]).first!
        return DashboardMetrics(
            periodDays: periodDays, generatedAt: Date(), leadCounts: leadCounts, agents: agents, inbound: inbound,
            outbound: outbound, inboundByChannel: inboundByChannel, identities: try totals.decode("identities"),
            openConversations: try totals.decode("open"))
    }
}
