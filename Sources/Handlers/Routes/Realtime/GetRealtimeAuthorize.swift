import Core

/// nginx asks this (auth_request) before nchan lets a browser subscribe to `GET /api/realtime?tenant=…&access_token=…`
/// (EventSource cannot send headers, so the token rides in the query; nginx logs paths without queries).
/// 204 when the token is valid and its holder an ACTIVE member of that tenant, and the channel nchan is about to
/// open is exactly that tenant's (with the member's own channel in `X-HubChat-Member-Channel`); 401/403 otherwise (auth_request turns any other refusal into a 500, so a
/// malformed tenant id is a 403 too). Reached only through nginx's internal authorize location.
struct GetRealtimeAuthorize: Route {
    static let method = "GET"
    static let pattern = "/api/realtime/authorize"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        do {
            return try authorize(request, context)
        } catch let error as AppError where error.status != 401 && (400..<500).contains(error.status) {
            throw AppError.forbidden(error.message)
        }
    }

    private func authorize(_ request: Request, _ context: RequestContext) throws -> Response {
        let original = request.header("x-original-uri") ?? ""
        let query = try original.split(separator: "?", maxSplits: 1).dropFirst().first.map { try QueryString.parse(String($0)) } ?? [:]
        let token = request.header("authorization") ?? query["access_token"].map { "Bearer " + $0 }
        let subscriber = Request(method: "GET", path: "/api/realtime", query: query, headers: [
            "authorization": token ?? "", "x-tenant-id": query["tenant"] ?? "",
        ], requestID: request.requestID)
        let caller = try context.caller(subscriber)
        guard request.header("x-channel-id") == RealtimeChannel.tenant(caller.tenantID) else {
            throw AppError.forbidden("The channel does not belong to this tenant.")
        }
        let principal = try context.run(as: caller) { principal, _ in principal }
        // nginx subscribes the stream to this member channel as well (auth_request_set), so that deactivating the
        // agent can end it (RealtimePublisher.endStreams).
        var response = Response(status: 204)
        response.headers.append(("X-HubChat-Member-Channel", RealtimeChannel.member(of: principal)))
        return response
    }
}
