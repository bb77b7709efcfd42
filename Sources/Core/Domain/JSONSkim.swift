/// Finds an object's members without building any value: one pass over the bytes that only follows strings and
/// nesting. A webhook's signature is checked before its body is trusted, yet the secret to check it with belongs to
/// the account the body names; skimming reads that name without parsing the whole delivery, so a large unsigned
/// body costs a scan, not a parse. Not a validator: the body is parsed in full once the signature holds.
enum JSONSkim {
    /// The members of the object that `range` holds (surrounding whitespace allowed): each key's raw bytes (between
    /// its quotes, escapes as written) and its value's range. Nil when it is no object or ends early.
    static func members(_ b: [UInt8], in range: Range<Int>) -> [(key: ArraySlice<UInt8>, value: Range<Int>)]? {
        var i = skipWhitespace(b, from: range.lowerBound, to: range.upperBound)
        guard i < range.upperBound, b[i] == UInt8(ascii: "{") else { return nil }
        var members: [(key: ArraySlice<UInt8>, value: Range<Int>)] = []
        i = skipWhitespace(b, from: i + 1, to: range.upperBound)
        if i < range.upperBound, b[i] == UInt8(ascii: "}") { return members }
        while i < range.upperBound {
            guard b[i] == UInt8(ascii: "\""), let keyEnd = skipValue(b, from: i, to: range.upperBound) else { return nil }
            let key = b[(i + 1)..<(keyEnd - 1)]
            i = skipWhitespace(b, from: keyEnd, to: range.upperBound)
            guard i < range.upperBound, b[i] == UInt8(ascii: ":") else { return nil }
            let start = skipWhitespace(b, from: i + 1, to: range.upperBound)
            guard let end = skipValue(b, from: start, to: range.upperBound) else { return nil }
            members.append((key, start..<end))
            i = skipWhitespace(b, from: end, to: range.upperBound)
            guard i < range.upperBound else { return nil }
            if b[i] == UInt8(ascii: "}") { return members }
            guard b[i] == UInt8(ascii: ",") else { return nil }
            i = skipWhitespace(b, from: i + 1, to: range.upperBound)
        }
        return nil
    }

    /// The element ranges of the array that `range` holds. Nil when it is no array or ends early.
    static func elements(_ b: [UInt8], in range: Range<Int>) -> [Range<Int>]? {
        var i = skipWhitespace(b, from: range.lowerBound, to: range.upperBound)
        guard i < range.upperBound, b[i] == UInt8(ascii: "[") else { return nil }
        var elements: [Range<Int>] = []
        i = skipWhitespace(b, from: i + 1, to: range.upperBound)
        if i < range.upperBound, b[i] == UInt8(ascii: "]") { return elements }
        while i < range.upperBound {
            guard let end = skipValue(b, from: i, to: range.upperBound) else { return nil }
            elements.append(i..<end)
            i = skipWhitespace(b, from: end, to: range.upperBound)
            guard i < range.upperBound else { return nil }
            if b[i] == UInt8(ascii: "]") { return elements }
            guard b[i] == UInt8(ascii: ",") else { return nil }
            i = skipWhitespace(b, from: i + 1, to: range.upperBound)
        }
        return nil
    }

    /// The value of the first member named `key` (a plain key, without escapes).
    static func member(_ key: String, of members: [(key: ArraySlice<UInt8>, value: Range<Int>)]) -> Range<Int>? {
        members.first { $0.key.elementsEqual(key.utf8) }?.value
    }

    /// Where the value starting at `from` ends (one past it), following strings and nesting only.
    static func skipValue(_ b: [UInt8], from: Int, to end: Int) -> Int? {
        guard from < end else { return nil }
        var i = from
        switch b[i] {
        case UInt8(ascii: "\""):
            i += 1
            while i < end {
                if b[i] == UInt8(ascii: "\\") { i += 2; continue }
                if b[i] == UInt8(ascii: "\"") { return i + 1 }
                i += 1
            }
            return nil
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while i < end {
                switch b[i] {
                case UInt8(ascii: "\""):
                    guard let after = skipValue(b, from: i, to: end) else { return nil }
                    i = after
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default:
                    break
                }
                i += 1
            }
            return nil
        default:
            while i < end, !isDelimiter(b[i]) { i += 1 }
            return i > from ? i : nil
        }
    }

    static func skipWhitespace(_ b: [UInt8], from: Int, to end: Int) -> Int {
        var i = from
        while i < end, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    static func isDelimiter(_ c: UInt8) -> Bool {
        c == UInt8(ascii: ",") || c == UInt8(ascii: "}") || c == UInt8(ascii: "]") || c == 0x20 || c == 0x0A
            || c == 0x0D || c == 0x09
    }
}
