import Core
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// Owns one pool: binds its unix socket, starts `processes` responders that share it (the
/// socket is their standard input, the FastCGI convention), keeps that many serving (recycled
/// after their request budget, or crashed), replaces them all on SIGHUP, and on SIGTERM lets
/// each finish the request in hand before the pool exits.
///
/// A replacement is started before the responder it replaces stops accepting, so that a pool of one process (the
/// webhook default) always has one accepting: a responder tells the pool a tenth of its budget before the end that it
/// is retiring (SIGUSR1), and on a reload the old responder is told to stop only once its replacement says it is
/// ready (SIGUSR2: started, database sessions open), or after `readyTimeoutSeconds`.
struct Supervisor {
    let group: RouteGroup
    let socketPath: String
    let processes: Int
    let logger: Logger
    /// How long a stopping responder may take before it is killed.
    var stopGraceSeconds: Double = 10
    /// How long a reload waits for a replacement's readiness before stopping the old responder anyway.
    var readyTimeoutSeconds: Double = 5

    private struct Child {
        let startedAt: Double
        /// Sent SIGTERM by the pool (a reload): its end is no crash, whatever it died of (a responder told to stop
        /// before it installed its handlers dies of the signal itself).
        var told = false
        /// Its replacement was started ahead, while it finishes its requests in hand: its end starts no other.
        var replaced = false
        /// Said it is ready (SIGUSR2): threads started, database sessions open.
        var ready = false
        /// A reload's replacement: the responders to stop once this one is ready (or `readyTimeoutSeconds` after it
        /// started).
        var stopsWhenReady: [pid_t] = []
    }

    /// The signals the pool acts on. They stay blocked and are taken with `sigtimedwait`, so none can slip in
    /// between looking for it and waiting (a SIGHUP just before a blocking `waitpid` went unseen until the next
    /// responder exited).
    private static let handled = [SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGCHLD]

