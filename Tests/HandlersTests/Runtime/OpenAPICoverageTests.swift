import Foundation
import XCTest
@testable import Handlers

/// docs/openapi.yaml must describe every route the responders serve.
final class OpenAPICoverageTests: XCTestCase {
    func testEveryRouteIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let document = try String(contentsOf: root.appendingPathComponent("docs/openapi.yaml"), encoding: .utf8)
        for route in AllRoutes.list {
            let type = type(of: route)
            let path = type.pattern.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }
                .joined(separator: "/")
            guard let range = document.range(of: "\n  /\(path):\n") else {
                XCTFail("\(type.pattern) is not in docs/openapi.yaml")
                continue
            }
            let rest = document[range.upperBound...]
            let block = rest.prefix(while: { _ in true }).components(separatedBy: "\n  /").first ?? ""
            XCTAssertTrue(block.contains("    \(type.method.lowercased()):"), "\(type.method) \(type.pattern) is not documented")
        }
    }
}
