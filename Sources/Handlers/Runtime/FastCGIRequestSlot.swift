import CFastCGI
#if canImport(Glibc)
import Glibc
#endif

/// The one place that touches libfcgi: accepts a request on the listening socket, reads its
/// parameters and body, writes the answer. Pointers stay inside this type.
final class FastCGIRequestSlot {
    enum AcceptOutcome { case request, stopping, again }

    struct Failure: Error, CustomStringConvertible {
        let operation: String
        let code: Int32
        var description: String { "\(operation) failed (\(code))" }
    }

    private let request: UnsafeMutablePointer<FCGX_Request>
    /// A connection this slot accepted while a request was arriving on its kept one: served next.
    private var accepted: Int32 = -1

    /// `listeningSocket` is 0 when the supervisor handed the socket over as standard input,
    /// the FastCGI convention. It is non-blocking (`ResponderProcess` makes it so): every responder thread waits
    /// for it in `poll`, beside the stop event, and the one that loses the race for a connection polls again.
    init(listeningSocket: Int32) throws {
        guard FCGX_Init() == 0 else { throw Failure(operation: "FCGX_Init", code: -1) }
        request = .allocate(capacity: 1)
        let rc = FCGX_InitRequest(request, listeningSocket, 0)
        guard rc == 0 else { throw Failure(operation: "FCGX_InitRequest", code: rc) }
    }

    deinit {
        if accepted >= 0 { close(accepted) }
        FCGX_Free(request, 1)
        request.deallocate()
    }

    /// Blocks until the next request arrives (`.request`) or `stopEvent` is signalled (`.stopping`); `.again` when
    /// another thread or process took the connection, or a signal interrupted the wait.
    ///
    /// A kept (keepalive) connection pins this responder: libfcgi would block reading it while new connections
    /// wait unserved in the socket's backlog, which stalls requests for as long as nginx leaves the connection idle
    /// in its cache. So while idle, wait on both; when a new connection is waiting and the kept one is quiet, close
    /// the kept one (nginx drops it from its cache, or retries on a fresh connection when it finds it closed) and go
    /// take the new one. A request already on the kept connection is served even when stopping: nginx would not
    /// retry a POST it had sent.
    ///
    /// Every idle responder wakes for a new connection, and only one can have it: a responder holding a kept
    /// connection takes the new one first and gives up its kept one only once it has. (Closing first, as every woken
    /// responder did, emptied nginx's cache of connections it still wanted: under load, connection resets and retried
    /// requests by the hundred a minute.)
    func accept(stopEvent: Int32) throws -> AcceptOutcome {
        let hangUp = Int16(0x2000)  // POLLRDHUP
        let kept = request.pointee.ipcFd
        if accepted >= 0 {
            if kept >= 0 && state(of: kept) == .request { return try acceptOrAgain() }  // its request first
            if kept >= 0 { close(kept) }
            return try adopt()
        }
        var fds = [pollfd(fd: stopEvent, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: request.pointee.listen_sock, events: Int16(POLLIN), revents: 0),
                   pollfd(fd: kept, events: Int16(POLLIN) | hangUp, revents: 0)]
        let ready = poll(&fds, kept >= 0 ? 3 : 2, -1)
        if ready < 0 {
            if errno == EINTR { return .again }
            throw Failure(operation: "poll", code: errno)
        }
        if kept >= 0 && fds[2].revents != 0 { return try acceptOrAgain() }  // a request (or nginx's close) on it
        if fds[0].revents != 0 { return .stopping }
        guard kept >= 0 else { return try acceptOrAgain() }
        let connection = Glibc.accept(request.pointee.listen_sock, nil, nil)
        if connection < 0 {
            // Another responder took it, or it went away before it was taken (the errors libfcgi's accept retries).
            if [EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO, ECONNRESET, ETIMEDOUT, EHOSTUNREACH, ENETUNREACH]
                .contains(errno) { return .again }
            throw Failure(operation: "accept", code: errno)
        }
        _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
        accepted = connection
        // Look once more before closing the kept one: a request that nginx wrote on it meanwhile is served first (the
        // new connection waits for the next call). Closed here, not by libfcgi, whose close lingers up to 2 s for the
        // peer's EOF on a connection known to be quiet.
        if state(of: kept) == .request { return try acceptOrAgain() }
        close(kept)
        return try adopt()
    }

