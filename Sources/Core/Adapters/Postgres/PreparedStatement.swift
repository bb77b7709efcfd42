/// A named, parameterised statement that a connection prepares once and then only executes.
/// Hot paths declare these as static constants next to the repository that runs them.
public struct PreparedStatement: Sendable, Hashable {
    public let name: String
    public let sql: String

    public init(_ name: String, _ sql: String) {
        self.name = name
        self.sql = sql
    }
}

/// A notification received through LISTEN.
public struct PostgresNotification: Sendable, Equatable {
    public let channel: String
    public let payload: String
    public let senderPID: Int32
}
