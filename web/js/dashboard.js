// /dashboard: wires the inbox (left), the thread and composer (middle) and the lead panel (right) to the API and
// to live updates. Each part lives in its own module; this one decides what happens when.

import { ApiClient } from "./api.js";
import { Composer } from "./composer.js";
import { $, h, clear, setStatus } from "./dom.js";
import { Inbox, humanStatus } from "./inbox.js";
import { LeadPanel } from "./lead-panel.js";
import { displayName, mergeRows, threadKindLabel } from "./names.js";
import { LiveUpdates } from "./realtime.js";
import { isUuid, loadSession, secondsUntilExpiry, sendToSetup, tokenClaims } from "./session.js";
import { Thread } from "./thread.js";
import { avatar, channelBadge } from "./widgets.js";

const LIVE_LABELS = {
  connecting: "Connecting…",
  live: "Live",
  polling: "Live updates paused · refreshing every 10 s",
};

const session = loadSession();
if (!session) {
  $("#no-session").hidden = false;
  $("#live-status").hidden = true;
} else {
  start(session);
}

async function start(session) {
  const claims = tokenClaims(session.accessToken) || {};
  let leaving = false;
  let live = null;

  /** Any 401: the token expired or was revoked. Back to /setup, once, with the reason. */
  function expire(error) {
    if (leaving) return;
    leaving = true;
    if (live) live.stop();
    sendToSetup(error
      ? `Your access token was refused (${error.message}). Paste a new one to continue.`
      : "Your access token has expired. Paste a new one to continue.");
  }
  scheduleExpiry(session.accessToken, expire);

  const api = new ApiClient(session, { onUnauthorized: expire });
  const appError = $("#app-error");
  const showAppError = (error) => {
    if (error.status === 403) {
      appError.replaceChildren(`You are not an active agent of tenant ${session.tenantId} (${error.message}). `,
        h("a", { href: "/setup" }, "Check the setup"), ".");
      appError.hidden = false;
    } else if (error.status === 0) {
      setStatus(appError, error.message, "error");
    }
  };

  $("#app").hidden = false;
  const { role, agents, me } = await discoverRole(api, claims, showAppError);
  $("#who").textContent = `${claims.email || "Agent"} · ${role === "manager" ? "Manager / Admin" : "Sales"}`;
  fillAssignedFilter(role, agents, me);

  const agentName = (id) => {
    if (!id) return null;
    if ((me && me.id === id) || claims.sub === id) return "You";
    const agent = agents.find((a) => a.id === id);
    return agent ? agent.name : null;
  };

  // The open conversation, the lead's threads the composer may reply in, and the inbox item it belongs to.
  const state = { conversation: null, leadThreads: [] };

  const thread = new Thread(api, { agentName, onError: showAppError });
  const leadPanel = new LeadPanel(api, {
    role, agents, me, onError: showAppError,
    onChanged: () => inbox.refreshFirstPage(), // status and assignment show in the list
  });
  const composer = new Composer(api, {
    onThreadChange: (conversation) => openConversation(conversation, { focus: false }),
    onSent: () => { thread.refreshNewest(); inbox.refreshFirstPage(); },
    onError: showAppError,
  });
  const inbox = new Inbox(api, {
    onOpen: (group, { focus }) => {
      // Reopening the item of the open conversation keeps the thread the agent picked.
      const keep = state.conversation && group.threads.find((t) => t.id === state.conversation.id);
      openConversation(keep || group.latest, { focus });
    },
    onError: showAppError,
  });

  function renderHeader(conversation) {
    const slot = $("#thread-avatar");
    clear(slot).append(avatar(conversation, "lg"));
    $("#thread-title").textContent = displayName(conversation);
    const subtitle = $("#thread-subtitle");
    clear(subtitle).append(channelBadge(conversation), " ",
      h("span", { class: `badge lead-status status-${conversation.leadStatus.toLowerCase()}` }, humanStatus(conversation.leadStatus)),
      " ", h("span", { class: "thread-id", title: conversation.channelThreadId }, `${threadKindLabel(conversation)} thread`));
  }

  async function openConversation(conversation, { focus = true } = {}) {
    state.conversation = conversation;
    state.leadThreads = [conversation];
    const group = inbox.groupOfConversation(conversation.id);
    if (group) inbox.select(group.key);
    document.body.dataset.view = "thread";
    history.replaceState(null, "", `#conversation=${conversation.id}`);
    renderHeader(conversation);
    $("#composer").hidden = false;
    composer.setContext(conversation, state.leadThreads);
    if (focus) $("#thread-title").focus();
    await Promise.all([thread.open(conversation.id), leadPanel.show(conversation.leadId, displayName(conversation)), loadLeadThreads()]);
    if (conversation.unreadCount > 0) markRead(conversation.id);
  }

  /** Every thread of the open lead (all platforms), for the composer's "Reply in" choice. */
  async function loadLeadThreads() {
    const open = state.conversation;
    try {
      const page = await api.listConversations({ leadId: open.leadId }, undefined, 100);
      if (state.conversation !== open) return;
      state.leadThreads = mergeRows([open], page.data);
      const fresh = state.leadThreads.find((t) => t.id === open.id);
      if (fresh) state.conversation = fresh;
      composer.setContext(state.conversation, state.leadThreads);
      renderHeader(state.conversation);
    } catch {
      // The composer still replies in the open thread.
    }
  }

  async function markRead(conversationId) {
    try {
      await api.markRead(conversationId);
      inbox.patchRow(conversationId, { unreadCount: 0 });
    } catch {
      // Unread stays; the next refresh shows the server's count.
    }
  }

  /** What realtime events (or a poll) ask for, batched. */
  async function onBatch(batch) {
    const open = state.conversation;
    const touchesOpen = open && (batch.all || batch.conversations.has(open.id));
    await Promise.all([
      batch.all || batch.list ? inbox.refreshFirstPage() : null,
      touchesOpen ? thread.refreshNewest(batch.messages) : null,
      touchesOpen ? loadLeadThreads() : null,
      leadPanel.leadId && (batch.all || batch.leads.has(leadPanel.leadId)) ? leadPanel.refresh() : null,
    ]);
    if (open && batch.received.has(open.id) && document.visibilityState === "visible") markRead(open.id);
    announce(batch, open);
    updateTitle();
  }

  /** Tells screen-reader users what arrived, without re-reading the whole list or thread. */
  function announce(batch, open) {
    const names = [...batch.received]
      .filter((id) => !open || id !== open.id)
      .map((id) => inbox.rowById(id))
      .filter(Boolean)
      .map(displayName);
    const parts = [];
    if (open && batch.received.has(open.id)) parts.push("New message in this conversation.");
    if (names.length) parts.push(`New message from ${names.join(", ")}.`);
    if (parts.length) $("#announcer").textContent = parts.join(" ");
  }

  function updateTitle() {
    const unread = inbox.groups.reduce((sum, g) => sum + g.unread, 0);
    document.title = `${unread ? `(${unread}) ` : ""}Inbox · HubChat`;
  }

  // -- filters, narrow-screen navigation, deep links ---------------------------------------------------------

  const readFilters = () => ({
    status: $("#filter-status").value,
    channel: $("#filter-channel").value,
    assignedSalesId: $("#filter-assigned").value,
  });
  $("#filters").addEventListener("change", () => inbox.setFilters(readFilters()).then(updateTitle));
  $("#filters").addEventListener("submit", (event) => event.preventDefault());
  $("#back-to-list").addEventListener("click", () => {
    document.body.dataset.view = "list";
    const item = document.querySelector("#conversation-list [aria-selected=true]");
    if (item) item.focus();
  });

  inbox.filters = readFilters();
  await inbox.reload();
  updateTitle();
  await openFromHash();
  window.addEventListener("hashchange", openFromHash); // a pasted link while the dashboard is open

  live = new LiveUpdates(session, {
    onBatch,
    onState: (state) => {
      const el = $("#live-status");
      el.dataset.state = state;
      el.textContent = LIVE_LABELS[state];
    },
    onStreamRefused: throttle(() => api.listConversations({}, undefined, 1).catch(() => {}), 30_000),
  });
  live.start();

  /** #conversation=<id> opens that conversation: a reload keeps the thread, and links can be shared. */
  async function openFromHash() {
    const match = /conversation=([^&]+)/.exec(window.location.hash);
    if (!match) return;
    const id = decodeURIComponent(match[1]).toLowerCase();
    if (!isUuid(id)) return;
    const row = inbox.rowById(id) || await findConversation(api, id);
    if (row) return openConversation(row, { focus: false });
    // Not on the first page (or not this tenant's): show what the API says about it.
    state.conversation = null;
    leadPanel.show(null);
    document.body.dataset.view = "thread";
    clear($("#thread-avatar"));
    clear($("#thread-subtitle"));
    $("#thread-title").textContent = "Conversation";
    const exists = await thread.open(id);
    composer.disable(exists
      ? "This conversation is not in the loaded list; find it in the inbox to reply."
      : "This conversation does not exist in this tenant.");
    if (!exists) $("#thread-title").textContent = "Conversation not found";
  }
}

