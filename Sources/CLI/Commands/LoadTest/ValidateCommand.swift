import ArgumentParser
import Core
import Foundation

/// `hubchat validate stage|summary`: the PASS/FAIL verdict of a stage against a profile's SLOs.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate", abstract: "Judge a deployment against a profile's SLOs.",
        subcommands: [Stage.self, Summary.self])

    /// Runs the load test, then judges it.
    struct Stage: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run `loadtest` for the profile, then print the summary.")
        @OptionGroup var options: LoadTestOptions

        func run() throws {
            let report = try options.execute()
            try Summary.emit(report)
            if report.verdict != "PASS" { throw ExitCode(1) }
        }
    }

    /// Judges an existing report (re-reading the worker's metrics now, when asked, to add a final sample).
    struct Summary: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Judge a load-test report against the profile's SLOs.")
        @Option(help: "low, medium or high.") var profile: String = "low"
        @Option(help: "The report `loadtest` wrote.") var loadtestReport: String?
        @Option(help: "The worker's /metrics, for a final sample (a failure to read it fails the metrics checks).")
        var workerMetricsURL: String?

        func run() throws {
            guard let slo = LoadProfile.all[profile]?.slo else { throw ValidationError("--profile must be low, medium or high") }
            let path = loadtestReport ?? ".run/loadtest-\(profile).json"
            var report = try JSONDecoder().decode(LoadTestReport.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            if let url = workerMetricsURL {
                do { report.metricsSamples.append(try WorkerMetricsSample.read(url)) } catch {
                    report.metricsErrors.append("\(error)")
                    report.metricsSamples = []  // a metrics check must not pass on data it could not confirm
                }
            }
            report.checks = SLOChecks.evaluate(report, slo: slo)
            report.verdict = report.checks.allSatisfy { $0.verdict == "PASS" } ? "PASS" : "FAIL"
            try Self.emit(report)
            if report.verdict != "PASS" { throw ExitCode(1) }
        }

        static func emit(_ report: LoadTestReport) throws {
            struct Out: Encodable { let profile: String; let run: String; let checks: [LoadTestReport.Check]; let verdict: String }
            print(String(decoding: try JSONEncoder.pretty.encode(
                Out(profile: report.profile, run: report.run, checks: report.checks, verdict: report.verdict)), as: UTF8.self))
        }
    }
}
