// The left panel: conversations grouped per lead and platform, filters, paging by cursor on scroll, and keyboard
// navigation (a listbox: arrows, Home/End, Enter or Space to open).

import { h, $, setStatus } from "./dom.js";
import { listStamp, fullLabel } from "./format.js";
import { groupConversations, mergeRows, previewText, reconcileFirstPage, resolveName } from "./names.js";
import { avatar, channelBadge } from "./widgets.js";

const PAGE_SIZE = 50;

export class Inbox {
  /** @param onOpen(group, {focus}) called when the agent opens an item */
  constructor(api, { onOpen, onError }) {
    this.api = api;
    this.onOpen = onOpen;
    this.onError = onError;
    this.rows = [];
    this.groups = [];
    this.nextCursor = null;
    this.pagesLoaded = 0;
    this.filters = {};
    this.selectedKey = null;
    this.loading = false;
    this.generation = 0; // bumps when filters change, so answers to an older query are dropped
    this.nodes = new Map(); // group key → {signature, node}

    this.listEl = $("#conversation-list");
    this.statusEl = $("#inbox-status");
    this.moreButton = $("#load-more");
    this.scroller = $("#inbox-scroll");
    this.listEl.addEventListener("keydown", (event) => this.onKeyDown(event));
    this.listEl.addEventListener("click", (event) => {
      const item = event.target.closest("[role=option]");
      if (item) this.open(item.dataset.key, { focus: false });
    });
    this.moreButton.addEventListener("click", () => this.loadMore());
    // More on scroll: when the end of the list comes into view, the next page is fetched.
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.loadMore();
    }, { root: this.scroller, rootMargin: "200px" }).observe($("#list-sentinel"));
  }

  setFilters(filters) {
    this.filters = filters;
    return this.reload();
  }

  /** From the first page again (filters changed). */
  async reload() {
    const generation = ++this.generation;
    this.rows = [];
    this.nodes = new Map();
    this.nextCursor = null;
    this.loading = true;
    this.render();
    try {
      const page = await this.api.listConversations(this.filters, undefined, PAGE_SIZE);
      if (generation !== this.generation) return;
      this.rows = page.data;
      this.nextCursor = page.pageInfo.nextCursor;
      this.pagesLoaded = 1;
      this.loading = false;
      this.render();
    } catch (error) {
      if (generation === this.generation) {
        this.loading = false;
        this.showError(error);
      }
    }
  }

  /** After a realtime event: the first page again, reconciled with the pages already shown. */
  async refreshFirstPage() {
    const generation = this.generation;
    try {
      const page = await this.api.listConversations(this.filters, undefined, PAGE_SIZE);
      if (generation !== this.generation) return;
      this.rows = reconcileFirstPage(this.rows, page.data, page.pageInfo.nextCursor !== null);
      // With only the first page shown, its cursor is the fresh one; deeper pages keep theirs.
      if (this.pagesLoaded <= 1) this.nextCursor = page.pageInfo.nextCursor;
      this.render();
    } catch (error) {
      if (generation === this.generation) this.showError(error);
    }
  }

  async loadMore() {
    if (this.loading || !this.nextCursor) return;
    const generation = this.generation;
    this.loading = true;
    this.moreButton.disabled = true;
    try {
      const page = await this.api.listConversations(this.filters, this.nextCursor, PAGE_SIZE);
      if (generation !== this.generation) return;
      this.rows = mergeRows(this.rows, page.data);
      this.nextCursor = page.pageInfo.nextCursor;
      this.pagesLoaded += 1;
    } catch (error) {
      if (generation === this.generation) this.showError(error);
    } finally {
      this.loading = false;
      this.moreButton.disabled = false;
    }
    // Drawn once loading is over: drawn inside the try, the list kept aria-busy="true" (and "Loading…") after the
    // page had arrived, until something else redrew it.
    if (generation === this.generation) this.render();
  }

  showError(error) {
    setStatus(this.statusEl, `Could not load conversations: ${error.describe ? error.describe() : error.message}`, "error");
    if (this.onError) this.onError(error);
  }

  /** A row changed locally (marked read): shown at once, before the server's event confirms it. */
  patchRow(id, change) {
    this.rows = this.rows.map((row) => (row.id === id ? { ...row, ...change } : row));
    this.render();
  }

  groupFor(key) {
    return this.groups.find((g) => g.key === key) || null;
  }

  /** The group holding a conversation id (a lead's threads on other platforms are other groups). */
  groupOfConversation(conversationId) {
    return this.groups.find((g) => g.threads.some((t) => t.id === conversationId)) || null;
  }

  rowById(id) {
    return this.rows.find((row) => row.id === id) || null;
  }

  open(key, { focus = true } = {}) {
    const group = this.groupFor(key);
    if (!group) return;
    this.select(key);
    this.onOpen(group, { focus });
  }

  select(key) {
    this.selectedKey = key;
    for (const item of this.listEl.children) {
      const selected = item.dataset.key === key;
      item.setAttribute("aria-selected", String(selected));
    }
    this.setActive(key, false);
  }

  // -- rendering -----------------------------------------------------------------------------------------------

  render() {
    const focusedKey = document.activeElement && document.activeElement.closest
      && document.activeElement.closest("#conversation-list [role=option]")
      ? document.activeElement.dataset.key : null;
    this.groups = groupConversations(this.rows);
    this.listEl.replaceChildren(...this.groups.map((group) => this.itemNode(group)));
    const activeKey = focusedKey || this.selectedKey || (this.groups[0] && this.groups[0].key);
    this.setActive(activeKey, Boolean(focusedKey));
    this.moreButton.hidden = !this.nextCursor;
    this.listEl.setAttribute("aria-busy", String(this.loading));
    if (!this.groups.length) {
      setStatus(this.statusEl, this.loading ? "Loading conversations…" : "No conversations match these filters.");
    } else {
      const unread = this.groups.reduce((sum, g) => sum + g.unread, 0);
      setStatus(this.statusEl, `${this.groups.length} conversation${this.groups.length === 1 ? "" : "s"}`
        + (unread ? `, ${unread} unread message${unread === 1 ? "" : "s"}` : "")
        + (this.nextCursor ? " (more below)" : ""));
    }
  }

  /**
   * An item's node, reused while what it shows is unchanged: a refresh then leaves avatars loaded and focus and
   * selection where they were, instead of redrawing the whole list.
   */
  itemNode(group) {
    const signature = JSON.stringify([group.threads.map((t) => [t.id, t.lastMessageAt, t.unreadCount, t.leadStatus,
      t.lastMessagePreview, t.participantDisplayName, t.participantProfileImageUrl]), group.named.id]);
    const cached = this.nodes.get(group.key);
    if (cached && cached.signature === signature) {
      cached.node.setAttribute("aria-selected", String(group.key === this.selectedKey));
      return cached.node;
    }
    const node = this.renderItem(group);
    this.nodes.set(group.key, { signature, node });
    return node;
  }

  renderItem(group) {
    const row = group.latest;
    const name = resolveName(group.named).name;
    const count = group.threads.length;
    return h("li", {
      role: "option",
      id: `item-${cssId(group.key)}`,
      class: "inbox-item",
      tabindex: "-1",
      "aria-selected": String(group.key === this.selectedKey),
      dataset: { key: group.key, leadId: group.leadId, conversationId: row.id, unread: String(group.unread) },
    },
    avatar(group.named, "md"),
    h("div", { class: "inbox-item-body" },
      h("div", { class: "inbox-item-top" },
        h("span", { class: "inbox-name", dir: "auto" }, name),
        h("time", { class: "inbox-time", datetime: row.lastMessageAt, title: fullLabel(row.lastMessageAt) },
          listStamp(row.lastMessageAt))),
      h("div", { class: "inbox-item-bottom" },
        h("span", { class: "inbox-preview", dir: "auto" }, previewText(row)),
        group.unread
          ? h("span", { class: "badge unread", title: `${group.unread} unread` }, String(group.unread),
            h("span", { class: "visually-hidden" }, " unread"))
          : null),
      h("div", { class: "inbox-item-tags" },
        channelBadge(row),
        count > 1 ? h("span", { class: "badge threads" }, `${count} threads`) : null,
        h("span", { class: `badge lead-status status-${row.leadStatus.toLowerCase()}` }, humanStatus(row.leadStatus)))));
  }

  // -- keyboard ------------------------------------------------------------------------------------------------

  /** Roving tabindex: one item is in the tab order; arrows move it. */
  setActive(key, focus) {
    let active = null;
    for (const item of this.listEl.children) {
      const isActive = item.dataset.key === key;
      item.tabIndex = isActive ? 0 : -1;
      if (isActive) active = item;
    }
    if (active) {
      if (focus) active.focus();
    } else if (this.listEl.firstElementChild) {
      this.listEl.firstElementChild.tabIndex = 0;
    }
  }

  onKeyDown(event) {
    const items = [...this.listEl.children];
    if (!items.length) return;
    const current = event.target.closest("[role=option]");
    const index = Math.max(0, items.indexOf(current));
    let next = null;
    switch (event.key) {
      case "ArrowDown": next = items[Math.min(items.length - 1, index + 1)]; break;
      case "ArrowUp": next = items[Math.max(0, index - 1)]; break;
      case "Home": next = items[0]; break;
      case "End": next = items[items.length - 1]; break;
      case "Enter":
      case " ":
        event.preventDefault();
        if (current) this.open(current.dataset.key, { focus: true });
        return;
      default:
        return;
    }
    event.preventDefault();
    this.setActive(next.dataset.key, true);
    next.scrollIntoView({ block: "nearest" });
    // Near the end, fetch the next page so arrowing down never hits a wall.
    if (items.indexOf(next) >= items.length - 3) this.loadMore();
  }
}

export function humanStatus(status) {
  return status ? status.charAt(0) + status.slice(1).toLowerCase().replace(/_/g, " ") : "";
}

function cssId(key) {
  return key.replace(/[^a-zA-Z0-9_-]/g, "_");
}
