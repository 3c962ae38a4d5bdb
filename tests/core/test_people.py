"""One person, one record: the staff page, search, export, merge and erasure (core.people)."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from core.audit import AuditEntry
from core.db import db
from core.mail.models import EmailConsent, OutboxMessage
from core.people import ERASED_DOMAIN, PersonAlias, fingerprint
from tests.factories import DonationFactory, FundFactory, MonthlyGiftFactory, UserFactory
from tests.helpers import post_form, sign_in

ANA = "ana@example.org"
WORK = "ana.lima@work.example"
WHEN = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)


def _campaign(slug):
    from involve.models import Campaign

    campaign = Campaign(
        slug=slug,
        title_en=f"Campaign {slug}",
        recipient_name_en="The Prime Minister",
        starts_on=date(2026, 1, 1),
        ends_on=date(2027, 12, 31),
    )
    db.session.add(campaign)
    return campaign


def _product():
    from shop.models import Product, ProductFormat, ProductKind, TaxCategory

    product = Product(
        slug="mondial-42",
        kind=ProductKind.issue,
        format=ProductFormat.print,
        title_en="Mondial 42",
        title_fr="Mondial 42",
        price=1200,
        tax_category=TaxCategory.printed,
    )
    db.session.add(product)
    return product


def _order(email, product, *, name="Ana Lima", status="shipped", user=None):
    from shop.models import Order, OrderLine, OrderStatus

    order = Order(
        email=email,
        name=name,
        user_id=user.id if user else None,
        address_line1="1 Peace Street",
        city="Ottawa",
        province="ON",
        postal_code="K1A 0B1",
        subtotal=1200,
        total=1200,
        status=OrderStatus(status),
    )
    order.lines.append(
        OrderLine(
            product=product,
            title="Mondial 42",
            format="print",
            tax_category="printed",
            unit_price=1200,
            quantity=1,
        )
    )
    db.session.add(order)
    return order


def _receipt(donation, year, serial):
    from donations.models import Receipt, ReceiptItem, ReceiptKind

    receipt = Receipt(
        kind=ReceiptKind.official,
        serial=serial,
        year=year,
        language="en",
        issued_on=date(year, 12, 31),
        email=donation.email,
        donor_name=donation.donor_name,
        donor_address=donation.postal_address,
        amount=donation.amount,
        eligible_amount=donation.amount,
        org_name="World Federalists",
        org_address="Ottawa",
        place_of_issue="Ottawa",
    )
    receipt.items.append(
        ReceiptItem(donation=donation, received_on=date(year, 6, 1), amount=donation.amount)
    )
    db.session.add(receipt)
    return receipt


def _outbox(to, subject):
    import secrets

    db.session.add(
        OutboxMessage(
            message_id=f"<{secrets.token_hex(8)}@example.org>",
            to_addr=to,
            subject=subject,
            text_body="Thank you",
            html_body="<p>Thank you</p>",
        )
    )


def make_record(app, email=ANA, *, account=True, suffix=""):
    """One supporter with a row in every feature; returns the ids the tests look at."""
    from core.mail.services import record_consent
    from donations.models import MonthlyStatus
    from involve.models import Comment, ContentPage, Signature, SignatureStatus, Volunteer
    from members.models import Dues, DuesMethod, DuesStatus, Membership, MembershipStatus, Tier
    from payments.models import Payment, PaymentStatus

    with app.app_context():
        user = None
        if account:
            user = UserFactory(email=email, name="Ana Lima")
        fund = FundFactory()
        # Guest gifts, one typed with capitals: the same person all the same.
        gift = DonationFactory(email=email.upper(), donor_name="Ana Lima", fund=fund, amount=5000)
        old_gift = DonationFactory(
            email=email,
            donor_name="Ana Lima",
            fund=fund,
            amount=2500,
            received_at=datetime(2020, 5, 1, tzinfo=UTC),
        )
        monthly = MonthlyGiftFactory(
            email=email, donor_name="Ana Lima", fund=fund, status=MonthlyStatus.cancelled
        )
        receipt = _receipt(gift, 2026, 8 if suffix else 7)
        old_receipt = _receipt(old_gift, 2020, 4 if suffix else 3)
        if user is not None:
            tier = Tier(
                slug=f"supporter{suffix}", name_en="Individual", name_fr="Individuel", price=4000
            )
            membership = Membership(
                user_id=user.id,
                tier=tier,
                status=MembershipStatus.current,
                mailing_name="Ana Lima",
                address_line1="1 Peace Street",
                city="Ottawa",
                note="Met at the AGM",
            )
            membership.dues.append(
                Dues(
                    tier=tier,
                    status=DuesStatus.paid,
                    method=DuesMethod.cheque,
                    amount=4000,
                    reference="Cheque 12",
                    received_at=WHEN,
                )
            )
            db.session.add(membership)
        product = _product() if not suffix else None
        if product is None:
            from shop.models import Product

            product = db.session.scalar(sa.select(Product))
        order = _order(email, product, user=user)
        delivered = _campaign(f"peace{suffix}")
        waiting = _campaign(f"treaty{suffix}")
        db.session.flush()
        db.session.add_all(
            [
                Signature(
                    campaign=delivered,
                    name="Ana Lima",
                    email=email,
                    postal_code="K1A0B1",
                    status=SignatureStatus.confirmed,
                    delivered_at=WHEN,
                ),
                Signature(
                    campaign=waiting,
                    name="Ana Lima",
                    email=email,
                    postal_code="K1A0B1",
                    status=SignatureStatus.confirmed,
                ),
            ]
        )
        delivered.signature_count = waiting.signature_count = 1
        page = ContentPage(slug=f"roadmap{suffix}", title_en="Roadmap")
        db.session.add(page)
        db.session.flush()
        db.session.add(Comment(page_id=page.id, name="Ana", email=email, body="Merci !"))
        db.session.add(
            Volunteer(
                name="Ana Lima",
                email=email,
                phone="613-555-0100",
                message='=HYPERLINK("http://evil.example")',
                languages=["en"],
            )
        )
        db.session.add(
            Payment(amount=5000, email=email, name="Ana Lima", status=PaymentStatus.succeeded)
        )
        record_consent(email, True, wording="Send me news", language="en", source="volunteer")
        _outbox(email, "Your receipt")
        db.session.commit()
        return {
            "user_id": user.id if user else None,
            "gift_id": gift.id,
            "monthly_id": monthly.id,
            "receipt_id": receipt.id,
            "old_receipt_id": old_receipt.id,
            "order_id": order.id,
            "campaigns": (delivered.id, waiting.id),
        }


@pytest.fixture
def ana(app):
    return make_record(app)


@pytest.fixture
def staff(signed_in):
    return signed_in("treasurer", email="treasurer@example.org")


# -- the page ----------------------------------------------------------------------------------


def test_the_page_shows_every_feature_for_one_person(staff, ana, app):
    page = staff.get("/treasurer/people/record?email=ANA@Example.org")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for seen in (
        'id="account"',
        'id="donations"',
        'id="monthly_gifts"',
        'id="receipts"',
        "2026-000007",  # the receipt's number
        'id="membership"',
        'id="dues"',
        "Cheque 12",
        'id="orders"',
        f"M-{ana['order_id']:06d}",
        'id="signatures"',
        "Campaign peace",
        'id="volunteers"',
        "613-555-0100",
        'id="comments"',
        'id="consents"',
        "volunteer",
        'id="outbox"',
        "Your receipt",
        'id="payments"',
    ):
        assert seen in html, seen


def _table(html, key):
    import re

    found = re.search(rf'<table class="data" id="{key}">(.*?)</table>', html, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1))


def test_the_page_says_payments_emails_and_get_involved_in_words(staff, ana, app):
    from involve.models import Comment, CommentStatus, Volunteer

    with app.app_context():
        db.session.scalar(sa.select(Comment)).status = CommentStatus.approved
        db.session.scalar(sa.select(Volunteer)).interests = ["translation"]
        db.session.commit()
    html = staff.get(f"/treasurer/people/record?email={ANA}&lang=fr").get_data(as_text=True)
    expected = {
        "payments": ("Payé", "Une fois"),
        "outbox": ("En attente", "Transactionnel"),
        "consents": ("Nouvelles", "Anglais"),
        "account": ("Anglais",),
        "signatures": ("Confirmée",),
        "comments": ("Publié",),
        "volunteers": ("Anglais", "Traduction"),
    }
    # The erasure's summary punctuates in French too.
    summary = staff.get(f"/treasurer/people/erase?email={ANA}&lang=fr").get_data(as_text=True)
    assert "<li>Compte : 1</li>" in summary and "<li>Dons : 2</li>" in summary
    raw = ("succeeded", "payment", "transactional", "news", "confirmed", "approved", "translation")
    for key, words in expected.items():
        table = _table(html, key)
        for word in words:
            assert word in table, (key, word)
        cells = table.split()
        for value in raw:
            assert value not in cells, (key, value)


def test_the_page_takes_as_many_queries_however_many_rows(staff, ana, app, count_queries):
    url = f"/treasurer/people/record?email={ANA}"
    staff.get(url)  # warm: the signed-in user, the cache versions
    with count_queries() as first:
        assert staff.get(url).status_code == 200
    with app.app_context():
        from shop.models import Product

        for _ in range(3):
            DonationFactory(email=ANA, amount=1000)
            _order(ANA, db.session.scalar(sa.select(Product)))
            _outbox(ANA, "Another")
        db.session.commit()
    with count_queries() as second:
        assert staff.get(url).status_code == 200
    assert len(second) == len(first), str(second)
    assert len(first) <= 30, str(first)


def test_an_address_nothing_is_held_about(staff, ana):
    page = staff.get("/treasurer/people/record?email=nobody@example.org")
    assert page.status_code == 200
    assert "Nothing is held about this email address." in page.get_data(as_text=True)
    assert (
        staff.get("/treasurer/people/record/export.json?email=nobody@example.org").status_code
        == 404
    )


# -- search ------------------------------------------------------------------------------------


@pytest.mark.parametrize("term", ["LIMA", "ana@exa", "Ana Lima"])
def test_search_finds_a_person_by_email_or_name(staff, ana, term):
    page = staff.get("/treasurer/people/", query_string={"q": term})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"/treasurer/people/record?email={ANA}" in html


def test_search_needs_two_characters_and_takes_wildcards_literally(staff, ana):
    assert staff.get("/treasurer/people/?q=a").status_code == 400
    page = staff.get("/treasurer/people/?q=%25%25")
    assert page.status_code == 200 and "No one matches." in page.get_data(as_text=True)


# -- export ------------------------------------------------------------------------------------


def test_the_json_export_holds_every_feature_and_is_audited(staff, ana, app):
    response = staff.get(f"/treasurer/people/record/export.json?email={ANA}")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.get_data(as_text=True))
    sections = data["sections"]
    for key in (
        "account",
        "donations",
        "monthly_gifts",
        "receipts",
        "membership",
        "dues",
        "orders",
        "signatures",
        "volunteers",
        "comments",
        "consents",
        "outbox",
        "payments",
    ):
        assert sections[key], key
    assert sections["account"][0]["email"] == ANA
    assert {d["amount"] for d in sections["donations"]} == {5000, 2500}
    assert sections["outbox"][0]["text_body"] == "Thank you"  # the detail the page leaves out
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "person.exported")
        )
        assert entry.actor == "treasurer@example.org"
        assert entry.data["format"] == "json" and entry.target_id == str(ana["user_id"])
        assert entry.data["fingerprints"] == [fingerprint(ANA)]
        assert ANA not in json.dumps(entry.data)  # an erasure could not take it out again


def test_the_csv_export_holds_the_same_and_is_formula_safe(staff, ana):
    response = staff.get(f"/treasurer/people/record/export.csv?email={ANA}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["section", "row", "field", "value"]
    assert {row[0] for row in rows[1:]} >= {
        "account",
        "donations",
        "orders",
        "volunteers",
        "signatures",
        "outbox",
        "consents",
        "membership",
    }
    message = next(r[3] for r in rows if r[0] == "volunteers" and r[2] == "message")
    assert message.startswith("'=HYPERLINK")


# -- merge -------------------------------------------------------------------------------------


def test_merge_moves_every_row_of_b_into_a_and_is_audited(staff, ana, app):
    from donations.models import Donation, Receipt
    from involve.models import Campaign, Comment, Signature, Volunteer
    from shop.models import Order

    make_record(app, WORK, account=False, suffix="-b")
    with app.app_context():  # B also signed A's delivered campaign: one person, one signature
        from involve.models import SignatureStatus

        db.session.add(
            Signature(
                campaign_id=ana["campaigns"][0],
                name="A. Lima",
                email=WORK,
                postal_code="K1A0B1",
                status=SignatureStatus.confirmed,
            )
        )
        db.session.execute(
            sa.update(Campaign).where(Campaign.id == ana["campaigns"][0]).values(signature_count=2)
        )
        db.session.commit()
    review = staff.get("/treasurer/people/merge", query_string={"into": ANA, "source": WORK})
    assert review.status_code == 200
    assert WORK in review.get_data(as_text=True)

    refused = post_form(
        staff,
        "/treasurer/people/merge",
        {"into": ANA, "source": WORK, "reason": "", "confirm": "y"},
        token_from=f"/treasurer/people/record?email={ANA}",
    )
    assert refused.status_code == 400
    merged = post_form(
        staff,
        "/treasurer/people/merge",
        {"into": ANA, "source": WORK, "reason": "Same donor, new job", "confirm": "y"},
        token_from=f"/treasurer/people/record?email={ANA}",
    )
    assert merged.status_code == 303
    assert merged.location.endswith(f"/treasurer/people/record?email={ANA}")

    with app.app_context():
        for model in (Donation, Order, Signature, Comment, Volunteer, Receipt):
            left = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(model)
                .where(sa.func.lower(model.email) == WORK)
            )
            assert left == 0, model
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Order.id)).where(Order.user_id == ana["user_id"])
            )
            == 2
        )
        delivered = db.session.get(Campaign, ana["campaigns"][0])
        assert delivered.signature_count == 1
        alias = db.session.scalar(sa.select(PersonAlias))
        assert (alias.email, alias.into_email) == (WORK, ANA)
        # What belongs to B's address stays with it, and shows on A's record.
        assert db.session.scalar(sa.select(EmailConsent.email).where(EmailConsent.email == WORK))
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.merged"))
        assert entry.actor == "treasurer@example.org" and entry.at is not None
        # By fingerprint: erasing the merged record later must leave no address in the log.
        assert entry.data["from_fingerprints"] == [fingerprint(WORK)]
        assert entry.data["into_fingerprint"] == fingerprint(ANA)
        assert ANA not in json.dumps(entry.data) and WORK not in json.dumps(entry.data)
        assert entry.data["reason"] == "Same donor, new job"
        assert entry.data["moved"]["donations.gifts"] == 2
        assert entry.data["moved"]["involve.signatures"] == 2
        assert entry.data["moved"]["shop.orders"] == 1
    page = staff.get(f"/treasurer/people/record?email={ANA}").get_data(as_text=True)
    assert WORK in page  # "also merged into this record", and B's emails sent
    # Searching B's address still finds the record it went into.
    found = staff.get("/treasurer/people/?q=LIMA@WORK").get_data(as_text=True)
    assert f'href="/treasurer/people/record?email={WORK}"' in found
    # B's address now finds A's record.
    assert staff.get(f"/treasurer/people/record/export.json?email={WORK}").get_json()["emails"] == [
        ANA,
        WORK,
    ]


def test_merging_an_account_into_a_bare_address_moves_the_account(staff, app):
    from core.accounts.models import User
    from donations.models import Donation

    make_record(app, ANA)
    make_record(app, WORK, account=False, suffix="-b")
    merged = post_form(
        staff,
        "/treasurer/people/merge",
        {"into": WORK, "source": ANA, "reason": "Asked by phone", "confirm": "y"},
        token_from="/treasurer/people/",
    )
    assert merged.status_code == 303
    with app.app_context():
        from core.accounts.services import authenticate

        user = db.session.scalar(sa.select(User).where(User.email == WORK))
        assert user is not None and user.name == "Ana Lima" and user.active
        # Same password; the new address is confirmed before the next sign-in.
        assert authenticate(WORK, "a test password") is user and not user.is_verified
        assert (
            db.session.scalar(
                sa.select(sa.func.count(Donation.id)).where(sa.func.lower(Donation.email) == WORK)
            )
            == 4
        )


def test_an_address_merged_twice_follows_its_record(app_ctx):
    from core import people

    for address in ("a@example.org", "b@example.org", "c@example.org"):
        DonationFactory(email=address)
    people.merge("b@example.org", "a@example.org", reason="Duplicate")
    people.merge("a@example.org", "c@example.org", reason="Duplicate")
    found = people.find_person("B@example.org")
    assert found.emails == ("c@example.org", "b@example.org", "a@example.org")
    with pytest.raises(people.CannotMerge):
        people.merge("b@example.org", "c@example.org", reason="Again")


@pytest.mark.postgres
def test_a_merge_sent_twice_at_once_merges_once(app):
    """The second of two identical merges waits for the first, then finds one record."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from core import people
    from tests.helpers import POSTGRES, require

    require(POSTGRES, "PostgreSQL (TEST_DATABASE_URL)")
    with app.app_context():
        DonationFactory(email=ANA)
        DonationFactory(email=WORK)
        db.session.commit()
    merged, release = threading.Event(), threading.Event()

    def first():
        with app.app_context():
            try:
                people.merge(WORK, ANA, reason="Duplicate")
            finally:
                merged.set()  # or its error shows at once, below
            try:
                assert release.wait(timeout=30)
                db.session.commit()
            finally:
                db.session.remove()

    def second():
        with app.app_context():
            try:
                people.merge(WORK, ANA, reason="Duplicate")
                db.session.commit()
                return "merged"
            except people.CannotMerge:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        done_first = pool.submit(first)
        assert merged.wait(timeout=30)
        if done_first.done():
            done_first.result()  # the first merge failed: say why
        done_second = pool.submit(second)
        with app.app_context():
            waiting = sa.text(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            with db.engine.connect() as conn:
                for _ in range(3000):  # the second merge is waiting for the first to end
                    if conn.execute(waiting).scalar() or done_second.done():
                        break
                    threading.Event().wait(0.01)
        release.set()
        done_first.result(timeout=30)
        assert done_second.result(timeout=30) == "refused"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PersonAlias.id))) == 1
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "person.merged")
            )
            == 1
        )


