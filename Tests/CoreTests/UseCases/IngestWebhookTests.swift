import Crypto
import Foundation
import Logging
import XCTest
@testable import Core

final class IngestWebhookTests: XCTestCase {
    struct Directory: ChannelAccountDirectory {
        let tokens: [Channel: [String]]
        func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount] { [] }
        func verifyTokens(channel: Channel) throws -> [String] { tokens[channel] ?? [] }
    }

    struct Store: WebhookEventStore {
        func store(_ events: [IncomingWebhookEvent]) throws -> Int { events.count }
    }

    func ingest(_ tokens: [Channel: [String]]) -> IngestWebhook {
        IngestWebhook(directory: Directory(tokens: tokens), store: Store(), defaultAccounts: [:], logger: Logger(label: "test"))
    }

    func testEitherMetaPathAcceptsEitherChannelsVerifyToken() throws {
        let query = ["hub.mode": "subscribe", "hub.verify_token": "fb-token", "hub.challenge": "42"]
        XCTAssertEqual(try ingest([.facebook: ["fb-token"]]).handshake(channel: .instagram, query: query), "42")
        XCTAssertThrowsError(try ingest([.instagram: ["ig-token"]]).handshake(channel: .facebook, query: query)) {
            XCTAssertEqual(($0 as? AppError)?.status, 403)
        }
        // One callback URL for both subscriptions: the Instagram token verifies the Facebook path too.
        let instagram = ["hub.mode": "subscribe", "hub.verify_token": "ig-token", "hub.challenge": "43"]
        XCTAssertEqual(try ingest([.instagram: ["ig-token"]]).handshake(channel: .facebook, query: instagram), "43")
    }

    func testUnknownAccountsAndMissingSignaturesStoreNothing() {
        let body = Array(#"{"destination":"U1","events":[]}"#.utf8)
        XCTAssertThrowsError(try ingest([:]).line(body: body, signature: nil)) { XCTAssertEqual(($0 as? AppError)?.status, 401) }
        XCTAssertThrowsError(try ingest([:]).line(body: body, signature: "x")) { XCTAssertEqual(($0 as? AppError)?.status, 404) }
    }

    /// One Meta app may send its Page and Instagram subscriptions to one callback URL: the body's object decides.
    func testAnInstagramBodyPostedToTheFacebookPathIsInstagrams() throws {
        let account = ChannelAccount(id: UUID(), tenantID: UUID(), channel: .instagram, externalAccountID: "178",
                                     credentials: ChannelCredentials(signingSecret: "app-secret", accessToken: nil, verifyToken: nil))
        final class Kept: WebhookEventStore, @unchecked Sendable {
            var channels: [Channel] = []
            func store(_ events: [IncomingWebhookEvent]) throws -> Int { channels += events.map(\.channel); return events.count }
        }
        let kept = Kept()
        let ingest = IngestWebhook(directory: Directory(tokens: [:]), store: kept, defaultAccounts: [.instagram: account],
                                   logger: Logger(label: "test"))
        let body = Array(#"{"object":"instagram","entry":[{"id":"178","time":1718000000000,"messaging":[{"sender":{"id":"9"},"recipient":{"id":"178"},"timestamp":1718000000000,"message":{"mid":"aWd1","text":"hi"}}]}]}"#.utf8)
        let signed = "sha256=" + Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array("app-secret".utf8))))
        XCTAssertEqual(try ingest.meta(channel: .facebook, body: body, signature: signed).stored, 1)
        XCTAssertEqual(kept.channels, [.instagram])
    }

    func testAMetaBatchWithoutEventsIsStillSignatureChecked() throws {
        let account = ChannelAccount(id: UUID(), tenantID: UUID(), channel: .facebook, externalAccountID: "104",
                                     credentials: ChannelCredentials(signingSecret: "app-secret", accessToken: nil, verifyToken: nil))
        let ingest = IngestWebhook(directory: Directory(tokens: [:]), store: Store(), defaultAccounts: [.facebook: account],
                                   logger: Logger(label: "test"))
        let body = Array(#"{"object":"page","entry":[{"id":"104","time":1}]}"#.utf8)
        XCTAssertThrowsError(try ingest.meta(channel: .facebook, body: body, signature: "sha256=00")) {
            XCTAssertEqual(($0 as? AppError)?.status, 401)
        }
        let signed = "sha256=" + Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array("app-secret".utf8))))
        XCTAssertEqual(try ingest.meta(channel: .facebook, body: body, signature: signed).received, 0)
    }

    /// The single-tenant default account answers for ids no tenant registered, never for another tenant's
    /// deactivated account: that one's webhooks are refused, not filed under the default tenant.
    func testTheDefaultAccountNeverTakesARegisteredButDeactivatedAccount() throws {
        let secret = "app-secret"
        let other = UUID(), fallbackTenant = UUID()
        struct Registered: ChannelAccountDirectory {
            let accounts: [ChannelAccount]
            func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount] {
                accounts.filter { $0.channel == channel && externalIDs.contains($0.externalAccountID) }
            }
            func verifyTokens(channel: Channel) throws -> [String] { [] }
        }
        final class Kept: WebhookEventStore, @unchecked Sendable {
            var tenants: [UUID] = []
            func store(_ events: [IncomingWebhookEvent]) throws -> Int { tenants += events.map(\.tenantID); return events.count }
        }
        let credentials = ChannelCredentials(signingSecret: secret, accessToken: nil, verifyToken: nil)
        let disconnected = ChannelAccount(id: UUID(), tenantID: other, channel: .facebook, externalAccountID: "333",
                                          credentials: credentials, isActive: false)
        let fallback = ChannelAccount(id: nil, tenantID: fallbackTenant, channel: .facebook, externalAccountID: "*",
                                      credentials: credentials)
        let kept = Kept()
        let ingest = IngestWebhook(directory: Registered(accounts: [disconnected]), store: kept,
                                   defaultAccounts: [.facebook: fallback], logger: Logger(label: "test"))
        func delivery(page: String) -> (body: [UInt8], signature: String) {
            let body = Array(#"{"object":"page","entry":[{"id":"\#(page)","time":1718000000000,"messaging":[{"sender":{"id":"9"},"recipient":{"id":"\#(page)"},"timestamp":1718000000000,"message":{"mid":"m_\#(page)","text":"hi"}}]}]}"#.utf8)
            return (body, "sha256=" + Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))))
        }
        let toDisconnected = delivery(page: "333")
        XCTAssertThrowsError(try ingest.meta(channel: .facebook, body: toDisconnected.body, signature: toDisconnected.signature)) {
            XCTAssertEqual(($0 as? AppError)?.status, 404)
        }
        XCTAssertEqual(kept.tenants, [])
        let toUnregistered = delivery(page: "444")
        XCTAssertEqual(try ingest.meta(channel: .facebook, body: toUnregistered.body, signature: toUnregistered.signature).stored, 1)
        XCTAssertEqual(kept.tenants, [fallbackTenant])
    }

    /// The signature is checked before the body is parsed: a large unsigned body is refused as unsigned (401) even
    /// when it would not parse, and a signed body that names two destinations is refused, not filed under the second.
    func testTheSignatureIsCheckedBeforeTheBodyIsParsedAndMustCoverWhatIsFiled() throws {
        let tenant = UUID()
        struct Known: ChannelAccountDirectory {
            let accounts: [ChannelAccount]
            func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount] {
                accounts.filter { externalIDs.contains($0.externalAccountID) }
            }
            func verifyTokens(channel: Channel) throws -> [String] { [] }
        }
        final class Kept: WebhookEventStore, @unchecked Sendable {
            var stored = 0
            func store(_ events: [IncomingWebhookEvent]) throws -> Int { stored += events.count; return events.count }
        }
        let accounts = ["UA": "secret-a", "UB": "secret-b"].map {
            ChannelAccount(id: UUID(), tenantID: tenant, channel: .line, externalAccountID: $0.key,
                           credentials: ChannelCredentials(signingSecret: $0.value, accessToken: nil, verifyToken: nil))
        }
        let kept = Kept()
        let ingest = IngestWebhook(directory: Known(accounts: accounts), store: kept, defaultAccounts: [:], logger: Logger(label: "test"))
        func sign(_ body: [UInt8], _ secret: String) -> String {
            Data(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8)))).base64EncodedString()
        }
        let filler = String(repeating: #"{"type":"unfollow"},"#, count: 5_000)
        // Well formed for a skim, not for the parser (an invalid escape deep inside): parsed, it would be a 400.
        let broken = Array(#"{"destination":"UA","events":[\#(filler){"type":"bad \x escape"}]}"#.utf8)
        XCTAssertGreaterThan(broken.count, IngestWebhook.unsignedParseLimit)
        XCTAssertThrowsError(try ingest.line(body: broken, signature: "AAAA")) { XCTAssertEqual(($0 as? AppError)?.status, 401) }
        XCTAssertThrowsError(try ingest.line(body: broken, signature: sign(broken, "secret-a"))) {
            XCTAssertEqual(($0 as? AppError)?.status, 400, "signed, then parsed: malformed")
        }
        let twice = Array(#"{"destination":"UA","events":[{"type":"follow","webhookEventId":"e1","timestamp":1795737925000,"source":{"type":"user","userId":"U9"}}],"destination":"UB"}"#.utf8)
        XCTAssertThrowsError(try ingest.line(body: twice, signature: sign(twice, "secret-a"))) {
            XCTAssertEqual(($0 as? AppError)?.status, 400)
        }
        XCTAssertEqual(kept.stored, 0)
    }

    /// Before the signature holds, what the body names is the sender's word: an id longer than any provider's is not
    /// looked up, and a delivery naming more accounts than Meta ever batches is refused outright.
    func testUnsignedAccountNamesAreBoundedBeforeAnyLookup() throws {
        final class Asked: ChannelAccountDirectory, @unchecked Sendable {
            var ids: [String] = []
            func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount] { ids += externalIDs; return [] }
            func verifyTokens(channel: Channel) throws -> [String] { [] }
        }
        let asked = Asked()
        let ingest = IngestWebhook(directory: asked, store: Store(), defaultAccounts: [:], logger: Logger(label: "test"))
        let long = String(repeating: "U", count: 100_000)
        XCTAssertThrowsError(try ingest.line(body: Array(#"{"destination":"\#(long)","events":[]}"#.utf8), signature: "AAAA")) {
            XCTAssertEqual(($0 as? AppError)?.status, 404)
        }
        XCTAssertEqual(asked.ids, [], "an id no provider issues was looked up")
        let entries = (0...IngestWebhook.maxAccountsPerDelivery).map { #"{"id":"\#($0)","time":1}"# }.joined(separator: ",")
        XCTAssertThrowsError(try ingest.meta(channel: .facebook, body: Array(#"{"object":"page","entry":[\#(entries)]}"#.utf8),
                                             signature: "sha256=00")) {
            XCTAssertEqual(($0 as? AppError)?.status, 400)
        }
        XCTAssertEqual(asked.ids, [])
    }

    /// A named account without a secret (a default account configured with a verify token only) refuses the
    /// delivery: another account's signature must not file events under it.
    func testAnAccountWithoutASecretRefusesTheDelivery() throws {
        let tenant = UUID()
        struct Known: ChannelAccountDirectory {
            let account: ChannelAccount
            func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount] {
                externalIDs.contains(account.externalAccountID) ? [account] : []
            }
            func verifyTokens(channel: Channel) throws -> [String] { [] }
        }
        let signed = ChannelAccount(id: UUID(), tenantID: tenant, channel: .facebook, externalAccountID: "222",
                                    credentials: ChannelCredentials(signingSecret: "b-secret", accessToken: nil, verifyToken: nil))
        let noSecret = ChannelAccount(id: nil, tenantID: UUID(), channel: .facebook, externalAccountID: "*",
                                      credentials: ChannelCredentials(signingSecret: nil, accessToken: nil, verifyToken: "x"))
        let ingest = IngestWebhook(directory: Known(account: signed), store: Store(), defaultAccounts: [.facebook: noSecret],
                                   logger: Logger(label: "test"))
        let body = Array(#"{"object":"page","entry":[{"id":"222","time":1},{"id":"333","time":1,"messaging":[{"sender":{"id":"9"},"recipient":{"id":"333"},"timestamp":1795737925000,"message":{"mid":"m_x","text":"injected"}}]}]}"#.utf8)
        let signature = "sha256=" + Hex.encode(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array("b-secret".utf8))))
        XCTAssertThrowsError(try ingest.meta(channel: .facebook, body: body, signature: signature)) {
            XCTAssertEqual(($0 as? AppError)?.status, 401)
        }
    }
}
