// The composer: text, one image or one PDF, or text + attachment as two ordered sends (text first) with partial
// success reported. Rules (Meta windows, the comment Private Reply, Instagram text only, types and sizes) are
// checked before anything is uploaded; the API checks them again.

import { h, $, clear, setStatus } from "./dom.js";
import { checkAttachment, composerRules, formatBytes, sniffType } from "./rules.js";
import { previewText, threadKindLabel } from "./names.js";
import { listStamp } from "./format.js";

const MAX_TEXT = 4000;

function newKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export class Composer {
  /** @param onThreadChange(conversation) the agent picked another thread to reply in; onSent(conversation) */
  constructor(api, { onThreadChange, onSent, onError }) {
    this.api = api;
    this.onThreadChange = onThreadChange;
    this.onSent = onSent;
    this.onError = onError;
    this.conversation = null;
    this.attachment = null; // {file, kind, sniffed, previewUrl, uploaded, key}
    this.textKey = newKey(); // Idempotency-Key of the text being written: a retry after a network error reuses it
    this.sending = false;

    this.form = $("#composer");
    this.text = $("#composer-text");
    this.picker = $("#composer-thread");
    this.imageInput = $("#attach-image");
    this.pdfInput = $("#attach-pdf");
    this.sendButton = $("#send-button");
    this.notices = $("#composer-notices");
    this.attachReason = $("#attach-reason");
    this.chip = $("#attachment");
    this.result = $("#composer-result");
    this.counter = $("#composer-count");

    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.send();
      }
    });
    this.text.addEventListener("input", () => {
      this.textKey = newKey(); // different text, different message
      this.updateCounter();
    });
    this.picker.addEventListener("change", () => {
      const chosen = this.threads.find((t) => t.id === this.picker.value);
      if (chosen) this.onThreadChange(chosen);
    });
    this.imageInput.addEventListener("change", () => this.choose(this.imageInput, "image"));
    this.pdfInput.addEventListener("change", () => this.choose(this.pdfInput, "pdf"));
    this.threads = [];
    // Meta's windows close while the page stays open: the rules are re-read every minute.
    setInterval(() => { if (this.conversation && !this.sending) this.applyRules(); }, 60_000);
  }

  /** The conversation replies go to, and the lead's threads the agent may pick from. */
  setContext(conversation, threads) {
    const changed = !this.conversation || this.conversation.id !== conversation.id;
    this.conversation = conversation;
    this.threads = threads && threads.length ? threads : [conversation];
    if (!this.threads.some((t) => t.id === conversation.id)) this.threads = [conversation, ...this.threads];
    this.renderPicker();
    if (changed) {
      this.removeAttachment();
      setStatus(this.result, "");
    }
    this.applyRules();
  }

  disable(reason) {
    this.conversation = null;
    this.form.hidden = false;
    for (const el of [this.text, this.picker, this.imageInput, this.pdfInput, this.sendButton]) el.disabled = true;
    $("#composer-thread-field").hidden = true;
    this.attachReason.hidden = true;
    this.removeAttachment();
    setStatus(this.notices, reason, "warn");
  }

  renderPicker() {
    clear(this.picker);
    for (const thread of this.threads) {
      // A lead's threads share its name: the channel, last message and time tell them apart.
      const label = `${threadKindLabel(thread)} · ${previewText(thread, 32)} · ${listStamp(thread.lastMessageAt)}`;
      this.picker.append(h("option", { value: thread.id, selected: thread.id === this.conversation.id }, label));
    }
    // With one thread there is nothing to choose: the header already says which channel replies go to.
    $("#composer-thread-field").hidden = this.threads.length < 2;
  }

  /** Shows the rules for this conversation and disables what they forbid, saying why. */
  applyRules() {
    const rules = composerRules(this.conversation);
    this.rules = rules;
    const notices = [...rules.notices];
    if (!rules.canSend) notices.unshift(rules.sendBlockedReason);
    clear(this.notices);
    for (const line of notices) this.notices.append(h("p", {}, line));
    this.notices.hidden = !notices.length;
    this.notices.dataset.kind = rules.canSend ? "info" : "warn";

    this.text.disabled = !rules.canSend;
    this.sendButton.disabled = !rules.canSend || this.sending;
    const attachable = rules.canSend && rules.attachments;
    this.imageInput.disabled = !attachable;
    this.pdfInput.disabled = !attachable;
    this.imageInput.accept = rules.imageTypes.join(",");
    this.form.classList.toggle("attachments-blocked", !attachable);
    this.attachReason.textContent = rules.canSend && !rules.attachments ? rules.attachmentBlockedReason : "";
    this.attachReason.hidden = !this.attachReason.textContent;
    if (!attachable) this.removeAttachment();
    this.updateCounter();
  }

  updateCounter() {
    const length = this.text.value.length;
    this.counter.textContent = length > MAX_TEXT - 500 ? `${length} / ${MAX_TEXT}` : "";
    this.counter.dataset.kind = length > MAX_TEXT ? "error" : "info";
  }

  // -- attachments ---------------------------------------------------------------------------------------------

  async choose(input, kind) {
    const file = input.files && input.files[0];
    input.value = ""; // choosing the same file again must fire change again
    if (!file) return;
    const head = new Uint8Array(await file.slice(0, 16).arrayBuffer());
    const sniffed = sniffType(head);
    const problem = checkAttachment({ name: file.name, size: file.size, sniffed }, kind, this.rules);
    if (problem) {
      setStatus(this.result, problem, "error");
      return;
    }
    const replaced = this.attachment ? ` (it replaces ${this.attachment.file.name}: one attachment at a time)` : "";
    this.removeAttachment();
    this.attachment = {
      file, kind, sniffed, uploaded: null, key: newKey(),
      previewUrl: kind === "image" ? URL.createObjectURL(file) : null,
    };
    this.renderAttachment();
    setStatus(this.result, `${file.name} attached${replaced}.`);
  }

  renderAttachment() {
    clear(this.chip);
    const a = this.attachment;
    this.chip.hidden = !a;
    if (!a) return;
    this.chip.append(
      a.previewUrl ? h("img", { src: a.previewUrl, alt: "", class: "attachment-preview" })
        : h("span", { class: "pdf-icon", "aria-hidden": "true" }, "PDF"),
      h("span", { class: "attachment-name", dir: "auto" }, a.file.name),
      h("span", { class: "attachment-size" }, formatBytes(a.file.size)),
      h("button", {
        type: "button", class: "link-button", id: "remove-attachment",
        "aria-label": `Remove the attachment ${a.file.name}`,
        onclick: () => { this.removeAttachment(); this.text.focus(); },
      }, "Remove"));
  }

  removeAttachment() {
    if (this.attachment && this.attachment.previewUrl) URL.revokeObjectURL(this.attachment.previewUrl);
    this.attachment = null;
    this.renderAttachment();
  }

  // -- sending -------------------------------------------------------------------------------------------------

  async send() {
    if (this.sending || !this.conversation) return;
    const conversation = this.conversation;
    const content = this.text.value.trim();
    const attachment = this.attachment;
    if (!this.rules.canSend) return setStatus(this.result, this.rules.sendBlockedReason, "error");
    if (!content && !attachment) return setStatus(this.result, "Write a message or attach a file first.", "error");
    if (content.length > MAX_TEXT) return setStatus(this.result, `A message may be at most ${MAX_TEXT} characters.`, "error");

    this.setSending(true);
    const done = [];
    let failure = null;
    // Text first, then the attachment: the customer reads them in that order. A failed text stops the attachment,
    // so nothing arrives out of order.
    if (content) {
      setStatus(this.result, "Sending the text…");
      try {
        await this.api.sendMessage({ ...target(conversation), type: "text", content }, this.textKey);
        done.push("text");
        this.text.value = "";
        this.textKey = newKey();
        this.updateCounter();
      } catch (error) {
        failure = { part: "text", error };
      }
    }
    if (attachment && !failure) {
      try {
        await this.sendAttachment(conversation, attachment);
        done.push(attachment.kind === "pdf" ? "PDF" : "image");
        this.removeAttachment();
      } catch (error) {
        failure = { part: attachment.kind === "pdf" ? "PDF" : "image", error };
      }
    }
    this.setSending(false);
    this.report(done, failure, attachment);
    if (done.length) this.onSent(conversation);
    if (failure && this.onError) this.onError(failure.error);
    if (!failure) this.text.focus();
  }

  async sendAttachment(conversation, attachment) {
    if (!attachment.uploaded) {
      setStatus(this.result, `Uploading ${attachment.file.name}…`);
      attachment.uploaded = attachment.kind === "pdf"
        ? await this.api.uploadPdf(attachment.file)
        : await this.api.uploadImage(attachment.file);
    }
    const u = attachment.uploaded;
    setStatus(this.result, `Sending ${attachment.file.name}…`);
    const payload = attachment.kind === "pdf"
      ? { type: "document_pdf", mediaUrl: u.fileUrl || u.mediaUrl, fileName: u.fileName, mimeType: "application/pdf",
        fileSizeBytes: u.fileSizeBytes }
      : { type: "image", mediaUrl: u.mediaUrl, previewUrl: u.previewUrl, mimeType: u.mimeType,
        fileSizeBytes: u.fileSizeBytes, width: u.width, height: u.height };
    await this.api.sendMessage({ ...target(conversation), ...payload }, attachment.key);
  }

  report(done, failure, attachment) {
    if (!failure) {
      setStatus(this.result, `${capitalise(done.join(" and "))} queued for delivery.`, "ok");
      return;
    }
    const why = explainSendError(failure.error);
    if (!done.length) {
      setStatus(this.result, `Nothing was sent: the ${failure.part} was refused. ${why}`, "error");
    } else {
      setStatus(this.result, `Partly sent: the ${done.join(" and ")} went to the queue, but the ${failure.part} did `
        + `not. ${why}${attachment ? " It is still attached: press Send to try it again." : ""}`, "warn");
    }
  }

  setSending(sending) {
    this.sending = sending;
    this.form.setAttribute("aria-busy", String(sending));
    this.sendButton.disabled = sending || !this.rules.canSend;
    this.sendButton.textContent = sending ? "Sending…" : "Send";
  }
}

/** Which conversation, lead and channel a send goes to: the channel is the chosen thread's own. */
function target(conversation) {
  return { leadId: conversation.leadId, conversationId: conversation.id, channel: conversation.channel };
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The API's refusal in words an agent can act on. */
export function explainSendError(error) {
  const messages = {
    comment_reply_text_only: "The first reply to a Facebook comment must be text.",
    outside_messaging_window: "The customer's last message is more than 7 days old; Meta refuses the reply.",
    unsupported_message_type: "This channel cannot take that kind of message.",
    private_reply_already_sent: "This comment was already answered privately.",
    payload_too_large: "The file is too large.",
  };
  const known = error.code && messages[error.code];
  const detail = error.describe ? error.describe() : error.message;
  return known ? `${known} (${detail})` : detail;
}