def test_two_memberships_cannot_merge(staff, app):
    from members.models import Membership

    make_record(app, ANA)
    make_record(app, WORK, suffix="-b")
    refused = post_form(
        staff,
        "/treasurer/people/merge",
        {"into": ANA, "source": WORK, "reason": "Duplicate", "confirm": "y"},
        token_from="/treasurer/people/",
    )
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Membership.id))) == 2
        assert db.session.scalar(sa.select(PersonAlias)) is None


@pytest.mark.parametrize("staff_side", ["source", "into"])
def test_a_staff_account_is_neither_merged_away_nor_merged_into(staff, app, staff_side):
    from core.accounts.models import Role, User

    with app.app_context():
        admin = UserFactory(email="admin@example.org", role=Role.admin)
        admin_id = admin.id
        db.session.commit()
    # A bare address anyone can create with a gift: moving the admin's account to it would
    # let its owner reset the admin's password.
    make_record(app, WORK, account=False)
    pair = {"source": "admin@example.org", "into": WORK}
    if staff_side == "into":
        pair = {"source": WORK, "into": "admin@example.org"}
    refused = post_form(
        staff,
        "/treasurer/people/merge",
        {**pair, "reason": "Duplicate", "confirm": "y"},
        token_from="/treasurer/people/",
    )
    assert refused.status_code == 409
    assert "This is a staff account" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, admin_id).email == "admin@example.org"
        assert db.session.scalar(sa.select(PersonAlias)) is None
        assert (
            db.session.scalar(
                sa.select(sa.func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.action == "person.merged")
            )
            == 0
        )


