import FoundationEssentials
import Logging

/// A provider's webhook delivery, from raw bytes to stored events: resolve the channel account
/// the payload names (skimmed, not parsed), verify the signature with that account's secret over the raw body,
/// parse it, and store every event of the batch (each once) with its outbox event in one transaction.
/// Nothing is parsed in full, and nothing stored, unless the signature holds.
public struct IngestWebhook {
    public struct Outcome: Sendable, Equatable {
        /// Events in the delivery.
        public let received: Int
        /// Events that were new (the rest were redeliveries or duplicates).
        public let stored: Int
    }

    let directory: any ChannelAccountDirectory
    let store: any WebhookEventStore
    /// Single-tenant installs configure one account per channel through env vars; it answers
    /// for any account id the database does not know.
    let defaultAccounts: [Channel: ChannelAccount]
    let logger: Logger

    public init(directory: any ChannelAccountDirectory, store: any WebhookEventStore,
                defaultAccounts: [Channel: ChannelAccount], logger: Logger) {
        self.directory = directory
        self.store = store
        self.defaultAccounts = defaultAccounts
        self.logger = logger
    }

    /// Above this size, a body whose account cannot be skimmed is refused without parsing it: until its signature
    /// holds, nobody may make a responder parse megabytes.
    static let unsignedParseLimit = 65_536
    /// Provider account ids are short (a LINE bot's user id 33 characters, a Page or Instagram id about 17): a longer
    /// one names no account, and is neither looked up nor logged whole.
    static let maxAccountIDLength = 64
    /// Meta batches at most 1,000 updates in a delivery, so no real one names more accounts than that.
    static let maxAccountsPerDelivery = 1_000

    /// `POST /api/webhook/line`. The destination is skimmed, the signature checked with its account's secret, and
    /// only then is the body parsed (and must name the same destination).
    public func line(body: [UInt8], signature: String?) throws -> Outcome {
        guard signature?.isEmpty == false else { throw Self.badSignature }
        let named: String
        if let skimmed = LineWebhook.skimDestination(body) {
            named = skimmed
        } else if body.count <= Self.unsignedParseLimit {
            named = try LineWebhook.parse(body: body).destination  // a small body: parsing says what is wrong
        } else {
            throw LineWebhook.invalid("destination is missing or not a string.")
        }
        guard named.utf8.count <= Self.maxAccountIDLength, let account = try resolve(.line, [named])[named] else {
            throw unknownAccount(.line, [named])
        }
        guard let secret = account.credentials.signingSecret,
              LineWebhook.verifySignature(body: body, signature: signature, channelSecret: secret)
        else { throw Self.badSignature }
        let parsed = try LineWebhook.parse(body: body)
        // A body naming two destinations (a repeated key) must not be checked as one account's and filed as another's.
        guard parsed.destination == named else { throw LineWebhook.invalid("destination is given more than once.") }
        return try persist(parsed.events, accounts: [named: account], channel: .line)
    }

    /// `POST /api/webhook/facebook` and `/instagram`. Entries may name several pages of one
    /// app; the body must verify with the secret of every account it names.
    public func meta(channel path: Channel, body: [UInt8], signature: String?) throws -> Outcome {
        guard signature?.isEmpty == false else { throw Self.badSignature }
        let named: (object: String, accounts: [String])
        if let skimmed = MetaWebhook.skimAccounts(body, upTo: Self.maxAccountsPerDelivery) {
            named = skimmed
        } else if body.count <= Self.unsignedParseLimit {
            let parsed = try MetaWebhook.parse(body: body)  // a small body: parsing says what is wrong
            named = (parsed.object, parsed.accounts)
        } else {
            throw MetaWebhook.invalid("object or entry[].id is missing.")
        }
        // The body's `object` says whose events these are: one Meta app often sends its Page and its Instagram
        // subscriptions to the same callback URL. Other objects stay with the path's channel.
        let channel = Self.channel(ofObject: named.object) ?? path
        // Every entry's account, even one without an event HubChat records: the signature is checked first.
        guard named.accounts.count <= Self.maxAccountsPerDelivery else {
            throw MetaWebhook.invalid("the delivery names more than \(Self.maxAccountsPerDelivery) accounts.")
        }
        let ids = named.accounts
        let byID = try resolve(channel, ids.filter { $0.utf8.count <= Self.maxAccountIDLength })
        let accounts = ids.isEmpty ? defaultAccounts[channel].map { [$0] } ?? [] : Array(byID.values)
        guard !accounts.isEmpty else { throw unknownAccount(channel, ids) }
        // Every account named must have a secret and verify: one without a secret (a default account configured
        // with a verify token only) would otherwise let another account's signature file events under it.
        let secrets = accounts.map(\.credentials.signingSecret)
        guard secrets.allSatisfy({ $0 != nil }),
              Set(secrets.compactMap { $0 }).allSatisfy({ MetaWebhook.verifySignature(body: body, header: signature, appSecret: $0) })
        else { throw Self.badSignature }
        let parsed = try MetaWebhook.parse(body: body)
        guard parsed.object == named.object, parsed.accounts == ids else {
            throw MetaWebhook.invalid("object or an entry id is given more than once.")
        }
        if parsed.events.isEmpty { return Outcome(received: 0, stored: 0) }
        let unknown = ids.filter { byID[$0] == nil }
        if !unknown.isEmpty {
            logger.warning("webhook entries for unknown accounts skipped",
                           metadata: ["channel": "\(channel.rawValue)",
                                      "accounts": "\(unknown.prefix(5).map { String($0.prefix(Self.maxAccountIDLength)) })",
                                      "accountCount": "\(unknown.count)"])
        }
        return try persist(parsed.events, accounts: byID, channel: channel)
    }

