import XCTest
@testable import Core

final class HubChatConfigTests: XCTestCase {
    func testDefaultsFollowTheOriginalProduct() throws {
        let config = try HubChatConfig(environment: Environment(["DATABASE_URL": "postgresql://x@localhost/db"]))
        XCTAssertEqual(config.worker.pollIntervalMilliseconds, 200)
        XCTAssertEqual(config.worker.inboundBatchSize, 20)
        XCTAssertEqual(config.worker.inboundConcurrency, 8)
        XCTAssertEqual(config.worker.outboundBatchSize, 15)
        XCTAssertEqual(config.worker.outboundConcurrency, 5)
        XCTAssertEqual(config.worker.outboxBatchSize, 50)
        XCTAssertEqual(config.worker.outboxConcurrency, 10)
        XCTAssertEqual(config.worker.outboxProcessingTimeoutSeconds, 120)
        XCTAssertEqual(config.worker.observabilityPollMilliseconds, 5_000)
        XCTAssertNil(config.worker.healthPort)
        XCTAssertEqual(config.limits.outboundRequestsPerWindow, 120)
        XCTAssertEqual(config.limits.outboundWindowSeconds, 60)
        XCTAssertEqual(config.limits.idempotencyProcessingTTLSeconds, 300)
        XCTAssertEqual(config.limits.idempotencyCompletedTTLSeconds, 86_400)
        XCTAssertEqual(config.httpPort, 8080)
    }

    func testOverridesAreRead() throws {
        let config = try HubChatConfig(environment: Environment([
            "DATABASE_URL": "postgresql://x@localhost/db", "WORKER_POLL_INTERVAL_MS": "120",
            "WORKER_HEALTH_PORT": "8081", "HUBCHAT_FCGI_MAX_REQUESTS": "500", "DEFAULT_TENANT_ID": " abc ",
        ]))
        XCTAssertEqual(config.worker.pollIntervalMilliseconds, 120)
        XCTAssertEqual(config.worker.healthPort, 8081)
        XCTAssertEqual(config.responders.maxRequestsPerProcess, 500)
        XCTAssertEqual(config.defaultTenantID, "abc")
    }

    func testErrorsNameTheVariable() {
        XCTAssertThrowsError(try HubChatConfig(environment: Environment([:]))) { error in
            XCTAssertEqual((error as? Environment.Invalid)?.variable, "DATABASE_URL")
        }
        XCTAssertThrowsError(try HubChatConfig(environment: Environment([
            "DATABASE_URL": "postgresql://x@localhost/db", "WORKER_INBOUND_BATCH_SIZE": "500",
        ]))) { error in
            let invalid = error as? Environment.Invalid
            XCTAssertEqual(invalid?.variable, "WORKER_INBOUND_BATCH_SIZE")
            XCTAssertTrue(invalid?.problem.contains("between 1 and 200") ?? false)
        }
        XCTAssertThrowsError(try HubChatConfig(environment: Environment([
            "DATABASE_URL": "postgresql://x@localhost/db", "WORKER_POLL_INTERVAL_MS": "fast",
        ])))
    }
}
