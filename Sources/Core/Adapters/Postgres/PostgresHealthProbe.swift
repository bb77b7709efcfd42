/// `SELECT 1` on the caller's connection, through a prepared statement.
public struct PostgresHealthProbe: DatabaseHealthProbe {
    static let ping = PreparedStatement("health_ping", "SELECT 1")
    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public func ping() throws { try connection.query(Self.ping) }
}
