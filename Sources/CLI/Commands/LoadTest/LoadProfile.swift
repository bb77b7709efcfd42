/// The original product's load profiles and the SLOs a stage must meet under them (docs/production-validation.md).
struct LoadProfile: Sendable {
    let name: String
    /// Webhook events in the inbound burst.
    let burst: Int
    /// Outbound sends per minute, sustained for `outboundMinutes`.
    let outboundPerMinute: Int
    let outboundMinutes: Int
    /// Share of webhook deliveries that are redeliveries of an earlier one.
    let duplicateShare: Double
    let slo: SLO

    struct SLO: Sendable, Codable {
        let queueLagSeconds: Double
        let outboxLagSeconds: Double
        let webhookP95Ms: Double
        let webhookP99Ms: Double
        let outboundP95Ms: Double
        let outboundP99Ms: Double
        let retryRate: Double
        let deadLetterRate: Double
    }

    static let all: [String: LoadProfile] = [
        "low": LoadProfile(name: "low", burst: 200, outboundPerMinute: 300, outboundMinutes: 10, duplicateShare: 0.03,
                           slo: SLO(queueLagSeconds: 10, outboxLagSeconds: 8, webhookP95Ms: 600, webhookP99Ms: 1200,
                                    outboundP95Ms: 2000, outboundP99Ms: 5000, retryRate: 0.05, deadLetterRate: 0.001)),
        "medium": LoadProfile(name: "medium", burst: 500, outboundPerMinute: 800, outboundMinutes: 15, duplicateShare: 0.05,
                              slo: SLO(queueLagSeconds: 20, outboxLagSeconds: 15, webhookP95Ms: 800, webhookP99Ms: 1800,
                                       outboundP95Ms: 3000, outboundP99Ms: 8000, retryRate: 0.08, deadLetterRate: 0.003)),
        "high": LoadProfile(name: "high", burst: 1000, outboundPerMinute: 1400, outboundMinutes: 20, duplicateShare: 0.08,
                            slo: SLO(queueLagSeconds: 30, outboxLagSeconds: 25, webhookP95Ms: 1200, webhookP99Ms: 2500,
                                     outboundP95Ms: 5000, outboundP99Ms: 12000, retryRate: 0.12, deadLetterRate: 0.005)),
    ]
}
