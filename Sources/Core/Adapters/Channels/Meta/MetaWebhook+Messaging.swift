import FoundationEssentials

extension MetaWebhook {
    /// One stored Meta record → message, activity or ignored. `channel` is the webhook's (Facebook
    /// for `object: page`, Instagram for `object: instagram`); `accountExternalID` is the record's
    /// page or Instagram account id, which tells the account's own messages and comments apart from
    /// customers'. Throws only when the text is not a JSON object.
    public static func normalize(eventJSON: String, channel: Channel, accountExternalID: String) throws -> InboundNormalization {
        let event = try WebhookSupport.parseEvent(eventJSON)
        guard channel != .line else { return .ignored(reason: "LINE events are normalized by LineWebhook") }
        if event["field"] != nil {
            return change(event, channel: channel, accountExternalID: accountExternalID)
        }
        return messaging(event, channel: channel, accountExternalID: accountExternalID)
    }

    /// When the event happened: its own time (`timestamp` ms, `created_time` s), else the entry's.
    static func occurredAt(_ own: JSONValue?, _ event: JSONValue) -> Date {
        WebhookSupport.date(epoch: own) ?? WebhookSupport.date(epoch: event[entryTimeKey]) ?? Date()
    }

    static func messaging(_ event: JSONValue, channel: Channel, accountExternalID: String) -> InboundNormalization {
        let name = channel == .instagram ? "Instagram" : "Messenger"
        guard let message = event["message"] else {
            if let edit = event["message_edit"], let sender = event["sender"]?["id"]?.idString, sender != accountExternalID,
               let mid = WebhookSupport.text(edit["mid"]), let text = WebhookSupport.text(edit["text"]) {
                let count = WebhookSupport.scalarText(edit["num_edit"]).flatMap { Int($0) }
                return .revised(InboundRevision(channel: channel, externalUserID: sender, providerMessageID: mid,
                                                change: .edited(text: text, count: count),
                                                occurredAt: occurredAt(event["timestamp"], event)))
            }
            if event["postback"] != nil, let sender = event["sender"]?["id"]?.idString, sender != accountExternalID {
                return .activity(postback(event, channel: channel, sender: sender))
            }
            let kind = messagingType(event).dropFirst("messaging.".count)
            return .ignored(reason: "\(name) \(kind) events are not messages")
        }
        if message["is_echo"]?.boolValue == true {
            return .ignored(reason: "\(name) echo of a message the account sent")
        }
        // Chat-plugin visitors before login carry sender.user_ref instead of an id: no one to answer.
        guard let sender = event["sender"]?["id"]?.idString, !sender.isEmpty else {
            return .ignored(reason: "\(name) message without a sender id")
        }
        if sender == accountExternalID {
            return .ignored(reason: "\(name) message sent by the account itself")
        }
        if message["is_deleted"]?.boolValue == true {
            guard let mid = WebhookSupport.text(message["mid"]) else { return .ignored(reason: "\(name) unsend without a mid") }
            return .revised(InboundRevision(channel: channel, externalUserID: sender, providerMessageID: mid,
                                            change: .unsent, occurredAt: occurredAt(event["timestamp"], event)))
        }

        let mid = WebhookSupport.text(message["mid"]) ?? messagingID(event)
        var metadata: [String: String] = [:]
        if event[standbyKey]?.boolValue == true { metadata["standby"] = "true" }
        metadata["recipientId"] = event["recipient"]?["id"]?.idString
        metadata["quickReplyPayload"] = WebhookSupport.text(message["quick_reply"]?["payload"])
        metadata["replyToMid"] = WebhookSupport.text(message["reply_to"]?["mid"])
        metadata["replyToStoryUrl"] = WebhookSupport.httpsURL(message["reply_to"]?["story"]?["url"])

        let text = WebhookSupport.text(message["text"])
        var kind = InboundMessageType.text
        var content = text ?? "[Unsupported message]"
        var mediaURL: String?
        let attachments = message["attachments"]?.arrayValue ?? []
        let shared = metadata  // what every part of a message with several attachments carries
        if let first = attachments.first {
            let described = describe(attachment: first)
            // A text with a link preview (a `fallback` attachment) or a share is a text message with a link.
            kind = text != nil && described.kind == InboundMessageType.unsupported ? InboundMessageType.text : described.kind
            content = text ?? described.placeholder
            mediaURL = described.mediaURL
            metadata.merge(described.metadata) { current, _ in current }
            if attachments.count > 1 {
                metadata["attachmentCount"] = String(attachments.count)
                metadata["attachmentIndex"] = "1"
            }
        } else if text == nil {
            kind = InboundMessageType.unsupported
            if message["is_unsupported"]?.boolValue == true { metadata["providerUnsupported"] = "true" }
        }

        let first = InboundMessage(
            channel: channel, externalUserID: sender,
            threadID: channel == .instagram ? "ig:user:" + sender : sender,
            providerMessageID: mid, messageType: kind, text: content, mediaURL: mediaURL,
            occurredAt: occurredAt(event["timestamp"], event),
            threadType: channel == .facebook ? "MESSENGER_DM" : nil,
            facebookPageID: channel == .facebook ? accountExternalID : nil,
            metadata: metadata)
        guard attachments.count > 1 else { return .message(first) }
        // Three photos in one message are three images in the inbox, in the order sent.
        var parts = [first]
        for (index, attachment) in attachments.enumerated().dropFirst() {
            let described = describe(attachment: attachment)
            var part = first
            part.providerMessageID = "\(mid)#\(index + 1)"
            part.messageType = described.kind
            part.text = described.placeholder
            part.mediaURL = described.mediaURL
            part.occurredAt = first.occurredAt.addingTimeInterval(Double(index) / 1_000_000)
            part.metadata = shared.merging(described.metadata) { current, _ in current }
            part.metadata["attachmentCount"] = String(attachments.count)
            part.metadata["attachmentIndex"] = String(index + 1)
            part.metadata["partOf"] = mid
            parts.append(part)
        }
        return .messages(parts)
    }

