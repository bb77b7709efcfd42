import FoundationEssentials
import Logging

/// `POST /api/messages/upload-image` and `/upload-pdf`: checks what a file is by its content, stores it under the
/// tenant through the storage port, and answers the URLs a send then uses (public or signed, per bucket).
public struct UploadMedia {
    public struct Settings: Sendable {
        public var imageBucket: String
        public var imageURLMode: MediaURLMode
        public var imageURLTTLSeconds: Int
        public var fileBucket: String
        public var fileURLMode: MediaURLMode
        public var fileURLTTLSeconds: Int
        public var maxBytes: Int

        public init(imageBucket: String, imageURLMode: MediaURLMode, imageURLTTLSeconds: Int, fileBucket: String,
                    fileURLMode: MediaURLMode, fileURLTTLSeconds: Int, maxBytes: Int) {
            self.imageBucket = imageBucket
            self.imageURLMode = imageURLMode
            self.imageURLTTLSeconds = imageURLTTLSeconds
            self.fileBucket = fileBucket
            self.fileURLMode = fileURLMode
            self.fileURLTTLSeconds = fileURLTTLSeconds
            self.maxBytes = maxBytes
        }
    }

    /// Larger images are refused (the original product's limit); LINE's preview must stay under 1 MB.
    public static let maxImageEdge = 10_000
    public static let previewEdge = 240

    let images: any ImageProcessor
    let storage: any MediaStorage
    let settings: Settings
    let now: Date
    let logger: Logger

    public init(images: any ImageProcessor, storage: any MediaStorage, settings: Settings, now: Date = Date(),
                logger: Logger = Logger(label: "hubchat.upload")) {
        self.images = images
        self.storage = storage
        self.settings = settings
        self.now = now
        self.logger = logger
    }

    public struct StoredImage: Encodable, Sendable, Equatable {
        public let bucket: String
        public let path: String
        public let mediaUrl: String
        public let previewUrl: String
        public let mime: String
        public let mimeType: String
        public let fileSizeBytes: Int
        public let width: Int
        public let height: Int
        public let fileName: String?
    }

    public struct StoredFile: Encodable, Sendable, Equatable {
        public let bucket: String
        public let path: String
        public let mediaUrl: String
        public let fileUrl: String
        public let fileName: String
        public let mime: String
        public let mimeType: String
        public let fileSizeBytes: Int
    }

    public func image(tenantID: UUID, bytes: [UInt8], fileName: String?) throws -> StoredImage {
        try checkSize(bytes)
        guard let format = FileSniffing.imageFormat(bytes) else {
            throw AppError.unsupportedMediaType("The file is not a JPEG, PNG or WEBP image (judged by its content, not its name).")
        }
        guard !FileSniffing.hasTrailingData(bytes, format: format) else {
            throw Self.refused("The image carries extra data after its end (a file that is also something else); re-save it.")
        }
        let size: (width: Int, height: Int)
        do { size = try images.dimensions(of: bytes) } catch { throw Self.refused("The image cannot be read: \(error).") }
        guard size.width <= Self.maxImageEdge, size.height <= Self.maxImageEdge else {
            throw Self.refused("The image is \(size.width)×\(size.height); at most \(Self.maxImageEdge) pixels a side.")
        }
        do { try images.verify(bytes) } catch { throw Self.refused("The image does not decode: \(error).") }
        let preview = try images.jpeg(from: bytes, maxEdge: Self.previewEdge, quality: 80)

        let base = "\(tenantID.uuidString.lowercased())/\(Self.day(now))/\(UUID().uuidString.lowercased())"
        let path = base + "." + format.fileExtension
        let previewPath = base + ".preview.jpg"
        try store([(path, bytes, format.mimeType), (previewPath, preview.bytes, "image/jpeg")], in: settings.imageBucket)
        let url = storage.url(bucket: settings.imageBucket, path: path, mode: settings.imageURLMode, ttlSeconds: settings.imageURLTTLSeconds)
        let previewURL = storage.url(bucket: settings.imageBucket, path: previewPath, mode: settings.imageURLMode,
                                     ttlSeconds: settings.imageURLTTLSeconds)
        return StoredImage(bucket: settings.imageBucket, path: path, mediaUrl: url, previewUrl: previewURL,
                           mime: format.mimeType, mimeType: format.mimeType, fileSizeBytes: bytes.count,
                           width: size.width, height: size.height, fileName: fileName)
    }

    public func pdf(tenantID: UUID, bytes: [UInt8], fileName: String?) throws -> StoredFile {
        try checkSize(bytes)
        if FileSniffing.imageFormat(bytes) != nil || !bytes.starts(with: Array("%PDF-".utf8)) {
            throw AppError.unsupportedMediaType("The file is not a PDF (judged by its content, not its name).")
        }
        if let problem = FileSniffing.pdfProblem(bytes) { throw Self.refused("Refused: \(problem).") }
        let path = "\(tenantID.uuidString.lowercased())/\(Self.day(now))/\(UUID().uuidString.lowercased()).pdf"
        try store([(path, bytes, "application/pdf")], in: settings.fileBucket)
        let url = storage.url(bucket: settings.fileBucket, path: path, mode: settings.fileURLMode, ttlSeconds: settings.fileURLTTLSeconds)
        let name = Self.displayName(fileName, fallback: "document.pdf", requiredExtension: ".pdf")
        return StoredFile(bucket: settings.fileBucket, path: path, mediaUrl: url, fileUrl: url, fileName: name,
                          mime: "application/pdf", mimeType: "application/pdf", fileSizeBytes: bytes.count)
    }

    /// Every file of one upload, or none: storage that fails (a full disk, an object store's outage) answers 503
    /// to retry and leaves nothing behind that no record points at.
    func store(_ files: [(path: String, bytes: [UInt8], contentType: String)], in bucket: String) throws {
        for (index, file) in files.enumerated() {
            do {
                try storage.put(bucket: bucket, path: file.path, bytes: file.bytes, contentType: file.contentType)
            } catch {
                logger.error("media storage refused an upload", metadata: ["bucket": "\(bucket)", "error": "\(error)"])
                for stored in files[..<index] { try? storage.delete(bucket: bucket, path: stored.path) }
                throw AppError.storageUnavailable
            }
        }
    }

    func checkSize(_ bytes: [UInt8]) throws {
        guard !bytes.isEmpty else { throw AppError.invalidField("file", "is empty.") }
        guard bytes.count <= settings.maxBytes else { throw AppError.payloadTooLarge(limitBytes: settings.maxBytes) }
    }

    static func refused(_ message: String) -> AppError {
        AppError(status: 422, code: "invalid_file", message: message, details: ["field": ["file"]])
    }

    /// The name shown to the customer: the uploaded one without any path or control characters, at most 255.
    static func displayName(_ raw: String?, fallback: String, requiredExtension: String) -> String {
        let base = (raw ?? "").split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(base.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7f }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        guard !clean.isEmpty else { return fallback }
        let named = clean.lowercased().hasSuffix(requiredExtension) ? clean : clean + requiredExtension
        return String(named.prefix(255))
    }

    static func day(_ date: Date) -> String { String(PostgresTimestamp.format(date).prefix(10)) }
}
