/// What a provider says about a customer (display name and picture).
public struct ProviderProfile: Sendable, Equatable {
    public let displayName: String?
    public let pictureURL: String?

    public init(displayName: String?, pictureURL: String?) {
        self.displayName = Self.boundedName(displayName)
        self.pictureURL = pictureURL
    }

    /// The longest name kept, in characters: providers' own limits are far below it (LINE 20, Facebook about 50), so
    /// only a forged or broken payload reaches it, and the inbox's lists stay readable.
    public static let maxNameCharacters = 100

    /// A name as the inbox keeps it: at most `maxNameCharacters` characters, cut between characters (never inside
    /// an emoji or a Thai cluster).
    public static func boundedName(_ name: String?) -> String? {
        guard let name, name.count > maxNameCharacters else { return name }
        return String(name.prefix(maxNameCharacters))
    }
}

/// Best-effort lookups at the providers' APIs. Callers treat every failure as "unknown".
public protocol ProviderProfiles {
    /// LINE profile API, or Graph `name`/`profile_pic`.
    func profile(channel: Channel, externalUserID: String, accessToken: String) throws -> ProviderProfile
    /// Graph `/{comment-id}?fields=message`, for comment webhooks that carry no text.
    func commentText(commentID: String, accessToken: String) throws -> String?
}
