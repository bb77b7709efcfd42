// The middle panel's history: one conversation, oldest → newest (the API pages newest first, so each page is
// reversed), day separators, image thumbnails that open the full image, PDF links, delivery status of outbound
// messages, and older pages fetched by cursor when the agent scrolls back to the top.

import { h, $, clear, setStatus } from "./dom.js";
import { dayKey, dayLabel, fullLabel, timeLabel } from "./format.js";
import { isDisplayableMediaUrl, memberLabel } from "./names.js";
import { formatBytes } from "./rules.js";

const PAGE_SIZE = 50;
/** How many pages a refresh fetches to join what is shown before it starts the thread again from the newest. */
const CATCH_UP_PAGES = 10;
const NEAR_BOTTOM_PX = 120;
const NEAR_TOP_PX = 80;

const TYPE_LABELS = {
  STICKER: "Sticker", VIDEO: "Video", AUDIO: "Audio message", FILE: "File", LOCATION: "Location",
  UNSUPPORTED: "A message HubChat cannot show",
};

const STATUS_LABELS = { QUEUED: "Queued", SENT: "Sent", FAILED: "Failed" };

export class Thread {
  constructor(api, { agentName, onError }) {
    this.api = api;
    this.agentName = agentName; // id → name, when the agents are known (managers)
    this.onError = onError;
    this.conversationId = null;
    this.messages = new Map();
    this.nodes = new Map();
    this.olderCursor = null;
    this.loadingOlder = false;
    this.el = $("#messages");
    this.statusEl = $("#thread-status");
    this.dialog = $("#image-dialog");
    this.el.addEventListener("scroll", () => {
      if (this.el.scrollTop < NEAR_TOP_PX) this.loadOlder();
    });
    $("#load-older").addEventListener("click", () => this.loadOlder());
    this.el.addEventListener("click", (event) => this.onClick(event));
    $("#image-dialog-close").addEventListener("click", () => this.dialog.close());
    // A click on the backdrop (outside the image) closes it too.
    this.dialog.addEventListener("click", (event) => { if (event.target === this.dialog) this.dialog.close(); });
  }

  /** Opens a conversation: its newest page, shown scrolled to the end. Answers false when it is not found. */
  async open(conversationId) {
    this.conversationId = conversationId;
    this.messages = new Map();
    this.nodes = new Map(); // message id → {signature, node}
    this.olderCursor = null;
    clear(this.el);
    setStatus(this.statusEl, "Loading messages…");
    try {
      const page = await this.api.listMessages(conversationId, undefined, PAGE_SIZE);
      if (conversationId !== this.conversationId) return true;
      this.add(page.data);
      this.olderCursor = page.pageInfo.nextCursor;
      this.render();
      this.scrollToEnd();
      setStatus(this.statusEl, "");
      return true;
    } catch (error) {
      if (conversationId !== this.conversationId) return true;
      setStatus(this.statusEl, error.status === 404
        ? "This conversation does not exist in this tenant."
        : `Could not load messages: ${error.describe ? error.describe() : error.message}`, "error");
      if (error.status !== 404 && this.onError) this.onError(error);
      return error.status !== 404;
    }
  }

  close() {
    this.conversationId = null;
    this.messages = new Map();
    clear(this.el);
  }

  /**
   * After an event or a send: the newest page again, merged in (statuses change in place), with what arrived below
   * it (catchUp). `changed` names messages events named: new ones are fetched wherever they fall among those shown,
   * and revised ones (unsent or edited) shown from older pages are fetched again too.
   */
  async refreshNewest(changed = new Set()) {
    const conversationId = this.conversationId;
    if (!conversationId) return;
    try {
      const page = await this.api.listMessages(conversationId, undefined, PAGE_SIZE);
      if (conversationId !== this.conversationId) return;
      const stick = this.isNearBottom();
      const fresh = await this.catchUp(conversationId, page, changed);
      if (!fresh) return;
      const stale = [...changed].filter((id) => this.messages.has(id) && !fresh.has(id));
      if (stale.length && page.pageInfo.nextCursor) {
        await this.refetchLoaded(conversationId, page.pageInfo.nextCursor, new Set(stale));
        if (conversationId !== this.conversationId) return;
      }
      this.render();
      if (stick) this.scrollToEnd();
    } catch (error) {
      if (this.onError) this.onError(error);
    }
  }

