import Core
import VipsImages
import FoundationEssentials

/// Makes LINE's `previewImageUrl` (≤ 1 MB) for an image sent without one: the original is read from our storage,
/// or fetched after the media-URL guard accepted its host (no redirects are followed, size capped), shrunk with
/// libvips to a 240 px JPEG and stored beside the original.
struct VipsLinePreviews: LinePreviewMaker {
    static let maxEdge = 240
    static let maxPreviewBytes = 1_000_000

    let images: VipsImageProcessor
    let storage: LocalMediaStorage
    let http: any HTTPClient
    let guardURL: MediaURLGuard
    let bucket: String
    let mode: MediaURLMode
    let ttlSeconds: Int
    let maxSourceBytes: Int

    struct Failure: Error, CustomStringConvertible { let description: String }

    func previewURL(for d: OutboundDelivery) throws -> String {
        guard let url = d.mediaURL else { throw Failure(description: "the message has no image URL") }
        let original: [UInt8]
        if let local = storage.read(url: url) {
            original = local
        } else {
            try guardURL.check(url, field: "mediaUrl", tenant: d.tenantID)
            let response = try http.send(HTTPRequest(url: url, timeoutMilliseconds: 10_000))
            guard response.status == 200 else { throw Failure(description: "fetching the image answered \(response.status)") }
            guard response.body.count <= maxSourceBytes else { throw Failure(description: "the image is larger than allowed") }
            original = response.body
        }
        var quality = 80
        var preview = try images.jpeg(from: original, maxEdge: Self.maxEdge, quality: quality)
        while preview.bytes.count > Self.maxPreviewBytes && quality > 30 {
            quality -= 20
            preview = try images.jpeg(from: original, maxEdge: Self.maxEdge, quality: quality)
        }
        let path = "\(d.tenantID.uuidString.lowercased())/previews/\(d.messageID.uuidString.lowercased()).jpg"
        try storage.put(bucket: bucket, path: path, bytes: preview.bytes, contentType: "image/jpeg")
        return storage.url(bucket: bucket, path: path, mode: mode, ttlSeconds: ttlSeconds)
    }
}
