import Core

/// `GET /api/me`: the caller's agent id, name, email and role in the tenant (the dashboard's "mine" filter and
/// which controls it offers).
struct GetMe: Route {
    static let method = "GET"
    static let pattern = "/api/me"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        return try .json(CallerProfile(try context.run(as: caller) { principal, _ in principal }))
    }
}
