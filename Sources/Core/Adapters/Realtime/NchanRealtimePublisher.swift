import FoundationEssentials
import Logging

/// Publishes to nginx's nchan over its loopback-only publisher endpoint: `POST {base}/pub/tenant-<id>` with the
/// event as JSON. Short timeout and no retry: realtime is a hint, the database is the truth.
public struct NchanRealtimePublisher: RealtimePublisher {
    let http: any HTTPClient
    let baseURL: String
    let logger: Logger

    public init(http: any HTTPClient, baseURL: String, logger: Logger) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.logger = logger
    }

    public func publish(_ event: RealtimeEvent) { publish(channel: event.channel, [event]) }

    /// Deletes the agent's member channel: nchan closes every stream subscribed to it (EventSource gets its end,
    /// a WebSocket a close frame). 404 means no stream of that agent was open.
    public func endStreams(ofAgent agentID: UUID) {
        do {
            let response = try http.send(HTTPRequest(method: "DELETE", url: "\(baseURL)/pub/\(RealtimeChannel.member(agentID))",
                                                     headers: [("Accept", "text/json")], timeoutMilliseconds: 2_000))
            if response.status >= 300 && response.status != 404 {
                logger.warning("ending an agent's streams was refused", metadata: ["status": "\(response.status)"])
            }
        } catch {
            logger.warning("ending an agent's streams failed", metadata: ["error": "\(error)"])
        }
    }

    /// Events of one channel in one request: a JSON array when there are several (the dashboard takes both).
    public func publish(channel: String, _ events: [RealtimeEvent]) {
        guard let first = events.first,
              let body = try? (events.count == 1 ? JSONCoding.encoder.encode(first) : JSONCoding.encoder.encode(events))
        else { return }
        do {
            let response = try http.send(HTTPRequest(
                method: "POST", url: "\(baseURL)/pub/\(channel)",
                headers: [("Content-Type", "application/json"), ("Accept", "text/json")],
                body: Array(body), timeoutMilliseconds: 500))
            if response.status >= 300 {
                logger.warning("realtime publish refused", metadata: ["status": "\(response.status)", "type": "\(first.type)"])
            }
        } catch {
            logger.warning("realtime publish failed", metadata: ["error": "\(error)", "type": "\(first.type)"])
        }
    }
}
