import Core
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `hubchat-worker`: the long-running process that drains the outbox and the queues.
/// It works while there is work, then sleeps on LISTEN/NOTIFY with the poll interval as a
/// backstop (no cron), and stops cleanly on SIGTERM after the job in hand.
/// Any number of workers may run at once: claims skip each other's locked rows.
@main
struct HubChatWorker {
    static func main() {
        let config: HubChatConfig
        do {
            config = try HubChatConfig(environment: .process)
        } catch {
            var bytes = Array("configuration: \(error)\n".utf8)
            bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
            exit(2)
        }
        JSONLogHandler.bootstrap(level: config.logLevel)
        ProcessSignals.installStopHandlers()
        WorkerLoop(config: config, logger: Logger(label: "hubchat.worker")).run()
    }
}
