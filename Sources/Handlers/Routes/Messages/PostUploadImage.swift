import Core

/// `POST /api/messages/upload-image`: a JPEG, PNG or WEBP (by content), stored under the tenant; answers its URL,
/// a ≤ 1 MB JPEG preview URL, size and dimensions.
struct PostUploadImage: Route {
    static let method = "POST"
    static let pattern = "/api/messages/upload-image"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, file) = try context.upload(request)
        return try .json(context.uploadMedia().image(tenantID: principal.tenantID, bytes: file.body, fileName: file.fileName),
                         status: 201)
    }
}

/// `POST /api/messages/upload-pdf`: a real PDF (by content, without scripts), stored under the tenant.
struct PostUploadPDF: Route {
    static let method = "POST"
    static let pattern = "/api/messages/upload-pdf"
    static let group = RouteGroup.api

    func handle(_ request: Request, _ context: RequestContext) throws -> Response {
        let (principal, file) = try context.upload(request)
        return try .json(context.uploadMedia().pdf(tenantID: principal.tenantID, bytes: file.body, fileName: file.fileName),
                         status: 201)
    }
}

extension RequestContext {
    /// The caller (checked first) and the uploaded file. Membership is read in a short transaction; the file work
    /// that follows happens outside it.
    func upload(_ request: Request) throws -> (Principal, MultipartForm.Part) {
        let caller = try caller(request)
        guard let file = try MultipartForm(request: request).file else {
            throw AppError.invalidField("file", "is required: a multipart part named file.")
        }
        return (try run(as: caller) { principal, _ in principal }, file)
    }
}
