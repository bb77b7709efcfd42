// /setup: stores the session and tests it against the API, saying which of the three values is wrong.

import { ApiClient } from "./api.js";
import { h, $, clear } from "./dom.js";
import {
  clearSession, defaultBaseUrl, isUuid, loadDraft, normalizeBaseUrl, saveSession, secondsUntilExpiry, takeSetupNotice,
  tokenClaims,
} from "./session.js";

const form = $("#setup-form");
const result = $("#setup-result");
const fields = { baseUrl: $("#base-url"), tenantId: $("#tenant-id"), accessToken: $("#access-token") };

function showResult(kind, ...content) {
  clear(result);
  result.dataset.kind = kind;
  result.append(...content);
  result.hidden = false;
}

function fillForm() {
  const draft = loadDraft();
  fields.baseUrl.value = draft.baseUrl || defaultBaseUrl();
  fields.tenantId.value = draft.tenantId || "";
  fields.accessToken.value = draft.accessToken || "";
  const notice = takeSetupNotice();
  if (notice) {
    const el = $("#setup-notice");
    el.textContent = notice;
    el.hidden = false;
  }
}

/** Problems visible without calling the server; answers [field, message] or null. */
function localProblem({ baseUrl, tenantId, accessToken }) {
  let url;
  try {
    url = new URL(baseUrl);
  } catch {
    return ["baseUrl", "The base URL is not a URL (e.g. https://inbox.example.com)."];
  }
  if (!/^https?:$/.test(url.protocol)) return ["baseUrl", "The base URL must start with https:// or http://."];
  if (!isUuid(tenantId)) return ["tenantId", "The tenant id must be a UUID like 3f0c2a4e-9b1d-4c7e-8a55-0d6f1e2b3c4d."];
  if (!accessToken) return ["accessToken", "Paste an access token."];
  if (!tokenClaims(accessToken)) return ["accessToken", "This does not look like an access token (a JWT has three dot-separated parts)."];
  const left = secondsUntilExpiry(accessToken);
  if (left !== null && left <= 0) {
    return ["accessToken", `This token expired on ${new Date((Date.now() / 1000 + left) * 1000).toLocaleString()}. Get a new one.`];
  }
  return null;
}

/** Turns the API's refusal into what the person should fix. */
function explain(error, session) {
  switch (true) {
    case error.status === 0:
      return new URL(session.baseUrl).origin !== window.location.origin
        ? `Could not reach ${session.baseUrl}. This page may only call ${window.location.origin} (its content `
          + "security policy): use that as the base URL, or open the dashboard from the API's own address."
        : `Could not reach ${session.baseUrl}: network error. Is HubChat running?`;
    case error.status === 401:
      return `The access token was refused (${error.message}). It is malformed, signed with another key, or `
        + "expired: get a new one.";
    case error.status === 400:
      return `The request was refused: ${error.describe()} Check the tenant id.`;
    case error.status === 403:
      return `The token is valid, but its user is not an active agent of tenant ${session.tenantId} (no `
        + "membership). Check the tenant id, or ask an administrator to add you to this tenant.";
    case error.status === 404:
      return `No HubChat API answers at ${session.baseUrl} (404). Check the base URL.`;
    default:
      return `HubChat answered ${error.status}: ${error.describe()} Try again in a moment.`;
  }
}

async function discoverRole(api) {
  try {
    await api.metrics();
    return "Manager or Admin";
  } catch (error) {
    if (error.status === 403) return "Sales";
    return "unknown role";
  }
}

async function testConnection(event) {
  event.preventDefault();
  const values = {
    baseUrl: normalizeBaseUrl(fields.baseUrl.value),
    tenantId: fields.tenantId.value.trim(),
    accessToken: fields.accessToken.value.trim().replace(/^Bearer\s+/i, ""),
  };
  for (const input of Object.values(fields)) input.removeAttribute("aria-invalid");
  const problem = localProblem(values);
  if (problem) {
    fields[problem[0]].setAttribute("aria-invalid", "true");
    fields[problem[0]].focus();
    showResult("error", problem[1]);
    return;
  }
  const session = saveSession(values);
  fields.baseUrl.value = session.baseUrl;
  const button = $("#test-connection");
  button.disabled = true;
  showResult("info", "Testing the connection…");
  const api = new ApiClient(session);
  try {
    const page = await api.listConversations({}, undefined, 1);
    const role = await discoverRole(api);
    const claims = tokenClaims(session.accessToken) || {};
    const who = claims.email ? `${claims.email} (${role})` : role;
    const link = h("a", { href: "/dashboard", class: "button primary", id: "open-dashboard" }, "Open the dashboard →");
    showResult("ok", h("p", {}, `Connected to tenant ${session.tenantId} as ${who}. `,
      page.data.length ? "The inbox has conversations." : "The inbox is empty so far."), link);
    link.focus();
  } catch (error) {
    if (error.status === 401) fields.accessToken.setAttribute("aria-invalid", "true");
    if (error.status === 400 || error.status === 403) fields.tenantId.setAttribute("aria-invalid", "true");
    showResult("error", explain(error, session));
  } finally {
    button.disabled = false;
  }
}

form.addEventListener("submit", testConnection);
$("#clear-session").addEventListener("click", () => {
  clearSession();
  fillForm();
  showResult("info", "Forgotten. This browser keeps no HubChat session now.");
});
fillForm();
