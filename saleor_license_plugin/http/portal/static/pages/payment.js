// Payment: billing address, reference / PO / PI number, the terms checkbox, and a gateway from
// the checkout's availablePaymentGateways: offline (reference), Stripe card (Stripe.js, only if
// the gateway publishes a key and Stripe.js loads), MultiSafepay (redirect and return).
//
// Order of calls: updateMetadata (license.terms_accepted, license.reference), billing address,
// checkoutPaymentCreate (amount = the checkout total), checkoutComplete. checkoutComplete may
// answer confirmationNeeded: 3-D Secure (Stripe: handleNextAction, then complete again) or a
// redirect (MultiSafepay: payment_url; the return page completes again).
import { ApiError, getConfig, mutate, saleor, withSaleor } from "../api.js";
import { $, busy, flashBox, h, loading, money, mount, show, val } from "../dom.js";
import { SALEOR } from "../queries.js";
import { forgetCheckout, loadCheckout } from "../shop.js";
import { needsSaleor } from "./cart.js";

const OFFLINE = "saleor_license_plugin.payments.offline";
const STRIPE = "saleor_license_plugin.payments.stripe";
const MULTISAFEPAY = "saleor_license_plugin.payments.multisafepay";
const COUNTRIES = [["NL", "Netherlands"], ["DE", "Germany"], ["GB", "United Kingdom"], ["US", "United States"], ["FR", "France"], ["BE", "Belgium"]];

const configOf = (gateway) => Object.fromEntries(gateway.config.map((c) => [c.field, c.value]));

export async function showPayment() {
  const box = flashBox();
  const body = h("div", null, loading());
  mount(h("h1", null, "Payment"), box, body);
  if (!withSaleor()) return body.replaceChildren(needsSaleor("Payment"));
  let checkout, me;
  try {
    [checkout, { me }] = await Promise.all([loadCheckout(), saleor(SALEOR.ME, {})]);
  } catch (error) {
    body.replaceChildren();
    return show(box, "error", error.lines);
  }
  if (!checkout || !checkout.lines.length) return body.replaceChildren(h("p", { class: "muted" }, "Your cart is empty."));

  const gateways = checkout.availablePaymentGateways;
  const address = checkout.billingAddress || me?.defaultBillingAddress || {};
  const countries = COUNTRIES.some(([code]) => code === address.country?.code) || !address.country
    ? COUNTRIES
    : [[address.country.code, address.country.code], ...COUNTRIES];
  const methods = h("div", { class: "stack", id: "methods" });
  const detail = h("div", { id: "method-detail" });
  let stripe = null; // { stripe, card } once Stripe.js mounted a card field

  for (const gateway of gateways) {
    methods.appendChild(h("label", { class: "inline" },
      h("input", { type: "radio", name: "gateway", value: gateway.id, onchange: () => chooseMethod(gateway) }), gateway.name));
  }

  async function chooseMethod(gateway) {
    const config = configOf(gateway);
    stripe = null;
    if (gateway.id === OFFLINE) {
      detail.replaceChildren(h("p", { class: "muted" },
        `Pay by ${config.payment_kind || "bank transfer"}: you receive the payment instructions with your order. Your licenses are issued when the payment arrives.`));
    } else if (gateway.id === MULTISAFEPAY) {
      detail.replaceChildren(h("p", { class: "muted" }, "You will be sent to MultiSafepay to pay, and brought back here."));
    } else if (gateway.id === STRIPE) {
      detail.replaceChildren(loading("Loading the card form…"));
      stripe = await mountStripe(config.api_key, detail);
    } else {
      detail.replaceChildren(h("p", { class: "muted" }, "This payment method is not supported by this portal."));
    }
  }

  const hasReference = h("input", { type: "checkbox", id: "has-reference", onchange: () => { $("#reference-row").hidden = !hasReference.checked; } });
  const offline = gateways.find((g) => g.id === OFFLINE);
  const referenceLabel = (offline && configOf(offline).reference_label) || "Reference, PO or PI number";
  const pay = h("button", { type: "submit", class: "primary", id: "process-order" }, "Process order");

  body.replaceChildren(
    h("form", { class: "stack", id: "payment-form", onsubmit: (e) => { e.preventDefault(); busy(pay, box, () => processOrder(checkout, stripe)); } },
      h("fieldset", null, h("legend", null, "Billing address"),
        h("div", { class: "grid" },
          h("label", null, "First name", h("input", { id: "first-name", value: address.firstName || "", required: true })),
          h("label", null, "Last name", h("input", { id: "last-name", value: address.lastName || "", required: true })),
          h("label", null, "Company", h("input", { id: "company", value: address.companyName || "" })),
          h("label", null, "Street", h("input", { id: "street", value: address.streetAddress1 || "", required: true })),
          h("label", null, "Postal code", h("input", { id: "postal-code", value: address.postalCode || "", required: true })),
          h("label", null, "City", h("input", { id: "city", value: address.city || "", required: true })),
          h("label", null, "Country", h("select", { id: "country" },
            countries.map(([code, name]) => h("option", { value: code, selected: address.country?.code === code }, name)))))),
      h("fieldset", null, h("legend", null, "Reference"),
        h("label", { class: "inline" }, hasReference, "I have a reference number or purchase order number"),
        h("label", { id: "reference-row", hidden: true }, referenceLabel, h("input", { id: "reference", maxlength: 64 }))),
      h("fieldset", null, h("legend", null, "Payment method"), gateways.length ? methods : h("p", { class: "muted" }, "No payment method is available in this shop."), detail),
      h("label", { class: "inline" }, h("input", { type: "checkbox", id: "terms" }),
        "I agree to the Terms and Conditions for all products and services being purchased."),
      h("div", { class: "row spread total" }, h("strong", null, "Total"), h("strong", null, money(checkout.totalPrice.gross))),
      pay));
}

