// The agent's session: where the API is, which tenant, and the access token. Kept in localStorage under the
// seed's key, so a browser set up for the original dashboard keeps working.

const STORAGE_KEY = "hubchat.session.config.v1";
// A message for /setup that survives the redirect (why the user was sent back), read once.
const NOTICE_KEY = "hubchat.session.notice";

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value) {
  return typeof value === "string" && UUID_RE.test(value.trim());
}

/** The page's own origin: the default base URL, and the only one the CSP (connect-src 'self') lets us call. */
export function defaultBaseUrl() {
  return window.location.origin;
}

export function normalizeBaseUrl(value) {
  const text = (value || "").trim().replace(/\/+$/, "");
  return text || defaultBaseUrl();
}

/** The stored session, or null when any of its three parts is missing. */
export function loadSession() {
  let raw;
  try {
    raw = JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null");
  } catch {
    return null;
  }
  if (!raw || typeof raw !== "object") return null;
  const session = {
    baseUrl: normalizeBaseUrl(raw.baseUrl),
    tenantId: String(raw.tenantId || "").trim(),
    accessToken: String(raw.accessToken || "").trim(),
  };
  return session.tenantId && session.accessToken ? session : null;
}

/** Partial sessions are kept too, so /setup can show what was typed. */
export function loadDraft() {
  try {
    return JSON.parse(window.localStorage.getItem(STORAGE_KEY) || "null") || {};
  } catch {
    return {};
  }
}

export function saveSession({ baseUrl, tenantId, accessToken }) {
  const value = {
    baseUrl: normalizeBaseUrl(baseUrl),
    tenantId: (tenantId || "").trim().toLowerCase(),
    accessToken: (accessToken || "").trim().replace(/^Bearer\s+/i, ""),
  };
  window.localStorage.setItem(STORAGE_KEY, JSON.stringify(value));
  return value;
}

export function clearSession() {
  window.localStorage.removeItem(STORAGE_KEY);
}

/** Sends the user to /setup with a message, e.g. after a 401: the token stays so they can see and replace it. */
export function sendToSetup(message) {
  if (message) window.sessionStorage.setItem(NOTICE_KEY, message);
  window.location.assign("/setup");
}

export function takeSetupNotice() {
  const message = window.sessionStorage.getItem(NOTICE_KEY);
  window.sessionStorage.removeItem(NOTICE_KEY);
  return message;
}

/**
 * The token's claims, decoded without verification (only the server can verify it). Used for hints: its expiry,
 * and its email to recognise the agent in the metrics. Null when it is not a JWT.
 */
export function tokenClaims(token) {
  const parts = String(token || "").split(".");
  if (parts.length !== 3) return null;
  try {
    const base64 = parts[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/** Seconds until the token expires (negative once expired), or null when it names no expiry. */
export function secondsUntilExpiry(token, now = Date.now()) {
  const claims = tokenClaims(token);
  if (!claims || typeof claims.exp !== "number") return null;
  return Math.floor(claims.exp - now / 1000);
}
