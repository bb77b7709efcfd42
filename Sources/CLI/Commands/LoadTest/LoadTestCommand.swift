import ArgumentParser
import Core
import Foundation
import Synchronization

/// `hubchat loadtest --profile low|medium|high`: signed webhooks (with the profile's share of redeliveries) and
/// paced sends through the API, against a deployment, with the worker's metrics sampled throughout.
struct LoadTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Drive webhooks and sends at a profile's rates (open model) and write a JSON report with SLO checks.",
        discussion: """
            Environment: HUB_CHAT_BASE_URL, HUB_CHAT_TENANT_ID, HUB_CHAT_ACCESS_TOKEN (for sends), \
            HUB_CHAT_LINE_CHANNEL_SECRET + HUB_CHAT_LINE_DESTINATION, HUB_CHAT_META_APP_SECRET + \
            HUB_CHAT_FACEBOOK_PAGE_ID / HUB_CHAT_INSTAGRAM_ACCOUNT_ID (the channels to sign for), \
            HUB_CHAT_WORKER_METRICS_URL. The development stack's names (HUBCHAT_URL, …) work too. Sends go to the \
            synthetic customers this run created, or to HUB_CHAT_CONVERSATION_ID + HUB_CHAT_LEAD_ID (+ \
            HUB_CHAT_CHANNEL) when set: use a test conversation of your own against real providers. \
            See docs/production-validation.md.
            """)

    @OptionGroup var options: LoadTestOptions

    func run() throws {
        let report = try options.execute()
        try ValidateCommand.Summary.emit(report)
        FileHandle.standardError.write(Data("report: \(options.outputPath)\n".utf8))
    }
}

struct LoadTestOptions: ParsableArguments {
    @Option(help: "low, medium or high.") var profile: String = "low"
    @Option(help: "Where the JSON report goes (default .run/loadtest-<profile>.json).") var output: String?
    @Option(help: "Seconds of paced sends (default: the profile's minutes).") var duration: Double?
    @Option(help: "Webhook deliveries per second for the burst (default: burst / 10, at least 20).") var webhookRate: Double?
    @Option(help: "Sends per minute (default: the profile's).") var outboundPerMinute: Double?
    @Option(help: "Webhook events in the burst (default: the profile's).") var burst: Int?
    @Option(help: "Client threads (the original's --client-concurrency).") var clientConcurrency: Int = 25
    @Option(help: "The worker's Prometheus /metrics (default HUB_CHAT_WORKER_METRICS_URL / WORKER_METRICS_URL).")
    var workerMetricsURL: String?
    @Option(help: "Also write one JSON line per accepted request (webhook event ids answered 200, message ids answered 202), for fault drills.")
    var acceptedLog: String?

    var outputPath: String { output ?? ".run/loadtest-\(profile).json" }

