import Core

/// `POST /api/leads/:id/assign` with `{salesAgentId, mode?}` (Manager, Admin).
struct PostLeadAssign: Route {
    static let method = "POST"
    static let pattern = "/api/leads/:id/assign"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let id = try request.uuidParameter("id")
        // Managers only: a Sales agent learns that (403) whatever the body says, so the body is read after the role.
        let lead = try context.run(as: caller, roles: AgentRole.managers) { principal, db in
            let body = try request.jsonObject(allowing: ["salesAgentId", "mode"])
            let agentID = try body.uuid("salesAgentId")
            let mode = try body.enumValue("mode", AssignLead.Mode.self) ?? .manual
            return try AssignLead(leads: PostgresLeadRepository(connection: db))
                .run(principal, leadID: id, agentID: agentID, mode: mode)
        }
        context.realtime.publish(RealtimeEvent(type: "lead.updated", tenantID: caller.tenantID, leadID: lead.id))
        return try .json(lead)
    }
}
