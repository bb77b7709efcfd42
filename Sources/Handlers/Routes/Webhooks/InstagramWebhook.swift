import Core

/// `GET /api/webhook/instagram`: Meta's handshake (the Instagram verify token, or Facebook's).
struct GetInstagramWebhook: Route {
    static let method = "GET"
    static let pattern = "/api/webhook/instagram"
    static let group = RouteGroup.webhooks

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        MetaHandshake.answer(try context.ingestWebhook().handshake(channel: .instagram, query: request.query))
    }
}

/// `POST /api/webhook/instagram`: Instagram direct messages.
struct PostInstagramWebhook: Route {
    static let method = "POST"
    static let pattern = "/api/webhook/instagram"
    static let group = RouteGroup.webhooks

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let outcome = try context.ingestWebhook()
            .meta(channel: .instagram, body: request.body, signature: request.header("x-hub-signature-256"))
        return context.acknowledge(outcome)
    }
}
