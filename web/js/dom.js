// A small element builder. Everything the API says goes in as text nodes, never as HTML, so a customer's
// message or name can never become markup.

/**
 * h("a", {href, class: "x", dataset: {id}, onclick}, "text", child, [more])
 * Attributes: `class`, `dataset`, `on<event>` handlers, booleans (true sets, false/null omits), the rest as strings.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

/** Shows a status line (role=status or alert) with a kind: "info", "ok", "warn", "error". */
export function setStatus(el, message, kind = "info") {
  el.textContent = message || "";
  el.dataset.kind = kind;
  el.hidden = !message;
}
