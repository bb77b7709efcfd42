import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// A Swift value that can be sent as a statement parameter, in PostgreSQL's text format.
public protocol PostgresEncodable {
    var postgresText: String { get }
}

/// A Swift value that can be read from a result cell in PostgreSQL's text format.
public protocol PostgresDecodable {
    init(postgresText text: String) throws(PostgresDecodingFailure)
}

/// Why a cell's text did not fit the requested type; the row adds the column name.
public struct PostgresDecodingFailure: Error, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
}

extension String: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self }
    public init(postgresText text: String) { self = text }
}

extension Int: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText text: String) throws(PostgresDecodingFailure) {
        guard let v = Int(text) else { throw PostgresDecodingFailure("not an integer: \(text.prefix(40))") }
        self = v
    }
}

extension Int64: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText text: String) throws(PostgresDecodingFailure) {
        guard let v = Int64(text) else { throw PostgresDecodingFailure("not an integer: \(text.prefix(40))") }
        self = v
    }
}

extension Double: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { String(self) }
    public init(postgresText text: String) throws(PostgresDecodingFailure) {
        guard let v = Double(text) else { throw PostgresDecodingFailure("not a number: \(text.prefix(40))") }
        self = v
    }
}

extension Bool: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { self ? "t" : "f" }
    public init(postgresText text: String) throws(PostgresDecodingFailure) {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw PostgresDecodingFailure("not a boolean: \(text.prefix(10))")
        }
    }
}

extension UUID: PostgresEncodable, PostgresDecodable {
    public var postgresText: String { uuidString.lowercased() }
    public init(postgresText text: String) throws(PostgresDecodingFailure) {
        guard let v = UUID(uuidString: text) else { throw PostgresDecodingFailure("not a uuid: \(text.prefix(40))") }
        self = v
    }
}

extension Date: PostgresEncodable, PostgresDecodable {
    /// ISO 8601 in UTC with microseconds, which `timestamptz` parses whatever the session's DateStyle.
    public var postgresText: String { PostgresTimestamp.format(self) }
    public init(postgresText text: String) throws(PostgresDecodingFailure) {
        guard let v = PostgresTimestamp.parse(text) else {
            throw PostgresDecodingFailure("not a timestamp: \(text.prefix(40))")
        }
        self = v
    }
}

extension Array: PostgresEncodable where Element == String {
    /// A `text[]` literal with every element quoted and escaped.
    public var postgresText: String { PostgresTextArray(map { $0 }).postgresText }
}

extension Array: PostgresDecodable where Element == String {
    public init(postgresText text: String) throws(PostgresDecodingFailure) {
        self = try PostgresArrayLiteral.parse(text)
    }
}

/// A JSON document passed through as text (the statement casts `$n::jsonb`).
public struct PostgresJSON: PostgresEncodable, PostgresDecodable, Sendable, Equatable {
    public let text: String
    public init(_ text: String) { self.text = text }
    public init(postgresText text: String) { self.text = text }
    public var postgresText: String { text }
    public init<T: Encodable>(encoding value: T) throws {
        let data = try JSONEncoder().encode(value)
        self.text = Self.withoutNULEscapes(String(decoding: data, as: UTF8.self))
    }

