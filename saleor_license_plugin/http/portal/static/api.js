// The two GraphQL APIs, the signed-in session and the portal's config.
//
// Both APIs take the same `Authorization: Bearer <token>`: inside Saleor it is Saleor's access
// token (tokenCreate), which the plugin's API accepts too; standalone there is no Saleor and the
// token is one of the server's API tokens (make demo prints one).
import { describe } from "./messages.js";
import { SALEOR } from "./queries.js";

export class ApiError extends Error {
  constructor(errors) {
    const lines = errors.map((e) => (typeof e === "string" ? e : describe(e)));
    super(lines.join(" "));
    this.lines = lines;
    this.codes = errors.map((e) => e.code || e.extensions?.exception?.code).filter(Boolean);
  }
}

let config = null;

export async function loadConfig(base) {
  // portal/?channel=<slug> sells in that Saleor channel (the plugin's default otherwise).
  const channel = new URLSearchParams(window.location.search).get("channel");
  const query = channel ? `?channel=${encodeURIComponent(channel)}` : "";
  const response = await fetch(`${base}portal/config.json${query}`, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new ApiError([`The portal's configuration could not be loaded (HTTP ${response.status}).`]);
  config = await response.json();
  return config;
}

export const getConfig = () => config;
export const withSaleor = () => config?.mode === "saleor";

// --- the session: kept in sessionStorage, so it ends with the tab --------------------------

const SESSION = "slp-portal-session";

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION));
    } catch {
      return null;
    }
  },
  set(value) {
    sessionStorage.setItem(SESSION, JSON.stringify(value));
  },
  clear() {
    sessionStorage.removeItem(SESSION);
  },
};

// Saleor's access tokens are JWTs that expire after minutes: refresh shortly before `exp`.
function expiresAt(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).exp * 1000;
  } catch {
    return Infinity; // not a JWT: a standalone API token, which does not expire
  }
}

let refreshing = null;

async function accessToken() {
  const current = session.get();
  if (!current) return null;
  if (!current.refreshToken || expiresAt(current.token) - Date.now() > 30_000) return current.token;
  refreshing ??= post(config.saleorApi, SALEOR.TOKEN_REFRESH, { refreshToken: current.refreshToken }, null)
    .then((data) => {
      const payload = data.tokenRefresh;
      if (payload.errors.length || !payload.token) throw new ApiError(payload.errors);
      session.set({ ...current, token: payload.token });
      return payload.token;
    })
    .catch((error) => {
      session.clear();
      window.dispatchEvent(new Event("portal:signed-out"));
      throw error;
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

async function post(url, query, variables, token, { signOutOn401 = false } = {}) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify({ query, variables: variables || {} }),
    });
  } catch {
    throw new ApiError([{ code: "NETWORK" }]);
  }
  const body = await response.json().catch(() => ({}));
  if (body.errors?.length) {
    if (response.status === 401 && signOutOn401) {
      // A token the server refuses (revoked, or a Saleor token past its refresh): sign out.
      session.clear();
      window.dispatchEvent(new Event("portal:signed-out"));
    }
    throw new ApiError(body.errors);
  }
  if (!response.ok || !body.data) throw new ApiError([`The server answered HTTP ${response.status}.`]);
  return body.data;
}

function pluginUrl() {
  // Inside Saleor the plugin quotes in the channel's currency and prices: say which channel.
  const url = new URL(config.licenseApi, window.location.href);
  if (config.channel) url.searchParams.set("channel", config.channel);
  return url.toString();
}

// plugin() / saleor(): data, or ApiError for top-level errors. Options: `auth: false` sends no
// token; `token` sends that one instead of the session's (checking a token before keeping it).
async function call(url, query, variables, { auth = true, token = null } = {}) {
  if (!auth) return post(url, query, variables, null);
  if (token) return post(url, query, variables, token);
  return post(url, query, variables, await accessToken(), { signOutOn401: true });
}

export function plugin(query, variables, options) {
  return call(pluginUrl(), query, variables, options);
}

export function saleor(query, variables, options) {
  if (!config.saleorApi) return Promise.reject(new ApiError(["This needs Saleor: run make demo-saleor."]));
  return call(config.saleorApi, query, variables, options);
}

// mutate(): the mutation's payload, or ApiError for its `errors` (both APIs use that shape).
export async function mutate(api, query, variables, name, options) {
  const data = await api(query, variables, options);
  const payload = data[name];
  if (payload?.errors?.length) throw new ApiError(payload.errors);
  return payload;
}