    func run() throws {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in Self.handled { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        ProcessSignals.ignore(SIGPIPE)
        // Room for a burst (every dashboard reconnecting at once after a network blip authorises its stream here):
        // the kernel caps it at net.core.somaxconn, 4096 on Debian 12. A full backlog refuses, and nginx answers 502.
        let listener = try UnixListener(path: socketPath, backlog: 4096)
        defer { listener.close() }
        logger.info("pool started", metadata: [
            "group": "\(group.rawValue)", "socket": "\(socketPath)", "processes": "\(processes)"])

        var children: [pid_t: Child] = [:]
        var quickDeaths = 0
        for _ in 0..<processes { try start(&children, listener: listener) }

        serving: while true {
            // Responders that exited: each replaced unless its replacement already runs.
            var status: Int32 = 0
            while case let pid = waitpid(-1, &status, WNOHANG), pid > 0 {
                guard let child = children.removeValue(forKey: pid) else { continue }
                for other in Array(children.keys) { children[other]?.stopsWhenReady.removeAll { $0 == pid } }
                let lived = Self.now() - child.startedAt
                let exit = Self.describe(status)
                if exit == "exit 0" || child.told {
                    logger.debug("responder recycled", metadata: ["pid": "\(pid)"])
                    quickDeaths = 0
                } else {
                    logger.warning("responder died", metadata: ["pid": "\(pid)", "status": "\(exit)", "lived_s": "\(lived)"])
                    // A responder that dies at once (bad configuration, a crash on every request)
                    // must not turn the supervisor into a fork loop: back off, up to 5 s.
                    quickDeaths = lived < 1 ? quickDeaths + 1 : 0
                    if quickDeaths > 0 && !child.replaced {
                        usleep(UInt32(min(5_000_000, 100_000 * (1 << min(quickDeaths, 6)))))
                    }
                }
                // A reload's replacement that died before it was ready: stop the old responders now (a new
                // replacement starts below, and the backlog holds connections meanwhile).
                for old in child.stopsWhenReady { kill(old, SIGTERM) }
                if !child.replaced { try start(&children, listener: listener) }
            }
            // Replacements that took too long to say they are ready.
            for (pid, child) in children where !child.stopsWhenReady.isEmpty
                && Self.now() >= child.startedAt + readyTimeoutSeconds {
                for old in child.stopsWhenReady { kill(old, SIGTERM) }
                children[pid]?.stopsWhenReady = []
            }

            var info = siginfo_t()
            var timeout = timespec(tv_sec: 1, tv_nsec: 0)
            switch sigtimedwait(&signals, &info, &timeout) {
            case SIGTERM, SIGINT:
                break serving
            case SIGHUP:
                logger.info("replacing every responder (SIGHUP)")
                for pid in Array(children.keys) where !children[pid]!.told {
                    let child = children[pid]!
                    children[pid]?.told = true
                    if child.replaced {
                        kill(pid, SIGTERM)  // retiring, its replacement already serving
                        continue
                    }
                    children[pid]?.replaced = true
                    let replacement = try start(&children, listener: listener)
                    if child.ready {
                        children[replacement]?.stopsWhenReady = [pid]
                    } else {
                        // Still starting (reloads in quick succession, or a responder of a release that never says
                        // it is ready): stopped at once, and what it was to stop waits for its replacement instead.
                        children[pid]?.stopsWhenReady = []
                        children[replacement]?.stopsWhenReady = child.stopsWhenReady
                        kill(pid, SIGTERM)
                    }
                }
            case SIGUSR1:  // a responder nearing its budget: its replacement starts now
                let pid = info._sifields._kill.si_pid
                if children[pid]?.replaced == false {
                    children[pid]?.replaced = true
                    try start(&children, listener: listener)
                }
            case SIGUSR2:  // a responder is ready: those it replaces may stop
                let pid = info._sifields._kill.si_pid
                if let child = children[pid] {
                    children[pid]?.ready = true
                    children[pid]?.stopsWhenReady = []
                    for old in child.stopsWhenReady { kill(old, SIGTERM) }
                }
            default:
                continue  // SIGCHLD (reaped above), or the timeout (deadlines above)
            }
        }
        stop(children: Array(children.keys))
    }

    @discardableResult
    private func start(_ children: inout [pid_t: Child], listener: UnixListener) throws -> pid_t {
        let pid = try spawnResponder(listener: listener)
        children[pid] = Child(startedAt: Self.now())
        return pid
    }

    private func stop(children: [pid_t]) {
        logger.info("pool stopping", metadata: ["group": "\(group.rawValue)", "responders": "\(children.count)"])
        var alive = Set(children)
        for pid in alive { kill(pid, SIGTERM) }
        let deadline = Self.now() + stopGraceSeconds
        while !alive.isEmpty && Self.now() < deadline {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid > 0 { alive.remove(pid) } else { usleep(20_000) }
        }
        for pid in alive {
            logger.warning("responder did not stop in time; killing it", metadata: ["pid": "\(pid)"])
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        logger.info("pool stopped", metadata: ["group": "\(group.rawValue)"])
    }

    /// Starts this same executable in responder mode with the socket as fd 0.
    private func spawnResponder(listener: UnixListener) throws -> pid_t {
        let executable = try Self.currentExecutable()
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, listener.descriptor, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Children start with default signal handling and nothing blocked, whatever the supervisor installed and
        // blocks.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in Self.handled + [SIGPIPE] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        posix_spawnattr_setsigmask(&attributes, &unblocked)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let arguments = [executable, "respond", "--group", group.rawValue]
        var environment = Environment.process.values
        environment["HUBCHAT_FCGI_GROUP"] = group.rawValue
        environment["HUBCHAT_POOL_PID"] = String(getpid())
        // This supervisor takes a retiring responder's SIGUSR1 and a ready one's SIGUSR2. One of an earlier release
        // (still running after a reload onto this binary) would die of them, so responders send them only when this
        // says so.
        environment["HUBCHAT_POOL_NOTICES"] = "SIGUSR1 SIGUSR2"
        let envStrings = environment.map { "\($0.key)=\($0.value)" }

        var pid: pid_t = 0
        let rc = CStringArray.with(arguments) { argv in
            CStringArray.with(envStrings) { envp in
                posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            }
        }
        guard rc == 0 else { throw SystemCallFailure(call: "posix_spawn", code: rc) }
        return pid
    }

    /// The path this process was started by, when absolute (e.g. /opt/hubchat/current/bin/hubchat-fcgi): after an
    /// upgrade replaces the release behind that path, responders respawned on SIGHUP run the new binary. Otherwise
    /// the running image (/proc/self/exe), which an in-place replacement would leave dangling.
    static func currentExecutable() throws -> String {
        if let started = CommandLine.arguments.first, started.hasPrefix("/"), access(started, X_OK) == 0 { return started }
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { throw SystemCallFailure(call: "readlink /proc/self/exe", code: errno) }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func describe(_ status: Int32) -> String {
        let signal = status & 0x7f
        if signal == 0 { return "exit \((status >> 8) & 0xff)" }
        return "signal \(signal)"
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

struct SystemCallFailure: Error, CustomStringConvertible {
    let call: String
    let code: Int32
    var description: String { "\(call) failed: \(String(cString: strerror(code)))" }
}

/// NULL-terminated `char *[]` for exec-style calls.
enum CStringArray {
    static func with<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { pointers.forEach { free($0) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}
