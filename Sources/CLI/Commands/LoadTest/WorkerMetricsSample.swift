import Core
import Foundation

/// One reading of the worker's Prometheus `/metrics`: the gauges and counters the SLOs need.
struct WorkerMetricsSample: Codable, Sendable {
    let at: Double
    let queueLagSeconds: Double
    let outboxLagSeconds: Double
    let queueDepth: Double
    let processed: Double
    let failed: Double
    let retried: Double
    let deadLettered: Double
    let providerLatencyP95Ms: Double?

    /// Reads `url`; throws when it cannot be read or lacks a metric (never "counts as zero").
    static func read(_ url: String) throws -> WorkerMetricsSample {
        let response = try CurlHTTPClient().send(HTTPRequest(url: url, timeoutMilliseconds: 3_000))
        guard response.status == 200 else { throw LoadTestError("\(url) answered \(response.status)") }
        var values: [String: Double] = [:]
        for line in response.text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            if parts.count >= 2, let v = Double(parts[1]) { values[String(parts[0])] = v }
        }
        func need(_ name: String) throws -> Double {
            guard let v = values[name] else { throw LoadTestError("\(url) has no \(name)") }
            return v
        }
        return WorkerMetricsSample(
            at: Date().timeIntervalSince1970, queueLagSeconds: try need("hubchat_queue_lag_seconds"),
            outboxLagSeconds: try need("hubchat_outbox_lag_seconds"), queueDepth: try need("hubchat_queue_depth"),
            processed: try need("hubchat_worker_jobs_processed_total"), failed: try need("hubchat_worker_jobs_failed_total"),
            retried: try need("hubchat_worker_jobs_retried_total"), deadLettered: try need("hubchat_worker_jobs_dead_lettered_total"),
            providerLatencyP95Ms: values["hubchat_provider_latency_p95_ms"])
    }
}
