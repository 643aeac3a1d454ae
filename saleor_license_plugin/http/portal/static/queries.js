// Every GraphQL document the portal sends, in one place. tests/portal/test_portal_documents.py
// validates each: SALEOR ones against Saleor 3.23's schema, PLUGIN ones against the plugin's.

const ERRORS = "errors { field code message }";
const MONEY = "amount currency";

// Saleor's own API (/graphql/ on the shop's host): sign-in, catalog, checkout, payment.
export const SALEOR = {
  TOKEN_CREATE: `mutation TokenCreate($email: String!, $password: String!) {
    tokenCreate(email: $email, password: $password) {
      token refreshToken user { email firstName lastName }
      ${ERRORS}
    }
  }`,
  // Access tokens live minutes; the portal refreshes them before they lapse (api.js).
  TOKEN_REFRESH: `mutation TokenRefresh($refreshToken: String!) {
    tokenRefresh(refreshToken: $refreshToken) { token ${ERRORS} }
  }`,
  // License products are ordinary products whose metadata says what they are (README, Catalog).
  PRODUCTS: `query LicenseProducts($channel: String!) {
    products(first: 100, channel: $channel, where: { metadata: [{ key: "license.kind" }] }) {
      edges { node {
        name metadata { key value }
        variants { id name metadata { key value } pricing { price { gross { ${MONEY} } } } }
      } }
    }
  }`,
  // A signed-in customer's checkout belongs to them; lines are added by the plugin's API.
  CHECKOUT_CREATE: `mutation CheckoutCreate($channel: String!) {
    checkoutCreate(input: { channel: $channel, lines: [] }) { checkout { id } ${ERRORS} }
  }`,
  // The buyer's saved billing address fills the payment form when the checkout has none yet.
  ME: `query Me {
    me { email defaultBillingAddress { firstName lastName companyName streetAddress1 city postalCode country { code } } }
  }`,
  CHECKOUT: `query Checkout($id: ID!) {
    checkout(id: $id) {
      id email voucherCode
      discount { ${MONEY} }
      subtotalPrice { gross { ${MONEY} } }
      totalPrice { gross { ${MONEY} } }
      lines { id quantity variant { id name product { name } } totalPrice { gross { ${MONEY} } } }
      billingAddress { firstName lastName companyName streetAddress1 city postalCode country { code } }
      availablePaymentGateways { id name config { field value } }
      metadata { key value }
    }
  }`,
  LINES_DELETE: `mutation LinesDelete($id: ID!, $lineIds: [ID!]!) {
    checkoutLinesDelete(id: $id, linesIds: $lineIds) { checkout { id } ${ERRORS} }
  }`,
  PROMO_ADD: `mutation PromoAdd($id: ID!, $code: String!) {
    checkoutAddPromoCode(id: $id, promoCode: $code) { checkout { id voucherCode } ${ERRORS} }
  }`,
  PROMO_REMOVE: `mutation PromoRemove($id: ID!, $code: String!) {
    checkoutRemovePromoCode(id: $id, promoCode: $code) { checkout { id } ${ERRORS} }
  }`,
  BILLING_ADDRESS: `mutation BillingAddress($id: ID!, $address: AddressInput!) {
    checkoutBillingAddressUpdate(id: $id, billingAddress: $address) { checkout { id } ${ERRORS} }
  }`,
  // Checkout metadata is the buyer's to write: license.terms_accepted and license.reference
  // are checked by the plugin at checkoutComplete when the shop requires them.
  METADATA: `mutation CheckoutMetadata($id: ID!, $input: [MetadataInput!]!) {
    updateMetadata(id: $id, input: $input) { ${ERRORS} }
  }`,
  PAYMENT_CREATE: `mutation PaymentCreate($id: ID!, $input: PaymentInput!) {
    checkoutPaymentCreate(id: $id, input: $input) { payment { id } ${ERRORS} }
  }`,
  // confirmationNeeded: Stripe 3-D Secure ({client_secret}) or MultiSafepay ({payment_url});
  // after either, call checkoutComplete again with the same checkout.
  COMPLETE: `mutation Complete($id: ID!, $paymentData: JSONString, $redirectUrl: String) {
    checkoutComplete(id: $id, paymentData: $paymentData, redirectUrl: $redirectUrl) {
      order { id number status total { gross { ${MONEY} } } }
      confirmationNeeded confirmationData
      errors { field code message lines }
    }
  }`,
};

// The plugin's API (<plugin base>/graphql/): what is license-specific.
const QUOTE = `action variantId name edition capacity addOn years quantity
  unitPrice { ${MONEY} } total { ${MONEY} } breakdown { description amount { ${MONEY} } }`;

export const PLUGIN = {
  WHO_AM_I: `query Statistics { licenseStatistics { total } }`,
  DASHBOARD: `query Dashboard {
    licenseStatistics {
      total byStatus { status count }
      expiringWithin30Days expiringWithin60Days expiringWithin90Days issuedThisMonth trialsOpen
    }
    licenses(first: 10, filter: { expiringWithinDays: 90 }) {
      totalCount
      edges { node { id key keyHint edition capacity capacityUnit status isPerpetual
        termExpiresAt maintenanceExpiresAt deployment { publicId name } } }
    }
  }`,
  // What a key is and what may be bought for it, with server prices (upgrade targets already
  // prorated). The same answer for an unknown key and someone else's: NOT_FOUND.
  VERIFY: `mutation Verify($key: String!) {
    verifyLicenseKey(key: $key) {
      ${ERRORS}
      verification {
        status isPerpetual termExpiresAt maintenanceExpiresAt
        edition capacity capacityUnit addOns { code kind quantity }
        deployment { publicId name }
        license { id key keyHint variantId }
        actions
        upgrades { ${QUOTE} }
        renewal { ${QUOTE} }
        maintenance { ${QUOTE} }
        expansions { ${QUOTE} }
      }
    }
  }`,
  // Prices one line exactly as checkoutLicenseLinesAdd will.
  QUOTE: `mutation Quote($input: QuoteLicenseActionInput!) {
    quoteLicenseAction(input: $input) { ${ERRORS} quote { ${QUOTE} } }
  }`,
  DEPLOYMENTS: `query Deployments($search: String) {
    deployments(search: $search, first: 8) { edges { node { id publicId name } } }
  }`,
  // Inside Saleor only: each line becomes its own Saleor checkout line, priced on the server.
  ADD_LINES: `mutation AddLines($checkoutId: ID!, $lines: [CheckoutLicenseLineInput!]!) {
    checkoutLicenseLinesAdd(checkoutId: $checkoutId, lines: $lines) {
      ${ERRORS}
      lines { id quantity quote { action name total { ${MONEY} } } }
    }
  }`,
  LICENSES: `query Licenses($after: String, $filter: LicenseFilterInput) {
    licenses(first: 20, after: $after, filter: $filter) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node {
        id key keyHint kind status edition capacity capacityUnit
        isPerpetual termExpiresAt maintenanceExpiresAt
        addOns { code kind quantity expiresAt }
        maxActivations activationCount
        deployment { publicId name }
        activations(includeInactive: false) { id device firstSeenAt lastSeenAt }
      } }
    }
  }`,
  // The key is the credential: this takes a device seat like an online activation.
  OFFLINE_FILE: `mutation OfflineFile($key: String!, $fingerprint: String!) {
    licenseEntitlementFile(key: $key, fingerprint: $fingerprint) { ${ERRORS} filename content }
  }`,
};
