import CCurl
#if canImport(Glibc)
import Glibc
#endif

/// `HTTPClient` over libcurl's easy interface. One handle per client, reused across requests
/// so connections (and TLS sessions) to a provider stay open. Not for concurrent use: give
/// each worker loop its own client.
public final class CurlHTTPClient: HTTPClient {
    private let handle: UnsafeMutableRawPointer

    public init() throws(HTTPClientError) {
        CurlGlobal.initialize()
        guard let h = curl_easy_init() else { throw .transport("curl_easy_init failed") }
        handle = h
    }

    deinit { curl_easy_cleanup(handle) }

    public func send(_ request: HTTPRequest) throws(HTTPClientError) -> HTTPResponse {
        guard request.url.hasPrefix("http://") || request.url.hasPrefix("https://") else {
            throw .invalidRequest("only http and https URLs are allowed")
        }
        curl_easy_reset(handle)
        let sink = ResponseSink(limit: request.maxResponseBytes)
        let sinkPointer = Unmanaged.passUnretained(sink).toOpaque()
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        // Never let curl add "Expect: 100-continue": it costs a round trip per POST.
        headerList = curl_slist_append(headerList, "Expect:")

        var code = CURLE_OK
        func set(_ result: CURLcode) { if code == CURLE_OK { code = result } }
        set(hubchat_curl_setopt_string(handle, CURLOPT_URL, request.url))
        set(hubchat_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(hubchat_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds))
        set(hubchat_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, min(request.timeoutMilliseconds, 5_000)))
        set(hubchat_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        set(hubchat_curl_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS)))
        set(hubchat_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        set(hubchat_curl_setopt_write_function(handle, curlWriteBody))
        set(hubchat_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer))
        set(hubchat_curl_setopt_header_function(handle, curlWriteHeader))
        set(hubchat_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer))
        set(hubchat_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        if let limit = request.maxResponseBytes {
            // A declared Content-Length over the limit stops the transfer before any of the body is read.
            set(hubchat_curl_setopt_long(handle, CURLOPT_MAXFILESIZE, limit))
        }
        if request.method == "HEAD" { set(hubchat_curl_setopt_long(handle, CURLOPT_NOBODY, 1)) }

        var body = request.body
        let performed: CURLcode = body.withUnsafeMutableBytes { raw in
            if !raw.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
                set(hubchat_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, raw.count))
                if let base = raw.baseAddress {
                    set(hubchat_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, base))
                } else {
                    set(hubchat_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, ""))
                }
            }
            guard code == CURLE_OK else { return code }
            return curl_easy_perform(handle)
        }
        guard performed == CURLE_OK else {
            if sink.exceeded || performed == CURLE_FILESIZE_EXCEEDED, let limit = request.maxResponseBytes {
                throw .responseTooLarge(limit: limit)
            }
            let message = String(cString: curl_easy_strerror(performed))
            if performed == CURLE_OPERATION_TIMEDOUT { throw .timedOut(message) }
            if [CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_COULDNT_CONNECT].contains(performed) {
                throw .notSent(message)
            }
            throw .transport(message)
        }
        var status = 0
        var elapsed = 0.0
        _ = hubchat_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        _ = hubchat_curl_getinfo_double(handle, CURLINFO_TOTAL_TIME, &elapsed)
        return HTTPResponse(status: status, headers: sink.headers, body: sink.body, elapsedMilliseconds: elapsed * 1000)
    }
}

/// Collects what curl's callbacks deliver for one request.
private final class ResponseSink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    let limit: Int?
    /// Set when the body passed `limit`; curl then ends the transfer with a write error.
    var exceeded = false

    init(limit: Int?) { self.limit = limit }

    /// One header line as curl hands it over (with its CRLF); parsed on bytes, since every provider call has a
    /// dozen of them.
    func header(line bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.starts(with: Self.statusPrefix) { headers.removeAll(); return }  // a new response (after 100 Continue)
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")) else { return }
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }
        var start = colon + 1, end = bytes.endIndex
        while start < end, isSpace(bytes[start]) { start += 1 }
        while end > start, isSpace(bytes[end - 1]) { end -= 1 }
        let name = String(decoding: bytes[..<colon].lazy.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
        headers[name] = String(decoding: bytes[start..<end], as: UTF8.self)
    }

    private static let statusPrefix = Array("HTTP/".utf8)
}

private let curlWriteBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let n = size * count
    if let limit = sink.limit, sink.body.count + n > limit {
        sink.exceeded = true
        return 0  // anything but n aborts the transfer
    }
    data.withMemoryRebound(to: UInt8.self, capacity: n) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: n)) }
    return n
}

private let curlWriteHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = {
    data, size, count, context in
    guard let data, let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    let n = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: n) { sink.header(line: UnsafeBufferPointer(start: $0, count: n)) }
    return n
}

/// `curl_global_init` must run once per process before any handle exists.
enum CurlGlobal {
    private static let once: Void = { curl_global_init(Int(CURL_GLOBAL_ALL)) }()
    static func initialize() { _ = once }
}

import FoundationEssentials
