// Error codes -> what a person reads. One table for both APIs: the plugin's LicenseErrorCode
// (every one: tests/portal checks), the request errors, and the Saleor codes the portal meets.
//
// Where the codes come from (the subtle part):
// - mutations of both APIs return `errors { field code message }` beside their result;
// - top-level GraphQL errors carry the code in `extensions.exception.code`;
// - Saleor's checkoutComplete may only use Saleor's own codes (INVALID, REQUIRED, NOT_FOUND), so
//   the plugin puts its code at the start of the message: "STALE_QUOTE: The license changed…".
//   describe() looks there first.
export const MESSAGES = {
  // the plugin's codes
  INVALID: "A value is not valid.",
  REQUIRED: "Something required is missing.",
  INVALID_ID: "That is not a valid id.",
  MALFORMED_KEY: "This is not a license key: check for a mistyped character.",
  INVALID_YEARS: "Choose a number of years the shop allows.",
  INVALID_QUANTITY: "Choose a quantity the shop allows.",
  INVALID_CATALOG_METADATA: "This product is misconfigured in the shop; please tell the shop.",
  NOT_A_LICENSE_PRODUCT: "This product is not a license on sale in this shop.",
  CURRENCY_MISMATCH: "This price is in another currency than your cart.",
  NOT_FOUND: "We could not find that license, deployment or cart among yours.",
  LICENSE_NOT_ACTIVE: "This license is not active, so it cannot be changed now.",
  LICENSE_REVOKED: "This license was revoked.",
  INVALID_TRANSITION: "The license's current status does not allow this.",
  DOWNGRADE_NOT_ALLOWED: "A license can only be upgraded, not downgraded.",
  NOT_AN_UPGRADE: "That is not an upgrade of this license.",
  NOT_RENEWABLE: "This license has no term to renew (perpetual): renew its maintenance instead.",
  ADD_ON_ALREADY_ACTIVE: "This service is already active on the license.",
  DEPLOYMENT_REQUIRED: "This product must be assigned to a deployment: search for one.",
  DEPLOYMENT_NOT_OWNED: "That deployment is not one of yours.",
  DEPLOYMENT_BINDING_LOCKED: "This license is bound to its deployment and cannot be moved.",
  DEPLOYMENT_MISMATCH: "The license is bound to another deployment.",
  LICENSE_LINE_WITHOUT_INTENT: "A license product was added to the cart the wrong way; remove it and add it again.",
  LINE_TAMPERED: "A cart line was changed outside this portal; remove it and add it again.",
  QUANTITY_CHANGED: "A cart line's quantity changed since it was priced; remove it and add it again.",
  STALE_QUOTE: "A price or license changed since the line was added; remove the line and add it again.",
  TERMS_NOT_ACCEPTED: "Please accept the terms and conditions.",
  REFERENCE_REQUIRED: "Please enter your reference, PO or PI number.",
  CHANGE_PENDING: "An unpaid order already changes this license: pay or cancel it first.",
  BILLING_CONTACT_NOT_FOUND: "The billing contact is not one of yours.",
  LINK_EXPIRED: "This renewal link has expired.",
  NOTHING_TO_RENEW: "None of these licenses can be renewed any more.",
  AUTO_RENEW_NEEDS_CARD: "Automatic renewal needs a saved card.",
  DOMAIN_TAKEN: "That domain is already used by another subscription.",
  PERIOD_CLOSED: "That billing period is closed.",
  SAME_PLAN: "The subscription already has this plan.",
  PLAN_MISMATCH: "That plan cannot replace this one (another period, instance type or payment mode).",
  NOT_A_DOWNGRADE: "That plan is not cheaper: upgrade to it now instead.",
  QUOTA_EXCEEDED: "Your trial or not-for-resale quota is used up.",
  PARTNER_LEVEL_REQUIRED: "This coupon is for partners of another level.",
  IDEMPOTENCY_CONFLICT: "This request was already made with different details.",
  PERMISSION_DENIED: "Please sign in (again): you are not allowed to do this.",
  RATE_LIMITED: "Too many attempts: wait a minute and try again.",
  ACTIVATION_LIMIT_REACHED: "All device seats of this license are taken.",
  DEACTIVATION_LIMIT_REACHED: "Too many devices were released recently; try again later.",
  INVALID_FINGERPRINT: "The device id must be 8 to 512 printable characters.",
  EMAIL_FAILED: "The e-mail could not be sent; try again later.",
  // request errors (top level)
  GRAPHQL_PARSE_FAILED: "The portal sent a request the server could not read.",
  GRAPHQL_VALIDATION_FAILED: "The portal and the server disagree about the API; reload the page.",
  QUERY_TOO_COMPLEX: "The request was too large.",
  INTERNAL_ERROR: "The server failed; try again later.",
  // Saleor's codes the portal meets
  INVALID_CREDENTIALS: "Wrong e-mail or password.",
  INACTIVE: "This account is inactive.",
  ACCOUNT_NOT_CONFIRMED: "Confirm your e-mail address first (see the e-mail from the shop).",
  LOGIN_ATTEMPT_DELAYED: "Too many sign-in attempts: wait a moment.",
  JWT_SIGNATURE_EXPIRED: "Your session expired: please sign in again.",
  JWT_INVALID_TOKEN: "Your session is no longer valid: please sign in again.",
  ExpiredSignatureError: "Your session expired: please sign in again.",
  PermissionDenied: "Please sign in (again): you are not allowed to do this.",
  VOUCHER_NOT_APPLICABLE: "This coupon does not apply to your cart.",
  GIFT_CARD_NOT_APPLICABLE: "This gift card cannot be used here.",
  BILLING_ADDRESS_NOT_SET: "Please enter your billing address.",
  EMAIL_NOT_SET: "Your cart has no e-mail address.",
  NO_LINES: "Your cart is empty.",
  CHECKOUT_NOT_FULLY_PAID: "The payment does not cover the cart's total.",
  PAYMENT_ERROR: "The payment failed.",
  INACTIVE_PAYMENT: "The payment is no longer active; choose a payment method again.",
  PRODUCT_UNAVAILABLE_FOR_PURCHASE: "A product in your cart is not on sale at the moment.",
  UNAVAILABLE_VARIANT_IN_CHANNEL: "A product in your cart is not sold in this shop.",
  MISSING_ADDRESS_DATA: "The billing address is incomplete.",
  NETWORK: "The server could not be reached: check your connection and try again.",
};

// The readable text of one error, with its code for support: "Wrong e-mail or password. (INVALID_CREDENTIALS)".
export function describe(error) {
  const message = error.message || "";
  const leading = /^([A-Z][A-Z_]+): /.exec(message); // a plugin code inside Saleor's message
  const code =
    (leading && MESSAGES[leading[1]] && leading[1]) ||
    error.code ||
    error.extensions?.exception?.code ||
    error.extensions?.code ||
    "";
  let text = MESSAGES[code] || (leading ? message.slice(leading[0].length) : message) || "Something went wrong.";
  const field = error.field || error.extensions?.field;
  // Generic codes say little on their own: keep the server's sentence beside them.
  if ((code === "INVALID" || code === "REQUIRED") && message && !leading) {
    text = `${text} ${field ? `(${field}) ` : ""}${message}`;
  }
  return code ? `${text} (${code})` : text;
}
