/// The SQL of keyset pagination, newest first by (timestamp DESC, id DESC).
///
/// The cursor's timestamp travels as whole microseconds since the epoch, PostgreSQL's own precision, so
/// converting it back is exact and a page boundary never falls between two rows. The row comparison
/// `(ts, id) < (…, …)` matches the list indexes `(tenant_id, ts DESC, id DESC)`, so a page 2,000 deep costs
/// the same index descent as the first.
enum PostgresKeyset {
    /// The sort key of a row, as a cursor needs it.
    static func sortKeyColumn(_ column: String) -> String {
        "(extract(epoch FROM \(column)) * 1000000)::int8 AS sort_us"
    }

    /// `AND (ts, id) < ($n, $n+1)`; appends the two parameters.
    static func after(_ cursor: PageCursor?, timestamp: String, id: String,
                      parameters: inout [(any PostgresEncodable)?]) -> String {
        guard let cursor else { return "" }
        parameters.append(cursor.microseconds)
        parameters.append(cursor.id)
        let n = parameters.count
        return " AND (\(timestamp), \(id)) < (timestamptz 'epoch' + $\(n - 1)::float8 * interval '1 microsecond', $\(n)::uuid)"
    }

    static func cursor(_ row: PostgresRow, id: String = "id") throws -> PageCursor {
        PageCursor(microseconds: try row.decode("sort_us"), id: try row.decode(id))
    }
}
