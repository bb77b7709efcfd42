import CFastCGI
import Core
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One responder process of a pool: `threads` responder threads accept from the pool's socket (standard input),
/// each serving one request at a time; the webhook pool's threads share a group commit, so requests that arrive
/// together commit together. The process exits after its request budget (the supervisor starts a fresh one) or on
/// SIGTERM, each thread after the request in hand.
///
/// Signals reach the main thread only, which does nothing but wait for the threads: the stop handler sets a flag
/// and writes to a pipe that every idle thread waits on beside the socket, so no thread is ever interrupted in
/// the middle of a request's reads and writes. SIGHUP stops the process as SIGTERM does.
struct ResponderProcess {
    let group: RouteGroup
    let config: HubChatConfig
    let logger: Logger
    let threads: Int
    /// The supervisor that spawned this process, told when this process is ready (its threads started, their
    /// database sessions open), so that on a reload it stops the responder this one replaces only then, and when
    /// the request budget nears its end, so that it starts the replacement while this one still serves (nil when
    /// started by hand, or by a supervisor that does not take the notices).
    var pool: pid_t?

    /// What the threads share besides the group commit.
    final class Shared: Sendable {
        /// Readable once the process is stopping (never read: it stays readable for every thread).
        let stopEvent: Int32
        private let stopEventWriter: Int32
        let budget: Int
        let pool: pid_t?
        private let count = Atomic<Int>(0)
        private let unready: Atomic<Int>
        private let budgetSpent = Atomic<Bool>(false)
        private let failed = Mutex<(any Error)?>(nil)

        /// `starting`: the threads that will each call `ready()` once.
        init(stopPipe: (read: Int32, write: Int32), budget: Int, pool: pid_t?, starting: Int) {
            self.stopEvent = stopPipe.read
            self.stopEventWriter = stopPipe.write
            self.budget = budget
            self.pool = pool
            self.unready = Atomic(starting)
        }

        /// A thread is ready to serve (its database session opened, or tried); the last one tells the pool.
        func ready() {
            if unready.subtract(1, ordering: .relaxed).newValue == 0 { tell(Supervisor.readyNotice) }
        }

        var stopping: Bool { ProcessSignals.stopRequested != 0 || budgetSpent.load(ordering: .relaxed) }
        var requestsServed: Int { count.load(ordering: .relaxed) }

        /// Counts a request; true when the process is stopping (this was the budget's last, or a stop came), so the
        /// caller closes its connection.
        func served() -> Bool {
            let served = count.add(1, ordering: .relaxed).newValue
            if served == Self.noticeAt(budget: budget) { tell(Supervisor.retiringNotice) }
            if served >= budget {
                if !budgetSpent.exchange(true, ordering: .relaxed) { signalStop() }
                return true
            }
            return stopping
        }

        /// When the pool hears that this process is about to retire: a tenth of the budget before its end, at most
        /// 2,000 requests (0.4 s at this host's webhook rate), so that the replacement can start and open its database
        /// sessions (~0.1 s and a SCRAM exchange each on this host) while this one serves; the pool stops this one once
        /// the replacement is ready. Were it told only at the budget, a pool of one process (the webhook default)
        /// would accept nothing in between.
        static func noticeAt(budget: Int) -> Int { budget - min(budget / 10, 2_000) }

        /// Only our own supervisor is told (a pool that died meanwhile has left us to another parent).
        private func tell(_ notice: Int32) {
            if let pool, getppid() == pool { kill(pool, notice) }
        }

        /// A thread that cannot go on stops the process, which then exits with an error (so that a pool whose
        /// responders keep failing backs off instead of respawning them at once).
        func fail(_ error: any Error) {
            failed.withLock { $0 = $0 ?? error }
            ProcessSignals.requestStop()
        }

        var failure: (any Error)? { failed.withLock { $0 } }

        private func signalStop() {
            var one: UInt8 = 1
            _ = write(stopEventWriter, &one, 1)
        }
    }

