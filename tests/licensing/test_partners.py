"""Partners and their end customers in the domain (issue 13): accounts, customer records,
ownership and the access rule, transfers with their events, quotas (also under concurrency)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection

from saleor_license_plugin.licensing import access, lifecycle, partners
from saleor_license_plugin.licensing.errors import LicenseError
from saleor_license_plugin.licensing.ports import MANAGE_ORDERS, Principal
from saleor_license_plugin.models import (
    Deployment,
    EndCustomer,
    License,
    LicenseEvent,
    LicenseKind,
    LicenseStatus,
)
from tests.factories import CATALOG, issue

pytestmark = pytest.mark.django_db

PARTNER_A = Principal("user:partner-a", "sales@a.example")
PARTNER_B = Principal("user:partner-b", "sales@b.example")
CAROL = Principal("user:carol", "carol@acme.example")  # Acme's IT manager, an account
STAFF = Principal("staff:1", "staff@example.com", frozenset({MANAGE_ORDERS}))


def code(call, *args, **kwargs):
    with pytest.raises(LicenseError) as caught:
        call(*args, **kwargs)
    return caught.value.code.value, caught.value.field


@pytest.fixture
def partner_a():
    return partners.set_partner(PARTNER_A.user_id, {"email": PARTNER_A.email, "level": "Gold"})[0]


@pytest.fixture
def partner_b():
    return partners.set_partner(PARTNER_B.user_id, {"email": PARTNER_B.email, "level": "silver"})[0]


@pytest.fixture
def acme(partner_a):
    return partners.create_customer(
        partner_a, {"company": "Acme GmbH", "email": "it@acme.example", "contactName": "Carol"}
    )


@pytest.fixture
def globex(partner_a):
    return partners.create_customer(partner_a, {"company": "Globex"})


def customer_license(customer, now, vid="pro-8", **kw):
    return issue(vid, partners.owner_for(customer), now, **kw)


# --- partner accounts -------------------------------------------------------------------------


def test_staff_make_a_user_a_partner_and_change_it(partner_a):
    assert (partner_a.level, partner_a.active, partner_a.trial_quota) == ("gold", True, None)
    changed, created = partners.set_partner(
        PARTNER_A.user_id, {"level": "platinum", "trial_quota": 3, "active": False}
    )
    assert not created and changed.pk == partner_a.pk
    assert (changed.level, changed.trial_quota, changed.active) == ("platinum", 3, False)
    assert partners.partner_of(PARTNER_A) is None  # inactive: no partner powers


@pytest.mark.parametrize(
    "user_id, changes, field",
    [
        ("customer:C-ABCDEFGH", {}, "userId"),  # the owner ids of customers without accounts
        ("", {}, "userId"),
        ("user:x", {"level": "gold level!"}, "level"),
        ("user:x", {"trial_quota": -1}, "trialQuota"),
        ("user:x", {"nfr_quota": 10**9}, "nfrQuota"),
        ("user:x", {"email": "not-an-email"}, "email"),
    ],
)
def test_partner_input_is_checked(user_id, changes, field):
    assert code(partners.set_partner, user_id, changes) == ("INVALID", field)


def test_quotas_come_from_the_partner_else_its_level(settings, partner_a):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "PARTNER_LEVELS": {"gold": {"trials": 10, "nfr": 2}},
    }
    assert partners.quota_of(partner_a) == partners.PartnerQuota(10, 2)
    partner_a.nfr_quota = 5
    assert partners.quota_of(partner_a) == partners.PartnerQuota(10, 5)
    partner_a.level = "unknown"
    assert partners.quota_of(partner_a) == partners.PartnerQuota(0, 5)


# --- end customers ----------------------------------------------------------------------------


def test_a_customer_record_is_checked_and_normalised(partner_a):
    customer = partners.create_customer(
        partner_a,
        {
            "company": "  Initech ",
            "email": "it@initech.example",
            "phone": "+49 (30) 1234-56",
            "domain": "https://Initech.example/",
            "notes": "Two sites.\nCall before noon.",
        },
    )
    assert (customer.company, customer.domain) == ("Initech", "initech.example")
    assert customer.public_id.startswith("C-") and customer.owner_id == (
        f"customer:{customer.public_id}"
    )


@pytest.mark.parametrize(
    "data, expected",
    [
        ({}, ("REQUIRED", "company")),
        ({"company": "  "}, ("REQUIRED", "company")),
        ({"company": "A", "email": "nope"}, ("INVALID", "email")),
        ({"company": "A", "domain": "not a domain"}, ("INVALID", "domain")),
        ({"company": "A", "phone": "call me"}, ("INVALID", "phone")),
        ({"company": "A\nB"}, ("INVALID", "company")),
        ({"company": "A", "notes": "x" * 2001}, ("INVALID", "notes")),
        ({"company": 5}, ("INVALID", "company")),
    ],
)
def test_bad_customer_records_are_refused(partner_a, data, expected):
    assert code(partners.create_customer, partner_a, data) == expected


def test_an_updated_email_follows_onto_the_customers_licenses(acme, now):
    license = customer_license(acme, now)
    partners.update_customer(acme, {"email": "licenses@acme.example"})
    license.refresh_from_db()
    assert license.owner_email == "licenses@acme.example"


def test_a_customer_with_licenses_cannot_be_deleted(acme, globex, now):
    customer_license(acme, now)
    assert code(partners.delete_customer, acme) == ("INVALID", "id")
    partners.delete_customer(globex)
    assert not EndCustomer.objects.filter(pk=globex.pk).exists()


# --- ownership and the access rule ------------------------------------------------------------


def test_a_customers_license_is_owned_by_it_and_managed_by_its_partner(acme, now):
    license = customer_license(acme, now)
    assert (license.owner_id, license.reseller_id, license.customer_id) == (
        acme.owner_id,
        PARTNER_A.user_id,
        acme.pk,
    )
    seen = {
        name: access.visible_licenses(p).filter(pk=license.pk).exists() and p.can_see(license)
        for name, p in [("a", PARTNER_A), ("b", PARTNER_B), ("carol", CAROL), ("staff", STAFF)]
    }
    assert seen == {"a": True, "b": False, "carol": False, "staff": True}


def test_only_its_partner_and_staff_find_a_customer_record(acme, partner_b):
    assert access.visible_customer(acme.public_id.lower(), PARTNER_A) == acme
    assert access.visible_customer(acme.public_id, STAFF) == acme
    unknown = code(access.visible_customer, "C-ZZZZZZZZ", PARTNER_B)
    assert code(access.visible_customer, acme.public_id, PARTNER_B) == unknown
    assert (
        code(access.visible_customer, acme.public_id, CAROL)
        == unknown
        == (
            "NOT_FOUND",
            "customerId",
        )
    )


def test_linking_the_customers_account_makes_it_the_owner(acme, now):
    deployment = lifecycle.create_deployment(
        name="Acme PBX", owner_id=acme.owner_id, reseller_id=PARTNER_A.user_id, customer_id=acme.pk
    )
    license = customer_license(acme, now, deployment=deployment)
    partners.link_account(acme, CAROL.user_id, actor="staff", now=now)
    license.refresh_from_db()
    deployment.refresh_from_db()
    assert license.owner_id == deployment.owner_id == CAROL.user_id
    assert CAROL.can_see(license) and PARTNER_A.can_see(license)
    assert access.serves(deployment, license.owner_id, license.reseller_id)
    event = license.events.get(action="transferred")
    assert (event.before["owner_id"], event.after["owner_id"]) == (
        f"customer:{acme.public_id}",
        CAROL.user_id,
    )
    assert code(partners.link_account, acme, PARTNER_A.user_id, actor="x", now=now) == (
        "INVALID",
        "userId",
    )


def test_an_invitation_links_the_account_that_accepts_it(acme, now):
    token = partners.invite_token(acme)
    assert partners.accept_invite(token, CAROL, actor="carol", now=now).user_id == CAROL.user_id
    assert partners.accept_invite(token, CAROL, actor="carol", now=now).user_id == CAROL.user_id
    other = Principal("user:mallory")
    assert code(partners.accept_invite, token, other, actor="m", now=now) == ("INVALID", "token")
    assert code(partners.accept_invite, token + "x", other, actor="m", now=now) == (
        "INVALID",
        "token",
    )
    assert code(partners.accept_invite, token, Principal(), actor="a", now=now)[0] == (
        "PERMISSION_DENIED"
    )


# --- transfers ----------------------------------------------------------------------------


def test_a_license_moves_between_a_partners_customers_with_an_event(acme, globex, now):
    license = customer_license(acme, now)
    revision = license.revision
    moved = partners.transfer_license(license, globex, PARTNER_A, reason="merger", actor="a")
    assert (moved.owner_id, moved.customer_id, moved.reseller_id) == (
        globex.owner_id,
        globex.pk,
        PARTNER_A.user_id,
    )
    assert moved.revision == revision + 1  # quotes of the license made before go stale
    event = LicenseEvent.objects.get(license=license, action="transferred")
    assert (event.before["customer_id"], event.after["customer_id"]) == (acme.pk, globex.pk)
    assert (event.note, event.actor) == ("merger", "a")


def test_a_partner_moves_its_own_stock_to_a_customer_but_not_its_nfr(acme, partner_a, now):
    stock = issue("pro-8", lifecycle.Owner(PARTNER_A.user_id, PARTNER_A.email), now)
    assert partners.transfer_license(stock, acme, PARTNER_A, actor="a").customer_id == acme.pk
    nfr = issue("pro-8", lifecycle.Owner(PARTNER_A.user_id), now, kind=LicenseKind.NOT_FOR_RESALE)
    assert code(partners.transfer_license, nfr, acme, PARTNER_A, actor="a") == ("INVALID", "id")


def test_a_partner_cannot_move_a_license_resold_to_someones_account(acme, now):
    """Staff marked it as resold by partner A to Carol's own account: Carol's, not A's stock."""
    resold = issue("pro-8", lifecycle.Owner(CAROL.user_id, reseller_id=PARTNER_A.user_id), now)
    assert code(partners.transfer_license, resold, acme, PARTNER_A, actor="a") == (
        "PERMISSION_DENIED",
        "id",
    )
    assert partners.transfer_license(resold, acme, STAFF, actor="staff").owner_id == acme.owner_id


