import Core

/// `GET /api/conversations`: newest message first, with previews, unread counts, names and images in one query.
/// `assignedSalesId` takes an agent id or `unassigned`; `leadId` lists one lead's threads.
struct GetConversations: Route {
    static let method = "GET"
    static let pattern = "/api/conversations"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        var filter = ConversationFilter(
            channel: try request.queryEnum("channel", Channel.self), leadID: try request.queryUUID("leadId"))
        if let status = request.nonEmptyQuery("status") {
            guard ConversationFilter.statuses.contains(status.uppercased()) else {
                throw AppError.invalidField("status", "must be one of \(ConversationFilter.statuses.joined(separator: ", ")).")
            }
            filter.status = status.uppercased()
        }
        filter.assignment = try request.queryAssignment("assignedSalesId")
        let page = try PageRequest(query: request.query)
        return try context.run(as: caller) { principal, db in
            try .json(ListConversations(conversations: PostgresConversationRepository(connection: db))
                .page(principal, filter: filter, page: page))
        }
    }
}
