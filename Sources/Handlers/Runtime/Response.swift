import Core
import FoundationEssentials

/// What a route answers: status, headers and body bytes.
public struct Response: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body from any Encodable value (camelCase keys, ISO 8601 dates).
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> Response {
        let data = try JSONCoding.encoder.encode(value)
        return Response(status: status, headers: [("Content-Type", "application/json")], body: Array(data))
    }

    /// `{"error": {"code", "message", "details"?, "requestId"}}`: the one shape of every error.
    public static func error(_ error: AppError, requestID: String) -> Response {
        var out = "{\"error\":{\"code\":" + JSONText.quoted(error.code) + ",\"message\":" + JSONText.quoted(error.message)
        if !error.details.isEmpty {
            out += ",\"details\":{"
            out += error.details.keys.sorted().map { key in
                JSONText.quoted(key) + ":[" + error.details[key]!.map(JSONText.quoted).joined(separator: ",") + "]"
            }.joined(separator: ",")
            out += "}"
        }
        if !requestID.isEmpty { out += ",\"requestId\":" + JSONText.quoted(requestID) }
        out += "}}"
        var headers = [("Content-Type", "application/json")]
        if error.status == 405, let allow = error.details["allow"] { headers.append(("Allow", allow.joined(separator: ", "))) }
        return Response(status: error.status, headers: headers, body: Array(out.utf8))
    }

    /// The bytes of a FastCGI (CGI/1.1) response: a Status line, headers, blank line, body.
    func serialized() -> [UInt8] {
        var head = "Status: \(status) \(Self.reason(status))\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        return Array(head.utf8) + body
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 409: return "Conflict"
        case 413: return "Payload Too Large"
        case 415: return "Unsupported Media Type"
        case 422: return "Unprocessable Content"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}

