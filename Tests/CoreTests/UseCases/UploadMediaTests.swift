import XCTest
@testable import Core

/// An upload is stored whole or not at all: storage that fails answers 503 to retry and leaves no file behind that
/// no record points at.
final class UploadMediaTests: XCTestCase {
    struct Images: ImageProcessor {
        func dimensions(of data: [UInt8]) throws -> (width: Int, height: Int) { (1, 1) }
        func verify(_ data: [UInt8]) throws {}
        func jpeg(from data: [UInt8], maxEdge: Int?, quality: Int) throws -> EncodedImage {
            EncodedImage(bytes: [0xFF, 0xD8, 0xFF, 0xD9], width: 1, height: 1)
        }
    }

    /// Takes `room` files, then refuses like a full disk.
    final class Storage: MediaStorage, @unchecked Sendable {
        var room: Int
        var stored: Set<String> = []
        init(room: Int) { self.room = room }
        func put(bucket: String, path: String, bytes: [UInt8], contentType: String) throws {
            guard room > 0 else { throw POSIXError(.ENOSPC) }
            room -= 1
            stored.insert(path)
        }
        func delete(bucket: String, path: String) throws { stored.remove(path) }
        func url(bucket: String, path: String, mode: MediaURLMode, ttlSeconds: Int) -> String { "https://media/\(path)" }
        func storedSize(url: String) -> Int? { nil }
        func read(url: String) -> [UInt8]? { nil }
        func renewed(url: String, tenant: UUID) -> String { url }
    }

    /// A 1×1 PNG.
    let png = [UInt8](Data(base64Encoded: "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")!)

    func upload(_ storage: Storage) -> UploadMedia {
        UploadMedia(images: Images(), storage: storage, settings: .init(
            imageBucket: "message-images", imageURLMode: .public, imageURLTTLSeconds: 60, fileBucket: "message-files",
            fileURLMode: .public, fileURLTTLSeconds: 60, maxBytes: 1_000_000))
    }

    func testAnImageWhosePreviewCannotBeStoredLeavesNothing() throws {
        let storage = Storage(room: 1)
        XCTAssertThrowsError(try upload(storage).image(tenantID: UUID(), bytes: png, fileName: "a.png")) {
            XCTAssertEqual(($0 as? AppError)?.status, 503)
            XCTAssertEqual(($0 as? AppError)?.code, "storage_unavailable")
        }
        XCTAssertEqual(storage.stored, [], "the original went in, then out again")
        storage.room = 2
        let image = try upload(storage).image(tenantID: UUID(), bytes: png, fileName: "a.png")
        XCTAssertEqual(storage.stored.count, 2)
        XCTAssertTrue(storage.stored.contains(image.path))
    }

    func testAPDFThatCannotBeStoredIs503() throws {
        let pdf = Array("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\nstartxref\n9\n%%EOF\n".utf8)
        XCTAssertThrowsError(try upload(Storage(room: 0)).pdf(tenantID: UUID(), bytes: pdf, fileName: "q.pdf")) {
            XCTAssertEqual(($0 as? AppError)?.code, "storage_unavailable")
        }
    }

    func testATinyFileIsRefusedForWhatItIs() throws {
        XCTAssertThrowsError(try upload(Storage(room: 1)).pdf(tenantID: UUID(), bytes: Array("%PDF-1.4\n%%EOF\n".utf8),
                                                               fileName: "t.pdf")) {
            XCTAssertEqual(($0 as? AppError)?.message, "Refused: the file is too short to be a PDF.")
        }
    }
}
