import Core
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// One responder thread: accepts requests from the pool's shared socket one at a time and answers them, until its
/// process stops (see `ResponderProcess`). Everything it holds is its own (database session, caches), except the
/// webhook group commit, which the threads of a process share.
struct Responder {
    let group: RouteGroup
    let router: Router
    let config: HubChatConfig
    let logger: Logger
    let databaseProvider: DatabaseProvider
    let channelAccountCache: ChannelAccountCache
    let tokenVerifier: JWTVerifier
    let realtime: any RealtimePublisher
    let webhookStore: GroupCommitWebhookEventStore

    init(group: RouteGroup, routes: [any Route], config: HubChatConfig, logger: Logger,
         webhookStore: GroupCommitWebhookEventStore) {
        self.group = group
        self.router = Router(routes: routes.filter { type(of: $0).group == group })
        self.config = config
        self.logger = logger
        self.webhookStore = webhookStore
        self.databaseProvider = DatabaseProvider(settings: Self.databaseSettings(group, config))
        self.channelAccountCache = ChannelAccountCache(ttlSeconds: Double(config.responders.channelAccountCacheSeconds))
        self.tokenVerifier = Self.tokenVerifier(config.auth, logger: logger)
        self.realtime = config.realtimePublishURL.flatMap { url in
            (try? CurlHTTPClient()).map { NchanRealtimePublisher(http: $0, baseURL: url, logger: logger) }
        } ?? NoRealtimePublisher()
    }

    /// The webhook pool resolves tenants from channel accounts, so it works across tenants;
    /// the REST pool scopes each transaction to the caller's tenant.
    static func databaseSettings(_ group: RouteGroup, _ config: HubChatConfig) -> PostgresConnection.Settings {
        .init(url: config.database.url, applicationName: "hubchat-fcgi-\(group.rawValue)",
              statementTimeoutMilliseconds: group == .webhooks
                  ? config.database.webhookStatementTimeoutMilliseconds : config.database.statementTimeoutMilliseconds,
              idleInTransactionTimeoutMilliseconds: config.database.idleInTransactionTimeoutMilliseconds,
              systemScope: group == .webhooks)
    }

    /// One per thread, so the JWKS is fetched once and then only when the provider rotates its keys.
    static func tokenVerifier(_ auth: HubChatConfig.Auth, logger: Logger) -> JWTVerifier {
        let source: JWKSKeySet.Source? = auth.jwksURL.map { .url($0) } ?? auth.jwksFile.map { .file($0) }
        return JWTVerifier(
            settings: .init(hs256Secret: auth.jwtSecret, audiences: auth.audiences, issuer: auth.issuer,
                            leewaySeconds: auth.leewaySeconds),
            keySet: source.map { JWKSKeySet(source: $0, logger: logger) })
    }

    /// Serves until `process` stops (told to, or its request budget spent).
    func run(listeningSocket: Int32, process: ResponderProcess.Shared) throws {
        let slot = try FastCGIRequestSlot(listeningSocket: listeningSocket)
        // The session opened before the first request rather than by it (best effort: a failure is met again, and
        // answered, by the first request that needs the database).
        _ = try? databaseProvider.connection()
        process.ready()
        while !process.stopping || slot.holdsAcceptedConnection {
            switch try slot.accept(stopEvent: process.stopEvent) {
            case .again: continue
            case .stopping: return
            case .request:
                let (response, bodyLeftUnread) = serve(slot)
                slot.write(response.serialized())
                let last = process.served()
                // A body left unread would still be on a kept connection: close it instead. So is the connection
                // of a process about to exit, so that nginx does not keep one no process will ever read again, and a
                // kept one whose request came while this responder had taken a new connection (served next).
                slot.finish(closeConnection: last || bodyLeftUnread || slot.holdsAcceptedConnection)
            }
        }
    }

    /// The answer, and whether the request body was left unread (too large, or unreadable).
    private func serve(_ slot: FastCGIRequestSlot) -> (Response, bodyLeftUnread: Bool) {
        let params = slot.parameters()
        let requestID = params["REQUEST_ID"] ?? ""
        var log = logger
        log[metadataKey: "requestId"] = .string(requestID)
        let length = Int(params["CONTENT_LENGTH"] ?? "") ?? 0
        guard length <= config.responders.maxBodyBytes else {
            return (.error(.payloadTooLarge(limitBytes: config.responders.maxBodyBytes), requestID: requestID), true)
        }
        let body: [UInt8]
        do {
            body = try slot.readBody(length: length)
        } catch {
            log.warning("could not read the request body", metadata: ["error": "\(error)"])
            return (.error(.badRequest("The request body could not be read."), requestID: requestID), true)
        }
        do {
            return (dispatch(try Request.fromFastCGI(parameters: params, body: body), logger: log), false)
        } catch let error as AppError {
            return (.error(error, requestID: requestID), false)
        } catch {
            return (.error(.badRequest("The request could not be read."), requestID: requestID), false)
        }
    }

    /// Routes and runs one request, turning every thrown error into a JSON answer.
    func dispatch(_ incoming: Request, logger log: Logger) -> Response {
        var request = incoming
        let route: any Route
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            return .error(.notFound("Route \(request.path)"), requestID: request.requestID)
        case .methodNotAllowed(let allowed):
            return .error(.methodNotAllowed(allowed: allowed), requestID: request.requestID)
        case .found(let matched, let parameters):
            route = matched
            request.pathParameters = parameters
        }
        let context = RequestContext(config: config, logger: log, databaseProvider: databaseProvider,
                                     channelAccountCache: channelAccountCache, tokenVerifier: tokenVerifier, realtime: realtime,
                                     webhookStore: webhookStore)
        do {
            var response = try route.handle(request, context)
            if request.method == "HEAD" { response.body = [] }
            return response
        } catch let error as AppError {
            if error.status >= 500 { log.error("request failed", metadata: ["code": "\(error.code)"]) }
            return .error(error, requestID: request.requestID)
        } catch let error as PostgresError where error.isUnavailable {
            log.error("database unavailable", metadata: ["error": "\(error)"])
            return .error(.databaseUnavailable, requestID: request.requestID)
        } catch let error as PostgresError where error.isStatementTimeout || error.isTransientConflict {
            // Reachable but too slow (usually a row another change holds locked: a long transaction, a migration),
            // or given up as one side of a deadlock. Either way a retry succeeds.
            log.error("statement timed out or gave way", metadata: ["error": "\(error)", "route": "\(type(of: route).pattern)"])
            return .error(.databaseBusy, requestID: request.requestID)
        } catch let error as PostgresError where error.constraint == "leads_status_transition" {
            // The database's guard caught a move the use case let through (two requests raced on one lead).
            return .error(.conflict("The lead's status changed meanwhile and this move is no longer allowed; reload it.",
                                    code: "invalid_status_transition"), requestID: request.requestID)
        } catch let error as PostgresError where error.sqlState?.hasPrefix("22") == true {
            // A data exception (a value PostgreSQL refuses) is the caller's input, not our failure.
            log.warning("input refused by the database", metadata: ["sqlState": "\(error.sqlState ?? "")"])
            return .error(.badRequest("A value in the request is out of range or malformed.", code: "invalid_input"),
                          requestID: request.requestID)
        } catch {
            log.error("unhandled error", metadata: ["error": "\(error)", "route": "\(type(of: route).pattern)"])
            return .error(.internalError, requestID: request.requestID)
        }
    }
}
