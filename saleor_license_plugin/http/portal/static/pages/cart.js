// Your cart: the Saleor checkout's lines (remove), a coupon (Saleor vouchers apply to license
// lines like any other) and the totals; Proceed goes to payment.
import { mutate, saleor, withSaleor } from "../api.js";
import { busy, flashBox, h, loading, money, mount, show, val } from "../dom.js";
import { SALEOR } from "../queries.js";
import { lineLabels, loadCheckout } from "../shop.js";

export function needsSaleor(what) {
  return h("div", { class: "notice", id: "needs-saleor" },
    h("p", null, `${what} needs Saleor's checkout. This is the standalone license server: it verifies keys, prices `,
      "upgrades, renewals and expansions and lists your licenses, but it has no cart."),
    h("p", null, "Run ", h("code", null, "make demo-saleor"), " for a shop with a cart, payment and orders."));
}

export async function showCart() {
  const box = flashBox();
  const body = h("div", null, loading());
  mount(h("h1", null, "Your cart"), box, body);
  if (!withSaleor()) return body.replaceChildren(needsSaleor("The cart"));
  let checkout;
  try {
    checkout = await loadCheckout();
  } catch (error) {
    body.replaceChildren();
    return show(box, "error", error.lines);
  }
  if (!checkout || !checkout.lines.length) {
    return body.replaceChildren(h("p", { class: "muted", id: "cart-empty" }, "Your cart is empty. ", h("a", { href: "#/buy/new" }, "Buy licenses")));
  }
  const labels = lineLabels();
  const coupon = h("input", { id: "coupon", placeholder: "Coupon code", autocomplete: "off" });
  const apply = h("button", { type: "submit", id: "apply-coupon" }, "Apply");
  body.replaceChildren(
    h("ul", { class: "cards", id: "cart-lines" }, checkout.lines.map((line) => {
      const remove = h("button", { type: "button", class: "link danger", "data-line": line.id }, "Remove");
      remove.addEventListener("click", () => busy(remove, box, async () => {
        await mutate(saleor, SALEOR.LINES_DELETE, { id: checkout.id, lineIds: [line.id] }, "checkoutLinesDelete");
        showCart();
      }));
      return h("li", { class: "card row spread" },
        h("div", null,
          h("div", null, labels[line.id] || `${line.variant.product.name} ${line.variant.name}`),
          h("div", { class: "muted small" }, `quantity ${line.quantity}`)),
        h("div", { class: "right" }, h("div", null, money(line.totalPrice.gross)), remove));
    })),
    h("form", { class: "row", onsubmit: (e) => {
      e.preventDefault();
      busy(apply, box, async () => {
        await mutate(saleor, SALEOR.PROMO_ADD, { id: checkout.id, code: val("#coupon") }, "checkoutAddPromoCode");
        showCart();
      });
    } }, h("label", null, "Coupon code", coupon), apply),
    checkout.voucherCode
      ? h("p", null, `Coupon ${checkout.voucherCode} applied: −${money(checkout.discount)} `,
          h("button", { type: "button", class: "link", onclick: (e) => busy(e.target, box, async () => {
            await mutate(saleor, SALEOR.PROMO_REMOVE, { id: checkout.id, code: checkout.voucherCode }, "checkoutRemovePromoCode");
            showCart();
          }) }, "remove"))
      : "", // replaceChildren, unlike h(), would print null as "null"
    h("div", { class: "row spread total" }, h("strong", null, "Total"), h("strong", { id: "cart-total" }, money(checkout.totalPrice.gross))),
    h("div", { class: "row" },
      h("a", { class: "button", href: "#/buy/new" }, "Add other products"),
      h("a", { class: "button primary", href: "#/payment", id: "proceed" }, "Proceed")));
}
