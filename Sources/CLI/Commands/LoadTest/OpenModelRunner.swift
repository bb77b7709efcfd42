import Core
import Foundation
import Synchronization

/// Sends requests on a fixed schedule (the i-th at start + i / rate), whatever the answers do: an open model, so a
/// slow server shows up as latency instead of hiding behind a client that waits. Latency is measured from each
/// request's scheduled time; lateness (how far behind schedule the client itself started a request) is reported so
/// a saturated load generator is visible.
struct OpenModelRunner {
    let label: String
    let count: Int
    let ratePerSecond: Double
    let threads: Int

    struct Result: Sendable {
        var statuses: [String: Int] = [:]
        var latenciesMs: [Double] = []
        var maxLatenessMs: Double = 0
    }

    /// `answered` sees each answer (index, status, body), e.g. to log what was accepted.
    func run(_ make: @escaping @Sendable (Int) -> HTTPRequest?,
             answered: @escaping @Sendable (Int, Int, [UInt8]) -> Void = { _, _, _ in }) -> Result {
        let state = Mutex(Result())
        let done = Mutex(0)
        let start = Date().addingTimeInterval(0.2)
        let group = DispatchGroup()
        for k in 0..<max(1, threads) {
            group.enter()
            Thread {
                defer { group.leave() }
                guard let http = try? CurlHTTPClient() else { return }
                var i = k
                while i < count {
                    defer { i += threads }
                    let due = start.addingTimeInterval(Double(i) / ratePerSecond)
                    let wait = due.timeIntervalSinceNow
                    if wait > 0 { Thread.sleep(forTimeInterval: wait) }
                    guard let request = make(i) else { continue }
                    let status: String
                    do {
                        let response = try http.send(request)
                        status = String(response.status)
                        answered(i, response.status, response.body)
                    } catch { status = "error" }
                    let latency = -due.timeIntervalSinceNow * 1000
                    state.withLock {
                        $0.statuses[status, default: 0] += 1
                        $0.latenciesMs.append(latency)
                        $0.maxLatenessMs = max($0.maxLatenessMs, max(0, -wait * 1000))
                    }
                    done.withLock { $0 += 1 }
                }
            }.start()
        }
        // A progress line while it runs.
        let total = count
        let progress = Thread {
            while done.withLock({ $0 }) < total {
                Thread.sleep(forTimeInterval: 1)
                let n = done.withLock { $0 }
                FileHandle.standardError.write(Data("\r\(label): \(n)/\(total) sent".utf8))
            }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        progress.start()
        group.wait()
        while progress.isExecuting { Thread.sleep(forTimeInterval: 0.05) }
        return state.withLock { $0 }
    }
}

/// Latency figures by nearest rank, as the original harness computed them.
struct LatencySummary: Codable, Sendable {
    let count: Int
    let p50: Double?
    let p95: Double?
    let p99: Double?
    let max: Double?

    init(_ values: [Double]) {
        let sorted = values.sorted()
        func rank(_ q: Double) -> Double? {
            guard !sorted.isEmpty else { return nil }
            let index = Swift.max(0, Int((q * Double(sorted.count)).rounded(.up)) - 1)
            return (sorted[Swift.min(index, sorted.count - 1)] * 10).rounded() / 10
        }
        count = sorted.count
        p50 = rank(0.5)
        p95 = rank(0.95)
        p99 = rank(0.99)
        max = sorted.last.map { ($0 * 10).rounded() / 10 }
    }
}
