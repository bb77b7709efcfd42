import CFastCGI
import Core
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// `hubchat-fcgi serve --group webhooks|api --socket PATH [--processes N]` runs a pool;
/// the pool starts its responders as `hubchat-fcgi respond --group …` with the socket on fd 0.
@main
struct HubChatFCGI {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.first == "nginx-allow-map" {
            print(Router.nginxAllowMap(AllRoutes.list, variable: "hubchat_route_methods"), terminator: "")
            return
        }
        let environment = Environment.process
        let config: HubChatConfig
        do {
            config = try HubChatConfig(environment: environment)
        } catch {
            fail("configuration: \(error)")
        }
        JSONLogHandler.bootstrap(level: config.logLevel)
        var logger = Logger(label: "hubchat.fcgi")

        guard let command = arguments.first, ["serve", "respond"].contains(command),
              let groupName = option("--group", in: arguments), let group = RouteGroup(rawValue: groupName)
        else {
            fail("usage: hubchat-fcgi serve --group webhooks|api --socket PATH [--processes N]\n"
                 + "       hubchat-fcgi respond --group webhooks|api   (started by serve)\n"
                 + "       hubchat-fcgi nginx-allow-map                (the nginx map of each route's methods)")
        }
        logger[metadataKey: "group"] = .string(group.rawValue)
        logger[metadataKey: "pid"] = .stringConvertible(getpid())

        do {
            if command == "serve" {
                guard let socket = option("--socket", in: arguments) else { fail("serve needs --socket PATH") }
                let configured = group == .webhooks ? config.responders.webhookProcesses : config.responders.apiProcesses
                let processes = option("--processes", in: arguments).flatMap(Int.init) ?? configured
                try Supervisor(group: group, socketPath: socket, processes: max(1, processes), logger: logger).run()
            } else {
                // A responder never outlives its pool: were the supervisor killed, orphans would go on serving the
                // old socket with their database connections, beside the pool that replaces it. SIGTERM lets the
                // request in hand finish. (The pool may have died before this line: then its pid is not our parent.)
                _ = hubchat_signal_on_parent_death(SIGTERM)
                let pool = environment.values["HUBCHAT_POOL_PID"].flatMap(Int32.init)
                if let pool, pool != getppid() { exit(0) }
                let threads = group == .webhooks ? config.responders.webhookThreads : 1
                let noticed = environment.values["HUBCHAT_POOL_NOTICES"] == Supervisor.noticesName
                let served = try ResponderProcess(group: group, config: config, logger: logger, threads: threads,
                                                  pool: noticed ? pool : nil).run()
                logger.debug("responder exiting", metadata: ["served": "\(served)"])
            }
        } catch {
            logger.critical("stopped on error", metadata: ["error": "\(error)"])
            exit(1)
        }
    }

    static func option(_ name: String, in arguments: [String]) -> String? {
        guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count else { return nil }
        return arguments[i + 1]
    }

    static func fail(_ message: String) -> Never {
        var bytes = Array((message + "\n").utf8)
        bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
        exit(2)
    }
}
