import Synchronization
import XCTest
@testable import Core

/// The resolver answers within its deadline whatever the nameserver does, so a send never holds a responder for
/// the system resolver's retries.
final class SystemHostResolverTests: XCTestCase {
    func testALookupPastTheDeadlineFailsAtTheDeadline() {
        let resolver = SystemHostResolver(timeout: .milliseconds(200)) { _ in
            Thread.sleep(forTimeInterval: 2)
            return [.v4(93, 184, 216, 34)]
        }
        let started = ContinuousClock.now
        XCTAssertThrowsError(try resolver.addresses(of: "slow.example")) { error in
            XCTAssertTrue("\(error)".contains("no answer within"), "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(1))
    }

    func testALookupWithinTheDeadlineAnswersItsAddressesOrItsError() throws {
        let fast = SystemHostResolver(timeout: .seconds(2)) { _ in [.v4(93, 184, 216, 34)] }
        XCTAssertEqual(try fast.addresses(of: "fast.example"), [.v4(93, 184, 216, 34)])
        let failing = SystemHostResolver(timeout: .seconds(2)) { host in
            throw SystemHostResolver.Failure(description: "cannot resolve \(host): Name or service not known")
        }
        XCTAssertThrowsError(try failing.addresses(of: "nx.example")) { error in
            XCTAssertTrue("\(error)".contains("Name or service not known"), "\(error)")
        }
    }

    /// A name that just failed fails again at once for a while: a burst of sends naming it holds no responder for
    /// the timeout each.
    func testANameThatJustFailedFailsAtOnce() {
        let asked = Mutex(0)
        let resolver = SystemHostResolver(timeout: .milliseconds(200)) { _ in
            asked.withLock { $0 += 1 }
            Thread.sleep(forTimeInterval: 1)
            return []
        }
        let host = "hangs-\(UUID().uuidString).example"
        XCTAssertThrowsError(try resolver.addresses(of: host))
        let started = ContinuousClock.now
        XCTAssertThrowsError(try resolver.addresses(of: host)) { XCTAssertTrue("\($0)".contains("moments ago"), "\($0)") }
        XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(100))
        XCTAssertEqual(asked.withLock { $0 }, 1)
    }
}
