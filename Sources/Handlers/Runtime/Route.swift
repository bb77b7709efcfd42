import Core

/// Which FastCGI pool serves a route. Webhooks have their own pool so that a slow dashboard
/// query never delays a provider's delivery.
public enum RouteGroup: String, Sendable, CaseIterable {
    case webhooks
    case api
}

/// One API route: a stateless function from request to response, like a serverless handler.
/// Parse and validate, call one use case, render the answer.
public protocol Route: Sendable {
    static var method: String { get }
    /// Segments separated by `/`; `:name` captures one segment.
    static var pattern: String { get }
    static var group: RouteGroup { get }
    func handle(_ request: Request, _ context: RequestContext) throws -> Response
}
