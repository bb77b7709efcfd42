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
/// is retiring, and (then, or on a reload) the old responder is told to stop only once its replacement says it is
/// ready (started, database sessions open), or `readyTimeoutSeconds` after the replacement started.
struct Supervisor {
    let group: RouteGroup
    let socketPath: String
    let processes: Int
    let logger: Logger
    /// How long a stopping responder may take before it is killed.
    var stopGraceSeconds: Double = 10
    /// How long a reload waits for a replacement's readiness before stopping the old responder anyway.
    var readyTimeoutSeconds: Double = 5

    /// A responder's notices to its pool: real-time signals, which queue with their sender's pid (a SIGUSR2 sent by
    /// eight responders ready at once would arrive as one). Sent only to a supervisor whose environment names them
    /// (`HUBCHAT_POOL_NOTICES`): one of an earlier release would die of them.
    static var readyNotice: Int32 { __libc_current_sigrtmin() + 1 }
    static var retiringNotice: Int32 { __libc_current_sigrtmin() + 2 }
    static let noticesName = "SIGRTMIN+1 SIGRTMIN+2"

    private struct Child {
        let startedAt: Double
        /// Its replacement was started ahead (a reload, or its retirement), and the pool stops it: its end starts no
        /// other and is no crash, whatever it died of (a responder told to stop before it installed its handlers dies
        /// of the signal itself).
        var replaced = false
        /// Said it is ready (or has been running for `readyTimeoutSeconds`): threads started, database sessions open.
        var ready = false
        /// The responders to stop once this one is ready: until then they go on serving.
        var stopsWhenReady: [pid_t] = []
    }

    /// A responder to start (after a crash back-off), and what it is to stop once ready.
    private struct PendingStart {
        let at: Double
        var stopsWhenReady: [pid_t]
    }

    /// The signals the pool acts on. They stay blocked and are taken with `sigtimedwait`, so none can slip in
    /// between looking for it and waiting (a SIGHUP just before a blocking `waitpid` went unseen until the next
    /// responder exited).
    private static var handled: [Int32] { [SIGTERM, SIGINT, SIGHUP, SIGCHLD, readyNotice, retiringNotice] }

