import Core
import Logging

/// One image lane: its own connection, HTTP client and libvips; claims `inbound.line_image` jobs one at a time (an
/// image is a download plus seconds of CPU at worst), attaches each image to its message, and waits to be woken
/// (by an inbound lane handing one over) or the poll interval.
struct LineImageLane: Sendable {
    let config: HubChatConfig
    let lane: Lane
    let metrics: WorkerMetrics
    let realtime: any RealtimePublisher & Sendable

    func run() {
        guard let store = makeLineImageStore(config, lane: lane) else { return }
        lane.run { db in
            let queue = PostgresJobQueue(connection: db)
            let attach = AttachInboundLineImage(inbox: PostgresInbox(connection: db), lineImages: store,
                                                defaultAccount: config.defaultChannelAccounts[.line], realtime: realtime,
                                                logger: lane.logger)
            return try runOneJob(topic: AttachInboundLineImage.topic, queue: queue, lane: lane,
                                 leaseSeconds: config.worker.outboxProcessingTimeoutSeconds, metrics: metrics, kind: "image") { job in
                try attach(jobPayload: job.payload, finalAttempt: job.attempts >= job.maxAttempts)
            }
        }
    }
}
