// Sign in. Inside Saleor: e-mail and password through Saleor's tokenCreate. Standalone: the
// server has no passwords, only API tokens (`make demo` prints a customer's), so paste one.
import { mutate, plugin, saleor, session, withSaleor } from "../api.js";
import { $, busy, flashBox, h, mount, val } from "../dom.js";
import { PLUGIN, SALEOR } from "../queries.js";

export function showSignIn(done) {
  const box = flashBox();
  const saleorMode = withSaleor();
  const button = h("button", { class: "primary", type: "submit", id: "sign-in" }, "Log in");
  const fields = saleorMode
    ? [
        h("label", null, "E-mail", h("input", { id: "email", type: "email", autocomplete: "username", required: true })),
        h("label", null, "Password",
          h("input", { id: "password", type: "password", autocomplete: "current-password", required: true })),
      ]
    : [
        h("label", null, "API token",
          h("input", { id: "api-token", type: "password", autocomplete: "off", required: true, placeholder: "slp_…" })),
        h("p", { class: "muted small" },
          "This is the standalone license server: it signs callers in with API tokens (make demo prints one). " +
            "Inside Saleor this page asks for your shop e-mail and password."),
      ];

  async function submit(event) {
    event.preventDefault();
    await busy(button, box, async () => {
      if (saleorMode) {
        const payload = await mutate(saleor, SALEOR.TOKEN_CREATE,
          { email: val("#email"), password: $("#password").value }, "tokenCreate", { auth: false });
        session.set({ token: payload.token, refreshToken: payload.refreshToken, email: payload.user?.email });
      } else {
        const token = val("#api-token");
        await plugin(PLUGIN.WHO_AM_I, {}, { token }); // 401 for an unknown or revoked token
        session.set({ token, refreshToken: null, email: null });
      }
      done();
    });
  }

  mount(
    h("section", { class: "card narrow" },
      h("h1", null, "Log in"),
      h("p", { class: "muted" }, "Order licenses, renewals, upgrades and expansions, and manage your keys."),
      box,
      h("form", { id: "sign-in-form", class: "stack", onsubmit: submit }, fields, button)));
  (saleorMode ? $("#email") : $("#api-token")).focus();
}
