import FoundationEssentials

extension MetaWebhook {
    /// A `changes[]` item. Only a new comment on a Facebook Page post is a message (a comment
    /// thread the agent answers by Private Reply), and an edited one says its new text; the page's own
    /// comments, removals, reactions, likes and posts are not leads. Instagram comments are not handled yet.
    static func change(_ event: JSONValue, channel: Channel, accountExternalID: String) -> InboundNormalization {
        let field = WebhookSupport.text(event["field"]) ?? "(none)"
        switch (channel, field) {
        case (.instagram, "comments"), (.instagram, "live_comments"):
            return .ignored(reason: "instagram comments not handled")
        case (.facebook, "feed"):
            return feed(event, accountExternalID: accountExternalID)
        default:
            return .ignored(reason: "\(channel.rawValue.lowercased()) change field \(field) is not handled")
        }
    }

    static func feed(_ event: JSONValue, accountExternalID: String) -> InboundNormalization {
        let value = event["value"] ?? .null
        let item = WebhookSupport.text(value["item"]) ?? "(none)"
        let verb = WebhookSupport.text(value["verb"]) ?? "(none)"
        guard item == "comment", verb == "add" || verb == "edited" else {
            return .ignored(reason: "feed \(item) \(verb) is not handled")
        }
        guard let commentID = value["comment_id"]?.idString, !commentID.isEmpty else {
            return .ignored(reason: "feed comment without a comment_id")
        }
        if verb == "edited" {
            // The comment says its new text, as an edited Messenger message does (Meta gives no edit count, so the
            // text decides). Removals are not taken back: the Page's own moderation removes comments too.
            guard let text = WebhookSupport.text(value["message"]), !text.isEmpty else {
                return .ignored(reason: "an edited comment without its text")
            }
            let author = value["from"]?["id"]?.idString
            if author == accountExternalID { return .ignored(reason: "the page's own comment") }
            return .revised(InboundRevision(
                channel: .facebook, externalUserID: author ?? InboundMessage.hiddenCommenterPrefix + commentID,
                providerMessageID: commentID, change: .edited(text: text, count: nil),
                occurredAt: occurredAt(value["created_time"], event)))
        }
        let commenter = value["from"]?["id"]?.idString.flatMap { $0.isEmpty ? nil : $0 }
        if commenter == accountExternalID {
            return .ignored(reason: "the page's own comment")
        }

        var metadata: [String: String] = [:]
        // Meta leaves `from` out when the app may not read who commented (until app review grants it Advanced Access
        // to user content). The comment is still answerable, since a Private Reply is addressed to the comment, so it
        // becomes a customer of its own, keyed by the comment; no profile can be looked up for it.
        let party = commenter ?? InboundMessage.hiddenCommenterPrefix + commentID
        if commenter == nil { metadata[InboundMessage.hiddenSenderKey] = "true" }
        let postID = value["post_id"]?.idString
        if let parent = value["parent_id"]?.idString, parent != postID {
            metadata["parentCommentId"] = parent  // a reply inside another comment's thread
        }
        metadata["postPermalink"] = WebhookSupport.httpsURL(value["post"]?["permalink_url"])

        let text = WebhookSupport.text(value["message"])
        var kind = InboundMessageType.text
        var placeholder = "[Comment]"
        // A comment can carry a photo (or a GIF/sticker rendered as one) instead of, or with, text.
        let photo = WebhookSupport.httpsURL(value["photo"])
        if photo != nil {
            kind = InboundMessageType.image
            placeholder = "[Image]"
        } else if let video = WebhookSupport.httpsURL(value["video"]) {
            metadata["videoUrl"] = video
        }

        return .message(InboundMessage(
            channel: .facebook, externalUserID: party, threadID: commentID, providerMessageID: commentID,
            messageType: kind, text: text ?? placeholder, mediaURL: photo,
            occurredAt: occurredAt(value["created_time"], event),
            senderDisplayName: WebhookSupport.text(value["from"]?["name"]) ?? (commenter == nil ? InboundMessage.hiddenCommenterName : nil),
            threadType: "FACEBOOK_COMMENT", facebookPageID: accountExternalID, facebookPostID: postID,
            facebookCommentID: commentID, needsCommentTextLookup: text == nil, metadata: metadata))
    }
}
