import Core
import Logging

/// What a route may use besides the request: configuration, a logger that carries the
/// request id, and this process's database connection (opened on first use, kept between
/// requests, reconnected after a database restart).
public final class RequestContext {
    public let config: HubChatConfig
    public var logger: Logger
    /// Channel accounts this process resolved recently (webhook pool).
    let channelAccountCache: ChannelAccountCache
    /// Verifies bearer tokens (REST pool).
    let tokenVerifier: any AccessTokenVerifier
    /// Tells open dashboards what changed, after the commit.
    let realtime: any RealtimePublisher
    /// Webhook events go through the process's group commit (webhook pool).
    let webhookStore: GroupCommitWebhookEventStore
    private let databaseProvider: DatabaseProvider

    init(config: HubChatConfig, logger: Logger, databaseProvider: DatabaseProvider, channelAccountCache: ChannelAccountCache,
         tokenVerifier: any AccessTokenVerifier, realtime: any RealtimePublisher = NoRealtimePublisher(),
         webhookStore: GroupCommitWebhookEventStore) {
        self.config = config
        self.logger = logger
        self.databaseProvider = databaseProvider
        self.channelAccountCache = channelAccountCache
        self.tokenVerifier = tokenVerifier
        self.realtime = realtime
        self.webhookStore = webhookStore
    }

    /// The process's connection.
    public func database() throws -> PostgresConnection { try databaseProvider.connection() }
}

/// Holds one connection per responder process. A failed connect is retried on a later
/// request rather than at start-up, so responders come up even while the database is down
/// (and answer 503 until it is back); after a slow failure not before a pause, as the connection does when it
/// reconnects.
final class DatabaseProvider {
    private let settings: PostgresConnection.Settings
    private var current: PostgresConnection?
    private var pause = ConnectFailurePause()

    init(settings: PostgresConnection.Settings) { self.settings = settings }

    func connection() throws -> PostgresConnection {
        if let current { return current }
        let made = try pause.attempt { try PostgresConnection(settings: settings) }
        current = made
        return made
    }
}
