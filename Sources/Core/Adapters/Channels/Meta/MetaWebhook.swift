import Crypto
import FoundationEssentials

/// Meta webhooks (Facebook Page: Messenger and feed; Instagram messaging): signature check, verify
/// handshake, batch splitting, and normalization (see `MetaWebhook+Messaging.swift` and
/// `MetaWebhook+Feed.swift`). https://developers.facebook.com/docs/messenger-platform/webhooks
public enum MetaWebhook {
    /// The member `parse` adds to every record payload when the entry has a `time`: the only place
    /// the worker can find the entry's time, which a feed change without `created_time` falls back
    /// to. It is left out of `sha256:` ids because Meta restamps `entry.time` on a retry.
    public static let entryTimeKey = "_entry_time"
    /// Added to a stored `standby` item: the message reached HubChat while another app controls the thread.
    public static let standbyKey = "_standby"

    /// `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(raw body, app secret)>`, compared in constant
    /// time by swift-crypto. A missing header, another prefix (the legacy `sha1=`), non-hex or a
    /// wrong length is false, and so is an empty secret.
    public static func verifySignature(body: [UInt8], header: String?, appSecret: String) -> Bool {
        let prefix = "sha256="
        guard let header, !appSecret.isEmpty, header.hasPrefix(prefix),
              let mac = Hex.decode(String(header.dropFirst(prefix.count))), mac.count == SHA256.byteCount
        else { return false }
        let key = SymmetricKey(data: Array(appSecret.utf8))
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key)
    }

    /// The GET subscription handshake: the `hub.challenge` to echo when `hub.mode` is "subscribe"
    /// and `hub.verify_token` equals `expectedToken`; nil (answer 403) otherwise, and always when no
    /// token is configured. The tokens are compared through their SHA-256 digests, in constant time
    /// and without revealing the expected token's length.
    public static func verifyHandshake(query: [String: String], expectedToken: String) -> String? {
        guard !expectedToken.isEmpty, query["hub.mode"] == "subscribe",
              let token = query["hub.verify_token"], let challenge = query["hub.challenge"]
        else { return nil }
        let given = Array(SHA256.hash(data: Array(token.utf8)))
        let expected = Array(SHA256.hash(data: Array(expectedToken.utf8)))
        var difference: UInt8 = 0
        for i in 0..<given.count { difference |= given[i] ^ expected[i] }
        return difference == 0 ? challenge : nil
    }

    /// A webhook body cut into its events, with every account its entries name (the accounts whose secret must
    /// verify it, even when no entry carries an event HubChat records).
    public struct Batch: Sendable, Equatable {
        public let object: String
        public let events: [WebhookEventRecord]
        public let accounts: [String]
    }

    /// Splits a webhook body into one record per `entry[].messaging[]`, `entry[].standby[]` and
    /// `entry[].changes[]` item, keyed by the entry `id` (a string even when the JSON has a number).
    /// `standby` is the handover protocol's copy of a conversation another app controls (Page Inbox, a
    /// chatbot): its messages are the customer's all the same, so they are recorded, marked with
    /// `standbyKey`; a later `messaging` copy of the same `mid` collapses onto them.
    /// Throws `AppError` 400 `invalid_payload` for malformed JSON, a missing `object` or `entry`
    /// array, an entry without an id, or items that are not objects.
    /// The `object` and the entry ids a delivery names, read by skimming (JSONSkim) rather than parsing: whose
    /// secrets the signature is checked against before the body is trusted. Nil when the body is not shaped so.
    static func skimAccounts(_ body: [UInt8], upTo limit: Int = .max) -> (object: String, accounts: [String])? {
        guard let root = JSONSkim.members(body, in: body.indices),
              let objectRange = JSONSkim.member("object", of: root),
              let object = (try? JSONValue.parse(Array(body[objectRange]))).flatMap(WebhookSupport.text),
              let entryRange = JSONSkim.member("entry", of: root),
              let entries = JSONSkim.elements(body, in: entryRange)
        else { return nil }
        var accounts: Set<String> = []
        for entry in entries {
            guard let members = JSONSkim.members(body, in: entry), let idRange = JSONSkim.member("id", of: members),
                  let id = (try? JSONValue.parse(Array(body[idRange])))?.idString, !id.isEmpty
            else { return nil }
            accounts.insert(id)
            if accounts.count > limit { break }  // the caller refuses the delivery; no need to read on
        }
        return (object, accounts.sorted())
    }

    public static func parse(body: [UInt8]) throws -> Batch {
        let root = try WebhookSupport.rootObject(body, invalid: invalid)
        guard let object = WebhookSupport.text(root["object"]) else { throw invalid("object is missing or not a string.") }
        guard let entries = root["entry"]?.arrayValue else { throw invalid("entry is missing or not an array.") }

        var records: [WebhookEventRecord] = []
        var accounts: Set<String> = []
        for (e, entry) in entries.enumerated() {
            guard case .object = entry else { throw invalid("entry[\(e)] is not an object.") }
            guard let account = entry["id"]?.idString, !account.isEmpty else { throw invalid("entry[\(e)].id is missing.") }
            accounts.insert(account)
            let entryTime = entry["time"].flatMap { $0.doubleValue == nil ? nil : $0 }
            for member in ["messaging", "standby", "changes"] {
                guard let list = entry[member] else { continue }
                guard let items = list.arrayValue else { throw invalid("entry[\(e)].\(member) is not an array.") }
                for (i, item) in items.enumerated() {
                    guard case .object(var members) = item else {
                        throw invalid("entry[\(e)].\(member)[\(i)] is not an object.")
                    }
                    let isChange = member == "changes"
                    let id = isChange ? changeID(item) : messagingID(item)
                    var type = isChange ? changeType(item) : messagingType(item)
                    if let entryTime { members[entryTimeKey] = entryTime }
                    if member == "standby" {
                        members[standbyKey] = .bool(true)
                        type = "standby." + type.dropFirst("messaging.".count)
                    }
                    records.append(WebhookEventRecord(
                        accountExternalID: account, providerEventID: id, eventType: type,
                        payload: JSONValue.object(members).serialized()))
                }
            }
        }
        return Batch(object: object, events: records, accounts: accounts.sorted())
    }

    /// A message's (or echo's) `mid`; otherwise a hash of the item. Reactions carry the mid of the
    /// message reacted to, so they must not use it.
    static func messagingID(_ item: JSONValue) -> String {
        // A deletion carries the mid of the message it takes back: keyed apart, or it would collapse onto it.
        if let mid = WebhookSupport.text(item["message"]?["mid"]) {
            return item["message"]?["is_deleted"]?.boolValue == true ? "deleted:" + mid : mid
        }
        return WebhookSupport.hashID(withoutEntryTime(item))
    }

    /// `comment:<comment_id>` for a new comment (what the inbox keys comment threads on); otherwise
    /// a hash of the change. Edits, removals and reactions on a comment carry the same comment_id,
    /// and likes by two people on one post can share post_id, verb and created_time, so neither can
    /// be keyed on those ids without colliding.
    static func changeID(_ item: JSONValue) -> String {
        let value = item["value"]
        if WebhookSupport.text(item["field"]) == "feed", WebhookSupport.text(value?["item"]) == "comment",
           WebhookSupport.text(value?["verb"]) == "add", let comment = value?["comment_id"]?.idString, !comment.isEmpty {
            return "comment:" + comment
        }
        return WebhookSupport.hashID(withoutEntryTime(item))
    }

    /// The members of a messaging item that name its kind, in the order they are looked for.
    static let messagingKinds = [
        "message", "reaction", "read", "delivery", "postback", "referral", "optin", "account_linking",
        "policy_enforcement", "pass_thread_control", "take_thread_control", "request_thread_control",
    ]

    /// "messaging.message", "messaging.echo", "messaging.reaction", "messaging.read", ….
    static func messagingType(_ item: JSONValue) -> String {
        if let message = item["message"] {
            return message["is_echo"]?.boolValue == true ? "messaging.echo" : "messaging.message"
        }
        if let kind = messagingKinds.first(where: { item[$0] != nil }) { return "messaging." + kind }
        let others = (item.objectValue ?? [:]).keys
            .filter { !["sender", "recipient", "timestamp", entryTimeKey, standbyKey].contains($0) }.sorted()
        return "messaging." + (others.first ?? "unknown")
    }

    /// "changes.feed.comment.add", "changes.feed.reaction.add", "changes.comments", ….
    static func changeType(_ item: JSONValue) -> String {
        var type = "changes." + (WebhookSupport.text(item["field"]) ?? "unknown")
        if let kind = WebhookSupport.text(item["value"]?["item"]) { type += "." + kind }
        if let verb = WebhookSupport.text(item["value"]?["verb"]) { type += "." + verb }
        return type
    }

    static func withoutEntryTime(_ item: JSONValue) -> JSONValue {
        guard case .object(var members) = item else { return item }
        members[entryTimeKey] = nil
        return .object(members)
    }

    static func invalid(_ message: String) -> AppError {
        AppError.badRequest(message, code: "invalid_payload")
    }
}
