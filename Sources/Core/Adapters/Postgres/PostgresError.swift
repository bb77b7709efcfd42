/// What can go wrong talking to PostgreSQL, as values the rest of the code can branch on.
public enum PostgresError: Error, CustomStringConvertible, Sendable {
    /// The server could not be reached or refused the connection.
    case connectionFailed(String)
    /// An established connection broke (server restart, network); the next call reconnects.
    case connectionLost(String)
    /// The server answered a statement with an error.
    case server(ServerError)
    /// A value in a result could not be turned into the requested Swift type.
    case decoding(column: String, message: String)
    /// The caller asked for something the wrapper refuses (bad identifier, misuse).
    case misuse(String)

    public struct ServerError: Sendable, CustomStringConvertible {
        /// Five-character SQLSTATE, e.g. `23505` for a unique violation.
        public let sqlState: String
        public let message: String
        public let detail: String?
        public let constraint: String?

        public var description: String {
            "\(sqlState): \(message)" + (detail.map { " (\($0))" } ?? "")
        }
    }

    public var description: String {
        switch self {
        case .connectionFailed(let m): return "connection failed: \(m)"
        case .connectionLost(let m): return "connection lost: \(m)"
        case .server(let e): return e.description
        case .decoding(let c, let m): return "cannot decode column \(c): \(m)"
        case .misuse(let m): return m
        }
    }

    /// True when the database is unreachable rather than the statement being wrong,
    /// so a caller answers 503 and a provider retries.
    public var isUnavailable: Bool {
        switch self {
        case .connectionFailed, .connectionLost: return true
        case .server(let e):
            // 08xxx connection exceptions; 53100 disk full, 53300 too many connections; 57P01 admin shutdown,
            // 57P02 crash shutdown, 57P03 cannot connect now; 25006 a read-only server (a standby after a failover,
            // a managed database whose disk filled); 58030 an I/O error on the server. (Not the rest of class 53:
            // out of memory or of lock slots can be what one statement always does, and a worker would retry its
            // job for ever instead of letting it fail.)
            return e.sqlState.hasPrefix("08")
                || ["53100", "53300", "57P01", "57P02", "57P03", "25006", "58030"].contains(e.sqlState)
        default: return false
        }
    }

    /// The SQLSTATE when the server raised the error.
    public var sqlState: String? {
        if case .server(let e) = self { return e.sqlState }
        return nil
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isStatementTimeout: Bool { sqlState == "57014" }
    /// The server gave up one of two transactions that waited on each other (deadlock, serialization failure), or a
    /// statement that would have waited on a lock longer than it allows (lock_timeout): retrying the request succeeds.
    public var isTransientConflict: Bool { sqlState == "40P01" || sqlState == "40001" || sqlState == "55P03" }
}

extension PostgresError {
    /// The constraint the server named, for errors raised by one (unique, check, foreign key, our triggers).
    public var constraint: String? {
        if case .server(let e) = self { return e.constraint }
        return nil
    }
}
