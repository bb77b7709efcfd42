import Logging
import XCTest
@testable import Core

/// The use case against in-memory ports: what it asks the inbox to do, and what it publishes.
final class ProcessInboundEventTests: XCTestCase {
    class FakeInbox: InboxRecorder, @unchecked Sendable {
        var event: StoredWebhookEvent
        var insertNext = true
        var recorded: [InboundMessage] = []
        var processedNotes: [String?] = []
        init(event: StoredWebhookEvent) { self.event = event }
        func webhookEvent(id: UUID) throws -> StoredWebhookEvent? { id == event.id ? event : nil }
        func lookupContext(event: StoredWebhookEvent, externalUserID: String) throws -> InboundLookupContext {
            InboundLookupContext(accessToken: "token", profileFetchedAt: nil)
        }
        func updateProfile(event: StoredWebhookEvent, externalUserID: String, profile: ProviderProfile) throws -> Bool { true }
        func recordMessage(_ message: InboundMessage, event: StoredWebhookEvent, media: InboundMedia?) throws -> InboundRecord {
            recorded.append(message)
            return InboundRecord(conversationID: UUID(), leadID: UUID(), messageID: insertNext ? UUID() : nil, inserted: insertNext)
        }
        var activities: [InboundActivity] = []
        func recordActivity(_ activity: InboundActivity, event: StoredWebhookEvent) throws -> UUID? {
            activities.append(activity)
            return InboundActivity.departures.contains(activity.kind) ? nil : UUID()
        }
        func accessToken(tenantID: UUID, channelAccountID: UUID?) throws -> String? { "token" }
        var imagePending = true
        func lineImagePending(tenantID: UUID, lineMessageID: String) throws -> Bool { imagePending }
        var attached: [(String, InboundMedia)] = []
        func attachLineImage(tenantID: UUID, lineMessageID: String, media: InboundMedia) throws -> InboundRecord? {
            attached.append((lineMessageID, media))
            return InboundRecord(conversationID: UUID(), leadID: UUID(), messageID: UUID(), inserted: false)
        }
        func commentTextPending(tenantID: UUID, commentID: String) throws -> Bool { false }
        func attachCommentText(tenantID: UUID, commentID: String, text: String?) throws -> InboundRecord? { nil }
        var revisions: [InboundRevision] = []
        func recordRevision(_ revision: InboundRevision, event: StoredWebhookEvent) throws -> InboundRecord? {
            revisions.append(revision)
            guard messageIsThere else { return nil }
            return InboundRecord(conversationID: UUID(), leadID: UUID(), messageID: UUID(), inserted: false)
        }
        var held: [HeldRevision] = []
        var messageIsThere = true
        func holdRevision(_ revision: InboundRevision, event: StoredWebhookEvent) throws -> Bool {
            if messageIsThere { return false }
            held.append(HeldRevision(revision: revision, event: event))
            return true
        }
        func heldRevisions(tenantID: UUID, channel: Channel, providerMessageID: String) throws -> [HeldRevision] {
            held.filter { $0.event.tenantID == tenantID && $0.revision.channel == channel
                && $0.revision.providerMessageID == providerMessageID }
        }
        func releaseHeldRevision(_ revision: HeldRevision) throws { held.removeAll { $0 == revision } }
        func markProcessed(event: StoredWebhookEvent, note: String?) throws { processedNotes.append(note) }
    }

    final class Published: RealtimePublisher, @unchecked Sendable {
        var events: [RealtimeEvent] = []
        func publish(_ event: RealtimeEvent) { events.append(event) }
        func endStreams(ofAgent agentID: UUID) {}
    }

    func event(_ payload: String, channel: Channel = .line) -> StoredWebhookEvent {
        StoredWebhookEvent(id: UUID(), tenantID: UUID(), channel: channel, channelAccountID: UUID(), accountExternalID: "U0",
                           payload: payload, processed: false)
    }

    let lineText = #"{"type":"message","webhookEventId":"E1","timestamp":1795737925000,"source":{"type":"user","userId":"U1"},"replyToken":"r","message":{"id":"1","type":"text","text":"hi"}}"#