# -- erasure -----------------------------------------------------------------------------------


def erase(client, email, reason="Asked by email on 2026-11-30", confirm="y"):
    return post_form(
        client,
        "/treasurer/people/erase",
        {"email": email, "reason": reason, "confirm": confirm},
        token_from="/treasurer/people/",
    )


def test_erasure_waits_for_a_running_monthly_gift(staff, ana, app):
    from donations.models import Donation, MonthlyGift, MonthlyStatus

    with app.app_context():
        db.session.get(MonthlyGift, ana["monthly_id"]).status = MonthlyStatus.active
        db.session.commit()
    page = staff.get(f"/treasurer/people/erase?email={ANA}")
    assert page.status_code == 200
    assert "A monthly gift is still running" in page.get_data(as_text=True)
    assert erase(staff, ANA).status_code == 409
    with app.app_context():
        assert db.session.get(Donation, ana["gift_id"]).donor_name == "Ana Lima"


def test_erasure_waits_for_a_checkout_page_still_open(staff, ana, app):
    from core import clock
    from payments.models import Payment

    with app.app_context():
        db.session.add(Payment(amount=1500, email=ANA, name="Ana Lima"))  # pending, just opened
        db.session.commit()
    page = staff.get(f"/treasurer/people/erase?email={ANA}")
    assert "A payment is still open at Stripe" in page.get_data(as_text=True)
    assert erase(staff, ANA).status_code == 409
    # Past the longest a Checkout page takes payment, it no longer holds the erasure.
    with app.app_context():
        clock.advance(hours=25)
    assert erase(staff, ANA).status_code == 303


