"""Partners in the API (issue 13).

The visibility table: partner A, partner B, A's customer (signed in), B's customer, staff and
anonymous callers × every query and mutation that names a partner's license, deployment or
end customer. Where a caller may not, the answer is the one for a record that does not exist
(code, field and message alike): no existence oracle.
"""

from datetime import timedelta

import pytest

from saleor_license_plugin.graphql.core import to_global_id
from saleor_license_plugin.licensing import keys, lifecycle, partners
from saleor_license_plugin.licensing.keys import format_key
from saleor_license_plugin.licensing.ports import ANONYMOUS, Principal
from saleor_license_plugin.models import EndCustomer, License, LicenseEvent, LicenseKind
from tests.api.helpers import (
    ALICE,
    PARTNER_A,
    PARTNER_B,
    STAFF,
    gql,
    issue,
    make_customer,
    make_partner,
)

pytestmark = pytest.mark.django_db

CAROL = Principal("user:carol", "carol@acme.example")  # Acme's, a customer of partner A
DAVE = Principal("user:dave", "dave@initech.example")  # Initech's, a customer of partner B
PRINCIPALS = {
    "partner_a": PARTNER_A,
    "partner_b": PARTNER_B,
    "customer_of_a": CAROL,
    "customer_of_b": DAVE,
    "staff": STAFF,
    "anonymous": ANONYMOUS,
}
UNKNOWN_CUSTOMER = "C-ZZZZZZZZ"
UNKNOWN_DEPLOYMENT = "D-ZZZZZZZZ"


class World:
    """Partner A with customers Acme (Carol's account linked) and Globex; partner B with
    Initech (Dave's). Acme has a bound perpetual license and a loose annual one."""

    def __init__(self, real: bool = True) -> None:
        a, b = make_partner(PARTNER_A), make_partner(PARTNER_B)
        self.acme = make_customer(a, "Acme GmbH", email="it@acme.example")
        self.globex = make_customer(a, "Globex")
        initech = make_customer(b, "Initech")
        now = self.now = lifecycle.timezone.now()
        partners.link_account(self.acme, CAROL.user_id, actor="staff", now=now)
        partners.link_account(initech, DAVE.user_id, actor="staff", now=now)
        self.acme.refresh_from_db()
        owner = partners.owner_for(self.acme)
        self.pbx = lifecycle.create_deployment(
            name="Acme PBX",
            owner_id=owner.user_id,
            reseller_id=owner.reseller_id,
            customer_id=self.acme.pk,
        )
        self.bound, self.bound_key = issue("pro-8", self.acme, deployment=self.pbx)
        self.loose, self.loose_key = issue("cloud-8", self.acme, now=now - timedelta(days=330))
        self.real = real

    # What an operation names: the real records, or ones that do not exist.
    def license_id(self, which: str = "loose") -> str:
        pk = getattr(self, which).pk if self.real else 10**9
        return to_global_id("License", pk)

    def key(self, which: str = "loose") -> str:
        return getattr(self, f"{which}_key") if self.real else format_key(keys.generate())

    @property
    def customer(self) -> str:
        return self.acme.public_id if self.real else UNKNOWN_CUSTOMER

    @property
    def deployment(self) -> str:
        return self.pbx.public_id if self.real else UNKNOWN_DEPLOYMENT


def outcome(reply, name):
    """ "ok", "null", "absent" (a list without the record), or (code, field, message)."""
    if reply.body.get("errors"):
        error = reply.body["errors"][0]
        return (
            error["extensions"]["exception"]["code"],
            error["extensions"].get("field"),
            error["message"],
        )
    data = reply.body["data"][name]
    if data is None:
        return "null"
    if isinstance(data, dict) and data.get("errors"):
        error = data["errors"][0]
        return (error["code"], error["field"], error["message"])
    return "ok"


def listed(reply, name, value, path):
    if reply.body.get("errors"):
        return outcome(reply, name)
    nodes = [edge["node"] for edge in reply.body["data"][name]["edges"]]
    return "ok" if any(path(node) == value for node in nodes) else "absent"


# Each operation: (world, principal) -> outcome.
def op_license_by_id(w, p):
    reply = gql("query($id: ID){ license(id: $id){ key } }", {"id": w.license_id()}, principal=p)
    return outcome(reply, "license")


def op_license_by_key(w, p):
    reply = gql("query($k: String){ license(key: $k){ key } }", {"k": w.key()}, principal=p)
    return outcome(reply, "license")


