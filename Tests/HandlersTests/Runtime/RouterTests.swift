import Core
import XCTest
@testable import Handlers

private struct Echo: Route {
    static let method = "GET"
    static let pattern = "/api/leads/:id"
    static let group = RouteGroup.api
    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        Response(status: 200, body: Array(try request.pathParameter("id").utf8))
    }
}

private struct Assign: Route {
    static let method = "POST"
    static let pattern = "/api/leads/:id/assign"
    static let group = RouteGroup.api
    func handle(_ request: Request, _ context: RequestContext) throws -> Response { Response(status: 204) }
}

private struct Patch: Route {
    static let method = "PATCH"
    static let pattern = "/api/leads/:id"
    static let group = RouteGroup.api
    func handle(_ request: Request, _ context: RequestContext) throws -> Response { Response(status: 200) }
}

final class RouterTests: XCTestCase {
    let router = Router(routes: [Echo(), Assign(), Patch()])

    func testMatchesPatternsAndCapturesParameters() {
        guard case .found(let route, let params) = router.match(method: "GET", path: "/api/leads/abc") else {
            return XCTFail("no match")
        }
        XCTAssertTrue(route is Echo)
        XCTAssertEqual(params, ["id": "abc"])
        guard case .found(let assign, let p2) = router.match(method: "POST", path: "/api/leads/42/assign/") else {
            return XCTFail("no match with a trailing slash")
        }
        XCTAssertTrue(assign is Assign)
        XCTAssertEqual(p2["id"], "42")
    }

    func testWrongMethodListsTheAllowedOnes() {
        guard case .methodNotAllowed(let allowed) = router.match(method: "DELETE", path: "/api/leads/1") else {
            return XCTFail("expected 405")
        }
        XCTAssertEqual(Set(allowed), ["GET", "PATCH"])
    }

    func testHeadIsServedByGet() {
        guard case .found(let route, _) = router.match(method: "HEAD", path: "/api/leads/1") else { return XCTFail() }
        XCTAssertTrue(route is Echo)
    }

    func testUnknownPathsAreNotFound() {
        for path in ["/api/leads", "/api/leads/1/assign/extra", "/", "/api/lead/1"] {
            guard case .notFound = router.match(method: "GET", path: path) else { return XCTFail(path) }
        }
    }

    func testEveryProductRouteHasAUniqueMethodAndPattern() {
        var seen = Set<String>()
        for route in AllRoutes.list {
            let type = type(of: route)
            XCTAssertTrue(type.pattern.hasPrefix("/api/"), type.pattern)
            XCTAssertTrue(seen.insert("\(type.method) \(type.pattern)").inserted, type.pattern)
            if type.pattern.hasPrefix("/api/webhook/") { XCTAssertEqual(type.group, .webhooks) }
            else { XCTAssertEqual(type.group, .api) }
        }
    }
}
