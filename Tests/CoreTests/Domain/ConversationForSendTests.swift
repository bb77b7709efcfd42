import XCTest
@testable import Core

/// A send's `channelThreadId` may name its conversation as stored or in the earlier API's forms, and nothing else.
final class ConversationForSendTests: XCTestCase {
    func conversation(_ channel: Channel, thread: String, type: String? = nil, comment: String? = nil,
                      user: String? = nil) -> ConversationForSend {
        ConversationForSend(id: UUID(), tenantID: UUID(), leadID: UUID(), channel: channel, channelThreadID: thread,
                            providerThreadType: type, providerCommentID: comment, providerExternalUserID: user,
                            privateReplySentAt: nil, lastInboundAt: nil, createdAt: Date())
    }

    func testMessengerThreadsAreNamedByThePSIDWithOrWithoutUserPrefix() {
        let dm = conversation(.facebook, thread: "6284739201847563", type: "MESSENGER_DM", user: "6284739201847563")
        for name in ["6284739201847563", "user:6284739201847563"] { XCTAssertTrue(dm.isNamed(byThread: name), name) }
        for name in ["user:1", "comment:6284739201847563", "628473920184756", "USER:6284739201847563", "",
                     "ig:user:6284739201847563"] {
            XCTAssertFalse(dm.isNamed(byThread: name), name)
        }
    }

    func testCommentThreadsAreNamedByTheirCommentAlsoAfterMovingToMessenger() {
        let comment = conversation(.facebook, thread: "1_2", type: "FACEBOOK_COMMENT", comment: "1_2", user: "555")
        for name in ["1_2", "comment:1_2", "user:555"] { XCTAssertTrue(comment.isNamed(byThread: name), name) }
        XCTAssertFalse(comment.isNamed(byThread: "comment:1_3"))
        // Moved to the PSID by its Private Reply (the thread type stays): named by either id, as a client read it.
        let moved = conversation(.facebook, thread: "555", type: "FACEBOOK_COMMENT", comment: "1_2", user: "555")
        for name in ["555", "1_2", "comment:1_2", "user:555"] { XCTAssertTrue(moved.isNamed(byThread: name), name) }
        XCTAssertFalse(moved.isNamed(byThread: "1_3"))
    }

    func testInstagramAndLineThreads() {
        let ig = conversation(.instagram, thread: "17841400000000001", user: "17841400000000001")
        XCTAssertTrue(ig.isNamed(byThread: "ig:user:17841400000000001"))
        XCTAssertFalse(ig.isNamed(byThread: "comment:17841400000000001"))
        XCTAssertFalse(ig.isNamed(byThread: "user:17841400000000001"), "Messenger's form names no Instagram thread")
        let line = conversation(.line, thread: "U4af4980629", user: "U4af4980629")
        XCTAssertTrue(line.isNamed(byThread: "U4af4980629"))
        XCTAssertFalse(line.isNamed(byThread: "user:U4af4980629"), "LINE had no prefixed form")
    }

    /// A comment whose author Meta left out is keyed by the comment: there is nobody to send a DM to until the
    /// Private Reply's answer names the PSID.
    func testACommentWithoutItsAuthorHasNoDirectRecipient() {
        let anonymous = conversation(.facebook, thread: "1_2", type: "FACEBOOK_COMMENT", comment: "1_2", user: "comment:1_2")
        XCTAssertNil(anonymous.directRecipientID)
        XCTAssertFalse(anonymous.isNamed(byThread: "user:comment:1_2"))
        XCTAssertTrue(anonymous.isNamed(byThread: "comment:1_2"))
    }
}