    /// Runs the threads until they have all ended; returns the requests served.
    func run() throws -> Int {
        var stopPipe: [Int32] = [-1, -1]
        guard pipe(&stopPipe) == 0 else { throw SystemCallFailure(call: "pipe", code: errno) }
        for fd in stopPipe {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)  // the handler's write never blocks
        }
        ProcessSignals.stopEventDescriptor = stopPipe[1]
        ProcessSignals.installStopHandlers()
        ProcessSignals.install(SIGHUP) { _ in ProcessSignals.requestStop() }  // as SIGTERM: the pool starts another
        // Every thread (and every process of the pool) waits for the socket in poll; the losers of a race for a
        // connection must find accept empty rather than block in it, deaf to the stop event.
        let flags = fcntl(0, F_GETFL)
        guard flags >= 0, fcntl(0, F_SETFL, flags | O_NONBLOCK) == 0 else { throw SystemCallFailure(call: "fcntl", code: errno) }
        guard FCGX_Init() == 0 else { throw SystemCallFailure(call: "FCGX_Init", code: -1) }

        let lanes = group == .webhooks ? config.responders.webhookCommitLanes : 1
        let shared = Shared(stopPipe: (stopPipe[0], stopPipe[1]), budget: config.responders.maxRequestsPerProcess,
                            pool: pool, starting: threads + (group == .webhooks ? lanes : 0))
        let settings = Responder.databaseSettings(group, config)
        let webhookStore = GroupCommitWebhookEventStore(lanes: (0..<lanes).map { _ in
            let database = DatabaseProvider(settings: settings)
            return PostgresWebhookCommitLane(connection: { try database.connection() })
        }, retryBudget: .milliseconds(settings.statementTimeoutMilliseconds))

        // The threads start with the stop signals blocked (they inherit the mask), so the main thread takes them.
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        for signal in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&stopSignals, signal) }
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &stopSignals, &previous)
        // The group commit's committers (one a lane), started like the responder threads with the signals blocked.
        var committers: [ResponderThread] = []
        for index in 0..<webhookStore.laneCount {
            do {
                // The api pool's group commit stays unused: no session for it.
                let opening = group == .webhooks
                committers.append(try ResponderThread.start {
                    webhookStore.runCommitter(index, whenOpen: opening ? { shared.ready() } : nil)
                })
            } catch {
                // No request may wait for a lane nobody commits on: stop before serving any.
                webhookStore.close()
                for thread in committers { thread.join() }
                pthread_sigmask(SIG_SETMASK, &previous, nil)
                throw error
            }
        }
        let (group, config, logger) = (self.group, self.config, self.logger)
        var started: [ResponderThread] = []
        for index in 0..<threads {
            do {
                started.append(try ResponderThread.start {
                    var log = logger
                    log[metadataKey: "thread"] = .stringConvertible(index)
                    let responder = Responder(group: group, routes: AllRoutes.list, config: config, logger: log,
                                              webhookStore: webhookStore)
                    do {
                        try responder.run(listeningSocket: 0, process: shared)
                    } catch {
                        log.critical("responder thread stopped on error", metadata: ["error": "\(error)"])
                        shared.fail(error)
                    }
                })
            } catch {
                // The threads already serving finish the requests in hand before the process exits.
                shared.fail(error)
                break
            }
        }
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        for thread in started { thread.join() }
        webhookStore.close()
        for thread in committers { thread.join() }
        let statistics = webhookStore.statistics
        if statistics.commits > 0 {
            logger.debug("webhook group commit", metadata: [
                "commits": "\(statistics.commits)", "events": "\(statistics.events)"])
        }
        if let failure = shared.failure { throw failure }
        return shared.requestsServed
    }
}

/// A POSIX thread running a closure.
struct ResponderThread {
    private final class Body: @unchecked Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    let id: pthread_t

    static func start(_ run: @escaping @Sendable () -> Void) throws -> ResponderThread {
        var id = pthread_t()
        let body = Unmanaged.passRetained(Body(run)).toOpaque()
        let rc = pthread_create(&id, nil, { raw in
            Unmanaged<Body>.fromOpaque(raw!).takeRetainedValue().run()
            return nil
        }, body)
        guard rc == 0 else {
            Unmanaged<Body>.fromOpaque(body).release()
            throw SystemCallFailure(call: "pthread_create", code: rc)
        }
        return ResponderThread(id: id)
    }

    func join() { pthread_join(id, nil) }
}
