import Foundation

/// What `hubchat loadtest` writes (JSON) and `hubchat validate summary` reads.
struct LoadTestReport: Codable {
    struct Phase: Codable {
        var sent: Int
        var ratePerSecond: Double
        var statuses: [String: Int]
        /// From each request's scheduled time to its answer, in ms.
        var latencyMs: LatencySummary
        var maxClientLatenessMs: Double
    }

    var profile: String
    var run: String
    var baseURL: String
    var startedAt: String
    var finishedAt: String
    var webhooks: Phase
    var duplicateDeliveries: Int
    var outbound: Phase?
    var outboundSkipped: String?
    var workerMetricsURL: String?
    /// Sampled through the run (about once a second), not one snapshot.
    var metricsSamples: [WorkerMetricsSample]
    var metricsErrors: [String]
    var checks: [Check]
    var verdict: String

    struct Check: Codable {
        let name: String
        let value: Double?
        let threshold: Double
        let verdict: String
        let note: String?
    }
}

/// The SLO checks of a profile over a report. A figure that cannot be computed (metrics unreadable, nothing sent)
/// fails its check; it never counts as zero.
enum SLOChecks {
    static func evaluate(_ r: LoadTestReport, slo: LoadProfile.SLO) -> [LoadTestReport.Check] {
        var checks: [LoadTestReport.Check] = []
        func add(_ name: String, _ value: Double?, _ threshold: Double, note: String? = nil) {
            let pass = value.map { $0 <= threshold } ?? false
            checks.append(.init(name: name, value: value.map { ($0 * 10_000).rounded() / 10_000 }, threshold: threshold,
                                verdict: pass ? "PASS" : "FAIL", note: value == nil ? (note ?? "no data") : nil))
        }
        let samples = r.metricsSamples
        func p95(_ values: [Double]) -> Double? { LatencySummary(values).p95 }
        let metricsNote = r.metricsErrors.isEmpty ? "no worker metrics samples" : "worker metrics unreadable: \(r.metricsErrors.first!)"
        add("queue lag p95 (s)", samples.isEmpty ? nil : p95(samples.map(\.queueLagSeconds)), slo.queueLagSeconds, note: metricsNote)
        add("outbox lag p95 (s)", samples.isEmpty ? nil : p95(samples.map(\.outboxLagSeconds)), slo.outboxLagSeconds, note: metricsNote)
        let webhookErrors = r.webhooks.statuses.filter { $0.key != "200" }.values.reduce(0, +)
        add("webhook p95 (ms)", r.webhooks.latencyMs.p95, slo.webhookP95Ms)
        add("webhook p99 (ms)", r.webhooks.latencyMs.p99, slo.webhookP99Ms)
        add("webhook non-200 answers", Double(webhookErrors), 0)
        if let outbound = r.outbound {
            add("outbound p95 (ms)", outbound.latencyMs.p95, slo.outboundP95Ms)
            add("outbound p99 (ms)", outbound.latencyMs.p99, slo.outboundP99Ms)
            add("outbound non-202 answers", Double(outbound.statuses.filter { $0.key != "202" }.values.reduce(0, +)), 0)
        } else {
            add("outbound p95 (ms)", nil, slo.outboundP95Ms, note: r.outboundSkipped ?? "outbound not run")
        }
        if let first = samples.first, let last = samples.last, samples.count >= 2 {
            let processed = last.processed - first.processed
            let failed = last.failed - first.failed
            let retried = last.retried - first.retried
            let dead = last.deadLettered - first.deadLettered
            add("retry rate", processed + failed > 0 ? retried / (processed + failed) : nil, slo.retryRate,
                note: "no jobs ran during the test")
            add("dead-letter rate", processed + dead > 0 ? dead / (processed + dead) : nil, slo.deadLetterRate,
                note: "no jobs ran during the test")
        } else {
            add("retry rate", nil, slo.retryRate, note: metricsNote)
            add("dead-letter rate", nil, slo.deadLetterRate, note: metricsNote)
        }
        return checks
    }
}