/** A conversation row by id (null when it does not exist or is not this tenant's). */
async function findConversation(api, id) {
  try {
    return await api.getConversation(id);
  } catch {
    return null;
  }
}

/**
 * Who the caller is (GET /api/me): the role decides which controls are offered, the agent id makes "Mine". Managers
 * and Admins also read the agent list from the metrics, for the assignment picker and the agent filter.
 */
async function discoverRole(api, claims, showAppError) {
  let profile = null;
  try {
    profile = await api.me();
  } catch (error) {
    showAppError(error);
  }
  const me = profile && profile.agentId ? { id: profile.agentId, name: profile.name, email: profile.email } : null;
  if (!profile || profile.role === "SALES") return { role: "sales", agents: [], me };
  try {
    const metrics = await api.metrics();
    return { role: "manager", agents: metrics.leadsPerSales || [], me };
  } catch (error) {
    if (error.status !== 403) showAppError(error);
    return { role: "manager", agents: [], me };
  }
}

/** "Mine" (the caller's agent id, from /api/me), then, for Managers and Admins, one entry per agent. */
function fillAssignedFilter(role, agents, me) {
  const select = $("#filter-assigned");
  if (me) select.append(h("option", { value: me.id }, "Mine"));
  if (role === "manager") {
    const group = h("optgroup", { label: "Agent" });
    for (const agent of agents) {
      if (me && agent.id === me.id) continue;
      group.append(h("option", { value: agent.id },
        `${agent.name}${agent.status === "INACTIVE" ? " (inactive)" : ""}`));
    }
    if (group.children.length) select.append(group);
  }
}

/** Leaves for /setup when the token's own expiry passes, instead of waiting for the next 401. */
function scheduleExpiry(token, expire) {
  const left = secondsUntilExpiry(token);
  if (left === null) return;
  if (left <= 0) return expire(null);
  if (left < 24 * 24 * 3600) setTimeout(() => expire(null), left * 1000);
}

function throttle(fn, ms) {
  let last = 0;
  return () => {
    const now = Date.now();
    if (now - last < ms) return;
    last = now;
    fn();
  };
}
