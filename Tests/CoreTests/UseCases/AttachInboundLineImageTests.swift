import Logging
import XCTest
@testable import Core

/// The image job: a download that may pass later is retried, only its last attempt keeps the error, and an image
/// no longer waited for (unsent, attached before) is not even downloaded.
final class AttachInboundLineImageTests: XCTestCase {
    final class ContentAPI: HTTPClient, @unchecked Sendable {
        var status: Int
        var requests = 0
        init(status: Int) { self.status = status }
        func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
            requests += 1
            return HTTPResponse(status: status, headers: [:], body: [0xFF, 0xD8], elapsedMilliseconds: 1)
        }
    }

    struct Images: ImageProcessor {
        func dimensions(of data: [UInt8]) throws -> (width: Int, height: Int) { (10, 10) }
        func verify(_ data: [UInt8]) throws {}
        func jpeg(from data: [UInt8], maxEdge: Int?, quality: Int) throws -> EncodedImage {
            EncodedImage(bytes: data, width: 10, height: 10)
        }
    }

    final class Storage: MediaStorage, @unchecked Sendable {
        var puts: [String] = []
        var full = false
        func put(bucket: String, path: String, bytes: [UInt8], contentType: String) throws {
            if full { throw POSIXError(.ENOSPC) }
            puts.append(path)
        }
        var deletes: [String] = []
        func delete(bucket: String, path: String) throws { deletes.append(path) }
        func url(bucket: String, path: String, mode: MediaURLMode, ttlSeconds: Int) -> String { "https://media/\(path)" }
        func storedSize(url: String) -> Int? { nil }
        func read(url: String) -> [UInt8]? { nil }
        func renewed(url: String, tenant: UUID) -> String { url }
    }

    func attach(_ http: ContentAPI, storage: Storage, inbox: ProcessInboundEventTests.FakeInbox) -> AttachInboundLineImage {
        let store = StoreInboundLineImage(http: http, images: Images(), storage: storage, settings: .init(
            dataAPIBaseURL: "http://sim", bucket: "inbound-media", urlMode: .public, signedURLTTLSeconds: 60, maxBytes: 1_000_000))
        return AttachInboundLineImage(inbox: inbox, lineImages: store, defaultAccount: nil, realtime: NoRealtimePublisher(),
                                      logger: Logger(label: "test"))
    }

    let payload = try! AttachInboundLineImage.Request(tenantId: UUID(), channelAccountId: UUID(), lineMessageId: "5551").job().payload

    func testATransientFailureIsRetriedAndOnlyTheLastAttemptKeepsTheError() throws {
        let http = ContentAPI(status: 503), storage = Storage()
        let inbox = ProcessInboundEventTests.FakeInbox(event: Self.someEvent)
        let run = attach(http, storage: storage, inbox: inbox)
        XCTAssertThrowsError(try run(jobPayload: payload, finalAttempt: false)) {
            XCTAssertTrue($0 is AttachInboundLineImage.TransientFailure, "\($0)")
        }
        XCTAssertTrue(inbox.attached.isEmpty, "nothing is attached while attempts are left")
        XCTAssertTrue(try run(jobPayload: payload, finalAttempt: true))
        XCTAssertEqual(inbox.attached.map { $0.1.error }, ["download_failed"])
        // A 404 (content gone) will not pass later: kept at once.
        http.status = 404
        XCTAssertTrue(try run(jobPayload: payload, finalAttempt: false))
        XCTAssertEqual(inbox.attached.count, 2)
        http.status = 200
        XCTAssertTrue(try run(jobPayload: payload, finalAttempt: false))
        XCTAssertEqual(inbox.attached.last?.1.mediaURL, "https://media/inbound/\(Self.tenant(payload))/line/original/5551.jpg")
        XCTAssertEqual(storage.puts.count, 2, "original and thumbnail")
    }

    /// A full disk (or an object store's outage) passes: the image is fetched and stored again later, not kept
    /// without its media for good.
    func testAStorageFailureIsRetriedLikeADownloadFailure() throws {
        let http = ContentAPI(status: 200), storage = Storage()
        storage.full = true
        let inbox = ProcessInboundEventTests.FakeInbox(event: Self.someEvent)
        let run = attach(http, storage: storage, inbox: inbox)
        XCTAssertThrowsError(try run(jobPayload: payload, finalAttempt: false)) {
            XCTAssertTrue($0 is AttachInboundLineImage.TransientFailure, "\($0)")
        }
        XCTAssertTrue(inbox.attached.isEmpty)
        storage.full = false
        XCTAssertTrue(try run(jobPayload: payload, finalAttempt: false))
        XCTAssertNil(inbox.attached.last?.1.error)
        XCTAssertEqual(storage.puts.count, 2)
        // Still failing at the last attempt: the message keeps the reason.
        storage.full = true
        XCTAssertTrue(try run(jobPayload: payload, finalAttempt: true))
        XCTAssertEqual(inbox.attached.last?.1.error, "storage_failed")
    }

    func testAnImageNoLongerWaitedForIsNotDownloaded() throws {
        let http = ContentAPI(status: 200), storage = Storage()
        let inbox = ProcessInboundEventTests.FakeInbox(event: Self.someEvent)
        inbox.imagePending = false
        XCTAssertFalse(try attach(http, storage: storage, inbox: inbox)(jobPayload: payload))
        XCTAssertEqual(http.requests, 0)
        XCTAssertTrue(storage.puts.isEmpty)
    }

    static let someEvent = StoredWebhookEvent(id: UUID(), tenantID: UUID(), channel: .line, channelAccountID: UUID(),
                                              accountExternalID: "U0", payload: "{}", processed: false)

    static func tenant(_ payload: String) -> String {
        (try? JSONCoding.decoder.decode(AttachInboundLineImage.Request.self, from: Data(payload.utf8)))?.tenantId.postgresText ?? ""
    }
}
