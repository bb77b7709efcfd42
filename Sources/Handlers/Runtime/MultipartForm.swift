import Core

/// `multipart/form-data` (RFC 7578), enough for file uploads: parts with their name, file name, declared type
/// and bytes. The declared type and name are kept only for display; what a file is gets decided by its content.
struct MultipartForm {
    struct Part {
        let name: String
        let fileName: String?
        let contentType: String?
        let body: [UInt8]
    }

    let parts: [Part]

    /// The uploaded file: the part named `file`, or else the only part that has a file name.
    var file: Part? {
        parts.first { $0.name == "file" && $0.fileName != nil } ?? {
            let files = parts.filter { $0.fileName != nil }
            return files.count == 1 ? files[0] : nil
        }()
    }

    init(request: Request) throws {
        guard let type = request.header("content-type"), type.lowercased().hasPrefix("multipart/form-data") else {
            throw AppError.unsupportedMediaType("Send the file as multipart/form-data with a part named file.")
        }
        guard let boundary = Self.parameter("boundary", in: type), !boundary.isEmpty, boundary.utf8.count <= 200 else {
            throw AppError.badRequest("The multipart body has no boundary.", code: "invalid_multipart")
        }
        parts = try Self.parse(request.body, boundary: Array(("--" + boundary).utf8))
    }

    /// A parameter of a header value such as `form-data; name="file"; filename="quote; v2.pdf"`. A `;` inside
    /// quotes belongs to the value; inside quotes `\"` is a quote, and any other backslash stays (old browsers sent
    /// Windows paths unescaped).
    static func parameter(_ name: String, in header: String) -> String? {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var previous: Character?
        for c in header {
            if c == "\"" && !(quoted && previous == "\\") { quoted.toggle() }
            if c == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(c)
            }
            previous = c
        }
        pieces.append(current)
        for piece in pieces.dropFirst() {
            let pair = piece.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingCharacters(in: .whitespaces).lowercased() == name else { continue }
            var value = pair[1].trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 {
                value = String(value.dropFirst().dropLast()).replacingOccurrences(of: "\\\"", with: "\"")
            }
            return value
        }
        return nil
    }

    static func parse(_ body: [UInt8], boundary: [UInt8]) throws -> [Part] {
        let malformed = AppError.badRequest("The multipart body is malformed.", code: "invalid_multipart")
        var positions: [Int] = []
        var i = 0
        while let found = find(boundary, in: body, from: i) {
            positions.append(found)
            i = found + boundary.count
            if positions.count > 20 { throw AppError.badRequest("Too many parts; send one file.", code: "invalid_multipart") }
        }
        guard positions.count >= 2 else { throw malformed }
        var parts: [Part] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            var from = start + boundary.count
            // CRLF after the boundary line; the closing boundary is followed by "--".
            guard from + 2 <= body.count, body[from] == 13, body[from + 1] == 10 else { throw malformed }
            from += 2
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: from), headerEnd < end else { throw malformed }
            let headers = String(decoding: body[from..<headerEnd], as: UTF8.self)
            var contentEnd = end
            if contentEnd >= 2, body[contentEnd - 2] == 13, body[contentEnd - 1] == 10 { contentEnd -= 2 }
            guard contentEnd >= headerEnd + 4 else { throw malformed }
            var name = ""
            var fileName: String?
            var contentType: String?
            for line in headers.split(separator: "\r\n") {
                let lower = line.lowercased()
                if lower.hasPrefix("content-disposition:") {
                    let value = String(line.dropFirst("content-disposition:".count))
                    name = parameter("name", in: value) ?? ""
                    fileName = parameter("filename", in: value)
                } else if lower.hasPrefix("content-type:") {
                    contentType = line.dropFirst("content-type:".count).trimmingCharacters(in: .whitespaces)
                }
            }
            parts.append(Part(name: name, fileName: fileName, contentType: contentType,
                              body: Array(body[(headerEnd + 4)..<contentEnd])))
        }
        return parts
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, from <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == first, haystack[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}
