// Small DOM helpers: h() builds elements, nothing here knows about the APIs.

// h("button", { class: "primary", onclick: fn }, "Label", child, [more children])
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "value") node.value = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  append(node, children);
  return node;
}

function append(node, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) return child.forEach((c) => append(node, c));
  node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

export function mount(...children) {
  const root = clear(document.getElementById("app"));
  append(root, children);
  return root;
}

export const $ = (selector, scope = document) => scope.querySelector(selector);
export const val = (selector) => ($(selector)?.value || "").trim();

// { amount, currency } -> "€1,234.00" (the browser's locale decides the format)
export function money(m) {
  if (!m) return "—";
  return new Intl.NumberFormat(undefined, { style: "currency", currency: m.currency }).format(m.amount);
}

export const date = (value) => (value ? new Date(value).toISOString().slice(0, 10) : "—");

export function badge(status) {
  return h("span", { class: `badge s-${status}` }, status.replace(/_/g, " ").toLowerCase());
}

export const unit = (text) => (text || "").replace(/_/g, " ");

// A box for messages; show(box, "error" | "ok" | "info", lines) fills it.
export function flashBox(id = "flash") {
  return h("div", { id, class: "flash-box" });
}

export function show(box, kind, lines) {
  clear(box);
  if (!lines || !lines.length) return;
  box.appendChild(
    h("div", { class: `flash ${kind}`, role: kind === "error" ? "alert" : "status" },
      [].concat(lines).map((line) => h("div", null, line))));
}

// Runs promise-returning work with the button disabled and a spinner; errors go to `box`.
export async function busy(button, box, work) {
  const label = button.textContent;
  button.disabled = true;
  button.classList.add("loading");
  button.setAttribute("aria-busy", "true");
  if (box) show(box, null, null);
  try {
    return await work();
  } catch (error) {
    if (box) show(box, "error", error.lines || [String(error.message || error)]);
    return undefined;
  } finally {
    button.disabled = false;
    button.classList.remove("loading");
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

export function loading(text = "Loading…") {
  return h("p", { class: "muted loading-line" }, h("span", { class: "spinner" }), text);
}

// Saves text as a file (the offline activation file).
export function download(filename, text, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