def test_erasure_needs_a_reason_and_a_confirmation(staff, ana, app):
    from donations.models import Donation

    assert erase(staff, ANA, reason="").status_code == 400
    assert erase(staff, ANA, confirm="").status_code == 400
    with app.app_context():
        assert db.session.get(Donation, ana["gift_id"]).donor_name == "Ana Lima"
        assert (
            db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.erased"))
            is None
        )


def test_erasure_keeps_what_the_law_requires_and_nothing_personal(staff, ana, app, client):
    from core.accounts.models import User
    from donations.models import Donation, MonthlyGift, Receipt
    from involve.models import Campaign, Comment, Signature, Volunteer
    from members.models import Membership
    from payments.models import Payment
    from shop.models import Order

    page = staff.get(f"/treasurer/people/erase?email={ANA}")
    assert page.status_code == 200 and "two years" in page.get_data(as_text=True)
    response = erase(staff, ANA)
    assert response.status_code == 303

    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.erased"))
        assert entry.actor == "treasurer@example.org"
        assert entry.data["reason"] == "Asked by email on 2026-11-30"
        assert entry.data["fingerprints"] == [fingerprint(ANA)]
        assert ANA not in json.dumps(entry.data)
        placeholder = entry.data["placeholder"]
        assert placeholder.endswith("@" + ERASED_DOMAIN)

        user = db.session.get(User, ana["user_id"])
        assert (user.email, user.name, user.active) == (placeholder, "", False)
        gift = db.session.get(Donation, ana["gift_id"])
        assert (gift.amount, gift.received_at, gift.status.value) == (
            5000,
            datetime(2026, 12, 31, 14, 0, tzinfo=UTC),
            "paid",
        )
        assert (gift.donor_name, gift.email, gift.address_line1, gift.postal_code) == (
            "",
            placeholder,
            "",
            "",
        )
        assert db.session.get(MonthlyGift, ana["monthly_id"]).donor_name == ""
        # The receipt's frozen copy is kept while the CRA asks; an older one keeps its numbers.
        receipt = db.session.get(Receipt, ana["receipt_id"])
        assert (receipt.number, receipt.amount, receipt.donor_name) == (
            "2026-000007",
            5000,
            "Ana Lima",
        )
        assert receipt.email == placeholder
        old = db.session.get(Receipt, ana["old_receipt_id"])
        assert (old.number, old.amount, old.donor_name, old.donor_address) == (
            "2020-000003",
            2500,
            "",
            "",
        )
        membership = db.session.scalar(sa.select(Membership))
        assert (membership.mailing_name, membership.note, len(membership.dues)) == ("", "", 1)
        assert membership.status.value == "cancelled"
        assert membership.dues[0].amount == 4000
        order = db.session.get(Order, ana["order_id"])
        assert (order.total, order.name, order.email, order.address_line1) == (
            1200,
            "",
            placeholder,
            "",
        )
        payment = db.session.scalar(sa.select(Payment))
        assert (payment.amount, payment.name, payment.email) == (5000, None, placeholder)
        # Their words and sign-ups go; a letter already delivered stays counted, unnamed.
        assert db.session.scalar(sa.select(sa.func.count(Comment.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(Volunteer.id))) == 0
        signature = db.session.scalar(sa.select(Signature))
        assert (signature.name, signature.email, signature.postal_code) == ("", placeholder, "")
        delivered, waiting = (db.session.get(Campaign, i) for i in ana["campaigns"])
        assert (delivered.signature_count, waiting.signature_count) == (1, 0)
        assert (
            db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to_addr == ANA)) is None
        )
        assert db.session.scalar(sa.select(EmailConsent).where(EmailConsent.email == ANA)) is None
        # The proof of her consent is kept, but the placeholder is on no news list.
        from involve.reports import news_subscriber_count, news_subscribers

        proof = db.session.scalar(sa.select(EmailConsent).where(EmailConsent.granted.is_(True)))
        assert (proof.email, proof.wording) == (placeholder, "Send me news")
        assert news_subscriber_count() == 0 and news_subscribers() == []

    assert sign_in(client, ANA, "a test password").status_code != 302
    assert staff.get(f"/treasurer/people/record/export.json?email={ANA}").status_code == 404
    kept = staff.get(f"/treasurer/people/record/export.json?email={placeholder}").get_json()
    text = json.dumps(kept)
    for personal in ("Ana", "Lima", "Peace Street", "K1A", "613-555", "Merci", ANA):
        if personal == "Ana" or personal == "Lima":
            # Only the receipt's frozen copy, which the law asks us to keep, still names her.
            assert text.count(personal) == json.dumps(kept["sections"]["receipts"]).count(personal)
        else:
            assert personal not in text, personal
    assert {d["amount"] for d in kept["sections"]["donations"]} == {5000, 2500}
    # Nor does a search find the erased record by what is left.
    listed = staff.get("/treasurer/people/?q=erased").get_data(as_text=True)
    assert placeholder not in listed and "No one matches." in listed


