import FoundationEssentials

/// The JSON settings shared by every route, so that all answers look alike.
public enum JSONCoding {
    /// One per process (each HubChat process uses them from one thread): building an encoder
    /// and its strategies on every request is wasted work on the hottest path.
    nonisolated(unsafe) public static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(PostgresTimestamp.format(date))
        }
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    nonisolated(unsafe) public static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = PostgresTimestamp.parse(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "expected an ISO 8601 timestamp")
            }
            return date
        }
        return d
    }()
}

extension KeyedEncodingContainer {
    /// Ids as PostgreSQL prints them (lower case), the same spelling URLs and cursors use. An absent id is `null`.
    public mutating func encodeID(_ id: UUID?, forKey key: Key) throws {
        try encode(id?.uuidString.lowercased(), forKey: key)
    }
}
