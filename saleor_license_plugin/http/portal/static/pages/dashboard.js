// The home page: license statistics and what expires soon (licenseStatistics, licenses).
import { plugin } from "../api.js";
import { badge, date, flashBox, h, loading, mount, show, unit } from "../dom.js";
import { go } from "../nav.js";
import { PLUGIN } from "../queries.js";

function stat(label, value, id) {
  return h("div", { class: "stat", id }, h("div", { class: "stat-value" }, String(value)), h("div", { class: "muted" }, label));
}

export async function showDashboard() {
  const box = flashBox();
  const body = h("div", null, loading());
  mount(h("h1", null, "Dashboard"), box, body);
  let data;
  try {
    data = await plugin(PLUGIN.DASHBOARD, {});
  } catch (error) {
    body.replaceChildren();
    return show(box, "error", error.lines);
  }
  const s = data.licenseStatistics;
  const count = (status) => s.byStatus.find((b) => b.status === status)?.count || 0;
  const soon = data.licenses.edges.map((e) => e.node);
  body.replaceChildren(
    h("div", { class: "stats", id: "stats" },
      stat("licenses", s.total, "stat-total"),
      stat("active", count("ACTIVE"), "stat-active"),
      stat("expiring in 30 days", s.expiringWithin30Days, "stat-30"),
      stat("expiring in 90 days", s.expiringWithin90Days, "stat-90"),
      stat("suspended", count("SUSPENDED"), "stat-suspended"),
      stat("open trials", s.trialsOpen, "stat-trials")),
    h("h2", null, "Expiring soon"),
    soon.length
      ? h("ul", { class: "cards", id: "expiring" }, soon.map((l) =>
          h("li", { class: "card" },
            h("div", { class: "row spread" }, h("strong", null, `${l.edition} ${l.capacity} ${unit(l.capacityUnit)}`), badge(l.status)),
            h("div", { class: "muted key" }, `…${l.keyHint}`),
            h("div", null, l.isPerpetual ? `Maintenance until ${date(l.maintenanceExpiresAt)}` : `Term until ${date(l.termExpiresAt)}`),
            l.deployment ? h("div", { class: "muted" }, `${l.deployment.name} (${l.deployment.publicId})`) : null,
            h("button", { type: "button", onclick: () => go(l.isPerpetual ? "#/buy/maintenance" : "#/buy/renew", { key: l.key }) },
              l.isPerpetual ? "Renew maintenance" : "Renew"))))
      : h("p", { class: "muted", id: "expiring-none" }, "Nothing expires in the next 90 days."),
    h("div", { class: "row" },
      h("a", { class: "button primary", href: "#/buy/new" }, "Buy licenses"),
      h("a", { class: "button", href: "#/licenses" }, "My licenses")));
}
