import Core
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `hubchat-worker`: the long-running process that drains the outbox and the queues.
/// It sleeps on LISTEN/NOTIFY with the poll interval as a backstop (no cron), and stops
/// cleanly on SIGTERM.
@main
struct HubChatWorker {
    /// Channels the handlers notify after they commit work for the worker.
    static let wakeUpChannels = ["hubchat_outbox"]

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
        let logger = Logger(label: "hubchat.worker")
        ProcessSignals.installStopHandlers()

        let settings = PostgresConnection.Settings(
            url: config.database.url, applicationName: "hubchat-worker",
            statementTimeoutMilliseconds: config.database.statementTimeoutMilliseconds,
            idleInTransactionTimeoutMilliseconds: config.database.idleInTransactionTimeoutMilliseconds,
            systemScope: true)
        var listener: PostgresConnection?
        logger.info("worker started", metadata: ["pollIntervalMs": "\(config.worker.pollIntervalMilliseconds)"])
        var wasDown = false
        while ProcessSignals.stopRequested == 0 {
            do {
                if listener == nil {
                    let connection = try PostgresConnection(settings: settings)
                    for channel in wakeUpChannels { try connection.listen(channel) }
                    listener = connection
                }
                let notifications = try listener!.waitForNotifications(
                    timeoutMilliseconds: config.worker.pollIntervalMilliseconds)
                if wasDown {
                    logger.info("database reachable again")
                    wasDown = false
                }
                if !notifications.isEmpty {
                    logger.debug("woken", metadata: ["notifications": "\(notifications.count)"])
                }
            } catch {
                if !wasDown { logger.error("database unavailable; retrying", metadata: ["error": "\(error)"]) }
                wasDown = true
                listener = nil
                usleep(UInt32(min(config.worker.pollIntervalMilliseconds * 5, 2_000) * 1000))
            }
        }
        logger.info("worker stopped")
    }
}