  /**
   * Adds the newest `page`, and the pages below it until they reach back into what is shown: until a page's oldest
   * message is one already shown (more than a page may have arrived at once, or messages older than the newest
   * shown, as a provider's redelivery after an outage brings), and until every message an event `named` is found,
   * within what is shown. No gap opens that "load older" would never fill. Past CATCH_UP_PAGES without reaching what
   * is shown, the thread starts again from the newest pages, older ones loading on demand. False when the agent
   * moved to another conversation meanwhile.
   */
  async catchUp(conversationId, page, named = new Set()) {
    const fetched = [...page.data];
    const oldestShown = oldestOf(this.messages.values());
    const reachesShown = (messages) => !oldestShown
      || (messages.length > 0 && this.messages.has(messages[messages.length - 1].id));
    const belowShown = (messages) => oldestShown && messages.length > 0
      && compareMessages(messages[messages.length - 1], oldestShown) <= 0;
    const found = new Set(page.data.map((message) => message.id));
    const missing = () => [...named].some((id) => !this.messages.has(id) && !found.has(id));
    let joined = reachesShown(page.data);
    let next = page.pageInfo.nextCursor;
    let below = belowShown(page.data);
    for (let pages = 1; next && !below && (!joined || missing()) && pages < CATCH_UP_PAGES; pages++) {
      const older = await this.api.listMessages(conversationId, next, PAGE_SIZE);
      if (conversationId !== this.conversationId) return null;
      fetched.push(...older.data);
      older.data.forEach((message) => found.add(message.id));
      joined = joined || reachesShown(older.data);
      below = belowShown(older.data);
      next = older.pageInfo.nextCursor;
    }
    if (!joined && !below && next) {
      this.messages = new Map();
      this.olderCursor = next;
    }
    this.add(fetched);
    return found;
  }

  /**
   * Walks the older pages already shown, from `cursor`, until every id in `wanted` is fetched again (each is shown,
   * so the walk ends within what was loaded; it stops earlier where the next "load older" would begin). Only
   * messages already shown are replaced: adding others would leave a gap in the thread.
   */
  async refetchLoaded(conversationId, cursor, wanted) {
    for (let next = cursor; next && next !== this.olderCursor && wanted.size;) {
      const page = await this.api.listMessages(conversationId, next, PAGE_SIZE);
      if (conversationId !== this.conversationId) return;
      for (const message of page.data) {
        if (this.messages.has(message.id)) this.messages.set(message.id, message);
        wanted.delete(message.id);
      }
      next = page.pageInfo.nextCursor;
    }
  }

  async loadOlder() {
    const conversationId = this.conversationId;
    if (!conversationId || !this.olderCursor || this.loadingOlder) return;
    this.loadingOlder = true;
    setStatus(this.statusEl, "Loading older messages…");
    try {
      const page = await this.api.listMessages(conversationId, this.olderCursor, PAGE_SIZE);
      if (conversationId !== this.conversationId) return;
      // Keep what the agent was reading in place while older messages are added above it.
      const fromBottom = this.el.scrollHeight - this.el.scrollTop;
      this.add(page.data);
      this.olderCursor = page.pageInfo.nextCursor;
      this.render();
      this.el.scrollTop = this.el.scrollHeight - fromBottom;
      setStatus(this.statusEl, "");
    } catch (error) {
      setStatus(this.statusEl, `Could not load older messages: ${error.describe ? error.describe() : error.message}`, "error");
    } finally {
      this.loadingOlder = false;
    }
  }

  add(messages) {
    for (const message of messages) this.messages.set(message.id, message);
  }