def op_licenses(w, p):
    reply = gql("{ licenses(first: 50){ edges { node { id } } } }", principal=p)
    return listed(reply, "licenses", w.license_id(), lambda n: n["id"])


def op_verify(w, p):
    query = "mutation($k: String!){ verifyLicenseKey(key: $k){ errors { field code message } } }"
    return outcome(gql(query, {"k": w.key()}, principal=p), "verifyLicenseKey")


def op_quote_upgrade(w, p):
    query = """mutation($k: String){ quoteLicenseAction(input: {action: UPGRADE, licenseKey: $k,
      variantId: "pro-16"}){ errors { field code message } } }"""
    return outcome(gql(query, {"k": w.key("bound")}, principal=p), "quoteLicenseAction")


def op_deployments(w, p):
    reply = gql("{ deployments(first: 50){ edges { node { publicId } } } }", principal=p)
    return listed(reply, "deployments", w.deployment, lambda n: n["publicId"])


def op_end_customer(w, p):
    query = "query($id: String!){ endCustomer(id: $id){ publicId notes } }"
    return outcome(gql(query, {"id": w.customer}, principal=p), "endCustomer")


def op_end_customers(w, p):
    reply = gql("{ endCustomers(first: 50){ edges { node { publicId } } } }", principal=p)
    return listed(reply, "endCustomers", w.customer, lambda n: n["publicId"])


def op_end_customer_update(w, p):
    query = """mutation($id: String!){ endCustomerUpdate(id: $id, input: {notes: "x"}){
      errors { field code message } } }"""
    return outcome(gql(query, {"id": w.customer}, principal=p), "endCustomerUpdate")


def op_end_customer_invite(w, p):
    query = "mutation($id: String!){ endCustomerInvite(id: $id){ errors { field code message } } }"
    return outcome(gql(query, {"id": w.customer}, principal=p), "endCustomerInvite")


def op_license_transfer(w, p):
    query = """mutation($id: ID!, $c: String!){ licenseTransfer(id: $id, customerId: $c){
      errors { field code message } } }"""
    variables = {"id": w.license_id(), "c": w.globex.public_id}
    return outcome(gql(query, variables, principal=p), "licenseTransfer")


def op_license_transfer_to(w, p):
    """Move a license of one's own to the world's customer (an unknown one when not real)."""
    query = """mutation($id: ID!, $c: String!){ licenseTransfer(id: $id, customerId: $c){
      errors { field code message } } }"""
    own, _ = issue("pro-8", p) if p.user_id else issue("pro-8", ALICE)
    variables = {"id": to_global_id("License", own.pk), "c": w.customer}
    return outcome(gql(query, variables, principal=p), "licenseTransfer")


def op_deployment_transfer(w, p):
    query = """mutation($d: String!, $c: String!){ deploymentTransfer(deploymentId: $d,
      customerId: $c){ errors { field code message } } }"""
    variables = {"d": w.deployment, "c": w.globex.public_id}
    return outcome(gql(query, variables, principal=p), "deploymentTransfer")


def op_deployment_create(w, p):
    query = """mutation($c: String){ deploymentCreate(name: "Branch", customerId: $c){
      errors { field code message } } }"""
    return outcome(gql(query, {"c": w.customer}, principal=p), "deploymentCreate")


def op_partner_renewals(w, p):
    query = "query($c: String){ partnerRenewals(customerId: $c){ edges { node { dueAt } } } }"
    reply = gql(query, {"c": w.customer}, principal=p)
    if reply.body.get("errors"):
        return outcome(reply, "partnerRenewals")
    return "ok" if reply.body["data"]["partnerRenewals"]["edges"] else "absent"


def op_statistics(w, p):
    query = "query($c: String){ licenseStatistics(customerId: $c){ total } }"
    reply = gql(query, {"c": w.customer}, principal=p)
    if reply.body.get("errors"):
        return outcome(reply, "licenseStatistics")
    return "ok" if reply.body["data"]["licenseStatistics"]["total"] else "absent"


def op_trial_for_customer(w, p):
    query = """mutation($c: String){ partnerLicenseCreate(input: {variantId: "pro-8", kind: TRIAL,
      customerId: $c}){ errors { field code message } } }"""
    return outcome(gql(query, {"c": w.customer}, principal=p), "partnerLicenseCreate")


