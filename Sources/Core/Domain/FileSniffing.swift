/// What an uploaded file is, decided by its bytes (never by its name or declared type), and whether it is only
/// that: a file that carries anything after the end of its image, or a PDF that carries script or an HTML face,
/// is refused.
public enum SniffedImageFormat: String, Sendable, Equatable {
    case jpeg, png, webp

    public var mimeType: String {
        switch self {
        case .jpeg: return "image/jpeg"
        case .png: return "image/png"
        case .webp: return "image/webp"
        }
    }

    public var fileExtension: String { self == .jpeg ? "jpg" : rawValue }
}

public enum FileSniffing {
    public static func imageFormat(_ b: [UInt8]) -> SniffedImageFormat? {
        if b.count >= 3, b[0] == 0xFF, b[1] == 0xD8, b[2] == 0xFF { return .jpeg }
        if b.count >= 8, b[0..<8].elementsEqual([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if b.count >= 12, b[0..<4].elementsEqual(Array("RIFF".utf8)), b[8..<12].elementsEqual(Array("WEBP".utf8)) { return .webp }
        return nil
    }

    /// True when bytes follow the image's own end (JPEG EOI, PNG IEND, the RIFF length of WEBP): the classic way
    /// to make one file both an image and an archive, a script or a page.
    public static func hasTrailingData(_ b: [UInt8], format: SniffedImageFormat) -> Bool {
        switch format {
        case .jpeg:
            // Some encoders pad with a few zero bytes; anything else after the last EOI is another file.
            var end = b.count
            while end > 0, b[end - 1] == 0, b.count - end < 16 { end -= 1 }
            return !(end >= 2 && b[end - 2] == 0xFF && b[end - 1] == 0xD9)
        case .png:
            let iend: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]
            return !(b.count >= iend.count && b[(b.count - iend.count)...].elementsEqual(iend))
        case .webp:
            guard b.count >= 8 else { return true }
            let size = Int(b[4]) | Int(b[5]) << 8 | Int(b[6]) << 16 | Int(b[7]) << 24
            return size + 8 + (size & 1) != b.count && size + 8 != b.count
        }
    }

    /// Why `b` is not an acceptable PDF, or nil: `%PDF-` at the very start, an `%%EOF` at the end with a
    /// `startxref` before it, objects in between, no HTML face in its first kilobyte, and no JavaScript, launch
    /// or embedded-file actions (a document for a customer has no business running anything).
    public static func pdfProblem(_ b: [UInt8]) -> String? {
        guard b.count >= 64 else { return "the file is too short to be a PDF" }
        guard b[0..<5].elementsEqual(Array("%PDF-".utf8)) else { return "the file is not a PDF (no %PDF- header)" }
        let tail = Array(b.suffix(1_024))
        guard contains(tail, "%%EOF"), contains(Array(b.suffix(4_096)), "startxref") else {
            return "the PDF is truncated or malformed (no startxref / %%EOF at its end)"
        }
        guard contains(b, " obj"), contains(b, "endobj") else { return "the PDF has no objects" }
        let head = Array(b.prefix(1_024)).map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
        for marker in ["<html", "<script", "<!doctype", "<svg", "<?xml"] where contains(head, marker) {
            return "the file is also an HTML or XML document"
        }
        for action in ["/JavaScript", "/JS", "/Launch", "/EmbeddedFile", "/RichMedia", "/OpenAction /JS"] where contains(b, action) {
            return "the PDF carries active content (\(action))"
        }
        return nil
    }

    /// Byte-substring search (files are at most a few MB; this runs once per upload).
    static func contains(_ haystack: [UInt8], _ needle: String) -> Bool {
        let n = Array(needle.utf8)
        guard !n.isEmpty, haystack.count >= n.count else { return false }
        let first = n[0]
        var i = 0
        let last = haystack.count - n.count
        while i <= last {
            if haystack[i] == first && haystack[i..<(i + n.count)].elementsEqual(n) { return true }
            i += 1
        }
        return false
    }
}