// Stripe.js comes from js.stripe.com (Stripe requires it be loaded from there). Without a
// publishable key, or where it cannot load (no network), say so instead of showing a dead form.
function mountStripe(publishableKey, target) {
  if (!publishableKey) {
    target.replaceChildren(h("p", { class: "notice", id: "stripe-unavailable" }, "Card payments are not configured in this shop (no Stripe publishable key)."));
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const fail = () => {
      target.replaceChildren(h("p", { class: "notice", id: "stripe-unavailable" },
        "Card payments are unavailable: Stripe.js could not be loaded from js.stripe.com. Choose another payment method."));
      resolve(null);
    };
    const start = () => {
      if (!window.Stripe) return fail();
      const stripe = window.Stripe(publishableKey);
      const card = stripe.elements().create("card");
      const slot = h("div", { class: "card-field", id: "card-element" });
      target.replaceChildren(slot);
      card.mount(slot);
      resolve({ stripe, card });
    };
    if (window.Stripe) return start();
    const script = h("script", { src: "https://js.stripe.com/v3/", onload: start, onerror: fail });
    document.head.appendChild(script);
  });
}

function returnUrl() {
  const url = new URL(window.location.href);
  url.hash = "#/payment/return";
  return url.toString();
}

async function processOrder(checkout, stripe) {
  const gateway = document.querySelector('input[name="gateway"]:checked')?.value;
  if (!gateway) throw new ApiError(["Choose a payment method."]);
  if (!$("#terms").checked) throw new ApiError([{ code: "TERMS_NOT_ACCEPTED" }]);
  const reference = $("#has-reference").checked ? val("#reference") : "";
  if ($("#has-reference").checked && !reference) throw new ApiError([{ code: "REFERENCE_REQUIRED" }]);
  if (gateway === STRIPE && !stripe) throw new ApiError(["Card payments are unavailable here; choose another payment method."]);

  // What the plugin checks at checkoutComplete when the shop requires it.
  const metadata = [{ key: "license.terms_accepted", value: "true" }];
  if (reference) metadata.push({ key: "license.reference", value: reference });
  await mutate(saleor, SALEOR.METADATA, { id: checkout.id, input: metadata }, "updateMetadata");
  await mutate(saleor, SALEOR.BILLING_ADDRESS, { id: checkout.id, address: {
    firstName: val("#first-name"), lastName: val("#last-name"), companyName: val("#company"),
    streetAddress1: val("#street"), postalCode: val("#postal-code"), city: val("#city"), country: val("#country"),
  } }, "checkoutBillingAddressUpdate");

  let paymentData = {};
  if (gateway === OFFLINE && reference) paymentData = { reference };
  if (gateway === MULTISAFEPAY) paymentData = { redirect_url: returnUrl(), cancel_url: returnUrl() };
  if (gateway === STRIPE) {
    const made = await stripe.stripe.createPaymentMethod({ type: "card", card: stripe.card });
    if (made.error) throw new ApiError([made.error.message]);
    paymentData = { payment_method_id: made.paymentMethod.id };
  }
  // Gateways that send the buyer away need a URL to come back to; Saleor accepts only hosts in
  // its ALLOWED_CLIENT_HOSTS setting there, so add the portal's host (docs: README, portal).
  const back = gateway === OFFLINE ? null : returnUrl();
  const input = { gateway, amount: checkout.totalPrice.gross.amount, ...(back ? { returnUrl: back } : {}) };
  await mutate(saleor, SALEOR.PAYMENT_CREATE, { id: checkout.id, input }, "checkoutPaymentCreate");

  let result = await complete(checkout.id, paymentData, back);
  if (result.confirmationNeeded) {
    const data = JSON.parse(result.confirmationData || "{}");
    if (data.payment_url) {
      sessionStorage.setItem("slp-portal-returning", checkout.id);
      window.location.assign(data.payment_url); // MultiSafepay; it sends the buyer back to #/payment/return
      return;
    }
    if (data.client_secret && stripe) {
      const next = await stripe.stripe.handleNextAction({ clientSecret: data.client_secret }); // 3-D Secure
      if (next.error) throw new ApiError([next.error.message]);
      result = await complete(checkout.id, {}, back);
    }
  }
  if (!result.order) throw new ApiError(["The payment is not complete yet; try again."]);
  placed(result.order, gateway);
}

