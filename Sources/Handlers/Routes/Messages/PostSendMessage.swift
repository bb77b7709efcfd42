import Core
import FoundationEssentials

/// `POST /api/messages/send`: queues a text, image or PDF for a conversation and answers 202 at once; the worker
/// delivers it. With an `Idempotency-Key` header a retried request returns the same message and queues nothing.
struct PostSendMessage: Route {
    static let method = "POST"
    static let pattern = "/api/messages/send"
    static let group = RouteGroup.api

    static let fields: Set<String> = [
        "tenantId", "leadId", "conversationId", "channel", "type", "content", "mediaUrl", "previewUrl", "mimeType", "mime",
        "fileName", "fileSize", "fileSizeBytes", "width", "height", "facebookTargetType", "facebookTargetId",
        "channelThreadId",
    ]

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let caller = try context.caller(request)
        let body = try request.jsonObject(allowing: Self.fields)
        if let tenant = try body.uuid("tenantId"), tenant != caller.tenantID {
            throw AppError.invalidField("tenantId", "must equal the x-tenant-id header.")
        }
        let send = try Self.parse(body)
        let key = try Self.idempotencyKey(request)
        let (outcome, tenant) = try context.run(as: caller) { principal, db in
            (try context.sendMessage(db).run(principal, send, idempotencyKey: key), principal.tenantID)
        }
        var response = try Response.json(outcome.receipt, status: 202)
        if outcome.replayed {
            response.headers.append(("Idempotent-Replayed", "true"))
        } else {
            context.wakeWorker()
            context.realtime.publish(RealtimeEvent(
                type: "message.created", tenantID: tenant, conversationID: send.conversationID,
                messageID: UUID(uuidString: outcome.receipt.messageId), leadID: send.leadID, status: "QUEUED"))
        }
        return response
    }

    static func parse(_ body: JSONObjectInput) throws -> SendMessageRequest {
        guard let leadID = try body.uuid("leadId") else { throw AppError.invalidField("leadId", "is required.") }
        guard let conversationID = try body.uuid("conversationId") else { throw AppError.invalidField("conversationId", "is required.") }
        guard let channel = try body.enumValue("channel", Channel.self) else { throw AppError.invalidField("channel", "is required.") }
        guard let typeName = try body.rawString("type") else { throw AppError.invalidField("type", "is required.") }
        guard let type = OutboundContentType(rawValue: typeName.uppercased()) else {
            throw AppError.invalidField("type", "must be one of text, image, document_pdf.")
        }
        var target: FacebookTarget?
        let targetType = try body.rawString("facebookTargetType")?.uppercased()
        let targetID = try body.string("facebookTargetId", length: 1...200)
        switch (targetType, targetID) {
        case (nil, nil): break
        case ("MESSENGER", let id?): target = .messenger(psid: id)
        case ("COMMENT", let id?): target = .comment(id: id)
        case (nil, _?): throw AppError.invalidField("facebookTargetType", "is required with facebookTargetId.")
        case (_?, nil): throw AppError.invalidField("facebookTargetId", "is required with facebookTargetType.")
        default: throw AppError.invalidField("facebookTargetType", "must be MESSENGER or COMMENT.")
        }
        let sizeField = body.firstPresent("fileSize", "fileSizeBytes")
        let mimeField = body.firstPresent("mimeType", "mime")
        return SendMessageRequest(
            leadID: leadID, conversationID: conversationID, channel: channel, type: type,
            content: try body.string("content", length: 1...4000), mediaURL: try body.string("mediaUrl", length: 1...2048),
            previewURL: try body.string("previewUrl", length: 1...2048), mimeType: try body.string(mimeField, length: 1...100),
            fileName: try body.string("fileName", length: 1...255), fileSizeBytes: try body.int(sizeField, range: 0...SendMessage.maxFileBytes),
            width: try body.int("width", range: 1...10_000), height: try body.int("height", range: 1...10_000),
            facebookTarget: target, channelThreadID: try body.string("channelThreadId", length: 1...255))
    }

    static func idempotencyKey(_ request: Request) throws -> String? {
        guard let raw = request.header("idempotency-key") else { return nil }
        let key = raw.trimmingCharacters(in: .whitespaces)
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 >= 0x21 && $0 <= 0x7e }) else {
            throw AppError.invalidField("Idempotency-Key", "must be 1 to 255 visible ASCII characters.")
        }
        return key
    }
}
