/// Where a lead is in its lifecycle.
///
/// NEW → ASSIGNED → CONTACTED → QUALIFIED → PROPOSAL_SENT → NEGOTIATION → WON; any non-final status may go to LOST;
/// WON and LOST are final; staying in the same status is allowed. The database enforces the same table
/// (`lead_status_transition_allowed` in schema/0004); a test checks that both agree on every pair.
public enum LeadStatus: String, Sendable, CaseIterable, Codable {
    case new = "NEW"
    case assigned = "ASSIGNED"
    case contacted = "CONTACTED"
    case qualified = "QUALIFIED"
    case proposalSent = "PROPOSAL_SENT"
    case negotiation = "NEGOTIATION"
    case won = "WON"
    case lost = "LOST"

    public var isFinal: Bool { self == .won || self == .lost }

    /// The one forward step of the main path, if any.
    var nextOnPath: LeadStatus? {
        switch self {
        case .new: return .assigned
        case .assigned: return .contacted
        case .contacted: return .qualified
        case .qualified: return .proposalSent
        case .proposalSent: return .negotiation
        case .negotiation: return .won
        case .won, .lost: return nil
        }
    }

    /// Statuses a lead in this status may move to, other than staying where it is.
    public var allowedNext: [LeadStatus] {
        guard !isFinal else { return [] }
        return [nextOnPath, .lost].compactMap { $0 }
    }

    public func canMove(to target: LeadStatus) -> Bool {
        target == self || allowedNext.contains(target)
    }

    /// Statuses that mean the agent has talked with the customer (the "contacted" count of the dashboard).
    public var hasBeenContacted: Bool {
        switch self {
        case .contacted, .qualified, .proposalSent, .negotiation, .won: return true
        case .new, .assigned, .lost: return false
        }
    }
}

/// What an agent may do. Membership and role come from an ACTIVE `sales_agents` row.
public enum AgentRole: String, Sendable, CaseIterable, Codable {
    case sales = "SALES"
    case manager = "MANAGER"
    case admin = "ADMIN"

    public static let everyone: Set<AgentRole> = [.sales, .manager, .admin]
    public static let managers: Set<AgentRole> = [.manager, .admin]
}
