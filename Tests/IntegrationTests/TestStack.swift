import Core
import Foundation
import XCTest

/// The stack that scripts/test started, as its stack.env describes it.
enum TestStack {
    static func value(_ name: String) throws -> String {
        guard let v = ProcessInfo.processInfo.environment[name], !v.isEmpty else {
            throw XCTSkip("\(name) is not set: integration tests run through ./scripts/test, which starts the stack")
        }
        return v
    }

    static var baseURL: String { get throws { try value("HUBCHAT_URL") } }
    static var runDir: String { get throws { try value("HUBCHAT_RUN_DIR") } }
    static var binDir: String { get throws { try value("HUBCHAT_BIN_DIR") } }
    static var scriptsDir: String { get throws { try value("HUBCHAT_STACK_SCRIPTS") } }
    static var schemaDir: String { get throws { try value("HUBCHAT_SCHEMA_DIR") } }

    static func connection(systemScope: Bool = true, statementTimeoutMilliseconds: Int = 5_000) throws -> PostgresConnection {
        try PostgresConnection(settings: .init(
            url: try value("DATABASE_URL"), applicationName: "hubchat-tests",
            statementTimeoutMilliseconds: statementTimeoutMilliseconds, systemScope: systemScope))
    }

    static func http(_ method: String = "GET", _ path: String, body: [UInt8] = [], headers: [(String, String)] = [])
        throws -> HTTPResponse
    {
        try CurlHTTPClient().send(HTTPRequest(method: method, url: try baseURL + path, headers: headers, body: body))
    }

    /// Runs scripts/ctl (pg-stop, pg-start, pg-restart) against this stack.
    static func control(_ command: String) throws {
        let child = try ChildProcess(try scriptsDir + "/ctl", [command])
        let status = child.wait()
        guard status == 0 else {
            throw NSError(domain: "ctl", code: Int(status), userInfo: [NSLocalizedDescriptionKey: "scripts/ctl \(command) failed"])
        }
    }

    /// Waits until `condition` holds, checking every 100 ms, for up to `seconds`.
    static func eventually(within seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    /// What the provider simulator has received, oldest first.
    static func simulatorRequests() throws -> [[String: Any]] {
        let response = try CurlHTTPClient().send(HTTPRequest(url: try value("SIMULATOR_URL") + "/__requests"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
    }

    /// Parses a JSON object body.
    static func json(_ response: HTTPResponse) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any],
                      "not a JSON object: \(response.text)")
    }

    /// Pids of the responders a pool's supervisor has started.
    static func responderPIDs(pool: String) throws -> Set<Int32> {
        let supervisor = try String(contentsOfFile: try runDir + "/pids/fcgi-\(pool).pid", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let children = (try? String(contentsOfFile: "/proc/\(supervisor)/task/\(supervisor)/children", encoding: .utf8)) ?? ""
        return Set(children.split(separator: " ").compactMap { Int32($0) })
    }
}

/// A child process through posix_spawn and waitpid. (Foundation's Process waits for the
/// child's inherited descriptors too, and PostgreSQL, started by scripts/ctl, keeps them.)
final class ChildProcess {
    let pid: pid_t
    private(set) var exitStatus: Int32?

    /// `environment`: variables set (or replaced) in the child's copy of this process's environment.
    init(_ executable: String, _ arguments: [String], quiet: Bool = true, environment: [String: String] = [:]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if quiet {
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var variables = ProcessInfo.processInfo.environment
        variables.merge(environment) { $1 }
        let envp = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard rc == 0 else { throw NSError(domain: "posix_spawn", code: Int(rc)) }
        self.pid = pid
    }

    /// Blocks until the child exits; its exit code, or 128 + signal.
    @discardableResult
    func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return record(status)
    }

    var isRunning: Bool {
        if exitStatus != nil { return false }
        var status: Int32 = 0
        if waitpid(pid, &status, WNOHANG) == pid { record(status); return false }
        return true
    }

    @discardableResult
    private func record(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        exitStatus = code
        return code
    }
}
