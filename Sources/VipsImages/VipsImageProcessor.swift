import CVips
import Core

/// `ImageProcessor` over libvips. Pointers and vips's error buffer stay in here. libvips starts on first use,
/// so a process that never handles an image never pays for it.
public struct VipsImageProcessor: ImageProcessor {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// libvips must be started once per process before first use.
    static let started: Bool = hubchat_vips_start() == 0

    public init() throws {
        guard Self.started else { throw Failure(description: "libvips could not start") }
    }

    public func dimensions(of data: [UInt8]) throws -> (width: Int, height: Int) {
        var width: Int32 = 0
        var height: Int32 = 0
        let rc = data.withUnsafeBytes { hubchat_vips_dimensions($0.baseAddress, $0.count, &width, &height) }
        guard rc == 0 else { throw Self.lastError("not a readable image") }
        return (Int(width), Int(height))
    }

    public func verify(_ data: [UInt8]) throws {
        let rc = data.withUnsafeBytes { hubchat_vips_verify($0.baseAddress, $0.count) }
        guard rc == 0 else { throw Self.lastError("the image does not decode") }
    }

    public func jpeg(from data: [UInt8], maxEdge: Int?, quality: Int) throws -> EncodedImage {
        var output: UnsafeMutableRawPointer?
        var length = 0
        var width: Int32 = 0
        var height: Int32 = 0
        let rc = data.withUnsafeBytes { input in
            hubchat_vips_jpeg(input.baseAddress, input.count, Int32(maxEdge ?? 0), Int32(quality), &output, &length, &width, &height)
        }
        guard rc == 0, let output else { throw Self.lastError("could not re-encode the image") }
        defer { hubchat_vips_free(output) }
        let bytes = Array(UnsafeRawBufferPointer(start: output, count: length))
        return EncodedImage(bytes: bytes, width: Int(width), height: Int(height))
    }

    static func lastError(_ fallback: String) -> Failure {
        var buffer = [CChar](repeating: 0, count: 512)
        hubchat_vips_take_error(&buffer, buffer.count)
        let message = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return Failure(description: message.isEmpty ? fallback : "\(fallback): \(message.prefix(300))")
    }
}
