import Core

/// `GET /api/health`: no auth; 200 when the database answers, 503 when it does not.
struct GetHealth: Route {
    static let method = "GET"
    static let pattern = "/api/health"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let report = CheckHealth(version: context.config.version)(probe: {
            PostgresHealthProbe(connection: try context.database())
        })
        var response = try Response.json(report, status: report.isHealthy ? 200 : 503)
        response.headers.append(("Cache-Control", "no-store"))
        return response
    }
}
