// The catalog and the cart. Inside Saleor the catalog is Saleor's products (their license.*
// metadata) and the cart is a Saleor checkout; standalone the catalog comes with the config and
// there is no cart (the standalone server has no checkouts).
import { ApiError, getConfig, mutate, plugin, saleor, withSaleor } from "./api.js";
import { PLUGIN, SALEOR } from "./queries.js";

let catalog = null;

function metadataObject(entries) {
  return Object.fromEntries((entries || []).map((e) => [e.key, e.value]));
}

// Rows as the config's catalog has them: {variantId, name, price, kind, edition, capacity, ...}.
function fromSaleorProduct(product) {
  const base = metadataObject(product.metadata);
  return product.variants.map((variant) => {
    const m = { ...base, ...metadataObject(variant.metadata) }; // variant values win
    const row = {
      variantId: variant.id,
      name: `${product.name} ${variant.name}`.trim(),
      price: variant.pricing?.price?.gross || null,
      kind: m["license.kind"],
      requiresDeployment: m["license.requires_deployment"] === "true",
    };
    if (row.kind === "edition") {
      Object.assign(row, {
        edition: m["license.edition"],
        rank: parseInt(m["license.edition_rank"] || "0", 10),
        capacity: parseInt(m["license.capacity"] || "0", 10),
        capacityUnit: m["license.capacity_unit"] || "simultaneous_calls",
        term: m["license.term"] || "perpetual",
      });
    } else {
      Object.assign(row, {
        addOn: m["license.add_on"],
        addOnKind: m["license.add_on_kind"] || "quantity",
        units: parseInt(m["license.add_on_units"] || "1", 10),
        maxQuantity: parseInt(m["license.add_on_max_quantity"] || "1000", 10),
      });
    }
    return row;
  });
}

export async function loadCatalog() {
  if (catalog) return catalog;
  if (!withSaleor()) {
    catalog = getConfig().catalog || [];
  } else {
    const data = await saleor(SALEOR.PRODUCTS, { channel: getConfig().channel });
    catalog = data.products.edges.flatMap((edge) => fromSaleorProduct(edge.node)).filter((r) => r.price);
  }
  return catalog;
}

// --- the cart: a Saleor checkout, created on the first "Add to cart" ------------------------

const CHECKOUT = "slp-portal-checkout";
const LABELS = "slp-portal-line-labels"; // line id -> what the plugin quoted ("Upgrade …")

export const checkoutId = () => sessionStorage.getItem(CHECKOUT);

export function forgetCheckout() {
  sessionStorage.removeItem(CHECKOUT);
  sessionStorage.removeItem(LABELS);
  window.dispatchEvent(new Event("portal:cart"));
}

export function lineLabels() {
  try {
    return JSON.parse(sessionStorage.getItem(LABELS)) || {};
  } catch {
    return {};
  }
}

// What a cart line is, in words: Saleor's checkout knows only the product, so an upgrade of a
// key and a new license of the same edition would read alike ("Professional 16 calls").
const ACTIONS = {
  NEW: "New license", UPGRADE: "Upgrade", RENEW_LICENSE: "License renewal",
  RENEW_MAINTENANCE: "Maintenance renewal", EXPANSION: "Expansion", SUBSCRIBE: "Subscription",
};

function lineLabel(quote, input) {
  if (!quote) return null;
  const parts = [ACTIONS[quote.action] || quote.action, quote.name];
  if (input?.years) parts.push(`${input.years} year${input.years > 1 ? "s" : ""}`);
  if (input?.licenseKey) parts.push(`key …${input.licenseKey.replace(/[^0-9a-z]/gi, "").slice(-5).toUpperCase()}`);
  return parts.join(" · ");
}

async function ensureCheckout() {
  const existing = checkoutId();
  if (existing) {
    const data = await saleor(SALEOR.CHECKOUT, { id: existing });
    if (data.checkout) return existing; // null once completed or deleted: start a new one
  }
  const payload = await mutate(saleor, SALEOR.CHECKOUT_CREATE, { channel: getConfig().channel }, "checkoutCreate");
  sessionStorage.setItem(CHECKOUT, payload.checkout.id);
  return payload.checkout.id;
}

// lines: CheckoutLicenseLineInput[] (variantId, action, licenseKey, years, quantity, ...).
export async function addToCart(lines) {
  if (!withSaleor()) {
    throw new ApiError(["The cart needs Saleor: the standalone server has no checkouts (run make demo-saleor)."]);
  }
  const id = await ensureCheckout();
  const payload = await mutate(plugin, PLUGIN.ADD_LINES, { checkoutId: id, lines }, "checkoutLicenseLinesAdd");
  const labels = lineLabels();
  payload.lines.forEach((line, i) => { labels[line.id] = lineLabel(line.quote, lines[i]); });
  sessionStorage.setItem(LABELS, JSON.stringify(labels));
  window.dispatchEvent(new Event("portal:cart"));
  return payload.lines;
}

export async function loadCheckout() {
  const id = checkoutId();
  if (!id || !withSaleor()) return null;
  const data = await saleor(SALEOR.CHECKOUT, { id });
  if (!data.checkout) forgetCheckout();
  return data.checkout;
}