    /// Meta's GET handshake: the challenge to echo when the verify token is one of ours.
    public func handshake(channel: Channel, query: [String: String]) throws -> String {
        var tokens = try directory.verifyTokens(channel: channel)
        // Instagram subscriptions live in the same Meta app as the Page's, and may share its callback URL (the
        // body's object tells them apart): either channel's token verifies either path.
        let other: Channel = channel == .instagram ? .facebook : .instagram
        tokens += try directory.verifyTokens(channel: other)
        if let token = defaultAccounts[other]?.credentials.verifyToken { tokens.append(token) }
        if let token = defaultAccounts[channel]?.credentials.verifyToken { tokens.append(token) }
        for token in tokens {
            if let challenge = MetaWebhook.verifyHandshake(query: query, expectedToken: token) { return challenge }
        }
        throw AppError(status: 403, code: "verification_failed", message: "The verify token does not match.")
    }

    static func channel(ofObject object: String) -> Channel? {
        switch object {
        case "page": return .facebook
        case "instagram": return .instagram
        default: return nil
        }
    }

    /// The account each id routes to: its registered account while that is active; for an id no tenant has
    /// registered, the single-tenant default account (env vars), if any. A deactivated account routes nowhere, so
    /// a tenant that disconnected a page never has its customers' messages filed under the default tenant.
    private func resolve(_ channel: Channel, _ ids: [String]) throws -> [String: ChannelAccount] {
        let registered = try directory.accounts(channel: channel, externalIDs: ids)
        var byID: [String: ChannelAccount] = [:]
        for id in ids {
            if let account = registered.first(where: { $0.externalAccountID == id }) {
                if account.isActive { byID[id] = account }
            } else if let fallback = defaultAccounts[channel] {
                byID[id] = fallback
            }
        }
        return byID
    }

    private func persist(_ records: [WebhookEventRecord], accounts: [String: ChannelAccount], channel: Channel) throws -> Outcome {
        let events = records.compactMap { record -> IncomingWebhookEvent? in
            guard let account = accounts[record.accountExternalID] else { return nil }
            return IncomingWebhookEvent(tenantID: account.tenantID, channelAccountID: account.id, channel: channel, record: record)
        }
        let stored = events.isEmpty ? 0 : try store.store(events)
        return Outcome(received: records.count, stored: stored)
    }

    private func unknownAccount(_ channel: Channel, _ ids: [String]) -> AppError {
        // Unsigned, so whatever the sender wrote: a few ids, cut short, and how many there were.
        let shown = ids.prefix(5).map { String($0.prefix(Self.maxAccountIDLength)) }
        logger.warning("webhook for an unknown channel account",
                       metadata: ["channel": "\(channel.rawValue)", "accounts": "\(shown)", "accountCount": "\(ids.count)"])
        return AppError(status: 404, code: "unknown_channel_account",
                        message: "No active \(channel.rawValue) channel account matches this webhook.")
    }

    static let badSignature = AppError(status: 401, code: "invalid_signature",
                                       message: "The webhook signature is missing or does not match.")
}
