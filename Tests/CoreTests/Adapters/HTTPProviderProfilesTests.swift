import XCTest
@testable import Core

final class HTTPProviderProfilesTests: XCTestCase {
    /// Records the URL and answers with a canned body.
    final class FakeHTTP: HTTPClient, @unchecked Sendable {
        var requests: [HTTPRequest] = []
        let status: Int
        let body: String
        init(status: Int = 200, body: String) { self.status = status; self.body = body }
        func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
            requests.append(request)
            return HTTPResponse(status: status, headers: [:], body: Array(body.utf8), elapsedMilliseconds: 1)
        }
    }

    func testLineProfileUsesTheBearerTokenAndReadsNameAndPicture() throws {
        let http = FakeHTTP(body: #"{"userId":"U1","displayName":"สมชาย","pictureUrl":"https://p/1"}"#)
        let profiles = HTTPProviderProfiles(http: http, lineAPIBaseURL: "http://sim", graphBaseURL: "http://g", graphVersion: "v25.0")
        let profile = try profiles.profile(channel: .line, externalUserID: "U1abc", accessToken: "tok")
        XCTAssertEqual(profile, ProviderProfile(displayName: "สมชาย", pictureURL: "https://p/1"))
        XCTAssertEqual(http.requests.first?.url, "http://sim/v2/bot/profile/U1abc")
        XCTAssertTrue(http.requests.first?.headers.contains { $0 == ("Authorization", "Bearer tok") } ?? false)
    }

    func testAGroupChatsProfileIsItsSummaryAndARoomHasNone() throws {
        let http = FakeHTTP(body: #"{"groupId":"Cabc","groupName":"ทีมจัดซื้อ","pictureUrl":"https://p/g"}"#)
        let profiles = HTTPProviderProfiles(http: http, lineAPIBaseURL: "http://sim", graphBaseURL: "http://g", graphVersion: "v25.0")
        XCTAssertEqual(try profiles.profile(channel: .line, externalUserID: "Cabc", accessToken: "tok"),
                       ProviderProfile(displayName: "ทีมจัดซื้อ", pictureURL: "https://p/g"))
        XCTAssertEqual(http.requests.map(\.url), ["http://sim/v2/bot/group/Cabc/summary"])
        XCTAssertEqual(try profiles.profile(channel: .line, externalUserID: "Rabc", accessToken: "tok"),
                       ProviderProfile(displayName: nil, pictureURL: nil))
        XCTAssertEqual(http.requests.count, 1, "LINE has no room summary to ask for")
    }

    func testGraphLookupsEscapeTheTokenAndRefuseOddIds() throws {
        let http = FakeHTTP(body: #"{"id":"1_2","message":"hello"}"#)
        let profiles = HTTPProviderProfiles(http: http, lineAPIBaseURL: "http://sim", graphBaseURL: "http://g", graphVersion: "v25.0")
        XCTAssertEqual(try profiles.commentText(commentID: "1_2", accessToken: "a&b=c"), "hello")
        XCTAssertEqual(http.requests.first?.url, "http://g/v25.0/1_2?fields=message&access_token=a%26b%3Dc")
        XCTAssertThrowsError(try profiles.commentText(commentID: "../me/messages", accessToken: "t"))
        XCTAssertThrowsError(try profiles.profile(channel: .facebook, externalUserID: "1?x=y", accessToken: "t"))
        XCTAssertEqual(http.requests.count, 1, "a refused id must not reach the network")
    }

    func testErrorStatusesAreFailures() {
        let profiles = HTTPProviderProfiles(http: FakeHTTP(status: 404, body: "{}"), lineAPIBaseURL: "http://sim",
                                            graphBaseURL: "http://g", graphVersion: "v25.0")
        XCTAssertThrowsError(try profiles.profile(channel: .line, externalUserID: "U1", accessToken: "t"))
    }
}