def test_erasure_scrubs_the_copies_of_stripe_events_and_requests(staff, ana, app):
    from payments.models import Payment, PaymentStatus, StripeAttempt, StripeEvent

    details = {
        "email": "Ana@Example.org",
        "name": "Ana Quintero-Lima",
        "phone": "613-555-0199",
        "address": {"line1": "7 Quiet Lane", "postal_code": "K2P 9Z9"},
    }
    with app.app_context():
        payment = db.session.scalar(sa.select(Payment))
        payment.status = PaymentStatus.succeeded
        payment.checkout_session_id = "cs_test_ana"
        db.session.add(
            StripeAttempt(
                key="donation:1:attempt 1:ab",
                operation="checkout",
                params={"customer_email": ANA, "mode": "payment"},
                payment=payment,
            )
        )
        db.session.add_all(
            [
                StripeEvent(
                    id="evt_ana_session",
                    type="checkout.session.completed",
                    created=WHEN,
                    object_id="cs_test_ana",
                    payload={
                        "data": {
                            "object": {
                                "id": "cs_test_ana",
                                "customer_email": ANA,
                                "customer_details": details,
                                "line_items": [{"name": "Gift"}],
                            }
                        }
                    },
                ),
                # Found by her address alone: a customer Stripe made for her.
                StripeEvent(
                    id="evt_ana_customer",
                    type="customer.created",
                    created=WHEN,
                    object_id="cus_ana",
                    payload={"data": {"object": {"id": "cus_ana", **details}}},
                ),
                StripeEvent(
                    id="evt_someone_else",
                    type="customer.created",
                    created=WHEN,
                    object_id="cus_bo",
                    payload={"data": {"object": {"email": "bo@example.org", "name": "Bo"}}},
                ),
            ]
        )
        db.session.commit()
    assert "Quiet Lane" in staff.get("/treasurer/events/evt_ana_session").get_data(as_text=True)

    assert erase(staff, ANA).status_code == 303
    for event_id in ("evt_ana_session", "evt_ana_customer"):
        page = staff.get(f"/treasurer/events/{event_id}").get_data(as_text=True)
        for personal in ("Quintero", "Quiet Lane", "K2P", "613-555-0199", ANA):
            assert personal.lower() not in page.lower(), (event_id, personal)
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.erased"))
        placeholder = entry.data["placeholder"]
        assert entry.data["done"]["payments.stripe_copies"] == 3
        session = db.session.get(StripeEvent, "evt_ana_session").payload["data"]["object"]
        assert session["customer_email"] == placeholder
        assert session["customer_details"]["email"] == placeholder
        assert session["line_items"] == [{"name": "Gift"}]  # not hers: kept
        attempt = db.session.scalar(sa.select(StripeAttempt))
        assert attempt.params == {"customer_email": placeholder, "mode": "payment"}
        other = db.session.get(StripeEvent, "evt_someone_else").payload["data"]["object"]
        assert other == {"email": "bo@example.org", "name": "Bo"}


