/// What a provider says about a customer (display name and picture).
public struct ProviderProfile: Sendable, Equatable {
    public let displayName: String?
    public let pictureURL: String?

    public init(displayName: String?, pictureURL: String?) {
        self.displayName = displayName
        self.pictureURL = pictureURL
    }
}

/// Best-effort lookups at the providers' APIs. Callers treat every failure as "unknown".
public protocol ProviderProfiles {
    /// LINE profile API, or Graph `name`/`profile_pic`.
    func profile(channel: Channel, externalUserID: String, accessToken: String) throws -> ProviderProfile
    /// Graph `/{comment-id}?fields=message`, for comment webhooks that carry no text.
    func commentText(commentID: String, accessToken: String) throws -> String?
}