def test_a_bound_license_moves_only_with_its_deployment(acme, globex, now):
    pbx = lifecycle.create_deployment(
        name="Acme PBX", owner_id=acme.owner_id, reseller_id=PARTNER_A.user_id, customer_id=acme.pk
    )
    first = customer_license(acme, now, deployment=pbx)
    second = customer_license(acme, now, deployment=pbx)
    assert code(partners.transfer_license, first, globex, PARTNER_A, actor="a") == (
        "DEPLOYMENT_BINDING_LOCKED",
        "id",
    )
    pbx, moved = partners.transfer_deployment(pbx, globex, PARTNER_A, actor="a", now=now)
    assert {lic.pk for lic in moved} == {first.pk, second.pk}
    assert (pbx.owner_id, pbx.customer_id) == (globex.owner_id, globex.pk)
    for license in License.objects.filter(pk__in=[first.pk, second.pk]):
        assert license.deployment_id == pbx.pk and license.owner_id == globex.owner_id
        assert access.serves(pbx, license.owner_id, license.reseller_id)
        event = license.events.get(action="transferred")
        assert event.before["deployment"] == event.after["deployment"] == pbx.public_id


def test_a_customers_deployment_serves_only_that_customers_licenses(acme, globex, now):
    pbx = lifecycle.create_deployment(
        name="Acme PBX", owner_id=acme.owner_id, reseller_id=PARTNER_A.user_id, customer_id=acme.pk
    )
    globex_license = customer_license(globex, now)
    assert code(lifecycle.bind_deployment, globex_license.pk, pbx) == (
        "DEPLOYMENT_NOT_OWNED",
        "deploymentId",
    )


