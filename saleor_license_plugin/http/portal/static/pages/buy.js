// Buy, as the vendor portals have it: New, Upgrade, Renew license, Renew maintenance, Expansion.
// Every price shown comes from the plugin (verifyLicenseKey, quoteLicenseAction), never from
// arithmetic here; the cart re-prices each line on the server when it is added.
import { ApiError, mutate, plugin, withSaleor } from "../api.js";
import { badge, busy, date, flashBox, h, loading, money, mount, show, unit } from "../dom.js";
import { take } from "../nav.js";
import { PLUGIN } from "../queries.js";
import { addToCart, loadCatalog } from "../shop.js";

const TABS = [
  ["new", "New"],
  ["upgrade", "Upgrade"],
  ["renew", "Renew license"],
  ["maintenance", "Renew maintenance"],
  ["expansion", "Expansion"],
];
const INTRO = {
  upgrade: "Enter the license key you wish to upgrade and click Verify.",
  renew: "Enter the key of the annual license to renew and click Verify.",
  maintenance: "Enter the license key whose maintenance to renew and click Verify.",
  expansion: "Enter the license key to expand with capacity or services and click Verify.",
};
const YEARS = [1, 2, 3, 4, 5];

export async function showBuy(tab) {
  if (!TABS.some(([id]) => id === tab)) tab = "new";
  const box = flashBox();
  const panel = h("div", { id: "buy-panel" }, loading());
  mount(
    h("h1", null, "Buy"),
    h("nav", { class: "tabs", "aria-label": "What to buy" },
      TABS.map(([id, label]) => h("a", { href: `#/buy/${id}`, class: id === tab ? "active" : null, "data-tab": id }, label))),
    box,
    panel);
  if (tab === "new") return newLicense(panel, box);
  return keyFlow(tab, panel, box);
}

// --- shared parts -----------------------------------------------------------------------------

function quoteView(quote) {
  return h("div", { class: "price", id: "price" },
    h("div", { class: "row spread" }, h("span", null, quote.name), h("strong", { id: "price-total" }, money(quote.total))),
    quote.breakdown.length > 1
      ? h("ul", { class: "breakdown" }, quote.breakdown.map((b) => h("li", null, h("span", null, b.description), h("span", null, money(b.amount)))))
      : null);
}

function quote(input) {
  return mutate(plugin, PLUGIN.QUOTE, { input }, "quoteLicenseAction").then((p) => p.quote);
}

// Re-price when an input changes; only the latest answer is shown.
function repricer(target, box, inputFor) {
  let latest = 0;
  return async () => {
    const mine = ++latest;
    const input = inputFor();
    if (!input) return target.replaceChildren();
    target.replaceChildren(loading("Pricing…"));
    try {
      const quotes = await Promise.all([].concat(input).map(quote));
      if (mine !== latest) return;
      show(box, null, null);
      target.replaceChildren(...quotes.map(quoteView), quotes.length > 1 ? totalView(quotes) : "");
    } catch (error) {
      if (mine !== latest) return;
      target.replaceChildren();
      show(box, "error", error.lines);
    }
  };
}

function totalView(quotes) {
  const amount = quotes.reduce((sum, q) => sum + q.total.amount, 0);
  return h("div", { class: "row spread total" }, h("strong", null, "Total"),
    h("strong", { id: "price-sum" }, money({ amount, currency: quotes[0].total.currency })));
}

// "Add to cart": a Saleor checkout line per line, through the plugin (checkoutLicenseLinesAdd).
function cartButton(box, linesFor, check = () => null) {
  const button = h("button", { class: "primary", type: "button", id: "add-to-cart" }, "Add to cart");
  if (!withSaleor()) {
    button.disabled = true;
    return h("div", { class: "row" }, button,
      h("p", { class: "muted small", id: "cart-needs-saleor" },
        "The cart needs Saleor's checkout (make demo-saleor): this standalone server shows prices, it sells nothing."));
  }
  button.addEventListener("click", () => busy(button, box, async () => {
    const problem = check();
    if (problem) throw new ApiError([problem]);
    await addToCart(linesFor());
    show(box, "ok", [h("span", null, "Added to your cart. ", h("a", { href: "#/cart" }, "View cart"))]);
  }));
  return h("div", { class: "row" }, button, h("a", { class: "button", href: "#/cart" }, "View cart"));
}

function select(id, options, onchange) {
  return h("select", { id, onchange }, options.map(([value, label]) => h("option", { value }, label)));
}

