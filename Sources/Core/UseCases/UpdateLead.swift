import FoundationEssentials

/// `PATCH /api/leads/:id`: status through the lifecycle guard, tags, a note. Each change is written to the
/// lead's activity log in the same transaction. An illegal status move is a 409 that lists what is allowed.
public struct UpdateLead {
    public struct Input: Sendable, Equatable {
        public var status: LeadStatus?
        public var tags: [String]?
        public var note: String?

        public init(status: LeadStatus? = nil, tags: [String]? = nil, note: String? = nil) {
            self.status = status
            self.tags = tags
            self.note = note
        }
    }

    let leads: any LeadRepository

    public init(leads: any LeadRepository) { self.leads = leads }

    public func run(_ principal: Principal, leadID: UUID, _ input: Input) throws -> Lead {
        guard let current = try leads.lead(tenantID: principal.tenantID, id: leadID, lockForUpdate: true) else {
            throw AppError.notFound("Lead")
        }
        var change = LeadChange()
        if let target = input.status, target != current.status {
            guard current.status.canMove(to: target) else { throw Self.illegalMove(from: current.status, to: target) }
            change.status = target
        }
        if let tags = input.tags, tags != current.tags { change.tags = tags }
        if input.note != nil { change.touch = true }

        let updated = change == LeadChange() ? current : try leads.apply(change, tenantID: principal.tenantID, id: leadID)
        if let status = change.status {
            try log(principal, leadID, "STATUS_CHANGED", ["from": .string(current.status.rawValue), "to": .string(status.rawValue)])
        }
        if let tags = change.tags {
            try log(principal, leadID, "TAGS_CHANGED", ["from": .array(current.tags.map(JSONValue.string)),
                                                        "to": .array(tags.map(JSONValue.string))])
        }
        if let note = input.note { try log(principal, leadID, "NOTE_ADDED", ["note": .string(note)]) }
        return updated
    }

    func log(_ principal: Principal, _ leadID: UUID, _ type: String, _ metadata: [String: JSONValue]) throws {
        var metadata = metadata
        metadata["actorEmail"] = .string(principal.email)
        try leads.record(ActivityEntry(leadID: leadID, actorAgentID: principal.agentID, type: type,
                                       metadata: .object(metadata)), tenantID: principal.tenantID)
    }

    /// 409 with the current status and the statuses it may move to.
    public static func illegalMove(from current: LeadStatus, to target: LeadStatus) -> AppError {
        let allowed = current.allowedNext.map(\.rawValue)
        let options = allowed.isEmpty ? "it is final" : "allowed next: \(allowed.joined(separator: ", "))"
        return AppError.conflict(
            "A \(current.rawValue) lead cannot move to \(target.rawValue) (\(options)).", code: "invalid_status_transition",
            details: ["currentStatus": [current.rawValue], "allowedNextStatuses": allowed])
    }
}
