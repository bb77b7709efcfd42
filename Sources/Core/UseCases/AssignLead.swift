import FoundationEssentials

/// `POST /api/leads/:id/assign` (Manager, Admin): gives the lead, and its conversations, to an ACTIVE agent of
/// the same tenant. A NEW lead becomes ASSIGNED; a lead further along keeps its status. AUTO_ROUND_ROBIN picks
/// the active agent with the fewest open leads.
public struct AssignLead {
    public enum Mode: String, Sendable, CaseIterable {
        case manual = "MANUAL"
        case autoRoundRobin = "AUTO_ROUND_ROBIN"
    }

    let leads: any LeadRepository

    public init(leads: any LeadRepository) { self.leads = leads }

    public func run(_ principal: Principal, leadID: UUID, agentID: UUID?, mode: Mode) throws -> Lead {
        try principal.require(AgentRole.managers)
        guard let current = try leads.lead(tenantID: principal.tenantID, id: leadID, lockForUpdate: true) else {
            throw AppError.notFound("Lead")
        }
        let agent: Membership
        switch (mode, agentID) {
        case (_, let id?):
            // Another tenant's agent reads exactly like a missing one.
            guard let found = try leads.agent(tenantID: principal.tenantID, id: id) else {
                throw AppError.invalidField("salesAgentId", "no agent with this id in this tenant.")
            }
            guard found.isActive else { throw AppError.invalidField("salesAgentId", "the agent is INACTIVE.") }
            agent = found
        case (.manual, nil):
            throw AppError.invalidField("salesAgentId", "is required for MANUAL assignment.")
        case (.autoRoundRobin, nil):
            guard let found = try leads.leastLoadedActiveAgent(tenantID: principal.tenantID) else {
                throw AppError.conflict("This tenant has no ACTIVE agent to assign to.", code: "no_active_agent")
            }
            agent = found
        }

        var change = LeadChange(assignedSalesID: agent.agentID)
        if current.status == .new { change.status = .assigned }
        let updated = try leads.apply(change, tenantID: principal.tenantID, id: leadID)
        try leads.assignConversations(tenantID: principal.tenantID, leadID: leadID, agentID: agent.agentID)

        var metadata: [String: JSONValue] = [
            "to": .string(agent.agentID.uuidString.lowercased()), "mode": .string(mode.rawValue),
            "actorEmail": .string(principal.email),
        ]
        metadata["from"] = current.assignedSalesId.map { .string($0.uuidString.lowercased()) } ?? .null
        // Assigning a lead to the agent who has it changes nothing worth a line in its history.
        if current.assignedSalesId != agent.agentID {
            try leads.record(ActivityEntry(leadID: leadID, actorAgentID: principal.agentID, type: "ASSIGNED",
                                           metadata: .object(metadata)), tenantID: principal.tenantID)
        }
        if let status = change.status {
            try leads.record(ActivityEntry(
                leadID: leadID, actorAgentID: principal.agentID, type: "STATUS_CHANGED",
                metadata: ["from": .string(current.status.rawValue), "to": .string(status.rawValue),
                           "actorEmail": .string(principal.email)]), tenantID: principal.tenantID)
        }
        return updated
    }
}