// "Search for deployment" (Sangoma's portal): a typeahead over the buyer's deployments, then the
// warning that a license cannot be moved after purchase, which the buyer must confirm.
function deploymentPicker(box, { required }) {
  let selected = null;
  let timer = null;
  const input = h("input", { id: "deployment-search", type: "search", placeholder: "Deployment ID or name", autocomplete: "off" });
  const results = h("ul", { class: "results", id: "deployment-results" });
  const confirm = h("input", { type: "checkbox", id: "deployment-confirm" });
  const chosen = h("div", { id: "deployment-chosen" });

  async function search() {
    const text = input.value.trim();
    if (!text) return results.replaceChildren();
    results.replaceChildren(h("li", { class: "muted" }, "Searching…"));
    try {
      const data = await plugin(PLUGIN.DEPLOYMENTS, { search: text });
      const found = data.deployments.edges.map((e) => e.node);
      results.replaceChildren(...(found.length
        ? found.map((d) => h("li", null, h("button", { type: "button", class: "link", "data-deployment": d.publicId, onclick: () => choose(d) },
            `${d.name} (${d.publicId})`)))
        : [h("li", { class: "muted" }, "No deployment matches.")]));
    } catch (error) {
      results.replaceChildren();
      show(box, "error", error.lines);
    }
  }

  function choose(deployment) {
    selected = deployment;
    confirm.checked = false;
    results.replaceChildren();
    input.value = "";
    chosen.replaceChildren(h("div", { class: "notice warn", role: "note" },
      h("div", null, "Assign to ", h("strong", null, `${deployment.name} (${deployment.publicId})`)),
      h("p", null, "Double-check your selection, especially if you have deployments with similar names or numbers. ",
        h("strong", null, "A license cannot be moved after purchase."), " It will be assigned to the deployment you select."),
      h("label", { class: "inline" }, confirm, "I have checked: assign the license to this deployment"),
      h("button", { type: "button", class: "link", onclick: () => { selected = null; chosen.replaceChildren(); } }, "Choose another")));
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });
  return {
    element: h("fieldset", { class: "deployment" },
      h("legend", null, required ? "Deployment (required for this product)" : "Deployment (optional)"),
      h("label", null, "Search for deployment", input), results, chosen),
    get deploymentId() { return selected?.publicId || null; },
    problem() {
      if (!selected) return required ? "This product must be assigned to a deployment: search for one." : null;
      return confirm.checked ? null : "Please confirm the deployment: a license cannot be moved after purchase.";
    },
  };
}

// --- New ------------------------------------------------------------------------------------

async function newLicense(panel, box) {
  let catalog;
  try {
    catalog = (await loadCatalog()).filter((item) => item.kind === "edition");
  } catch (error) {
    panel.replaceChildren();
    return show(box, "error", error.lines);
  }
  if (!catalog.length) return panel.replaceChildren(h("p", { class: "muted" }, "No license editions are on sale."));
  const editions = [...new Set(catalog.slice().sort((a, b) => a.rank - b.rank).map((i) => i.edition))];
  const price = h("div", { id: "new-price" });
  const deploymentSlot = h("div");
  let picker = null;

  const editionSelect = select("edition", editions.map((e) => [e, e]), () => { fillCapacities(); reprice(); });
  const capacitySelect = h("select", { id: "capacity", onchange: () => { placePicker(); reprice(); } });
  const quantity = h("input", { id: "quantity", type: "number", min: 1, max: 100, value: 1, oninput: () => reprice() });
  const maintenance = select("maintenance-years", [0, ...YEARS].map((y) => [y, y ? `${y} year${y > 1 ? "s" : ""}` : "none"]), () => reprice());

  const current = () => catalog.find((i) => i.variantId === capacitySelect.value);
  function fillCapacities() {
    const variants = catalog.filter((i) => i.edition === editionSelect.value).sort((a, b) => a.capacity - b.capacity);
    capacitySelect.replaceChildren(...variants.map((v) =>
      h("option", { value: v.variantId }, `${v.capacity} ${unit(v.capacityUnit)}${v.term === "annual" ? " (annual)" : ""} · ${money(v.price)}`)));
    placePicker();
  }
  function placePicker() {
    const item = current();
    picker = deploymentPicker(box, { required: Boolean(item?.requiresDeployment) });
    deploymentSlot.replaceChildren(picker.element);
  }
  const years = () => parseInt(maintenance.value, 10);
  const reprice = repricer(price, box, () => ({
    action: "NEW", variantId: capacitySelect.value, quantity: parseInt(quantity.value || "1", 10), maintenanceYears: years(),
  }));

  panel.replaceChildren(
    h("p", { class: "muted" }, "Choose the edition, its capacity, how many licenses and years of maintenance."),
    h("div", { class: "grid" },
      h("label", null, "Edition", editionSelect),
      h("label", null, "Capacity", capacitySelect),
      h("label", null, "Quantity", quantity),
      h("label", null, "Maintenance", maintenance)),
    deploymentSlot,
    price,
    cartButton(box, () => [{
      variantId: capacitySelect.value, action: "NEW", quantity: parseInt(quantity.value || "1", 10),
      maintenanceYears: years(), ...(picker.deploymentId ? { deploymentId: picker.deploymentId } : {}),
    }], () => picker.problem()));
  fillCapacities();
  reprice();
}

