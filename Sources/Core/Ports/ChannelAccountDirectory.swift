import FoundationEssentials

/// A provider account (LINE channel, Facebook page, Instagram account) and the tenant it
/// belongs to, with the secrets needed to trust its webhooks and call its API.
public struct ChannelAccount: Sendable, Equatable {
    public let id: UUID?  // nil for the single-tenant default account configured by env vars
    public let tenantID: UUID
    public let channel: Channel
    public let externalAccountID: String
    public let credentials: ChannelCredentials
    /// A deactivated account is still registered to its tenant: its webhooks are refused, never routed elsewhere.
    public let isActive: Bool

    public init(id: UUID?, tenantID: UUID, channel: Channel, externalAccountID: String, credentials: ChannelCredentials,
                isActive: Bool = true) {
        self.id = id
        self.tenantID = tenantID
        self.channel = channel
        self.externalAccountID = externalAccountID
        self.credentials = credentials
        self.isActive = isActive
    }
}

/// Secrets of a channel account. Never logged, never returned by the API.
public struct ChannelCredentials: Sendable, Equatable, Codable {
    /// LINE channel secret or Meta app secret: verifies webhook signatures.
    public var signingSecret: String?
    /// LINE channel access token or Meta page access token.
    public var accessToken: String?
    /// Meta webhook verify token.
    public var verifyToken: String?

    public init(signingSecret: String?, accessToken: String?, verifyToken: String?) {
        self.signingSecret = signingSecret
        self.accessToken = accessToken
        self.verifyToken = verifyToken
    }
}

/// Finds channel accounts by what a webhook names.
public protocol ChannelAccountDirectory {
    /// Registered accounts of `channel` whose external ids are among `externalIDs`, active or not.
    func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount]
    /// Verify tokens configured for `channel` (for Meta's GET handshake, which names no account).
    func verifyTokens(channel: Channel) throws -> [String]
}
