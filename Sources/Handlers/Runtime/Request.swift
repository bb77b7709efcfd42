import Core

/// An HTTP request as a route sees it: what nginx passed, decoded once.
public struct Request: Sendable {
    public let method: String
    /// The normalised, percent-decoded path (nginx's `$uri`).
    public let path: String
    public let query: [String: String]
    /// Header names in lower case.
    public let headers: [String: String]
    public let body: [UInt8]
    public var pathParameters: [String: String] = [:]
    /// nginx's `$request_id`, also returned as `X-Request-Id` and in every log line.
    public let requestID: String

    public init(method: String, path: String, query: [String: String] = [:], headers: [String: String] = [:],
                body: [UInt8] = [], requestID: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.requestID = requestID
    }

    public func header(_ name: String) -> String? { headers[name.lowercased()] }

    /// A path parameter the router matched, e.g. `:id`.
    public func pathParameter(_ name: String) throws -> String {
        guard let v = pathParameters[name] else { throw AppError.notFound("Resource") }
        return v
    }

    /// `HTTP_X_LINE_SIGNATURE` → `x-line-signature`, on ASCII bytes (no Foundation, no locale).
    static func headerName(fromCGI key: String) -> String {
        String(decoding: key.utf8.dropFirst(5).map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "_"): return UInt8(ascii: "-")
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return byte + 32
            default: return byte
            }
        }, as: UTF8.self)
    }

    /// Builds a request from FastCGI parameters (CGI/1.1 names).
    static func fromFastCGI(parameters p: [String: String], body: [UInt8]) throws -> Request {
        var headers: [String: String] = [:]
        for (key, value) in p where key.hasPrefix("HTTP_") {
            headers[Self.headerName(fromCGI: key)] = value
        }
        if let type = p["CONTENT_TYPE"], !type.isEmpty { headers["content-type"] = type }
        if let length = p["CONTENT_LENGTH"], !length.isEmpty { headers["content-length"] = length }
        let path = p["DOCUMENT_URI"] ?? p["SCRIPT_NAME"] ?? "/"
        return Request(
            method: p["REQUEST_METHOD"] ?? "GET", path: path,
            query: try QueryString.parse(p["QUERY_STRING"] ?? ""), headers: headers, body: body,
            requestID: p["REQUEST_ID"] ?? "")
    }
}

/// `application/x-www-form-urlencoded` query strings, strictly: a malformed escape is a 400,
/// not a silently different value.
enum QueryString {
    static func parse(_ text: String) throws -> [String: String] {
        var out: [String: String] = [:]
        guard !text.isEmpty else { return out }
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = try decode(parts[0])
            let value = parts.count > 1 ? try decode(parts[1]) : ""
            if out[key] == nil { out[key] = value }
        }
        return out
    }

    static func decode(_ s: Substring) throws -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let c = it.next() {
            switch c {
            case UInt8(ascii: "+"): bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let h = it.next(), let l = it.next(), let v = Hex.decode(String(decoding: [h, l], as: UTF8.self))
                else { throw AppError.badRequest("The query string has a malformed percent escape.", code: "invalid_query") }
                bytes.append(v[0])
            default: bytes.append(c)
            }
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else {
            throw AppError.badRequest("The query string is not valid UTF-8.", code: "invalid_query")
        }
        return decoded
    }
}

import FoundationEssentials