OK, NO = "ok", "no"  # "no": what a record that does not exist gets (compared, not spelled)
DENIED = "PERMISSION_DENIED"
#                            partner_a partner_b customer_of_a customer_of_b staff anonymous
TABLE = {
    op_license_by_id: (OK, NO, OK, NO, OK, NO),
    op_license_by_key: (OK, NO, OK, NO, OK, NO),
    op_licenses: (OK, NO, OK, NO, OK, DENIED),
    op_verify: (OK, NO, OK, NO, OK, DENIED),
    op_quote_upgrade: (OK, NO, OK, NO, OK, DENIED),
    op_deployments: (OK, NO, OK, NO, OK, DENIED),
    op_end_customer: (OK, NO, NO, NO, OK, NO),
    op_end_customers: (OK, NO, NO, NO, OK, DENIED),
    op_end_customer_update: (OK, NO, NO, NO, OK, DENIED),
    op_end_customer_invite: (OK, NO, NO, NO, OK, DENIED),
    # Acme's owner sees its license but not the partner's other customer: NOT_FOUND for that.
    op_license_transfer: (OK, NO, "NOT_FOUND", NO, OK, DENIED),
    op_license_transfer_to: (OK, NO, NO, NO, OK, DENIED),
    op_deployment_transfer: (OK, NO, "NOT_FOUND", NO, OK, DENIED),
    op_deployment_create: (OK, NO, NO, NO, OK, DENIED),
    op_partner_renewals: (OK, NO, NO, NO, OK, DENIED),
    op_statistics: (OK, NO, NO, NO, OK, DENIED),
    op_trial_for_customer: (OK, NO, DENIED, DENIED, DENIED, DENIED),
}
CASES = [
    pytest.param(op, who, expected, id=f"{op.__name__[3:]}-{who}")
    for op, row in TABLE.items()
    for who, expected in zip(PRINCIPALS, row, strict=True)
]


@pytest.mark.parametrize("op, who, expected", CASES)
def test_who_may_do_what_with_a_partners_records(settings, op, who, expected):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "PARTNER_LEVELS": {"gold": {"trials": 5, "nfr": 1}},
    }
    world = World()
    principal = PRINCIPALS[who]
    got = op(world, principal)
    if expected == OK:
        assert got == "ok"
    elif expected == NO:
        world.real = False
        unknown = op(world, principal)
        assert unknown != "ok"
        assert got == unknown, "a caller who may not must be told what an unknown id gets"
    else:
        assert isinstance(got, tuple) and got[0] == expected, got


# --- partner accounts ------------------------------------------------------------------------

PARTNER_SET = """
mutation($u: String!, $input: PartnerInput!) {
  partnerSet(userId: $u, input: $input) {
    errors { field code message } created
    partner { userId level active trialQuota nfrQuota trialsOpen nfrInUse customerCount }
  }
}"""
MY_PARTNER = "{ partner { userId level trialQuota nfrQuota trialsOpen } }"


def test_staff_make_a_user_a_partner(settings):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "PARTNER_LEVELS": {"gold": {"trials": 10, "nfr": 2}},
    }
    variables = {"u": PARTNER_A.user_id, "input": {"level": "Gold", "company": "A Telecom"}}
    assert gql(PARTNER_SET, variables, principal=PARTNER_A).codes("partnerSet") == [DENIED]
    payload = gql(PARTNER_SET, variables, principal=STAFF).payload("partnerSet")
    assert payload["created"] is True
    assert payload["partner"] == {
        "userId": PARTNER_A.user_id,
        "level": "gold",
        "active": True,
        "trialQuota": 10,
        "nfrQuota": 2,
        "trialsOpen": 0,
        "nfrInUse": 0,
        "customerCount": 0,
    }
    variables["input"] = {"nfrQuota": 0}
    assert (
        gql(PARTNER_SET, variables, principal=STAFF).payload("partnerSet")["partner"]["nfrQuota"]
        == 0
    )
    mine = gql(MY_PARTNER, principal=PARTNER_A).data["partner"]
    assert (mine["level"], mine["trialQuota"]) == ("gold", 10)
    assert gql(MY_PARTNER, principal=ALICE).data["partner"] is None
    listed = gql('{ partners(search: "gold"){ totalCount } }', principal=STAFF)
    assert listed.data["partners"]["totalCount"] == 1
    assert gql("{ partners { totalCount } }", principal=PARTNER_A).codes() == [DENIED]


# --- end customers ---------------------------------------------------------------------------

