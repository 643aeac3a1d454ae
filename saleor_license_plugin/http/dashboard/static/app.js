/* License management inside the Saleor Dashboard. No build step, no dependencies.
 *
 * AppBridge, as @saleor/app-sdk speaks it: the page posts {type: "notifyReady"} to its parent;
 * the Dashboard answers with {type: "handshake", payload: {token, version, saleorVersion,
 * dashboardVersion}} (later {type: "tokenRefresh", payload: {token}}, {type: "theme", ...}).
 * Messages are accepted from the referrer's origin only. Actions the page sends carry a
 * payload.actionId; the Dashboard answers {type: "response", payload: {actionId, ok}}.
 * The token is a Saleor JWT for this app; the page sends it to the plugin's API as a Bearer
 * token, and the API decides what the user may see and do.
 *
 * As the real Dashboard (3.23) opens it: the iframe URL carries ?id=<app id>&theme=..&
 * saleorApiUrl=..&domain=.. plus the mount's context (orderId / customerId: Saleor global ids)
 * and the Dashboard page's own query string; the Dashboard posts the handshake when the iframe
 * has loaded (and again when asked by notifyReady). Under dashboard/widget/<order|customer>
 * the page is a WIDGET in a detail page's sidebar: a compact list whose height it reports with
 * {type: "widgetResize", payload: {height}} (the iframe starts 200px high). */
