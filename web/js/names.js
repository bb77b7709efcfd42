// Pure functions over API rows: who a conversation is with (names and avatars with PRODUCT.md §7's fallback
// chains), how rows group in the inbox, and how channels and previews read. No DOM, so tests import them as is.

export const UNKNOWN_USER = "Unknown User";

function text(value) {
  return typeof value === "string" && value.trim() ? value.trim() : null;
}

/**
 * The best name for a conversation row: participant → contact → identity → external id → thread id →
 * "Unknown User". `source` says which link of the chain answered; only the first three are real names.
 */
export function resolveName(row) {
  const chain = [
    ["participant", row && row.participantDisplayName],
    ["contact", row && row.contactDisplayName],
    ["identity", row && row.contactIdentityDisplayName],
    ["externalId", row && row.contactIdentityExternalUserId],
    ["threadId", row && row.channelThreadId],
  ];
  for (const [source, value] of chain) {
    const name = text(value);
    if (name) return { name, source, isRealName: ["participant", "contact", "identity"].includes(source) };
  }
  return { name: UNKNOWN_USER, source: "unknown", isRealName: false };
}

export function displayName(row) {
  return resolveName(row).name;
}

/** Only https images are shown as avatars: http would be mixed content, and data:/javascript: are not images we trust. */
export function isHttpsUrl(value) {
  const candidate = text(value);
  if (!candidate) return false;
  try {
    return new URL(candidate).protocol === "https:";
  } catch {
    return false;
  }
}

/**
 * Message media may also be our own, served by this stack (same origin, plain http in development); anything
 * else must be https.
 */
export function isDisplayableMediaUrl(value, origin = globalThis.location ? globalThis.location.origin : "") {
  const candidate = text(value);
  if (!candidate) return false;
  try {
    const url = new URL(candidate, origin || undefined);
    return url.protocol === "https:" || (Boolean(origin) && url.origin === origin);
  } catch {
    return false;
  }
}

// Thai leading vowels (เ แ โ ใ ไ) are written before the consonant they follow in speech; an initial made of one
// alone reads as nothing, so initials skip them.
const THAI_LEADING_VOWELS = /^[\u0E40-\u0E44]/;

function graphemes(value) {
  if (typeof Intl !== "undefined" && Intl.Segmenter) {
    return Array.from(new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(value), (s) => s.segment);
  }
  return Array.from(value);
}

function initialOf(word, pattern) {
  const first = graphemes(word).find((g) => /[\p{L}\p{N}]/u.test(g) && !THAI_LEADING_VOWELS.test(g));
  return first && pattern.test(first) ? first.toLocaleUpperCase() : "";
}

/**
 * Up to two initials from a name ("Somchai Jaidee" → "SJ", "สมชาย ใจดี" → "สจ"), or "" when it has none. The
 * second comes from the last word only when that starts with a letter: "LINE user 3ae1c6" gives "L", not "L3".
 */
export function initials(name) {
  const words = (text(name) || "").split(/\s+/).filter(Boolean);
  if (!words.length) return "";
  const first = initialOf(words[0], /[\p{L}\p{N}]/u);
  const last = words.length > 1 ? initialOf(words[words.length - 1], /\p{L}/u) : "";
  return first + last;
}

/**
 * The avatar for a row: participant image → identity image → contact image (https only) → initials of a real
 * name → placeholder. `fallback` is what to show if the chosen image later fails to load.
 */
export function resolveAvatar(row) {
  const { name, isRealName } = resolveName(row);
  const letters = isRealName ? initials(name) : "";
  const fallback = letters ? { kind: "initials", text: letters } : { kind: "placeholder" };
  for (const value of [row && row.participantProfileImageUrl, row && row.contactIdentityProfileImageUrl,
    row && row.contactProfileImageUrl]) {
    if (isHttpsUrl(value)) return { kind: "image", url: value.trim(), fallback };
  }
  return fallback;
}

// -- channels ------------------------------------------------------------------------------------------------

export const CHANNEL_LABELS = { LINE: "LINE", FACEBOOK: "Facebook", INSTAGRAM: "Instagram" };

/** What kind of thread a row is: LINE chat, Messenger DM, a Facebook comment, or an Instagram DM. */
export function threadKind(row) {
  if (row.channel === "FACEBOOK") return row.providerThreadType === "FACEBOOK_COMMENT" ? "COMMENT" : "MESSENGER";
  return row.channel;
}