// --- Upgrade, Renew license, Renew maintenance, Expansion: key -> Verify -> offers ---------------

function keyFlow(tab, panel, box) {
  const handed = take("key") || "";
  const input = h("input", { id: "license-key", value: handed, autocomplete: "off", spellcheck: "false",
    placeholder: "XXXXX-XXXXX-XXXXX-XXXXX-XXXXX", class: "key" });
  const verify = h("button", { type: "submit", class: "primary", id: "verify" }, "Verify");
  const result = h("div", { id: "verified" });

  async function run() {
    result.replaceChildren();
    const key = input.value.trim();
    if (!key) return show(box, "error", ["Enter a license key."]);
    await busy(verify, box, async () => {
      const payload = await mutate(plugin, PLUGIN.VERIFY, { key }, "verifyLicenseKey");
      renderOffers(tab, payload.verification, key, result, box);
    });
  }

  panel.replaceChildren(
    h("p", { class: "muted" }, INTRO[tab]),
    h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); run(); } }, h("label", { class: "grow" }, "License key", input), verify),
    result);
  if (handed) run();
}

function facts(v) {
  const addOns = (v.addOns || []).map((a) => (a.kind === "flat" ? a.code : `${a.code} ×${a.quantity}`)).join(", ");
  return h("dl", { class: "facts", id: "license-facts" },
    h("dt", null, "Edition"), h("dd", { id: "fact-edition" }, v.edition),
    h("dt", null, "Capacity"), h("dd", { id: "fact-capacity" }, `${v.capacity} ${unit(v.capacityUnit)}`),
    h("dt", null, "Status"), h("dd", null, badge(v.status)),
    h("dt", null, "Term"), h("dd", null, v.isPerpetual ? "perpetual" : `until ${date(v.termExpiresAt)}`),
    h("dt", null, "Maintenance"), h("dd", null, v.maintenanceExpiresAt ? `until ${date(v.maintenanceExpiresAt)}` : "—"),
    h("dt", null, "Deployment"), h("dd", null, v.deployment ? `${v.deployment.name} (${v.deployment.publicId})` : "—"),
    h("dt", null, "Add-ons"), h("dd", null, addOns || "—"));
}

function unavailable(text) {
  return h("p", { class: "notice", id: "unavailable" }, text);
}

function renderOffers(tab, v, key, result, box) {
  const parts = [facts(v)];
  const can = (action) => v.actions.includes(action);
  if (v.status !== "ACTIVE" && !v.actions.length) {
    parts.push(unavailable(`This license is ${v.status.toLowerCase().replace(/_/g, " ")}: nothing can be bought for it now.`));
  } else if (tab === "upgrade") {
    parts.push(can("UPGRADE") && v.upgrades.length ? upgradeOffer(v, key, box) : unavailable("There is no higher edition or capacity to upgrade this license to."));
  } else if (tab === "renew") {
    parts.push(can("RENEW_LICENSE") && v.renewal ? renewalOffer("RENEW_LICENSE", v.renewal, key, box)
      : unavailable(v.isPerpetual ? "This license is perpetual: it has no term to renew. Renew its maintenance instead." : "This license cannot be renewed."));
  } else if (tab === "maintenance") {
    parts.push(can("RENEW_MAINTENANCE") && v.maintenance ? renewalOffer("RENEW_MAINTENANCE", v.maintenance, key, box)
      : unavailable("This license has no maintenance plan to renew."));
  } else if (tab === "expansion") {
    parts.push(can("EXPANSION") && v.expansions.length ? expansionOffer(v, key, box) : unavailable("No expansions are available for this license."));
  }
  result.replaceChildren(...parts);
}

