import Core

/// `GET /api/health/live`: no auth, no database. Says the responder pool answers, for load
/// balancers and supervisors that must not take a node out because PostgreSQL blinked
/// (`GET /api/health` is the readiness check that includes the database).
struct GetLiveness: Route {
    static let method = "GET"
    static let pattern = "/api/health/live"
    static let group = RouteGroup.api
    static let body = Array(#"{"status":"ok"}"#.utf8)

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        Response(status: 200, headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")], body: Self.body)
    }
}