(function () {
  "use strict";

  var script = document.currentScript;
  var API = script.getAttribute("data-api");
  var root = document.getElementById("app");
  var params = new URL(window.location.href).searchParams;
  var parentOrigin = document.referrer ? new URL(document.referrer).origin : null;
  var state = { token: null, started: false, cursors: [], filter: null };
  var widget = /\/dashboard\/widget\/(order|customer)\/?$/.test(window.location.pathname);
  if (widget) document.documentElement.setAttribute("data-widget", "");

  // --- AppBridge -------------------------------------------------------------------------

  function actionId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "a-" + Date.now() + "-" + Math.random().toString(16).slice(2);
  }

  function dispatch(type, payload) {
    if (window.parent === window) return;
    var body = Object.assign({}, payload || {}, { actionId: actionId() });
    window.parent.postMessage({ type: type, payload: body }, parentOrigin || "*");
  }

  window.addEventListener("message", function (event) {
    if (parentOrigin && event.origin !== parentOrigin) return;
    var data = event.data || {};
    var payload = data.payload || {};
    if ((data.type === "handshake" || data.type === "tokenRefresh") && payload.token) {
      state.token = payload.token;
      if (!state.started) {
        state.started = true;
        root.setAttribute("data-state", "ready");
        route();
      }
    } else if (data.type === "theme" && payload.theme) {
      document.documentElement.setAttribute("data-theme", payload.theme);
    }
  });
  if (params.get("theme")) document.documentElement.setAttribute("data-theme", params.get("theme"));
  window.addEventListener("hashchange", function () { if (state.started) route(); });
  dispatch("notifyReady", {});
  setTimeout(function () {
    if (!state.started) {
      clear(root).appendChild(h("p", { class: "flash error" },
        "The Saleor Dashboard did not hand over a token. Open this page from the Dashboard (Apps → Software licenses)."));
    }
  }, 8000);

  function notify(status, title, text) {
    dispatch("notification", { status: status, title: title, text: text || "" });
  }

  function openInDashboard(path) {
    dispatch("redirect", { to: path, newContext: false });
  }

  // A widget's height follows its content (the Dashboard sizes the iframe on widgetResize).
  var reported = 0;
  function reportHeight() {
    if (!widget) return;
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height > 0 && Math.abs(height - reported) > 2) {
      reported = height;
      dispatch("widgetResize", { height: height });
    }
  }
  if (widget && window.ResizeObserver) new ResizeObserver(reportHeight).observe(document.body);

  // The app page with a query the page understands (the Dashboard hands its own query string
  // to the app's iframe): from a widget, "open" means the app page, not the small frame.
  function openAppPage(query) {
    var app = params.get("id");
    if (!app) return;
    openInDashboard("/extensions/app/" + encodeURIComponent(app) + "?" + new URLSearchParams(query).toString());
  }

  // --- the API ---------------------------------------------------------------------------

  var MESSAGES = {
    PERMISSION_DENIED: "You are not allowed to do this: the app needs the MANAGE_ORDERS permission, and so do you.",
    NOT_FOUND: "Not found (or not visible to you).",
    INVALID_TRANSITION: "The license's current status does not allow this.",
    LICENSE_REVOKED: "The license was revoked; revoked licenses never come back.",
    LICENSE_NOT_ACTIVE: "The license is not active.",
    NOT_RENEWABLE: "Perpetual licenses have no term to extend; extend maintenance instead.",
    REQUIRED: "Something required is missing",
    INVALID: "A value is not valid",
    INVALID_ID: "Not a valid id.",
    MALFORMED_KEY: "This is not a license key (check for a mistyped character).",
    INVALID_FINGERPRINT: "The device fingerprint must be 8 to 512 printable characters.",
    ACTIVATION_LIMIT_REACHED: "All device seats are taken; reset an activation first.",
    DEPLOYMENT_MISMATCH: "The license is bound to another deployment.",
    EMAIL_FAILED: "The e-mail could not be sent; try again later.",
    RATE_LIMITED: "Too many requests; wait a moment.",
    INTERNAL_ERROR: "The server failed; try again or check its logs."
  };

  function describe(error) {
    var code = error.code || (error.extensions && error.extensions.exception && error.extensions.exception.code) || "";
    var field = error.field || (error.extensions && error.extensions.field);
    var text = MESSAGES[code] || error.message || code || "Request failed.";
    if ((code === "REQUIRED" || code === "INVALID") && field) text += " (" + field + "): " + (error.message || "");
    return code ? text + " [" + code + "]" : text;
  }

  function ApiError(messages) { this.messages = messages; }

  function gql(query, variables) {
    return fetch(API, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: "Bearer " + state.token },
      body: JSON.stringify({ query: query, variables: variables || {} })
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (body.errors && body.errors.length) throw new ApiError(body.errors.map(describe));
        if (!response.ok || !body.data) throw new ApiError(["HTTP " + response.status]);
        return body.data;
      });
    });
  }

  function mutate(query, variables, name) {
    return gql(query, variables).then(function (data) {
      var payload = data[name];
      if (payload.errors && payload.errors.length) throw new ApiError(payload.errors.map(describe));
      return payload;
    });
  }

  // --- DOM helpers -------------------------------------------------------------------------

  function h(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name.slice(0, 2) === "on") node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    });
    for (var i = 2; i < arguments.length; i++) append(node, arguments[i]);
    return node;
  }

  function append(node, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(node, c); }); return; }
    node.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  function flash(kind, lines) {
    var box = document.getElementById("flash");
    if (!box) return;
    clear(box).appendChild(h("div", { class: "flash " + kind, role: kind === "error" ? "alert" : "status" },
      [].concat(lines).map(function (line) { return h("div", null, line); })));
  }

  function failed(error) {
    flash("error", error instanceof ApiError ? error.messages : [String(error)]);
  }

  function date(value) { return value ? new Date(value).toISOString().slice(0, 10) : "—"; }
  function stamp(value) { return value ? new Date(value).toISOString().replace("T", " ").slice(0, 19) + " UTC" : "—"; }
  function badge(status) { return h("span", { class: "badge s-" + status }, status.replace("_", " ").toLowerCase()); }
  function val(id) { var n = document.getElementById(id); return n ? n.value.trim() : ""; }

  function orderGlobalId(id) {
    try { return atob(id).indexOf("Order:") === 0 ? id : btoa("Order:" + id); } catch (e) { return btoa("Order:" + id); }
  }

  // --- routes --------------------------------------------------------------------------------

  function route() {
    var match = /^#\/license\/(.+)$/.exec(window.location.hash);
    if (match) return showLicense(decodeURIComponent(match[1]));
    if (!widget && !window.location.hash && params.get("licenseId")) return showLicense(params.get("licenseId"));
    return widget ? showWidget() : showList();
  }

  var LIST = "query($filter: LicenseFilterInput, $after: String) {\n" +
    "  licenses(filter: $filter, first: 20, after: $after) {\n" +
    "    totalCount pageInfo { hasNextPage endCursor }\n" +
    "    edges { node { id keyHint status edition capacity capacityUnit ownerEmail\n" +
    "      termExpiresAt maintenanceExpiresAt deployment { publicId name } } } } }";

  function contextFilter() {
    if (params.get("orderId")) return { orderId: params.get("orderId") };
    if (params.get("customerId")) return { ownerId: params.get("customerId") };
    return {};
  }

  function showList() {
    var context = contextFilter();
    var statuses = ["ACTIVE", "PENDING_PAYMENT", "SUSPENDED", "EXPIRED", "REVOKED"];
    clear(root).appendChild(h("div", null,
      h("h1", null, context.orderId ? "Licenses of this order" : context.ownerId ? "Licenses of this customer" : "Licenses"),
      h("div", { id: "flash" }),
      h("form", { class: "search", id: "search", onsubmit: function (e) { e.preventDefault(); state.cursors = []; loadList(null); } },
        h("label", null, "Search",
          h("input", { id: "q", type: "search", size: 34, placeholder: "key, key hint, e-mail, deployment, order id" })),
        h("label", null, "Status",
          h("select", { id: "status" }, h("option", { value: "" }, "any"),
            statuses.map(function (s) { return h("option", { value: s }, s.replace("_", " ").toLowerCase()); }))),
        h("label", null, "Edition", h("input", { id: "edition", size: 12 })),
        h("label", null, "Expiring within (days)", h("input", { id: "expiring", type: "number", min: 0, max: 3660, size: 6 })),
        h("button", { class: "primary", type: "submit", id: "search-button" }, "Search")),
      h("div", { id: "results" })));
    loadList(null);
  }

  // The widget: this order's / customer's licenses, compact; a row opens it in the app page.
  function showWidget() {
    clear(root).appendChild(h("div", null, h("div", { id: "flash" }), h("div", { id: "results" })));
    var results = document.getElementById("results");
    results.appendChild(h("p", { class: "muted" }, "Loading…"));
    gql(LIST, { filter: contextFilter(), after: null }).then(function (data) {
      var page = data.licenses;
      clear(results);
      if (!page.edges.length) {
        results.appendChild(h("p", { class: "muted", id: "empty" }, "No licenses."));
      } else {
        results.appendChild(h("table", { id: "license-table", class: "compact" },
          h("tbody", null, page.edges.map(function (edge) {
            var l = edge.node;
            return h("tr", { class: "link", "data-id": l.id, title: "Open in Licenses", onclick: function () { openAppPage({ licenseId: l.id }); } },
              h("td", { class: "key" }, "…" + l.keyHint), h("td", null, badge(l.status)),
              h("td", null, l.edition + " " + l.capacity));
          }))));
        if (page.totalCount > page.edges.length) {
          results.appendChild(h("p", null, h("a", { id: "all", onclick: function () { openAppPage(contextFilterQuery()); } },
            "All " + page.totalCount + " licenses")));
        }
      }
      reportHeight();
    }).catch(function (error) { clear(results); failed(error); reportHeight(); });
  }

  function contextFilterQuery() {
    var query = {};
    if (params.get("orderId")) query.orderId = params.get("orderId");
    if (params.get("customerId")) query.customerId = params.get("customerId");
    return query;
  }

  function currentFilter() {
    var filter = Object.assign({}, contextFilter());
    var q = val("q");
    if (q) {
      var compact = q.replace(/[\s-]/g, "");
      if (compact.length >= 20) filter.key = q;                       // a whole key
      else if (/^[0-9a-f]{8}-[0-9a-f]{4}-/i.test(q)) filter.orderId = q; // an order id
      else filter.search = q;                                           // hint, e-mail, deployment
    }
    if (val("status")) filter.status = [val("status")];
    if (val("edition")) filter.edition = val("edition");
    if (val("expiring") !== "") filter.expiringWithinDays = parseInt(val("expiring"), 10);
    return filter;
  }

  function loadList(after) {
    var results = document.getElementById("results");
    clear(results).appendChild(h("p", { class: "muted" }, "Loading…"));
    gql(LIST, { filter: currentFilter(), after: after }).then(function (data) {
      var page = data.licenses;
      clear(results);
      if (!page.edges.length) { results.appendChild(h("p", { class: "muted", id: "empty" }, "No licenses match.")); return; }
      results.appendChild(h("table", { id: "license-table" },
        h("thead", null, h("tr", null, ["Key", "Status", "Edition", "Capacity", "Owner", "Deployment", "Term", "Maintenance"].map(function (t) { return h("th", null, t); }))),
        h("tbody", null, page.edges.map(function (edge) {
          var l = edge.node;
          return h("tr", { class: "link", "data-id": l.id, onclick: function () { window.location.hash = "#/license/" + encodeURIComponent(l.id); } },
            h("td", { class: "key" }, "…" + l.keyHint), h("td", null, badge(l.status)), h("td", null, l.edition),
            h("td", null, l.capacity + " " + l.capacityUnit.replace(/_/g, " ")), h("td", null, l.ownerEmail || "—"),
            h("td", null, l.deployment ? l.deployment.name + " (" + l.deployment.publicId + ")" : "—"),
            h("td", null, l.termExpiresAt ? date(l.termExpiresAt) : "perpetual"), h("td", null, date(l.maintenanceExpiresAt)));
        }))));
      results.appendChild(h("div", { class: "row" },
        h("span", { class: "muted" }, page.totalCount + " license(s)"),
        h("button", { type: "button", disabled: !state.cursors.length, onclick: function () { state.cursors.pop(); loadList(state.cursors.length ? state.cursors[state.cursors.length - 1] : null); } }, "Previous"),
        h("button", { type: "button", id: "next", disabled: !page.pageInfo.hasNextPage, onclick: function () { state.cursors.push(page.pageInfo.endCursor); loadList(page.pageInfo.endCursor); } }, "Next")));
    }).catch(function (error) { clear(results); failed(error); });
  }

  var DETAIL = "query($id: ID!) { license(id: $id) {\n" +
    "  id keyHint kind status edition capacity capacityUnit isPerpetual termExpiresAt maintenanceExpiresAt\n" +
    "  maxActivations activationCount revision ownerId ownerEmail resellerId orderIds createdAt\n" +
    "  addOns { code kind quantity expiresAt } deployment { publicId name }\n" +
    "  endCustomer { company name email phone }\n" +
    "  activations(includeInactive: true) { id device firstSeenAt lastSeenAt deactivatedAt }\n" +
    "  events { action actor note before after orderId createdAt } } }";
  var ERR = "errors { field code message }";
  var M = {
    suspend: "mutation($id: ID!, $reason: String) { suspendLicense(id: $id, reason: $reason) { " + ERR + " } }",
    reinstate: "mutation($id: ID!, $reason: String) { reinstateLicense(id: $id, reason: $reason) { " + ERR + " } }",
    revoke: "mutation($id: ID!, $reason: String) { revokeLicense(id: $id, reason: $reason) { " + ERR + " } }",
    extend: "mutation($id: ID!, $termDays: Int, $maintenanceDays: Int, $reason: String!) { extendLicense(id: $id, termDays: $termDays, maintenanceDays: $maintenanceDays, reason: $reason) { " + ERR + " } }",
    reveal: "mutation($id: ID!) { licenseKeyReveal(id: $id) { " + ERR + " key } }",
    reset: "mutation($id: ID!, $activationId: ID, $reason: String) { licenseActivationsReset(id: $id, activationId: $activationId, reason: $reason) { " + ERR + " freed } }",
    resend: "mutation($id: ID!) { licenseKeysResend(id: $id) { " + ERR + " recipient } }",
    entitlement: "mutation($id: ID!, $fingerprint: String!) { licenseEntitlementIssue(id: $id, fingerprint: $fingerprint) { " + ERR + " filename content } }"
  };
  var NAMES = { suspend: "suspendLicense", reinstate: "reinstateLicense", revoke: "revokeLicense", extend: "extendLicense",
    reveal: "licenseKeyReveal", reset: "licenseActivationsReset", resend: "licenseKeysResend", entitlement: "licenseEntitlementIssue" };

  function run(kind, variables, done) {
    var buttons = root.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    return mutate(M[kind], variables, NAMES[kind]).then(function (payload) {
      if (done) done(payload);
    }).catch(failed).then(function () { buttons.forEach(function (b) { b.disabled = false; }); });
  }

  function showLicense(id) {
    clear(root).appendChild(h("div", null, h("p", null, h("a", { href: "#/", id: "back" }, "← Licenses")),
      h("div", { id: "flash" }), h("div", { id: "license" }, h("p", { class: "muted" }, "Loading…"))));
    loadLicense(id);
  }

  function loadLicense(id, message) {
    gql(DETAIL, { id: id }).then(function (data) {
      var l = data.license;
      var box = clear(document.getElementById("license"));
      if (!l) { box.appendChild(h("p", { class: "flash error" }, MESSAGES.NOT_FOUND)); return; }
      renderLicense(box, l);
      if (message) flash("ok", message);
    }).catch(failed);
  }

  function diff(before, after) {
    if (!after) return "";
    var b = before ? JSON.parse(before) : {}, a = JSON.parse(after);
    var changed = Object.keys(a).filter(function (k) { return before && JSON.stringify(a[k]) !== JSON.stringify(b[k]); });
    return h("span", { class: "diff" }, changed.map(function (k) {
      return h("div", null, k + ": ", h("del", null, JSON.stringify(b[k])), " → ", h("ins", null, JSON.stringify(a[k])));
    }));
  }

  function renderLicense(box, l) {
    var reload = function (message) { return function () { notify("success", message); loadLicense(l.id, message); }; };
    var reason = function () { return val("reason"); };
    var addOns = l.addOns.length ? l.addOns.map(function (a) { return a.code + " ×" + a.quantity + (a.expiresAt ? " until " + date(a.expiresAt) : ""); }).join(", ") : "—";
    var owner = l.ownerId ? h("a", { onclick: function () { openInDashboard("/customers/" + encodeURIComponent(l.ownerId)); } }, l.ownerEmail || l.ownerId) : "—";
    var ec = l.endCustomer;
    box.appendChild(h("div", null,
      h("h1", null, l.edition + " " + l.capacity + " " + l.capacityUnit.replace(/_/g, " ") + " ", badge(l.status)),
      h("dl", { id: "facts" },
        h("dt", null, "Key"), h("dd", null, h("span", { class: "key", id: "key" }, "…" + l.keyHint), " ",
          h("button", { type: "button", id: "reveal", onclick: function () {
            run("reveal", { id: l.id }, function (p) { document.getElementById("key").textContent = p.key; loadEvents(l.id); });
          } }, "Show key")),
        h("dt", null, "Status"), h("dd", { id: "status" }, l.status),
        h("dt", null, "Kind"), h("dd", null, l.kind),
        h("dt", null, "Add-ons"), h("dd", null, addOns),
        h("dt", null, "Term"), h("dd", null, l.isPerpetual ? "perpetual" : "until " + date(l.termExpiresAt)),
        h("dt", null, "Maintenance"), h("dd", null, l.maintenanceExpiresAt ? "until " + date(l.maintenanceExpiresAt) : "—"),
        h("dt", null, "Deployment"), h("dd", null, l.deployment ? l.deployment.name + " (" + l.deployment.publicId + ")" : "—"),
        h("dt", null, "Owner"), h("dd", null, owner),
        h("dt", null, "Reseller"), h("dd", null, l.resellerId || "—"),
        h("dt", null, "End customer"), h("dd", null, ec ? [ec.company, ec.name, ec.email, ec.phone].filter(Boolean).join(", ") : "—"),
        h("dt", null, "Devices"), h("dd", null, l.activationCount + " of " + l.maxActivations),
        h("dt", null, "Revision"), h("dd", null, String(l.revision)),
        h("dt", null, "Orders"), h("dd", { id: "orders" }, (l.orderIds || []).length ? l.orderIds.map(function (o) {
          return h("div", null, h("a", { "data-order": o, onclick: function () { openInDashboard("/orders/" + encodeURIComponent(orderGlobalId(o))); } }, o));
        }) : "—")),
      h("h2", null, "Actions"),
      h("div", { class: "panel" },
        h("div", { class: "row" },
          h("label", null, "Reason (recorded in the history)", h("input", { id: "reason", size: 40 })),
          h("button", { type: "button", id: "suspend", onclick: function () { run("suspend", { id: l.id, reason: reason() }, reload("License suspended")); } }, "Suspend"),
          h("button", { type: "button", id: "reinstate", onclick: function () { run("reinstate", { id: l.id, reason: reason() }, reload("License reinstated")); } }, "Reinstate"),
          h("button", { type: "button", id: "revoke", class: "danger", onclick: function () {
            if (window.confirm("Revoke this license for good?")) run("revoke", { id: l.id, reason: reason() }, reload("License revoked"));
          } }, "Revoke")),
        h("div", { class: "row" },
          h("label", null, "Term days", h("input", { id: "term-days", type: "number", min: 0, size: 6, disabled: l.isPerpetual })),
          h("label", null, "Maintenance days", h("input", { id: "maintenance-days", type: "number", min: 0, size: 6 })),
          h("button", { type: "button", id: "extend", onclick: function () {
            run("extend", { id: l.id, reason: reason(), termDays: parseInt(val("term-days") || "0", 10), maintenanceDays: parseInt(val("maintenance-days") || "0", 10) }, reload("License extended"));
          } }, "Extend")),
        h("div", { class: "row" },
          h("button", { type: "button", id: "resend", onclick: function () {
            run("resend", { id: l.id }, function (p) { reload("Key sent to " + p.recipient)(); });
          } }, "Resend key e-mail"),
          h("label", null, "Device fingerprint", h("input", { id: "fingerprint", size: 30 })),
          h("button", { type: "button", id: "entitlement", onclick: function () {
            run("entitlement", { id: l.id, fingerprint: val("fingerprint") }, function (p) {
              var link = h("a", { href: URL.createObjectURL(new Blob([p.content], { type: "application/json" })), download: p.filename });
              document.body.appendChild(link); link.click(); link.remove();
              reload("Entitlement " + p.filename + " downloaded")();
            });
          } }, "Download offline entitlement"))),
      h("h2", null, "Activations"),
      l.activations.length ? h("table", { id: "activations" },
        h("thead", null, h("tr", null, ["Device", "First seen", "Last seen", "Freed", ""].map(function (t) { return h("th", null, t); }))),
        h("tbody", null, l.activations.map(function (a) {
          return h("tr", null, h("td", { class: "key" }, a.device.slice(0, 16) + "…"), h("td", null, stamp(a.firstSeenAt)),
            h("td", null, stamp(a.lastSeenAt)), h("td", null, a.deactivatedAt ? stamp(a.deactivatedAt) : "—"),
            h("td", null, a.deactivatedAt ? "" : h("button", { type: "button", onclick: function () {
              run("reset", { id: l.id, activationId: a.id, reason: reason() }, reload("Activation reset"));
            } }, "Reset")));
        }))) : h("p", { class: "muted" }, "No devices."),
      l.activationCount ? h("button", { type: "button", id: "reset-all", onclick: function () {
        run("reset", { id: l.id, reason: reason() }, reload("All activations reset"));
      } }, "Reset all activations") : null,
      h("h2", null, "History"),
      h("div", { id: "events" })));
    renderEvents(l.events || []);
  }

  function loadEvents(id) {
    gql("query($id: ID!) { license(id: $id) { events { action actor note before after orderId createdAt } } }", { id: id })
      .then(function (data) { renderEvents(data.license.events || []); }).catch(failed);
  }

  function renderEvents(events) {
    var box = clear(document.getElementById("events"));
    box.appendChild(h("table", { id: "history" },
      h("thead", null, h("tr", null, ["When", "What", "Who", "Note", "Change"].map(function (t) { return h("th", null, t); }))),
      h("tbody", null, events.slice().reverse().map(function (e) {
        return h("tr", { "data-action": e.action }, h("td", null, stamp(e.createdAt)), h("td", null, e.action.replace(/_/g, " ")),
          h("td", null, e.actor), h("td", null, e.note || (e.orderId ? "order " + e.orderId : "")), h("td", null, diff(e.before, e.after)));
      }))));
  }
})();