    private enum ConnectionState { case quiet, request, closed }

    /// Whether a kept connection has a request to read, was closed by nginx, or neither, without reading it.
    private func state(of connection: Int32) -> ConnectionState {
        var byte: UInt8 = 0
        let peeked = recv(connection, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if peeked > 0 { return .request }
        if peeked == 0 { return .closed }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? .quiet : .closed
    }

    /// Whether a connection accepted here still waits to be served (a responder serves it before it stops: nginx
    /// has sent its request, and would not retry a POST).
    var holdsAcceptedConnection: Bool { accepted >= 0 }

    /// Reads the next request from the connection accepted above (nginx writes its request as soon as it connects; a
    /// peer that stays silent for 2 s is dropped, as libfcgi's own accept does, so that it cannot hold a stop).
    private func adopt() throws -> AcceptOutcome {
        let connection = accepted
        accepted = -1
        var first = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
        guard poll(&first, 1, 2_000) > 0 else {
            close(connection)
            return .again
        }
        request.pointee.ipcFd = connection
        // FCGX_Accept_r first finishes the previous request, closing its connection unless it was to be kept: the
        // adopted one must stay open. The request read next sets the flag from nginx's own.
        request.pointee.keepConnection = 1
        return try acceptOrAgain()
    }

    private func acceptOrAgain() throws -> AcceptOutcome {
        let rc = FCGX_Accept_r(request)
        if rc >= 0 { return .request }
        if -rc == EINTR || -rc == EAGAIN || -rc == EWOULDBLOCK { return .again }
        throw Failure(operation: "FCGX_Accept_r", code: rc)
    }

    /// All parameters nginx passed (CGI variables and `HTTP_*` headers), copied out. Split on the bytes (every
    /// request passes about thirty of these, and walking them as Characters cost a tenth of a webhook's CPU).
    func parameters() -> [String: String] {
        var out: [String: String] = [:]
        guard var p = request.pointee.envp else { return out }
        while let entry = p.pointee {
            let length = strlen(entry)
            entry.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
                let text = UnsafeBufferPointer(start: bytes, count: length)
                guard let eq = text.firstIndex(of: UInt8(ascii: "=")) else { return }
                out[String(decoding: UnsafeBufferPointer(rebasing: text[..<eq]), as: UTF8.self)] =
                    String(decoding: UnsafeBufferPointer(rebasing: text[(eq + 1)...]), as: UTF8.self)
            }
            p += 1
        }
        return out
    }

    /// Reads exactly `length` bytes of body (nginx sends CONTENT_LENGTH and the full body).
    func readBody(length: Int) throws -> [UInt8] {
        guard length > 0 else { return [] }
        var body = [UInt8](repeating: 0, count: length)
        let read = body.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: length) { p in
                FCGX_GetStr(p, Int32(length), request.pointee.in)
            }
        }
        guard read == length else { throw Failure(operation: "reading the request body", code: read) }
        return body
    }

    /// Writes bytes to the response stream; false when nginx has gone away.
    @discardableResult
    func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return true }
        let written = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) { p in
                FCGX_PutStr(p, Int32(bytes.count), request.pointee.out)
            }
        }
        return written == Int32(bytes.count)
    }

    /// Ends the request: flushes, and closes the connection unless nginx asked to keep it.
    /// `closeConnection` closes it anyway; a responder about to exit uses it so that nginx
    /// does not keep a connection that no process will ever read again.
    func finish(closeConnection: Bool = false) {
        // keepConnection is below libfcgi's "don't use" line, but it is the only way to end a
        // kept connection cleanly; FCGX_Finish_r reads it to decide whether to close.
        if closeConnection { request.pointee.keepConnection = 0 }
        FCGX_Finish_r(request)
    }
}
