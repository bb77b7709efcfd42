import CPostgres
import FoundationEssentials
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One libpq connection, used by one thread at a time (a responder process, a worker loop).
///
/// Every statement is parameterised; the only SQL text that is not a constant of the code is
/// a migration file. After the server restarts, the next call notices the dead socket and
/// connects again, so a long-lived process heals without being restarted.
public final class PostgresConnection {
    public struct Settings: Sendable {
        public var url: String
        public var applicationName: String
        /// `statement_timeout`: no statement may run longer.
        public var statementTimeoutMilliseconds: Int
        /// `idle_in_transaction_session_timeout`: a stuck transaction cannot hold locks for ever.
        public var idleInTransactionTimeoutMilliseconds: Int
        /// Sets `hubchat.scope = 'system'`, which row-level security lets see every tenant.
        /// Only the worker, the webhook pool and the CLI use it; the REST pool scopes each
        /// transaction to one tenant instead.
        public var systemScope: Bool
        /// `connect_timeout` in seconds.
        public var connectTimeoutSeconds: Int

        public init(
            url: String, applicationName: String, statementTimeoutMilliseconds: Int = 5_000,
            idleInTransactionTimeoutMilliseconds: Int = 10_000, systemScope: Bool = false,
            connectTimeoutSeconds: Int = 3
        ) {
            self.url = url
            self.applicationName = applicationName
            self.statementTimeoutMilliseconds = statementTimeoutMilliseconds
            self.idleInTransactionTimeoutMilliseconds = idleInTransactionTimeoutMilliseconds
            self.systemScope = systemScope
            self.connectTimeoutSeconds = connectTimeoutSeconds
        }
    }

    public let settings: Settings
    private var handle: OpaquePointer?
    private var preparedNames: Set<String> = []
    private var listeningChannels: [String] = []
    /// How many times this connection had to be re-established (for logs and tests).
    public private(set) var reconnectCount = 0

    public init(settings: Settings) throws {
        self.settings = settings
        try connect()
    }

    deinit { if let handle { PQfinish(handle) } }

    // MARK: Connecting

