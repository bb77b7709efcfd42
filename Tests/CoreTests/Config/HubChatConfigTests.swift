import XCTest
@testable import Core

final class HubChatConfigTests: XCTestCase {
    func testDefaultsFollowTheOriginalProduct() throws {
        let config = try HubChatConfig(environment: Environment([
            "DATABASE_URL": "postgresql://x@localhost/db", "HUBCHAT_MEDIA_SIGNING_SECRET": "s"]))
        XCTAssertEqual(config.media.imageBucket, "message-images")
        XCTAssertEqual(config.media.imageURLMode, .signed)
        XCTAssertEqual(config.media.imageSignedURLTTLSeconds, 2_592_000)
        XCTAssertEqual(config.media.fileBucket, "message-images", "files default to the image settings")
        XCTAssertEqual(config.media.fileURLMode, .signed)
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
            "WORKER_HEALTH_PORT": "8081", "HUBCHAT_FCGI_MAX_REQUESTS": "500",
            "DEFAULT_TENANT_ID": " 6f1c2e6a-0000-4000-8000-000000000001 ", "MESSAGE_IMAGE_URL_MODE": "public",
        ]))
        XCTAssertEqual(config.worker.pollIntervalMilliseconds, 120)
        XCTAssertEqual(config.worker.healthPort, 8081)
        XCTAssertEqual(config.responders.maxRequestsPerProcess, 500)
        XCTAssertEqual(config.defaultTenantID, "6f1c2e6a-0000-4000-8000-000000000001")
    }

    func testSignedMediaNeedsASigningSecret() throws {
        XCTAssertThrowsError(try HubChatConfig(environment: Environment(["DATABASE_URL": "postgresql://x@localhost/db"]))) {
            XCTAssertEqual(($0 as? Environment.Invalid)?.variable, "HUBCHAT_MEDIA_SIGNING_SECRET")
        }
        let publicOnly = try HubChatConfig(environment: Environment([
            "DATABASE_URL": "postgresql://x@localhost/db", "MESSAGE_IMAGE_URL_MODE": "public"]))
        XCTAssertEqual(publicOnly.media.fileURLMode, .public)
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
        XCTAssertThrowsError(try HubChatConfig(environment: Environment([
            "DATABASE_URL": "postgresql://x@localhost/db", "DEFAULT_TENANT_ID": "demo", "HUBCHAT_MEDIA_SIGNING_SECRET": "s",
        ]))) { XCTAssertEqual(($0 as? Environment.Invalid)?.variable, "DEFAULT_TENANT_ID") }
    }

    func testEnvVarsDefineTheSingleTenantDefaultAccounts() throws {
        let tenant = "6f1c2e6a-0000-4000-8000-000000000001"
        let config = try HubChatConfig(environment: Environment([
            "DATABASE_URL": "postgresql://x@localhost/db", "DEFAULT_TENANT_ID": tenant,
            "LINE_CHANNEL_SECRET": "line-secret", "FACEBOOK_APP_SECRET": "app-secret", "FACEBOOK_VERIFY_TOKEN": "fb-verify",
            "MESSAGE_IMAGE_URL_MODE": "public",
        ]))
        let accounts = config.defaultChannelAccounts
        XCTAssertEqual(accounts[.line]?.credentials.signingSecret, "line-secret")
        XCTAssertEqual(accounts[.line]?.tenantID.uuidString.lowercased(), tenant)
        XCTAssertEqual(accounts[.facebook]?.credentials.verifyToken, "fb-verify")
        // Instagram falls back to the Facebook secret and verify token.
        XCTAssertEqual(accounts[.instagram]?.credentials.signingSecret, "app-secret")
        XCTAssertEqual(accounts[.instagram]?.credentials.verifyToken, "fb-verify")
        // Without DEFAULT_TENANT_ID there is no default account at all.
        let none = try HubChatConfig(environment: Environment([
            "DATABASE_URL": "postgresql://x@localhost/db", "LINE_CHANNEL_SECRET": "line-secret",
            "MESSAGE_IMAGE_URL_MODE": "public",
        ]))
        XCTAssertTrue(none.defaultChannelAccounts.isEmpty)
    }
}

final class ChannelAccountCacheTests: XCTestCase {
    struct CountingDirectory: ChannelAccountDirectory {
        final class Calls: @unchecked Sendable { var ids: [[String]] = [] }
        let calls = Calls()
        let known: [ChannelAccount]
        func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount] {
            calls.ids.append(externalIDs)
            return known.filter { $0.channel == channel && externalIDs.contains($0.externalAccountID) }
        }
        func verifyTokens(channel: Channel) throws -> [String] { [] }
    }

    func testRemembersKnownAccountsForTheTTLOnly() throws {
        var now = 100.0
        let cache = ChannelAccountCache(ttlSeconds: 10, clock: { now })
        let account = ChannelAccount(id: UUID(), tenantID: UUID(), channel: .line, externalAccountID: "U1",
                                     credentials: .init(signingSecret: "s", accessToken: nil, verifyToken: nil))
        let upstream = CountingDirectory(known: [account])
        let directory = CachedChannelAccountDirectory(upstream: upstream, cache: cache)
        XCTAssertEqual(try directory.accounts(channel: .line, externalIDs: ["U1"]), [account])
        XCTAssertEqual(try directory.accounts(channel: .line, externalIDs: ["U1"]), [account])
        XCTAssertEqual(upstream.calls.ids, [["U1"]], "the second lookup should come from the cache")
        // Unknown ids are asked every time (a new account works at once), known ones are not.
        XCTAssertEqual(try directory.accounts(channel: .line, externalIDs: ["U1", "U2"]), [account])
        XCTAssertEqual(try directory.accounts(channel: .line, externalIDs: ["U2"]), [])
        XCTAssertEqual(upstream.calls.ids, [["U1"], ["U2"], ["U2"]])
        // Another channel with the same id is another account.
        XCTAssertEqual(try directory.accounts(channel: .facebook, externalIDs: ["U1"]), [])
        now += 11
        _ = try directory.accounts(channel: .line, externalIDs: ["U1"])
        XCTAssertEqual(upstream.calls.ids.last, ["U1"], "an expired entry must be looked up again")
    }
}