def test_erasing_a_merged_record_leaves_neither_address_in_the_audit_log(staff, app):
    make_record(app, ANA)
    with app.app_context():
        DonationFactory(email=WORK, donor_name="Ana Lima", amount=1000)
        db.session.commit()
    merged = post_form(
        staff,
        "/treasurer/people/merge",
        {"into": ANA, "source": WORK, "reason": "Same donor", "confirm": "y"},
        token_from=f"/treasurer/people/record?email={ANA}",
    )
    assert merged.status_code == 303
    assert erase(staff, WORK).status_code == 303  # her old address finds the merged record
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.action.like("person.%"))
        ).all()
        assert {e.action for e in entries} == {"person.merged", "person.erased"}
        for entry in entries:
            text = json.dumps(entry.data)
            assert ANA not in text and WORK not in text, entry.action
        erased = next(e for e in entries if e.action == "person.erased")
        assert erased.data["fingerprints"] == [fingerprint(ANA), fingerprint(WORK)]


def test_erasure_takes_their_address_from_what_others_hold(staff, ana, app):
    import secrets

    from donations.models import Donation

    with app.app_context():
        bo_gift = DonationFactory(email="bo@example.org", donor_name="Bo", amount=700)
        bo_gift.tribute_name = "Ana Lima"
        bo_gift.tribute_notify_email = ANA.upper()
        db.session.add(
            OutboxMessage(
                message_id=f"<{secrets.token_hex(8)}@example.org>",
                to_addr="bo@example.org",
                subject=f"{ANA} invites you to share a membership",
                text_body=f"Hello Bo,\n\n{ANA.upper()} invites you.",
                html_body=f"<p>Hello Bo,</p><p>{ANA} invites you.</p>",
            )
        )
        db.session.commit()
        bo_gift_id = bo_gift.id

    assert erase(staff, ANA).status_code == 303
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "person.erased"))
        placeholder = entry.data["placeholder"]
        assert entry.data["done"]["mail.emails_to_others"] == 1
        assert entry.data["done"]["donations.tribute_notices"] == 1
        to_bo = db.session.scalar(
            sa.select(OutboxMessage).where(OutboxMessage.to_addr == "bo@example.org")
        )
        assert to_bo.subject == f"{placeholder} invites you to share a membership"
        assert to_bo.text_body == f"Hello Bo,\n\n{placeholder} invites you."
        assert to_bo.html_body == f"<p>Hello Bo,</p><p>{placeholder} invites you.</p>"
        gift = db.session.get(Donation, bo_gift_id)
        assert (gift.donor_name, gift.email, gift.tribute_notify_email) == (
            "Bo",
            "bo@example.org",
            "",
        )