CREATE = """
mutation($input: EndCustomerInput!) {
  endCustomerCreate(input: $input) {
    errors { field code message }
    customer { publicId company contactName email phone domain notes accountLinked userId }
  }
}"""
SEARCH = """
query($s: String, $first: Int, $after: String) {
  endCustomers(search: $s, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } edges { node { company licenseCount } }
  }
}"""


def test_a_partner_keeps_its_customers_and_finds_them_as_it_types():
    make_partner(PARTNER_A)
    make_partner(PARTNER_B)
    created = gql(
        CREATE,
        {
            "input": {
                "company": "Acme GmbH",
                "contactName": "Carol Jones",
                "email": "it@acme.example",
                "phone": "+49 30 1234",
                "domain": "acme.example",
                "notes": "Main site in Berlin.\nBranch in Hamburg.",
            }
        },
        principal=PARTNER_A,
    ).payload("endCustomerCreate")["customer"]
    assert created["publicId"].startswith("C-") and created["accountLinked"] is False
    assert created["userId"] is None
    for company in ("Globex", "Initrode", "Acme Labs"):
        gql(CREATE, {"input": {"company": company}}, principal=PARTNER_A).payload(
            "endCustomerCreate"
        )
    gql(CREATE, {"input": {"company": "Acme B"}}, principal=PARTNER_B).payload("endCustomerCreate")
    issue("pro-8", EndCustomer.objects.get(public_id=created["publicId"]))

    def companies(principal, search=None, first=None, after=None):
        data = gql(SEARCH, {"s": search, "first": first, "after": after}, principal=principal)
        return data.data["endCustomers"]

    found = companies(PARTNER_A, "acme")
    assert [e["node"] for e in found["edges"]] == [
        {"company": "Acme GmbH", "licenseCount": 1},
        {"company": "Acme Labs", "licenseCount": 0},
    ]
    assert companies(PARTNER_A, "berlin")["totalCount"] == 0  # notes are not searched
    assert companies(PARTNER_A, "acme.example")["totalCount"] == 1  # domain (and e-mail)
    assert companies(PARTNER_A, created["publicId"].lower())["totalCount"] == 1
    first = companies(PARTNER_A, first=2)
    rest = companies(PARTNER_A, first=2, after=first["pageInfo"]["endCursor"])
    names = [e["node"]["company"] for page in (first, rest) for e in page["edges"]]
    assert names == ["Acme GmbH", "Acme Labs", "Globex", "Initrode"]
    assert companies(ALICE)["totalCount"] == 0
    assert companies(STAFF, "acme")["totalCount"] == 3


def test_customer_refusals_come_with_codes():
    assert gql(CREATE, {"input": {"company": "X"}}, principal=ALICE).codes("endCustomerCreate") == [
        DENIED
    ]
    make_partner(PARTNER_A)
    for data, expected in [
        ({"contactName": "Nobody"}, "REQUIRED"),
        ({"company": "X", "email": "no"}, "INVALID"),
        ({"company": "X", "domain": "-bad-"}, "INVALID"),
    ]:
        assert gql(CREATE, {"input": data}, principal=PARTNER_A).codes("endCustomerCreate") == [
            expected
        ]


def test_update_keeps_fields_left_out_and_delete_needs_an_empty_record():
    customer = make_customer(make_partner(PARTNER_A), contactName="Carol")
    update = """mutation($id: String!, $input: EndCustomerInput!){
      endCustomerUpdate(id: $id, input: $input){
        errors { code } customer { company contactName phone } } }"""
    changed = gql(
        update, {"id": customer.public_id, "input": {"phone": "+1 555"}}, principal=PARTNER_A
    ).payload("endCustomerUpdate")["customer"]
    assert changed == {"company": "Acme GmbH", "contactName": "Carol", "phone": "+1 555"}
    delete = "mutation($id: String!){ endCustomerDelete(id: $id){ errors { code } deleted } }"
    issue("pro-8", customer)
    assert gql(delete, {"id": customer.public_id}, principal=PARTNER_A).codes(
        "endCustomerDelete"
    ) == ["INVALID"]
    empty = make_customer(customer.partner, "Empty Inc")
    assert gql(delete, {"id": empty.public_id}, principal=PARTNER_A).payload("endCustomerDelete")[
        "deleted"
    ]


