import FoundationEssentials

/// Public URLs, or signed ones that expire (checked by nginx, so media never wakes a responder).
public enum MediaURLMode: String, Sendable {
    case `public`
    case signed
}

/// Where media files live: the local directory nginx serves by default; an object store
/// (S3, Supabase Storage) could stand behind the same port.
public protocol MediaStorage {
    func put(bucket: String, path: String, bytes: [UInt8], contentType: String) throws
    /// Removes a file; one that is not there is not an error.
    func delete(bucket: String, path: String) throws
    func url(bucket: String, path: String, mode: MediaURLMode, ttlSeconds: Int) -> String
    /// The size of a file this storage holds, from a URL it made (nil for any other URL).
    func storedSize(url: String) -> Int?
    /// The bytes of a file this storage holds, from a URL it made.
    func read(url: String) -> [UInt8]?
    /// A link to `tenant`'s own stored media, signed afresh when its bucket signs links (a stored link outlives its
    /// expiry, and one given without its signature would be refused); any other URL, another tenant's included, as
    /// it is.
    func renewed(url: String, tenant: UUID) -> String
}

/// Image decoding and re-encoding (libvips in the worker).
public protocol ImageProcessor {
    /// The image's pixel size from its header, without decoding it.
    func dimensions(of data: [UInt8]) throws -> (width: Int, height: Int)
    /// Decodes every pixel; throws when the file is corrupt or truncated.
    func verify(_ data: [UInt8]) throws
    /// A baseline JPEG at `quality`, shrunk to fit `maxEdge` (nil keeps the size), orientation applied.
    func jpeg(from data: [UInt8], maxEdge: Int?, quality: Int) throws -> EncodedImage
}

public struct EncodedImage: Sendable {
    public let bytes: [UInt8]
    public let width: Int
    public let height: Int

    public init(bytes: [UInt8], width: Int, height: Int) {
        self.bytes = bytes
        self.width = width
        self.height = height
    }
}

/// What storing an inbound image produced, or why it failed (the message is kept either way).
public struct InboundMedia: Sendable, Equatable {
    public var mediaURL: String?
    public var previewURL: String?
    public var width: Int?
    public var height: Int?
    public var sizeBytes: Int?
    public var mimeType: String?
    public var error: String?
    public var errorReason: String?
    /// The failure may pass if tried again later (a timeout, a 5xx or 429 from the provider).
    public var transient = false

    public init(mediaURL: String? = nil, previewURL: String? = nil, width: Int? = nil, height: Int? = nil,
                sizeBytes: Int? = nil, mimeType: String? = nil, error: String? = nil, errorReason: String? = nil) {
        self.mediaURL = mediaURL
        self.previewURL = previewURL
        self.width = width
        self.height = height
        self.sizeBytes = sizeBytes
        self.mimeType = mimeType
        self.error = error
        self.errorReason = errorReason
    }
}