    private func connect() throws {
        if let handle { PQfinish(handle) }
        handle = nil
        preparedNames.removeAll()
        // Over TCP, a server that vanished (a network partition, a failover that left the old address dead) must not
        // hold a caller until the kernel gives up after minutes: keepalive probes find a silent peer within a
        // minute, and data unacknowledged for 30 s breaks the connection (then 503s, and the next call reconnects).
        // These come before the URL, so a URL that sets its own wins; later ones are ours alone. (Unix sockets
        // ignore them.)
        let keywords = ["keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                        "dbname", "application_name", "connect_timeout", "client_encoding"]
        let values = ["1", "30", "10", "3", "30000",
                      settings.url, settings.applicationName, String(settings.connectTimeoutSeconds), "UTF8"]
        let conn = withCStrings(keywords) { k in
            withCStrings(values) { v in PQconnectdbParams(k, v, 1) }
        }
        guard let conn, PQstatus(conn) == CONNECTION_OK else {
            let message = conn.map { Self.errorMessage($0) } ?? "out of memory"
            if let conn { PQfinish(conn) }
            throw PostgresError.connectionFailed(message)
        }
        handle = conn
        // libpq would print what the server says outside a query (a NOTICE, the FATAL of an administrator's shutdown)
        // to standard error as plain text, among the JSON log lines.
        PQsetNoticeProcessor(conn, { _, message in
            guard let message else { return }
            PostgresNotices.log(String(cString: message))
        }, nil)
        // Settings go through SET rather than the startup `options`, which PgBouncer refuses;
        // they last for the session, so a pooler must pool sessions, not transactions.
        // Values are integers and constants, never input.
        var setup = """
            SET statement_timeout = \(settings.statementTimeoutMilliseconds);
            SET idle_in_transaction_session_timeout = \(settings.idleInTransactionTimeoutMilliseconds);
            SET TIME ZONE 'UTC';
            """
        if settings.systemScope { setup += " SET hubchat.scope = 'system';" }
        for channel in listeningChannels { setup += " LISTEN \(Self.quoteIdentifier(channel));" }
        try runScript(setup)
    }

    /// Reconnects when the socket is known dead, or turns out dead when read without blocking.
    /// Skipped inside a transaction: a broken transaction must fail, not continue elsewhere.
    private func ensureConnected() throws {
        guard let handle else { return try reconnect() }
        if PQstatus(handle) != CONNECTION_OK { return try reconnect() }
        if PQtransactionStatus(handle) == PQTRANS_IDLE && peerHasClosed(PQsocket(handle)) { try reconnect() }
    }

    /// Whether the server has closed an idle connection (restart, idle timeout, pooler).
    /// Between statements the server sends nothing but notifications, so a hang-up seen
    /// here means the next statement would fail; one non-blocking poll finds out first.
    private func peerHasClosed(_ socket: Int32) -> Bool {
        let peerHangUp: Int16 = 0x2000  // POLLRDHUP (Linux)
        var pfd = pollfd(fd: socket, events: Int16(POLLIN) | peerHangUp, revents: 0)
        guard poll(&pfd, 1, 0) > 0 else { return false }
        return pfd.revents & (peerHangUp | Int16(POLLHUP) | Int16(POLLERR) | Int16(POLLNVAL)) != 0
    }

    private var connectPause = ConnectFailurePause()

    private func reconnect() throws {
        try connectPause.attempt { try connect() }
        reconnectCount += 1
    }

    /// Whether the last known state of the socket is healthy (no I/O).
    public var isConnected: Bool { handle.map { PQstatus($0) == CONNECTION_OK } ?? false }

    /// Whether a transaction is open on this connection.
    public var isInTransaction: Bool {
        guard let handle else { return false }
        let s = PQtransactionStatus(handle)
        return s == PQTRANS_INTRANS || s == PQTRANS_INERROR || s == PQTRANS_ACTIVE
    }

    // MARK: Statements

    /// Runs one parameterised statement.
    @discardableResult
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws -> PostgresResult {
        try ensureConnected()
        let texts = parameters.map { $0?.postgresText }
        let sent = withOptionalCStrings(texts) { values in
            PQsendQueryParams(handle, sql, Int32(texts.count), nil, values, nil, nil, 0)
        }
        return try consume(try awaitResult(sent: sent))
    }

    /// Runs a prepared statement, preparing it on this connection the first time.
    @discardableResult
    public func query(_ statement: PreparedStatement, _ parameters: [(any PostgresEncodable)?] = []) throws
        -> PostgresResult
    {
        try ensureConnected()
        if !preparedNames.contains(statement.name) {
            let sent = PQsendPrepare(handle, statement.name, statement.sql, Int32(parameters.count), nil)
            do { _ = try consume(try awaitResult(sent: sent)) } catch let error as PostgresError where error.sqlState == "42P05" {
                // Already prepared on this session (e.g. by an earlier instance of this wrapper).
            }
            preparedNames.insert(statement.name)
        }
        let texts = parameters.map { $0?.postgresText }
        let sent = withOptionalCStrings(texts) { values in
            PQsendQueryPrepared(handle, statement.name, Int32(texts.count), values, nil, nil, 0)
        }
        return try consume(try awaitResult(sent: sent))
    }

    /// Runs a script of several statements without parameters (migrations, session setup).
    public func runScript(_ sql: String) throws {
        guard handle != nil else { throw PostgresError.connectionLost("not connected") }
        _ = try consume(try awaitResult(sent: PQsendQuery(handle, sql)))
    }

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws.
    @discardableResult
    public func transaction<T>(_ body: () throws -> T) throws -> T {
        try query("BEGIN")
        let value: T
        do {
            value = try body()
        } catch {
            if let handle, PQstatus(handle) == CONNECTION_OK { try? runScript("ROLLBACK") }
            throw error
        }
        try query("COMMIT")
        return value
    }

    /// A transaction in which row-level security admits only `tenantID`'s rows.
    @discardableResult
    public func transaction<T>(tenant tenantID: UUID, _ body: () throws -> T) throws -> T {
        try transaction {
            try query("SELECT set_config('hubchat.tenant_id', $1, true)", [tenantID])
            return try body()
        }
    }

    // MARK: LISTEN / NOTIFY

    /// Subscribes to a channel; the subscription survives reconnects.
    public func listen(_ channel: String) throws {
        guard Self.isValidIdentifier(channel) else { throw PostgresError.misuse("bad channel name \(channel)") }
        try ensureConnected()
        try runScript("LISTEN \(Self.quoteIdentifier(channel))")
        if !listeningChannels.contains(channel) { listeningChannels.append(channel) }
    }

    public func notify(_ channel: String, payload: String = "") throws {
        try query("SELECT pg_notify($1, $2)", [channel, payload])
    }

    /// Waits up to `timeoutMilliseconds` for notifications and returns those that arrived
    /// (possibly none). Reconnects, and re-subscribes, if the server went away.
    public func waitForNotifications(timeoutMilliseconds: Int) throws -> [PostgresNotification] {
        try ensureConnected()
        var found = drainNotifications()
        if !found.isEmpty { return found }
        var pfd = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let ready = poll(&pfd, 1, Int32(timeoutMilliseconds))
        if ready < 0 && errno != EINTR { throw PostgresError.connectionLost("poll failed: errno \(errno)") }
        if ready > 0 {
            if PQconsumeInput(handle) == 0 {
                let message = Self.errorMessage(handle!)
                throw PostgresError.connectionLost(message)
            }
            found = drainNotifications()
        }
        return found
    }

    private func drainNotifications() -> [PostgresNotification] {
        var out: [PostgresNotification] = []
        while let n = PQnotifies(handle) {
            out.append(PostgresNotification(
                channel: String(cString: n.pointee.relname),
                payload: n.pointee.extra.map { String(cString: $0) } ?? "",
                senderPID: n.pointee.be_pid))
            PQfreemem(n)
        }
        return out
    }

    // MARK: Results

    /// How long past `statement_timeout` a statement may go unanswered before the server is taken for stuck.
    static let answerGraceMilliseconds = 5_000

    /// Collects the answer to what was just sent, as PQexec would (the last result; the first error, if any), but
    /// gives up on a server that has not answered `statement_timeout` + 5 s later. The server cancels a slow
    /// statement itself at its timeout; silence beyond that means it cannot (frozen, its host stalled, a network
    /// path that drops packets without a reset), and waiting would pin this caller until the kernel's TCP timeout.
    /// The connection is then closed (the server rolls back what was open when it sees that) and the next
    /// statement reconnects. Nil when nothing could be sent: `consume` reports the connection's error.
    private func awaitResult(sent: Int32) throws -> OpaquePointer? {
        guard let connection = handle, sent == 1 else { return nil }
        let limit = settings.statementTimeoutMilliseconds
        // Per statement, as the server times them: each result of a script starts the next one's deadline.
        func nextDeadline() -> Int? { limit > 0 ? Self.monotonicMilliseconds() + limit + Self.answerGraceMilliseconds : nil }
        var deadline = nextDeadline()
        var kept: OpaquePointer?
        while true {
            while PQisBusy(connection) == 1 {
                var wait: Int32 = -1
                if let deadline { wait = Int32(clamping: max(0, deadline - Self.monotonicMilliseconds())) }
                var pfd = pollfd(fd: PQsocket(connection), events: Int16(POLLIN), revents: 0)
                let ready = poll(&pfd, 1, wait)  // (a spent deadline still looks once, without waiting)
                if ready == 0 {
                    if let kept { PQclear(kept) }
                    PQfinish(connection)
                    handle = nil
                    preparedNames.removeAll()
                    throw PostgresError.connectionLost(
                        "the server did not answer within \(limit + Self.answerGraceMilliseconds) ms; connection closed")
                }
                if ready < 0 && errno == EINTR { continue }
                // A broken connection: PQgetResult reports it.
                if ready < 0 || PQconsumeInput(connection) == 0 { break }
            }
            guard let result = PQgetResult(connection) else { break }
            deadline = nextDeadline()
            if let previous = kept {
                if PQresultStatus(previous) == PGRES_FATAL_ERROR { PQclear(result); continue }
                PQclear(previous)
            }
            kept = result
            let status = PQresultStatus(result)
            if status == PGRES_COPY_IN || status == PGRES_COPY_OUT || status == PGRES_COPY_BOTH
                || PQstatus(connection) == CONNECTION_BAD { break }
        }
        return kept
    }

    /// Milliseconds on the monotonic clock, for deadlines and pauses.
    public static func monotonicMilliseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return now.tv_sec * 1_000 + now.tv_nsec / 1_000_000
    }

