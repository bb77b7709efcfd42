#if canImport(Glibc)
import Glibc
#endif

/// How PostgreSQL tells a worker that is still running from one that stopped: every connection of a worker carries
/// its name as `application_name`, and a worker's leases name it too (`locked_by` is the worker's name, or its name
/// and a lane: `worker-…/out0`). A lease whose worker has no connection left belongs to a process that is gone.
public enum WorkerSessions {
    /// A name no other worker process has had: host, process id and a random suffix (a container's worker is
    /// often pid 1 every time). Short enough for `application_name` (63 bytes) with its prefix.
    public static func uniqueWorkerName() -> String {
        var host = [CChar](repeating: 0, count: 256)
        gethostname(&host, host.count - 1)
        let safe = String(decoding: host.prefix { $0 != 0 }.prefix(20).map { byte -> UInt8 in
            let b = UInt8(bitPattern: byte)
            return (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7a) || b == 0x2d ? b : 0x2d
        }, as: UTF8.self)
        let suffix = String(UInt16.random(in: 0...UInt16.max), radix: 16)
        return "worker-\(safe.isEmpty ? "host" : safe)-\(getpid())-\(suffix)"
    }

    /// The `application_name` of a worker's connections.
    public static func applicationName(worker: String) -> String { "hubchat-" + worker }

    /// SQL: the row's lease (`lockedBy` column) is held by a worker other than `$1` that has no connection open.
    /// Only names of this form count: a worker of an earlier release (`worker-<pid>`, every connection named
    /// `hubchat-worker`) cannot be told apart from a stopped one, so during a rolling upgrade its leases run out
    /// as before instead of being taken while it may still be sending.
    static func heldByAnotherGoneWorker(lockedBy column: String) -> String {
        """
        split_part(\(column), '/', 1) <> $1
               AND split_part(\(column), '/', 1) ~ '^worker-[A-Za-z0-9-]+-[0-9]+-[0-9a-f]{1,4}$'
               AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                                WHERE a.application_name = 'hubchat-' || split_part(\(column), '/', 1))
        """
    }
}

/// Taking leased rows back (outbox batches and queue jobs alike): to PENDING at once, or to the dead letter when the
/// lost attempt was the last, with `error` saying why.
enum LeaseRescue {
    static func statement(_ name: String, table: String, leasedStatus: String, error: String, where condition: String,
                          returning: String? = nil) -> PreparedStatement {
        PreparedStatement(name, """
            UPDATE \(table)
               SET status = CASE WHEN attempts >= max_attempts THEN 'DEAD_LETTER' ELSE 'PENDING' END,
                   dead_lettered_at = CASE WHEN attempts >= max_attempts THEN now() END,
                   available_at = now(), lease_expires_at = NULL, last_error = '\(error)'
             WHERE status = '\(leasedStatus)' AND \(condition)
            \(returning.map { "RETURNING " + $0 } ?? "")
            """)
    }
}
