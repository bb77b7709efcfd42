import Core

extension RequestContext {
    /// The ingest use case over this responder's connection.
    func ingestWebhook() throws -> IngestWebhook {
        let db = try database()
        return IngestWebhook(
            directory: CachedChannelAccountDirectory(
                upstream: PostgresChannelAccountDirectory(connection: db), cache: channelAccountCache),
            store: PostgresWebhookEventStore(connection: db),
            defaultAccounts: config.defaultChannelAccounts, logger: logger)
    }

    /// Answers a stored delivery, waking the worker first when something new was committed.
    func acknowledge(_ outcome: IngestWebhook.Outcome) throws -> Response {
        if outcome.stored > 0, let db = try? database() { PostgresWorkerWakeUp(connection: db).wake() }
        return WebhookAcknowledgement(received: outcome.received, stored: outcome.stored).response
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
