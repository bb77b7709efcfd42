import FoundationEssentials

/// Meta's Graph API for sending: Messenger and Instagram DMs, Private Replies to comments, public comment replies.
/// The page token travels in the Authorization header, never in a URL that could be logged.
public struct MetaSendClient {
    let http: any HTTPClient
    let baseURL: String
    let version: String
    let timeoutMilliseconds: Int

    public init(http: any HTTPClient, baseURL: String, version: String, timeoutMilliseconds: Int = 10_000) {
        self.http = http
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.version = version
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// Graph error codes that mean "slow down": application, user, page and call-rate throttling.
    static let throttleCodes: Set<Int> = [4, 17, 32, 613]
    /// A Private Reply to a comment that already has one.
    public static let alreadyRepliedCode = 10900

    /// `POST /{version}/{node}/messages`. `recipient` is `{"id": psid}` or `{"comment_id": id}`; the window decides
    /// between a standard response and the HUMAN_AGENT tag.
    public func sendMessage(node: String, recipient: JSONValue, message: JSONValue, window: MessagingWindow,
                            accessToken: String) -> (DeliveryResult, errorCode: Int?) {
        var body: [String: JSONValue] = ["recipient": recipient, "message": message]
        if recipient["comment_id"] == nil {
            if window == .humanAgent {
                body["messaging_type"] = "MESSAGE_TAG"
                body["tag"] = "HUMAN_AGENT"
            } else {
                body["messaging_type"] = "RESPONSE"
            }
        }
        let (result, code, _) = post("/\(version)/\(node)/messages", body: .object(body), accessToken: accessToken,
                                     idField: "message_id")
        return (result, code)
    }

    /// A Private Reply to a comment, and the Messenger id (PSID) of the commenter, which Meta answers with it: the
    /// only way to learn who a comment's author is in Messenger.
    public func sendPrivateReply(node: String, commentID: String, text: String, accessToken: String)
        -> (result: DeliveryResult, errorCode: Int?, recipientID: String?) {
        let body: JSONValue = ["recipient": ["comment_id": .string(commentID)], "message": ["text": .string(text)]]
        let (result, code, json) = post("/\(version)/\(node)/messages", body: body, accessToken: accessToken,
                                        idField: "message_id")
        return (result, code, json?["recipient_id"]?.idString.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// `POST /{version}/{comment-id}/comments`: a public reply under the comment.
    public func replyToComment(_ commentID: String, text: String, accessToken: String) -> (DeliveryResult, errorCode: Int?) {
        let (result, code, _) = post("/\(version)/\(commentID)/comments", body: ["message": .string(text)],
                                     accessToken: accessToken, idField: "id")
        return (result, code)
    }

    /// The outcome, Graph's error code, and the answer's JSON when it was a success.
    func post(_ path: String, body: JSONValue, accessToken: String, idField: String)
        -> (DeliveryResult, errorCode: Int?, answer: JSONValue?) {
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(
                method: "POST", url: baseURL + path,
                headers: [("Authorization", "Bearer " + accessToken), ("Content-Type", "application/json")],
                body: Array(body.serialized().utf8), timeoutMilliseconds: timeoutMilliseconds))
        } catch HTTPClientError.notSent(let why) {
            return (.retry(reason: "Graph \(path.split(separator: "/").last ?? "") not sent: \(why)"), nil, nil)
        } catch {
            // Meta may have delivered it, and the Send API has no idempotency key: sending it again could show it
            // twice. The agent is told instead, and decides.
            return (.permanent(code: "meta_send_unconfirmed",
                               reason: "Meta did not confirm the send (\(error)); it may have reached the customer, "
                                   + "so it was not sent again. Check the conversation before resending."), nil, nil)
        }
        let (result, code) = Self.classify(response, idField: idField)
        guard case .delivered = result else { return (result, code, nil) }
        return (result, code, try? JSONValue.parse(response.body))
    }

    static func classify(_ response: HTTPResponse, idField: String) -> (DeliveryResult, errorCode: Int?) {
        let json = try? JSONValue.parse(response.body)
        if (200..<300).contains(response.status) {
            return (.delivered(providerMessageID: json?[idField]?.stringValue), nil)
        }
        let error = json?["error"]
        let code = error?["code"]?.doubleValue.map { Int($0) }
        let message = error?["message"]?.stringValue ?? "HTTP \(response.status)"
        if response.status == 429 || code.map(throttleCodes.contains) == true {
            let retryAfter = response.headers["retry-after"].flatMap(Double.init) ?? 30
            return (.rateLimited(seconds: min(max(retryAfter, 1), 3600), reason: "Graph throttled: \(message)"), code)
        }
        if response.status >= 500 || code == 1 || code == 2 || error?["is_transient"]?.boolValue == true {
            return (.retry(reason: "Graph \(response.status): \(message)"), code)
        }
        return (.permanent(code: "meta_\(code.map(String.init) ?? String(response.status))", reason: "Graph refused: \(message)"), code)
    }
}
