import FoundationEssentials
import Dispatch
import Synchronization

/// Publishes from a queue of its own, so a delivery or inbound lane never waits on the fan-out. Events that pile up
/// while a publish is in flight leave together, one request per tenant channel (nchan then carries one message with
/// a JSON array, which the dashboard unpacks). Realtime is a hint: past `maxPending` waiting events, new ones are
/// dropped and a dashboard catches up on its next fetch.
public final class BackgroundRealtimePublisher: RealtimePublisher, @unchecked Sendable {
    // @unchecked: `target` (and its HTTP handle) is used only on `queue`, which is serial.
    private let target: NchanRealtimePublisher
    private let queue = DispatchQueue(label: "hubchat.realtime")
    private let state = Mutex<(pending: [RealtimeEvent], scheduled: Bool)>(([], false))
    let maxPending: Int

    public init(target: NchanRealtimePublisher, maxPending: Int = 10_000) {
        self.target = target
        self.maxPending = maxPending
    }

    public func publish(_ event: RealtimeEvent) {
        let schedule = state.withLock { state -> Bool in
            guard state.pending.count < maxPending else { return false }
            state.pending.append(event)
            defer { state.scheduled = true }
            return !state.scheduled
        }
        if schedule { queue.async { self.drain() } }
    }

    public func endStreams(ofAgent agentID: UUID) {
        queue.async { self.target.endStreams(ofAgent: agentID) }
    }

    /// Blocks until every event handed over so far has been published (tests, shutdown).
    public func flush() { queue.sync {} }

    private func drain() {
        while true {
            let events = state.withLock { state -> [RealtimeEvent] in
                defer { state.pending = [] }
                if state.pending.isEmpty { state.scheduled = false }
                return state.pending
            }
            guard !events.isEmpty else { return }
            var channels: [String] = []
            var byChannel: [String: [RealtimeEvent]] = [:]
            for event in events {
                if byChannel[event.channel] == nil { channels.append(event.channel) }
                byChannel[event.channel, default: []].append(event)
            }
            for channel in channels { target.publish(channel: channel, byChannel[channel]!) }
        }
    }
}
