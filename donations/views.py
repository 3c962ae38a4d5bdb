"""Donating, the thank-you page, funds, managing a monthly gift, receipts."""

import sqlalchemy as sa
from babel.numbers import format_decimal
from flask import (
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from core import cache
from core.db import db
from core.errors import DomainError
from core.extensions import limiter
from core.i18n import current_language
from core.money import parse_amount
from core.tokens import ExpiredLink
from core.urls import absolute_url
from donations import bp, gifts, receipts, settings
from donations.caching import DONATE_FORM, FUND_PAGES
from donations.forms import ChangeAmountForm, DonateForm
from donations.models import Donation, DonationStatus, MonthlyGift, MonthlyStatus


def _donate_form(**kwargs):
    low, high = settings.limits()
    return DonateForm(
        **kwargs,
        presets=settings.setting("donations.presets"),
        funds=gifts.active_funds(),
        language=current_language(),
        limits=(low, high),
    )


def _prefill(form):
    """A signed-in member gets their details filled in, from their last gift if any."""
    form.fund.data = request.args.get("fund") or (
        form.fund.choices[0].value if form.fund.choices else None
    )
    form.amount_choice.data = request.args.get("amount") or str(
        settings.setting("donations.presets")[0]
    )
    if request.args.get("monthly") == "1":
        form.frequency.data = "monthly"
    if not current_user.is_authenticated:
        return
    form.donor_name.data = current_user.name
    form.email.data = current_user.email
    last = db.session.scalar(
        sa.select(Donation).where(Donation.user_id == current_user.id).order_by(Donation.id.desc())
    )
    if last is not None:
        for name in (
            "address_line1",
            "address_line2",
            "city",
            "province",
            "postal_code",
            "country",
            "organization_name",
        ):
            getattr(form, name).data = getattr(last, name)


@bp.route("/donate", methods=["GET", "POST"])
@limiter.limit("30 per hour", methods=["POST"])
@cache.page(depends=DONATE_FORM)
def donate():
    if request.method == "GET":
        form = _donate_form(formdata=None)
        _prefill(form)
    elif (form := _donate_form()).validate():
        try:
            donation = gifts.start_donation(
                gifts.GiftRequest(
                    amount=form.amount_cents,
                    fund=gifts.fund_by_slug(form.fund.data),
                    monthly=form.frequency.data == "monthly",
                    cover_fee=form.cover_fee.data,
                    anonymous=form.anonymous.data,
                    tribute_kind=form.tribute_kind.data or None,
                    tribute_name=form.tribute_name.data or "",
                    tribute_notify_email=form.tribute_notify_email.data or "",
                    donor_name=form.donor_name.data,
                    organization_name=form.organization_name.data or "",
                    email=form.email.data,
                    address_line1=form.address_line1.data,
                    address_line2=form.address_line2.data or "",
                    city=form.city.data,
                    province=form.province.data,
                    postal_code=form.postal_code.data,
                    country=form.country.data,
                    news_consent=form.news_consent.data,
                    annual_receipt=form.annual_receipt.data,
                    language=current_language(),
                    user_id=current_user.id if current_user.is_authenticated else None,
                )
            )
        except DomainError as error:
            target = getattr(form, error.field or "", None) or form.amount_choice
            target.errors = [*target.errors, str(error.message)]
        else:
            return _to_checkout(donation)
    status = 400 if request.method == "POST" else 200
    return render_template(
        "donations/donate.html",
        form=form,
        consent_wording=gifts.NEWS_CONSENT_WORDING,
        fee_percent=format_decimal(settings.fee_rate()[0], locale=get_locale()),
        fee_fixed=settings.fee_rate()[1],
    ), status


def _to_checkout(donation):
    url = gifts.open_checkout(donation)
    return redirect(url, code=303)


@bp.route("/donate/thanks")
@limiter.limit(lambda: current_app.config["RETURN_PAGE_LIMIT"])
def thanks():
    session_id = request.args.get("session_id", "")
    if not session_id.startswith("cs_"):
        abort(404)
    donation = gifts.donation_for_session(session_id)
    if donation is None:
        abort(404)
    # The address holds only Stripe's session id, which may end up in a shared history:
    # the receipt and the link to manage a monthly gift go by email, not on this page.
    return render_template("donations/thanks.html", donation=donation)


@bp.route("/funds")
@cache.page(depends=FUND_PAGES)
def funds():
    return render_template(
        "donations/funds.html", funds=gifts.active_funds(), raised=gifts.raised_by_fund()
    )


@bp.route("/funds/<slug>")
@cache.page(depends=FUND_PAGES)
def fund(slug):
    fund = gifts.fund_by_slug(slug)
    return render_template(
        "donations/fund.html", fund=fund, raised=gifts.raised_by_fund().get(fund.id, 0)
    )


def _masked(email):
    """``d•••@example.org``: enough for the donor to know the address, not for another."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}"


@bp.route("/donate/manage/<token>")
def manage(token):
    try:
        gift = gifts.gift_from_manage_token(token)
    except ExpiredLink:
        gift = gifts.gift_from_manage_token(token, expired_too=True)
        return render_template(
            "donations/manage_expired.html", token=token, email=_masked(gift.email)
        ), 400
    return render_template("donations/manage.html", gift=gift, token=token, form=ChangeAmountForm())


@bp.route("/donate/manage/<token>/fresh-link", methods=["POST"])
@limiter.limit("5 per hour")
def fresh_manage_link(token):
    """An expired manage link: a new one goes to the gift's own address, never elsewhere."""
    gift = gifts.gift_from_manage_token(token, expired_too=True)
    gifts.send_manage_link(gift)
    return render_template(
        "donations/manage_expired.html", token=token, email=_masked(gift.email), sent=True
    )


@bp.route("/donate/manage/<token>/amount", methods=["POST"])
def change_amount(token):
    gift = gifts.gift_from_manage_token(token)
    form = ChangeAmountForm()
    if form.validate_on_submit():
        try:
            low, high = settings.limits()
            amount = parse_amount(
                form.amount.data, locale=current_language(), min_cents=low, max_cents=high
            )
            gifts.change_monthly_amount(gift, amount)
        except DomainError as error:
            form.amount.errors = [*form.amount.errors, str(error.message)]
        else:
            flash(
                _("Your monthly gift is changed. The new amount applies from the next month."),
                "success",
            )
            return redirect(url_for("donations.manage", token=token))
    return render_template("donations/manage.html", gift=gift, token=token, form=form), 400


@bp.route("/donate/manage/<token>/portal", methods=["POST"])
def portal(token):
    """Stripe's customer portal: update the card or cancel the monthly gift."""
    gift = gifts.gift_from_manage_token(token)
    url = gifts.portal_url(gift, absolute_url("donations.portal_return", token=token))
    return redirect(url, code=303)


@bp.route("/donate/manage/<token>/back")
@limiter.limit(lambda: current_app.config["RETURN_PAGE_LIMIT"])
def portal_return(token):
    """Back from the portal: show the gift as the donor just left it, not as it was."""
    gift = gifts.gift_from_manage_token(token)
    gifts.refresh_monthly_gift(gift)
    return redirect(url_for("donations.manage", token=token))


@bp.route("/receipts/<token>.pdf")
def receipt_pdf(token):
    """A receipt by its unguessable link (emailed to the donor, shown in their account)."""
    receipt = receipts.by_token(token)
    if receipt is None:
        abort(404)
    response = make_response(receipts.pdf(receipt))
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{receipts.filename(receipt)}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/account/gifts")
@login_required
def my_gifts():
    """The member's own gifts, receipts and monthly gifts (by account, or by confirmed email)."""
    mine = sa.or_(Donation.user_id == current_user.id, Donation.email == current_user.email)
    donations = db.session.scalars(
        sa.select(Donation)
        .where(mine, Donation.status != DonationStatus.pending)
        .order_by(Donation.received_at.desc().nulls_last(), Donation.id.desc())
    ).all()
    monthly = db.session.scalars(
        sa.select(MonthlyGift)
        .where(
            sa.or_(MonthlyGift.user_id == current_user.id, MonthlyGift.email == current_user.email),
            MonthlyGift.status != MonthlyStatus.pending,
        )
        .order_by(MonthlyGift.id.desc())
    ).all()
    return render_template(
        "donations/my_gifts.html",
        donations=donations,
        gifts=monthly,
        manage_token=gifts.manage_token,
    )
