import FoundationEssentials

/// Every setting of HubChat, read once at start-up from the environment.
/// Names and defaults follow the original product where they still mean something;
/// `.env.example` documents each one.
public struct HubChatConfig: Sendable {
    public struct Database: Sendable {
        public var url: String
        public var statementTimeoutMilliseconds: Int
        /// The webhook pool's: a provider waits only so long (LINE 2 s) before it counts a delivery as failed, and a
        /// responder held past that serves nobody.
        public var webhookStatementTimeoutMilliseconds: Int
        public var idleInTransactionTimeoutMilliseconds: Int
    }

    public struct Responders: Sendable {
        /// Requests a responder process serves before it is replaced (bounds any slow leak).
        public var maxRequestsPerProcess: Int
        public var webhookProcesses: Int
        /// Threads per webhook responder process, each serving one request at a time; the threads of a process share
        /// its group commit (`GroupCommitWebhookEventStore`), so requests that arrive together commit together.
        public var webhookThreads: Int
        /// Database sessions a webhook process commits on (each carries one group commit at a time).
        public var webhookCommitLanes: Int
        public var apiProcesses: Int
        /// Largest body a responder reads; nginx enforces its own, tighter, limits per location.
        public var maxBodyBytes: Int
        /// How long a responder remembers a channel account it resolved (0 = ask every time).
        public var channelAccountCacheSeconds: Int
    }

    public struct Worker: Sendable {
        public var pollIntervalMilliseconds: Int
        public var inboundBatchSize: Int
        public var inboundConcurrency: Int
        public var outboundBatchSize: Int
        public var outboundConcurrency: Int
        public var outboxBatchSize: Int
        public var outboxConcurrency: Int
        public var outboxProcessingTimeoutSeconds: Int
        public var observabilityPollMilliseconds: Int
        public var healthPort: Int?
        /// Where `/ready` and `/metrics` listen (loopback unless a scraper elsewhere needs them).
        public var healthHost: String
        /// Reply with a customer's fresh LINE reply token (free) before falling back to push.
        public var lineUseReplyTokens: Bool
        /// Finished pipeline history (DONE jobs, relayed outbox events, processed webhook events) older than this
        /// many days is deleted by the worker; 0 keeps everything.
        public var retentionDays: Int = 30
    }

    public struct Limits: Sendable {
        public var outboundRequestsPerWindow: Int
        public var outboundWindowSeconds: Int
        public var idempotencyProcessingTTLSeconds: Int
        public var idempotencyCompletedTTLSeconds: Int
    }

    /// Provider settings from env vars: the default channel accounts of single-tenant installs.
    public struct Providers: Sendable {
        public var lineChannelSecret: String?
        public var lineChannelAccessToken: String?
        public var facebookAppSecret: String?
        public var facebookVerifyToken: String?
        public var facebookPageAccessToken: String?
        public var instagramAppSecret: String?
        public var instagramVerifyToken: String?
        public var instagramAccessToken: String?
        public var instagramAccountID: String?
        public var metaGraphVersion: String
        /// Provider base URLs: configuration, so tests and load tests use the simulator.
        public var lineAPIBaseURL: String
        public var lineDataAPIBaseURL: String
        public var metaGraphBaseURL: String
        /// How long a send (LINE reply or push, Meta Send API) may take before it counts as unanswered. A LINE push
        /// is then retried under its retry key; a reply or a Meta send fails as unconfirmed (it may have arrived),
        /// so this is generous: a false "unconfirmed" costs an agent a look at the conversation.
        public var sendTimeoutSeconds: Int
    }

    /// Where media is stored and how its URLs look.
    public struct Media: Sendable {
        public var directory: String
        public var publicBaseURL: String
        public var signingSecret: String
        public var inboundBucket: String
        public var inboundURLMode: MediaURLMode
        public var inboundSignedURLTTLSeconds: Int
        public var inboundMaxBytes: Int
        /// Agents' uploads and generated previews: images, then files (PDF).
        public var imageBucket: String
        public var imageURLMode: MediaURLMode
        public var imageSignedURLTTLSeconds: Int
        public var fileBucket: String
        public var fileURLMode: MediaURLMode
        public var fileSignedURLTTLSeconds: Int
        public var uploadMaxBytes: Int

