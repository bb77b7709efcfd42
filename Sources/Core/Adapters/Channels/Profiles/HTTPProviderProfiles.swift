import FoundationEssentials

/// `ProviderProfiles` over HTTP: LINE's profile API and Meta's Graph API, at configurable base
/// URLs. Tokens go in headers (LINE) or the query (Graph), never into a log line.
public struct HTTPProviderProfiles: ProviderProfiles {
    let http: any HTTPClient
    let lineAPIBaseURL: String
    let graphBaseURL: String
    let graphVersion: String
    let timeoutMilliseconds: Int

    public init(http: any HTTPClient, lineAPIBaseURL: String, graphBaseURL: String, graphVersion: String,
                timeoutMilliseconds: Int = 3_000) {
        self.http = http
        self.lineAPIBaseURL = lineAPIBaseURL
        self.graphBaseURL = graphBaseURL
        self.graphVersion = graphVersion
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// The providers' APIs as configured.
    public init(http: any HTTPClient, providers: HubChatConfig.Providers) {
        self.init(http: http, lineAPIBaseURL: providers.lineAPIBaseURL, graphBaseURL: providers.metaGraphBaseURL,
                  graphVersion: providers.metaGraphVersion)
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public func profile(channel: Channel, externalUserID: String, accessToken: String) throws -> ProviderProfile {
        let id = try Self.pathSegment(externalUserID)
        switch channel {
        case .line:
            // A group chat is a customer of its own (LineWebhook.Source): its name and picture come from the group
            // summary. LINE offers nothing of the kind for rooms (ids starting with "R").
            if id.hasPrefix("R") { return ProviderProfile(displayName: nil, pictureURL: nil) }
            let group = id.hasPrefix("C")
            let body = try get(lineAPIBaseURL + (group ? "/v2/bot/group/\(id)/summary" : "/v2/bot/profile/" + id),
                               headers: [("Authorization", "Bearer " + accessToken)])
            return ProviderProfile(displayName: body[group ? "groupName" : "displayName"]?.stringValue,
                                   pictureURL: body["pictureUrl"]?.stringValue)
        case .facebook, .instagram:
            let fields = channel == .facebook ? "name,first_name,last_name,profile_pic" : "name,username,profile_pic"
            let body = try get(graphURL(id, query: "fields=\(fields)", token: accessToken))
            let name = body["name"]?.stringValue ?? body["username"]?.stringValue
            return ProviderProfile(displayName: name, pictureURL: body["profile_pic"]?.stringValue)
        }
    }

    public func commentText(commentID: String, accessToken: String) throws -> String? {
        try get(graphURL(try Self.pathSegment(commentID), query: "fields=message", token: accessToken))["message"]?.stringValue
    }

    private func graphURL(_ node: String, query: String, token: String) -> String {
        "\(graphBaseURL)/\(graphVersion)/\(node)?\(query)&access_token=\(Self.queryEscaped(token))"
    }

    private func get(_ url: String, headers: [(String, String)] = []) throws -> JSONValue {
        let response: HTTPResponse
        do {
            response = try http.send(HTTPRequest(method: "GET", url: url, headers: headers, timeoutMilliseconds: timeoutMilliseconds))
        } catch {
            throw Failure(description: "\(error)")
        }
        guard (200..<300).contains(response.status) else { throw Failure(description: "HTTP \(response.status)") }
        guard let body = try? JSONValue.parse(response.body), body.objectValue != nil else {
            throw Failure(description: "answer is not a JSON object")
        }
        return body
    }

    /// Provider ids are digits, letters, `_` and `-`; anything else is refused rather than
    /// spliced into a URL.
    static func pathSegment(_ id: String) throws -> String {
        let allowed = id.utf8.allSatisfy { b in
            (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 95 || b == 45
        }
        guard !id.isEmpty, id.utf8.count <= 128, allowed else { throw Failure(description: "unexpected id format") }
        return id
    }

    static func queryEscaped(_ text: String) -> String {
        var out = ""
        for b in text.utf8 {
            if (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b == 45 || b == 46 || b == 95 || b == 126 {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                out += "%" + Hex.encode([b]).uppercased()
            }
        }
        return out
    }
}
