import Core
import FoundationEssentials

/// Typed access to path parameters, query parameters and JSON bodies. Every refusal is a 400 that names the field.
extension Request {
    public func uuidParameter(_ name: String) throws -> UUID {
        guard let id = UUID(uuidString: try pathParameter(name)) else { throw AppError.invalidField(name, "must be a UUID.") }
        return id
    }

    public func queryUUID(_ name: String) throws -> UUID? {
        guard let raw = nonEmptyQuery(name) else { return nil }
        guard let id = UUID(uuidString: raw) else { throw AppError.invalidField(name, "must be a UUID.") }
        return id
    }

    /// An agent id, or `unassigned`.
    public func queryAssignment(_ name: String) throws -> AssignmentFilter? {
        guard let raw = nonEmptyQuery(name) else { return nil }
        if raw.lowercased() == "unassigned" { return .unassigned }
        guard let id = UUID(uuidString: raw) else { throw AppError.invalidField(name, "must be an agent id (UUID) or unassigned.") }
        return .agent(id)
    }

    /// An enumerated value, case-insensitively (`line` and `LINE` both work).
    public func queryEnum<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws -> E?
    where E.RawValue == String {
        guard let raw = nonEmptyQuery(name) else { return nil }
        guard let value = E(rawValue: raw.uppercased()) else {
            throw AppError.invalidField(name, "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return value
    }

    /// An RFC 3339 date-time, or a plain date: its first microsecond (UTC), or with `endOfDay` its last, so that
    /// `from=2026-01-10&to=2026-01-10` is the whole of that day.
    public func queryDate(_ name: String, endOfDay: Bool = false) throws -> Date? {
        guard let raw = nonEmptyQuery(name) else { return nil }
        let text = raw.utf8.count == 10 ? raw + (endOfDay ? "T23:59:59.999999Z" : "T00:00:00Z") : raw
        // Years 1000…9999 only: PostgreSQL has no year 0, and nothing in an inbox predates the first.
        guard let year = Int(text.prefix(4)), year >= 1000, Self.fieldsInRange(text), let date = PostgresTimestamp.parse(text)
        else {
            throw AppError.invalidField(name, "must be an ISO 8601 date or date-time, e.g. 2026-11-27T09:30:00Z.")
        }
        return date
    }

    /// The calendar and clock fields of `YYYY-MM-DD[Thh:mm[:ss[.fff]]][Z|±hh:mm]` are real ones: a parser that rolls
    /// 2026-02-30 over to March, or takes an offset of +99:99, would answer for a date nobody asked about.
    static func fieldsInRange(_ text: String) -> Bool {
        let digits = Array(text.utf8)
        func number(_ at: Int, _ count: Int) -> Int? {
            guard at + count <= digits.count else { return nil }
            var value = 0
            for byte in digits[at..<(at + count)] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2), (1...12).contains(month)
        else { return false }
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else { return false }
        if digits.count > 10 {
            guard let hour = number(11, 2), let minute = number(14, 2), hour < 24, minute < 60 else { return false }
            if digits.count > 16, digits[16] == UInt8(ascii: ":"), let second = number(17, 2), second > 60 { return false }
        }
        // A numeric offset at the end: ±hh:mm, ±hhmm or ±hh.
        if let sign = digits.lastIndex(where: { $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: "-") }), sign > 10 {
            let offset = digits[(sign + 1)...].filter { $0 != UInt8(ascii: ":") }
            guard offset.count == 2 || offset.count == 4, offset.allSatisfy({ (48...57).contains($0) }) else { return false }
            let hours = Int(offset[offset.startIndex] - 48) * 10 + Int(offset[offset.startIndex + 1] - 48)
            let minutes = offset.count == 4 ? Int(offset[offset.startIndex + 2] - 48) * 10 + Int(offset[offset.startIndex + 3] - 48) : 0
            guard hours <= 14, minutes < 60 else { return false }
        }
        return true
    }

    func nonEmptyQuery(_ name: String) -> String? {
        guard let raw = query[name]?.trimmingCharacters(in: .whitespaces), !raw.isEmpty else { return nil }
        return raw
    }

    /// The body as a JSON object whose keys are all in `allowed`.
    public func jsonObject(allowing allowed: Set<String>) throws -> JSONObjectInput {
        // The media type itself (parameters such as charset aside), not any name that starts the same.
        if let type = header("content-type"),
           type.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces).lowercased() != "application/json" {
            throw AppError.unsupportedMediaType("Send the body as application/json.")
        }
        guard !body.isEmpty else { throw AppError.badRequest("The request needs a JSON object body.", code: "invalid_json") }
        // JSON is UTF-8: bytes that are not would be stored as U+FFFD, changing what the caller sent.
        guard String(validating: body, as: UTF8.self) != nil else {
            throw AppError.badRequest("The body is not valid UTF-8.", code: "invalid_json")
        }
        let value: JSONValue
        do { value = try JSONValue.parse(body) } catch {
            throw AppError.badRequest("The body is not valid JSON (\(error)).", code: "invalid_json")
        }
        guard let object = value.objectValue else {
            throw AppError.badRequest("The body must be a JSON object.", code: "invalid_json")
        }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw AppError.invalidField(unknown, "is not a field of this request (expected \(allowed.sorted().joined(separator: ", "))).")
        }
        return JSONObjectInput(fields: object)
    }
}

