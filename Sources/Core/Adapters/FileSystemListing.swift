#if canImport(Glibc)
import Glibc
#endif

/// Directory listing through POSIX, so that Core needs only FoundationEssentials.
enum FileSystemListing {
    struct Failure: Error, CustomStringConvertible {
        let path: String
        let code: Int32
        var description: String { "cannot list the directory \(path): \(String(cString: strerror(code))) (errno \(code))" }
    }

    static func files(in path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw Failure(path: path, code: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }
}
