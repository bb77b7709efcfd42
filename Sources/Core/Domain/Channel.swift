/// The messaging providers HubChat connects to; the raw values are the ones the schema stores
/// (`channel IN ('LINE', 'FACEBOOK', 'INSTAGRAM')`).
public enum Channel: String, Sendable, CaseIterable, Codable {
    case line = "LINE"
    case facebook = "FACEBOOK"
    case instagram = "INSTAGRAM"
}
