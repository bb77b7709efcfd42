#if canImport(Glibc)
import Glibc
#endif

/// A listening unix socket for one pool, readable and writable by the nginx user.
final class UnixListener {
    let descriptor: Int32
    let path: String

    init(path: String, backlog: Int32) throws {
        self.path = path
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw SystemCallFailure(call: "socket path too long: \(path)", code: ENAMETOOLONG)
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SystemCallFailure(call: "socket", code: errno) }
        unlink(path)  // a stale socket from a previous run
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemCallFailure(call: "bind \(path)", code: code)
        }
        chmod(path, 0o666)
        guard listen(fd, backlog) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemCallFailure(call: "listen", code: code)
        }
        descriptor = fd
    }

    func close() {
        Glibc.close(descriptor)
        unlink(path)
    }
}
