// Pure rules the composer applies before it calls the API, so an agent learns why a send would be refused before
// typing it: Meta's messaging windows, the comment Private Reply rule, and attachment types and sizes. The API
// enforces all of them again; these only explain.

const HOUR = 3600 * 1000;
const MB = 1024 * 1024;

export const LIMITS = {
  imageMaxBytes: 10 * MB,
  facebookImageMaxBytes: 8 * MB,
  pdfMaxBytes: 10 * MB,
};

/** Meta's windows start at the customer's last message: 24 h standard, then 7 days with the HUMAN_AGENT tag. */
export function messagingWindow(conversation, now = Date.now()) {
  if (conversation.channel === "LINE") return { state: "none" }; // LINE pushes have no window
  if (!conversation.lastInboundAt) return { state: "unknown" };
  const hours = (now - Date.parse(conversation.lastInboundAt)) / HOUR;
  if (hours > 7 * 24) return { state: "closed", hours };
  if (hours > 24) return { state: "tagged", hours };
  return { state: "open", hours };
}

/** True while the next reply to a comment-origin thread is still its one Private Reply. */
export function isFirstCommentReply(conversation) {
  return conversation.providerThreadType === "FACEBOOK_COMMENT"
    && !conversation.privateReplySentAt && !conversation.convertedToDmAt;
}

function describeAge(hours) {
  return hours >= 48 ? `${Math.floor(hours / 24)} days` : `${Math.floor(hours)} hours`;
}

/**
 * What the composer may do for a conversation: {canSend, sendBlockedReason, attachments, attachmentBlockedReason,
 * imageTypes, imageMaxBytes, pdfMaxBytes, notices}. `notices` are shown above the composer as they are.
 */
export function composerRules(conversation, now = Date.now()) {
  const rules = {
    canSend: true,
    sendBlockedReason: null,
    attachments: true,
    attachmentBlockedReason: null,
    // LINE shows JPEG and PNG only; Facebook also takes WEBP (our upload route stores no GIF).
    imageTypes: conversation.channel === "LINE" ? ["image/jpeg", "image/png"] : ["image/jpeg", "image/png", "image/webp"],
    imageMaxBytes: conversation.channel === "FACEBOOK" ? LIMITS.facebookImageMaxBytes : LIMITS.imageMaxBytes,
    pdfMaxBytes: LIMITS.pdfMaxBytes,
    notices: [],
  };
  const window = messagingWindow(conversation, now);
  if (window.state === "closed") {
    rules.canSend = false;
    rules.sendBlockedReason = `The customer last wrote ${describeAge(window.hours)} ago. Meta refuses replies more `
      + "than 7 days after the customer's last message; they have to write again first.";
  } else if (window.state === "tagged") {
    rules.notices.push(`More than 24 hours since the customer's last message (${describeAge(window.hours)}): `
      + "replies are sent with the human-agent tag, until 7 days have passed.");
  }
  if (conversation.channel === "INSTAGRAM") {
    rules.attachments = false;
    rules.attachmentBlockedReason = "Instagram replies are text only.";
  } else if (isFirstCommentReply(conversation)) {
    rules.attachments = false;
    rules.attachmentBlockedReason = "The first reply to a Facebook comment is a Private Reply, which can only be "
      + "text. Images and PDFs can be sent once it has gone (the thread then continues in Messenger).";
  }
  return rules;
}

// -- attachments ---------------------------------------------------------------------------------------------

/** What a file is by its first bytes, as the server judges it: JPEG, PNG, WEBP, PDF, or null. */
export function sniffType(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes || []);
  const ascii = (from, to) => String.fromCharCode(...b.slice(from, to));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 4) === "PNG" && b[4] === 0x0d && b[5] === 0x0a) return "image/png";
  if (b.length >= 12 && ascii(0, 4) === "RIFF" && ascii(8, 12) === "WEBP") return "image/webp";
  if (b.length >= 5 && ascii(0, 5) === "%PDF-") return "application/pdf";
  return null;
}

const TYPE_NAMES = { "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "application/pdf": "PDF" };

export function formatBytes(bytes) {
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < MB) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / MB).toFixed(1).replace(/\.0$/, "")} MB`;
}

/**
 * Checks a chosen file before any upload. `kind` is "image" or "pdf"; `sniffed` the type sniffType found in its
 * first bytes. Answers null when it may be uploaded, else the reason it may not.
 */
export function checkAttachment({ name, size, sniffed }, kind, rules) {
  if (!rules.attachments) return rules.attachmentBlockedReason;
  if (!size) return `${name} is empty.`;
  if (kind === "pdf") {
    if (sniffed !== "application/pdf") return `${name} is not a PDF.`;
    if (size > rules.pdfMaxBytes) return `${name} is ${formatBytes(size)}; PDFs may be at most ${formatBytes(rules.pdfMaxBytes)}.`;
    return null;
  }
  if (!sniffed || !sniffed.startsWith("image/")) return `${name} is not a JPEG, PNG or WEBP image.`;
  if (!rules.imageTypes.includes(sniffed)) {
    return `${TYPE_NAMES[sniffed]} images cannot be sent here; use ${rules.imageTypes.map((t) => TYPE_NAMES[t]).join(" or ")}.`;
  }
  if (size > rules.imageMaxBytes) {
    return `${name} is ${formatBytes(size)}; images may be at most ${formatBytes(rules.imageMaxBytes)} here.`;
  }
  return null;
}
