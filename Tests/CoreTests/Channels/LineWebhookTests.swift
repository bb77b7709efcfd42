import Foundation
import XCTest
@testable import Core

/// LINE webhook: signature, batch splitting, normalization. Payloads follow the Messaging API
/// reference (https://developers.line.biz/en/reference/messaging-api/#webhook-event-objects).
final class LineWebhookTests: XCTestCase {
    static let bot = "U4af4980629a1b2c3d4e5f60718293a4b"
    static let user = "U206d25c2ea6bd87c17655609a1c37cb8"

    // MARK: Signature

    /// The expected header was computed outside Swift:
    /// base64(hmac.new(b"line-channel-secret", body, sha256).digest()) in Python.
    static let signedBody = Array(#"{"destination":"U4af4980629a1b2c3d4e5f60718293a4b","events":[]}"#.utf8)
    static let signature = "NUsEFq1RdpimdnJg7nLQIDt9GqHIiodwQVg2nCeootk="

    func testAcceptsTheCorrectSignature() {
        XCTAssertTrue(LineWebhook.verifySignature(body: Self.signedBody, signature: Self.signature, channelSecret: "line-channel-secret"))
    }

    func testRejectsWrongSecretTamperedBodyAndGarbage() {
        let secret = "line-channel-secret"
        XCTAssertFalse(LineWebhook.verifySignature(body: Self.signedBody, signature: Self.signature, channelSecret: "another-secret"))
        var tampered = Self.signedBody
        tampered[tampered.count - 3] = UInt8(ascii: "]")  // "[]" → "]]"
        XCTAssertFalse(LineWebhook.verifySignature(body: tampered, signature: Self.signature, channelSecret: secret))
        XCTAssertFalse(LineWebhook.verifySignature(body: Self.signedBody + [0x20], signature: Self.signature, channelSecret: secret))
        XCTAssertFalse(LineWebhook.verifySignature(body: Self.signedBody, signature: nil, channelSecret: secret))
        XCTAssertFalse(LineWebhook.verifySignature(body: Self.signedBody, signature: "", channelSecret: secret))
        XCTAssertFalse(LineWebhook.verifySignature(body: Self.signedBody, signature: "not base64 !!", channelSecret: secret))
        XCTAssertFalse(LineWebhook.verifySignature(body: Self.signedBody, signature: "NUsEFq1RdpimdnJg", channelSecret: secret),
                       "a truncated MAC")
        // The hex form Meta uses is not LINE's format.
        XCTAssertFalse(LineWebhook.verifySignature(
            body: Self.signedBody, signature: "354b0416ad517698a676726cee72d0203b7d1aa8b22a877041583c9c27a8a2d9", channelSecret: secret))
        XCTAssertFalse(LineWebhook.verifySignature(body: Self.signedBody, signature: Self.signature, channelSecret: ""),
                       "an empty secret must never verify")
    }

    // MARK: Parsing a batch

    func testSplitsABatchIntoOneRecordPerEvent() throws {
        let (destination, records) = try LineWebhook.parse(body: Array(LineFixtures.batch.utf8))
        XCTAssertEqual(destination, Self.bot)
        XCTAssertEqual(records.count, 10)
        XCTAssertTrue(records.allSatisfy { $0.accountExternalID == Self.bot })
        XCTAssertEqual(records.map(\.providerEventID), [
            "01FZ74A0TDDPYRVKNK77XKC3ZR", "01FZ74ASS536FW97EX38NKCZQK", "01H810YECXQQZ37VAXPF6H9E6T",
            "01H810YECXQQZ37VAXPF6H9E6U", "01H810YECXQQZ37VAXPF6H9E6V", "01H810YECXQQZ37VAXPF6H9E6W",
            "01H810YECXQQZ37VAXPF6H9E6X", "01H810YECXQQZ37VAXPF6H9E6Y", "01H810YECXQQZ37VAXPF6H9E6Z",
            "01FZ74A0TDDPYRVKNK77XKC3ZR",
        ])
        XCTAssertEqual(records.map(\.eventType), [
            "message.text", "message.image", "message.sticker", "message.location", "message.file",
            "follow", "unfollow", "message.text", "postback", "message.text",
        ])
        // Each payload is the event itself, exactly as LINE sent it (its bytes in the body).
        let body = LineFixtures.batch
        XCTAssertTrue(records.allSatisfy { body.contains($0.payload) })
        XCTAssertTrue(records.allSatisfy { $0.payload.hasPrefix("{") && $0.payload.hasSuffix("}") })
        let first = try JSONValue.parse(records[0].payload)
        XCTAssertEqual(first["message"]?["text"]?.stringValue, "สวัสดีครับ อยากสอบถามราคา")
        XCTAssertEqual(first["timestamp"]?.int64Value, 1_692_251_666_727)
        XCTAssertTrue(records[0].payload.contains("1692251666727"), records[0].payload)
        XCTAssertNil(first["destination"], "the payload is the event, not the envelope")
    }

    func testSpansOfAnArrayMemberAreItsElementsBytes() throws {
        let text = #"{"a":[1,2],"events" : [ {"x": "ก\"}"} , [3] ,"s",null ],"events2":[9]}"#
        let (value, spans) = try JSONValue.parse(Array(text.utf8), spansOf: "events")
        let bytes = Array(text.utf8)
        XCTAssertEqual(spans.map { String(decoding: bytes[$0], as: UTF8.self) }, [#"{"x": "ก\"}"}"#, "[3]", #""s""#, "null"])
        XCTAssertEqual(value["events"]?.arrayValue?.count, 4)
        XCTAssertEqual(try JSONValue.parse(Array(#"{"x":{"events":[1]}}"#.utf8), spansOf: "events").1, [],
                       "only the root object's member")
    }

    func testAnEventWithALoneSurrogateEscapeIsStoredAsParsed() throws {
        let lone = #"{"type":"message","webhookEventId":"S1","message":{"type":"text","id":"1","text":"a\ud83d b"}}"#
        let plain = #"{"type":"message","webhookEventId":"S2","message":{"type":"text","id":"2","text":"ok"}}"#
        let body = #"{"destination":"U1","events":["# + lone + "," + plain + "]}"
        let (_, records) = try LineWebhook.parse(body: Array(body.utf8))
        XCTAssertFalse(records[0].payload.lowercased().contains("\\ud83d"), "jsonb refuses a lone surrogate escape")
        XCTAssertTrue(records[0].payload.contains("a\u{FFFD} b"), records[0].payload)
        XCTAssertEqual(records[1].payload, plain, "the others keep LINE's bytes")
        XCTAssertTrue(LineWebhook.hasSurrogateEscape(ArraySlice(#""\uDC00""#.utf8)))
        XCTAssertFalse(LineWebhook.hasSurrogateEscape(ArraySlice(#""\u00e9 \u0041""#.utf8)))
    }

    func testARedeliveryKeepsItsEventIDSoItDeduplicates() throws {
        let (_, records) = try LineWebhook.parse(body: Array(LineFixtures.batch.utf8))
        let redelivery = try JSONValue.parse(records[9].payload)
        XCTAssertEqual(redelivery["deliveryContext"]?["isRedelivery"], .bool(true))
        XCTAssertEqual(records[9].providerEventID, records[0].providerEventID)
    }

    func testAnEmptyBatchIsTheVerifyPing() throws {
        let (destination, records) = try LineWebhook.parse(body: Self.signedBody)
        XCTAssertEqual(destination, Self.bot)
        XCTAssertEqual(records, [])
    }

    func testAnOverlongEventIDIsKeyedByItsHash() throws {
        let long = String(repeating: "01HZ", count: 2_000)
        let body = #"{"destination":"U1","events":[{"type":"follow","webhookEventId":"\#(long)","timestamp":1718000000000,"source":{"type":"user","userId":"U2"}},{"type":"follow","webhookEventId":"01HZSHORT","timestamp":1718000000000,"source":{"type":"user","userId":"U2"}}]}"#
        let (_, records) = try LineWebhook.parse(body: Array(body.utf8))
        XCTAssertTrue(records[0].providerEventID.hasPrefix("sha256:"))
        XCTAssertLessThanOrEqual(records[0].providerEventID.utf8.count, WebhookEventRecord.maxKeyLength)
        XCTAssertEqual(records[0].providerEventID, try LineWebhook.parse(body: Array(body.utf8)).1[0].providerEventID,
                       "a redelivery still collapses onto the first row")
        XCTAssertEqual(records[1].providerEventID, "01HZSHORT")
    }

    /// Old payloads have no webhookEventId: the id is sha256 of the canonical event text, which
    /// was computed outside Swift (Python, sorted keys, compact) for this event.
    func testEventsWithoutAnIDGetAStableHash() throws {
        let event = #"{"type":"follow","timestamp":1462629479859,"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},"replyToken":"nHuyWiB7yP5Zw52FIkcQobQuGDXCTA"}"#
        let expected = "sha256:e4b08e8e339380f5077cd92a13db8b5bd9afcaac9b468d12c894d491a8df89fa"
        let (_, records) = try LineWebhook.parse(body: Array(#"{"destination":"U1","events":[\#(event)]}"#.utf8))
        XCTAssertEqual(records.map(\.providerEventID), [expected])
        // Member order and a redelivery flag do not change the id.
        let reordered = #"{"replyToken":"nHuyWiB7yP5Zw52FIkcQobQuGDXCTA","deliveryContext":{"isRedelivery":true},"source":{"userId":"U4af4980629a1b2c3d4e5f60718293a4b","type":"user"},"timestamp":1462629479859,"type":"follow"}"#
        let (_, again) = try LineWebhook.parse(body: Array(#"{"destination":"U1","events":[\#(reordered)]}"#.utf8))
        XCTAssertEqual(again.map(\.providerEventID), [expected])
        // Another event gets another id.
        let other = event.replacingOccurrences(of: "1462629479859", with: "1462629479860")
        let (_, different) = try LineWebhook.parse(body: Array(#"{"destination":"U1","events":[\#(other)]}"#.utf8))
        XCTAssertNotEqual(different[0].providerEventID, expected)
    }

    func testMalformedBodiesAre400InvalidPayload() {
        let cases: [(String, String)] = [
            ("{\"destination\":", "not valid JSON"),
            ("[]", "not a JSON object"),
            (#"{"events":[]}"#, "destination"),
            (#"{"destination":42,"events":[]}"#, "destination"),
            (#"{"destination":"U1"}"#, "events"),
            (#"{"destination":"U1","events":{}}"#, "events"),
            (#"{"destination":"U1","events":["x"]}"#, "events[0]"),
        ]
        for (body, mention) in cases {
            XCTAssertThrowsError(try LineWebhook.parse(body: Array(body.utf8)), body) { error in
                guard let appError = error as? AppError else { return XCTFail("\(body): \(error)") }
                XCTAssertEqual(appError.status, 400, body)
                XCTAssertEqual(appError.code, "invalid_payload", body)
                XCTAssertTrue(appError.message.contains(mention), "\(body): \(appError.message)")
            }
        }
    }

    // MARK: Normalization

    func normalized(_ index: Int) throws -> InboundNormalization {
        let (_, records) = try LineWebhook.parse(body: Array(LineFixtures.batch.utf8))
        return try LineWebhook.normalize(eventJSON: records[index].payload)
    }

    func message(_ index: Int, file: StaticString = #filePath, line: UInt = #line) throws -> InboundMessage {
        guard case .message(let message) = try normalized(index) else {
            XCTFail("event \(index) is not a message: \(try normalized(index))", file: file, line: line)
            throw NotAMessage()
        }
        return message
    }

    struct NotAMessage: Error {}

    func testText() throws {
        let m = try message(0)
        XCTAssertEqual(m.channel, .line)
        XCTAssertEqual(m.externalUserID, Self.user)
        XCTAssertEqual(m.threadID, Self.user)
        XCTAssertEqual(m.providerMessageID, "468789577898262530")
        XCTAssertEqual(m.messageType, "TEXT")
        XCTAssertEqual(m.text, "สวัสดีครับ อยากสอบถามราคา")
        XCTAssertEqual(m.replyToken, "38ef843bde154d9b91c21320ffd7a0b9")
        XCTAssertEqual(m.occurredAt, Date(timeIntervalSince1970: 1_692_251_666.727))
        XCTAssertNil(m.mediaURL)
        XCTAssertNil(m.lineContentMessageID)
        XCTAssertNil(m.threadType)
        XCTAssertFalse(m.needsCommentTextLookup)
        XCTAssertEqual(m.metadata["quoteToken"], "q3Plxr4AgKd")
        XCTAssertNil(m.metadata["isRedelivery"])
    }

    func testImageIsFetchedFromTheContentAPI() throws {
        let m = try message(1)
        XCTAssertEqual(m.messageType, "IMAGE")
        XCTAssertEqual(m.text, "[Image]")
        XCTAssertEqual(m.lineContentMessageID, "468789612345678901")
        XCTAssertEqual(m.providerMessageID, "468789612345678901")
        XCTAssertNil(m.mediaURL)
        XCTAssertEqual(m.metadata["imageSetId"], "E005D41A7288F41B65593ED38FF6E9834B046AB36A37921A56BC236F13A91855")
        XCTAssertEqual(m.metadata["imageSetTotal"], "2")
    }

    func testTheImagesOfOneSetKeepTheirOrderAndStandbyIsMarked() throws {
        func image(_ index: Int, mode: String = "active") throws -> InboundMessage {
            let event = #"{"type":"message","mode":"\#(mode)","timestamp":1692251666727,"source":{"type":"user","userId":"U1"},"message":{"id":"\#(index)","type":"image","contentProvider":{"type":"line"},"imageSet":{"id":"S","index":\#(index),"total":3}}}"#
            guard case .message(let m) = try LineWebhook.normalize(eventJSON: event) else { throw XCTSkip("not a message") }
            return m
        }
        let sent = try [3, 1, 2].map { try image($0) }  // however they arrive
        XCTAssertEqual(sent.sorted { $0.occurredAt < $1.occurredAt }.map(\.providerMessageID), ["1", "2", "3"])
        XCTAssertEqual(sent[1].occurredAt.timeIntervalSince1970, 1_692_251_666.727, accuracy: 0.000_01, "still that millisecond")
        XCTAssertNil(sent[0].metadata["standby"])
        XCTAssertEqual(try image(1, mode: "standby").metadata["standby"], "true")
    }

    func testLINEEmojiPlaceholdersAreNamedAndATypedDollarStays() throws {
        // As LINE documents it: "$" marks each LINE emoji, at UTF-16 indexes (the 😀 before them takes two units).
        let event = #"{"type":"message","timestamp":1692251666727,"source":{"type":"user","userId":"U1"},"message":{"id":"1","type":"text","text":"😀 $ ราคา $5 $","emojis":[{"index":3,"length":1,"productId":"5ac1bfd5040ab15980c9b435","emojiId":"001"},{"index":13,"length":1,"productId":"5ac1bfd5040ab15980c9b435","emojiId":"002"}]}}"#
        guard case .message(let m) = try LineWebhook.normalize(eventJSON: event) else { return XCTFail() }
        XCTAssertEqual(m.text, "😀 (emoji) ราคา $5 (emoji)")
        XCTAssertEqual(m.metadata["lineEmojis"], "5ac1bfd5040ab15980c9b435/001,5ac1bfd5040ab15980c9b435/002")
        let wrong = #"{"type":"message","timestamp":1692251666727,"source":{"type":"user","userId":"U1"},"message":{"id":"2","type":"text","text":"$5","emojis":[{"index":1,"length":1},{"index":40,"length":1}]}}"#
        guard case .message(let kept) = try LineWebhook.normalize(eventJSON: wrong) else { return XCTFail() }
        XCTAssertEqual(kept.text, "$5", "an index that is not a placeholder (or past the end) changes nothing")
    }

    func testExternalImageUsesItsHTTPSURL() throws {
        let event = #"{"type":"message","timestamp":1692251666727,"source":{"type":"user","userId":"U1"},"message":{"id":"1","type":"image","contentProvider":{"type":"external","originalContentUrl":"https://example.com/a.jpg","previewImageUrl":"https://example.com/a-s.jpg"}}}"#
        guard case .message(let m) = try LineWebhook.normalize(eventJSON: event) else { return XCTFail() }
        XCTAssertEqual(m.mediaURL, "https://example.com/a.jpg")
        XCTAssertNil(m.lineContentMessageID)
    }

    func testSticker() throws {
        let m = try message(2)
        XCTAssertEqual(m.messageType, "STICKER")
        XCTAssertEqual(m.text, "[Sticker]")
        XCTAssertEqual(m.metadata["packageId"], "446")
        XCTAssertEqual(m.metadata["stickerId"], "1988")
        XCTAssertEqual(m.metadata["stickerResourceType"], "ANIMATION")
        XCTAssertEqual(m.metadata["keywords"], "happy,smile")
        XCTAssertNil(m.lineContentMessageID)
    }

    func testLocation() throws {
        let m = try message(3)
        XCTAssertEqual(m.messageType, "LOCATION")
        XCTAssertEqual(m.text, "[Location] Siam Paragon, 991 Rama I Rd, Pathum Wan, Bangkok 10330")
        XCTAssertEqual(m.metadata["latitude"], "13.746")
        XCTAssertEqual(m.metadata["longitude"], "100.5347")
    }

    func testFile() throws {
        let m = try message(4)
        XCTAssertEqual(m.messageType, "FILE")
        XCTAssertEqual(m.text, "[File] quotation.pdf")
        XCTAssertEqual(m.lineContentMessageID, "468789700000000004")
        XCTAssertEqual(m.metadata["fileName"], "quotation.pdf")
        XCTAssertEqual(m.metadata["fileSize"], "204800")
    }

    func testFollowAndUnfollowAreActivities() throws {
        guard case .activity(let follow) = try normalized(5) else { return XCTFail("follow is not an activity") }
        XCTAssertEqual(follow.kind, "FOLLOW")
        XCTAssertEqual(follow.channel, .line)
        XCTAssertEqual(follow.externalUserID, Self.user)
        XCTAssertEqual(follow.detail["isUnblocked"], "false")
        XCTAssertEqual(follow.detail["replyToken"], "85cbe770fa8b4f45bbe077b1d4be4a36")
        XCTAssertEqual(follow.occurredAt, Date(timeIntervalSince1970: 1_692_251_700))
        guard case .activity(let unfollow) = try normalized(6) else { return XCTFail("unfollow is not an activity") }
        XCTAssertEqual(unfollow.kind, "UNFOLLOW")
        XCTAssertNil(unfollow.detail["replyToken"])
    }

    func testGroupMessageThreadsOnTheGroup() throws {
        let m = try message(7)
        XCTAssertEqual(m.threadID, "Ca56f94637c7b39d6a5e7ad4f3e5a2c1d")
        XCTAssertEqual(m.externalUserID, "Ca56f94637c7b39d6a5e7ad4f3e5a2c1d", "every member's message lands on the group's lead")
        XCTAssertEqual(m.metadata["senderUserId"], Self.user)
        XCTAssertEqual(m.text, "@bot ขอใบเสนอราคาด้วยครับ")
        XCTAssertEqual(m.metadata["sourceType"], "group")
        XCTAssertEqual(m.metadata["groupId"], "Ca56f94637c7b39d6a5e7ad4f3e5a2c1d")
    }

    func testPostbackCarriesItsDataAndParams() throws {
        guard case .activity(let a) = try normalized(8) else { return XCTFail("postback is not an activity") }
        XCTAssertEqual(a.kind, "POSTBACK")
        XCTAssertEqual(a.detail["data"], "action=book&itemid=111")
        XCTAssertEqual(a.detail["params.datetime"], "2023-08-20T10:00")
    }

    func testRedeliveryIsMarked() throws {
        XCTAssertEqual(try message(9).metadata["isRedelivery"], "true")
    }

    func testRoomJoinAndLeaveUseTheRoomOrGroup() throws {
        let join = #"{"type":"join","timestamp":1692251666727,"source":{"type":"group","groupId":"C4af4980629"},"replyToken":"r","mode":"active","webhookEventId":"x","deliveryContext":{"isRedelivery":false}}"#
        guard case .activity(let a) = try LineWebhook.normalize(eventJSON: join) else { return XCTFail() }
        XCTAssertEqual(a.kind, "JOIN")
        XCTAssertEqual(a.externalUserID, "C4af4980629")
        let roomMessage = #"{"type":"message","timestamp":1692251666727,"source":{"type":"room","roomId":"Ra8dbf4673c","userId":"U1"},"message":{"id":"9","type":"text","text":"hi"}}"#
        guard case .message(let m) = try LineWebhook.normalize(eventJSON: roomMessage) else { return XCTFail() }
        XCTAssertEqual(m.threadID, "Ra8dbf4673c")
        XCTAssertEqual(m.externalUserID, "Ra8dbf4673c", "the room is the customer")
        XCTAssertEqual(m.metadata["senderUserId"], "U1")
        let leave = #"{"type":"leave","timestamp":1692251666727,"source":{"type":"room","roomId":"Ra8dbf4673c"}}"#
        guard case .activity(let l) = try LineWebhook.normalize(eventJSON: leave) else { return XCTFail() }
        XCTAssertEqual(l.kind, "LEAVE")
        XCTAssertEqual(l.externalUserID, "Ra8dbf4673c")
    }

    func testMembersJoiningAndLeavingAGroupAreActivityOnTheGroup() throws {
        let joined = #"{"type":"memberJoined","timestamp":1692251666727,"source":{"type":"group","groupId":"C4af4980629"},"joined":{"members":[{"type":"user","userId":"U1"},{"type":"user","userId":"U2"}]},"replyToken":"r"}"#
        guard case .activity(let a) = try LineWebhook.normalize(eventJSON: joined) else { return XCTFail() }
        XCTAssertEqual(a.kind, "MEMBER_JOINED")
        XCTAssertEqual(a.externalUserID, "C4af4980629")
        XCTAssertEqual(a.detail["memberUserIds"], "U1,U2")
        let left = #"{"type":"memberLeft","timestamp":1692251666727,"source":{"type":"group","groupId":"C4af4980629"},"left":{"members":[{"type":"user","userId":"U2"}]}}"#
        guard case .activity(let l) = try LineWebhook.normalize(eventJSON: left) else { return XCTFail() }
        XCTAssertEqual(l.kind, "MEMBER_LEFT")
        XCTAssertEqual(l.detail["memberUserIds"], "U2")
    }

    func testUnknownMessageTypesAreKeptAsUnsupported() throws {
        let event = #"{"type":"message","timestamp":1692251666727,"source":{"type":"user","userId":"U1"},"replyToken":"r","message":{"id":"77","type":"hologram"}}"#
        guard case .message(let m) = try LineWebhook.normalize(eventJSON: event) else { return XCTFail() }
        XCTAssertEqual(m.messageType, "UNSUPPORTED")
        XCTAssertEqual(m.text, "[Unsupported message: hologram]")
        XCTAssertEqual(m.providerMessageID, "77")
    }

    func testUnsendTakesBackTheMessageItNames() throws {
        let event = #"{"type":"unsend","timestamp":1692251666727,"source":{"type":"user","userId":"U1"},"unsend":{"messageId":"325708"},"mode":"active","webhookEventId":"01H"}"#
        guard case .revised(let u) = try LineWebhook.normalize(eventJSON: event) else { return XCTFail() }
        XCTAssertEqual(u, InboundRevision(channel: .line, externalUserID: "U1", providerMessageID: "325708", change: .unsent,
                                          occurredAt: Date(timeIntervalSince1970: 1_692_251_666.727)))
        let withoutID = #"{"type":"unsend","timestamp":1692251666727,"source":{"type":"user","userId":"U1"},"unsend":{}}"#
        guard case .ignored = try LineWebhook.normalize(eventJSON: withoutID) else { return XCTFail() }
    }

    func testOtherEventsAreIgnored() throws {
        let events = [
            #"{"type":"videoPlayComplete","timestamp":1,"source":{"type":"user","userId":"U1"},"videoPlayComplete":{"trackingId":"t"}}"#,
            #"{"type":"beacon","timestamp":1,"source":{"type":"user","userId":"U1"},"beacon":{"hwid":"d41d8cd98f","type":"enter"}}"#,
            #"{"type":"somethingNew","timestamp":1,"source":{"type":"user","userId":"U1"}}"#,
            #"{"type":"message","timestamp":1,"message":{"id":"1","type":"text","text":"no source"}}"#,
        ]
        for event in events {
            guard case .ignored(let reason) = try LineWebhook.normalize(eventJSON: event) else { return XCTFail(event) }
            XCTAssertFalse(reason.isEmpty)
        }
    }

    func testNormalizeThrowsOnlyForNonObjects() {
        for text in ["[]", "\"text\"", "not json"] {
            XCTAssertThrowsError(try LineWebhook.normalize(eventJSON: text), text) {
                XCTAssertEqual(($0 as? AppError)?.status, 400)
            }
        }
        XCTAssertNoThrow(try LineWebhook.normalize(eventJSON: "{}"))
    }
}