    func run() throws {
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in Self.handled { sigaddset(&signals, signal) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        ProcessSignals.ignore(SIGPIPE)
        ProcessSignals.resetToDefault(SIGCHLD)  // inherited as ignored, the kernel would reap the responders itself
        // Room for a burst (every dashboard reconnecting at once after a network blip authorises its stream here):
        // the kernel caps it at net.core.somaxconn, 4096 on Debian 12. A full backlog refuses, and nginx answers 502.
        let listener = try UnixListener(path: socketPath, backlog: 4096)
        defer { listener.close() }
        logger.info("pool started", metadata: [
            "group": "\(group.rawValue)", "socket": "\(socketPath)", "processes": "\(processes)"])

        var children: [pid_t: Child] = [:]
        var pending: [PendingStart] = []
        var quickDeaths = 0
        for _ in 0..<processes { try start(&children, listener: listener) }

        serving: while true {
            // Responders that exited: each replaced (after a back-off if responders die young) unless its replacement
            // already runs. Nothing sleeps here: signals keep being taken while a back-off runs.
            var status: Int32 = 0
            while case let pid = waitpid(-1, &status, WNOHANG), pid > 0 {
                guard let child = children.removeValue(forKey: pid) else { continue }
                for other in Array(children.keys) { children[other]?.stopsWhenReady.removeAll { $0 == pid } }
                for index in pending.indices { pending[index].stopsWhenReady.removeAll { $0 == pid } }
                let lived = Self.now() - child.startedAt
                let exit = Self.describe(status)
                var delay = 0.0
                if exit == "exit 0" || child.replaced {
                    logger.debug("responder recycled", metadata: ["pid": "\(pid)"])
                    quickDeaths = 0
                } else {
                    logger.warning("responder died", metadata: ["pid": "\(pid)", "status": "\(exit)", "lived_s": "\(lived)"])
                    // A responder that dies at once (bad configuration, a crash on every request)
                    // must not turn the supervisor into a fork loop: back off, up to 5 s.
                    quickDeaths = lived < 1 ? quickDeaths + 1 : 0
                    if quickDeaths > 0 { delay = min(5, 0.1 * Double(1 << min(quickDeaths, 6))) }
                }
                // A replacement that died before it was ready leaves what it was to stop serving, for the next one
                // (so a release whose responders crash at start never stops the working ones).
                if !child.replaced {
                    pending.append(PendingStart(at: Self.now() + delay, stopsWhenReady: child.stopsWhenReady))
                } else if !child.stopsWhenReady.isEmpty {
                    handOver(child.stopsWhenReady, &children)
                }
            }
            let now = Self.now()
            let due = pending.filter { $0.at <= now }
            pending.removeAll { $0.at <= now }
            for start in due {
                let pid = try self.start(&children, listener: listener)
                children[pid]?.stopsWhenReady = start.stopsWhenReady
            }
            // Responders that never said they are ready (a release before the notices, or a notice lost): taken as
            // ready after the time limit, and what they were to stop is stopped.
            for (pid, child) in children where !child.ready && Self.now() >= child.startedAt + readyTimeoutSeconds {
                ready(pid, &children)
            }

            var info = siginfo_t()
            let wait = pending.map { $0.at - Self.now() }.min().map { max(0.01, min(1, $0)) } ?? 1
            var timeout = timespec(tv_sec: Int(wait), tv_nsec: Int((wait - Double(Int(wait))) * 1e9))
            let signal = sigtimedwait(&signals, &info, &timeout)
            let sender = info._sifields._kill.si_pid
            switch signal {
            case SIGTERM, SIGINT:
                break serving
            case SIGHUP:
                logger.info("replacing every responder (SIGHUP)")
                try reload(&children, listener: listener)
            case Self.retiringNotice:
                // A responder nearing its budget: its replacement starts now, and it stops once that one is ready
                // (or at its budget, if that comes first), so the pool is one responder larger only for a moment,
                // however slow the traffic.
                if children[sender]?.replaced == false {
                    children[sender]?.replaced = true
                    let replacement = try start(&children, listener: listener)
                    children[replacement]?.stopsWhenReady = [sender]
                }
            case Self.readyNotice:
                if children[sender] != nil { ready(sender, &children) }
            default:
                continue  // SIGCHLD (reaped above), or the timeout (back-offs and time limits above)
            }
        }
        stop(children: Array(children.keys))
    }

    /// Each responder not yet replaced gets a replacement, and goes on serving until that replacement is ready. One still
    /// starting (reloads in quick succession) is stopped at once, and what it was to stop waits for its replacement
    /// instead. (A retiring responder is replaced already: it stops when its own replacement is ready.)
    private func reload(_ children: inout [pid_t: Child], listener: UnixListener) throws {
        for pid in Array(children.keys) where !children[pid]!.replaced {
            let child = children[pid]!
            children[pid]?.replaced = true
            let replacement = try start(&children, listener: listener)
            if child.ready {
                children[replacement]?.stopsWhenReady = [pid]
            } else {
                children[pid]?.stopsWhenReady = []
                children[replacement]?.stopsWhenReady = child.stopsWhenReady
                kill(pid, SIGTERM)
            }
        }
    }

    /// Responders that were to stop when a replacement that is itself gone was ready: they stop now if one of the
    /// current responders is ready, or else when the first of them is.
    private func handOver(_ stops: [pid_t], _ children: inout [pid_t: Child]) {
        let current = children.filter { !$0.value.replaced }
        if current.contains(where: { $0.value.ready }) {
            for pid in stops { kill(pid, SIGTERM) }
        } else if let heir = current.keys.first {
            children[heir]?.stopsWhenReady += stops
        } else {
            for pid in stops { kill(pid, SIGTERM) }
        }
    }

    /// `pid` is ready: the responders it replaces stop (after the request in hand).
    private func ready(_ pid: pid_t, _ children: inout [pid_t: Child]) {
        guard let child = children[pid] else { return }
        children[pid]?.ready = true
        children[pid]?.stopsWhenReady = []
        for old in child.stopsWhenReady { kill(old, SIGTERM) }
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
        // This supervisor takes a responder's notices (`readyNotice`, `retiringNotice`). One of an earlier release
        // (still running after a reload onto this binary) would die of them, so responders send them only when this
        // says so.
        environment["HUBCHAT_POOL_NOTICES"] = Self.noticesName
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
