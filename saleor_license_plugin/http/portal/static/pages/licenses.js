// My licenses: keys, status, expiries, deployment, activations, and the offline activation
// file for a device that cannot reach the server (licenseEntitlementFile takes a device seat).
import { mutate, plugin } from "../api.js";
import { badge, busy, date, download, flashBox, h, loading, mount, show, unit } from "../dom.js";
import { go } from "../nav.js";
import { PLUGIN } from "../queries.js";

export async function showLicenses() {
  const box = flashBox();
  const list = h("div", { id: "license-list" });
  const search = h("input", { id: "license-search", type: "search", placeholder: "Key hint, edition or deployment" });
  const find = h("button", { type: "submit", id: "license-search-button" }, "Search");
  const pages = []; // cursors of the pages before this one

  async function load(after) {
    list.replaceChildren(loading());
    const filter = search.value.trim() ? { search: search.value.trim() } : null;
    try {
      const data = await plugin(PLUGIN.LICENSES, { after, filter });
      render(data.licenses, after);
    } catch (error) {
      list.replaceChildren();
      show(box, "error", error.lines);
    }
  }

  function render(connection, after) {
    const nodes = connection.edges.map((e) => e.node);
    if (!nodes.length) return list.replaceChildren(h("p", { class: "muted", id: "no-licenses" }, "No licenses."));
    list.replaceChildren(
      h("p", { class: "muted" }, `${connection.totalCount} license(s)`),
      h("ul", { class: "cards" }, nodes.map((l) => licenseCard(l, box, () => load(after)))),
      h("div", { class: "row" },
        pages.length ? h("button", { type: "button", onclick: () => load(pages.pop() || null) }, "Previous") : null,
        connection.pageInfo.hasNextPage
          ? h("button", { type: "button", onclick: () => { pages.push(after); load(connection.pageInfo.endCursor); } }, "Next")
          : null));
  }

  mount(h("h1", null, "My licenses"), box,
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); pages.length = 0; busy(find, null, () => load(null)); } },
      h("label", { class: "grow" }, "Search", search), find),
    list);
  await load(null);
}

function licenseCard(l, box, reload) {
  const fingerprint = h("input", { placeholder: "Device id (fingerprint)", autocomplete: "off", "data-fingerprint": l.keyHint });
  const fileButton = h("button", { type: "button", "data-offline": l.keyHint }, "Download offline activation file");
  fileButton.addEventListener("click", () => busy(fileButton, box, async () => {
    const payload = await mutate(plugin, PLUGIN.OFFLINE_FILE, { key: l.key, fingerprint: fingerprint.value.trim() }, "licenseEntitlementFile");
    download(payload.filename, payload.content);
    show(box, "ok", [`Saved ${payload.filename}: load it on the device (Activation → Update). It uses one of the license's device seats.`]);
    reload();
  }));
  const expiry = l.isPerpetual
    ? `Perpetual · maintenance until ${date(l.maintenanceExpiresAt)}`
    : `Term until ${date(l.termExpiresAt)}${l.maintenanceExpiresAt ? ` · maintenance until ${date(l.maintenanceExpiresAt)}` : ""}`;
  const active = l.status === "ACTIVE";
  return h("li", { class: "card license", "data-license": l.keyHint },
    h("div", { class: "row spread" }, h("strong", null, `${l.edition} ${l.capacity} ${unit(l.capacityUnit)}`), badge(l.status)),
    h("div", { class: "key", "data-key": l.keyHint }, l.key || `…${l.keyHint}`),
    h("div", { class: "muted small" }, expiry),
    l.addOns.length ? h("div", { class: "small" }, "Add-ons: ",
      l.addOns.map((a) => (a.kind === "flat" ? a.code : `${a.code} ×${a.quantity}`)).join(", ")) : null,
    h("div", { class: "small" }, "Deployment: ", l.deployment ? `${l.deployment.name} (${l.deployment.publicId})` : "not bound"),
    h("details", { class: "activations" },
      h("summary", null, `Devices: ${l.activationCount} of ${l.maxActivations}`),
      l.activations.length
        ? h("ul", { class: "plain" }, l.activations.map((a) =>
            // `device` is the SHA-256 the server keeps of the fingerprint, not the fingerprint itself
            h("li", { class: "small", "data-device": a.device }, h("code", { title: a.device }, `${a.device.slice(0, 12)}…`), ` · since ${date(a.firstSeenAt)}, last seen ${date(a.lastSeenAt)}`)))
        : h("p", { class: "muted small" }, "No devices yet."),
      h("div", { class: "row" }, fingerprint, fileButton)),
    active && l.key
      ? h("div", { class: "row actions" },
          h("button", { type: "button", class: "link", onclick: () => go("#/buy/upgrade", { key: l.key }) }, "Upgrade"),
          h("button", { type: "button", class: "link", onclick: () => go(l.isPerpetual ? "#/buy/maintenance" : "#/buy/renew", { key: l.key }) },
            l.isPerpetual ? "Renew maintenance" : "Renew"),
          h("button", { type: "button", class: "link", onclick: () => go("#/buy/expansion", { key: l.key }) }, "Expand"))
      : null);
}
