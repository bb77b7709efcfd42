/// One prepared statement on the caller's connection: does the server answer, and would it take a write.
public struct PostgresHealthProbe: DatabaseHealthProbe {
    static let ping = PreparedStatement("health_ping", "SELECT current_setting('transaction_read_only') AS read_only")
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public func ping() throws {
        let readOnly = try connection.query(Self.ping).first?["read_only"] ?? nil
        if readOnly == "on" { throw DatabaseHealthFailure.readOnly }
    }
}
