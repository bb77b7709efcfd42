import Core
import VipsImages

extension RequestContext {
    /// Our own media: what uploads answer, served by nginx.
    var mediaStorage: LocalMediaStorage { LocalMediaStorage(config.media) }

    func sendMessage(_ db: PostgresConnection) -> SendMessage {
        SendMessage(
            store: PostgresOutboundStore(connection: db),
            mediaGuard: MediaURLGuard(resolver: SystemHostResolver(), trustedPrefix: mediaStorage.publicMediaPrefix),
            media: mediaStorage, idempotencyTTLSeconds: config.limits.idempotencyCompletedTTLSeconds)
    }

    func uploadMedia() throws -> UploadMedia {
        let m = config.media
        return UploadMedia(
            images: try VipsImageProcessor(), storage: mediaStorage,
            settings: .init(imageBucket: m.imageBucket, imageURLMode: m.imageURLMode, imageURLTTLSeconds: m.imageSignedURLTTLSeconds,
                            fileBucket: m.fileBucket, fileURLMode: m.fileURLMode, fileURLTTLSeconds: m.fileSignedURLTTLSeconds,
                            maxBytes: m.uploadMaxBytes),
            logger: logger)
    }

    /// After a commit that queued work: wake the worker without holding up that commit (see the inbound NOTIFY).
    func wakeWorker() {
        if let db = try? database() { PostgresWorkerWakeUp(connection: db).wake() }
    }
}
