// Small pieces shared by the inbox, the thread header and the lead panel.

import { h } from "./dom.js";
import { resolveAvatar, threadKind, threadKindLabel } from "./names.js";

function avatarFallback(fallback, size) {
  return fallback.kind === "initials"
    ? h("span", { class: `avatar avatar-${size} avatar-initials`, "aria-hidden": "true" }, fallback.text)
    : h("span", { class: `avatar avatar-${size} avatar-placeholder`, "aria-hidden": "true" });
}

/**
 * The avatar of a conversation row. An image is laid over its fallback (initials or the placeholder), so the
 * fallback shows while it loads, and stays if it fails (expired, gone, unreachable).
 */
export function avatar(row, size = "md") {
  const choice = resolveAvatar(row);
  if (choice.kind !== "image") return avatarFallback(choice, size);
  const holder = avatarFallback(choice.fallback, size);
  const img = h("img", {
    class: "avatar-image", src: choice.url, alt: "", loading: "lazy", decoding: "async", referrerpolicy: "no-referrer",
  });
  img.addEventListener("error", () => img.remove(), { once: true });
  holder.append(img);
  return holder;
}

/** A channel badge with its text (colour is never the only cue). */
export function channelBadge(row) {
  return h("span", { class: `badge channel channel-${threadKind(row).toLowerCase()}` }, threadKindLabel(row));
}
