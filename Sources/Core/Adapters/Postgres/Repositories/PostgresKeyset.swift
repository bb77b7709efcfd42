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


    static func cursor(_ row: PostgresRow, id: String = "id") throws -> PageCursor {
        PageCursor(microseconds: try row.decode("sort_us"), id: try row.decode(id))
    }
}

/// A list statement built from a fixed base and the filters a request names (only their presence shapes the SQL;
/// every value is a parameter), finished with the keyset page: the cursor condition, the order and `limit + 1`.
struct PostgresKeysetQuery {
    private(set) var sql: String
    private(set) var parameters: [(any PostgresEncodable)?]

    init(_ base: String, _ parameters: [(any PostgresEncodable)?]) {
        sql = base
        self.parameters = parameters
    }

    /// `AND <condition>`, its `$?` standing for `value`.
    mutating func filter(_ condition: String, _ value: any PostgresEncodable) {
        parameters.append(value)
        sql += " AND " + condition.replacingOccurrences(of: "$?", with: "$\(parameters.count)")
    }

    /// `AND <condition>` without a value.
    mutating func filter(_ condition: String) { sql += " AND " + condition }

    /// The statement for one page after `page.after`, newest first by (`timestamp` DESC, `id` DESC).
    func page(_ page: PageRequest, timestamp: String, id: String) -> (String, [(any PostgresEncodable)?]) {
        var query = self
        if let cursor = page.after {
            query.parameters.append(cursor.microseconds)
            query.parameters.append(cursor.id)
            let n = query.parameters.count
            query.sql += " AND (\(timestamp), \(id)) < (timestamptz 'epoch' + $\(n - 1)::float8 * interval '1 microsecond', $\(n)::uuid)"
        }
        query.parameters.append(page.limit + 1)
        query.sql += " ORDER BY \(timestamp) DESC, \(id) DESC LIMIT $\(query.parameters.count)"
        return (query.sql, query.parameters)
    }
}