// Upgrade: the targets come priced for this key (prorated on the term left, with the floor).
function upgradeOffer(v, key, box) {
  const editions = [...new Set(v.upgrades.map((u) => u.edition))];
  const price = h("div", { id: "upgrade-price" });
  const editionSelect = select("target-edition", editions.map((e) => [e, e]), () => { fill(); render(); });
  const capacitySelect = h("select", { id: "target-capacity", onchange: () => render() });
  const chosen = () => v.upgrades.find((u) => u.variantId === capacitySelect.value);
  function fill() {
    const targets = v.upgrades.filter((u) => u.edition === editionSelect.value).sort((a, b) => a.capacity - b.capacity);
    capacitySelect.replaceChildren(...targets.map((u) => h("option", { value: u.variantId }, `${u.capacity} ${unit(v.capacityUnit)}`)));
  }
  function render() {
    const u = chosen();
    price.replaceChildren(u ? quoteView(u) : "");
  }
  fill();
  render();
  return h("div", { class: "offer" },
    h("h2", null, "Upgrade to"),
    h("div", { class: "grid" }, h("label", null, "Edition", editionSelect), h("label", null, "Capacity", capacitySelect)),
    price,
    cartButton(box, () => [{ variantId: capacitySelect.value, action: "UPGRADE", licenseKey: key }]));
}

// Renew license / maintenance: price per year from Verify, the total for N years from a quote.
function renewalOffer(action, perYear, key, box) {
  const price = h("div", { id: "renewal-price" });
  const years = select("years", YEARS.map((y) => [y, `${y} year${y > 1 ? "s" : ""}`]), () => reprice());
  const reprice = repricer(price, box, () => ({ action, licenseKey: key, years: parseInt(years.value, 10) }));
  reprice();
  return h("div", { class: "offer" },
    h("h2", null, action === "RENEW_LICENSE" ? "Renew the license" : "Renew maintenance"),
    h("p", null, "Price per year: ", h("strong", { id: "price-per-year" }, money(perYear.total))),
    h("label", null, "Years", years),
    price,
    cartButton(box, () => [{ variantId: perYear.variantId, action, licenseKey: key, years: parseInt(years.value, 10) }]));
}

// Expansion (Yeastar's portal): quantity add-ons by units, flat-rate services on or off; both
// co-termed to the license by the server.
function expansionOffer(v, key, box) {
  const price = h("div", { id: "expansion-price" });
  const active = new Set((v.addOns || []).filter((a) => a.kind === "flat").map((a) => a.code));
  const rows = [];
  let kinds = {};
  const chosen = () => rows
    .map((r) => ({ offer: r.offer, quantity: r.flat ? (r.input.checked ? 1 : 0) : parseInt(r.input.value || "0", 10) }))
    .filter((c) => c.quantity > 0);
  const reprice = repricer(price, box, () => {
    const items = chosen();
    return items.length ? items.map((c) => ({ action: "EXPANSION", licenseKey: key, variantId: c.offer.variantId, quantity: c.quantity })) : null;
  });
  const list = h("div", { class: "expansions", id: "expansions" });
  loadCatalog().catch(() => []).then((catalog) => {
    kinds = Object.fromEntries(catalog.map((i) => [i.variantId, i.addOnKind]));
    for (const offer of v.expansions) {
      const flat = kinds[offer.variantId] === "flat";
      const input = flat
        ? h("input", { type: "checkbox", "data-variant": offer.variantId, disabled: active.has(offer.addOn), onchange: reprice })
        : h("input", { type: "number", min: 0, max: 1000, value: 0, "data-variant": offer.variantId, oninput: reprice });
      rows.push({ offer, flat, input });
      list.appendChild(h("div", { class: "row spread expansion" },
        h("div", null, h("div", null, offer.name),
          h("div", { class: "muted small" }, flat ? `flat rate · ${money(offer.unitPrice)}` : `per unit · ${money(offer.unitPrice)}`)),
        active.has(offer.addOn) ? h("span", { class: "muted" }, "active") : h("label", { class: "inline" }, input, flat ? "Subscribe" : "units")));
    }
  });
  return h("div", { class: "offer" },
    h("h2", null, "Expand capacity or subscribe to services"),
    list,
    price,
    cartButton(box, () => chosen().map((c) => ({
      variantId: c.offer.variantId, action: "EXPANSION", licenseKey: key, quantity: c.quantity, addOn: c.offer.addOn,
    })), () => (chosen().length ? null : "Choose at least one expansion.")));
}