export function threadKindLabel(row) {
  return { LINE: "LINE", MESSENGER: "Messenger", COMMENT: "FB comment", INSTAGRAM: "Instagram" }[threadKind(row)]
    || row.channel;
}

// -- previews ------------------------------------------------------------------------------------------------

const TYPE_PREVIEWS = {
  IMAGE: "Image",
  DOCUMENT_PDF: "PDF",
  STICKER: "Sticker",
  VIDEO: "Video",
  AUDIO: "Audio",
  FILE: "File",
  LOCATION: "Location",
  UNSUPPORTED: "Unsupported message",
};

/** Cuts at a grapheme boundary so a Thai tone mark or an emoji is never split. */
export function truncate(value, max) {
  const parts = graphemes(value || "");
  return parts.length > max ? parts.slice(0, max - 1).join("").trimEnd() + "…" : parts.join("");
}

export function previewText(row, max = 80) {
  const preview = text(row.lastMessagePreview) || TYPE_PREVIEWS[row.lastMessageType] || "";
  const prefix = row.lastMessageDirection === "OUTBOUND" ? "You: " : "";
  return preview ? prefix + truncate(preview.replace(/\s+/g, " "), max) : "No messages yet";
}

// -- grouping ------------------------------------------------------------------------------------------------

/** One inbox item per lead and platform: a lead's comment threads and DM on Facebook are one item. */
export function groupKey(row) {
  return `${row.leadId || row.contactId || row.id}|${row.channel}`;
}

function newerFirst(a, b) {
  if (a.lastMessageAt !== b.lastMessageAt) return a.lastMessageAt < b.lastMessageAt ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * Groups conversation rows (any order, duplicates by id allowed: the newest copy wins) into inbox items, newest
 * activity first. Each item: {key, leadId, channel, threads (newest first), latest, unread, lastMessageAt}.
 * The name and avatar come from the newest thread that has a real name, so a comment thread without a name does
 * not hide the DM that has one.
 */
export function groupConversations(rows) {
  const byId = new Map();
  for (const row of rows) {
    const seen = byId.get(row.id);
    if (!seen || seen.lastMessageAt <= row.lastMessageAt) byId.set(row.id, row);
  }
  const groups = new Map();
  for (const row of [...byId.values()].sort(newerFirst)) {
    const key = groupKey(row);
    if (!groups.has(key)) groups.set(key, { key, leadId: row.leadId, channel: row.channel, threads: [] });
    groups.get(key).threads.push(row);
  }
  return [...groups.values()].map((group) => {
    const latest = group.threads[0];
    const named = group.threads.find((t) => resolveName(t).isRealName) || latest;
    return {
      ...group,
      latest,
      named,
      unread: group.threads.reduce((sum, t) => sum + (Number(t.unreadCount) || 0), 0),
      lastMessageAt: latest.lastMessageAt,
    };
  });
}

/** Merges a further page into rows already held: fresh copies replace old ones; the result is newest first. */
export function mergeRows(held, fresh) {
  const byId = new Map(held.map((row) => [row.id, row]));
  for (const row of fresh) byId.set(row.id, row);
  return [...byId.values()].sort(newerFirst);
}

/**
 * Reconciles a refetched first page with the rows already held (after a realtime event): the fresh page is the
 * truth for everything as new as its oldest row, so a held row in that range that it lacks no longer matches the
 * filters (read, reassigned) and goes; older held rows (later pages) stay. A last page replaces everything.
 */
export function reconcileFirstPage(held, fresh, hasMore) {
  if (!hasMore || !fresh.length) return [...fresh].sort(newerFirst);
  const oldest = [...fresh].sort(newerFirst)[fresh.length - 1];
  const freshIds = new Set(fresh.map((row) => row.id));
  const older = held.filter((row) => !freshIds.has(row.id) && newerFirst(row, oldest) > 0);
  return mergeRows(older, fresh);
}

/** In a LINE group or room chat, who wrote it: the member's name when known, else a short form of their LINE id. */
export function memberLabel(message) {
  if (message.senderName) return message.senderName;
  const id = message.senderExternalId;
  return id ? `Member ${id.length > 9 ? `${id.slice(0, 5)}…${id.slice(-4)}` : id}` : null;
}
