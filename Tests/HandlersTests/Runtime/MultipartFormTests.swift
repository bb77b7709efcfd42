import XCTest
@testable import Handlers

/// The file name a customer will see comes from the part's Content-Disposition, quotes and all.
final class MultipartFormTests: XCTestCase {
    func testParametersKeepSemicolonsAndEscapedQuotesInsideQuotes() {
        let header = #" form-data; name="file"; filename="ใบเสนอราคา; v2 \"final\".pdf""#
        XCTAssertEqual(MultipartForm.parameter("name", in: header), "file")
        XCTAssertEqual(MultipartForm.parameter("filename", in: header), #"ใบเสนอราคา; v2 "final".pdf"#)
        XCTAssertEqual(MultipartForm.parameter("filename", in: #"form-data; filename="C:\fakepath\quote.pdf"; name=file"#),
                       #"C:\fakepath\quote.pdf"#)
        XCTAssertEqual(MultipartForm.parameter("name", in: #"form-data; filename="a;name=evil"; name=file"#), "file")
        XCTAssertEqual(MultipartForm.parameter("boundary", in: "multipart/form-data; boundary=----x;y"), "----x")
        XCTAssertNil(MultipartForm.parameter("filename", in: #"form-data; name="file""#))
    }
}
