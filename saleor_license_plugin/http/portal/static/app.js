// The portal's entry point: loads the config, routes #/… fragments to pages, keeps the header.
import { getConfig, loadConfig, session } from "./api.js";
import { $, h, mount, show, flashBox } from "./dom.js";
import { checkoutId, forgetCheckout } from "./shop.js";
import { showBuy } from "./pages/buy.js";
import { showCart } from "./pages/cart.js";
import { showDashboard } from "./pages/dashboard.js";
import { showLicenses } from "./pages/licenses.js";
import { showPayment, showPaymentReturn } from "./pages/payment.js";
import { showSignIn } from "./pages/signin.js";

const BASE = document.querySelector("script[data-base]").getAttribute("data-base");

const ROUTES = [
  [/^#\/buy\/([a-z-]+)$/, (m) => showBuy(m[1]), "buy"],
  [/^#\/buy$/, () => showBuy("new"), "buy"],
  [/^#\/cart$/, () => showCart(), "cart"],
  [/^#\/payment$/, () => showPayment(), "cart"],
  [/^#\/payment\/return$/, () => showPaymentReturn(), "cart"],
  [/^#\/licenses$/, () => showLicenses(), "licenses"],
  [/^#?\/?$/, () => showDashboard(), "dashboard"],
];

function route() {
  const signedIn = Boolean(session.get());
  $("#nav").hidden = !signedIn;
  if (!signedIn) return showSignIn(() => route());
  const hash = window.location.hash || "#/";
  for (const [pattern, page, section] of ROUTES) {
    const match = pattern.exec(hash);
    if (match) {
      document.querySelectorAll("[data-nav]").forEach((a) => a.classList.toggle("active", a.dataset.nav === section));
      updateCartCount();
      return page(match);
    }
  }
  return mount(h("h1", null, "Not found"), h("p", null, h("a", { href: "#/" }, "Back to the dashboard")));
}

function updateCartCount() {
  $("#cart-count").textContent = checkoutId() ? "•" : "";
}

function signOut() {
  session.clear();
  forgetCheckout();
  window.location.hash = "#/";
  route();
}

async function start() {
  try {
    await loadConfig(BASE);
  } catch (error) {
    const box = flashBox();
    mount(h("h1", null, "Partner portal"), box);
    show(box, "error", error.lines || [String(error)]);
    return;
  }
  document.documentElement.dataset.mode = getConfig().mode;
  $("#sign-out").addEventListener("click", signOut);
  window.addEventListener("hashchange", route);
  // A link to the page already shown changes no hash: load the page again (My licenses after
  // staff marked an order paid), as a person clicking it expects.
  document.addEventListener("click", (event) => {
    const link = event.target.closest("a[href^='#']");
    if (link && link.getAttribute("href") === (window.location.hash || "#/")) route();
  });
  window.addEventListener("portal:signed-out", () => route());
  window.addEventListener("portal:cart", updateCartCount);
  route();
}

start();
