import FoundationEssentials

/// LINE's Messaging API for sending: push (with `X-Line-Retry-Key`, so a retried push can never send twice) and
/// reply (free, with the customer's short-lived reply token).
public struct LineMessagingClient {
    let http: any HTTPClient
    let baseURL: String
    let timeoutMilliseconds: Int

    public init(http: any HTTPClient, baseURL: String, timeoutMilliseconds: Int = 10_000) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// A reply either went out, or its token was refused (expired or used: push instead), or failed otherwise.
    public enum ReplyResult: Equatable {
        case sent(DeliveryResult)
        case tokenRefused
    }

    public func push(to recipient: String, messages: [JSONValue], retryKey: UUID, accessToken: String) -> DeliveryResult {
        let body: JSONValue = ["to": .string(recipient), "messages": .array(messages)]
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(
                method: "POST", url: baseURL + "/v2/bot/message/push",
                headers: [("Authorization", "Bearer " + accessToken), ("Content-Type", "application/json"),
                          ("X-Line-Retry-Key", retryKey.uuidString.lowercased())],
                body: Array(body.serialized().utf8), timeoutMilliseconds: timeoutMilliseconds))
        } catch {
            return .retry(reason: "LINE push: \(error)")
        }
        // A 409 for a repeated retry key means an earlier attempt was accepted: delivered, exactly once.
        if response.status == 409, let accepted = response.headers["x-line-accepted-request-id"] {
            return .delivered(providerMessageID: accepted)
        }
        return Self.classify(response, operation: "push")
    }

    public func reply(token: String, messages: [JSONValue], accessToken: String) -> ReplyResult {
        let body: JSONValue = ["replyToken": .string(token), "messages": .array(messages)]
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(
                method: "POST", url: baseURL + "/v2/bot/message/reply",
                headers: [("Authorization", "Bearer " + accessToken), ("Content-Type", "application/json")],
                body: Array(body.serialized().utf8), timeoutMilliseconds: timeoutMilliseconds))
        } catch HTTPClientError.notSent(let why) {
            // It never left: the next attempt pushes it (under its retry key), since the token is spent.
            return .sent(.retry(reason: "LINE reply not sent: \(why)"))
        } catch {
            // It may have reached the customer, and a reply has no retry key: sending it again (by push) could show
            // it twice. The agent is told instead, and decides.
            return .sent(.permanent(code: "line_reply_unconfirmed",
                                    reason: "LINE did not confirm the reply (\(error)); it may have reached the customer, "
                                        + "so it was not sent again. Check the chat before resending."))
        }
        if response.status == 400, (try? JSONValue.parse(response.body))?["message"]?.stringValue?
            .lowercased().contains("reply token") == true {
            return .tokenRefused
        }
        if response.status >= 500 {
            // LINE may have processed a request it answered with a 5xx, and a reply has no retry key: as with a
            // timeout, sending it again (by push, the token being spent) could show it twice.
            return .sent(.permanent(code: "line_reply_unconfirmed",
                                    reason: "LINE answered the reply with HTTP \(response.status); it may have reached the "
                                        + "customer, so it was not sent again. Check the chat before resending."))
        }
        return .sent(Self.classify(response, operation: "reply"))
    }

    static func classify(_ response: HTTPResponse, operation: String) -> DeliveryResult {
        let answer = try? JSONValue.parse(response.body)
        var message = answer?["message"]?.stringValue ?? "HTTP \(response.status)"
        // "The request body has 1 error(s)" says nothing on its own; LINE's details say which field and why.
        let details = (answer?["details"]?.arrayValue ?? []).prefix(5).compactMap { detail -> String? in
            guard let why = detail["message"]?.stringValue else { return nil }
            return detail["property"]?.stringValue.map { "\($0): \(why)" } ?? why
        }
        if !details.isEmpty { message += " (" + details.joined(separator: "; ") + ")" }
        switch response.status {
        case 200..<300:
            let sent = (try? JSONValue.parse(response.body))?["sentMessages"]?[0]?["id"]?.stringValue
            return .delivered(providerMessageID: sent ?? response.headers["x-line-request-id"])
        case 429:
            // LINE sends no Retry-After (honoured if it ever does); a 429 may also mean the month's quota is used up,
            // which the job's deferral budget turns into a dead letter eventually.
            let wait = response.headers["retry-after"].flatMap(Double.init).map { min(max($0, 1), 3600) } ?? 5
            return .rateLimited(seconds: wait, reason: "LINE \(operation): 429 \(message)")
        case 500...:
            return .retry(reason: "LINE \(operation): \(response.status) \(message)")
        default:
            return .permanent(code: "line_\(response.status)", reason: "LINE \(operation) refused: \(message)")
        }
    }

    /// The LINE messages for one outbound message: text; image (with its preview); a PDF as a button that opens
    /// the file (LINE has no file message). A caption goes first, in the same request.
    public static func messages(for d: OutboundDelivery, previewURL: String?) -> [JSONValue] {
        var out: [JSONValue] = []
        let caption = d.content.trimmingCharacters(in: .whitespacesAndNewlines)
        switch d.type {
        case .text:
            out.append(["type": "text", "text": .string(String(d.content.prefix(5000)))])
        case .image:
            if !caption.isEmpty { out.append(["type": "text", "text": .string(String(caption.prefix(5000)))]) }
            out.append(["type": "image", "originalContentUrl": .string(d.mediaURL ?? ""),
                        "previewImageUrl": .string(previewURL ?? d.previewURL ?? d.mediaURL ?? "")])
        case .documentPDF:
            if !caption.isEmpty { out.append(["type": "text", "text": .string(String(caption.prefix(5000)))]) }
            let name = d.fileName ?? "document.pdf"
            out.append([
                "type": "template", "altText": .string(String("📄 \(name)".prefix(400))),
                "template": [
                    "type": "buttons", "text": .string(String("📄 \(name)".prefix(160))),
                    "actions": [["type": "uri", "label": "Open PDF", "uri": .string(d.mediaURL ?? "")]],
                ],
            ])
        }
        return out
    }
}