        /// How long a signed link lasts, by bucket (only the buckets whose links are signed).
        public var signedLinkTTLs: [String: Int] {
            var ttls: [String: Int] = [:]
            for (bucket, mode, ttl) in [(inboundBucket, inboundURLMode, inboundSignedURLTTLSeconds),
                                        (imageBucket, imageURLMode, imageSignedURLTTLSeconds),
                                        (fileBucket, fileURLMode, fileSignedURLTTLSeconds)] where mode == .signed {
                ttls[bucket] = max(ttls[bucket] ?? 0, ttl)
            }
            return ttls
        }
    }

    /// How bearer tokens are verified (REST API).
    public struct Auth: Sendable {
        public var jwtSecret: String?
        public var audiences: [String]
        public var issuer: String?
        public var jwksURL: String?
        public var jwksFile: String?
        public var leewaySeconds: Int
    }

    public var database: Database
    public var auth: Auth
    public var providers: Providers
    public var media: Media
    public var responders: Responders
    public var worker: Worker
    public var limits: Limits
    public var defaultTenantID: String?
    /// nchan's publisher endpoint (loopback only); nil = realtime off.
    public var realtimePublishURL: String?
    public var httpPort: Int
    public var logLevel: String
    public var version: String

    public init(environment env: Environment) throws {
        database = Database(
            url: try env.required("DATABASE_URL"),
            statementTimeoutMilliseconds: try env.int("HUBCHAT_DB_STATEMENT_TIMEOUT_MS", default: 5_000, range: 100...600_000),
            webhookStatementTimeoutMilliseconds: try env.int(
                "HUBCHAT_WEBHOOK_STATEMENT_TIMEOUT_MS", default: 1_500, range: 100...600_000),
            idleInTransactionTimeoutMilliseconds: try env.int(
                "HUBCHAT_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", default: 10_000, range: 100...600_000))
        responders = Responders(
            maxRequestsPerProcess: try env.int("HUBCHAT_FCGI_MAX_REQUESTS", default: 50_000, range: 1...100_000_000),
            webhookProcesses: try env.int("HUBCHAT_FCGI_WEBHOOK_PROCESSES", default: 1, range: 1...512),
            webhookThreads: try env.int("HUBCHAT_FCGI_WEBHOOK_THREADS", default: 8, range: 1...64),
            webhookCommitLanes: try env.int("HUBCHAT_FCGI_WEBHOOK_COMMIT_LANES", default: 1, range: 1...16),
            apiProcesses: try env.int("HUBCHAT_FCGI_API_PROCESSES", default: 8, range: 1...512),
            maxBodyBytes: try env.int("HUBCHAT_FCGI_MAX_BODY_BYTES", default: 12 * 1024 * 1024, range: 1024...100 * 1024 * 1024),
            channelAccountCacheSeconds: try env.int("HUBCHAT_CHANNEL_ACCOUNT_CACHE_SECONDS", default: 10, range: 0...3600))
        worker = Worker(
            pollIntervalMilliseconds: try env.int("WORKER_POLL_INTERVAL_MS", default: 200, range: 10...60_000),
            inboundBatchSize: try env.int("WORKER_INBOUND_BATCH_SIZE", default: 20, range: 1...200),
            inboundConcurrency: try env.int("WORKER_INBOUND_CONCURRENCY", default: 8, range: 1...200),
            outboundBatchSize: try env.int("WORKER_OUTBOUND_BATCH_SIZE", default: 15, range: 1...200),
            outboundConcurrency: try env.int("WORKER_OUTBOUND_CONCURRENCY", default: 5, range: 1...200),
            outboxBatchSize: try env.int("WORKER_OUTBOX_BATCH_SIZE", default: 50, range: 1...200),
            outboxConcurrency: try env.int("WORKER_OUTBOX_CONCURRENCY", default: 10, range: 1...200),
            outboxProcessingTimeoutSeconds: try env.int(
                "WORKER_OUTBOX_PROCESSING_TIMEOUT_SECONDS", default: 120, range: 5...86_400),
            observabilityPollMilliseconds: try env.int("WORKER_OBSERVABILITY_POLL_MS", default: 5_000, range: 100...600_000),
            healthPort: env.string("WORKER_HEALTH_PORT") == nil
                ? nil : try env.int("WORKER_HEALTH_PORT", default: 8081, range: 1...65_535),
            healthHost: env.string("WORKER_HEALTH_HOST", default: "127.0.0.1"),
            lineUseReplyTokens: try env.bool("LINE_USE_REPLY_TOKENS", default: true),
            retentionDays: try env.int("WORKER_RETENTION_DAYS", default: 30, range: 0...3_650))
        limits = Limits(
            outboundRequestsPerWindow: try env.int("OUTBOUND_RATE_LIMIT_REQUESTS_PER_WINDOW", default: 120, range: 1...1_000_000),
            outboundWindowSeconds: try env.int("OUTBOUND_RATE_LIMIT_WINDOW_SECONDS", default: 60, range: 1...86_400),
            idempotencyProcessingTTLSeconds: try env.int("IDEMPOTENCY_PROCESSING_TTL_SECONDS", default: 300, range: 60...86_400),
            idempotencyCompletedTTLSeconds: try env.int(
                "IDEMPOTENCY_COMPLETED_TTL_SECONDS", default: 86_400, range: 60...30 * 86_400))
        let audience = env.string("HUBCHAT_JWT_AUDIENCE", default: "authenticated")
        auth = Auth(
            jwtSecret: env.firstString("HUBCHAT_JWT_SECRET", "SUPABASE_JWT_SECRET"),
            // "*" turns the audience check off (an identity provider that issues no aud).
            audiences: audience == "*" ? [] : audience.split(separator: ",").map {
                String($0).trimmingCharacters(in: .whitespaces) },
            issuer: env.string("HUBCHAT_JWT_ISSUER"),
            jwksURL: env.string("HUBCHAT_JWKS_URL"),
            jwksFile: env.string("HUBCHAT_JWKS_FILE"),
            leewaySeconds: try env.int("HUBCHAT_JWT_LEEWAY_SECONDS", default: 30, range: 0...600))
        if let url = auth.jwksURL, !url.hasPrefix("https://"), !url.hasPrefix("http://127.0.0.1"), !url.hasPrefix("http://localhost") {
            throw Environment.Invalid(variable: "HUBCHAT_JWKS_URL", problem: "must be an https:// URL")
        }
        providers = Providers(
            lineChannelSecret: env.string("LINE_CHANNEL_SECRET"),
            lineChannelAccessToken: env.string("LINE_CHANNEL_ACCESS_TOKEN"),
            facebookAppSecret: env.firstString("FACEBOOK_APP_SECRET", "META_APP_SECRET"),
            facebookVerifyToken: env.string("FACEBOOK_VERIFY_TOKEN"),
            facebookPageAccessToken: env.string("FACEBOOK_PAGE_ACCESS_TOKEN"),
            instagramAppSecret: env.firstString("INSTAGRAM_APP_SECRET", "FACEBOOK_APP_SECRET", "META_APP_SECRET"),
            instagramVerifyToken: env.firstString("INSTAGRAM_VERIFY_TOKEN", "FACEBOOK_VERIFY_TOKEN"),
            instagramAccessToken: env.firstString("INSTAGRAM_ACCESS_TOKEN", "FACEBOOK_PAGE_ACCESS_TOKEN"),
            instagramAccountID: env.firstString("INSTAGRAM_BUSINESS_ACCOUNT_ID", "INSTAGRAM_ACCOUNT_ID"),
            metaGraphVersion: env.string("META_GRAPH_VERSION", default: "v25.0"),
            lineAPIBaseURL: env.string("LINE_API_BASE_URL", default: "https://api.line.me"),
            lineDataAPIBaseURL: env.string("LINE_DATA_API_BASE_URL", default: "https://api-data.line.me"),
            metaGraphBaseURL: env.string("META_GRAPH_BASE_URL", default: "https://graph.facebook.com"),
            sendTimeoutSeconds: try env.int("OUTBOUND_SEND_TIMEOUT_SECONDS", default: 20, range: 1...120))
        media = Media(
            directory: env.string("HUBCHAT_MEDIA_DIR", default: "/var/lib/hubchat/media"),
            publicBaseURL: env.string("HUBCHAT_PUBLIC_BASE_URL", default: "http://127.0.0.1:8080"),
            signingSecret: env.string("HUBCHAT_MEDIA_SIGNING_SECRET", default: ""),
            inboundBucket: env.string("INBOUND_MEDIA_BUCKET", default: "inbound-media"),
            inboundURLMode: MediaURLMode(rawValue: try env.oneOf("INBOUND_MEDIA_URL_MODE", ["public", "signed"], default: "public"))!,
            inboundSignedURLTTLSeconds: try env.int("INBOUND_MEDIA_SIGNED_URL_TTL_SEC", default: 604_800, range: 60...31_536_000),
            inboundMaxBytes: try env.int("INBOUND_MEDIA_MAX_SIZE_MB", default: 10, range: 1...100) * 1024 * 1024,
            imageBucket: env.string("MESSAGE_IMAGE_BUCKET", default: "message-images"),
            imageURLMode: MediaURLMode(rawValue: try env.oneOf("MESSAGE_IMAGE_URL_MODE", ["public", "signed"], default: "signed"))!,
            // At least an hour: a provider may fetch the media a while after the send.
            imageSignedURLTTLSeconds: try env.int("MESSAGE_IMAGE_SIGNED_URL_TTL_SEC", default: 2_592_000, range: 3_600...31_536_000),
            fileBucket: "", fileURLMode: .signed, fileSignedURLTTLSeconds: 0,
            uploadMaxBytes: try env.int("MESSAGE_UPLOAD_MAX_SIZE_MB", default: 10, range: 1...50) * 1024 * 1024)
        media.fileBucket = env.string("MESSAGE_FILE_BUCKET", default: media.imageBucket)
        media.fileURLMode = MediaURLMode(rawValue: try env.oneOf(
            "MESSAGE_FILE_URL_MODE", ["public", "signed"], default: media.imageURLMode.rawValue))!
        media.fileSignedURLTTLSeconds = try env.int(
            "MESSAGE_FILE_SIGNED_URL_TTL_SEC", default: media.imageSignedURLTTLSeconds, range: 3_600...31_536_000)
        // A responder reads an upload whole: its body limit must take the largest one.
        responders.maxBodyBytes = max(responders.maxBodyBytes, media.uploadMaxBytes + 1024 * 1024)
        if (media.imageURLMode == .signed || media.fileURLMode == .signed) && media.signingSecret.isEmpty {
            throw Environment.Invalid(variable: "HUBCHAT_MEDIA_SIGNING_SECRET", problem: "is required for signed media URLs")
        }
        if media.inboundURLMode == .signed && media.signingSecret.isEmpty {
            throw Environment.Invalid(variable: "HUBCHAT_MEDIA_SIGNING_SECRET", problem: "is required for signed media URLs")
        }
        realtimePublishURL = env.string("HUBCHAT_REALTIME_PUBLISH_URL")
        defaultTenantID = env.string("DEFAULT_TENANT_ID")
        if let tenant = defaultTenantID, UUID(uuidString: tenant) == nil {
            throw Environment.Invalid(variable: "DEFAULT_TENANT_ID", problem: "must be a UUID")
        }
        httpPort = try env.int("HUBCHAT_HTTP_PORT", default: 8080, range: 1...65_535)
        logLevel = try env.oneOf("HUBCHAT_LOG_LEVEL", ["trace", "debug", "info", "notice", "warning", "error", "critical"],
                                 default: "info")
        version = HubChatVersion.current
    }
}

