import Core
import Foundation
import XCTest

/// Uploads are judged by their bytes: real images and PDFs are stored and served; everything pretending is refused.
final class UploadTests: XCTestCase {
    /// A real 8×8 JPEG and a 2×2 PNG.
    static let jpeg = Array(Data(base64Encoded:
        "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAMCAgICAgMCAgIDAwMDBAYEBAQEBAgGBgUGCQgKCgkICQkKDA8MCgsOCwkJDRENDg8QEBEQCgwSExIQ"
        + "Ew8QEBD/2wBDAQMDAwQDBAgEBAgQCwkLEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBD/wAARCAAIAAgDASIA"
        + "AhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAn/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAAAP/EABQRAQAAAAAAAAAA"
        + "AAAAAAAAAAD/2gAMAwEAAhEDEQA/AKpgB//Z")!)
    static let png = Array(Data(base64Encoded:
        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==")!)

    static func pdf(extra: String = "") -> [UInt8] {
        let objects = [
            "1 0 obj << /Type /Catalog /Pages 2 0 R \(extra)>> endobj\n",
            "2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n",
            "3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n",
        ]
        var body = "%PDF-1.4\n"
        var offsets: [Int] = []
        for o in objects { offsets.append(body.utf8.count); body += o }
        let xref = body.utf8.count
        body += "xref\n0 4\n0000000000 65535 f \n" + offsets.map { String(format: "%010d 00000 n \n", $0) }.joined()
        body += "trailer << /Size 4 /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Array(body.utf8)
    }

    func upload(_ f: APIFixture, _ route: String, bytes: [UInt8], fileName: String, declaredType: String) throws -> HTTPResponse {
        let boundary = "hubchat-\(UUID().uuidString)"
        var body = Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\(fileName)\"\r\nContent-Type: \(declaredType)\r\n\r\n".utf8)
        body += bytes + Array("\r\n--\(boundary)--\r\n".utf8)
        return try TestStack.http("POST", "/api/messages/\(route)", body: body, headers: [
            ("Authorization", "Bearer " + (try f.token("sales"))), ("x-tenant-id", f.tenantID.uuidString),
            ("Content-Type", "multipart/form-data; boundary=\(boundary)")])
    }

    func testImagesAreStoredWithAPreviewAndServedBySignedURL() throws {
        let f = try APIFixture.make(leadCount: 0, messageCount: 0)
        let response = try upload(f, "upload-image", bytes: Self.jpeg, fileName: "catalogue.jpg", declaredType: "image/jpeg")
        XCTAssertEqual(response.status, 201, response.text)
        let o = response.object
        XCTAssertEqual(o["mimeType"] as? String, "image/jpeg")
        XCTAssertEqual(o["width"] as? Int, 8)
        XCTAssertEqual(o["height"] as? Int, 8)
        XCTAssertEqual(o["fileSizeBytes"] as? Int, Self.jpeg.count)
        XCTAssertTrue((o["path"] as? String)?.hasPrefix(f.tenantID.uuidString.lowercased() + "/") ?? false)
        let url = try XCTUnwrap(o["mediaUrl"] as? String)
        XCTAssertTrue(url.contains("md5=") && url.contains("expires="), "signed by default: \(url)")
        let served = try CurlHTTPClient().send(HTTPRequest(url: url))
        XCTAssertEqual(served.status, 200)
        XCTAssertEqual(served.body, Self.jpeg)
        let forged = try CurlHTTPClient().send(HTTPRequest(url: url.replacingOccurrences(of: "md5=", with: "md5=x")))
        XCTAssertEqual(forged.status, 403)
        let preview = try CurlHTTPClient().send(HTTPRequest(url: try XCTUnwrap(o["previewUrl"] as? String)))
        XCTAssertEqual(preview.status, 200)
        XCTAssertEqual(Array(preview.body.prefix(3)), [0xFF, 0xD8, 0xFF])

        // A PNG named .jpg is a PNG: the content decides.
        let png = try upload(f, "upload-image", bytes: Self.png, fileName: "photo.jpg", declaredType: "image/jpeg")
        XCTAssertEqual(png.status, 201, png.text)
        XCTAssertEqual(png.object["mimeType"] as? String, "image/png")
        XCTAssertTrue((png.object["path"] as? String)?.hasSuffix(".png") ?? false)
    }

    func testPretendersAreRefused() throws {
        let f = try APIFixture.make(leadCount: 0, messageCount: 0)
        let html = Array("<html><script>alert(1)</script></html>".utf8)
        let cases: [(String, [UInt8], String, String, Int)] = [
            ("upload-image", html, "photo.jpg", "image/jpeg", 415),                                   // mislabelled
            ("upload-image", Self.pdf(), "photo.jpg", "image/jpeg", 415),                             // a PDF as image
            ("upload-image", Self.jpeg + Array("<script>alert(1)</script>".utf8), "a.jpg", "image/jpeg", 422), // polyglot
            ("upload-image", Self.png + Array("PK\u{3}\u{4}zip".utf8), "a.png", "image/png", 422),     // PNG + ZIP
            ("upload-image", Array(Self.jpeg.prefix(Self.jpeg.count / 2)), "a.jpg", "image/jpeg", 422),// truncated
            ("upload-image", Array(Self.jpeg.prefix(200)) + [0xFF, 0xD9], "a.jpg", "image/jpeg", 422),// does not decode
            ("upload-image", [], "a.jpg", "image/jpeg", 400),
            ("upload-pdf", Self.jpeg, "quote.pdf", "application/pdf", 415),                           // an image as PDF
            ("upload-pdf", html, "quote.pdf", "application/pdf", 415),
            ("upload-pdf", Array(Self.pdf().prefix(120)), "quote.pdf", "application/pdf", 422),       // truncated
            ("upload-pdf", Self.pdf(extra: "/OpenAction << /S /JavaScript /JS (app.alert(1)) >> "), "q.pdf", "application/pdf", 422),
            ("upload-pdf", Array("%PDF-1.4\n<html><body>hi</body></html>\n".utf8) + Self.pdf().dropFirst(9), "q.pdf",
             "application/pdf", 422),                                                                  // PDF + HTML
        ]
        for (route, bytes, name, type, status) in cases {
            let response = try upload(f, route, bytes: bytes, fileName: name, declaredType: type)
            XCTAssertEqual(response.status, status, "\(route) \(name) (\(bytes.count) bytes): \(response.text)")
            XCTAssertNotNil(response.errorCode)
        }
        let notMultipart = try TestStack.http("POST", "/api/messages/upload-image", body: Self.jpeg, headers: [
            ("Authorization", "Bearer " + (try f.token("sales"))), ("x-tenant-id", f.tenantID.uuidString),
            ("Content-Type", "image/jpeg")])
        XCTAssertEqual(notMultipart.status, 415)
        let anonymous = try TestStack.http("POST", "/api/messages/upload-image", body: Self.jpeg)
        XCTAssertEqual(anonymous.status, 401)
    }

    func testARealPDFIsStoredAndCanBeSentOnLine() throws {
        let f = try OutboundFixture.make()
        let response = try upload(f.api, "upload-pdf", bytes: Self.pdf(), fileName: "../../etc/ใบเสนอราคา", declaredType: "application/octet-stream")
        XCTAssertEqual(response.status, 201, response.text)
        XCTAssertEqual(response.object["fileName"] as? String, "ใบเสนอราคา.pdf")
        let url = try XCTUnwrap(response.object["fileUrl"] as? String)
        XCTAssertEqual(try CurlHTTPClient().send(HTTPRequest(url: url)).body, Self.pdf())
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", [
            "type": "document_pdf", "mediaUrl": url, "mimeType": "application/pdf", "fileName": "ใบเสนอราคา.pdf"])
        XCTAssertEqual(sent.status, 202, sent.text)
        XCTAssertEqual(try f.settledStatus(sent.object["messageId"] as! String)["status"], "SENT")
    }

    func testAnUploadedImageWithoutPreviewGetsOneGeneratedForLine() throws {
        let f = try OutboundFixture.make()
        let uploaded = try upload(f.api, "upload-image", bytes: Self.jpeg, fileName: "a.jpg", declaredType: "image/jpeg")
        let url = try XCTUnwrap(uploaded.object["mediaUrl"] as? String)
        let sent = try f.send(f.lineConversation, lead: f.lineLead, channel: "LINE", ["type": "image", "mediaUrl": url,
                                                                                      "mimeType": "image/jpeg"])
        XCTAssertEqual(sent.status, 202, sent.text)
        let id = try XCTUnwrap(sent.object["messageId"] as? String)
        XCTAssertEqual(try f.settledStatus(id)["status"], "SENT")
        let push = try XCTUnwrap(try f.providerRequests("/v2/bot/message/push").last)
        let image = try XCTUnwrap(((push["body"] as? [String: Any])?["messages"] as? [[String: Any]])?.last)
        let preview = try XCTUnwrap(image["previewImageUrl"] as? String)
        XCTAssertTrue(preview.contains("/previews/\(id).jpg"), preview)
        let fetched = try CurlHTTPClient().send(HTTPRequest(url: preview))
        XCTAssertEqual(fetched.status, 200)
        XCTAssertLessThanOrEqual(fetched.body.count, 1_000_000)
    }
}
