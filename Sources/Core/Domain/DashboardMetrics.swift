import FoundationEssentials

/// `GET /api/dashboard/metrics`: the manager's overview, every number computed in SQL.
public struct DashboardMetrics: Encodable, Sendable, Equatable {
    public struct AgentPerformance: Encodable, Sendable, Equatable {
        public let id: String
        public let name: String
        public let email: String
        public let role: AgentRole
        public let status: String
        public let assignedLeads: Int
        /// Assigned leads that reached CONTACTED or beyond (CONTACTED, QUALIFIED, PROPOSAL_SENT, NEGOTIATION, WON).
        public let contactedLeads: Int
        public let wonLeads: Int
        /// won / assigned, 0 when nothing is assigned.
        public let conversionRate: Double
        /// OPEN conversations assigned to the agent.
        public let activeConversations: Int

        public init(id: String, name: String, email: String, role: AgentRole, status: String, assignedLeads: Int,
                    contactedLeads: Int, wonLeads: Int, activeConversations: Int) {
            self.id = id
            self.name = name
            self.email = email
            self.role = role
            self.status = status
            self.assignedLeads = assignedLeads
            self.contactedLeads = contactedLeads
            self.wonLeads = wonLeads
            self.conversionRate = assignedLeads == 0 ? 0 : Double(wonLeads) / Double(assignedLeads)
            self.activeConversations = activeConversations
        }
    }

    public struct FunnelStage: Encodable, Sendable, Equatable {
        public let status: LeadStatus
        /// Leads in this status now.
        public let count: Int
        /// Leads in this status or further along the main path (LOST counts only for itself).
        public let reached: Int
    }

    public struct OmniSummary: Encodable, Sendable, Equatable {
        public let totalLeads: Int
        public let inbound30d: Int
        public let outbound30d: Int
        /// Customer identities (one per channel and external user).
        public let activeContacts: Int
        public let openConversations: Int
    }

    public let periodDays: Int
    public let generatedAt: Date
    public let leadsByStatus: [String: Int]
    public let leadsPerSales: [AgentPerformance]
    public let conversionFunnel: [FunnelStage]
    public let omniSummary: OmniSummary
    public let inboundByChannel30d: [String: Int]

    /// Assembles the answer from the raw counts, filling zeros for statuses and channels without rows.
    public init(periodDays: Int, generatedAt: Date, leadCounts: [LeadStatus: Int], agents: [AgentPerformance],
                inbound: Int, outbound: Int, inboundByChannel: [Channel: Int], identities: Int, openConversations: Int) {
        self.periodDays = periodDays
        self.generatedAt = generatedAt
        leadsByStatus = Dictionary(uniqueKeysWithValues: LeadStatus.allCases.map { ($0.rawValue, leadCounts[$0] ?? 0) })
        leadsPerSales = agents
        let path: [LeadStatus] = [.new, .assigned, .contacted, .qualified, .proposalSent, .negotiation, .won]
        conversionFunnel = LeadStatus.allCases.map { status in
            let count = leadCounts[status] ?? 0
            guard let position = path.firstIndex(of: status) else {
                return FunnelStage(status: status, count: count, reached: count)
            }
            let reached = path[position...].reduce(0) { $0 + (leadCounts[$1] ?? 0) }
            return FunnelStage(status: status, count: count, reached: reached)
        }
        omniSummary = OmniSummary(
            totalLeads: leadCounts.values.reduce(0, +), inbound30d: inbound, outbound30d: outbound,
            activeContacts: identities, openConversations: openConversations)
        inboundByChannel30d = Dictionary(uniqueKeysWithValues: Channel.allCases.map { ($0.rawValue, inboundByChannel[$0] ?? 0) })
    }
}
