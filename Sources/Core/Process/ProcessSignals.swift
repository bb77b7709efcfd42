#if canImport(Glibc)
import Glibc
#endif

/// Process-wide flags set from signal handlers. Handlers are installed without SA_RESTART so
/// that a blocking call returns EINTR and the loop can look at the flags. (A pool's supervisor
/// takes its signals synchronously instead, with `sigtimedwait`.)
public enum ProcessSignals {
    nonisolated(unsafe) public static var stopRequested: sig_atomic_t = 0
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