    struct DescribedAttachment {
        var kind: String
        var placeholder: String
        var mediaURL: String?
        var metadata: [String: String]
    }

    /// Maps one Messenger/Instagram attachment to a message type and placeholder. Only an HTTPS
    /// `payload.url` of a media type becomes `mediaURL`; the inbox shows it to browsers as is.
    static func describe(attachment: JSONValue) -> DescribedAttachment {
        let type = WebhookSupport.text(attachment["type"]) ?? "unknown"
        let payload = attachment["payload"]
        let url = WebhookSupport.httpsURL(payload?["url"])
        var metadata = ["attachmentType": type]
        switch type {
        case "image", "animated_image":
            // Stickers (and the thumbs-up button) arrive as images with a sticker_id.
            if let sticker = WebhookSupport.scalarText(payload?["sticker_id"]) {
                metadata["stickerId"] = sticker
                return DescribedAttachment(kind: InboundMessageType.sticker, placeholder: "[Sticker]", mediaURL: url, metadata: metadata)
            }
            return DescribedAttachment(kind: InboundMessageType.image, placeholder: "[Image]", mediaURL: url, metadata: metadata)
        case "video":
            return DescribedAttachment(kind: InboundMessageType.video, placeholder: "[Video]", mediaURL: url, metadata: metadata)
        case "audio":
            return DescribedAttachment(kind: InboundMessageType.audio, placeholder: "[Audio]", mediaURL: url, metadata: metadata)
        case "file":
            let name = url.flatMap(fileName(fromURL:))
            metadata["fileName"] = name
            return DescribedAttachment(kind: InboundMessageType.file, placeholder: name.map { "[File] " + $0 } ?? "[File]",
                                       mediaURL: url, metadata: metadata)
        case "location":
            let lat = WebhookSupport.scalarText(payload?["coordinates"]?["lat"])
            let long = WebhookSupport.scalarText(payload?["coordinates"]?["long"])
            metadata["latitude"] = lat
            metadata["longitude"] = long
            let title = WebhookSupport.text(attachment["title"])
            let place = title ?? (lat != nil && long != nil ? "\(lat!),\(long!)" : nil)
            return DescribedAttachment(kind: InboundMessageType.location, placeholder: place.map { "[Location] " + $0 } ?? "[Location]",
                                       mediaURL: nil, metadata: metadata)
        default:
            // share, story_mention, ig_reel, reel, template, fallback, …: kept as a link in metadata.
            metadata["attachmentUrl"] = url ?? WebhookSupport.httpsURL(attachment["url"])
            metadata["attachmentTitle"] = WebhookSupport.text(attachment["title"]) ?? WebhookSupport.text(payload?["title"])
            return DescribedAttachment(kind: InboundMessageType.unsupported, placeholder: placeholder(forAttachmentType: type),
                                       mediaURL: nil, metadata: metadata)
        }
    }

    static func placeholder(forAttachmentType type: String) -> String {
        switch type {
        case "share": return "[Shared content]"
        case "story_mention": return "[Story mention]"
        case "ig_reel", "reel": return "[Reel]"
        case "fallback": return "[Link]"
        case "template": return "[Template]"
        default:
            let words = type.replacingOccurrences(of: "_", with: " ")
            return "[" + words.prefix(1).uppercased() + words.dropFirst() + "]"
        }
    }

    /// The last path segment of a CDN URL when it looks like a file name ("report.pdf").
    static func fileName(fromURL url: String) -> String? {
        let path = url.split(separator: "?", maxSplits: 1).first.map(String.init) ?? url
        guard let last = path.split(separator: "/").last, last.contains("."), !last.hasPrefix("."),
              path.dropFirst("https://".count).contains("/")
        else { return nil }
        let name = String(last).removingPercentEncoding ?? String(last)
        return name.isEmpty ? nil : name
    }

    static func postback(_ event: JSONValue, channel: Channel, sender: String) -> InboundActivity {
        var detail: [String: String] = [:]
        detail["title"] = WebhookSupport.text(event["postback"]?["title"])
        detail["payload"] = WebhookSupport.scalarText(event["postback"]?["payload"])
        detail["mid"] = WebhookSupport.text(event["postback"]?["mid"])
        return InboundActivity(channel: channel, externalUserID: sender, kind: "POSTBACK",
                               occurredAt: occurredAt(event["timestamp"], event), detail: detail)
    }
}
