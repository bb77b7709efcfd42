#if canImport(Glibc)
import Glibc
#endif

/// Process-wide flags set from signal handlers. Handlers are installed without SA_RESTART so
/// that a blocking accept() or waitpid() returns EINTR and the loop can look at the flags.
public enum ProcessSignals {
    nonisolated(unsafe) public static var stopRequested: sig_atomic_t = 0
    nonisolated(unsafe) public static var reloadRequested: sig_atomic_t = 0
    /// A pipe's write end the stop handlers also write to, for threads that wait in `poll` (set before installing them).
    nonisolated(unsafe) public static var stopEventDescriptor: Int32 = -1

    public static func installStopHandlers() {
        install(SIGTERM) { _ in ProcessSignals.requestStop() }
        install(SIGINT) { _ in ProcessSignals.requestStop() }
        ignore(SIGPIPE)
    }

    /// Async-signal-safe: a flag and a one-byte write.
    public static func requestStop() {
        stopRequested = 1
        let fd = stopEventDescriptor
        guard fd >= 0 else { return }
        var one: UInt8 = 1
        _ = write(fd, &one, 1)
    }

    public static func installReloadHandler() {
        install(SIGHUP) { _ in ProcessSignals.reloadRequested = 1 }
    }

    /// The last process that sent SIGUSR1 (a responder saying it is retiring), 0 once taken. Two notices before the
    /// pool looks keep only the last; the other responder is then replaced when it exits, as without a notice.
    nonisolated(unsafe) public static var retiringProcess: sig_atomic_t = 0

    public static func installRetiringHandler() {
        var action = sigaction()
        action.__sigaction_handler.sa_sigaction = { _, info, _ in
            ProcessSignals.retiringProcess = info?.pointee._sifields._kill.si_pid ?? 0
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = SA_SIGINFO
        sigaction(SIGUSR1, &action, nil)
    }

    /// Takes the pending notice, if any.
    public static func takeRetiringProcess() -> pid_t? {
        let pid = retiringProcess
        guard pid != 0 else { return nil }
        retiringProcess = 0
        return pid
    }

    public static func install(_ signal: Int32, _ handler: @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signal, &action, nil)
    }

    public static func ignore(_ signal: Int32) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_IGN
        sigemptyset(&action.sa_mask)
        sigaction(signal, &action, nil)
    }

    public static func resetToDefault(_ signal: Int32) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = SIG_DFL
        sigemptyset(&action.sa_mask)
        sigaction(signal, &action, nil)
    }
}