def test_an_invited_customer_signs_in_and_sees_its_licenses():
    customer = make_customer(make_partner(PARTNER_A))
    license, key = issue("pro-8", customer)
    invite = "mutation($id: String!){ endCustomerInvite(id: $id){ errors { code } token } }"
    token = gql(invite, {"id": customer.public_id}, principal=PARTNER_A).payload(
        "endCustomerInvite"
    )["token"]
    mine = """{ licenses { totalCount
      edges { node { key customer { publicId } endCustomer { company } } } } }"""
    assert gql(mine, principal=CAROL).data["licenses"]["totalCount"] == 0
    accept = (
        "mutation($t: String!){ endCustomerInviteAccept(token: $t){ errors { code } customerId } }"
    )
    accepted = gql(accept, {"t": token}, principal=CAROL).payload("endCustomerInviteAccept")
    assert accepted["customerId"] == customer.public_id
    [node] = [e["node"] for e in gql(mine, principal=CAROL).data["licenses"]["edges"]]
    # The customer sees its key and company, not the partner's record (its notes).
    assert node == {"key": key, "customer": None, "endCustomer": {"company": "Acme GmbH"}}
    [seen] = [e["node"] for e in gql(mine, principal=PARTNER_A).data["licenses"]["edges"]]
    assert seen["customer"] == {"publicId": customer.public_id}


def test_staff_link_and_move_customers():
    customer = make_customer(make_partner(PARTNER_A))
    make_partner(PARTNER_B)
    license, _ = issue("pro-8", customer)
    link = """mutation($id: String!, $u: String){ endCustomerLinkAccount(id: $id, userId: $u){
      errors { code } customer { accountLinked userId } } }"""
    variables = {"id": customer.public_id, "u": CAROL.user_id}
    assert gql(link, variables, principal=PARTNER_A).codes("endCustomerLinkAccount") == [DENIED]
    linked = gql(link, variables, principal=STAFF).payload("endCustomerLinkAccount")["customer"]
    assert linked == {"accountLinked": True, "userId": CAROL.user_id}
    move = """mutation($id: String!, $p: String!){ endCustomerMove(id: $id, partnerUserId: $p){
      errors { code } customer { partnerUserId } } }"""
    moved = gql(move, {"id": customer.public_id, "p": PARTNER_B.user_id}, principal=STAFF)
    assert moved.payload("endCustomerMove")["customer"] == {"partnerUserId": PARTNER_B.user_id}
    license.refresh_from_db()
    assert (license.owner_id, license.reseller_id) == (CAROL.user_id, PARTNER_B.user_id)
    assert gql(move, {"id": customer.public_id, "p": "user:nobody"}, principal=STAFF).codes(
        "endCustomerMove"
    ) == ["NOT_FOUND"]


# --- transfers, trials, the report -------------------------------------------------------------


def test_transfer_records_the_event_and_bound_licenses_move_with_their_deployment():
    world = World()
    transfer = """mutation($id: ID!, $c: String!){ licenseTransfer(id: $id, customerId: $c,
      reason: "merger"){ errors { code } license { customer { publicId } } } }"""
    bound = {"id": world.license_id("bound"), "c": world.globex.public_id}
    assert gql(transfer, bound, principal=PARTNER_A).codes("licenseTransfer") == [
        "DEPLOYMENT_BINDING_LOCKED"
    ]
    loose = {"id": world.license_id("loose"), "c": world.globex.public_id}
    moved = gql(transfer, loose, principal=PARTNER_A).payload("licenseTransfer")
    assert moved["license"]["customer"] == {"publicId": world.globex.public_id}
    event = LicenseEvent.objects.get(license=world.loose, action="transferred")
    assert (event.before["owner_id"], event.after["owner_id"], event.note) == (
        CAROL.user_id,
        world.globex.owner_id,
        "merger",
    )
    deployment_transfer = """mutation($d: String!, $c: String!){ deploymentTransfer(
      deploymentId: $d, customerId: $c){ errors { code } deployment { customer { publicId } }
      licenses { deployment { publicId } } } }"""
    payload = gql(
        deployment_transfer,
        {"d": world.pbx.public_id, "c": world.globex.public_id},
        principal=PARTNER_A,
    ).payload("deploymentTransfer")
    assert payload["deployment"]["customer"] == {"publicId": world.globex.public_id}
    assert payload["licenses"] == [{"deployment": {"publicId": world.pbx.public_id}}]


TRIAL = """mutation($kind: PartnerLicenseKind!, $c: String){ partnerLicenseCreate(input: {
  variantId: "pro-8", kind: $kind, customerId: $c}){ errors { code } key
  license { kind status termExpiresAt ownerId } } }"""


