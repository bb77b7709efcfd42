import Core
import Crypto
import FoundationEssentials

/// Where the load goes and the secrets it signs with, from the environment: the original's `HUB_CHAT_*` names,
/// falling back to the development stack's `.run/stack.env` names.
struct LoadTarget {
    let baseURL: String
    let tenantID: String
    let accessToken: String?
    let lineSecret: String?
    let lineDestination: String?
    let metaSecret: String?
    let facebookPageID: String?
    let instagramAccountID: String?
    /// A conversation of your own to send to (HUB_CHAT_CONVERSATION_ID, HUB_CHAT_LEAD_ID, HUB_CHAT_CHANNEL): against
    /// real providers, sends to the run's invented customers would be refused.
    let sendTarget: (conversation: String, lead: String, channel: String)?

    init(environment env: Environment) throws {
        func value(_ names: String...) -> String? { names.lazy.compactMap { env.string($0) }.first }
        guard let base = value("HUB_CHAT_BASE_URL", "HUBCHAT_URL") else {
            throw LoadTestError("HUB_CHAT_BASE_URL is required (the HubChat base URL, e.g. https://inbox.example.com)")
        }
        guard let tenant = value("HUB_CHAT_TENANT_ID", "HUBCHAT_TENANT_ID") else {
            throw LoadTestError("HUB_CHAT_TENANT_ID is required")
        }
        baseURL = base.hasSuffix("/") ? String(base.dropLast()) : base
        tenantID = tenant
        accessToken = value("HUB_CHAT_ACCESS_TOKEN", "HUBCHAT_TOKEN")
        lineSecret = value("HUB_CHAT_LINE_CHANNEL_SECRET", "LINE_CHANNEL_SECRET")
        lineDestination = value("HUB_CHAT_LINE_DESTINATION", "LINE_DESTINATION")
        metaSecret = value("HUB_CHAT_META_APP_SECRET", "FACEBOOK_APP_SECRET", "META_APP_SECRET")
        facebookPageID = value("HUB_CHAT_FACEBOOK_PAGE_ID", "FACEBOOK_PAGE_ID")
        instagramAccountID = value("HUB_CHAT_INSTAGRAM_ACCOUNT_ID", "INSTAGRAM_ACCOUNT_ID")
        if let conversation = value("HUB_CHAT_CONVERSATION_ID"), let lead = value("HUB_CHAT_LEAD_ID") {
            sendTarget = (conversation, lead, value("HUB_CHAT_CHANNEL") ?? "LINE")
        } else {
            sendTarget = nil
        }
    }

    /// A signed webhook delivery: path, body, signature header.
    struct Delivery: Sendable {
        /// The provider's event id (LINE webhookEventId, Messenger mid, comment id): what the message is keyed by.
        let eventID: String
        let path: String
        let body: [UInt8]
        let header: (String, String)
        let channel: String
    }

    /// The i-th synthetic customer event of a run: LINE 60 %, Messenger 20 %, comments 10 %, Instagram 10 % (of the
    /// channels whose secrets are configured). 200 customers, so conversations repeat as in real traffic.
    func delivery(_ i: Int, run: String) -> Delivery? {
        let now = Int(Date().timeIntervalSince1970 * 1000)
        let customer = i % 200
        let text = "loadtest \(run) #\(i) สวัสดีครับ สนใจสินค้า"
        var kinds: [String] = []
        if lineSecret != nil, lineDestination != nil { kinds += Array(repeating: "line", count: 6) }
        if metaSecret != nil, let _ = facebookPageID { kinds += ["facebook", "facebook", "comment"] }
        if metaSecret != nil, instagramAccountID != nil { kinds += ["instagram"] }
        guard !kinds.isEmpty else { return nil }
        let quoted = JSONValue.string(text).serialized()
        switch kinds[i % kinds.count] {
        case "line":
            let user = "U" + Hex.encode(Array(SHA256.hash(data: Array("\(run)-\(customer)".utf8))).prefix(16))
            let body = #"{"destination":"\#(lineDestination!)","events":[{"type":"message","mode":"active","timestamp":\#(now),"webhookEventId":"LT\#(run)\#(i)","deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"\#(user)"},"replyToken":"lt\#(run)\#(i)","message":{"id":"\#(now)\#(i)","type":"text","text":\#(quoted)}}]}"#
            let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(lineSecret!.utf8)))
            return Delivery(eventID: "LT\(run)\(i)", path: "/api/webhook/line", body: Array(body.utf8),
                            header: ("x-line-signature", Data(mac).base64EncodedString()), channel: "LINE")
        case "facebook":
            let body = #"{"object":"page","entry":[{"id":"\#(facebookPageID!)","time":\#(now),"messaging":[{"sender":{"id":"69\#(run.prefix(6))\#(customer)"},"recipient":{"id":"\#(facebookPageID!)"},"timestamp":\#(now),"message":{"mid":"m_lt\#(run)\#(i)","text":\#(quoted)}}]}]}"#
            return metaDelivery("m_lt\(run)\(i)", "/api/webhook/facebook", body, channel: "FACEBOOK")
        case "comment":
            let body = #"{"object":"page","entry":[{"id":"\#(facebookPageID!)","time":\#(now),"changes":[{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"\#(facebookPageID!)_lt\#(run)\#(i)","post_id":"\#(facebookPageID!)_1001","from":{"id":"70\#(run.prefix(6))\#(customer)","name":"Load Test \#(customer)"},"message":\#(quoted),"created_time":\#(now / 1000)}}]}]}"#
            return metaDelivery("\(facebookPageID!)_lt\(run)\(i)", "/api/webhook/facebook", body, channel: "FACEBOOK")
        default:
            let body = #"{"object":"instagram","entry":[{"id":"\#(instagramAccountID!)","time":\#(now),"messaging":[{"sender":{"id":"178\#(run.prefix(6))\#(customer)"},"recipient":{"id":"\#(instagramAccountID!)"},"timestamp":\#(now),"message":{"mid":"ig_lt\#(run)\#(i)","text":\#(quoted)}}]}]}"#
            return metaDelivery("ig_lt\(run)\(i)", "/api/webhook/instagram", body, channel: "INSTAGRAM")
        }
    }

    func metaDelivery(_ eventID: String, _ path: String, _ body: String, channel: String) -> Delivery {
        let mac = HMAC<SHA256>.authenticationCode(for: Array(body.utf8), using: SymmetricKey(data: Array(metaSecret!.utf8)))
        return Delivery(eventID: eventID, path: path, body: Array(body.utf8), header: ("X-Hub-Signature-256", "sha256=" + Hex.encode(Array(mac))),
                        channel: channel)
    }
}

struct LoadTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
