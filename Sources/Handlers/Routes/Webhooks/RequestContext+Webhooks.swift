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
        return try .json(WebhookAcknowledgement(ok: true, received: outcome.received, stored: outcome.stored))
    }
}

/// What a provider gets back: 200 with counts (providers only read the status).
struct WebhookAcknowledgement: Encodable {
    let ok: Bool
    let received: Int
    let stored: Int
}
