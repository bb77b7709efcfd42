import XCTest
@testable import Core

final class LeadStatusTests: XCTestCase {
    /// The whole table, written out independently of the implementation.
    func testEveryTransitionOfTheLifecycle() {
        let path: [LeadStatus] = [.new, .assigned, .contacted, .qualified, .proposalSent, .negotiation, .won]
        var allowed = Set<String>()
        for s in LeadStatus.allCases { allowed.insert("\(s.rawValue)>\(s.rawValue)") }
        for (a, b) in zip(path, path.dropFirst()) { allowed.insert("\(a.rawValue)>\(b.rawValue)") }
        for s in LeadStatus.allCases where s != .won && s != .lost { allowed.insert("\(s.rawValue)>LOST") }
        XCTAssertEqual(allowed.count, 8 + 6 + 6)

        for from in LeadStatus.allCases {
            for to in LeadStatus.allCases {
                let expected = allowed.contains("\(from.rawValue)>\(to.rawValue)")
                XCTAssertEqual(from.canMove(to: to), expected, "\(from) → \(to)")
                XCTAssertEqual(from.allowedNext.contains(to), expected && from != to, "allowedNext of \(from) and \(to)")
            }
        }
    }

    func testFinalStatusesOfferNothing() {
        XCTAssertEqual(LeadStatus.won.allowedNext, [])
        XCTAssertEqual(LeadStatus.lost.allowedNext, [])
        XCTAssertEqual(LeadStatus.new.allowedNext, [.assigned, .lost])
    }

    func testIllegalMoveNamesTheAllowedStatuses() {
        let error = UpdateLead.illegalMove(from: .new, to: .won)
        XCTAssertEqual(error.status, 409)
        XCTAssertEqual(error.code, "invalid_status_transition")
        XCTAssertEqual(error.details["allowedNextStatuses"], ["ASSIGNED", "LOST"])
        XCTAssertEqual(error.details["currentStatus"], ["NEW"])
        XCTAssertEqual(UpdateLead.illegalMove(from: .won, to: .lost).details["allowedNextStatuses"], [])
    }

    func testFunnelCountsLeadsAtOrBeyondEachStage() {
        let metrics = DashboardMetrics(
            periodDays: 30, generatedAt: Date(), leadCounts: [.new: 5, .contacted: 3, .won: 2, .lost: 4], agents: [],
            inbound: 0, outbound: 0, inboundByChannel: [.line: 7], identities: 0, openConversations: 0)
        let reached = Dictionary(uniqueKeysWithValues: metrics.conversionFunnel.map { ($0.status, $0.reached) })
        XCTAssertEqual(reached[.new], 10)
        XCTAssertEqual(reached[.assigned], 5)
        XCTAssertEqual(reached[.contacted], 5)
        XCTAssertEqual(reached[.qualified], 2)
        XCTAssertEqual(reached[.won], 2)
        XCTAssertEqual(reached[.lost], 4)
        XCTAssertEqual(metrics.leadsByStatus.count, 8)
        XCTAssertEqual(metrics.leadsByStatus["NEGOTIATION"], 0)
        XCTAssertEqual(metrics.omniSummary.totalLeads, 14)
        XCTAssertEqual(metrics.inboundByChannel30d, ["LINE": 7, "FACEBOOK": 0, "INSTAGRAM": 0])
    }
}