/// The fields of a JSON request body, read with their types checked.
public struct JSONObjectInput {
    let fields: [String: JSONValue]

    public var isEmpty: Bool { fields.isEmpty }

    /// A string of at most `length.upperBound` Unicode scalars as sent (what JSON Schema's maxLength counts, and
    /// close to what providers count), and at least `length.lowerBound` once surrounding white space is trimmed.
    /// Returns the trimmed text; nil when absent or null.
    public func string(_ name: String, length: ClosedRange<Int>) throws -> String? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw AppError.invalidField(name, "must be a string.") }
        guard !text.utf8.contains(0) else { throw AppError.invalidField(name, "must not contain NUL characters.") }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard length.contains(trimmed.unicodeScalars.count) else {
            throw AppError.invalidField(name, "must be \(length.lowerBound) to \(length.upperBound) characters long.")
        }
        return trimmed
    }

    /// A string exactly as sent (enumerations: no trimming, so the document's patterns describe it exactly).
    public func rawString(_ name: String) throws -> String? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw AppError.invalidField(name, "must be a string.") }
        return text
    }

    /// A whole number in `range`; nil when absent or null.
    public func int(_ name: String, range: ClosedRange<Int>) throws -> Int? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let number = value.doubleValue, number.rounded() == number, let int = Int(exactly: number), range.contains(int)
        else { throw AppError.invalidField(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound).") }
        return int
    }

    /// The first of `names` that is present (an older and a newer spelling of one field).
    public func firstPresent(_ names: String...) -> String {
        names.first { fields[$0].map { !$0.isNull } ?? false } ?? names[0]
    }

    public func uuid(_ name: String) throws -> UUID? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let id = value.stringValue.flatMap(UUID.init(uuidString:)) else { throw AppError.invalidField(name, "must be a UUID.") }
        return id
    }

    public func enumValue<E: RawRepresentable & CaseIterable>(_ name: String, _ type: E.Type) throws -> E?
    where E.RawValue == String {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let text = value.stringValue, let parsed = E(rawValue: text.uppercased()) else {
            throw AppError.invalidField(name, "must be one of \(E.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return parsed
    }

    /// An array of strings, each trimmed to `length` characters, duplicates dropped (first one kept).
    public func stringSet(_ name: String, length: ClosedRange<Int>, maxCount: Int) throws -> [String]? {
        guard let value = fields[name], !value.isNull else { return nil }
        guard let items = value.arrayValue else { throw AppError.invalidField(name, "must be an array of strings.") }
        guard items.count <= maxCount else { throw AppError.invalidField(name, "may hold at most \(maxCount) items.") }
        var out: [String] = []
        for item in items {
            guard let raw = item.stringValue else { throw AppError.invalidField(name, "must be an array of strings.") }
            let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            guard raw.unicodeScalars.count <= length.upperBound, text.unicodeScalars.count >= length.lowerBound,
                  !raw.utf8.contains(0)
            else {
                throw AppError.invalidField(name, "each item must be \(length.lowerBound) to \(length.upperBound) characters long, without NUL characters.")
            }
            if !out.contains(text) { out.append(text) }
        }
        return out
    }
}
