import Foundation
import XCTest
@testable import Core

/// Meta webhooks (Messenger, Page feed, Instagram): signature, handshake, splitting, normalization.
final class MetaWebhookTests: XCTestCase {
    typealias F = MetaFixtures
    struct NotAMessage: Error {}

    // MARK: Signature

    /// The expected hex was computed outside Swift:
    /// hmac.new(b"meta-app-secret", body, sha256).hexdigest() in Python.
    static let body = Array(#"{"object":"page","entry":[]}"#.utf8)
    static let hex = "5dcb51eb590634700c8d9cc1fde4d2d5981ca7bb83f250eb3fb71bfd849057ed"

    func testAcceptsTheCorrectSignature() {
        XCTAssertTrue(MetaWebhook.verifySignature(body: Self.body, header: "sha256=" + Self.hex, appSecret: "meta-app-secret"))
    }

    func testRejectsEverythingElse() {
        let secret = "meta-app-secret"
        let good = "sha256=" + Self.hex
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: good, appSecret: "wrong-secret"), "wrong secret")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Array(#"{"object":"page","entry":[{}]}"#.utf8), header: good, appSecret: secret),
                       "tampered body")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: nil, appSecret: secret), "missing header")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: "", appSecret: secret), "empty header")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: Self.hex, appSecret: secret), "no prefix")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: "sha1=" + Self.hex, appSecret: secret), "wrong prefix")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: "SHA256=" + Self.hex, appSecret: secret), "wrong prefix case")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: "sha256=" + String(repeating: "zz", count: 32), appSecret: secret),
                       "non-hex")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: "sha256=" + Self.hex.dropLast(2), appSecret: secret),
                       "truncated")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: good + "00", appSecret: secret), "too long")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: "sha256=" + Self.hex.dropLast(1), appSecret: secret),
                       "odd length")
        XCTAssertFalse(MetaWebhook.verifySignature(body: Self.body, header: good, appSecret: ""), "empty secret")
    }

    // MARK: Handshake

    func testHandshakeEchoesTheChallengeOnlyForTheRightToken() {
        let query = ["hub.mode": "subscribe", "hub.verify_token": "s3cret-verify", "hub.challenge": "1158201444"]
        XCTAssertEqual(MetaWebhook.verifyHandshake(query: query, expectedToken: "s3cret-verify"), "1158201444")
        XCTAssertNil(MetaWebhook.verifyHandshake(query: query, expectedToken: "other"))
        XCTAssertNil(MetaWebhook.verifyHandshake(query: query, expectedToken: "s3cret-verify-longer"))
        XCTAssertNil(MetaWebhook.verifyHandshake(query: query, expectedToken: ""), "no configured token")
        var wrongMode = query
        wrongMode["hub.mode"] = "unsubscribe"
        XCTAssertNil(MetaWebhook.verifyHandshake(query: wrongMode, expectedToken: "s3cret-verify"))
        var noToken = query
        noToken["hub.verify_token"] = nil
        XCTAssertNil(MetaWebhook.verifyHandshake(query: noToken, expectedToken: "s3cret-verify"))
        var noChallenge = query
        noChallenge["hub.challenge"] = nil
        XCTAssertNil(MetaWebhook.verifyHandshake(query: noChallenge, expectedToken: "s3cret-verify"))
    }

    // MARK: Parsing

    func pageRecords() throws -> [WebhookEventRecord] {
        let batch = try MetaWebhook.parse(body: Array(F.page.utf8))
        let (object, records) = (batch.object, batch.events)
        XCTAssertEqual(object, "page")
        return records
    }

    func testSplitsEveryMessagingAndChangeItem() throws {
        let records = try pageRecords()
        XCTAssertEqual(records.count, 9)
        XCTAssertEqual(Set(records.map(\.accountExternalID)), [F.pageID], "a numeric entry id is still the page id text")
        XCTAssertEqual(records.map(\.eventType), [
            "messaging.message", "messaging.message", "messaging.echo", "messaging.read", "messaging.reaction",
            "changes.feed.comment.add", "changes.feed.comment.add", "changes.feed.comment.add", "changes.feed.reaction.add",
        ])
        let ids = records.map(\.providerEventID)
        XCTAssertEqual(ids[0], "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P")
        XCTAssertEqual(ids[1], "m_k3R9dT7vQzq1Yc2xWbN8pLmF0aHsJuE4oIgV6yXr5KtZ")
        XCTAssertEqual(ids[2], "m_echo_Zp0QwErTyUiOpAsDfGhJkL", "echoes carry their own mid")
        XCTAssertEqual(ids[5], "comment:122094857362_987654321098765")
        XCTAssertEqual(ids[6], "comment:122094857362_987654321098766")
        XCTAssertEqual(ids[7], "comment:122094857362_987654321098767")
        XCTAssertTrue(ids[4].hasPrefix("sha256:"), "a reaction must not take the mid of the message it reacts to")
        XCTAssertTrue(ids[8].hasPrefix("sha256:"))
        XCTAssertEqual(Set(ids).count, ids.count)
    }

    /// The read receipt's id is sha256 of its canonical text without the entry time; the expected
    /// value was computed outside Swift (Python, sorted keys, compact).
    func testEventsWithoutAMidHashStablyAndIgnoreTheEntryTime() throws {
        let records = try pageRecords()
        XCTAssertEqual(records[3].providerEventID, "sha256:6677446fccd1226f8a1a7f7eab02eae07817fc7ffa536d5ea9737054956ecdd4")
        // Meta restamps entry.time on a retry; the id must not move.
        let retried = F.page.replacingOccurrences(of: "\"time\": 1718000001000", with: "\"time\": 1718000999000")
        XCTAssertNotEqual(retried, F.page)
        let again = try MetaWebhook.parse(body: Array(retried.utf8)).events
        XCTAssertEqual(again.map(\.providerEventID), records.map(\.providerEventID))
    }

    func testPayloadIsTheItemPlusTheEntryTime() throws {
        let records = try pageRecords()
        let first = try JSONValue.parse(records[0].payload)
        XCTAssertEqual(first["message"]?["text"]?.stringValue, "สนใจสินค้าครับ ราคาเท่าไหร่")
        XCTAssertEqual(first["timestamp"]?.int64Value, 1_718_000_000_123)
        XCTAssertEqual(first[MetaWebhook.entryTimeKey]?.int64Value, 1_718_000_001_000)
        XCTAssertNil(first["entry"])
        let reaction = try JSONValue.parse(records[4].payload)
        XCTAssertEqual(reaction["reaction"]?["emoji"]?.stringValue, "\u{2764}\u{FE0F}")
        let comment = try JSONValue.parse(records[5].payload)
        XCTAssertEqual(comment["value"]?["comment_id"]?.stringValue, "122094857362_987654321098765")
    }

    func testMalformedBodiesAre400InvalidPayload() {
        let cases: [(String, String)] = [
            ("{\"object\":\"page\",", "not valid JSON"),
            ("\"page\"", "not a JSON object"),
            (#"{"entry":[]}"#, "object"),
            (#"{"object":"page"}"#, "entry"),
            (#"{"object":"page","entry":{}}"#, "entry"),
            (#"{"object":"page","entry":[7]}"#, "entry[0]"),
            (#"{"object":"page","entry":[{"time":1}]}"#, "entry[0].id"),
            (#"{"object":"page","entry":[{"id":"1","messaging":{}}]}"#, "messaging"),
            (#"{"object":"page","entry":[{"id":"1","changes":[1]}]}"#, "changes[0]"),
        ]
        for (body, mention) in cases {
            XCTAssertThrowsError(try MetaWebhook.parse(body: Array(body.utf8)), body) { error in
                guard let appError = error as? AppError else { return XCTFail("\(body): \(error)") }
                XCTAssertEqual(appError.status, 400, body)
                XCTAssertEqual(appError.code, "invalid_payload", body)
                XCTAssertTrue(appError.message.contains(mention), "\(body): \(appError.message)")
            }
        }
        XCTAssertEqual(try MetaWebhook.parse(body: Self.body).events, [], "an empty entry list is fine")
    }

    // MARK: Normalizing Messenger

    func normalized(_ index: Int) throws -> InboundNormalization {
        let record = try pageRecords()[index]
        return try MetaWebhook.normalize(eventJSON: record.payload, channel: .facebook, accountExternalID: record.accountExternalID)
    }

    func message(_ index: Int, file: StaticString = #filePath, line: UInt = #line) throws -> InboundMessage {
        guard case .message(let m) = try normalized(index) else {
            XCTFail("record \(index) is not a message: \(try normalized(index))", file: file, line: line)
            throw NotAMessage()
        }
        return m
    }

    func testMessengerText() throws {
        let m = try message(0)
        XCTAssertEqual(m.channel, .facebook)
        XCTAssertEqual(m.externalUserID, F.psid)
        XCTAssertEqual(m.threadID, F.psid)
        XCTAssertEqual(m.threadType, "MESSENGER_DM")
        XCTAssertEqual(m.facebookPageID, F.pageID)
        XCTAssertEqual(m.providerMessageID, "m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P")
        XCTAssertEqual(m.messageType, "TEXT")
        XCTAssertEqual(m.text, "สนใจสินค้าครับ ราคาเท่าไหร่")
        XCTAssertEqual(m.occurredAt, Date(timeIntervalSince1970: 1_718_000_000.123))
        XCTAssertNil(m.mediaURL)
        XCTAssertNil(m.replyToken)
        XCTAssertNil(m.lineContentMessageID)
        XCTAssertFalse(m.needsCommentTextLookup)
    }

    func testMessengerImageKeepsTheHTTPSURL() throws {
        let m = try message(1)
        XCTAssertEqual(m.messageType, "IMAGE")
        XCTAssertEqual(m.text, "[Image]")
        XCTAssertEqual(m.mediaURL, "https://scontent.xx.fbcdn.net/v/t1.15752-9/448012345_n.jpg?_nc_cat=104&ccb=1-7&oh=00_AYB&oe=66A1B2C3")
    }

    func testANonHTTPSImageURLIsNotUsed() throws {
        let event = #"{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1718000000000,"message":{"mid":"m_1","attachments":[{"type":"image","payload":{"url":"http://insecure.example/a.jpg"}}]}}"#
        guard case .message(let m) = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: "2") else {
            return XCTFail()
        }
        XCTAssertEqual(m.messageType, "IMAGE")
        XCTAssertNil(m.mediaURL)
    }

    func testOtherAttachmentsGetTheirTypeAndAPlaceholder() throws {
        func normalize(_ attachment: String, text: String? = nil) throws -> InboundMessage {
            let textMember = text.map { #""text":"\#($0)","# } ?? ""
            let event = #"{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1718000000000,"message":{"mid":"m_1",\#(textMember)"attachments":[\#(attachment)]}}"#
            guard case .message(let m) = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: "2") else {
                throw NotAMessage()
            }
            return m
        }
        let file = try normalize(#"{"type":"file","payload":{"url":"https://cdn.fbsbx.com/v/t59.2708-21/4485_n.pdf/quotation%20v2.pdf?_nc_cat=1"}}"#)
        XCTAssertEqual(file.messageType, "FILE")
        XCTAssertEqual(file.text, "[File] quotation v2.pdf")
        XCTAssertEqual(file.mediaURL, "https://cdn.fbsbx.com/v/t59.2708-21/4485_n.pdf/quotation%20v2.pdf?_nc_cat=1")
        let video = try normalize(#"{"type":"video","payload":{"url":"https://video.xx.fbcdn.net/v/t42.3356-2/clip.mp4"}}"#)
        XCTAssertEqual(video.messageType, "VIDEO")
        XCTAssertEqual(video.text, "[Video]")
        let audio = try normalize(#"{"type":"audio","payload":{"url":"https://cdn.fbsbx.com/v/t59.3654-21/audioclip.mp4"}}"#)
        XCTAssertEqual(audio.messageType, "AUDIO")
        XCTAssertEqual(audio.text, "[Audio]")
        let sticker = try normalize(#"{"type":"image","payload":{"url":"https://scontent.xx.fbcdn.net/v/t39.1997-6/851557_369239266556155_759568595_n.png","sticker_id":369239263222822}}"#)
        XCTAssertEqual(sticker.messageType, "STICKER")
        XCTAssertEqual(sticker.metadata["stickerId"], "369239263222822")
        let share = try normalize(#"{"type":"fallback","title":"Our catalogue","url":"https://example.com/catalogue","payload":null}"#,
                                  text: "look at this")
        XCTAssertEqual(share.messageType, "TEXT", "a text with a link preview is a text message")
        XCTAssertEqual(share.text, "look at this", "the customer's text wins over the placeholder")
        XCTAssertEqual(share.metadata["attachmentUrl"], "https://example.com/catalogue")
        XCTAssertNil(share.mediaURL)
        let reel = try normalize(#"{"type":"ig_reel","payload":{"url":"https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=1","title":"reel"}}"#)
        XCTAssertEqual(reel.text, "[Reel]")
        let location = try normalize(#"{"type":"location","title":"Pinned Location","payload":{"coordinates":{"lat":13.7563,"long":100.5018}}}"#)
        XCTAssertEqual(location.messageType, "LOCATION")
        XCTAssertEqual(location.text, "[Location] Pinned Location")
        XCTAssertEqual(location.metadata["latitude"], "13.7563")
    }

    func testStandbyMessagesAreRecordedAndTheirMidDeduplicates() throws {
        let body = #"{"object":"page","entry":[{"id":"2","time":1718000000500,"standby":[{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1718000000000,"message":{"mid":"m_standby","text":"still there?"}},{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1718000000100,"read":{"watermark":1718000000000}}]}]}"#
        let batch = try MetaWebhook.parse(body: Array(body.utf8))
        XCTAssertEqual(batch.accounts, ["2"])
        XCTAssertEqual(batch.events.map(\.providerEventID).first, "m_standby", "the same key as its messaging copy")
        XCTAssertEqual(batch.events.map(\.eventType), ["standby.message", "standby.read"])
        guard case .message(let m) = try MetaWebhook.normalize(eventJSON: batch.events[0].payload, channel: .facebook,
                                                              accountExternalID: "2") else { return XCTFail() }
        XCTAssertEqual(m.text, "still there?")
        XCTAssertEqual(m.metadata["standby"], "true")
        guard case .ignored = try MetaWebhook.normalize(eventJSON: batch.events[1].payload, channel: .facebook,
                                                        accountExternalID: "2") else { return XCTFail() }
    }

    func testAnEntryWithoutRecordedEventsStillNamesItsAccount() throws {
        let batch = try MetaWebhook.parse(body: Array(#"{"object":"page","entry":[{"id":"104","time":1,"hop_context":[]}]}"#.utf8))
        XCTAssertEqual(batch.events, [])
        XCTAssertEqual(batch.accounts, ["104"], "its secret must verify the body before the 200")
    }

    func testADeletedMessageIsKeyedApartAndTakesTheOriginalBack() throws {
        let original = #"{"sender":{"id":"1193847562019384"},"recipient":{"id":"17841400000000001"},"timestamp":1718000000000,"message":{"mid":"aWdfZAG1","text":"oops"}}"#
        let deleted = #"{"sender":{"id":"1193847562019384"},"recipient":{"id":"17841400000000001"},"timestamp":1718000005000,"message":{"mid":"aWdfZAG1","is_deleted":true}}"#
        let body = #"{"object":"instagram","entry":[{"id":"17841400000000001","time":1718000005500,"messaging":[\#(original),\#(deleted)]}]}"#
        let events = try MetaWebhook.parse(body: Array(body.utf8)).events
        XCTAssertEqual(events.map(\.providerEventID), ["aWdfZAG1", "deleted:aWdfZAG1"], "the deletion must not collapse onto the message")
        guard case .revised(let u) = try MetaWebhook.normalize(eventJSON: events[1].payload, channel: .instagram,
                                                              accountExternalID: "17841400000000001") else { return XCTFail() }
        XCTAssertEqual(u.providerMessageID, "aWdfZAG1")
        XCTAssertEqual(u.externalUserID, "1193847562019384")
        XCTAssertEqual(u.channel, .instagram)
        XCTAssertEqual(u.change, .unsent)
    }

    func testAMessengerEditRevisesTheMessage() throws {
        let edit = #"{"sender":{"id":"6284739201847563"},"recipient":{"id":"104857392018475"},"timestamp":1718000009000,"message_edit":{"mid":"m_abc","text":"ราคา 500 บาทใช่ไหม","num_edit":1}}"#
        let body = #"{"object":"page","entry":[{"id":"104857392018475","time":1718000009500,"messaging":[\#(edit)]}]}"#
        let record = try XCTUnwrap(try MetaWebhook.parse(body: Array(body.utf8)).events.first)
        XCTAssertEqual(record.eventType, "messaging.message_edit")
        XCTAssertNotEqual(record.providerEventID, "m_abc", "an edit must not collapse onto the message it edits")
        guard case .revised(let r) = try MetaWebhook.normalize(eventJSON: record.payload, channel: .facebook,
                                                               accountExternalID: "104857392018475") else { return XCTFail() }
        XCTAssertEqual(r.providerMessageID, "m_abc")
        XCTAssertEqual(r.change, .edited(text: "ราคา 500 บาทใช่ไหม", count: 1))
    }

    func testImplausibleTimestampsFallBackToNow() throws {
        for stamp in ["1e22", #""inf""#, #""1e400""#, "1718000000000000", "-5", "12"] {
            let event = #"{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":\#(stamp),"message":{"mid":"m_1","text":"hi"}}"#
            guard case .message(let m) = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: "2")
            else { return XCTFail(stamp) }
            XCTAssertLessThan(abs(m.occurredAt.timeIntervalSinceNow), 60, stamp)
        }
    }

    func testEchoesReadsAndReactionsAreIgnored() throws {
        for index in [2, 3, 4] {
            guard case .ignored(let reason) = try normalized(index) else { return XCTFail("record \(index) was not ignored") }
            XCTAssertFalse(reason.isEmpty)
        }
        guard case .ignored(let echo) = try normalized(2) else { return XCTFail() }
        XCTAssertTrue(echo.contains("echo"), echo)
    }

    func testAMessageFromThePageItselfIsIgnoredEvenWithoutTheEchoFlag() throws {
        let event = #"{"sender":{"id":"104857392018475"},"recipient":{"id":"6284739201847563"},"timestamp":1718000000000,"message":{"mid":"m_2","text":"hello"}}"#
        guard case .ignored(let reason) = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: F.pageID) else {
            return XCTFail()
        }
        XCTAssertTrue(reason.contains("account itself"), reason)
        // The same event for another page is a customer message.
        guard case .message = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: "999") else {
            return XCTFail()
        }
    }

    /// Without a mid the message is keyed by the same hash as its webhook record, whatever the
    /// entry time the record payload carries.
    func testAMessageWithoutAMidUsesTheRecordsHash() throws {
        let body = #"{"object":"page","entry":[{"id":"2","time":1718000009999,"messaging":[{"sender":{"id":"1"},"recipient":{"id":"2"},"timestamp":1718000000000,"message":{"text":"no mid"}}]}]}"#
        let record = try XCTUnwrap(try MetaWebhook.parse(body: Array(body.utf8)).events.first)
        XCTAssertTrue(record.providerEventID.hasPrefix("sha256:"))
        XCTAssertTrue(record.payload.contains(MetaWebhook.entryTimeKey))
        guard case .message(let m) = try MetaWebhook.normalize(eventJSON: record.payload, channel: .facebook, accountExternalID: "2") else {
            return XCTFail()
        }
        XCTAssertEqual(m.providerMessageID, record.providerEventID)
        XCTAssertEqual(m.text, "no mid")
    }

    // MARK: Normalizing feed comments

    func testACommentBecomesACommentThread() throws {
        let m = try message(5)
        XCTAssertEqual(m.channel, .facebook)
        XCTAssertEqual(m.threadType, "FACEBOOK_COMMENT")
        XCTAssertEqual(m.externalUserID, "5839201847562019")
        XCTAssertEqual(m.senderDisplayName, "Somchai Jaidee")
        XCTAssertEqual(m.threadID, "122094857362_987654321098765")
        XCTAssertEqual(m.providerMessageID, "122094857362_987654321098765")
        XCTAssertEqual(m.facebookCommentID, "122094857362_987654321098765")
        XCTAssertEqual(m.facebookPostID, "104857392018475_122094857362")
        XCTAssertEqual(m.facebookPageID, F.pageID)
        XCTAssertEqual(m.messageType, "TEXT")
        XCTAssertEqual(m.text, "ราคาเท่าไหร่ครับ ส่งฟรีไหม")
        XCTAssertFalse(m.needsCommentTextLookup)
        XCTAssertEqual(m.occurredAt, Date(timeIntervalSince1970: 1_718_000_090), "created_time is in seconds")
        XCTAssertNil(m.metadata["parentCommentId"], "a top-level comment's parent is the post")
        XCTAssertEqual(m.metadata["postPermalink"], "https://www.facebook.com/104857392018475/posts/pfbid02xyz")
    }

    func testACommentWithoutTextNeedsALookup() throws {
        let m = try message(6)
        XCTAssertTrue(m.needsCommentTextLookup)
        XCTAssertEqual(m.text, "[Comment]")
        XCTAssertEqual(m.senderDisplayName, "Malee Srisuk")
        XCTAssertEqual(m.metadata["parentCommentId"], "122094857362_987654321098765")
        XCTAssertEqual(m.occurredAt, Date(timeIntervalSince1970: 1_718_000_100), "falls back to the entry time")
    }

    /// A name no provider would send (a forged or broken payload) is cut to 100 characters, between characters.
    func testAnOverlongCommenterNameIsCutBetweenCharacters() throws {
        let name = String(repeating: "ก่", count: 99) + "👨‍👩‍👧‍👦" + String(repeating: "x", count: 200_000)
        let event = #"{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_2","post_id":"1_3","from":{"id":"5","name":"\#(name)"},"message":"hi","created_time":1718000090}}"#
        guard case .message(let m) = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: "1") else {
            return XCTFail("the comment was not recorded")
        }
        XCTAssertEqual(m.senderDisplayName, String(repeating: "ก่", count: 99) + "👨‍👩‍👧‍👦")
        XCTAssertEqual(ProviderProfile(displayName: name, pictureURL: nil).displayName?.count, 100)
    }

    func testACommentWithoutItsAuthorIsKeyedByTheComment() throws {
        let event = #"{"field":"feed","value":{"item":"comment","verb":"add","comment_id":"1_2","post_id":"1_3","message":"price?","created_time":1718000090}}"#
        guard case .message(let m) = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: "1") else {
            return XCTFail("a comment without from was not recorded")
        }
        XCTAssertEqual(m.externalUserID, "comment:1_2")
        XCTAssertEqual(m.threadID, "1_2")
        XCTAssertEqual(m.facebookCommentID, "1_2")
        XCTAssertEqual(m.senderDisplayName, "Facebook user")
        XCTAssertTrue(m.senderIsHidden)
        XCTAssertEqual(m.text, "price?")
        XCTAssertFalse(try message(5).senderIsHidden, "a named commenter is not hidden")
    }

    func testAnEditedCommentSaysItsNewText() throws {
        let event = #"{"field":"feed","value":{"from":{"id":"5","name":"A"},"item":"comment","verb":"edited","comment_id":"1_2","post_id":"1_3","message":"price for 2?","created_time":1718000190}}"#
        guard case .revised(let revision) = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: "1") else {
            return XCTFail("an edited comment was not a revision")
        }
        XCTAssertEqual(revision.providerMessageID, "1_2")
        XCTAssertEqual(revision.change, .edited(text: "price for 2?", count: nil))
        let own = #"{"field":"feed","value":{"from":{"id":"1"},"item":"comment","verb":"edited","comment_id":"1_4","message":"x"}}"#
        XCTAssertEqual(try MetaWebhook.normalize(eventJSON: own, channel: .facebook, accountExternalID: "1"),
                       .ignored(reason: "the page's own comment"))
    }

    func testThePagesOwnCommentAndLikesAreIgnored() throws {
        guard case .ignored(let own) = try normalized(7) else { return XCTFail("the page's own comment was not ignored") }
        XCTAssertEqual(own, "the page's own comment")
        guard case .ignored(let like) = try normalized(8) else { return XCTFail("a like was not ignored") }
        XCTAssertTrue(like.contains("reaction"), like)
    }

    func testEditsRemovalsAndPostsAreIgnored() throws {
        for (item, verb) in [("comment", "remove"), ("post", "add"), ("status", "add"), ("like", "add")] {
            let event = #"{"field":"feed","value":{"from":{"id":"5"},"item":"\#(item)","verb":"\#(verb)","comment_id":"1_2","post_id":"1_3","message":"x","created_time":1718000090}}"#
            guard case .ignored = try MetaWebhook.normalize(eventJSON: event, channel: .facebook, accountExternalID: "1") else {
                return XCTFail("\(item) \(verb) was not ignored")
            }
        }
    }

    // MARK: Instagram

    func testInstagramDirectMessage() throws {
        let batch = try MetaWebhook.parse(body: Array(F.instagram.utf8))
        let (object, records) = (batch.object, batch.events)
        XCTAssertEqual(object, "instagram")
        XCTAssertEqual(records.map(\.eventType), ["messaging.message", "messaging.echo", "changes.comments"])
        XCTAssertEqual(records.map(\.accountExternalID), [F.igAccount, F.igAccount, F.igAccount])
        let results = try records.map {
            try MetaWebhook.normalize(eventJSON: $0.payload, channel: .instagram, accountExternalID: $0.accountExternalID)
        }
        guard case .message(let m) = results[0] else { return XCTFail("\(results[0])") }
        XCTAssertEqual(m.channel, .instagram)
        XCTAssertEqual(m.externalUserID, F.igsid)
        XCTAssertEqual(m.threadID, "ig:user:" + F.igsid)
        XCTAssertEqual(m.providerMessageID, records[0].providerEventID)
        XCTAssertEqual(m.text, "Hi! Is this still available? 😊")
        XCTAssertNil(m.threadType)
        XCTAssertNil(m.facebookPageID)
        XCTAssertEqual(m.occurredAt, Date(timeIntervalSince1970: 1_718_000_199))
        guard case .ignored = results[1] else { return XCTFail("the echo was not ignored") }
        XCTAssertEqual(results[2], .ignored(reason: "instagram comments not handled"))
    }

    func testNormalizeThrowsOnlyForNonObjects() {
        for text in ["[]", "1", "{"] {
            XCTAssertThrowsError(try MetaWebhook.normalize(eventJSON: text, channel: .facebook, accountExternalID: "1"), text)
        }
        XCTAssertNoThrow(try MetaWebhook.normalize(eventJSON: "{}", channel: .facebook, accountExternalID: "1"))
        XCTAssertNoThrow(try MetaWebhook.normalize(eventJSON: #"{"field":"feed"}"#, channel: .facebook, accountExternalID: "1"))
    }
}