def test_partner_trials_and_nfr_within_quota_and_conversion_names_the_key(settings):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "PARTNER_LEVELS": {"gold": {"trials": 1, "nfr": 1}},
        "TRIAL_DAYS": 10,
    }
    customer = make_customer(make_partner(PARTNER_A))
    trial = gql(TRIAL, {"kind": "TRIAL", "c": customer.public_id}, principal=PARTNER_A)
    created = trial.payload("partnerLicenseCreate")
    assert created["license"]["kind"] == "TRIAL" and created["key"]
    assert created["license"]["ownerId"] == customer.owner_id
    again = gql(TRIAL, {"kind": "TRIAL"}, principal=PARTNER_A)
    assert again.codes("partnerLicenseCreate") == ["QUOTA_EXCEEDED"]
    nfr = gql(TRIAL, {"kind": "NOT_FOR_RESALE"}, principal=PARTNER_A).payload(
        "partnerLicenseCreate"
    )
    assert nfr["license"]["ownerId"] == PARTNER_A.user_id
    stats = gql(
        "{ licenseStatistics { trialsOpen } partner { trialsOpen nfrInUse } }", principal=PARTNER_A
    )
    assert stats.data == {
        "licenseStatistics": {"trialsOpen": 1},
        "partner": {"trialsOpen": 1, "nfrInUse": 1},
    }
    kinds = gql(
        "{ licenses(filter: {kind: [NOT_FOR_RESALE]}){ totalCount } }", principal=PARTNER_A
    ).data["licenses"]
    assert kinds["totalCount"] == 1
    assert License.objects.filter(kind=LicenseKind.TRIAL).count() == 1


REPORT = """
query($days: Int, $overdue: Int, $first: Int, $after: String, $d: String) {
  partnerRenewals(dueWithinDays: $days, overdueDays: $overdue, first: $first, after: $after,
                  deploymentId: $d) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node {
      dueAt license { keyHint } customer { company } deployment { publicId }
      items { kind action expiresAt quote { total { amount currency } } }
    } }
  }
}"""


def test_the_renewals_report_lists_what_is_due_soonest_first():
    world = World()
    now = world.now
    # A perpetual license of Globex whose maintenance ends in 10 days; one far off.
    soon, _ = issue("pro-8", world.globex, now=now - timedelta(days=355), maintenance_years=1)
    issue("pro-8", world.globex, now=now, maintenance_years=3)
    report = gql(REPORT, {"days": 60}, principal=PARTNER_A).data["partnerRenewals"]
    rows = [edge["node"] for edge in report["edges"]]
    assert report["totalCount"] == 2
    assert [row["license"]["keyHint"] for row in rows] == [soon.key_hint, world.loose.key_hint]
    assert rows[0]["customer"] == {"company": "Globex"}
    assert rows[0]["items"] == [
        {
            "kind": "MAINTENANCE",
            "action": "RENEW_MAINTENANCE",
            "expiresAt": rows[0]["dueAt"],
            "quote": {"total": {"amount": 89.0, "currency": "EUR"}},  # 20% of 445
        }
    ]
    assert rows[1]["items"][0]["kind"] == "TERM" and rows[1]["customer"] == {"company": "Acme GmbH"}
    page = gql(REPORT, {"days": 60, "first": 1}, principal=PARTNER_A).data["partnerRenewals"]
    after = page["pageInfo"]["endCursor"]
    second = gql(REPORT, {"days": 60, "first": 1, "after": after}, principal=PARTNER_A)
    assert [e["node"]["license"]["keyHint"] for e in second.data["partnerRenewals"]["edges"]] == [
        world.loose.key_hint
    ]
    assert gql(REPORT, {"days": 5}, principal=PARTNER_A).data["partnerRenewals"]["totalCount"] == 0
    by_deployment = gql(REPORT, {"d": world.pbx.public_id}, principal=PARTNER_A)
    assert by_deployment.data["partnerRenewals"]["totalCount"] == 0  # the bound one is perpetual
    assert gql(REPORT, {"days": 4000}, principal=PARTNER_A).codes() == ["INVALID"]


def test_renewal_lines_need_a_host_with_checkouts():
    world = World()
    add = """mutation($items: [RenewalItemInput!]!){ checkoutRenewalLinesAdd(items: $items){
      errors { field code } } }"""
    items = [{"licenseId": world.license_id(), "kind": "TERM"}]
    assert gql(add, {"items": items}, principal=PARTNER_A).codes("checkoutRenewalLinesAdd") == [
        "NOT_FOUND"
    ]
