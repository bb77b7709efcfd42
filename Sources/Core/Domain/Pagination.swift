import FoundationEssentials

/// A position in a keyset list sorted newest first by (timestamp DESC, id DESC): the last row a page showed.
/// Opaque to callers: base64url of a small JSON object. The timestamp is kept in whole microseconds since the
/// epoch, PostgreSQL's own precision, so a cursor never falls between two rows that differ by less than a
/// millisecond.
public struct PageCursor: Sendable, Equatable {
    public let microseconds: Int64
    public let id: UUID

    public init(microseconds: Int64, id: UUID) {
        self.microseconds = microseconds
        self.id = id
    }

    /// 9999-12-31T23:59:59.999999Z.
    static let latestMicroseconds: Int64 = 253_402_300_799_999_999

    public var encoded: String {
        Base64URL.encode(Array("{\"t\":\(microseconds),\"id\":\"\(id.uuidString.lowercased())\"}".utf8))
    }

    public init(encoded text: String) throws {
        guard text.utf8.count <= 200, let bytes = Base64URL.decode(text), let json = try? JSONValue.parse(bytes),
              let t = json["t"]?.int64Value, (0...Self.latestMicroseconds).contains(t),
              let id = json["id"]?.stringValue.flatMap(UUID.init(uuidString:))
        else { throw AppError.invalidField("cursor", "is not a cursor this API issued; pass pageInfo.nextCursor as is.") }
        self.init(microseconds: t, id: id)
    }
}

/// `limit` (1…100, default 25) and `cursor` from a list's query string.
public struct PageRequest: Sendable, Equatable {
    public static let defaultLimit = 25
    public static let maximumLimit = 100

    public let limit: Int
    public let after: PageCursor?

    public init(limit: Int = PageRequest.defaultLimit, after: PageCursor? = nil) {
        self.limit = limit
        self.after = after
    }

    public init(query: [String: String]) throws {
        var limit = Self.defaultLimit
        if let raw = query["limit"]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty {
            guard let value = Int(raw), (1...Self.maximumLimit).contains(value) else {
                throw AppError.invalidField("limit", "must be a whole number from 1 to \(Self.maximumLimit).")
            }
            limit = value
        }
        let cursor = query["cursor"].flatMap { $0.isEmpty ? nil : $0 }
        self.init(limit: limit, after: try cursor.map(PageCursor.init(encoded:)))
    }
}

/// `{data, pageInfo: {nextCursor}}`: the one shape of every list. `nextCursor` is null on the last page.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    public struct Info: Encodable, Sendable {
        public let nextCursor: String?

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(nextCursor, forKey: .nextCursor)  // null, not absent, on the last page
        }

        enum CodingKeys: String, CodingKey { case nextCursor }
    }

    public let data: [Item]
    public let pageInfo: Info

    /// From up to `limit + 1` rows fetched in order: the extra row only says that another page exists.
    public init(rows: [Item], limit: Int, cursor: (Item) -> PageCursor) {
        if rows.count > limit {
            data = Array(rows.prefix(limit))
            pageInfo = Info(nextCursor: cursor(data[limit - 1]).encoded)
        } else {
            data = rows
            pageInfo = Info(nextCursor: nil)
        }
    }
}
