/// The one error type that crosses from use cases to the edges: a stable machine code,
/// the HTTP status it maps to, and a message safe to show a caller (never a secret,
/// never SQL, never a stack).
public struct AppError: Error, Sendable, Equatable, CustomStringConvertible {
    public let status: Int
    public let code: String
    public let message: String
    /// Extra, safe, structured detail (for example the allowed next lead statuses).
    public let details: [String: [String]]

    public init(status: Int, code: String, message: String, details: [String: [String]] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(status) \(code): \(message)" }

    public static func badRequest(_ message: String, code: String = "bad_request") -> AppError {
        AppError(status: 400, code: code, message: message)
    }
    public static func invalidField(_ field: String, _ problem: String) -> AppError {
        AppError(status: 400, code: "invalid_field", message: "\(field): \(problem)", details: ["field": [field]])
    }
    public static let unauthorized = AppError(status: 401, code: "unauthorized", message: "A valid bearer token is required.")
    public static func forbidden(_ message: String) -> AppError { AppError(status: 403, code: "forbidden", message: message) }
    public static func notFound(_ what: String) -> AppError { AppError(status: 404, code: "not_found", message: "\(what) not found.") }
    public static func methodNotAllowed(allowed: [String]) -> AppError {
        AppError(status: 405, code: "method_not_allowed", message: "Use \(allowed.joined(separator: ", ")).",
                 details: ["allow": allowed])
    }
    public static func conflict(_ message: String, code: String = "conflict", details: [String: [String]] = [:]) -> AppError {
        AppError(status: 409, code: code, message: message, details: details)
    }
    public static func payloadTooLarge(limitBytes: Int) -> AppError {
        AppError(status: 413, code: "payload_too_large", message: "The request body is larger than \(limitBytes) bytes.")
    }
    public static func unsupportedMediaType(_ message: String) -> AppError {
        AppError(status: 415, code: "unsupported_media_type", message: message)
    }
    public static let databaseUnavailable = AppError(
        status: 503, code: "database_unavailable", message: "The database is unavailable; retry shortly.")
    public static let storageUnavailable = AppError(
        status: 503, code: "storage_unavailable", message: "The media storage cannot take the file right now; retry shortly.")
    public static let databaseBusy = AppError(
        status: 503, code: "database_busy",
        message: "The database did not answer in time (the record may be held by another change); retry shortly.")
    public static let internalError = AppError(
        status: 500, code: "internal_error", message: "Something went wrong on our side; it has been logged.")
}