    private func consume(_ result: OpaquePointer?) throws -> PostgresResult {
        guard let result else {
            let message = handle.map { Self.errorMessage($0) } ?? "no connection"
            throw lossOrFailure(message)
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return PostgresResult(columns: [], rows: [], affectedRows: Self.affectedRows(result))
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            return Self.copyRows(result)
        default:
            let sqlState = Self.field(result, "C") ?? ""
            if sqlState.isEmpty, let handle, PQstatus(handle) != CONNECTION_OK {
                throw PostgresError.connectionLost(Self.errorMessage(handle))
            }
            throw PostgresError.server(.init(
                sqlState: sqlState,
                message: Self.field(result, "M") ?? String(cString: PQresultErrorMessage(result)),
                detail: Self.field(result, "D"),
                constraint: Self.field(result, "n")))
        }
    }

    private func lossOrFailure(_ message: String) -> PostgresError {
        if let handle, PQstatus(handle) == CONNECTION_OK { return .misuse(message) }
        return .connectionLost(message)
    }

    private static func copyRows(_ result: OpaquePointer) -> PostgresResult {
        let nFields = Int(PQnfields(result))
        let nRows = Int(PQntuples(result))
        var columns: [String] = []
        var index: [String: Int] = [:]
        for f in 0..<nFields {
            let name = String(cString: PQfname(result, Int32(f)))
            columns.append(name)
            if index[name] == nil { index[name] = f }
        }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(nRows)
        for r in 0..<nRows {
            var cells: [String?] = []
            cells.reserveCapacity(nFields)
            for f in 0..<nFields {
                if PQgetisnull(result, Int32(r), Int32(f)) == 1 {
                    cells.append(nil)
                } else {
                    cells.append(String(cString: PQgetvalue(result, Int32(r), Int32(f))))
                }
            }
            rows.append(PostgresRow(columnIndex: index, cells: cells))
        }
        return PostgresResult(columns: columns, rows: rows, affectedRows: affectedRows(result))
    }

