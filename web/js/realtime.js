// Live updates over Server-Sent Events from nginx's nchan (GET /api/realtime). Events carry ids only; the
// dashboard refetches what they name. Bursts are collapsed (150 ms) into one batch. When the stream keeps failing,
// the dashboard polls every 10 s instead, says so, and tries the stream again now and then.

const DEBOUNCE_MS = 150;
const POLL_MS = 10_000;
const RETRY_STREAM_MS = 60_000;
const FAILURES_BEFORE_POLLING = 3;

/** What an event asks the dashboard to refetch. Pure, so tests can check the mapping. */
export function refetchFor(event) {
  const want = { list: false, conversations: [], leads: [], messages: [] };
  switch (event.type) {
    case "message.received":
    case "message.created":
    case "conversation.updated":
      want.list = true;
      if (event.conversationId) want.conversations.push(event.conversationId);
      // The message named may be on an older page than the newest: one that changed (unsent or edited by the
      // customer), or a new one older than what is shown (a provider's redelivery after an outage).
      if (event.type !== "message.created" && event.messageId) want.messages.push(event.messageId);
      break;
    case "message.status":
      // A failed send changes what the list previews too, so the list follows.
      want.list = event.status === "FAILED";
      if (event.conversationId) want.conversations.push(event.conversationId);
      break;
    case "conversation.read":
      want.list = true;
      break;
    case "lead.updated":
      want.list = true; // lead status and assignment show in the list and its filters
      if (event.leadId) want.leads.push(event.leadId);
      break;
    default:
      want.list = true; // an event we do not know yet: refetching the list is always safe
  }
  return want;
}

export class LiveUpdates {
  /**
   * @param onBatch({all, list, conversations:Set, leads:Set, received:Set}) the refetches to do
   * @param onState("connecting"|"live"|"polling") for the notice in the top bar
   * @param onStreamRefused() the stream was refused outright (maybe an expired token): the caller can check
   */
  constructor(session, { onBatch, onState, onStreamRefused }) {
    this.session = session;
    this.onBatch = onBatch;
    this.onState = onState;
    this.onStreamRefused = onStreamRefused;
    this.source = null;
    this.failures = 0;
    this.pending = null;
    this.timer = null;
    this.pollTimer = null;
    this.retryTimer = null;
    this.everOpened = false;
    this.eventsReceived = 0;
  }

  url() {
    const url = new URL(this.session.baseUrl.replace(/\/+$/, "") + "/api/realtime");
    url.searchParams.set("tenant", this.session.tenantId);
    // EventSource cannot send headers; the token goes in the query, over the same origin, and nginx's access log
    // records $uri without the query.
    url.searchParams.set("access_token", this.session.accessToken);
    return url.toString();
  }

  start() {
    if (typeof EventSource === "undefined") return this.startPolling();
    this.connect();
  }

  connect() {
    this.closeSource();
    this.onState(this.pollTimer ? "polling" : "connecting");
    const source = new EventSource(this.url());
    this.source = source;
    source.onopen = () => {
      const recovered = this.failures > 0 || this.pollTimer !== null;
      this.failures = 0;
      this.everOpened = true;
      this.stopPolling();
      this.onState("live");
      // Events may have been missed while the stream was down: catch up once.
      if (recovered) this.queue(null);
    };
    source.onmessage = (message) => this.onMessage(message);
    source.onerror = () => this.onError(source);
  }

  onMessage(message) {
    let parsed;
    try {
      parsed = JSON.parse(message.data);
    } catch {
      return;
    }
    // One event, or several that the worker published together.
    for (const event of Array.isArray(parsed) ? parsed : [parsed]) {
      // The server subscribes us to our tenant's channel only; this check is a second line, never the first.
      if (!event || (event.tenantId && event.tenantId !== this.session.tenantId)) continue;
      this.eventsReceived += 1;
      document.documentElement.dataset.realtimeEvents = String(this.eventsReceived);
      this.queue(event);
    }
  }

  onError(source) {
    if (source !== this.source) return;
    this.failures += 1;
    const refused = source.readyState === EventSource.CLOSED; // an answer that was not a stream (401, 403, 404…)
    if (refused && this.onStreamRefused) this.onStreamRefused();
    if (this.failures >= FAILURES_BEFORE_POLLING) {
      this.closeSource();
      this.startPolling();
      return;
    }
    this.onState("connecting");
    if (refused) {
      // The browser does not retry a refused stream by itself.
      this.closeSource();
      this.retryTimer = setTimeout(() => this.connect(), 1000 * 2 ** (this.failures - 1));
    }
    // Otherwise (a dropped connection) EventSource reconnects by itself.
  }

  /** Collects events for DEBOUNCE_MS; null asks for everything. */
  queue(event) {
    if (!this.pending) {
      this.pending = { all: false, list: false, conversations: new Set(), leads: new Set(), messages: new Set(), received: new Set() };
    }
    const batch = this.pending;
    if (event === null) {
      batch.all = true;
    } else {
      const want = refetchFor(event);
      batch.list = batch.list || want.list;
      want.conversations.forEach((id) => batch.conversations.add(id));
      want.leads.forEach((id) => batch.leads.add(id));
      want.messages.forEach((id) => batch.messages.add(id));
      if (event.type === "message.received" && event.conversationId) batch.received.add(event.conversationId);
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.pending = null;
      this.onBatch(batch);
    }, DEBOUNCE_MS);
  }

  startPolling() {
    this.onState("polling");
    if (!this.pollTimer) this.pollTimer = setInterval(() => this.queue(null), POLL_MS);
    clearTimeout(this.retryTimer);
    if (typeof EventSource !== "undefined") {
      this.retryTimer = setTimeout(() => {
        this.failures = FAILURES_BEFORE_POLLING - 1; // one more failure returns straight to polling
        this.connect();
      }, RETRY_STREAM_MS);
    }
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    this.pollTimer = null;
  }

  closeSource() {
    if (this.source) {
      this.source.onopen = this.source.onmessage = this.source.onerror = null;
      this.source.close();
      this.source = null;
    }
  }

  stop() {
    this.closeSource();
    this.stopPolling();
    clearTimeout(this.timer);
  }
}
