import Core

/// `POST /api/webhook/line`: a LINE delivery (a batch of events, or the console's empty ping).
struct PostLineWebhook: Route {
    static let method = "POST"
    static let pattern = "/api/webhook/line"
    static let group = RouteGroup.webhooks

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let outcome = try context.ingestWebhook().line(body: request.body, signature: request.header("x-line-signature"))
        return context.acknowledge(outcome)
    }
}
