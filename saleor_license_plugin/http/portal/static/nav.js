// Moving between pages. A key handed from one page to another (My licenses -> Renew) travels in
// memory, never in the URL: keys are credentials and URLs end up in history and logs.
export const handoff = {};

export function go(hash, data) {
  Object.assign(handoff, data || {});
  if (window.location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
  else window.location.hash = hash;
}

export function take(name) {
  const value = handoff[name];
  delete handoff[name];
  return value;
}
