/// Answers whether the database can run a statement right now, and take writes.
public protocol DatabaseHealthProbe {
    /// Throws when the database does not answer; `DatabaseHealthFailure.readOnly` when it answers but refuses
    /// writes (a standby after a failover, a managed database that went read-only when its disk filled).
    func ping() throws
}

public enum DatabaseHealthFailure: Error, Sendable {
    case readOnly
}
