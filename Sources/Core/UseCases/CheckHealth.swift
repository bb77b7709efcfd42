/// The answer of `GET /api/health`: honest about the database, never throwing.
public struct HealthReport: Codable, Sendable, Equatable {
    public let status: String
    public let version: String
    public let database: String

    public var isHealthy: Bool { database == "ok" }
}

public struct CheckHealth {
    let version: String

    public init(version: String) { self.version = version }

    /// `probe` is nil when no connection could even be opened.
    public func callAsFunction(probe: () throws -> any DatabaseHealthProbe) -> HealthReport {
        do {
            try probe().ping()
            return HealthReport(status: "ok", version: version, database: "ok")
        } catch DatabaseHealthFailure.readOnly {
            return HealthReport(status: "degraded", version: version, database: "read_only")
        } catch {
            return HealthReport(status: "degraded", version: version, database: "unavailable")
        }
    }
}
