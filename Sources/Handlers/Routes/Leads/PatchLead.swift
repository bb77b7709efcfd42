import Core

/// `PATCH /api/leads/:id` with `{status?, tags?, note?}`: the status moves only along the lifecycle (409 with
/// the allowed next statuses otherwise); each change lands in the activity log.
struct PatchLead: Route {
    static let method = "PATCH"
    static let pattern = "/api/leads/:id"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let id = try request.uuidParameter("id")
        let body = try request.jsonObject(allowing: ["status", "tags", "note"])
        let input = UpdateLead.Input(
            status: try body.enumValue("status", LeadStatus.self),
            tags: try body.stringSet("tags", length: 1...50, maxCount: 50),
            note: try body.string("note", length: 1...4000))
        guard input != UpdateLead.Input() else {
            throw AppError.badRequest("Send at least one of status, tags, note.", code: "empty_update")
        }
        let lead = try context.run(as: caller) { principal, db in
            try UpdateLead(leads: PostgresLeadRepository(connection: db)).run(principal, leadID: id, input)
        }
        context.realtime.publish(RealtimeEvent(type: "lead.updated", tenantID: caller.tenantID, leadID: lead.id))
        return try .json(lead)
    }
}
