import FoundationEssentials

/// A LINE image, from LINE's content API to an original and a thumbnail in storage:
/// `inbound/{tenant}/line/original/{messageId}.jpg` and `.../thumb/{messageId}.jpg`.
/// Never throws: a failure comes back as error metadata and the message is stored without it.
public struct StoreInboundLineImage {
    public struct Settings: Sendable {
        public var dataAPIBaseURL: String
        public var bucket: String
        public var urlMode: MediaURLMode
        public var signedURLTTLSeconds: Int
        public var maxBytes: Int
        public var maxPixels: Int = 40_000_000
        public var thumbnailEdge: Int = 400

        public init(dataAPIBaseURL: String, bucket: String, urlMode: MediaURLMode, signedURLTTLSeconds: Int, maxBytes: Int) {
            self.dataAPIBaseURL = dataAPIBaseURL
            self.bucket = bucket
            self.urlMode = urlMode
            self.signedURLTTLSeconds = signedURLTTLSeconds
            self.maxBytes = maxBytes
        }
    }

    let http: any HTTPClient
    let images: any ImageProcessor
    let storage: any MediaStorage
    let settings: Settings

    public init(http: any HTTPClient, images: any ImageProcessor, storage: any MediaStorage, settings: Settings) {
        self.http = http
        self.images = images
        self.storage = storage
        self.settings = settings
    }

    public func callAsFunction(tenantID: UUID, lineMessageID: String, accessToken: String) -> InboundMedia {
        guard lineMessageID.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), !lineMessageID.isEmpty else {
            return InboundMedia(error: "invalid_message_id", errorReason: "LINE message ids are digits")
        }
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(
                url: "\(settings.dataAPIBaseURL)/v2/bot/message/\(lineMessageID)/content",
                headers: [("Authorization", "Bearer " + accessToken)], timeoutMilliseconds: 15_000,
                maxResponseBytes: settings.maxBytes))
        } catch .responseTooLarge {
            return InboundMedia(error: "too_large", errorReason: "the image is over the \(settings.maxBytes)-byte limit")
        } catch {
            var failed = InboundMedia(error: "download_failed", errorReason: "\(error)")
            failed.transient = true
            return failed
        }
        guard response.status == 200 else {
            var failed = InboundMedia(error: "download_failed", errorReason: "LINE content API answered \(response.status)")
            failed.transient = response.status >= 500 || response.status == 429
            return failed
        }
        guard response.body.count <= settings.maxBytes else {
            return InboundMedia(sizeBytes: response.body.count, error: "too_large",
                                errorReason: "\(response.body.count) bytes is over the \(settings.maxBytes)-byte limit")
        }
        let original: EncodedImage, thumbnail: EncodedImage
        do {
            let size = try images.dimensions(of: response.body)
            guard size.width * size.height <= settings.maxPixels else {
                return InboundMedia(error: "too_large", errorReason: "\(size.width)x\(size.height) pixels")
            }
            original = try images.jpeg(from: response.body, maxEdge: nil, quality: 82)
            thumbnail = try images.jpeg(from: response.body, maxEdge: settings.thumbnailEdge, quality: 70)
        } catch {
            return InboundMedia(error: "processing_failed", errorReason: "\(error)")
        }
        let (originalPath, thumbPath) = Self.paths(tenantID: tenantID, lineMessageID: lineMessageID)
        do {
            try storage.put(bucket: settings.bucket, path: originalPath, bytes: original.bytes, contentType: "image/jpeg")
            try storage.put(bucket: settings.bucket, path: thumbPath, bytes: thumbnail.bytes, contentType: "image/jpeg")
        } catch {
            // Storage that fails now (a full disk, an object store's outage) may take it later: tried again with
            // the download, which LINE keeps for a while. Nothing half-stored stays (the image may be unsent
            // before the next attempt, which would then not come back for it).
            try? storage.delete(bucket: settings.bucket, path: originalPath)
            try? storage.delete(bucket: settings.bucket, path: thumbPath)
            var failed = InboundMedia(error: "storage_failed", errorReason: "\(error)")
            failed.transient = true
            return failed
        }
        return InboundMedia(
            mediaURL: storage.url(bucket: settings.bucket, path: originalPath, mode: settings.urlMode,
                                  ttlSeconds: settings.signedURLTTLSeconds),
            previewURL: storage.url(bucket: settings.bucket, path: thumbPath, mode: settings.urlMode,
                                    ttlSeconds: settings.signedURLTTLSeconds),
            width: original.width, height: original.height, sizeBytes: original.bytes.count, mimeType: "image/jpeg")
    }

    /// Where a LINE image's original and thumbnail are stored.
    static func paths(tenantID: UUID, lineMessageID: String) -> (original: String, thumb: String) {
        let tenant = tenantID.postgresText
        return ("inbound/\(tenant)/line/original/\(lineMessageID).jpg", "inbound/\(tenant)/line/thumb/\(lineMessageID).jpg")
    }

    /// Removes a LINE image's stored files (an image its sender took back); nothing there is fine.
    public func remove(tenantID: UUID, lineMessageID: String) throws {
        guard lineMessageID.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), !lineMessageID.isEmpty else { return }
        let (original, thumb) = Self.paths(tenantID: tenantID, lineMessageID: lineMessageID)
        try storage.delete(bucket: settings.bucket, path: original)
        try storage.delete(bucket: settings.bucket, path: thumb)
    }
}
