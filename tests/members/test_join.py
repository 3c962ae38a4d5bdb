"""Joining and renewing through /join: the account, the quote, Stripe, the term it buys."""

import re

import sqlalchemy as sa

from core.db import db
from members import dates
from members.models import DuesStatus, MembershipStatus
from tests.helpers import Mailbox, post_form, sign_in
from tests.member_fixtures import dues_rows, join_form, membership_row, queries_for, today


def test_a_visitor_joins_paying_once_and_is_current_for_a_year(
    app, client, join, stripe_sim, deliver
):
    response, session_id = join()
    assert response.status_code == 303, response.get_data(as_text=True)
    assert session_id.startswith("cs_")
    membership = membership_row(app)
    assert membership.status == MembershipStatus.pending
    stripe_sim.pay(session_id)
    membership = membership_row(app)
    start = today(app)
    assert membership.status == MembershipStatus.current
    assert membership.ends_on == dates.add_years(start)
    assert membership.started_on == start and not membership.auto_renew
    [dues] = dues_rows(app)
    assert (dues.status, dues.amount, dues.starts_on) == (DuesStatus.paid, 5000, start)
    mail = deliver().to("ines@example.org")
    subjects = sorted(m["Subject"] for m in mail)
    assert subjects == ["Confirm your email address", "Welcome: your membership"]
    [welcome] = [m for m in mail if m["Subject"] == "Welcome: your membership"]
    text = Mailbox.text(welcome)
    assert "$50.00" in text and "It is not an official receipt for income tax purposes" in text


def test_the_quote_shows_price_tax_and_term_before_paying(app, client, tiers):
    page = client.get("/join/individual").get_data(as_text=True)
    start = today(app)
    assert "$50.00" in page
    assert 'id="quote-tax">None' in page
    end = dates.add_years(start)
    assert f"{end.year}" in re.search(r'id="quote-term">([^<]+)<', page).group(1)


def test_names_with_a_line_break_or_markup_are_refused(app, client, join):
    response, _ = join(name="Ines\r\nBcc: x@example.org")
    assert response.status_code == 400
    assert "Please use a single line without special characters." in response.get_data(as_text=True)
    response, _ = join(mailing_name="<b>Bold</b>")
    assert response.status_code == 400
    assert "Please do not use angle brackets" in response.get_data(as_text=True)
    assert membership_row(app) is None


def test_print_needs_an_address_but_digital_does_not(app, client, join):
    response, _ = join(address_line1="", city="", postal_code="")
    assert response.status_code == 400
    assert "Please give the address where Mondial should be mailed." in response.get_data(
        as_text=True
    )
    response, session_id = join(
        mondial_format="digital", address_line1="", city="", postal_code="", province=""
    )
    assert response.status_code == 303


def test_an_address_already_in_use_needs_its_password(app, client, join, make_user):
    make_user(email="ines@example.org", password="the real password!")
    response, _ = join(password="not the password", confirm="not the password")
    assert response.status_code == 400
    assert "An account already uses this email address" in response.get_data(as_text=True)
    response, session_id = join(password="the real password!", confirm="the real password!")
    assert response.status_code == 303  # their own password: they join, signed in


def test_cancel_on_stripes_page_brings_back_what_was_typed(app, client, join, stripe_sim):
    response, session_id = join(
        renewal="auto",
        address_line1="77 Rue Principale",
        city="Gatineau",
        province="QC",
        postal_code="J8X 2J1",
    )
    assert response.status_code == 303
    [dues] = dues_rows(app)
    back = client.get(f"/join/individual?cancelled={dues.token}")
    page = back.get_data(as_text=True)
    assert back.status_code == 200
    assert "nothing was charged" in page
    assert 'value="77 Rue Principale"' in page and 'value="Gatineau"' in page
    [auto] = re.findall(r'<input[^>]*value="auto"[^>]*>', page)
    assert "checked" in auto
    assert 'id="account-fields"' not in page  # the account made a moment ago is kept
    [dues] = dues_rows(app)
    assert dues.status == DuesStatus.expired
    # The session left at Stripe can no longer be paid.
    stripe_sim.pay(session_id, expect=400)
    response = post_form(
        client, "/join/individual", join_form(name=None, email=None, password=None, confirm=None)
    )
    assert response.status_code == 303


def test_renewing_early_extends_from_the_end_date(app, client, join, stripe_sim):
    response, session_id = join()
    stripe_sim.pay(session_id)
    first_end = membership_row(app).ends_on
    _, email, password = None, "ines@example.org", "a long enough password"
    with app.app_context():
        from core.accounts.models import User

        user = db.session.scalar(sa.select(User).where(User.email == email))
        user.email_verified_at = user.created_at
        db.session.commit()
    assert sign_in(client, email, password).status_code == 302
    page = client.get("/join/student").get_data(as_text=True)
    assert "Renew: Student membership" in page
    response = post_form(
        client, "/join/student", join_form(name=None, email=None, password=None, confirm=None)
    )
    assert response.status_code == 303
    stripe_sim.pay(response.location.rsplit("/", 1)[-1])
    membership = membership_row(app)
    assert membership.ends_on == dates.add_years(first_end)
    assert membership.tier.slug == "student"  # the tier changed at renewal


def test_join_and_its_form_take_at_most_three_queries(app, client, tiers):
    client.get("/join/individual")  # warm up: translations, templates
    for path in ("/join", "/join/individual", "/join/family?lang=fr"):
        counted = queries_for(app, client, path)
        assert len(counted) <= 3, (path, counted)


def test_more_tiers_add_no_query(app, client, tiers):
    from members.models import Tier

    before = len(queries_for(app, client, "/join"))
    with app.app_context():
        for n in range(5):
            db.session.add(
                Tier(slug=f"extra-{n}", name_en=f"Extra {n}", name_fr=f"Extra {n}", price=1000)
            )
        db.session.commit()
    assert len(queries_for(app, client, "/join")) == before


def test_the_shop_can_sell_a_membership_as_one_part_of_its_own_checkout(
    app, tiers, stripe_sim, recorder, make_user
):
    """``dues_part`` gives the shop a part for its cart; paying it starts the membership."""
    from core.accounts.models import User
    from core.urls import absolute_url
    from members import services
    from payments import services as payments

    make_user(email="buyer@example.org", name="Bea Buyer")
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "buyer@example.org"))
        tier = services.tier_by_slug("individual")
        dues, part, line = services.dues_part(
            user,
            tier,
            mondial_format="digital",
            language="en",
        )
        issue = payments.Part("test", 7, 1500, description="Mondial no. 12")
        payment = payments.start_checkout(
            [part, issue],
            lines=[line, payments.Line("Mondial no. 12", 1500)],
            email=user.email,
            language="en",
            success_url=payments.return_url("payments.checkout_return"),
            cancel_url=absolute_url("core.home"),
        )
        dues.payment_id = payment.id
        db.session.commit()
        payments.open_checkout(payment)
        session_id = payment.checkout_session_id
        db.session.commit()
    stripe_sim.pay(session_id)
    membership = membership_row(app, "buyer@example.org")
    assert membership.status == MembershipStatus.current
    assert membership.ends_on == dates.add_years(today(app))
    assert [c[0] for c in recorder.calls if c[0] == "paid"] == ["paid"]