def test_staff_move_a_customer_with_everything_to_another_partner(acme, partner_b, now):
    pbx = lifecycle.create_deployment(
        name="Acme PBX", owner_id=acme.owner_id, reseller_id=PARTNER_A.user_id, customer_id=acme.pk
    )
    bound = customer_license(acme, now, deployment=pbx)
    loose = customer_license(acme, now)
    partners.move_customer(acme, partner_b, actor="staff", now=now)
    pbx.refresh_from_db()
    assert pbx.reseller_id == PARTNER_B.user_id
    for license in License.objects.filter(pk__in=[bound.pk, loose.pk]):
        assert license.reseller_id == PARTNER_B.user_id
        assert PARTNER_B.can_see(license) and not PARTNER_A.can_see(license)
        event = license.events.get(action="transferred")
        assert (event.before["partner_id"], event.after["partner_id"]) == (
            PARTNER_A.user_id,
            PARTNER_B.user_id,
        )
    assert access.visible_customer(acme.public_id, PARTNER_B) == acme


# --- trials and not-for-resale licenses ---------------------------------------------------


def limits(settings, trials, nfr):
    settings.SALEOR_LICENSE = {
        **settings.SALEOR_LICENSE,
        "PARTNER_LEVELS": {"gold": {"trials": trials, "nfr": nfr}},
        "TRIAL_DAYS": 14,
    }


