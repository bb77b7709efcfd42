import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One JSON object per line on standard error, so that journald, Docker or any log shipper
/// can index the ids (requestId, tenantId, conversationId, messageId, queueJobId,
/// outboxEventId) that follow a message end to end.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    private let label: String

    public init(label: String) { self.label = label }

    /// Installs this handler for every logger of the process, at the given level.
    public static func bootstrap(level: String) {
        let parsed = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = JSONLogHandler(label: label)
            handler.logLevel = parsed
            return handler
        }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        var merged = metadata
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        var out = "{\"ts\":\"\(Self.timestamp())\",\"level\":\"\(level.rawValue)\",\"logger\":"
        JSONText.appendString(label, to: &out)
        out += ",\"msg\":"
        JSONText.appendString(message.description, to: &out)
        for key in merged.keys.sorted() {
            out += ","
            JSONText.appendString(key, to: &out)
            out += ":"
            if LogRedaction.isSecret(key: key) {
                out += "\"[redacted]\""
            } else {
                Self.append(merged[key]!, to: &out)
            }
        }
        out += "}\n"
        // One write(2) per line keeps lines whole when several processes share the stream.
        var bytes = Array(out.utf8)
        bytes.withUnsafeMutableBytes { buffer in _ = write(2, buffer.baseAddress, buffer.count) }
    }

    private static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case .string(let s): JSONText.appendString(s, to: &out)
        case .stringConvertible(let c): JSONText.appendString(c.description, to: &out)
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                append(item, to: &out)
            }
            out += "]"
        case .dictionary(let dict):
            out += "{"
            for (i, key) in dict.keys.sorted().enumerated() {
                if i > 0 { out += "," }
                JSONText.appendString(key, to: &out)
                out += ":"
                if LogRedaction.isSecret(key: key) { out += "\"[redacted]\"" } else { append(dict[key]!, to: &out) }
            }
            out += "}"
        }
    }

    private static func timestamp() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let seconds = Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        return PostgresTimestamp.format(Date(timeIntervalSince1970: seconds))
    }
}

/// Keys whose values must never reach a log line, whatever code put them there.
public enum LogRedaction {
    static let markers = ["secret", "token", "password", "authorization", "signature", "credential", "apikey", "api_key"]

    public static func isSecret(key: String) -> Bool {
        let lower = key.lowercased()
        return markers.contains { lower.contains($0) }
    }
}

import FoundationEssentials
