import FoundationEssentials

extension LineWebhook {
    /// One stored LINE event → message, activity or ignored. Message events of every type become a
    /// message (an unknown type is UNSUPPORTED with a placeholder, so that nothing a customer sent
    /// disappears); follow, unfollow, join, leave, memberJoined, memberLeft and postback are activities; unsend
    /// takes a message back; everything else (videoPlayComplete, beacon, …) is ignored. Throws only when the text is
    /// not a JSON object.
    public static func normalize(eventJSON: String) throws -> InboundNormalization {
        let event = try WebhookSupport.parseEvent(eventJSON)
        let type = WebhookSupport.text(event["type"]) ?? ""
        guard let source = Source(event["source"]) else {
            return .ignored(reason: "LINE \(type.isEmpty ? "event" : type) without a source id")
        }
        let occurredAt = WebhookSupport.date(epoch: event["timestamp"]) ?? Date()

        switch type {
        case "message":
            return message(event, source: source, occurredAt: occurredAt)
        case "unsend":
            guard let id = WebhookSupport.text(event["unsend"]?["messageId"]) else {
                return .ignored(reason: "LINE unsend without a message id")
            }
            return .revised(InboundRevision(channel: .line, externalUserID: source.userID, providerMessageID: id,
                                            change: .unsent, occurredAt: occurredAt))
        case "follow", "unfollow", "join", "leave", "postback", "memberJoined", "memberLeft":
            return .activity(activity(type, event, source: source, occurredAt: occurredAt))
        default:
            return .ignored(reason: "LINE event type \(type.isEmpty ? "(none)" : type) is not handled")
        }
    }

    /// Who the customer is and which conversation the event belongs to. A group or room chat is one customer
    /// of its own: its id is the party (one lead, one conversation, the bot's joins and leaves on that lead), and
    /// the member who spoke is kept as `senderUserId` (LINE leaves it out for members it does not identify).
    /// Filing a group under whichever member spoke first would hide the others' messages in someone's lead.
    struct Source {
        let type: String
        let userID: String
        let threadID: String
        var detail: [String: String]

        init?(_ value: JSONValue?) {
            let member = WebhookSupport.text(value?["userId"])
            let type = WebhookSupport.text(value?["type"]) ?? "user"
            var detail = ["sourceType": type]
            let chat: String?
            switch type {
            case "group":
                chat = WebhookSupport.text(value?["groupId"])
                detail["groupId"] = chat
            case "room":
                chat = WebhookSupport.text(value?["roomId"])
                detail["roomId"] = chat
            default:
                chat = nil
            }
            if chat != nil { detail["senderUserId"] = member }
            guard let party = chat ?? member else { return nil }
            self.type = type
            self.userID = party
            self.threadID = party
            self.detail = detail
        }
    }

    static func message(_ event: JSONValue, source: Source, occurredAt: Date) -> InboundNormalization {
        let message = event["message"] ?? .null
        let messageType = WebhookSupport.text(message["type"]) ?? "unknown"
        let messageID = WebhookSupport.text(message["id"]) ?? eventID(event)
        var metadata = source.detail
        metadata["lineMessageType"] = messageType
        metadata["quoteToken"] = WebhookSupport.text(message["quoteToken"])
        metadata["quotedMessageId"] = WebhookSupport.text(message["quotedMessageId"])
        if event["deliveryContext"]?["isRedelivery"]?.boolValue == true { metadata["isRedelivery"] = "true" }
        // Standby: another channel of a module controls the chat; the message is kept, as Meta's standby ones are.
        if WebhookSupport.text(event["mode"]) == "standby" { metadata["standby"] = "true" }
        var occurredAt = occurredAt

        var kind = InboundMessageType.unsupported
        var text = "[Unsupported message: \(messageType)]"
        var contentID: String?
        var mediaURL: String?

        switch messageType {
        case "text":
            kind = InboundMessageType.text
            text = WebhookSupport.text(message["text"]).map { withEmojiNamed($0, message["emojis"], &metadata) } ?? "[Text]"
        case "image", "video", "audio", "file":
            (kind, text) = mediaPlaceholder(messageType, message)
            // Content a user sent through LINE is fetched from the content API; "external" content
            // (sent through LINE's own integrations) lives at the given URL instead.
            let provider = message["contentProvider"]
            if WebhookSupport.text(provider?["type"]) == "external" {
                mediaURL = WebhookSupport.httpsURL(provider?["originalContentUrl"])
                metadata["previewImageUrl"] = WebhookSupport.httpsURL(provider?["previewImageUrl"])
            } else {
                contentID = messageID
            }
            metadata["fileName"] = WebhookSupport.text(message["fileName"])
            metadata["fileSize"] = WebhookSupport.scalarText(message["fileSize"])
            metadata["duration"] = WebhookSupport.scalarText(message["duration"])
            metadata["imageSetId"] = WebhookSupport.text(message["imageSet"]?["id"])
            metadata["imageSetIndex"] = WebhookSupport.scalarText(message["imageSet"]?["index"])
            metadata["imageSetTotal"] = WebhookSupport.scalarText(message["imageSet"]?["total"])
            // The images of one set share their send time: the set's own order, in microseconds below LINE's
            // milliseconds, keeps the thread in the order they were sent.
            if let index = message["imageSet"]?["index"]?.doubleValue, index >= 1, index < 1000 {
                occurredAt = occurredAt.addingTimeInterval(index.rounded(.down) / 1_000_000)
            }
        case "location":
            kind = InboundMessageType.location
            let place = [message["title"], message["address"]].compactMap { WebhookSupport.text($0) }
            let latitude = WebhookSupport.scalarText(message["latitude"])
            let longitude = WebhookSupport.scalarText(message["longitude"])
            if !place.isEmpty {
                text = "[Location] " + place.joined(separator: ", ")
            } else if let latitude, let longitude {
                text = "[Location] \(latitude),\(longitude)"
            } else {
                text = "[Location]"
            }
            metadata["latitude"] = latitude
            metadata["longitude"] = longitude
            metadata["title"] = WebhookSupport.text(message["title"])
            metadata["address"] = WebhookSupport.text(message["address"])
        case "sticker":
            kind = InboundMessageType.sticker
            // Message stickers carry the words the user typed on them.
            text = WebhookSupport.text(message["text"]).map { "[Sticker] " + $0 } ?? "[Sticker]"
            metadata["packageId"] = WebhookSupport.scalarText(message["packageId"])
            metadata["stickerId"] = WebhookSupport.scalarText(message["stickerId"])
            metadata["stickerResourceType"] = WebhookSupport.text(message["stickerResourceType"])
            let keywords = (message["keywords"]?.arrayValue ?? []).compactMap(\.stringValue)
            if !keywords.isEmpty { metadata["keywords"] = keywords.joined(separator: ",") }
        default:
            break
        }

        return .message(InboundMessage(
            channel: .line, externalUserID: source.userID, threadID: source.threadID, providerMessageID: messageID,
            messageType: kind, text: text, mediaURL: mediaURL, lineContentMessageID: contentID,
            occurredAt: occurredAt, replyToken: WebhookSupport.text(event["replyToken"]), metadata: metadata))
    }