def create(partner, kind, customer=None, now=None):
    return partners.create_partner_license(
        partner,
        terms=CATALOG.get("pro-8").terms,
        kind=kind,
        product_code="pro-8",
        customer=customer,
        actor="partner",
        now=now,
    ).license


def test_trials_and_nfr_within_the_level_quotas(settings, partner_a, acme, now):
    limits(settings, trials=2, nfr=1)
    trial = create(partner_a, LicenseKind.TRIAL, acme, now)
    assert trial.term_expires_at == now + timedelta(days=14)
    assert (trial.owner_id, trial.reseller_id) == (acme.owner_id, PARTNER_A.user_id)
    create(partner_a, LicenseKind.TRIAL, None, now)
    assert code(create, partner_a, LicenseKind.TRIAL, None, now) == ("QUOTA_EXCEEDED", "kind")
    nfr = create(partner_a, LicenseKind.NOT_FOR_RESALE, None, now)
    assert (nfr.owner_id, nfr.kind) == (PARTNER_A.user_id, LicenseKind.NOT_FOR_RESALE)
    assert code(create, partner_a, LicenseKind.NOT_FOR_RESALE, None, now)[0] == "QUOTA_EXCEEDED"
    assert code(create, partner_a, LicenseKind.NOT_FOR_RESALE, acme, now) == (
        "INVALID",
        "customerId",
    )
    # An expired or revoked trial no longer counts.
    later = now + timedelta(days=15)
    assert create(partner_a, LicenseKind.TRIAL, None, later).kind == LicenseKind.TRIAL
    lifecycle.revoke_license(nfr.pk)
    assert create(partner_a, LicenseKind.NOT_FOR_RESALE, None, now).status == LicenseStatus.ACTIVE


def test_no_quota_no_trials(partner_a, now):
    assert code(create, partner_a, LicenseKind.TRIAL, None, now)[0] == "QUOTA_EXCEEDED"
    assert code(create, partner_a, LicenseKind.STANDARD, None, now) == ("INVALID", "kind")


@pytest.mark.django_db(transaction=True)
def test_the_trial_quota_holds_under_concurrency(settings):
    limits(settings, trials=3, nfr=0)
    partner, _ = partners.set_partner(PARTNER_A.user_id, {"level": "gold"})
    barrier = threading.Barrier(12)
    outcomes = []

    def attempt():
        try:
            barrier.wait()
            create(partner, LicenseKind.TRIAL)
            outcomes.append("created")
        except LicenseError as exc:
            outcomes.append(exc.code.value)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["QUOTA_EXCEEDED"] * 9 + ["created"] * 3
    assert License.objects.filter(kind=LicenseKind.TRIAL).count() == 3


def test_converting_a_trial_keeps_its_key(acme, now, pro16):
    trial = customer_license(acme, now, kind=LicenseKind.TRIAL, trial_days=30)
    key = trial.display_key()
    paid = lifecycle.convert_trial(
        trial.pk, terms=pro16, product_code="pro-16", maintenance_years=1, now=now
    )
    assert (paid.kind, paid.capacity, paid.display_key()) == (LicenseKind.STANDARD, 16, key)
    assert paid.term_expires_at is None  # a perpetual edition
    assert paid.maintenance_expires_at == now.replace(year=now.year + 1)
    assert code(lifecycle.convert_trial, paid.pk, terms=pro16) == ("INVALID", "licenseKey")


def test_deployments_of_a_customer_are_counted_in_its_record(acme):
    lifecycle.create_deployment(
        name="Acme PBX", owner_id=acme.owner_id, reseller_id=PARTNER_A.user_id, customer_id=acme.pk
    )
    assert Deployment.objects.filter(customer=acme).count() == 1


def test_a_discount_naming_levels_is_for_those_partners_only(partner_a, partner_b):
    gold = {"license.partner_levels": " Gold ,platinum"}
    partners.check_level_discount(gold, PARTNER_A)
    partners.check_level_discount({}, CAROL)  # a discount for everyone
    for buyer in (PARTNER_B, CAROL, Principal()):
        assert code(partners.check_level_discount, gold, buyer) == (
            "PARTNER_LEVEL_REQUIRED",
            "promoCode",
        )
    partners.set_partner(PARTNER_A.user_id, {"active": False})
    assert code(partners.check_level_discount, gold, PARTNER_A)[0] == "PARTNER_LEVEL_REQUIRED"