    /// jsonb refuses the escape `\u0000` (PostgreSQL text cannot hold U+0000): JSON text with one gets `\ufffd`
    /// instead, so a NUL a client or provider sent never fails the statement. Escape-aware: a literal backslash
    /// followed by "u0000" (`\\u0000` in the JSON) is left alone. Almost no text has one; the check is a byte scan.
    public static func withoutNULEscapes(_ text: String) -> String {
        let utf8 = text.utf8
        guard utf8.count >= 6, utf8.withContiguousStorageIfAvailable({ Self.hasNULEscape($0) }) ?? true else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count)
        let bytes = Array(utf8)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count else { out.append(bytes[i]); i += 1; continue }
            if bytes[i + 1] == UInt8(ascii: "u"), i + 5 < bytes.count, bytes[(i + 2)...(i + 5)].elementsEqual("0000".utf8) {
                out.append(contentsOf: "\\ufffd".utf8)
                i += 6
            } else {
                out.append(bytes[i]); out.append(bytes[i + 1])  // any other escape, kept whole
                i += 2
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether the bytes contain "\u0000" (a cheap pre-check on every webhook payload: memchr from backslash to
    /// backslash; the rewrite decides exactly, escapes included).
    private static func hasNULEscape(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress, bytes.count >= 6 else { return false }
        var offset = 0
        while offset + 6 <= bytes.count, let found = memchr(base + offset, 0x5C, bytes.count - offset - 5) {
            let i = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
            if bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] == 0x30, bytes[i + 3] == 0x30, bytes[i + 4] == 0x30,
               bytes[i + 5] == 0x30 { return true }
            offset = i + 1
        }
        return false
    }

    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

enum PostgresArrayLiteral {
    /// Parses a one-dimensional `text[]` in PostgreSQL's output syntax: `{a,"b c",NULL}`.
    static func parse(_ text: String) throws(PostgresDecodingFailure) -> [String] {
        let chars = Array(text.utf8)
        guard chars.first == UInt8(ascii: "{"), chars.last == UInt8(ascii: "}") else {
            throw PostgresDecodingFailure("not an array literal")
        }
        var result: [String] = []
        var i = 1
        let end = chars.count - 1
        if i == end { return [] }
        while i < end {
            var bytes: [UInt8] = []
            if chars[i] == UInt8(ascii: "\"") {
                i += 1
                while i < end, chars[i] != UInt8(ascii: "\"") {
                    if chars[i] == UInt8(ascii: "\\"), i + 1 < end { i += 1 }
                    bytes.append(chars[i]); i += 1
                }
                i += 1  // closing quote
            } else {
                while i < end, chars[i] != UInt8(ascii: ",") { bytes.append(chars[i]); i += 1 }
            }
            result.append(String(decoding: bytes, as: UTF8.self))
            i += 1  // comma
        }
        return result
    }
}

/// Timestamps without DateFormatter: fixed formats, UTC, no locale, cheap on hot paths.
public enum PostgresTimestamp {
    public static func format(_ date: Date) -> String {
        let total = date.timeIntervalSince1970
        // Past PostgreSQL's range (294276 AD) a date is infinite to it; converting it to Int64 would trap.
        guard total.isFinite, abs(total) < 9.2e12 else { return total < 0 ? "-infinity" : "infinity" }
        var seconds = Int64(total.rounded(.down))
        var micros = Int64(((total - Double(seconds)) * 1_000_000).rounded())
        if micros >= 1_000_000 { seconds += 1; micros -= 1_000_000 }
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secOfDay = seconds - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, w - s.count)) + s
        }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))T\(pad(secOfDay / 3600, 2)):\(pad(secOfDay % 3600 / 60, 2)):"
            + "\(pad(secOfDay % 60, 2)).\(pad(micros, 6))Z"
    }

    /// Parses `YYYY-MM-DD[ T]HH:MM:SS[.ffffff][Z|±HH[:MM]]`, PostgreSQL's ISO output and RFC 3339 alike.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func num(_ from: Int, _ len: Int) -> Int64? {
            guard from + len <= b.count else { return nil }
            var v: Int64 = 0
            for k in from..<(from + len) {
                let c = b[k]
                guard c >= 48, c <= 57 else { return nil }
                v = v * 10 + Int64(c - 48)
            }
            return v
        }
        guard b.count >= 19, let y = num(0, 4), b[4] == 45, let mo = num(5, 2), b[7] == 45, let d = num(8, 2),
              b[10] == 32 || b[10] == 84 || b[10] == 116, let h = num(11, 2), b[13] == 58, let mi = num(14, 2),
              b[16] == 58, let s = num(17, 2), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, s < 61
        else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == 46 {
            i += 1
            var scale = 0.1
            while i < b.count, b[i] >= 48, b[i] <= 57 { fraction += Double(b[i] - 48) * scale; scale /= 10; i += 1 }
        }
        var offset: Int64 = 0
        if i < b.count {
            switch b[i] {
            case 90, 122: i += 1
            case 43, 45:
                let sign: Int64 = b[i] == 45 ? -1 : 1
                guard let oh = num(i + 1, 2) else { return nil }
                i += 3
                var om: Int64 = 0
                if i < b.count, b[i] == 58 { i += 1 }
                if i + 2 <= b.count, let m = num(i, 2) { om = m; i += 2 }
                offset = sign * (oh * 3600 + om * 60)
            default: return nil
            }
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(y, mo, d)
        let secs = days * 86_400 + h * 3600 + mi * 60 + s - offset
        return Date(timeIntervalSince1970: Double(secs) + fraction)
    }

    // Howard Hinnant's civil-calendar algorithms.
    static func daysFromCivil(_ y0: Int64, _ m: Int64, _ d: Int64) -> Int64 {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int64) -> (Int64, Int64, Int64) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? yoe + era * 400 + 1 : yoe + era * 400, m, d)
    }
}

/// A `text[]` parameter whose elements may be NULL (cast it in SQL: `$1::uuid[]`, `$2::jsonb[]`).
public struct PostgresTextArray: PostgresEncodable, Sendable {
    public let elements: [String?]
    public init(_ elements: [String?]) { self.elements = elements }

    public var postgresText: String {
        // Byte by byte: quoting only ever concerns ASCII `"` and `\`, and walking Characters
        // would pay for grapheme breaking on every Thai payload.
        var out: [UInt8] = [UInt8(ascii: "{")]
        for (i, element) in elements.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            guard let element else { out += Array("NULL".utf8); continue }
            out.append(UInt8(ascii: "\""))
            for byte in element.utf8 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { out.append(UInt8(ascii: "\\")) }
                out.append(byte)
            }
            out.append(UInt8(ascii: "\""))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }
}