    func testANewMessageIsRecordedAndPublishedOnce() throws {
        let inbox = FakeInbox(event: event(lineText))
        let published = Published()
        let process = ProcessInboundEvent(inbox: inbox, realtime: published, logger: Logger(label: "test"))
        let outcome = try process(jobPayload: #"{"webhookEventId":"\#(inbox.event.id.uuidString)"}"#)
        guard case .recorded(let record) = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(record.inserted)
        XCTAssertEqual(inbox.recorded.map(\.text), ["hi"])
        XCTAssertEqual(published.events.map(\.type), ["message.received"])
        XCTAssertEqual(published.events.first?.tenantID, inbox.event.tenantID)

        // A re-run that inserts nothing publishes nothing.
        inbox.insertNext = false
        _ = try process(jobPayload: #"{"webhookEventId":"\#(inbox.event.id.uuidString)"}"#)
        XCTAssertEqual(published.events.count, 1)
    }

    /// Three photos in one Messenger message are three messages; a run cut short after the first (which marks the
    /// event processed) records the other two when the job runs again.
    func testAMessageInPartsIsRecordedWholeEvenAfterAnInterruptedRun() throws {
        let photos = #"{"sender":{"id":"123"},"recipient":{"id":"PAGE"},"timestamp":1795737925000,"message":{"mid":"m_3","text":"these","attachments":[{"type":"image","payload":{"url":"https://cdn.example/1.jpg"}},{"type":"image","payload":{"url":"https://cdn.example/2.jpg"}},{"type":"file","payload":{"url":"https://cdn.example/x/quote.pdf"}}]}}"#
        final class Interrupted: FakeInbox, @unchecked Sendable {
            var failAfter: Int? = 1
            override func recordMessage(_ message: InboundMessage, event: StoredWebhookEvent, media: InboundMedia?) throws -> InboundRecord {
                struct Crash: Error {}
                if let failAfter, recorded.count >= failAfter { throw Crash() }
                self.event = StoredWebhookEvent(id: event.id, tenantID: event.tenantID, channel: event.channel,
                                                channelAccountID: event.channelAccountID,
                                                accountExternalID: event.accountExternalID, payload: event.payload, processed: true)
                return try super.recordMessage(message, event: event, media: media)
            }
        }
        let inbox = Interrupted(event: event(photos, channel: .facebook))
        let process = ProcessInboundEvent(inbox: inbox, logger: Logger(label: "test"))
        let job = #"{"webhookEventId":"\#(inbox.event.id.uuidString)","accountExternalId":"PAGE"}"#
        XCTAssertThrowsError(try process(jobPayload: job))
        XCTAssertTrue(inbox.event.processed)
        inbox.failAfter = nil
        guard case .recorded = try process(jobPayload: job) else { return XCTFail() }
        XCTAssertEqual(inbox.recorded.map(\.providerMessageID), ["m_3", "m_3", "m_3#2", "m_3#3"])
        XCTAssertEqual(inbox.recorded.map(\.messageType), ["IMAGE", "IMAGE", "IMAGE", "FILE"])
        XCTAssertEqual(inbox.recorded.map(\.text), ["these", "these", "[Image]", "[File] quote.pdf"])
        XCTAssertEqual(inbox.recorded.last?.mediaURL, "https://cdn.example/x/quote.pdf")
        XCTAssertEqual(inbox.recorded.last?.metadata["attachmentIndex"], "3")
        XCTAssertLessThan(inbox.recorded[2].occurredAt, inbox.recorded[3].occurredAt, "the parts keep their order")
    }

    /// A LINE image's fetch is handed over after its message commits (which marks the event processed): a run cut
    /// short in between must hand it over again, though the event reads as processed.
    func testARerunOfAnImageEventHandsTheFetchOverAgain() throws {
        let image = #"{"type":"message","webhookEventId":"E2","timestamp":1795737925000,"source":{"type":"user","userId":"U1"},"message":{"id":"777","type":"image","contentProvider":{"type":"line"}}}"#
        var stored = event(image)
        stored = StoredWebhookEvent(id: stored.id, tenantID: stored.tenantID, channel: .line, channelAccountID: stored.channelAccountID,
                                    accountExternalID: "U0", payload: image, processed: true)
        let inbox = FakeInbox(event: stored)
        inbox.insertNext = false
        var handed: [AttachInboundLineImage.Request] = []
        let process = ProcessInboundEvent(inbox: inbox, deferLineImage: { handed.append($0) }, logger: Logger(label: "test"))
        guard case .recorded = try process(jobPayload: #"{"webhookEventId":"\#(stored.id.uuidString)"}"#) else { return XCTFail() }
        XCTAssertEqual(handed.map(\.lineMessageId), ["777"])
        XCTAssertEqual(inbox.recorded.first?.metadata["mediaStatus"], "pending")
    }

    /// A take-back that came first is held; the message applies it when it comes, and lets it go. A run cut short
    /// after the message committed (the event reads as processed) still applies what is held.
    func testARevisionBeforeItsMessageIsHeldAndAppliedByTheMessage() throws {
        let unsend = #"{"type":"unsend","webhookEventId":"E9","timestamp":1795737926000,"source":{"type":"user","userId":"U1"},"unsend":{"messageId":"1"}}"#
        let first = event(unsend)
        let inbox = FakeInbox(event: first)
        inbox.messageIsThere = false
        let published = Published()
        let process = ProcessInboundEvent(inbox: inbox, realtime: published, logger: Logger(label: "test"))
        XCTAssertEqual(try process(jobPayload: #"{"webhookEventId":"\#(first.id.uuidString)"}"#),
                       .ignored("held until its message arrives"))
        XCTAssertEqual(inbox.held.map(\.revision.providerMessageID), ["1"])
        XCTAssertEqual(inbox.processedNotes, ["held until its message arrives"])

        inbox.messageIsThere = true
        let message = StoredWebhookEvent(id: UUID(), tenantID: first.tenantID, channel: .line, channelAccountID: nil,
                                         accountExternalID: "U0", payload: lineText, processed: true)
        inbox.event = message
        inbox.insertNext = false
        XCTAssertEqual(try process(jobPayload: #"{"webhookEventId":"\#(message.id.uuidString)"}"#), .alreadyProcessed)
        XCTAssertEqual(inbox.revisions.map(\.change), [.unsent, .unsent], "held, then applied by the message's re-run")
        XCTAssertTrue(inbox.held.isEmpty, "an applied revision is let go")
        XCTAssertEqual(published.events.map(\.type), ["conversation.updated"])
    }

    /// Records the order of what happens around a profile lookup.
    final class Steps: ProviderProfiles, @unchecked Sendable {
        var log: [String] = []
        func profile(channel: Channel, externalUserID: String, accessToken: String) throws -> ProviderProfile {
            log.append("profile lookup")
            return ProviderProfile(displayName: "Somchai", pictureURL: nil)
        }
        func commentText(commentID: String, accessToken: String) throws -> String? { nil }
    }

    func testTheJobIsReleasedOnceTheMessageIsInBeforeTheProfileLookup() throws {
        let inbox = FakeInbox(event: event(lineText))
        let steps = Steps()
        let process = ProcessInboundEvent(inbox: inbox, profiles: steps, logger: Logger(label: "test"))
        let outcome = try process(jobPayload: #"{"webhookEventId":"\#(inbox.event.id.uuidString)"}"#, whenRecorded: {
            steps.log.append("recorded: \(inbox.recorded.count) message")
        })
        guard case .recorded = outcome else { return XCTFail("\(outcome)") }
        XCTAssertEqual(steps.log, ["recorded: 1 message", "profile lookup"],
                       "the customer's next event must not wait on the provider's profile API")
    }

    /// A follow often comes before any message: the new lead is named from the profile then, and dashboards hear of
    /// the lead. An unfollow is no reason to ask (the customer blocked the account).
    func testAFollowLooksTheCustomerUpAndAnUnfollowDoesNot() throws {
        func activity(_ type: String) -> String {
            #"{"type":"\#(type)","webhookEventId":"A-\#(type)","timestamp":1795737925000,"source":{"type":"user","userId":"U1"},"mode":"active"}"#
        }
        for (type, lookups) in [("follow", ["profile lookup"]), ("unfollow", [])] {
            let inbox = FakeInbox(event: event(activity(type)))
            let steps = Steps()
            let published = Published()
            let process = ProcessInboundEvent(inbox: inbox, profiles: steps, realtime: published, logger: Logger(label: "test"))
            XCTAssertEqual(try process(jobPayload: #"{"webhookEventId":"\#(inbox.event.id.uuidString)"}"#), .activity)
            XCTAssertEqual(inbox.activities.map(\.kind), [type.uppercased()])
            XCTAssertEqual(steps.log, lookups, type)
            XCTAssertEqual(published.events.map(\.type), lookups.isEmpty ? [] : ["lead.updated"], type)
        }
    }

    func testEchoesAreMarkedProcessedWithoutALead() throws {
        let echo = #"{"sender":{"id":"PAGE"},"recipient":{"id":"123"},"timestamp":1,"message":{"mid":"m1","is_echo":true,"text":"x"}}"#
        let inbox = FakeInbox(event: event(echo, channel: .facebook))
        let outcome = try ProcessInboundEvent(inbox: inbox, logger: Logger(label: "test"))(
            jobPayload: #"{"webhookEventId":"\#(inbox.event.id.uuidString)","accountExternalId":"PAGE"}"#)
        guard case .ignored = outcome else { return XCTFail("\(outcome)") }
        XCTAssertTrue(inbox.recorded.isEmpty)
        XCTAssertEqual(inbox.processedNotes.count, 1)
    }

    func testBadPayloadsAndMissingEventsArePermanentFailures() {
        let inbox = FakeInbox(event: event(lineText))
        let process = ProcessInboundEvent(inbox: inbox, logger: Logger(label: "test"))
        XCTAssertThrowsError(try process(jobPayload: "{}")) { XCTAssertTrue($0 is PermanentJobFailure) }
        XCTAssertThrowsError(try process(jobPayload: #"{"webhookEventId":"\#(UUID().uuidString)"}"#)) {
            XCTAssertTrue($0 is PermanentJobFailure)
        }
    }
}
