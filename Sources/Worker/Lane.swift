import Core
import Dispatch
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// The loop every worker lane runs: its own database connection (re-made after the database comes back), one
/// cycle of work after another while there is work, then a sleep until woken or the poll interval passes. Each
/// round ticks the lane's heartbeat for `/ready`.
struct Lane: Sendable {
    let name: String
    let settings: PostgresConnection.Settings
    let pollIntervalMilliseconds: Int
    let logger: Logger
    let wake: DispatchSemaphore
    let heartbeats: LoopHeartbeats

    /// `cycle` does one batch and returns how many jobs it took (0 = nothing to do, sleep).
    func run(_ cycle: (PostgresConnection) throws -> Int) {
        var db: PostgresConnection?
        var wasDown = false
        // A cycle that failed half-way leaves the rest of its claimed batch RUNNING under this lane's name, and the
        // worker's heartbeat would keep extending those leases: give them back before claiming again.
        var holdsUnfinished = false
        while ProcessSignals.stopRequested == 0 {
            heartbeats.tick(name)
            do {
                if db == nil { db = try PostgresConnection(settings: settings) }
                if wasDown { logger.info("lane reconnected", metadata: ["lane": "\(name)"]); wasDown = false }
                if holdsUnfinished {
                    let released = try PostgresJobQueue(connection: db!).releaseHeld(by: name)
                    if released > 0 {
                        logger.warning("lane gave back unfinished jobs", metadata: ["lane": "\(name)", "count": "\(released)"])
                    }
                    holdsUnfinished = false
                }
                holdsUnfinished = true
                let taken = try cycle(db!)
                holdsUnfinished = false
                if taken == 0 {
                    _ = wake.wait(timeout: .now() + .milliseconds(pollIntervalMilliseconds))
                }
            } catch let error as PostgresError where error.isUnavailable {
                if !wasDown { logger.error("lane lost the database; retrying", metadata: ["lane": "\(name)", "error": "\(error)"]) }
                wasDown = true
                db = nil
                usleep(UInt32(min(pollIntervalMilliseconds * 5, 2_000) * 1000))
            } catch {
                logger.error("lane cycle failed", metadata: ["lane": "\(name)", "error": "\(error)"])
                usleep(UInt32(pollIntervalMilliseconds * 1000))
            }
        }
    }
}
