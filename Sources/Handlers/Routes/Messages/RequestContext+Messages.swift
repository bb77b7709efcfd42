import Core

extension RequestContext {
    /// Our own media: what uploads answer, served by nginx.
    var mediaStorage: LocalMediaStorage {
        LocalMediaStorage(root: config.media.directory, publicBaseURL: config.media.publicBaseURL,
                          signingSecret: config.media.signingSecret)
    }

    func sendMessage(_ db: PostgresConnection) -> SendMessage {
        SendMessage(
            store: PostgresOutboundStore(connection: db),
            mediaGuard: MediaURLGuard(resolver: SystemHostResolver(), trustedPrefix: mediaStorage.publicMediaPrefix),
            media: mediaStorage, idempotencyTTLSeconds: config.limits.idempotencyCompletedTTLSeconds)
    }

    /// After a commit that queued work: wake the worker without holding up that commit (see the inbound NOTIFY).
    func wakeWorker() {
        if let db = try? database() { PostgresWorkerWakeUp(connection: db).wake() }
    }
}
