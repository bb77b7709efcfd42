import Core

extension RequestContext {
    /// The ingest use case: accounts looked up on this thread's connection (and remembered), events stored by the
    /// process's group commit, which also wakes the worker after a commit that stored something new.
    func ingestWebhook() throws -> IngestWebhook {
        IngestWebhook(
            directory: CachedChannelAccountDirectory(
                upstream: PostgresChannelAccountDirectory(connection: try database()), cache: channelAccountCache),
            store: webhookStore,
            defaultAccounts: config.defaultChannelAccounts, logger: logger)
    }

    /// Answers a stored delivery.
    func acknowledge(_ outcome: IngestWebhook.Outcome) -> Response {
        WebhookAcknowledgement(received: outcome.received, stored: outcome.stored).response
    }
}

/// What a provider gets back: 200 with counts (providers only read the status). Written directly: the webhook
/// path answers thousands of these a second, and three integers need no encoder.
struct WebhookAcknowledgement {
    let received: Int
    let stored: Int

    var response: Response {
        Response(status: 200, headers: [("Content-Type", "application/json")],
                 body: Array("{\"ok\":true,\"received\":\(received),\"stored\":\(stored)}".utf8))
    }
}
