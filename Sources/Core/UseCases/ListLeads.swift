import FoundationEssentials

/// `GET /api/leads` and `GET /api/leads/:id`.
public struct ListLeads {
    let leads: any LeadRepository

    public init(leads: any LeadRepository) { self.leads = leads }

    public func page(_ principal: Principal, filter: LeadFilter, page: PageRequest) throws -> Page<Lead> {
        if let from = filter.lastActivityFrom, let to = filter.lastActivityTo, from > to {
            throw AppError.invalidField("lastActivityFrom", "must not be later than lastActivityTo.")
        }
        let rows = try leads.leads(tenantID: principal.tenantID, filter: filter, page: page)
        return Page(rows: rows, limit: page.limit, cursor: \.sortKey)
    }

    /// The lead's history, newest first; 404 for a lead the tenant does not have.
    public func activity(_ principal: Principal, leadID: UUID, page: PageRequest) throws -> Page<ActivityItem> {
        _ = try one(principal, id: leadID)
        let rows = try leads.activity(tenantID: principal.tenantID, leadID: leadID, page: page)
        return Page(rows: rows, limit: page.limit, cursor: \.sortKey)
    }

    public func one(_ principal: Principal, id: UUID) throws -> Lead {
        guard let lead = try leads.lead(tenantID: principal.tenantID, id: id, lockForUpdate: false) else {
            throw AppError.notFound("Lead")
        }
        return lead
    }
}
