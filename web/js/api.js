// The REST API client: one fetch wrapper that adds the session's headers and turns every failure into an
// ApiError with the API's own code and message ({"error": {"code", "message", "details"?, "requestId"?}}).

export class ApiError extends Error {
  constructor({ status, code, message, details = null, requestId = null }) {
    super(message);
    this.name = "ApiError";
    this.status = status; // 0 for a network failure
    this.code = code;
    this.details = details;
    this.requestId = requestId;
  }

  /** A one-line explanation for the UI, with the request id support can look up. */
  describe() {
    const detail = this.details
      ? " " + Object.entries(this.details).map(([k, v]) => `${k}: ${[].concat(v).join(", ")}`).join("; ")
      : "";
    const id = this.requestId ? ` (request ${this.requestId})` : "";
    return `${this.message}${detail}${id}`;
  }
}

export class ApiClient {
  /**
   * @param session {baseUrl, tenantId, accessToken}
   * @param onUnauthorized called with the ApiError of any 401 (an expired or revoked token), before it is thrown
   */
  constructor(session, { onUnauthorized = null } = {}) {
    this.session = session;
    this.onUnauthorized = onUnauthorized;
  }

  url(path, query) {
    const url = new URL(this.session.baseUrl.replace(/\/+$/, "") + path);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  async request(method, path, { query, json, form, headers = {}, signal } = {}) {
    const init = {
      method,
      signal,
      headers: {
        Accept: "application/json",
        Authorization: `Bearer ${this.session.accessToken}`,
        "x-tenant-id": this.session.tenantId,
        ...headers,
      },
      // The token travels in the header only: no cookies, and no referrer to leak the page.
      credentials: "omit",
      cache: "no-store",
    };
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = form; // the browser sets the multipart boundary
    }
    let response;
    try {
      response = await fetch(this.url(path, query), init);
    } catch (cause) {
      if (cause && cause.name === "AbortError") throw cause;
      throw new ApiError({
        status: 0,
        code: "network_error",
        message: `Could not reach ${this.session.baseUrl} (network error or blocked by the browser).`,
      });
    }
    const body = await readJson(response);
    if (response.ok) return body;
    const error = toApiError(response, body);
    if (error.status === 401 && this.onUnauthorized) this.onUnauthorized(error);
    throw error;
  }

  get(path, query, options = {}) {
    return this.request("GET", path, { ...options, query });
  }

  post(path, json, options = {}) {
    return this.request("POST", path, { ...options, json });
  }

  patch(path, json, options = {}) {
    return this.request("PATCH", path, { ...options, json });
  }

  upload(path, file, options = {}) {
    const form = new FormData();
    form.append("file", file, file.name);
    return this.request("POST", path, { ...options, form });
  }

  // -- the routes the dashboard uses --------------------------------------------------------------------------

  listConversations(filters, cursor, limit = 50) {
    return this.get("/api/conversations", { ...filters, cursor, limit });
  }

  getConversation(conversationId) {
    return this.get(`/api/conversations/${encodeURIComponent(conversationId)}`);
  }

  me() {
    return this.get("/api/me");
  }

  listMessages(conversationId, cursor, limit = 50) {
    return this.get(`/api/conversations/${encodeURIComponent(conversationId)}/messages`, { cursor, limit });
  }

  markRead(conversationId) {
    return this.post(`/api/conversations/${encodeURIComponent(conversationId)}/mark-read`);
  }

  getLead(leadId) {
    return this.get(`/api/leads/${encodeURIComponent(leadId)}`);
  }

  updateLead(leadId, change) {
    return this.patch(`/api/leads/${encodeURIComponent(leadId)}`, change);
  }

  assignLead(leadId, assignment) {
    return this.post(`/api/leads/${encodeURIComponent(leadId)}/assign`, assignment);
  }

  metrics() {
    return this.get("/api/dashboard/metrics");
  }

  sendMessage(payload, idempotencyKey) {
    return this.post("/api/messages/send", payload, { headers: { "Idempotency-Key": idempotencyKey } });
  }

  uploadImage(file) {
    return this.upload("/api/messages/upload-image", file);
  }

  uploadPdf(file) {
    return this.upload("/api/messages/upload-pdf", file);
  }
}

async function readJson(response) {
  const text = await response.text().catch(() => "");
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

function toApiError(response, body) {
  const error = body && body.error && typeof body.error === "object" ? body.error : null;
  return new ApiError({
    status: response.status,
    code: (error && error.code) || `http_${response.status}`,
    message: (error && error.message) || `The server answered ${response.status} ${response.statusText}.`.trim(),
    details: (error && error.details) || null,
    requestId: (error && error.requestId) || response.headers.get("x-request-id"),
  });
}
