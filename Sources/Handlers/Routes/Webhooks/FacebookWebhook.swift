import Core

/// `GET /api/webhook/facebook`: Meta's subscription handshake.
struct GetFacebookWebhook: Route {
    static let method = "GET"
    static let pattern = "/api/webhook/facebook"
    static let group = RouteGroup.webhooks

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        MetaHandshake.answer(try context.ingestWebhook().handshake(channel: .facebook, query: request.query))
    }
}

/// `POST /api/webhook/facebook`: Messenger messages and Page feed changes (comments).
struct PostFacebookWebhook: Route {
    static let method = "POST"
    static let pattern = "/api/webhook/facebook"
    static let group = RouteGroup.webhooks

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let outcome = try context.ingestWebhook()
            .meta(channel: .facebook, body: request.body, signature: request.header("x-hub-signature-256"))
        return context.acknowledge(outcome)
    }
}

/// The handshake's answer is the bare challenge, as text.
enum MetaHandshake {
    static func answer(_ challenge: String) -> Response {
        Response(status: 200, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(challenge.utf8))
    }
}