  isNearBottom() {
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToEnd() {
    this.el.scrollTop = this.el.scrollHeight;
  }

  render() {
    const ordered = [...this.messages.values()].sort(compareMessages);
    const nodes = [];
    $("#load-older").hidden = !this.olderCursor;
    if (!this.olderCursor && ordered.length) nodes.push(h("p", { class: "thread-start" }, "Start of the conversation"));
    let day = null;
    for (const message of ordered) {
      const key = dayKey(message.createdAt);
      if (key !== day) {
        day = key;
        nodes.push(h("div", { class: "day-separator", role: "separator" },
          h("span", {}, dayLabel(message.createdAt))));
      }
      nodes.push(this.messageNode(message));
    }
    if (!ordered.length) nodes.push(h("p", { class: "empty" }, "No messages in this conversation yet."));
    this.el.replaceChildren(...nodes);
  }

  /** A message's node, reused while it is unchanged (images stay loaded, a text selection survives a refresh). */
  messageNode(message) {
    const signature = [message.deliveryStatus, message.errorReason, message.content, message.mediaUrl,
      message.previewUrl, message.mediaStatus, message.revision].join("\u0000");
    const cached = this.nodes.get(message.id);
    if (cached && cached.signature === signature) return cached.node;
    const node = this.renderMessage(message);
    this.nodes.set(message.id, { signature, node });
    return node;
  }

  renderMessage(message) {
    const outbound = message.direction === "OUTBOUND";
    const sender = outbound
      ? (message.senderType === "SYSTEM" ? "System" : (this.agentName(message.senderAgentId) || "Agent"))
      : memberLabel(message) || "Customer";
    return h("article", {
      class: `message ${outbound ? "outbound" : "inbound"}`,
      dataset: { messageId: message.id, status: message.deliveryStatus, type: message.messageType },
      "aria-label": `${sender}, ${timeLabel(message.createdAt)}`,
    },
    h("div", { class: "bubble" }, this.renderBody(message)),
    h("div", { class: "message-meta" },
      h("span", { class: "sender" }, sender),
      h("time", { datetime: message.createdAt, title: fullLabel(message.createdAt) }, timeLabel(message.createdAt)),
      outbound ? renderDelivery(message) : null));
  }

  renderBody(message) {
    if (message.revision === "UNSENT") return h("p", { class: "unsent" }, message.content);
    const caption = message.content ? h("p", { class: "text", dir: "auto" }, message.content) : null;
    const edited = message.revision === "EDITED" ? h("span", { class: "edited" }, "edited") : null;
    switch (message.messageType) {
      case "TEXT":
        // A link preview (Messenger's "fallback") is text with the link it previews.
        return [h("p", { class: "text", dir: "auto" }, message.content), edited,
          isDisplayableMediaUrl(message.mediaUrl) ? renderAttachment({ ...message, messageType: "UNSUPPORTED" }) : null];
      case "IMAGE":
        return [renderImage(message), caption];
      case "DOCUMENT_PDF":
        return [renderPdf(message), caption];
      default:
        return [renderAttachment(message), caption];
    }
  }

  onClick(event) {
    const link = event.target.closest("a.thumbnail");
    if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return; // let those open a tab
    event.preventDefault();
    const img = $("#image-dialog-img");
    img.src = link.href;
    img.alt = link.dataset.alt || "Image";
    $("#image-dialog-open").href = link.href;
    this.dialog.showModal();
  }
}

function renderImage(message) {
  const full = isDisplayableMediaUrl(message.mediaUrl) ? message.mediaUrl : null;
  const thumb = isDisplayableMediaUrl(message.previewUrl) ? message.previewUrl : full;
  if (!thumb && message.mediaStatus === "PENDING") {
    return h("p", { class: "media-pending", role: "status" }, "Image arriving…");
  }
  if (!thumb) {
    const why = message.errorReason ? `: ${message.errorReason}` : "";
    return h("p", { class: "media-missing" }, `Image unavailable${why}`);
  }
  const alt = message.direction === "OUTBOUND" ? "Image sent to the customer" : "Image from the customer";
  const img = h("img", {
    src: thumb, alt, loading: "lazy", decoding: "async", referrerpolicy: "no-referrer",
    width: message.width && message.height ? Math.min(240, message.width) : null,
    height: message.width && message.height ? Math.round(Math.min(240, message.width) * message.height / message.width) : null,
  });
  img.addEventListener("error", () => img.replaceWith(h("span", { class: "media-missing" }, "Image could not be loaded")),
    { once: true });
  return h("a", {
    class: "thumbnail", href: full || thumb, target: "_blank", rel: "noopener noreferrer",
    dataset: { alt }, title: "Show the full image",
  }, img);
}

function renderPdf(message) {
  const url = isDisplayableMediaUrl(message.mediaUrl) ? message.mediaUrl : null;
  const name = message.fileName || "document.pdf";
  const size = message.fileSizeBytes ? ` · ${formatBytes(message.fileSizeBytes)}` : "";
  if (!url) return h("p", { class: "media-missing" }, `PDF ${name} is unavailable`);
  return h("a", { class: "pdf-link", href: url, target: "_blank", rel: "noopener noreferrer", download: name },
    h("span", { class: "pdf-icon", "aria-hidden": "true" }, "PDF"),
    h("span", { class: "pdf-name", dir: "auto" }, name),
    h("span", { class: "pdf-size" }, size));
}

/**
 * A video, a voice message, a file, a share…: a link to open it in a new tab when the provider gave a URL (Messenger
 * and Instagram attachments), otherwise what it is.
 */
function renderAttachment(message) {
  const url = isDisplayableMediaUrl(message.mediaUrl) ? message.mediaUrl : null;
  const size = message.fileSizeBytes ? ` · ${formatBytes(message.fileSizeBytes)}` : "";
  if (!url) return h("p", { class: "unsupported" }, `[${TYPE_LABELS[message.messageType] || message.messageType}${size}]`);
  // A share, a story mention, a reel: its text says what it is, the link opens it.
  const label = message.messageType === "UNSUPPORTED" ? "Open link" : TYPE_LABELS[message.messageType] || message.messageType;
  return h("a", { class: "attachment-link", href: url, target: "_blank", rel: "noopener noreferrer" },
    h("span", { class: "attachment-kind" }, label),
    message.fileName ? h("span", { class: "attachment-name", dir: "auto" }, message.fileName) : null,
    h("span", { class: "attachment-size" }, size));
}

function renderDelivery(message) {
  const status = message.deliveryStatus;
  const label = STATUS_LABELS[status] || status;
  const reason = status === "FAILED" ? (message.errorReason || message.errorCode || "no reason given") : null;
  return h("span", { class: `delivery delivery-${String(status).toLowerCase()}`, title: message.sentAt ? `Sent ${fullLabel(message.sentAt)}` : null },
    label, reason ? `: ${reason}` : null);
}

/** Thread order, oldest first: by createdAt, then id (the API's order, reversed). */
function compareMessages(a, b) {
  if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

function oldestOf(messages) {
  let oldest = null;
  for (const message of messages) if (!oldest || compareMessages(message, oldest) < 0) oldest = message;
  return oldest;
}