extension HubChatConfig {
    /// The channel accounts that env vars define for `DEFAULT_TENANT_ID` (single-tenant
    /// installs): used for webhooks whose account the database does not know.
    public var defaultChannelAccounts: [Channel: ChannelAccount] {
        guard let tenant = defaultTenantID.flatMap(UUID.init(uuidString:)) else { return [:] }
        var accounts: [Channel: ChannelAccount] = [:]
        let p = providers
        if let secret = p.lineChannelSecret {
            accounts[.line] = ChannelAccount(id: nil, tenantID: tenant, channel: .line, externalAccountID: "*",
                credentials: .init(signingSecret: secret, accessToken: p.lineChannelAccessToken, verifyToken: nil))
        }
        if p.facebookAppSecret != nil || p.facebookVerifyToken != nil {
            accounts[.facebook] = ChannelAccount(id: nil, tenantID: tenant, channel: .facebook, externalAccountID: "*",
                credentials: .init(signingSecret: p.facebookAppSecret, accessToken: p.facebookPageAccessToken,
                                   verifyToken: p.facebookVerifyToken))
        }
        if p.instagramAppSecret != nil || p.instagramVerifyToken != nil {
            accounts[.instagram] = ChannelAccount(id: nil, tenantID: tenant, channel: .instagram,
                externalAccountID: p.instagramAccountID ?? "*",
                credentials: .init(signingSecret: p.instagramAppSecret, accessToken: p.instagramAccessToken,
                                   verifyToken: p.instagramVerifyToken))
        }
        return accounts
    }
}

public enum HubChatVersion {
    public static let current = "0.1.0"
}
