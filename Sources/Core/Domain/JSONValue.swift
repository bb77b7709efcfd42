/// Any JSON document, for provider payloads whose shape we only partly know (webhooks): read the
/// fields we need, keep the rest verbatim, and serialize it again deterministically (sorted keys),
/// so that a hash of the text is a stable event id across redeliveries.
///
/// Numbers are `Double`, as in JSON itself: integers up to 2^53 (LINE millisecond timestamps, Meta
/// app ids) are exact and print back without a fraction. Providers send larger ids as strings; an integer literal
/// past 2^53 is parsed as its digits (`.string`), so an id written as a number keeps every digit.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    // MARK: Reading

    /// The member `key` of an object; nil for a missing key or when this is not an object.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    /// The element at `index` of an array; nil when out of range or when this is not an array.
    public subscript(index: Int) -> JSONValue? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let d) = self { return d }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// A number that is a whole value exactly representable as `Int64`; nil otherwise.
    public var int64Value: Int64? {
        guard case .number(let d) = self, let i = JSONValue.exactInteger(d) else { return nil }
        return i
    }

    /// An identifier as text: a string as is, a whole number without a fraction ("123" for 123).
    /// Meta documents ids as strings but some payloads (entry.id, app_id) carry numbers.
    public var idString: String? {
        switch self {
        case .string(let s): return s
        case .number(let d): return JSONValue.exactInteger(d).map { String($0) }
        default: return nil
        }
    }

    // MARK: Parsing

    /// Parses one JSON document (RFC 8259; any value at the top level). Throws `JSONValue.ParseError`
    /// with the byte offset of the first problem.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        var parser = JSONParser(bytes)
        return try parser.parseDocument()
    }

    /// Parses UTF-8 bytes, and answers where each element of the root object's array `member` lies in them
    /// (empty when there is no such array).
    public static func parse(_ bytes: [UInt8], spansOf member: String) throws -> (JSONValue, [Range<Int>]) {
        var parser = JSONParser(bytes)
        parser.spanMember = member
        let value = try parser.parseDocument()
        return (value, parser.spans)
    }

    /// Parses UTF-8 text.
    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Array(text.utf8))
    }

    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let offset: Int
        public let reason: String
        public var description: String { "invalid JSON at byte \(offset): \(reason)" }
    }

    // MARK: Serializing

    /// Compact JSON with object keys sorted, so equal values always give equal text.
    public func serialized() -> String {
        var out = ""
        append(to: &out)
        return out
    }

    private func append(to out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let d): out += JSONValue.format(d)
        case .string(let s): JSONText.appendString(s, to: &out)
        case .array(let elements):
            out += "["
            for (i, element) in elements.enumerated() {
                if i > 0 { out += "," }
                element.append(to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, key) in members.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONText.appendString(key, to: &out)
                out += ":"
                members[key]!.append(to: &out)
            }
            out += "}"
        }
    }

    /// Whole numbers print as integers (1462629479859, not 1.462629479859e12); others in Swift's
    /// shortest round-trip form, which is valid JSON. NaN and infinities (never parsed, only
    /// constructed) print as null because JSON has no spelling for them.
    static func format(_ d: Double) -> String {
        if let i = exactInteger(d) { return String(i) }
        guard d.isFinite else { return "null" }
        return d.description
    }

    static func exactInteger(_ d: Double) -> Int64? {
        guard d.isFinite, d == d.rounded(.towardZero), d >= -9.223372036854775808e18, d < 9.223372036854775808e18
        else { return nil }
        return Int64(d)
    }

    // MARK: Codable

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let d = try? c.decode(Double.self) {
            self = .number(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else if let o = try? c.decode([String: JSONValue].self) {
            self = .object(o)
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "not a JSON value")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    public init(nilLiteral: ()) { self = .null }
}
