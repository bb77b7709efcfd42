/// Outbound HTTP, as the channel adapters and the CLI need it. The production adapter is
/// libcurl; tests point base URLs at the provider simulator.
public protocol HTTPClient {
    func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse
}

public struct HTTPRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]
    public var timeoutMilliseconds: Int
    /// A response body longer than this fails with `responseTooLarge` as soon as it passes the limit, so a
    /// download is never held in memory whole to be refused afterwards.
    public var maxResponseBytes: Int?

    public init(method: String = "GET", url: String, headers: [(String, String)] = [], body: [UInt8] = [],
                timeoutMilliseconds: Int = 10_000, maxResponseBytes: Int? = nil) {
        self.maxResponseBytes = maxResponseBytes
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMilliseconds = timeoutMilliseconds
    }
}

public struct HTTPResponse: Sendable {
    public let status: Int
    /// Header names in lower case; a repeated header keeps its last value.
    public let headers: [String: String]
    public let body: [UInt8]
    public let elapsedMilliseconds: Double

    public var text: String { String(decoding: body, as: UTF8.self) }
}

/// A request that got no HTTP answer at all (as opposed to an error status).
public enum HTTPClientError: Error, Sendable, CustomStringConvertible {
    case timedOut(String)
    /// The request never left: the host could not be resolved or connected to. Safe to send again.
    case notSent(String)
    /// Failed on the way; the other side may or may not have acted on the request.
    case transport(String)
    case invalidRequest(String)
    /// The body passed `HTTPRequest.maxResponseBytes`; the transfer was stopped there.
    case responseTooLarge(limit: Int)

    public var description: String {
        switch self {
        case .responseTooLarge(let limit): return "response body over \(limit) bytes"
        case .timedOut(let m): return "timed out: \(m)"
        case .notSent(let m): return "not sent: \(m)"
        case .transport(let m): return "transport error: \(m)"
        case .invalidRequest(let m): return "invalid request: \(m)"
        }
    }
}
