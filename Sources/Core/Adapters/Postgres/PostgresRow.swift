/// The rows of one result, copied out of libpq so no pointer outlives the call that made it.
public struct PostgresResult: Sendable {
    public let columns: [String]
    public let rows: [PostgresRow]
    /// Rows touched by INSERT/UPDATE/DELETE (from `PQcmdTuples`).
    public let affectedRows: Int

    public var first: PostgresRow? { rows.first }
}

/// One result row: cells in text format, `nil` for SQL NULL.
public struct PostgresRow: Sendable {
    let columnIndex: [String: Int]
    let cells: [String?]

    /// The raw text of a column, `nil` when NULL or absent.
    public subscript(column: String) -> String? {
        guard let i = columnIndex[column] else { return nil }
        return cells[i]
    }

    /// A non-NULL column decoded as `T`.
    public func decode<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        guard let i = columnIndex[column] else {
            throw PostgresError.decoding(column: column, message: "no such column in the result")
        }
        guard let text = cells[i] else { throw PostgresError.decoding(column: column, message: "unexpected NULL") }
        do { return try T(postgresText: text) } catch {
            throw PostgresError.decoding(column: column, message: error.message)
        }
    }

    /// A nullable column decoded as `T?`.
    public func decodeIfPresent<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T? {
        guard let i = columnIndex[column] else {
            throw PostgresError.decoding(column: column, message: "no such column in the result")
        }
        guard let text = cells[i] else { return nil }
        do { return try T(postgresText: text) } catch {
            throw PostgresError.decoding(column: column, message: error.message)
        }
    }
}