    /// LINE writes each LINE emoji as a `$` in the text, at the UTF-16 `index` its `emojis` entry gives. A bare `$`
    /// in an inbox reads like a price, so each becomes "(emoji)"; the emoji ids stay in `lineEmojis`
    /// (`productId/emojiId`, comma-separated). A `$` the customer typed has no entry and stays.
    static func withEmojiNamed(_ text: String, _ emojis: JSONValue?, _ metadata: inout [String: String]) -> String {
        guard let entries = emojis?.arrayValue, !entries.isEmpty else { return text }
        let units = Array(text.utf16)
        var placeholders: [(Int, Int)] = []
        for entry in entries {
            guard let index = entry["index"]?.doubleValue.map(Int.init), let length = entry["length"]?.doubleValue.map(Int.init),
                  index >= 0, length > 0, index + length <= units.count,
                  String(decoding: units[index..<(index + length)], as: UTF16.self).allSatisfy({ $0 == "$" }) else { continue }
            placeholders.append((index, length))
        }
        let ids = entries.compactMap { entry -> String? in
            guard let product = WebhookSupport.text(entry["productId"]), let emoji = WebhookSupport.text(entry["emojiId"]) else { return nil }
            return product + "/" + emoji
        }
        if !ids.isEmpty { metadata["lineEmojis"] = ids.joined(separator: ",") }
        var out: [UInt16] = []
        var position = 0
        for (index, length) in placeholders.sorted(by: { $0.0 < $1.0 }) where index >= position {
            out += units[position..<index]
            out += Array("(emoji)".utf16)
            position = index + length
        }
        out += units[position...]
        return String(decoding: out, as: UTF16.self)
    }

    private static func mediaPlaceholder(_ type: String, _ message: JSONValue) -> (String, String) {
        switch type {
        case "image": return (InboundMessageType.image, "[Image]")
        case "video": return (InboundMessageType.video, "[Video]")
        case "audio": return (InboundMessageType.audio, "[Audio]")
        default:
            let name = WebhookSupport.text(message["fileName"])
            return (InboundMessageType.file, name.map { "[File] " + $0 } ?? "[File]")
        }
    }

    static func activity(_ type: String, _ event: JSONValue, source: Source, occurredAt: Date) -> InboundActivity {
        var detail = source.detail
        detail["replyToken"] = WebhookSupport.text(event["replyToken"])
        switch type {
        case "follow":
            if let unblocked = event["follow"]?["isUnblocked"]?.boolValue { detail["isUnblocked"] = String(unblocked) }
        case "memberJoined", "memberLeft":
            let members = (event[type == "memberJoined" ? "joined" : "left"]?["members"]?.arrayValue ?? [])
                .compactMap { WebhookSupport.text($0["userId"]) }
            if !members.isEmpty { detail["memberUserIds"] = members.joined(separator: ",") }
        case "postback":
            detail["data"] = WebhookSupport.scalarText(event["postback"]?["data"])
            // Datetime pickers and rich menu switches add params (date, time, datetime, newRichMenuAliasId, status).
            for (key, value) in event["postback"]?["params"]?.objectValue ?? [:] {
                detail["params." + key] = WebhookSupport.scalarText(value)
            }
        default:
            break
        }
        let kind = ["memberJoined": "MEMBER_JOINED", "memberLeft": "MEMBER_LEFT"][type] ?? type.uppercased()
        return InboundActivity(channel: .line, externalUserID: source.userID, kind: kind,
                               occurredAt: occurredAt, detail: detail)
    }
}
