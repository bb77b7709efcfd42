import FoundationEssentials

extension MetaWebhook {
    /// A `changes[]` item. Only a new comment on a Facebook Page post is a message (a comment
    /// thread the agent answers by Private Reply); the page's own comments, edits, removals,
    /// reactions, likes and posts are not leads. Instagram comments are not handled yet.
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
        guard item == "comment", verb == "add" else {
            return .ignored(reason: "feed \(item) \(verb) is not handled")
        }
        guard let commentID = value["comment_id"]?.idString, !commentID.isEmpty else {
            return .ignored(reason: "feed comment without a comment_id")
        }
        guard let commenter = value["from"]?["id"]?.idString, !commenter.isEmpty else {
            // Meta leaves `from` out when the app may not see who commented; there is no one to answer.
            return .ignored(reason: "feed comment without a commenter id")
        }
        if commenter == accountExternalID {
            return .ignored(reason: "the page's own comment")
        }

        var metadata: [String: String] = [:]
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
            channel: .facebook, externalUserID: commenter, threadID: commentID, providerMessageID: commentID,
            messageType: kind, text: text ?? placeholder, mediaURL: photo,
            occurredAt: occurredAt(value["created_time"], event),
            senderDisplayName: WebhookSupport.text(value["from"]?["name"]),
            threadType: "FACEBOOK_COMMENT", facebookPageID: accountExternalID, facebookPostID: postID,
            facebookCommentID: commentID, needsCommentTextLookup: text == nil, metadata: metadata))
    }
}
