import Crypto
import FoundationEssentials

/// The LINE Messaging API webhook: signature check, batch splitting, and normalization of one event
/// into the inbox's provider-neutral shape (see `LineWebhook+Normalize.swift`).
/// https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects
public enum LineWebhook {
    /// `x-line-signature` = base64(HMAC-SHA256(raw body, channel secret)). The comparison is
    /// swift-crypto's constant-time one. A missing, non-base64 or wrong-length header is false, and
    /// so is an empty secret (anyone can sign with an empty key).
    public static func verifySignature(body: [UInt8], signature: String?, channelSecret: String) -> Bool {
        guard let signature, !channelSecret.isEmpty,
              let mac = Data(base64Encoded: signature), mac.count == SHA256.byteCount
        else { return false }
        let key = SymmetricKey(data: Array(channelSecret.utf8))
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key)
    }

    /// Splits a webhook body into one record per event. An empty `events` array is valid (the
    /// console's verify ping). Throws `AppError` 400 `invalid_payload` for malformed JSON, a
    /// non-object, a missing `destination`, a missing or non-array `events`, or a non-object event.
    /// The bot's user id the delivery names, read by skimming (JSONSkim) rather than parsing: what the signature is
    /// checked against before the body is trusted. Nil when the body has no such member where expected.
    static func skimDestination(_ body: [UInt8]) -> String? {
        guard let root = JSONSkim.members(body, in: body.indices),
              let value = JSONSkim.member("destination", of: root),
              let parsed = try? JSONValue.parse(Array(body[value]))
        else { return nil }
        return WebhookSupport.text(parsed)
    }

    public static func parse(body: [UInt8]) throws -> (destination: String, events: [WebhookEventRecord]) {
        // Each event is stored as LINE sent it: its bytes, not a re-serialisation of the parsed value.
        let (root, spans) = try WebhookSupport.rootObject(body, spansOf: "events", invalid: invalid)
        guard let destination = WebhookSupport.text(root["destination"]) else {
            throw invalid("destination is missing or not a string.")
        }
        guard let events = root["events"]?.arrayValue else { throw invalid("events is missing or not an array.") }

        var records: [WebhookEventRecord] = []
        records.reserveCapacity(events.count)
        for (i, event) in events.enumerated() {
            guard case .object = event else { throw invalid("events[\(i)] is not an object.") }
            records.append(WebhookEventRecord(
                accountExternalID: destination,
                providerEventID: eventID(event),
                eventType: eventType(event),
                payload: spans.count == events.count && !hasSurrogateEscape(body[spans[i]])
                    ? String(decoding: body[spans[i]], as: UTF8.self) : event.serialized()))
        }
        return (destination, records)
    }

    /// Whether the text has a `\uD800`–`\uDFFF` escape. PostgreSQL's jsonb refuses a lone one (which would lose the
    /// whole delivery), while our parser reads it as U+FFFD: such an event is stored as the parser read it. (A
    /// well-formed pair or an escaped backslash before a `u` only costs that event the same fallback.)
    static func hasSurrogateEscape(_ bytes: ArraySlice<UInt8>) -> Bool {
        var i = bytes.startIndex
        while i + 3 < bytes.endIndex {
            if bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"), bytes[i + 2] | 0x20 == UInt8(ascii: "d") {
                let next = bytes[i + 3] | 0x20
                if (UInt8(ascii: "8")...UInt8(ascii: "9")).contains(next) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(next) {
                    return true
                }
            }
            i += 1
        }
        return false
    }

    /// `webhookEventId`; for payloads from before it existed, a hash of the event. The hash leaves
    /// out `deliveryContext`, the one member a redelivery changes.
    static func eventID(_ event: JSONValue) -> String {
        if let id = WebhookSupport.text(event["webhookEventId"]) { return id }
        guard case .object(var members) = event else { return WebhookSupport.hashID(event) }
        members["deliveryContext"] = nil
        return WebhookSupport.hashID(.object(members))
    }

    /// The event `type`, with the message type for messages: "message.text", "follow", ….
    static func eventType(_ event: JSONValue) -> String {
        let type = WebhookSupport.text(event["type"]) ?? "unknown"
        if type == "message" {
            return "message." + (WebhookSupport.text(event["message"]?["type"]) ?? "unknown")
        }
        return type
    }

    static func invalid(_ message: String) -> AppError {
        AppError.badRequest(message, code: "invalid_payload")
    }
}
