import FoundationEssentials

/// Channel accounts from `channel_accounts`. Credentials are stored per provider
/// (`channelSecret`/`channelAccessToken` for LINE, `appSecret`/`pageAccessToken`/`verifyToken`
/// for Meta) and read here into one shape.
public struct PostgresChannelAccountDirectory: ChannelAccountDirectory {
    static let byExternalIDs = PreparedStatement("channel_accounts_registered_by_external_ids", """
        SELECT id, tenant_id, external_account_id,
               coalesce(credentials->>'channelSecret', credentials->>'appSecret') AS signing_secret,
               coalesce(credentials->>'channelAccessToken', credentials->>'pageAccessToken') AS access_token,
               credentials->>'verifyToken' AS verify_token, is_active
          FROM channel_accounts
         WHERE channel = $1 AND external_account_id = ANY($2::text[])
        """)
    static let verifyTokens = PreparedStatement("channel_accounts_verify_tokens", """
        SELECT DISTINCT credentials->>'verifyToken' AS verify_token
          FROM channel_accounts
         WHERE channel = $1 AND is_active AND credentials ? 'verifyToken'
         LIMIT 1000
        """)

    let connection: PostgresConnection

    public init(connection: PostgresConnection) { self.connection = connection }

    public func accounts(channel: Channel, externalIDs: [String]) throws -> [ChannelAccount] {
        try connection.query(Self.byExternalIDs, [channel.rawValue, externalIDs]).rows.map { row in
            ChannelAccount(
                id: try row.decode("id"), tenantID: try row.decode("tenant_id"), channel: channel,
                externalAccountID: try row.decode("external_account_id"),
                credentials: ChannelCredentials(
                    signingSecret: row["signing_secret"], accessToken: row["access_token"], verifyToken: row["verify_token"]),
                isActive: try row.decode("is_active"))
        }
    }

    public func verifyTokens(channel: Channel) throws -> [String] {
        try connection.query(Self.verifyTokens, [channel.rawValue]).rows.compactMap { $0["verify_token"] }
    }
}
