import Core

/// Maps (method, path) to a route. Patterns are matched segment by segment; a path that
/// matches with another method answers 405 with `Allow`, anything else 404.
public struct Router: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    struct Entry: Sendable {
        let method: String
        let segments: [Segment]
        let route: any Route
    }

    public enum Match {
        case found(any Route, parameters: [String: String])
        case methodNotAllowed([String])
        case notFound
    }

    private var entries: [Entry] = []

    public init(routes: [any Route] = []) {
        for r in routes { add(r) }
    }

    public mutating func add(_ route: any Route) {
        let type = Swift.type(of: route)
        entries.append(Entry(method: type.method, segments: Self.compile(type.pattern), route: route))
    }

    public func match(method: String, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        for entry in entries {
            guard let params = Self.bind(entry.segments, to: parts) else { continue }
            if entry.method == method || (method == "HEAD" && entry.method == "GET") {
                return .found(entry.route, parameters: params)
            }
            if !allowed.contains(entry.method) { allowed.append(entry.method) }
        }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed)
    }

    static func compile(_ pattern: String) -> [Segment] {
        pattern.split(separator: "/", omittingEmptySubsequences: true).map { part in
            part.hasPrefix(":") ? .parameter(String(part.dropFirst())) : .literal(String(part))
        }
    }

    static func bind(_ segments: [Segment], to parts: [Substring]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        var params: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            switch segment {
            case .literal(let text): if text != part { return nil }
            case .parameter(let name): params[name] = String(part)
            }
        }
        return params
    }
}