    func execute() throws -> LoadTestReport {
        guard let chosen = LoadProfile.all[profile] else { throw ValidationError("--profile must be low, medium or high") }
        let env = Environment.process
        let target = try LoadTarget(environment: env)
        let metricsURL = workerMetricsURL ?? env.firstString("HUB_CHAT_WORKER_METRICS_URL", "WORKER_METRICS_URL")
        let run = String(UUID().uuidString.prefix(8)).lowercased()
        let started = Date()

        // The worker's metrics, about once a second through the whole run.
        let samples = Mutex<[WorkerMetricsSample]>([])
        let errors = Mutex<[String]>([])
        let sampling = Mutex(true)
        if let metricsURL {
            Thread {
                while sampling.withLock({ $0 }) {
                    do { let s = try WorkerMetricsSample.read(metricsURL); samples.withLock { $0.append(s) } } catch {
                        errors.withLock { if $0.count < 20 { $0.append("\(error)") } }
                    }
                    Thread.sleep(forTimeInterval: 1)
                }
            }.start()
        } else {
            errors.withLock { $0.append("no worker metrics URL (--worker-metrics-url or HUB_CHAT_WORKER_METRICS_URL)") }
        }

        // 1. The inbound burst, with redeliveries of earlier events mixed in.
        let burstSize = burst ?? chosen.burst
        let deliveries = (0..<burstSize).compactMap { target.delivery($0, run: run) }
        guard !deliveries.isEmpty else {
            throw LoadTestError("no channel secrets: set HUB_CHAT_LINE_CHANNEL_SECRET + HUB_CHAT_LINE_DESTINATION or the Meta ones")
        }
        let duplicates = Int((Double(deliveries.count) * chosen.duplicateShare).rounded())
        let every = duplicates > 0 ? max(1, deliveries.count / duplicates) : Int.max
        var schedule: [Int] = []
        for i in 0..<deliveries.count {
            schedule.append(i)
            if (i + 1) % every == 0, schedule.count < deliveries.count + duplicates { schedule.append(i / 2) }
        }
        let inboundRate = webhookRate ?? max(20, Double(burstSize) / 10)
        let base = target.baseURL
        let order = schedule
        let log = AcceptedLog(path: acceptedLog)
        let inbound = OpenModelRunner(label: "webhooks", count: order.count, ratePerSecond: inboundRate,
                                      threads: clientConcurrency).run({ i in
            let d = deliveries[order[i]]
            return HTTPRequest(method: "POST", url: base + d.path,
                               headers: [("Content-Type", "application/json"), d.header], body: d.body)
        }, answered: { i, status, _ in
            log.write(#"{"kind":"webhook","status":\#(status),"channel":"\#(deliveries[order[i]].channel)","eventId":"\#(deliveries[order[i]].eventID)"}"#)
        })

        // 2. Paced sends to this run's synthetic customers (never to real ones).
        var outbound: LoadTestReport.Phase?
        var skipped: String?
        let perMinute = outboundPerMinute ?? Double(chosen.outboundPerMinute)
        let seconds = duration ?? Double(chosen.outboundMinutes * 60)
        if let token = target.accessToken {
            let conversations = try target.sendTarget.map { [$0] } ?? findRunConversations(target, token: token, run: run)
            if conversations.isEmpty {
                skipped = "no conversation of this run's customers appeared (is the worker running?)"
            } else {
                let rate = perMinute / 60
                let count = Int(rate * seconds)
                let result = OpenModelRunner(label: "sends", count: count, ratePerSecond: rate, threads: clientConcurrency).run({ i in
                    let (conversation, lead, channel) = conversations[i % conversations.count]
                    let body = #"{"conversationId":"\#(conversation)","leadId":"\#(lead)","channel":"\#(channel)","type":"text","content":"loadtest \#(run) reply \#(i)"}"#
                    return HTTPRequest(method: "POST", url: base + "/api/messages/send", headers: [
                        ("Content-Type", "application/json"), ("Authorization", "Bearer " + token), ("x-tenant-id", target.tenantID),
                    ], body: Array(body.utf8))
                }, answered: { _, status, body in
                    guard status == 202, let id = (try? JSONValue.parse(body))?["messageId"]?.stringValue else { return }
                    log.write(#"{"kind":"send","status":202,"messageId":"\#(id)"}"#)
                })
                outbound = .init(sent: count, ratePerSecond: rate, statuses: result.statuses,
                                 latencyMs: LatencySummary(result.latenciesMs), maxClientLatenessMs: result.maxLatenessMs)
            }
        } else {
            skipped = "no HUB_CHAT_ACCESS_TOKEN: sends not run"
        }

        // 3. Let the pipeline drain (at most 30 s), so lags and rates cover the whole run.
        if metricsURL != nil {
            let deadline = Date().addingTimeInterval(30)
            while Date() < deadline, (samples.withLock { $0.last?.queueDepth } ?? 0) > 0 { Thread.sleep(forTimeInterval: 1) }
        }
        sampling.withLock { $0 = false }
        Thread.sleep(forTimeInterval: 1.1)

        var report = LoadTestReport(
            profile: chosen.name, run: run, baseURL: base, startedAt: PostgresTimestamp.format(started),
            finishedAt: PostgresTimestamp.format(Date()),
            webhooks: .init(sent: schedule.count, ratePerSecond: inboundRate, statuses: inbound.statuses,
                            latencyMs: LatencySummary(inbound.latenciesMs), maxClientLatenessMs: inbound.maxLatenessMs),
            duplicateDeliveries: schedule.count - deliveries.count, outbound: outbound, outboundSkipped: skipped,
            workerMetricsURL: metricsURL, metricsSamples: samples.withLock { $0 }, metricsErrors: errors.withLock { $0 },
            checks: [], verdict: "FAIL")
        report.checks = SLOChecks.evaluate(report, slo: chosen.slo)
        report.verdict = report.checks.allSatisfy { $0.verdict == "PASS" } ? "PASS" : "FAIL"
        try JSONEncoder.pretty.encode(report).write(to: URL(fileURLWithPath: outputPath))
        return report
    }

    /// Conversations whose customers this run invented, found through the API (waits up to 20 s for the worker).
    func findRunConversations(_ target: LoadTarget, token: String, run: String) throws -> [(String, String, String)] {
        let http = try CurlHTTPClient()
        let deadline = Date().addingTimeInterval(20)
        var found: [(String, String, String)] = []
        repeat {
            found = []
            let response = try http.send(HTTPRequest(url: target.baseURL + "/api/conversations?limit=100", headers: [
                ("Authorization", "Bearer " + token), ("x-tenant-id", target.tenantID)]))
            guard response.status == 200 else { throw LoadTestError("GET /api/conversations answered \(response.status): \(response.text)") }
            for row in (try JSONValue.parse(response.body))["data"]?.arrayValue ?? [] {
                // This run's customers only (their messages carry the run id); comment threads are left out, their
                // first reply being a one-off Private Reply.
                guard (row["lastMessagePreview"]?.stringValue ?? "").contains(run),
                      row["providerThreadType"]?.stringValue != "FACEBOOK_COMMENT",
                      let id = row["id"]?.stringValue, let lead = row["leadId"]?.stringValue,
                      let channel = row["channel"]?.stringValue
                else { continue }
                found.append((id, lead, channel))
            }
            if !found.isEmpty { break }
            Thread.sleep(forTimeInterval: 1)
        } while Date() < deadline
        return found
    }
}

extension JSONEncoder {
    static var pretty: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return e
    }
}

/// One JSON line per accepted request, appended from the sender threads.
final class AcceptedLog: Sendable {
    private let file: Mutex<UnsafeMutablePointer<FILE>?>

    init(path: String?) { file = Mutex(path.flatMap { fopen($0, "w") }) }

    func write(_ line: String) {
        file.withLock { f in
            guard let f else { return }
            fputs(line + "\n", f)
            fflush(f)
        }
    }
}