@pytest.mark.parametrize("erased_side", ["source", "into"])
def test_an_erased_record_is_never_merged_with_a_person(staff, ana, app, erased_side):
    from donations.models import Donation

    assert erase(staff, ANA).status_code == 303
    make_record(app, WORK, account=False, suffix="-b")
    with app.app_context():
        placeholder = db.session.scalar(
            sa.select(Donation.email).where(Donation.id == ana["gift_id"])
        )
    pair = {"source": placeholder, "into": WORK}
    if erased_side == "into":
        pair = {"source": WORK, "into": placeholder}
    review = staff.get("/treasurer/people/merge", query_string=pair)
    assert review.status_code == 409
    assert "An erased record cannot be merged." in review.get_data(as_text=True)
    refused = post_form(
        staff,
        "/treasurer/people/merge",
        {**pair, "reason": "Same person", "confirm": "y"},
        token_from="/treasurer/people/",
    )
    assert refused.status_code == 409
    with app.app_context():
        assert db.session.get(Donation, ana["gift_id"]).email == placeholder
        assert db.session.scalar(sa.select(PersonAlias)) is None


def test_a_staff_account_is_not_erased(staff, app):
    from core.accounts.models import User

    page = staff.get("/treasurer/people/erase?email=treasurer@example.org")
    assert "This is a staff account" in page.get_data(as_text=True)
    assert erase(staff, "treasurer@example.org").status_code == 409
    with app.app_context():
        assert db.session.scalar(
            sa.select(User).where(User.email == "treasurer@example.org")
        ).active


# -- access ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "moderator"])
def test_people_screens_are_for_the_treasurer(app, client, make_user, ana, role):
    from donations.models import Donation

    _, email, password = make_user(email=f"{role}-people@example.org", role=role)
    sign_in(client, email, password)
    for url in (
        "/treasurer/people/",
        f"/treasurer/people/record?email={ANA}",
        f"/treasurer/people/record/export.csv?email={ANA}",
        f"/treasurer/people/erase?email={ANA}",
    ):
        assert client.get(url).status_code == 403, url
    assert erase(client, ANA).status_code == 403
    with app.app_context():
        assert db.session.get(Donation, ana["gift_id"]).donor_name == "Ana Lima"


def test_visitors_are_asked_to_sign_in(client, ana):
    response = client.get(f"/treasurer/people/record/export.json?email={ANA}")
    assert response.status_code == 302 and response.location.startswith("/login?next=")