    private static func affectedRows(_ result: OpaquePointer) -> Int {
        Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    private static func field(_ result: OpaquePointer, _ code: Character) -> String? {
        guard let p = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
        return String(cString: p)
    }

    /// The value libpq uses for a connection option (`tcp_user_timeout`, `keepalives_idle`, …), for diagnostics.
    public func option(_ keyword: String) -> String? {
        guard let handle, let options = PQconninfo(handle) else { return nil }
        defer { PQconninfoFree(options) }
        var option = options
        while let name = option.pointee.keyword {
            if String(cString: name) == keyword { return option.pointee.val.map { String(cString: $0) } }
            option += 1
        }
        return nil
    }

    private static func errorMessage(_ conn: OpaquePointer) -> String {
        String(cString: PQerrorMessage(conn)).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func isValidIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.count <= 63 else { return false }
        let allowed = { (c: Unicode.Scalar) in c == "_" || ("a"..."z").contains(c) || ("0"..."9").contains(c) }
        return (first == "_" || ("a"..."z").contains(first)) && name.unicodeScalars.allSatisfy(allowed)
    }

    static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

// MARK: C string arrays

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCStrings(strings.map { Optional($0) }) { pointer in
        // A NULL-terminated keyword/value array, as PQconnectdbParams expects.
        var terminated = Array(UnsafeBufferPointer(start: pointer, count: strings.count))
        terminated.append(nil)
        return terminated.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// memchr over the string's UTF-8 (every parameter of every statement passes here; a webhook's is a kilobyte).
private func hasNUL(_ s: String) -> Bool {
    s.utf8.withContiguousStorageIfAvailable { bytes in bytes.baseAddress.map { memchr($0, 0, bytes.count) != nil } ?? false }
        ?? s.utf8.contains(0)
}

private func withOptionalCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    // PostgreSQL text cannot hold U+0000, and a C string would end at it (an array literal would be cut short
    // and rejected): it becomes U+FFFD, as the webhook store does inside JSON.
    let duplicated: [UnsafeMutablePointer<CChar>?] = strings.map { s in
        s.flatMap { hasNUL($0) ? strdup($0.replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")) : strdup($0) }
    }
    defer { duplicated.forEach { free($0) } }
    let constant = duplicated.map { UnsafePointer($0) }
    return constant.withUnsafeBufferPointer { body($0.baseAddress) }
}

/// After a connect that failed slowly, further attempts fail at once with the same error for a moment. A server that
/// does not answer makes each attempt wait `connect_timeout`; without the pause every request of a burst would wait
/// that long in turn (and nginx give up on the queue behind them) instead of being answered 503 at once. A quick
/// refusal (the server stopped or restarting) costs nothing to try again, and is: the first request after the
/// server is back succeeds.
public struct ConnectFailurePause {
    public static let pauseMilliseconds = 1_000
    /// A failed connect that took at least this long counts as slow.
    public static let slowMilliseconds = 500
    private var failed: (atMilliseconds: Int, error: any Error)?

    public init() {}

    public mutating func attempt<T>(_ connect: () throws -> T) throws -> T {
        if let failed, PostgresConnection.monotonicMilliseconds() - failed.atMilliseconds < Self.pauseMilliseconds {
            throw failed.error
        }
        let started = PostgresConnection.monotonicMilliseconds()
        do {
            let made = try connect()
            failed = nil
            return made
        } catch {
            let now = PostgresConnection.monotonicMilliseconds()
            failed = now - started >= Self.slowMilliseconds ? (now, error) : nil
            throw error
        }
    }
}

/// What the server says outside a query, as log lines.
enum PostgresNotices {
    static let logger = Logger(label: "hubchat.postgres")

    static func log(_ text: String) {
        let message = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let serious = ["FATAL:", "PANIC:", "ERROR:", "WARNING:"].contains { message.hasPrefix($0) }
        logger.log(level: serious ? .warning : .info, "from PostgreSQL", metadata: ["message": "\(message.prefix(500))"])
    }
}