async function complete(id, paymentData, redirectUrl) {
  const variables = { id, paymentData: JSON.stringify(paymentData), ...(redirectUrl ? { redirectUrl } : {}) };
  return mutate(saleor, SALEOR.COMPLETE, variables, "checkoutComplete");
}

function placed(order, gateway) {
  forgetCheckout();
  mount(h("h1", null, "Thank you"),
    h("div", { class: "flash ok", role: "status", id: "order-placed" }, `Order ${order.number} placed (${money(order.total.gross)}).`),
    h("p", null, gateway === OFFLINE
      ? "Your account manager or distributor will contact you for the payment; the license keys are issued and e-mailed once it arrives."
      : "Your license keys are e-mailed to you and listed under My licenses."),
    h("p", null, h("a", { class: "button", href: "#/licenses" }, "My licenses")));
}

// Back from MultiSafepay: complete again; the plugin asks MultiSafepay for the order's status.
export async function showPaymentReturn() {
  const box = flashBox();
  mount(h("h1", null, "Payment"), box, loading("Checking your payment…"));
  const id = sessionStorage.getItem("slp-portal-returning");
  if (!id || getConfig().mode !== "saleor") return show(box, "error", ["There is no payment in progress."]);
  try {
    const result = await complete(id, {}, returnUrl());
    if (!result.order) throw new ApiError(["The payment was not completed. Your cart is unchanged: try again."]);
    sessionStorage.removeItem("slp-portal-returning");
    placed(result.order, MULTISAFEPAY);
  } catch (error) {
    mount(h("h1", null, "Payment"), box, h("p", null, h("a", { href: "#/payment" }, "Back to payment")));
    show(box, "error", error.lines);
  }
}
