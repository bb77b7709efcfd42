import Core
import Prometheus
import Synchronization

/// The worker's Prometheus metrics (swift-prometheus), served at `/metrics`. Counters are per process; depth and
/// lag are read from the database by the observer loop, so every worker reports the shared queue.
final class WorkerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()

    let jobsProcessed: Counter
    let jobsFailed: Counter
    let jobsRetried: Counter
    let jobsDeferred: Counter
    let jobsDeadLettered: Counter
    let outboxRelayed: Counter
    let messagesDelivered: Counter
    let queueDepth: Gauge
    let queueLagSeconds: Gauge
    let outboxDepth: Gauge
    let outboxLagSeconds: Gauge
    let deadLetters: Gauge
    let providerLatencyP95: Gauge
    let jobsPerSecond: Gauge
    let providerLatency: DurationHistogram
    /// The last 1,000 provider latencies (a ring), for the p95 gauge computed at each observation.
    private let recentLatencies = Mutex<(samples: [Double], next: Int)>(([], 0))
    private let processedCount = Mutex<(last: Double, count: Int, at: Double)>((0, 0, 0))

    init() {
        jobsProcessed = registry.makeCounter(descriptor: Self.name("worker_jobs_processed", unit: "total",
            "Queue jobs finished successfully."))
        jobsFailed = registry.makeCounter(descriptor: Self.name("worker_jobs_failed", unit: "total",
            "Job attempts that failed."))
        jobsRetried = registry.makeCounter(descriptor: Self.name("worker_jobs_retried", unit: "total",
            "Jobs scheduled for another attempt."))
        jobsDeferred = registry.makeCounter(descriptor: Self.name("worker_jobs_deferred", unit: "total",
            "Jobs put back because of a rate limit (no attempt used)."))
        jobsDeadLettered = registry.makeCounter(descriptor: Self.name("worker_jobs_dead_lettered", unit: "total",
            "Jobs moved to the dead letter."))
        outboxRelayed = registry.makeCounter(descriptor: Self.name("worker_outbox_relayed", unit: "total",
            "Outbox events relayed into the queue."))
        messagesDelivered = registry.makeCounter(descriptor: Self.name("worker_messages_delivered", unit: "total",
            "Outbound messages a provider accepted."))
        queueDepth = registry.makeGauge(descriptor: Self.name("queue_depth", unit: "",
            "Queue jobs waiting (PENDING or RUNNING)."))
        queueLagSeconds = registry.makeGauge(descriptor: Self.name("queue_lag", unit: "seconds",
            "Age of the oldest due PENDING job."))
        outboxDepth = registry.makeGauge(descriptor: Self.name("outbox_depth", unit: "",
            "Outbox events not yet relayed."))
        outboxLagSeconds = registry.makeGauge(descriptor: Self.name("outbox_lag", unit: "seconds",
            "Age of the oldest due PENDING outbox event."))
        deadLetters = registry.makeGauge(descriptor: Self.name("dead_letters", unit: "",
            "Queue jobs in the dead letter."))
        providerLatencyP95 = registry.makeGauge(descriptor: Self.name("provider_latency_p95", unit: "ms",
            "95th percentile of the last 1,000 provider calls, in milliseconds."))
        jobsPerSecond = registry.makeGauge(descriptor: Self.name("worker_jobs_per", unit: "second",
            "Jobs finished per second over the last observation interval."))
        providerLatency = registry.makeDurationHistogram(
            descriptor: Self.name("provider_request_duration", unit: "seconds",
            "Provider API calls (LINE, Graph), by duration."),
            buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                      .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10)])
    }

    /// `hubchat_<name>_<unit>`, with its help text.
    static func name(_ name: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "hubchat", metricName: name, unitName: unit, helpText: help)
    }

    func recordProviderCall(milliseconds: Double) {
        providerLatency.record(.microseconds(Int64(milliseconds * 1000)))
        recentLatencies.withLock { ring in
            if ring.samples.count < 1_000 { ring.samples.append(milliseconds) } else { ring.samples[ring.next] = milliseconds }
            ring.next = (ring.next + 1) % 1_000
        }
    }

    /// Sets the p95 gauge from the recent provider calls, when /metrics is read (sorting on every call cost the
    /// delivery lanes a tenth of their CPU).
    func updateProviderLatencyP95() {
        let samples = recentLatencies.withLock { $0.samples }
        guard !samples.isEmpty else { return }
        let sorted = samples.sorted()
        providerLatencyP95.set(sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.95).rounded(.up)) - 1)])
    }

    func jobFinished() {
        jobsProcessed.increment()
        processedCount.withLock { $0.count += 1 }
    }

    /// Called by the observer every interval: jobs/s since the last call.
    func sampleRate(now: Double) {
        let rate = processedCount.withLock { state -> Double? in
            defer { state.last = Double(state.count); state.at = now }
            guard state.at > 0, now > state.at else { return nil }
            return (Double(state.count) - state.last) / (now - state.at)
        }
        if let rate { jobsPerSecond.set(rate) }
    }

    func render() -> String {
        updateProviderLatencyP95()
        return registry.emitToString()
    }
}

/// Provider calls, timed for the latency metrics.
struct MeasuredHTTPClient: HTTPClient {
    let inner: any HTTPClient
    let metrics: WorkerMetrics

    func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        let started = WorkerLoop.now()
        do {
            let response = try inner.send(request)
            metrics.recordProviderCall(milliseconds: response.elapsedMilliseconds)
            return response
        } catch {
            metrics.recordProviderCall(milliseconds: (WorkerLoop.now() - started) * 1000)
            throw error
        }
    }
}
