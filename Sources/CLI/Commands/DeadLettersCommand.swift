import ArgumentParser
import Core
import FoundationEssentials

struct DeadLettersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters", abstract: "List, inspect and replay queue jobs that were dead-lettered.",
        subcommands: [List.self, Show.self, Replay.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Newest first: id, tenant, topic, attempts, when, last error.")
        @Option(help: "Only this tenant.") var tenant: String?
        @Option(help: "Only this topic (e.g. message.outbound.requested).") var topic: String?
        @Option(help: "At most this many.") var limit: Int = 50

        func run() throws {
            let entries = try PostgresDeadLetters(connection: try operatorConnection())
                .list(tenantID: try tenant.map { try parseUUID($0, "--tenant") }, topic: topic, limit: max(1, min(limit, 10_000)))
            for e in entries {
                print([e.id.uuidString.lowercased(), e.tenantID.uuidString.lowercased(), e.topic, "attempts=\(e.attempts)",
                       "replays=\(e.replayCount)", PostgresTimestamp.format(e.deadLetteredAt),
                       (e.lastError ?? "").replacingOccurrences(of: "\n", with: " ").prefix(200).description]
                    .joined(separator: "\t"))
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One dead letter with its payload.")
        @Argument(help: "The job id.") var id: String

        func run() throws {
            guard let e = try PostgresDeadLetters(connection: try operatorConnection()).show(id: try parseUUID(id, "id")) else {
                throw ValidationError("no dead letter \(id)")
            }
            print("id:          \(e.id.uuidString.lowercased())\ntenant:      \(e.tenantID.uuidString.lowercased())")
            print("topic:       \(e.topic)\nattempts:    \(e.attempts)\nreplays:     \(e.replayCount)")
            print("dead since:  \(PostgresTimestamp.format(e.deadLetteredAt))\nlast error:  \(e.lastError ?? "-")")
            print("payload:     \(e.payload)")
        }
    }

    struct Replay: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put dead letters back in the queue with fresh attempts (outbound messages go back to QUEUED).")
        @Argument(help: "Job ids; none with --all.") var ids: [String] = []
        @Flag(help: "Every dead letter that matches --tenant and --topic.") var all = false
        @Option(help: "Only this tenant (with --all).") var tenant: String?
        @Option(help: "Only this topic (with --all).") var topic: String?

        func validate() throws {
            if ids.isEmpty && !all { throw ValidationError("name job ids, or pass --all") }
            if !ids.isEmpty && all { throw ValidationError("either job ids or --all, not both") }
        }

        func run() throws {
            let db = try operatorConnection()
            let replayed = try PostgresDeadLetters(connection: db).replay(
                ids: ids.isEmpty ? nil : try ids.map { try parseUUID($0, "id") },
                tenantID: try tenant.map { try parseUUID($0, "--tenant") }, topic: topic)
            PostgresWorkerWakeUp(connection: db).wake()
            print("replayed \(replayed.count)")
            for id in replayed { print(id.uuidString.lowercased()) }
            // Named jobs that were not replayed (unknown, or not dead-lettered): say so, and fail, so a script notices.
            let missing = try ids.map { try parseUUID($0, "id") }.filter { !replayed.contains($0) }
            if !missing.isEmpty {
                for id in missing { print("not a dead letter: \(id.uuidString.lowercased())") }
                throw ExitCode.failure
            }
        }
    }
}
